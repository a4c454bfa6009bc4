"""MIME types of UP 2.4 messaging content, and a guesser for payload files.

The registered types a 5G Message client meets (formats.md §1-§8) are constants here so
that no module spells them twice. Bot info and a bare persistent menu have no MIME type of
their own (bot info is served as plain JSON); :func:`detect` names them with the two
``x.``-tree types below (RFC 6838 §3.4), which only this project uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol.up import _xml
from rcs_terminal.protocol.up._json import load_object
from rcs_terminal.protocol.xmlsafe import local_name

BOTMESSAGE = "application/vnd.gsma.botmessage.v1.0+json"
"""A rich card or carousel (§1)."""
BOTSUGGESTION = "application/vnd.gsma.botsuggestion.v1.0+json"
"""A suggested chip list (§3)."""
BOTSUGGESTION_RESPONSE = "application/vnd.gsma.botsuggestion.response.v1.0+json"
"""The client's response to a tapped chip (§4)."""
BOTSHAREDCLIENTDATA = "application/vnd.gsma.botsharedclientdata.v1.0+json"
"""Device specifics shared with a chatbot (§5)."""
FTHTTP = "application/vnd.gsma.rcs-ft-http+xml"
"""A file transfer via HTTP descriptor (§8)."""
GEOPUSH = "application/vnd.gsma.rcspushlocation+xml"
"""A geolocation push (§8)."""
IMDN = "message/imdn+xml"
"""A delivery/display notification (RFC 5438)."""
ISCOMPOSING = "application/im-iscomposing+xml"
"""A typing indication (RFC 3994)."""
CPIM = "message/cpim"
"""The CPIM wrapper of chat messages (RFC 3862)."""
MULTIPART_MIXED = "multipart/mixed"
"""A content part followed by a chip list."""
TEXT_PLAIN = "text/plain"
"""Plain text messages."""

BOTINFO = "application/x.rcs-terminal.botinfo+json"
"""Project-internal name for a bot-info document (no registered type exists)."""
PERSISTENT_MENU = "application/x.rcs-terminal.persistent-menu+json"
"""Project-internal name for a bare persistent-menu document (no registered type exists)."""

_JSON_KEYS: tuple[tuple[str, str], ...] = (
    ("message", BOTMESSAGE),
    ("suggestions", BOTSUGGESTION),
    ("response", BOTSUGGESTION_RESPONSE),
    ("sharedData", BOTSHAREDCLIENTDATA),
    ("botinfo", BOTINFO),
    ("persistent-menu", BOTINFO),
    ("bot-verification", BOTINFO),
    ("menu", PERSISTENT_MENU),
)
_XML_ROOTS = {
    "file": FTHTTP,
    "rcsenvelope": GEOPUSH,
    "rcsenveloppe": GEOPUSH,
    "imdn": IMDN,
    "isComposing": ISCOMPOSING,
}


def base_type(content_type: str) -> str:
    """``content_type`` without parameters, lower-cased (``"Text/Plain; charset=UTF-8"``
    gives ``"text/plain"``)."""
    return content_type.split(";", 1)[0].strip().lower()


def detect(data: bytes) -> str | None:
    """Guess the UP content type of a payload file from its content.

    JSON is recognised by its top-level key (``message``, ``suggestions``, ``response``,
    ``sharedData``, ``botinfo``/``persistent-menu``, ``menu``), XML by its root element
    (``file``, ``rcsenvelope``, ``imdn``, ``isComposing``).

    Returns:
        One of this module's constants, or ``None`` when the content is not recognised.
    """
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        try:
            doc: Mapping[str, object] = load_object(data)
        except PayloadParseError:
            return None
        return next((t for key, t in _JSON_KEYS if key in doc), None)
    if head == b"<":
        try:
            root = _xml.parse(data)
        except PayloadParseError:
            return None
        return _XML_ROOTS.get(local_name(root.tag))
    return None
