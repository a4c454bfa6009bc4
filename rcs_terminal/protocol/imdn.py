"""Instant Message Disposition Notifications (RFC 5438 §7), the delivered/displayed receipts.

A sender asks for receipts in its CPIM headers (``imdn.Disposition-Notification:
positive-delivery, display``); the recipient answers each with a ``message/imdn+xml``
document naming the original ``imdn.Message-ID`` and one status:

========================  ==============================================
notification element      statuses (RFC 5438 §7)
========================  ==============================================
delivery-notification     delivered, failed, forbidden, error
display-notification      displayed, forbidden, error
processing-notification   processed, stored, forbidden, error
========================  ==============================================

The document travels in its own CPIM wrapper (RFC 5438 §7.1): a fresh
``imdn.Message-ID``, ``Content-Disposition: notification`` and no request for receipts of the
receipt; :func:`build_imdn_cpim` writes that wrapper. Some clients send the XML bare, with
``Content-Type: message/imdn+xml`` straight in the SIP MESSAGE; :func:`parse_imdn_payload`
takes either form.

Parsing goes through :func:`~rcs_terminal.protocol.xmlsafe.parse_xml` (no DTDs, no
entities). The root must be ``imdn`` in the ``urn:ietf:params:xml:ns:imdn`` namespace or, as
some clients send it, in no namespace at all. Elements from other namespaces are extensions
and are skipped. A ``datetime`` that cannot be read is not fatal (the receipt still counts);
a status that does not belong to its notification kind is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, cast, get_args
from xml.sax.saxutils import escape

from rcs_terminal.errors import CpimParseError, ImdnParseError, LocalProtocolError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.xmlsafe import Element, local_name, namespace, parse_xml

CONTENT_TYPE = "message/imdn+xml"
IMDN_XML_NS = "urn:ietf:params:xml:ns:imdn"

ImdnKind = Literal["delivery", "display", "processing"]
ImdnStatus = Literal[
    "delivered", "failed", "forbidden", "error", "displayed", "processed", "stored"
]

STATUSES_BY_KIND: dict[str, frozenset[str]] = {
    "delivery": frozenset({"delivered", "failed", "forbidden", "error"}),
    "display": frozenset({"displayed", "forbidden", "error"}),
    "processing": frozenset({"processed", "stored", "forbidden", "error"}),
}
"""The statuses each notification kind may carry (RFC 5438 §7)."""

_ALL_STATUSES = frozenset(get_args(ImdnStatus))
_TEXT_FIELDS = {"message-id", "datetime", "recipient-uri", "original-recipient-uri", "subject"}
_NOTIFICATIONS = {f"{kind}-notification": kind for kind in STATUSES_BY_KIND}


@dataclass(frozen=True, slots=True)
class ImdnNotification:
    """One disposition notification.

    Attributes:
        message_id: the ``imdn.Message-ID`` of the message this receipt is about.
        datetime: when that message was sent (copied from its CPIM ``DateTime``); None if
            the received document's value was unreadable.
        kind: ``delivery``, ``display`` or ``processing``.
        status: the outcome; must be valid for ``kind`` (see :data:`STATUSES_BY_KIND`).
        recipient_uri: the URI of the recipient that reports, if given.
        original_recipient_uri: the recipient the sender originally addressed, if given.
        subject: the subject of the original message, if given.

    Raises:
        LocalProtocolError: on construction with an unknown kind or a status not valid for it.
    """

    message_id: str
    datetime: dt.datetime | None
    kind: ImdnKind
    status: ImdnStatus
    recipient_uri: str | None = None
    original_recipient_uri: str | None = None
    subject: str | None = None

    def __post_init__(self) -> None:
        if not self.message_id.strip():
            raise LocalProtocolError("an IMDN needs the original message's Message-ID")
        allowed = STATUSES_BY_KIND.get(self.kind)
        if allowed is None:
            raise LocalProtocolError(f"unknown IMDN kind {self.kind!r}")
        if self.status not in allowed:
            raise LocalProtocolError(f"status {self.status!r} is not valid for {self.kind}")

    @property
    def is_success(self) -> bool:
        """Whether the status reports success (delivered, displayed, processed or stored)."""
        return self.status in ("delivered", "displayed", "processed", "stored")


# --------------------------------------------------------------------------- parsing


def parse_imdn(data: bytes | str) -> ImdnNotification:
    """Parse a ``message/imdn+xml`` document.

    Raises:
        ImdnParseError: for unsafe or malformed XML, a wrong root, a missing or repeated
            ``message-id`` or notification element, or a missing, unknown, repeated or
            (for its kind) invalid status.
    """
    try:
        root = parse_xml(data, error=ImdnParseError)
    except LookupError:  # xmlsafe lets an unknown declared encoding through
        raise ImdnParseError("the document declares an unknown encoding") from None
    if local_name(root.tag) != "imdn" or namespace(root.tag) not in (IMDN_XML_NS, ""):
        raise ImdnParseError(f"root element is {root.tag!r}, not imdn", where="root")
    texts: dict[str, str] = {}
    notification: tuple[str, str] | None = None
    for child in root:
        name = _imdn_name(child)
        if name in _TEXT_FIELDS:
            if name in texts:
                raise ImdnParseError(f"more than one <{name}>", where=f"imdn/{name}")
            texts[name] = child.text or ""
        elif name in _NOTIFICATIONS:
            if notification is not None:
                raise ImdnParseError("more than one notification element", where=f"imdn/{name}")
            notification = (_NOTIFICATIONS[name], _read_status(child, name))
    message_id = texts.get("message-id", "").strip()
    if not message_id:
        raise ImdnParseError("no <message-id>", where="imdn/message-id")
    if notification is None:
        raise ImdnParseError("no delivery, display or processing notification", where="imdn")
    kind, status = notification
    raw_time = texts.get("datetime")
    return ImdnNotification(
        message_id=message_id,
        datetime=cpim.parse_rfc3339(raw_time) if raw_time is not None else None,
        kind=cast(ImdnKind, kind),
        status=cast(ImdnStatus, status),
        recipient_uri=_stripped(texts.get("recipient-uri")),
        original_recipient_uri=_stripped(texts.get("original-recipient-uri")),
        subject=texts.get("subject"),
    )


def _imdn_name(element: Element) -> str | None:
    """The local name of an element in the IMDN namespace (or none); None for extensions."""
    if not isinstance(element.tag, str) or namespace(element.tag) not in (IMDN_XML_NS, ""):
        return None
    return local_name(element.tag)


def _read_status(notification: Element, name: str) -> str:
    kind = _NOTIFICATIONS[name]
    status_elements = [c for c in notification if _imdn_name(c) == "status"]
    if len(status_elements) != 1:
        raise ImdnParseError(f"<{name}> needs exactly one <status>", where=f"imdn/{name}")
    found = [n for c in status_elements[0] if (n := _imdn_name(c)) in _ALL_STATUSES]
    if len(found) != 1:
        raise ImdnParseError(
            f"<status> needs exactly one known status, found {len(found)}",
            where=f"imdn/{name}/status",
        )
    status = found[0]
    if status not in STATUSES_BY_KIND[kind]:
        raise ImdnParseError(
            f"status {status!r} is not valid in a {name}", where=f"imdn/{name}/status"
        )
    return status


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip() or None


def parse_imdn_payload(data: bytes, content_type: str | None = None) -> ImdnNotification:
    """Parse an IMDN as it arrives: CPIM-wrapped or bare ``message/imdn+xml``.

    Args:
        data: the SIP MESSAGE or MSRP payload.
        content_type: the payload's Content-Type; when None the form is guessed (XML starts
            with ``<``, anything else is taken for CPIM).

    Raises:
        CpimParseError: if the CPIM wrapper is malformed or does not carry an IMDN.
        ImdnParseError: if the IMDN document is malformed.
    """
    if content_type is not None:
        wrapped = content_type.split(";", 1)[0].strip().lower() == cpim.CONTENT_TYPE
    else:
        wrapped = not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    if not wrapped:
        return parse_imdn(data)
    message = cpim.parse(data)
    if not message.is_imdn:
        raise CpimParseError("CPIM payload is not an IMDN", where="Content-Type")
    return parse_imdn(message.decoded_body())


# --------------------------------------------------------------------------- building


def build_imdn(notification: ImdnNotification) -> bytes:
    """Write the ``message/imdn+xml`` document for ``notification`` (UTF-8).

    Raises:
        LocalProtocolError: if the notification has no datetime (the document requires
            one) or a text holds characters XML cannot carry.
    """
    if notification.datetime is None:
        raise LocalProtocolError("an IMDN document needs the original message's datetime")
    pieces = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<imdn xmlns="{IMDN_XML_NS}">',
        _element("message-id", notification.message_id),
        _element("datetime", cpim.format_rfc3339(notification.datetime)),
    ]
    for tag, value in (
        ("recipient-uri", notification.recipient_uri),
        ("original-recipient-uri", notification.original_recipient_uri),
        ("subject", notification.subject),
    ):
        if value is not None:
            pieces.append(_element(tag, value))
    tag = f"{notification.kind}-notification"
    pieces.append(f"<{tag}><status><{notification.status}/></status></{tag}></imdn>")
    return "".join(pieces).encode("utf-8")


def _element(tag: str, text: str) -> str:
    if any(_xml_forbidden(ch) for ch in text):
        raise LocalProtocolError(f"<{tag}> text holds a character XML cannot carry")
    escaped = escape(text, {"\r": "&#13;", '"': "&quot;"})
    return f"<{tag}>{escaped}</{tag}>"


def _xml_forbidden(ch: str) -> bool:
    code = ord(ch)
    return (
        (code < 0x20 and ch not in "\t\n\r")
        or 0xD800 <= code <= 0xDFFF
        or code
        in (
            0xFFFE,
            0xFFFF,
        )
    )


def build_imdn_cpim(
    notification: ImdnNotification,
    *,
    from_: cpim.CpimAddress | str,
    to: cpim.CpimAddress | str,
    new_message_id: str,
    datetime: dt.datetime,
) -> bytes:
    """Wrap an IMDN in the CPIM message it travels in (RFC 5438 §7.1).

    Args:
        notification: the receipt.
        from_: the reporting recipient (often :data:`~rcs_terminal.protocol.cpim.ANONYMOUS`).
        to: the original sender.
        new_message_id: a fresh ``imdn.Message-ID`` for the receipt itself.
        datetime: the receipt's own ``DateTime``, from the caller's clock.
    """
    return cpim.build(
        from_=from_,
        to=to,
        datetime=datetime,
        message_id=new_message_id,
        content_type=CONTENT_TYPE,
        content_disposition="notification",
        body=build_imdn(notification),
    )
