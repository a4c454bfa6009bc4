"""Is-composing indications (RFC 3994), the "typing..." state of a chat peer.

A client that starts typing sends ``state`` ``active`` (with a ``refresh`` interval in
seconds, after which the indication expires unless repeated); when it stops, or after its
idle timeout, it sends ``idle`` with ``lastactive``. The document is
``application/im-iscomposing+xml`` in the ``urn:ietf:params:xml:ns:im-iscomposing``
namespace (the RFC 3994 schema); RCS sends it bare in a SIP MESSAGE (pager mode) or CPIM-wrapped
over MSRP. The timers themselves belong to the messaging engine; this module only reads and
writes the document.

Parsing goes through :func:`~rcs_terminal.protocol.xmlsafe.parse_xml`. A root without a
namespace is accepted (some clients omit it), ``state`` is compared case-insensitively,
elements from other namespaces are skipped, and an unreadable ``lastactive`` is dropped
rather than fatal. A missing or unknown ``state`` or a ``refresh`` that is not a positive
integer is an :class:`~rcs_terminal.errors.XmlParseError`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, cast
from xml.sax.saxutils import escape

from rcs_terminal.errors import LocalProtocolError, XmlParseError
from rcs_terminal.protocol.cpim import format_rfc3339, parse_rfc3339
from rcs_terminal.protocol.xmlsafe import local_name, namespace, parse_xml

CONTENT_TYPE = "application/im-iscomposing+xml"
ISCOMPOSING_NS = "urn:ietf:params:xml:ns:im-iscomposing"

ComposingState = Literal["active", "idle"]

_FIELDS = ("state", "lastactive", "contenttype", "refresh")


@dataclass(frozen=True, slots=True)
class IsComposing:
    """An is-composing indication.

    Attributes:
        state: ``active`` (typing) or ``idle``.
        lastactive: when the peer was last active, if given.
        contenttype: the kind of content being composed (``text/plain``, ``image/jpeg``...).
        refresh: seconds after which an ``active`` indication expires unless refreshed.

    Raises:
        LocalProtocolError: on construction with another state or a refresh below 1.
    """

    state: ComposingState
    lastactive: dt.datetime | None = None
    contenttype: str | None = None
    refresh: int | None = None

    def __post_init__(self) -> None:
        if self.state not in ("active", "idle"):
            raise LocalProtocolError(f"is-composing state must be active or idle: {self.state!r}")
        if self.refresh is not None and self.refresh < 1:
            raise LocalProtocolError("is-composing refresh must be a positive number of seconds")


def parse_iscomposing(data: bytes | str) -> IsComposing:
    """Parse an ``application/im-iscomposing+xml`` document.

    Raises:
        XmlParseError: for unsafe or malformed XML, a wrong root, a missing or unknown
            ``state``, a repeated element, or a ``refresh`` that is not a positive integer.
    """
    try:
        root = parse_xml(data, error=XmlParseError)
    except LookupError:  # xmlsafe lets an unknown declared encoding through
        raise XmlParseError("the document declares an unknown encoding") from None
    if local_name(root.tag) != "isComposing" or namespace(root.tag) not in (ISCOMPOSING_NS, ""):
        raise XmlParseError(f"root element is {root.tag!r}, not isComposing", where="root")
    texts: dict[str, str] = {}
    for child in root:
        if not isinstance(child.tag, str) or namespace(child.tag) not in (ISCOMPOSING_NS, ""):
            continue
        name = local_name(child.tag)
        if name in _FIELDS:
            if name in texts:
                raise XmlParseError(f"more than one <{name}>", where=f"isComposing/{name}")
            texts[name] = (child.text or "").strip()
    state = texts.get("state", "").lower()
    if state not in ("active", "idle"):
        raise XmlParseError(
            f"state must be active or idle, not {state!r}", where="isComposing/state"
        )
    refresh: int | None = None
    if "refresh" in texts:
        raw = texts["refresh"]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
            raise XmlParseError(
                f"refresh must be a positive integer, not {raw!r}", where="isComposing/refresh"
            )
        refresh = int(raw)
    lastactive = texts.get("lastactive")
    return IsComposing(
        state=cast(ComposingState, state),
        lastactive=parse_rfc3339(lastactive) if lastactive else None,
        contenttype=texts.get("contenttype") or None,
        refresh=refresh,
    )


def build_iscomposing(indication: IsComposing) -> bytes:
    """Write the ``application/im-iscomposing+xml`` document for ``indication`` (UTF-8).

    Raises:
        LocalProtocolError: if ``contenttype`` holds characters XML cannot carry.
    """
    pieces = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<isComposing xmlns="{ISCOMPOSING_NS}">',
        f"<state>{indication.state}</state>",
    ]
    if indication.lastactive is not None:
        pieces.append(f"<lastactive>{format_rfc3339(indication.lastactive)}</lastactive>")
    if indication.contenttype is not None:
        text = indication.contenttype
        if any(ch < " " or "\ud800" <= ch <= "\udfff" or ch in "\ufffe\uffff" for ch in text):
            raise LocalProtocolError("is-composing contenttype holds a control character")
        pieces.append(f"<contenttype>{escape(text)}</contenttype>")
    if indication.refresh is not None:
        pieces.append(f"<refresh>{indication.refresh}</refresh>")
    pieces.append("</isComposing>")
    return "".join(pieces).encode("utf-8")
