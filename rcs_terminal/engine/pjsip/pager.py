"""The pager-mode MESSAGE of CPM standalone messaging, both ways (GSMA RCC.07, OMA CPM;
formats.md §7 and §9; RFC 3862 CPIM, RFC 5438 IMDN).

Pure functions on our protocol core, used by the pjsip engine's
:class:`~rcs_terminal.engine.pjsip.messaging.PagerMessaging`:

- :func:`build_pager` wraps a payload in CPIM (:func:`rcs_terminal.protocol.cpim.build`,
  with ``imdn.Message-ID`` and ``imdn.Disposition-Notification``; a payload that is not UTF-8
  travels base64-encoded, as pjsua2 carries text only) and lists the SIP headers of a pager
  MESSAGE (:func:`pager_headers`): ``Accept-Contact`` with the ``oma.cpm.msg`` ICSI, for
  chatbots also the ``rcs.chatbot.sa`` IARI with ``botversion`` and ``require;explicit``;
  ``P-Preferred-Service``, ``Conversation-ID``, ``Contribution-ID``;
- :func:`read_incoming` reads a received MESSAGE: a CPIM message (namespaces resolved, so
  any prefix works), a CPIM-wrapped or bare IMDN, or a plain body from a non-RCS client,
  whose SIP Call-ID then serves as message id;
- :func:`build_delivery_receipt` answers a message that asked for ``positive-delivery``
  with a ``delivered`` IMDN in its own CPIM wrapper (RFC 5438 §7.1), carrying the original's
  Conversation-ID and Contribution-ID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rcs_terminal.engine.feature_tags import BOT_VERSIONS, BOTVERSION, IARI, IARI_PREFIX, ICSI
from rcs_terminal.protocol import cpim, imdn
from rcs_terminal.protocol.sip.features import format_feature_tags
from rcs_terminal.protocol.sip.message import Request

__all__ = [
    "CPM_MSG_SERVICE",
    "DEFAULT_DISPOSITIONS",
    "IncomingMessage",
    "IncomingReceipt",
    "OutgoingPager",
    "build_delivery_receipt",
    "build_pager",
    "looks_like_bot",
    "pager_headers",
    "read_incoming",
]

CPM_MSG_SERVICE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
"""The ICSI of standalone messaging (``P-Preferred-Service``)."""
DEFAULT_DISPOSITIONS = ("positive-delivery", "display")
"""The receipts a UP client asks for."""
BOT_LABELS = ("botplatform", "rbm")
"""Host labels of chatbot platforms (provisioning_sip.md §5)."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class OutgoingPager:
    """A pager MESSAGE ready for pjsip.

    Attributes:
        target: the Request-URI (and CPIM To).
        message_id: the ``imdn.Message-ID``.
        content_type: the payload's content type (inside CPIM).
        body: the payload.
        cpim: the MESSAGE body (``message/cpim``).
        headers: the SIP headers to add (pjsip writes From, To, Call-ID, CSeq, Contact).
    """

    target: str
    message_id: str
    content_type: str
    body: bytes
    cpim: bytes
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message a peer sent us.

    Attributes:
        sender: the sender's URI (SIP From; CPIM From may be anonymous).
        message_id: the ``imdn.Message-ID``, or the SIP Call-ID when there is none.
        content_type: the payload's content type.
        body: the payload, transfer encoding undone.
        sent_at: the CPIM ``DateTime``, if readable.
        dispositions: the receipts asked for.
        conversation_id: the SIP ``Conversation-ID``, if any.
        contribution_id: the SIP ``Contribution-ID``, if any.
        traffic_type: the MaaP ``Traffic-Type``, if any.
    """

    sender: str
    message_id: str
    content_type: str
    body: bytes
    sent_at: dt.datetime | None
    dispositions: frozenset[str]
    conversation_id: str | None = None
    contribution_id: str | None = None
    traffic_type: str | None = None


@dataclass(frozen=True, slots=True)
class IncomingReceipt:
    """A disposition notification (IMDN) about one of our messages.

    Attributes:
        sender: who reports (SIP From).
        notification: the receipt.
    """

    sender: str
    notification: imdn.ImdnNotification


# --------------------------------------------------------------------------- building and reading


def pager_headers(
    *, chatbot: bool, conversation_id: str, contribution_id: str
) -> tuple[tuple[str, str], ...]:
    """The SIP headers of a pager-mode MESSAGE (formats.md §9)."""
    headers = [("Accept-Contact", "*" + format_feature_tags({ICSI: [CPM_MSG_SERVICE]}))]
    if chatbot:
        bot = format_feature_tags(
            {IARI: [IARI_PREFIX + "rcs.chatbot.sa"], BOTVERSION: list(BOT_VERSIONS)}
        )
        headers.append(("Accept-Contact", f"*{bot};require;explicit"))
    headers += [
        ("P-Preferred-Service", CPM_MSG_SERVICE),
        ("Conversation-ID", conversation_id),
        ("Contribution-ID", contribution_id),
    ]
    return tuple(headers)


def build_pager(
    *,
    sender: str,
    target: str,
    content_type: str,
    body: bytes,
    message_id: str,
    conversation_id: str,
    contribution_id: str,
    now: dt.datetime,
    chatbot: bool = False,
    dispositions: tuple[str, ...] = DEFAULT_DISPOSITIONS,
) -> OutgoingPager:
    """Wrap a payload in CPIM for a pager-mode MESSAGE.

    A payload that is not UTF-8 travels base64-encoded (pjsua2 carries text only).

    Raises:
        LocalProtocolError: for a value that cannot be written in a header.
    """
    try:
        body.decode("utf-8")
        encoding = None
    except UnicodeDecodeError:
        encoding = "base64"
    wrapped = cpim.build(
        from_=sender,
        to=target,
        datetime=now,
        body=body,
        content_type=content_type,
        message_id=message_id,
        disposition_notification=dispositions,
        content_transfer_encoding=encoding,
    )
    headers = pager_headers(
        chatbot=chatbot, conversation_id=conversation_id, contribution_id=contribution_id
    )
    return OutgoingPager(target, message_id, content_type, body, wrapped, headers)


def build_delivery_receipt(
    message: IncomingMessage, *, sender: str, now: dt.datetime, new_message_id: str
) -> OutgoingPager:
    """The ``delivered`` IMDN answering ``message`` (RFC 5438 §7.1), as a pager MESSAGE to
    its sender with the same Conversation-ID and Contribution-ID."""
    notification = imdn.ImdnNotification(
        message_id=message.message_id,
        datetime=message.sent_at or now,
        kind="delivery",
        status="delivered",
        original_recipient_uri=sender,
    )
    wrapped = imdn.build_imdn_cpim(
        notification, from_=sender, to=message.sender, new_message_id=new_message_id, datetime=now
    )
    headers = pager_headers(
        chatbot=False,
        conversation_id=message.conversation_id or new_message_id,
        contribution_id=message.contribution_id or new_message_id,
    )
    return OutgoingPager(
        message.sender, new_message_id, imdn.CONTENT_TYPE, imdn.build_imdn(notification),
        wrapped, headers,
    )  # fmt: skip


def read_incoming(request: Request) -> IncomingMessage | IncomingReceipt:
    """Read an incoming MESSAGE: a CPIM message, an IMDN (wrapped or bare), or a plain body.

    Raises:
        SipParseError: the From, Call-ID or Content-Type header is unreadable.
        CpimParseError: the CPIM wrapper is malformed.
        ImdnParseError: an IMDN document is malformed.
    """
    sender = request.from_.uri
    ctype = (request.content_type or "text/plain").split(";", 1)[0].strip().lower()
    if ctype == imdn.CONTENT_TYPE:
        return IncomingReceipt(sender, imdn.parse_imdn(request.body))
    conversation = request.headers.get("Conversation-ID")
    contribution = request.headers.get("Contribution-ID")
    if ctype != cpim.CONTENT_TYPE:
        return IncomingMessage(
            sender, request.call_id, request.content_type or "text/plain", request.body, None,
            frozenset(), conversation, contribution,
        )  # fmt: skip
    message = cpim.parse(request.body)
    if message.is_imdn:
        return IncomingReceipt(sender, imdn.parse_imdn(message.decoded_body()))
    inner = message.content_headers.get("Content-Type") or "text/plain"
    return IncomingMessage(
        sender=sender,
        message_id=message.message_id or request.call_id,
        content_type=inner,
        body=message.decoded_body(),
        sent_at=message.datetime,
        dispositions=message.disposition_notification,
        conversation_id=conversation,
        contribution_id=contribution,
        traffic_type=message.traffic_type,
    )


def looks_like_bot(target: str) -> bool:
    """True when the target's host starts with a bot-platform label (``botplatform``)."""
    host = target.partition("@")[2].split(";", 1)[0].lower()
    return host.split(".", 1)[0] in BOT_LABELS
