"""Header field names: canonical spelling, compact forms and list grammar (RFC 3261 §7.3).

Header names are case-insensitive (§7.3.1) and nineteen of them have a one-letter compact
form (§7.3.3 and the RFCs that define the header: 3265, 3515, 3892, 3841, 4028, 8224). This
module maps any spelling a peer may send to one canonical name, so that the rest of the
stack looks headers up by a single key, and knows which headers hold comma-separated lists
(their grammar is ``header = name ":" value *("," value)``), which :class:`Headers.get_all`
splits. Headers whose values contain commas of their own (``WWW-Authenticate``,
``Authorization``, ``Date``...) are never split.
"""

from __future__ import annotations

__all__ = ["CANONICAL_NAMES", "COMPACT_FORMS", "LIST_HEADERS", "canonical_name", "header_key"]

COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}
"""Compact header names and the full names they stand for."""


def _words(text: str) -> list[str]:
    return text.split()


_KNOWN = _words(
    "Accept Accept-Contact Accept-Encoding Accept-Language Accept-Resource-Priority "
    "Alert-Info Allow Allow-Events Authentication-Info Authorization Call-ID Call-Info "
    "Cellular-Network-Info Contact Content-Disposition Content-Encoding Content-ID "
    "Content-Language Content-Length Content-Transfer-Encoding Content-Type "
    "Contribution-ID Conversation-ID CSeq Date Error-Info Event Expires Feature-Caps "
    "Flow-Timer From Geolocation History-Info Identity In-Reply-To "
    "InReplyTo-Contribution-ID Info-Package Join Max-Forwards MIME-Version Min-Expires "
    "Min-SE Organization P-Access-Network-Info P-Asserted-Identity P-Asserted-Service "
    "P-Associated-URI P-Called-Party-ID P-Charging-Function-Addresses P-Charging-Vector "
    "P-Early-Media P-Preferred-Identity P-Preferred-Service P-Visited-Network-ID Path "
    "Priority Privacy Proxy-Authenticate Proxy-Authorization Proxy-Require RAck Reason "
    "Record-Route Recv-Info Refer-Sub Refer-To Referred-By Reject-Contact Replaces Reply-To "
    "Request-Disposition Require Resource-Priority Retry-After Route RSeq Security-Client "
    "Security-Server Security-Verify Server Service-Route Session-Expires Session-ID "
    "SIP-ETag SIP-If-Match Subject Subscription-State Supported Target-Dialog Timestamp To "
    "Unsupported User-Agent Via Warning WWW-Authenticate"
)

CANONICAL_NAMES: dict[str, tuple[str, str]] = {
    name.lower(): (name.lower(), name) for name in _KNOWN
}
"""Lower-case spelling (and compact form) of each known header -> ``(key, canonical)``."""
for _short, _full in COMPACT_FORMS.items():
    CANONICAL_NAMES[_short] = CANONICAL_NAMES[_full.lower()]

LIST_HEADERS = frozenset(
    name.lower()
    for name in _words(
        "Accept Accept-Contact Accept-Encoding Accept-Language Accept-Resource-Priority "
        "Alert-Info Allow Allow-Events Call-Info Contact Content-Encoding Content-Language "
        "Error-Info History-Info In-Reply-To P-Asserted-Identity P-Asserted-Service "
        "P-Associated-URI P-Early-Media P-Preferred-Identity P-Preferred-Service "
        "P-Visited-Network-ID Path Proxy-Require Reason Record-Route Recv-Info "
        "Reject-Contact Request-Disposition Require Resource-Priority Route "
        "Security-Client Security-Server Security-Verify Service-Route Supported "
        "Unsupported Via Warning"
    )
)
"""Lower-case names of the headers whose value is a comma-separated list."""


def header_key(name: str) -> tuple[str, str]:
    """Return ``(key, display_name)`` for a header name as a peer or a caller wrote it.

    ``key`` is the lower-case full name used for lookups; ``display_name`` is the canonical
    spelling for a known header (compact forms expanded: ``"i"`` gives ``"Call-ID"``) and
    the name as given for any other header.
    """
    lowered = name.lower()
    known = CANONICAL_NAMES.get(lowered)
    if known is not None:
        return known
    return lowered, name


def canonical_name(name: str) -> str:
    """Return the canonical spelling of a header name (compact forms expanded)."""
    return header_key(name)[1]
