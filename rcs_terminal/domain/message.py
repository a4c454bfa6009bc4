"""Messages and conversations as the handset keeps them, and the delivery-state machine.

This module owns the values the message store hands out (:class:`Conversation`,
:class:`StoredMessage`), the rules that name a peer (:func:`canonical_peer`), the preview
shown in conversation lists (:func:`make_preview`) and the delivery state of every message.
It does no I/O; :mod:`rcs_terminal.domain.store` persists these values.

Theory of operation: delivery state
-----------------------------------

One :class:`DeliveryState` column serves both directions. An outgoing message moves through
``queued -> sending -> sent -> delivered -> displayed``; ``failed`` and ``sms_fallback`` end
it early. An incoming message is ``received`` until the user has seen it, then
``displayed_by_us`` (a state rather than a separate flag, so that "unread" is one indexed
comparison). Whether the display receipt for it went out is kept apart, in
:attr:`StoredMessage.displayed_reported`, because showing a message and reporting it are two
steps that a crash can separate.

What happens to a message is a :class:`DeliveryEvent`. :data:`TRANSITIONS` maps
``(state, event)`` to the next state, the h2 way; :func:`next_state` looks it up. A pair that
is *not* in the table is ignored: :func:`next_state` returns the current state unchanged and
never raises. That is deliberate. Receipts travel independently of each other (RFC 5438
§7; an MSRP session and a SIP MESSAGE, or two network paths, may reorder them), so a
``delivered`` notification can arrive after ``displayed``; applying it would move the
message backwards. A repeated event (a retransmitted IMDN) is equally harmless.

Two rules beyond "forward only":

- a receipt is proof of delivery, so ``failed`` (often a local timeout) still becomes
  ``delivered`` or ``displayed`` when a late IMDN says so;
- ``failed`` can still become ``sms_fallback`` (UP 2.4 SMS fallback after an RCS failure),
  and ``retry`` (the user asking to send again) puts a failed message back in ``queued`` with
  its imdn.Message-ID unchanged. ``retry`` is the only event that leads back; no network
  event ever does.

With every network event the states follow the order
``queued < sending < sent < failed < delivered < displayed < sms_fallback`` (a topological
order of the table, not a ranking of outcomes), so no sequence of receipts, failures and
fallbacks can loop.

Peers
-----

A conversation belongs to a SIM and a peer. Networks name the same peer differently (``tel:``
in one header, ``sip:+86...@domain;user=phone`` in another), so the store keys conversations
by :func:`canonical_peer`, a deliberately simple rule, documented there.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TypedDict

PREVIEW_LENGTH = 200
"""Characters of text kept as a message's preview."""


class Direction(StrEnum):
    """Which way a message travelled."""

    INCOMING = "in"
    OUTGOING = "out"


class Technology(StrEnum):
    """How a message was (or will be) carried.

    ``pager``: CPM standalone pager mode (SIP MESSAGE); ``large``: standalone large message
    mode (INVITE + MSRP); ``session``: a 1-to-1 chat session (MSRP); ``sms``: SMS fallback;
    ``unknown``: not decided yet.
    """

    PAGER = "pager"
    LARGE = "large"
    SESSION = "session"
    SMS = "sms"
    UNKNOWN = "unknown"


class DeliveryState(StrEnum):
    """Where a message stands; see the module docstring for the machine."""

    QUEUED = "queued"
    """Stored, not yet handed to the network (also: waiting to be resent after a restart)."""
    SENDING = "sending"
    """Handed to the network, no final answer yet."""
    SENT = "sent"
    """The network accepted it (200/202 to the MESSAGE, MSRP 200)."""
    DELIVERED = "delivered"
    """The recipient's device reported delivery (IMDN ``delivered``)."""
    DISPLAYED = "displayed"
    """The recipient reported it displayed (IMDN ``displayed``)."""
    FAILED = "failed"
    """Sending failed or the recipient reported a delivery failure."""
    SMS_FALLBACK = "sms_fallback"
    """Sent as an SMS instead."""
    RECEIVED = "received"
    """Incoming, not yet seen by the user (counts as unread)."""
    DISPLAYED_BY_US = "displayed_by_us"
    """Incoming, shown to the user."""


class DeliveryEvent(StrEnum):
    """Something that happens to a message."""

    SEND_STARTED = "send_started"
    """The engine hands the message to the network."""
    SEND_ACCEPTED = "send_accepted"
    """The network accepted it (2xx to the MESSAGE, MSRP 200 to the last chunk)."""
    DELIVERED = "delivered"
    """A delivery notification with status ``delivered`` arrived."""
    DISPLAYED = "displayed"
    """A display notification with status ``displayed`` arrived."""
    FAILED = "failed"
    """An error response, a timeout, or a delivery notification ``failed``/``forbidden``/
    ``error``."""
    SMS_FALLBACK = "sms_fallback"
    """The message went out as an SMS."""
    RETRY = "retry"
    """The user asks to send a failed message again."""
    READ = "read"
    """The user has seen an incoming message."""


_S = DeliveryState
_E = DeliveryEvent

_MOVES: dict[DeliveryState, dict[DeliveryEvent, DeliveryState]] = {
    _S.QUEUED: {
        _E.SEND_STARTED: _S.SENDING,
        _E.SEND_ACCEPTED: _S.SENT,
        _E.DELIVERED: _S.DELIVERED,
        _E.DISPLAYED: _S.DISPLAYED,
        _E.FAILED: _S.FAILED,
        _E.SMS_FALLBACK: _S.SMS_FALLBACK,
    },
    _S.SENDING: {
        _E.SEND_ACCEPTED: _S.SENT,
        _E.DELIVERED: _S.DELIVERED,
        _E.DISPLAYED: _S.DISPLAYED,
        _E.FAILED: _S.FAILED,
        _E.SMS_FALLBACK: _S.SMS_FALLBACK,
    },
    _S.SENT: {
        _E.DELIVERED: _S.DELIVERED,
        _E.DISPLAYED: _S.DISPLAYED,
        _E.FAILED: _S.FAILED,
        _E.SMS_FALLBACK: _S.SMS_FALLBACK,
    },
    _S.DELIVERED: {_E.DISPLAYED: _S.DISPLAYED},
    _S.FAILED: {
        _E.DELIVERED: _S.DELIVERED,
        _E.DISPLAYED: _S.DISPLAYED,
        _E.SMS_FALLBACK: _S.SMS_FALLBACK,
        _E.RETRY: _S.QUEUED,
    },
    _S.RECEIVED: {_E.READ: _S.DISPLAYED_BY_US},
}

TRANSITIONS: Mapping[tuple[DeliveryState, DeliveryEvent], DeliveryState] = MappingProxyType(
    {(state, event): target for state, moves in _MOVES.items() for event, target in moves.items()}
)
"""Every legal ``(state, event) -> next state``; any other pair leaves the state alone."""

PENDING_STATES = frozenset({DeliveryState.QUEUED, DeliveryState.SENDING})
"""Outgoing states whose message must be (re)sent when the handset starts."""

OUTGOING_STATES = frozenset(DeliveryState) - {_S.RECEIVED, _S.DISPLAYED_BY_US}
"""States an outgoing message can be in."""

INCOMING_STATES = frozenset({_S.RECEIVED, _S.DISPLAYED_BY_US})
"""States an incoming message can be in."""


def next_state(current: DeliveryState, event: DeliveryEvent) -> DeliveryState:
    """Apply ``event`` to a message in state ``current``.

    Args:
        current: the message's state now.
        event: what happened.

    Returns:
        The next state, or ``current`` itself when the table has no such move (out-of-order
        or repeated receipts, events that do not concern this direction). Never raises.
    """
    return TRANSITIONS.get((current, event), current)


_IMDN_EVENTS = {
    "delivered": DeliveryEvent.DELIVERED,
    "displayed": DeliveryEvent.DISPLAYED,
    "failed": DeliveryEvent.FAILED,
}


def event_for_imdn(status: str, kind: str | None = None) -> DeliveryEvent | None:
    """Translate an IMDN status (RFC 5438 §7.2.1) into a delivery event.

    ``forbidden`` and ``error`` mean a failed delivery in a delivery notification; in a
    display notification they only say that no display receipt will come (the message was
    delivered), and in a processing notification they concern an intermediary, so both give
    no event there. ``processed`` and ``stored`` (network intermediaries) give no event.

    Args:
        status: the IMDN status, e.g. ``"delivered"``.
        kind: ``"delivery"``, ``"display"`` or ``"processing"``; ``None`` is read as
            ``"delivery"`` for the failure statuses.

    Returns:
        The event to apply, or ``None`` when the receipt does not change the state.
    """
    status = status.strip().lower()
    if status in ("forbidden", "error"):
        return DeliveryEvent.FAILED if kind in (None, "delivery") else None
    return _IMDN_EVENTS.get(status)


# ----------------------------------------------------------------------------- peers

_VISUAL_SEPARATORS = re.compile(r"[-.()\s]")
_GLOBAL_NUMBER = re.compile(r"\+[0-9]+")
_LOCAL_NUMBER = re.compile(r"[0-9*#]+")


def canonical_peer(uri: str) -> str:
    """The key under which a peer's conversation is stored.

    The rule is kept simple on purpose:

    - surrounding blanks, a display name and angle brackets (``"Bob" <sip:...>``) are dropped;
    - ``tel:`` URIs lose their parameters and visual separators (RFC 3966 §5.1.1):
      ``tel:+86-138-0000-0001;phone-context=x`` becomes ``tel:+8613800000001``;
    - ``sip:``/``sips:`` URIs lose their parameters and headers, the scheme becomes ``sip``
      and the host is lower-cased (the user part stays as it is: RFC 3261 §19.1.4 compares it
      case-sensitively); a user part that is a global number, or any user part of a URI with
      ``user=phone``, turns the URI into the ``tel:`` form above, so
      ``sip:+8613800000001@ims.mnc000.mcc460.3gppnetwork.org;user=phone`` and
      ``tel:+8613800000001`` are one peer;
    - anything else with a scheme has its scheme lower-cased; a bare ``+digits`` becomes a
      ``tel:`` URI and a bare ``user@host`` a ``sip:`` one.

    Args:
        uri: the peer's URI as written in a header or typed by the user.

    Returns:
        The canonical form; the same peer always yields the same string.
    """
    text = uri.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1].strip()
    scheme, colon, rest = text.partition(":")
    if not colon:
        if _GLOBAL_NUMBER.fullmatch(_VISUAL_SEPARATORS.sub("", text)):
            return _tel(text)
        return _sip(text) if "@" in text else text
    scheme = scheme.lower()
    if scheme == "tel":
        return _tel(rest)
    if scheme in ("sip", "sips"):
        return _sip(rest)
    return f"{scheme}:{rest}"


def _tel(rest: str) -> str:
    number = _VISUAL_SEPARATORS.sub("", rest.partition(";")[0])
    return f"tel:{number}"


def _sip(rest: str) -> str:
    rest = rest.partition("?")[0]
    userinfo, at, hostpart = rest.rpartition("@")
    host, _, params = hostpart.partition(";")
    user = userinfo.partition(";")[0].partition(":")[0]
    if at:
        digits = _VISUAL_SEPARATORS.sub("", user)
        user_phone = "user=phone" in params.lower().replace(" ", "").split(";")
        if _GLOBAL_NUMBER.fullmatch(digits) or (user_phone and _LOCAL_NUMBER.fullmatch(digits)):
            return f"tel:{digits}"
        return f"sip:{user}@{host.lower()}"
    return f"sip:{host.lower()}"


# ----------------------------------------------------------------------------- previews

_BLANKS = re.compile(r"\s+")


def make_preview(content_type: str, body: bytes, preview: str | None = None) -> str:
    """The short text shown for a message in lists: at most :data:`PREVIEW_LENGTH` characters.

    Args:
        content_type: the message's content type, parameters allowed
            (``text/plain;charset=UTF-8``).
        body: the message body.
        preview: a preview the caller made (a card's title or description, a file name);
            it wins over the body.

    Returns:
        ``preview`` or the start of a ``text/plain`` body with blank runs collapsed to one
        space; for any other content without a preview, the MIME type in brackets
        (``[application/vnd.gsma.botmessage.v1.0+json]``).
    """
    if preview is None:
        mime, _, params = content_type.partition(";")
        mime = mime.strip().lower()
        if mime != "text/plain":
            return f"[{mime}]" if mime else ""
        # Decode only what can hold PREVIEW_LENGTH characters, never a whole large body.
        head = body[: PREVIEW_LENGTH * 4 + 4]
        try:
            preview = head.decode(_charset(params), errors="replace")
        except (LookupError, ValueError):  # not a text encoding (zlib, hex, undefined...)
            preview = head.decode("utf-8", errors="replace")
    return _BLANKS.sub(" ", preview[: PREVIEW_LENGTH * 2]).strip()[:PREVIEW_LENGTH]


def _charset(params: str) -> str:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
            try:
                return codecs.lookup(charset).name
            except (LookupError, ValueError):  # unknown, or a NUL in the name
                break
    return "utf-8"


# ----------------------------------------------------------------------------- values


class MessageDetails(TypedDict, total=False):
    """Optional facts about a new message, passed as keywords to the store's ``add_*``.

    Attributes:
        technology: how it travels, if already known (default ``unknown``).
        preview: the list preview when the body is not text (card title, file name).
        file_path: a local file the message carries or refers to.
        traffic_type: the CPM Traffic-Type (``advertisement``, ``payment``...).
        contribution_id: the CPM Contribution-ID.
        cpim_conversation_id: the CPM Conversation-ID; the conversation adopts it if it has
            none yet.
        disposition_requested: the notifications requested (``positive-delivery``,
            ``negative-delivery``, ``display``).
        extra: anything else to keep, JSON-compatible.
        display_name: the peer's name, stored on the conversation.
        is_chatbot: whether the peer is a chatbot, stored on the conversation.
    """

    technology: Technology
    preview: str | None
    file_path: str | os.PathLike[str] | None
    traffic_type: str | None
    contribution_id: str | None
    cpim_conversation_id: str | None
    disposition_requested: frozenset[str]
    extra: Mapping[str, object] | None
    display_name: str | None
    is_chatbot: bool | None


@dataclass(frozen=True, slots=True)
class Conversation:
    """A 1-to-1 conversation of one SIM with one peer (a person or a chatbot).

    Attributes:
        id: the store's row id.
        sim: the SIM slot (1 or 2) the conversation belongs to.
        peer_uri: the peer's URI as first seen (its canonical key is :func:`canonical_peer`).
        display_name: the peer's name, when known.
        is_chatbot: whether the peer is a chatbot.
        conversation_id: the CPM Conversation-ID used with this peer, once known.
        last_activity: epoch seconds of the latest message.
        unread: incoming messages not yet seen.
        last_preview: preview of the latest message.
    """

    id: int
    sim: int
    peer_uri: str
    display_name: str | None
    is_chatbot: bool
    conversation_id: str | None
    last_activity: float
    unread: int
    last_preview: str


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message, either direction, as the store keeps it.

    Attributes:
        id: the store's row id (increases with arrival; used for paging).
        message_id: the imdn.Message-ID (ours for outgoing, the sender's for incoming).
        conversation_id: row id of the :class:`Conversation`.
        sim: the SIM slot.
        direction: incoming or outgoing.
        peer_uri: the peer's URI as given for this message.
        content_type: the content type of ``body``.
        body: the content, exactly as sent or received (inside CPIM).
        text_preview: see :func:`make_preview`.
        state: the delivery state.
        technology: how it was carried.
        failure_reason: why it failed, when it did.
        created_at: epoch seconds the message was stored.
        sent_at: when the network accepted ours, or the sender's CPIM DateTime for theirs.
        delivered_at: when a delivery receipt arrived.
        displayed_at: when a display receipt arrived (outgoing) or the user saw it (incoming).
        file_path: a local file that belongs to the message (file transfer).
        traffic_type: the CPM Traffic-Type (``advertisement``, ``payment``...).
        contribution_id: the CPM Contribution-ID.
        cpim_conversation_id: the CPM Conversation-ID carried by the message.
        disposition_requested: the notifications asked for (``positive-delivery``,
            ``negative-delivery``, ``display``).
        displayed_reported: whether our display receipt for an incoming message went out.
        extra: anything else worth keeping, JSON-compatible.
    """

    id: int
    message_id: str
    conversation_id: int
    sim: int
    direction: Direction
    peer_uri: str
    content_type: str
    body: bytes
    text_preview: str
    state: DeliveryState
    technology: Technology
    failure_reason: str | None
    created_at: float
    sent_at: float | None
    delivered_at: float | None
    displayed_at: float | None
    file_path: str | None
    traffic_type: str | None
    contribution_id: str | None
    cpim_conversation_id: str | None
    disposition_requested: frozenset[str]
    displayed_reported: bool
    extra: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def is_outgoing(self) -> bool:
        """Whether we sent this message."""
        return self.direction is Direction.OUTGOING

    @property
    def is_pending(self) -> bool:
        """Whether the message still has to be sent (queued, or in flight at a crash)."""
        return self.state in PENDING_STATES

    @property
    def wants_display_report(self) -> bool:
        """Whether this incoming message asked for a display receipt not yet sent."""
        return (
            self.direction is Direction.INCOMING
            and "display" in self.disposition_requested
            and not self.displayed_reported
        )


@dataclass(frozen=True, slots=True)
class StateChange:
    """The outcome of applying an event to a stored message.

    Attributes:
        message: the message after the event.
        previous: its state before.
    """

    message: StoredMessage
    previous: DeliveryState

    @property
    def changed(self) -> bool:
        """Whether the event moved the message (``False``: ignored as out of order)."""
        return self.message.state is not self.previous


def advance(
    message: StoredMessage,
    event: DeliveryEvent,
    now: float | None,
    *,
    reason: str | None = None,
    technology: Technology | None = None,
) -> StoredMessage:
    """Apply ``event`` to ``message`` through :func:`next_state`, with its timestamps.

    ``sent``/``sms_fallback`` stamp ``sent_at``; ``delivered`` stamps ``delivered_at``;
    ``displayed`` stamps ``displayed_at`` (and fills a missing ``delivered_at``/``sent_at``:
    display implies delivery); ``displayed_by_us`` stamps ``displayed_at``. ``failed``
    records ``reason``; ``retry`` clears it. Nothing is stamped when ``now`` is ``None``.

    Args:
        message: the message as stored.
        event: what happened.
        now: epoch seconds, or ``None``.
        reason: why it failed or fell back, for ``failed`` and ``sms_fallback``.
        technology: the technology to record along with the move.

    Returns:
        The updated message, or ``message`` itself when the event is ignored.
    """
    target = next_state(message.state, event)
    if target is message.state:
        return message
    sent, delivered, displayed = message.sent_at, message.delivered_at, message.displayed_at
    if now is not None:
        now = float(now)
        if target in (_S.SENT, _S.SMS_FALLBACK):
            sent = now
        elif target is _S.DELIVERED:
            sent, delivered = now if sent is None else sent, now
        elif target is _S.DISPLAYED:
            sent = now if sent is None else sent
            delivered = now if delivered is None else delivered
            displayed = now
        elif target is _S.DISPLAYED_BY_US:
            displayed = now
    failure = message.failure_reason
    if target is _S.FAILED or (target is _S.SMS_FALLBACK and reason is not None):
        failure = reason
    elif target is _S.QUEUED:
        failure = None
    return replace(
        message,
        state=target,
        technology=technology or message.technology,
        failure_reason=failure,
        sent_at=sent,
        delivered_at=delivered,
        displayed_at=displayed,
    )
