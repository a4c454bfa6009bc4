"""The common core of SIP transactions (RFC 3261 §17): keys, states and the table engine.

A SIP transaction is one request and its responses, plus, for an INVITE answered with a
non-2xx final response, the ACK. This module holds what the four state machines share; the
machines themselves live in :mod:`.client_transaction` (§17.1, Figures 5 and 6) and
:mod:`.server_transaction` (§17.2, Figures 7 and 8), and the object the engine talks to is
:class:`~rcs_terminal.protocol.sip.transaction_layer.TransactionLayer`.

Theory of operation
-------------------

Every machine is a table: ``(state, input) -> (action, next state)``. An input is something
that happened: a message arrived (``RECV_*``), the TU handed over a response (``SEND_*``), a
timer fired (``TIMER_*``), or the engine reported a transport failure. Anything missing from a
machine's table is a protocol violation: :class:`~rcs_terminal.errors.RemoteProtocolError`
when the input came from the network, :class:`~rcs_terminal.errors.LocalProtocolError` when it
came from the TU. The lookup happens before anything changes, so a refused input leaves the
transaction as it was. Inputs a conforming peer can produce on a lossy, reordering network
(late provisionals, duplicate finals) are in the tables and absorbed; only inputs no
conforming peer produces raise.

Changing state disarms the timers the new state does not use (``STATE_TIMERS``); the action
then arms what it needs. A timer whose duration is zero (Timers D, I, J, K over reliable
transports) fires at once instead of going through the heap, so the Terminated state is
reached within the same call. On entering Terminated the transaction removes itself from the
layer and a :class:`~rcs_terminal.protocol.sip.events.TransactionTerminated` event is queued.

Transactions never do I/O: they append messages to a shared outbox (the engine drains it and
chooses the destination) and events to a shared event list that the layer returns.

Matching (§17.1.3, §17.2.3). A client transaction is keyed by the branch of the top Via of
its request and the request method (so a CANCEL, which reuses the INVITE's branch, is its own
transaction). A server transaction is keyed by branch, the top Via sent-by and the method,
with ACK mapped to INVITE. For requests whose branch lacks the ``z9hG4bK`` magic cookie
(RFC 2543 peers) a legacy key is built from Call-ID, From tag, CSeq number, top Via sent-by
and branch: retransmissions and the ACK of a non-2xx still match, without the full §17.2.3
RFC 2543 procedure.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rcs_terminal.errors import LocalProtocolError, RemoteProtocolError
from rcs_terminal.protocol.sip.events import TransactionEvent, TransactionTerminated
from rcs_terminal.protocol.sip.timers import TimerConfig, TimerHeap, TimerName

if TYPE_CHECKING:
    from rcs_terminal.protocol.sip.message import Request, Response

__all__ = [
    "MAGIC_COOKIE",
    "Role",
    "StateTimers",
    "Transaction",
    "TransactionContext",
    "TransactionInput",
    "TransactionKey",
    "TransactionState",
    "Transitions",
    "client_key",
    "server_key",
]

MAGIC_COOKIE = "z9hG4bK"
"""The prefix of RFC 3261 branch parameters (§8.1.1.7)."""


class Role(enum.Enum):
    """Which side of a transaction we are."""

    CLIENT = "client"
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class TransactionKey:
    """Identifies one transaction of an endpoint (RFC 3261 §17.1.3, §17.2.3).

    Attributes:
        role: client (we sent the request) or server (we received it).
        branch: the branch of the top Via; for RFC 2543 requests, a composite legacy id.
        method: the request method; ACK is filed under INVITE on the server side.
        sent_by: the top Via sent-by (``host`` or ``host:port``) of a server transaction;
            empty for client transactions, whose branch we generated ourselves.
    """

    role: Role
    branch: str
    method: str
    sent_by: str = ""

    @property
    def is_invite(self) -> bool:
        """True for INVITE transactions (the ones with an ACK and a three-way handshake)."""
        return self.method == "INVITE"


def client_key(message: Request | Response) -> TransactionKey | None:
    """The client transaction a request we send or a response we receive belongs to.

    Args:
        message: a request about to be sent, or a received response.

    Returns:
        The key, or None when the top Via has no branch (such a response matches nothing).

    Raises:
        SipParseError: the top Via or the CSeq is missing or malformed.
    """
    branch = message.top_via.branch
    if branch is None:
        return None
    return TransactionKey(Role.CLIENT, branch, message.cseq.method)


def server_key(message: Request | Response) -> TransactionKey:
    """The server transaction a received request or a response we send belongs to.

    Args:
        message: a received request, or a response built from one.

    Returns:
        The key; ACK maps to the INVITE transaction it acknowledges.

    Raises:
        SipParseError: the top Via, the CSeq, or (for RFC 2543 requests) the Call-ID or
            From is missing or malformed.
    """
    via = message.top_via
    cseq = message.cseq
    method = "INVITE" if cseq.method == "ACK" else cseq.method
    sent_by = via.host.lower() if via.port is None else f"{via.host.lower()}:{via.port}"
    branch = via.branch
    if branch is None or not branch.startswith(MAGIC_COOKIE):
        from_tag = message.from_.tag or ""
        branch = f"rfc2543|{message.call_id}|{from_tag}|{cseq.seq}|{branch or ''}"
    return TransactionKey(Role.SERVER, branch, method, sent_by)


class TransactionState(enum.Enum):
    """The states of the four machines (Figures 5-8 of RFC 3261, RFC 6026's Accepted)."""

    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class TransactionInput(enum.Enum):
    """What can happen to a transaction."""

    RECV_1XX = "1xx received"
    RECV_2XX = "2xx received"
    RECV_FINAL = "300-699 received"
    RECV_REQUEST = "request retransmission received"
    RECV_ACK = "ACK received"
    SEND_1XX = "1xx from TU"
    SEND_2XX = "2xx from TU"
    SEND_FINAL = "300-699 from TU"
    TRANSPORT_ERROR = "transport error"
    TIMER_A = "Timer A"
    TIMER_B = "Timer B"
    TIMER_D = "Timer D"
    TIMER_E = "Timer E"
    TIMER_F = "Timer F"
    TIMER_G = "Timer G"
    TIMER_H = "Timer H"
    TIMER_I = "Timer I"
    TIMER_J = "Timer J"
    TIMER_K = "Timer K"
    TIMER_L = "Timer L"
    TIMER_M = "Timer M"
    TIMER_RETRANSMIT_2XX = "2xx retransmission timer"
    TIMER_CANCEL_WAIT = "CANCEL wait timer"

    @property
    def is_remote(self) -> bool:
        """True when the input came from the network."""
        return self.name.startswith("RECV_")

    @staticmethod
    def for_response(status: int, *, sending: bool) -> TransactionInput:
        """The input for a response of ``status`` received (or sent, if ``sending``)."""
        if status < 200:
            return TransactionInput.SEND_1XX if sending else TransactionInput.RECV_1XX
        if status < 300:
            return TransactionInput.SEND_2XX if sending else TransactionInput.RECV_2XX
        return TransactionInput.SEND_FINAL if sending else TransactionInput.RECV_FINAL


_TIMER_INPUTS: Mapping[TimerName, TransactionInput] = {
    name: TransactionInput[f"TIMER_{name.name}"] for name in TimerName
}

Action = Callable[[Any, float, Any], None]
"""A transition's side effect: ``action(transaction, now, message_or_None)``."""

StateTimers = Mapping[TransactionState, frozenset[TimerName]]
"""The timers each state may keep armed; changing state disarms the others."""

Transitions = Mapping[
    tuple[TransactionState, TransactionInput], tuple[Action | None, TransactionState]
]


class TransactionContext:
    """What all transactions of one endpoint share: config, timers, outbox, events, indexes.

    Owned by the transaction layer; transactions write into it and never see the layer.

    Attributes:
        config: the timer values.
        timers: the shared deadline heap; payloads are ``(transaction, timer)``.
        outbox: messages waiting for the engine to send them.
        events: events waiting to be returned to the TU.
        transactions: every live transaction, by key.
        accepted_invites: client INVITE transactions in Accepted, by (Call-ID, CSeq number),
            so that the ACKs the TU sends can be found again for 2xx retransmissions.
        awaiting_ack: server INVITE transactions in Accepted, by (Call-ID, CSeq number), so
            that an ACK for their 2xx (which has its own branch) stops 2xx retransmission.
    """

    __slots__ = (
        "accepted_invites",
        "awaiting_ack",
        "config",
        "events",
        "outbox",
        "timers",
        "transactions",
    )

    def __init__(self, config: TimerConfig) -> None:
        self.config = config
        self.timers: TimerHeap[tuple[Transaction, TimerName]] = TimerHeap()
        self.outbox: list[Request | Response] = []
        self.events: list[TransactionEvent] = []
        self.transactions: dict[TransactionKey, Transaction] = {}
        self.accepted_invites: dict[tuple[str, int], Transaction] = {}
        self.awaiting_ack: dict[tuple[str, int], Transaction] = {}


class Transaction:
    """Base of the four transaction machines: the table engine and timer bookkeeping.

    Subclasses define ``TRANSITIONS`` (the state table), ``STATE_TIMERS`` (the timers each
    state may keep armed) and the action methods the table names.

    Attributes:
        key: the transaction key.
        request: the request that created the transaction.
        reliable: whether its transport is reliable (TCP, TLS): no retransmissions, and the
            linger timers D, I, J, K are zero.
        state: the current state.
    """

    __slots__ = ("_ctx", "_timer_tokens", "key", "reliable", "request", "state")

    TRANSITIONS: ClassVar[Transitions]
    STATE_TIMERS: ClassVar[StateTimers]

    def __init__(
        self,
        ctx: TransactionContext,
        key: TransactionKey,
        request: Request,
        *,
        reliable: bool,
        state: TransactionState,
    ) -> None:
        self._ctx = ctx
        self._timer_tokens: dict[TimerName, int] = {}
        self.key = key
        self.request = request
        self.reliable = reliable
        self.state = state

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key.method} {self.key.branch} {self.state.value}>"

    # ------------------------------------------------------------------ the engine

    def process(
        self, event: TransactionInput, now: float, message: Request | Response | None = None
    ) -> None:
        """Apply one input: look up the transition, change state, run the action.

        Args:
            event: what happened.
            now: the current time.
            message: the message that arrived or that the TU hands over, if any.

        Raises:
            RemoteProtocolError: a network input the current state does not allow.
            LocalProtocolError: a TU input the current state does not allow.
        """
        entry = self.TRANSITIONS.get((self.state, event))
        if entry is None:
            error = RemoteProtocolError if event.is_remote else LocalProtocolError
            raise error(
                f"{type(self).__name__} for {self.key.method} in state {self.state.value} "
                f"cannot handle: {event.value}"
            )
        action, target = entry
        if target is not self.state:
            self._enter(target)
        if action is not None:
            action(self, now, message)
        if target is TransactionState.TERMINATED:
            self._finish()

    def fire(self, name: TimerName, now: float) -> None:
        """Called by the layer when the timer ``name`` of this transaction is due."""
        self._timer_tokens.pop(name, None)
        self.process(_TIMER_INPUTS[name], now)

    # ------------------------------------------------------------------ helpers for actions

    def send(self, message: Request | Response) -> None:
        """Queue ``message`` for the transport."""
        self._ctx.outbox.append(message)

    def emit(self, event: TransactionEvent) -> None:
        """Queue ``event`` for the TU."""
        self._ctx.events.append(event)

    @property
    def config(self) -> TimerConfig:
        """The timer values."""
        return self._ctx.config

    def arm(self, name: TimerName, delay: float, now: float) -> None:
        """Start (or restart) the timer ``name``; a zero ``delay`` fires it at once."""
        self.disarm(name)
        if delay <= 0:
            self.process(_TIMER_INPUTS[name], now)
            return
        self._timer_tokens[name] = self._ctx.timers.schedule(now + delay, (self, name))

    def disarm(self, name: TimerName) -> None:
        """Stop the timer ``name`` if it is armed."""
        token = self._timer_tokens.pop(name, None)
        if token is not None:
            self._ctx.timers.cancel(token)

    def _enter(self, state: TransactionState) -> None:
        keep = self.STATE_TIMERS.get(state, frozenset())
        for name in [n for n in self._timer_tokens if n not in keep]:
            self.disarm(name)
        self.state = state

    def _finish(self) -> None:
        for name in list(self._timer_tokens):
            self.disarm(name)
        ctx = self._ctx
        if ctx.transactions.get(self.key) is self:
            del ctx.transactions[self.key]
            ctx.events.append(TransactionTerminated(self.key))
        self.forget_indexes()

    def forget_indexes(self) -> None:
        """Remove the transaction from the context's secondary indexes (subclass hook)."""
