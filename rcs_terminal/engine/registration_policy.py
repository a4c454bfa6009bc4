"""The pure rules of IMS registration: when to refresh, how long to back off, what a
response or a reg-event notification means (TS 24.229 §5.1.1, RFC 3261 §10, RFC 5626 §4.5,
RFC 3680; provisioning_sip.md §3).

Nothing here does I/O or keeps state: :mod:`.registration` asks these functions and acts.
Keeping them apart makes the numbers easy to test on their own:

- :func:`refresh_delay`: refresh at half the granted time when it is 1200 s or less,
  otherwise 600 s before it ends;
- :func:`retry_delay`: ``Retry-After`` when the server gave one, else
  ``min(RegRetryMaxTime, RegRetryBaseTime * 2**(n-1))`` after the n-th failure in a row;
- :func:`classify`: what a final status means for a REGISTER;
- :func:`granted_expires`: the expiry the registrar granted *our* binding;
- :func:`reginfo_action`: what a reg-event document asks of us (RFC 3680 §5.1.2).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.headers import NameAddr
from rcs_terminal.protocol.sip.message import Response
from rcs_terminal.protocol.sip.reginfo import ContactInfo, RegInfo
from rcs_terminal.protocol.sip.uri import uri_equal

__all__ = [
    "RegEventAction",
    "Verdict",
    "classify",
    "granted_expires",
    "min_expires",
    "refresh_delay",
    "reginfo_action",
    "retry_after",
    "retry_delay",
]

SHORT_REGISTRATION = 1200
"""Up to this many granted seconds, refresh at half time; above, refresh 600 s early."""
REFRESH_MARGIN = 600
"""How long before a long registration ends it is refreshed (seconds)."""
_RETRY_STATUSES = frozenset({404, 408, 480, 600})


class Verdict(enum.Enum):
    """What a final response to REGISTER means."""

    REGISTERED = "registered"
    """2xx: the binding exists."""
    CHALLENGED = "challenged"
    """401/407: answer with credentials (once)."""
    INTERVAL_TOO_BRIEF = "interval-too-brief"
    """423: ask again with at least Min-Expires."""
    FORBIDDEN = "forbidden"
    """403: stop; the configuration may need to be provisioned again."""
    RETRY = "retry"
    """Timeout, 3xx, 404, 408, 480, 5xx, 600: wait, then the next P-CSCF."""
    REFUSED = "refused"
    """Any other 4xx/6xx: the request itself is refused; trying again will not help."""


def classify(status: int | None) -> Verdict:
    """Classify a REGISTER outcome; None (no answer, transport failure) means RETRY."""
    if status is None:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.REGISTERED
    if status in (401, 407):
        return Verdict.CHALLENGED
    if status == 423:
        return Verdict.INTERVAL_TOO_BRIEF
    if status == 403:
        return Verdict.FORBIDDEN
    if 300 <= status < 400 or status >= 500 or status in _RETRY_STATUSES:
        return Verdict.RETRY
    return Verdict.REFUSED


def refresh_delay(granted: int) -> float:
    """Seconds after a successful registration to refresh it.

    Args:
        granted: the expiry the registrar granted, in seconds.

    Returns:
        ``granted / 2`` when ``granted <= 1200``, else ``granted - 600``.
    """
    if granted <= SHORT_REGISTRATION:
        return granted / 2
    return float(granted - REFRESH_MARGIN)


def retry_delay(
    failures: int, *, base: float, maximum: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before the next registration attempt.

    Args:
        failures: how many attempts failed in a row (1 for the first failure).
        base: RegRetryBaseTime.
        maximum: RegRetryMaxTime.
        retry_after: the server's ``Retry-After``, which wins when given.
    """
    if retry_after is not None:
        return retry_after
    exponent = max(0, min(failures - 1, 30))
    return float(min(maximum, base * (2**exponent)))


def retry_after(response: Response | None) -> float | None:
    """The ``Retry-After`` of a response in seconds (RFC 3261 §20.33), if readable."""
    if response is None:
        return None
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    number = raw.split("(", 1)[0].split(";", 1)[0].strip()
    if not number.isascii() or not number.isdigit() or len(number) > 9:
        return None
    return float(number)


def min_expires(response: Response) -> int | None:
    """The ``Min-Expires`` of a 423 response, if readable."""
    raw = (response.headers.get("Min-Expires") or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    return int(raw)


def granted_expires(
    response: Response, contact_uri: str, instance: str | None, requested: int
) -> int:
    """The expiry the registrar granted our binding (RFC 3261 §10.2.4).

    Our Contact in the 2xx is found by ``+sip.instance`` or by URI; its ``expires``
    parameter wins, then the ``Expires`` header, then what we asked for.

    Raises:
        SipParseError: a Contact or the Expires header is malformed.
    """
    for contact in response.contacts:
        if contact.is_wildcard or not _is_ours(contact, contact_uri, instance):
            continue
        value = contact.expires
        if value is not None:
            return value
        break
    header = response.headers.get("Expires")
    if header is not None:
        text = header.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            raise SipParseError("Expires is not a number", where="header Expires")
        return int(text)
    return requested


def _is_ours(contact: NameAddr, contact_uri: str, instance: str | None) -> bool:
    theirs = contact.params.get("+sip.instance")
    if instance is not None and theirs is not None:
        return theirs.strip().strip('"').lower() == instance.lower()
    try:
        return uri_equal(contact.uri, contact_uri)
    except SipParseError:
        return False


# --------------------------------------------------------------------------- reg event


@dataclass(frozen=True, slots=True)
class RegEventAction:
    """What a reg-event notification asks of the handset.

    Attributes:
        kind: ``none``; ``expires`` (take the new expiry, refresh on the usual schedule);
            ``refresh`` (the network shortened the binding: refresh earlier);
            ``reregister`` (our binding is gone: register again after ``delay``);
            ``stop`` (rejected: do not register again).
        expires: the new expiry in seconds, for ``expires`` and ``refresh``.
        delay: seconds to wait before registering again (``retry-after``), for
            ``reregister``.
        event: the contact event that decided it, for the record.
    """

    kind: str
    expires: int | None = None
    delay: float = 0.0
    event: str | None = None


NO_ACTION = RegEventAction("none")


def reginfo_action(
    info: RegInfo, aors: tuple[str, ...], contact_uri: str, instance: str | None
) -> RegEventAction:
    """Decide what a reginfo document means for our own binding (RFC 3680 §5.1.2).

    Args:
        info: the parsed document.
        aors: our public identities (the registered IMPU and its associated URIs).
        contact_uri: our Contact URI.
        instance: our ``+sip.instance`` value.

    Returns:
        The action; :data:`NO_ACTION` when the document says nothing about our binding.
    """
    for aor in aors:
        entry = info.registration(aor)
        if entry is None:
            continue
        ours = [c for c in entry.contacts if _contact_is_ours(c, contact_uri, instance)]
        if not ours:
            if entry.state == "terminated" and info.state == "full":
                return RegEventAction("reregister", event="terminated")
            continue
        return _contact_action(ours[-1])
    return NO_ACTION


def _contact_is_ours(contact: ContactInfo, contact_uri: str, instance: str | None) -> bool:
    theirs = contact.instance
    if instance is not None and theirs is not None:
        return theirs.lower() == instance.lower()
    try:
        return uri_equal(contact.uri, contact_uri)
    except SipParseError:
        return False


def _contact_action(contact: ContactInfo) -> RegEventAction:
    event = contact.event
    if contact.state == "terminated":
        if event == "rejected":
            return RegEventAction("stop", event=event)
        delay = float(contact.retry_after or 0)
        return RegEventAction("reregister", delay=delay, event=event or "terminated")
    if event == "shortened":
        return RegEventAction("refresh", expires=contact.expires, event=event)
    if contact.expires is not None:
        return RegEventAction("expires", expires=contact.expires, event=event)
    return NO_ACTION
