"""SIP server transactions: INVITE (RFC 3261 §17.2.1) and non-INVITE (§17.2.2).

A server transaction is created by a request the TU has not seen before. It passes that
request up once, absorbs retransmissions of it by re-sending the last response, sends the
TU's responses, and (INVITE, unreliable transports) retransmits a non-2xx final response
until the ACK arrives.

INVITE server transaction (Figure 7, with the Accepted state of RFC 6026 §8.7)::

    Proceeding --INVITE--> Proceeding       re-send the last provisional, if any
    Proceeding --1xx from TU--> Proceeding  send
    Proceeding --2xx from TU--> Accepted    send, Timer L = 64*T1, 2xx retransmission
    Proceeding --300-699 from TU--> Completed   send, Timer G (unreliable), Timer H
    Completed --INVITE--> Completed         re-send the final response
    Completed --Timer G--> Completed        re-send, G = min(2G, T2)
    Completed --Timer H--> Terminated       TransactionTimedOut (no ACK)
    Completed --ACK--> Confirmed            Timer I
    Confirmed --ACK or INVITE--> Confirmed  absorbed
    Confirmed --Timer I--> Terminated
    Accepted --INVITE--> Accepted           absorbed
    Accepted --2xx from TU--> Accepted      send (the TU may update the 2xx)
    Accepted --ACK--> Accepted              AckReceived once; 2xx retransmission stops
    Accepted --Timer L--> Terminated        AckNotReceived first if no ACK came

Sending a 100 (Trying) when the TU will be slow is the TU's choice. The 2xx itself is
retransmitted here, although RFC 3261 §13.3.1.4 gives that duty to the UAS core: the ACK of
a 2xx has its own branch, so the transaction layer matches it by Call-ID and CSeq number (and
reports it as :class:`~rcs_terminal.protocol.sip.events.AckReceived`), retransmits the 2xx at
T1, 2T1, ... capped at T2 over unreliable transports, and reports
:class:`~rcs_terminal.protocol.sip.events.AckNotReceived` after ``64*T1`` without ACK. Doing
it here keeps the engine to a single timer per endpoint.

Non-INVITE server transaction (Figure 8)::

    Trying --request--> Trying              absorbed (nothing to re-send yet)
    Trying/Proceeding --1xx from TU--> Proceeding      send
    Trying/Proceeding --200-699 from TU--> Completed   send, Timer J
    Proceeding --request--> Proceeding      re-send the last provisional
    Completed --request--> Completed        re-send the final response
    Completed --Timer J--> Terminated

A response from the TU after the final one, or an ACK before any final response, is refused.
Over reliable transports Timer G is never armed and Timers I and J are zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rcs_terminal.protocol.sip.events import (
    AckNotReceived,
    AckReceived,
    TransactionTimedOut,
    TransportFailed,
)
from rcs_terminal.protocol.sip.timers import TimerName
from rcs_terminal.protocol.sip.transaction import (
    StateTimers,
    Transaction,
    TransactionContext,
    TransactionInput,
    TransactionKey,
    TransactionState,
    Transitions,
)

if TYPE_CHECKING:
    from rcs_terminal.protocol.sip.message import Request, Response

__all__ = ["ServerInviteTransaction", "ServerNonInviteTransaction"]

_S = TransactionState
_In = TransactionInput
_T = TimerName


class ServerInviteTransaction(Transaction):
    """The INVITE server transaction (Figure 7, RFC 6026 Accepted state).

    Attributes:
        last_response: the last response sent, re-sent for retransmitted INVITEs.
        acked: in Accepted, whether the ACK for the 2xx arrived.
    """

    __slots__ = ("_index", "_interval", "acked", "last_response")

    def __init__(
        self, ctx: TransactionContext, key: TransactionKey, request: Request, *, reliable: bool
    ) -> None:
        super().__init__(ctx, key, request, reliable=reliable, state=_S.PROCEEDING)
        self._interval = ctx.config.t1
        self._index: tuple[str, int] | None = None
        self.last_response: Response | None = None
        self.acked = False

    # ------------------------------------------------------------------ actions

    def _resend(self, now: float, _message: object) -> None:
        if self.last_response is not None:
            self.send(self.last_response)

    def _send(self, now: float, response: Response) -> None:
        self.last_response = response
        self.send(response)

    def _accept(self, now: float, response: Response) -> None:
        self._send(now, response)
        self._index = (self.request.call_id, self.request.cseq.seq)
        self._ctx.awaiting_ack[self._index] = self
        self.arm(_T.L, self.config.timeout, now)
        if not self.reliable:
            self.arm(_T.RETRANSMIT_2XX, self._interval, now)

    def _reject(self, now: float, response: Response) -> None:
        self._send(now, response)
        if not self.reliable:
            self.arm(_T.G, self._interval, now)
        self.arm(_T.H, self.config.timeout, now)

    def _retransmit(self, now: float, _message: object) -> None:
        self._resend(now, None)
        self._interval = min(2 * self._interval, self.config.t2)
        self.arm(_T.G, self._interval, now)

    def _retransmit_2xx(self, now: float, _message: object) -> None:
        self._resend(now, None)
        self._interval = min(2 * self._interval, self.config.t2)
        self.arm(_T.RETRANSMIT_2XX, self._interval, now)

    def _confirm(self, now: float, _message: object) -> None:
        self.arm(_T.I, 0.0 if self.reliable else self.config.t4, now)

    def _ack_2xx(self, now: float, ack: Request) -> None:
        if self.acked:
            return
        self.acked = True
        self.disarm(_T.RETRANSMIT_2XX)
        self.emit(AckReceived(ack))

    def _ack_missing(self, now: float, _message: object) -> None:
        self.emit(TransactionTimedOut(self.key, self.request))

    def _linger_over(self, now: float, _message: object) -> None:
        if not self.acked and self.last_response is not None:
            self.emit(AckNotReceived(self.key, self.last_response))

    def _transport_failed(self, now: float, _message: object) -> None:
        self.emit(TransportFailed(self.key, self.request))

    def forget_indexes(self) -> None:
        """Drop this transaction from the awaiting-ACK index."""
        if self._index is not None and self._ctx.awaiting_ack.get(self._index) is self:
            del self._ctx.awaiting_ack[self._index]

    TRANSITIONS: ClassVar[Transitions] = {
        (_S.PROCEEDING, _In.RECV_REQUEST): (_resend, _S.PROCEEDING),
        (_S.PROCEEDING, _In.SEND_1XX): (_send, _S.PROCEEDING),
        (_S.PROCEEDING, _In.SEND_2XX): (_accept, _S.ACCEPTED),
        (_S.PROCEEDING, _In.SEND_FINAL): (_reject, _S.COMPLETED),
        (_S.PROCEEDING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.COMPLETED, _In.RECV_REQUEST): (_resend, _S.COMPLETED),
        (_S.COMPLETED, _In.RECV_ACK): (_confirm, _S.CONFIRMED),
        (_S.COMPLETED, _In.TIMER_G): (_retransmit, _S.COMPLETED),
        (_S.COMPLETED, _In.TIMER_H): (_ack_missing, _S.TERMINATED),
        (_S.COMPLETED, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.CONFIRMED, _In.RECV_REQUEST): (None, _S.CONFIRMED),
        (_S.CONFIRMED, _In.RECV_ACK): (None, _S.CONFIRMED),
        (_S.CONFIRMED, _In.TIMER_I): (None, _S.TERMINATED),
        (_S.CONFIRMED, _In.TRANSPORT_ERROR): (None, _S.CONFIRMED),
        (_S.ACCEPTED, _In.RECV_REQUEST): (None, _S.ACCEPTED),
        (_S.ACCEPTED, _In.RECV_ACK): (_ack_2xx, _S.ACCEPTED),
        (_S.ACCEPTED, _In.SEND_2XX): (_send, _S.ACCEPTED),
        (_S.ACCEPTED, _In.TIMER_RETRANSMIT_2XX): (_retransmit_2xx, _S.ACCEPTED),
        (_S.ACCEPTED, _In.TIMER_L): (_linger_over, _S.TERMINATED),
        (_S.ACCEPTED, _In.TRANSPORT_ERROR): (_transport_failed, _S.ACCEPTED),
    }
    STATE_TIMERS: ClassVar[StateTimers] = {
        _S.PROCEEDING: frozenset(),
        _S.COMPLETED: frozenset({_T.G, _T.H}),
        _S.CONFIRMED: frozenset({_T.I}),
        _S.ACCEPTED: frozenset({_T.L, _T.RETRANSMIT_2XX}),
    }


class ServerNonInviteTransaction(Transaction):
    """The non-INVITE server transaction (Figure 8).

    Attributes:
        last_response: the last response sent, re-sent for retransmitted requests.
    """

    __slots__ = ("last_response",)

    def __init__(
        self, ctx: TransactionContext, key: TransactionKey, request: Request, *, reliable: bool
    ) -> None:
        super().__init__(ctx, key, request, reliable=reliable, state=_S.TRYING)
        self.last_response: Response | None = None

    # ------------------------------------------------------------------ actions

    def _resend(self, now: float, _message: object) -> None:
        if self.last_response is not None:
            self.send(self.last_response)

    def _send(self, now: float, response: Response) -> None:
        self.last_response = response
        self.send(response)

    def _complete(self, now: float, response: Response) -> None:
        self._send(now, response)
        self.arm(_T.J, 0.0 if self.reliable else self.config.timeout, now)

    def _transport_failed(self, now: float, _message: object) -> None:
        self.emit(TransportFailed(self.key, self.request))

    TRANSITIONS: ClassVar[Transitions] = {
        (_S.TRYING, _In.RECV_REQUEST): (None, _S.TRYING),
        (_S.TRYING, _In.SEND_1XX): (_send, _S.PROCEEDING),
        (_S.TRYING, _In.SEND_2XX): (_complete, _S.COMPLETED),
        (_S.TRYING, _In.SEND_FINAL): (_complete, _S.COMPLETED),
        (_S.TRYING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.PROCEEDING, _In.RECV_REQUEST): (_resend, _S.PROCEEDING),
        (_S.PROCEEDING, _In.SEND_1XX): (_send, _S.PROCEEDING),
        (_S.PROCEEDING, _In.SEND_2XX): (_complete, _S.COMPLETED),
        (_S.PROCEEDING, _In.SEND_FINAL): (_complete, _S.COMPLETED),
        (_S.PROCEEDING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.COMPLETED, _In.RECV_REQUEST): (_resend, _S.COMPLETED),
        (_S.COMPLETED, _In.TIMER_J): (None, _S.TERMINATED),
        (_S.COMPLETED, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
    }
    STATE_TIMERS: ClassVar[StateTimers] = {
        _S.TRYING: frozenset(),
        _S.PROCEEDING: frozenset(),
        _S.COMPLETED: frozenset({_T.J}),
    }
