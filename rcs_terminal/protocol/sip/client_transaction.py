"""SIP client transactions: INVITE (RFC 3261 §17.1.1) and non-INVITE (§17.1.2).

A client transaction sends one request, retransmits it over unreliable transports until a
response shows it arrived, hands every response to the TU once, and gives up after
``64*T1``. It also owns the two requests that are built from the original one without the TU:
the ACK for a non-2xx final response (§17.1.1.3) and, on the TU's behalf, the CANCEL (§9.1).

INVITE client transaction (Figure 5, with the Accepted state of RFC 6026 §8.4)::

    Calling --Timer A--> Calling          retransmit, A doubles (no cap)
    Calling --Timer B--> Terminated       TransactionTimedOut
    Calling/Proceeding --1xx--> Proceeding          pass up
    Calling/Proceeding --2xx--> Accepted            pass up, Timer M = 64*T1
    Calling/Proceeding --300-699--> Completed       pass up, send ACK, Timer D
    Proceeding --CANCEL wait--> Terminated          TransactionTimedOut (§9.1)
    Completed --300-699--> Completed      re-send the ACK (the response was retransmitted)
    Completed --Timer D--> Terminated
    Accepted --2xx--> Accepted            a new To tag (fork) is passed up; a retransmission
                                          is absorbed and answered with the TU's ACK
    Accepted --Timer M--> Terminated

Timer B runs in Calling only, as in RFC 3261: once a provisional response has arrived the
INVITE may legitimately wait for the callee. After the TU cancels the INVITE, the wait is
bounded again by §9.1's ``64*T1``. Provisional responses that arrive late (after a final one)
are absorbed; a 2xx after a non-2xx final is a protocol violation.

Non-INVITE client transaction (Figure 6)::

    Trying --Timer E--> Trying            retransmit, E = min(2E, T2)
    Trying --1xx--> Proceeding            pass up
    Proceeding --Timer E--> Proceeding    retransmit, E = T2
    Trying/Proceeding --Timer F--> Terminated      TransactionTimedOut
    Trying/Proceeding --200-699--> Completed       pass up, Timer K
    Completed --any response--> Completed          absorbed
    Completed --Timer K--> Terminated

Over reliable transports Timers A and E are never armed and Timers D and K are zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rcs_terminal.errors import LocalProtocolError, RemoteProtocolError
from rcs_terminal.protocol.sip.events import (
    ResponseReceived,
    TransactionTimedOut,
    TransportFailed,
)
from rcs_terminal.protocol.sip.message import Headers, Request
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
    from rcs_terminal.protocol.sip.message import Response

__all__ = [
    "ClientInviteTransaction",
    "ClientNonInviteTransaction",
    "build_ack_for_final_response",
    "build_cancel",
]

_S = TransactionState
_In = TransactionInput
_T = TimerName


def _required(headers: Headers, name: str, *, remote: bool) -> str:
    value = headers.get(name)
    if value is None:
        error = RemoteProtocolError if remote else LocalProtocolError
        raise error(f"the message has no {name} header")
    return value


def _copy_common(request: Request, headers: Headers) -> None:
    """Add the top Via, Max-Forwards and the Route set of ``request`` to ``headers``."""
    vias = request.headers.get_all("Via")
    if not vias:
        raise LocalProtocolError("the request has no Via header")
    headers.add("Via", vias[0])
    headers.add("Max-Forwards", "70")
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)


def build_ack_for_final_response(invite: Request, response: Response) -> Request:
    """Build the ACK for a 300-699 response to ``invite`` (RFC 3261 §17.1.1.3).

    The ACK has the INVITE's Request-URI, Call-ID, From, top Via (so its branch) and Route
    set, the To of the response (with its tag) and the INVITE's CSeq number with method ACK.

    Args:
        invite: the INVITE the transaction sent.
        response: the non-2xx final response.

    Returns:
        The ACK, without a body.

    Raises:
        LocalProtocolError: the INVITE lacks a Via, From, Call-ID or CSeq.
        RemoteProtocolError: the response has no To.
    """
    headers = Headers()
    _copy_common(invite, headers)
    headers.add("From", _required(invite.headers, "From", remote=False))
    headers.add("To", _required(response.headers, "To", remote=True))
    headers.add("Call-ID", _required(invite.headers, "Call-ID", remote=False))
    headers.add("CSeq", f"{invite.cseq.seq} ACK")
    return Request("ACK", invite.uri, headers)


def build_cancel(request: Request) -> Request:
    """Build the CANCEL for ``request`` (RFC 3261 §9.1).

    The CANCEL has the request's Request-URI, Call-ID, From, To (without a tag added),
    CSeq number, top Via (hence the same branch) and Route set.

    Args:
        request: the INVITE to cancel.

    Returns:
        The CANCEL.

    Raises:
        LocalProtocolError: the request lacks a Via, From, To, Call-ID or CSeq.
    """
    headers = Headers()
    _copy_common(request, headers)
    headers.add("From", _required(request.headers, "From", remote=False))
    headers.add("To", _required(request.headers, "To", remote=False))
    headers.add("Call-ID", _required(request.headers, "Call-ID", remote=False))
    headers.add("CSeq", f"{request.cseq.seq} CANCEL")
    return Request("CANCEL", request.uri, headers)


class ClientInviteTransaction(Transaction):
    """The INVITE client transaction (Figure 5, RFC 6026 Accepted state).

    Attributes:
        cancel_pending: the TU asked to cancel before any provisional response arrived; the
            CANCEL goes out with the first 1xx (§9.1).
        cancel_sent: the CANCEL has been sent.
    """

    __slots__ = (
        "_ack",
        "_acks",
        "_index",
        "_interval",
        "_tags_2xx",
        "cancel_pending",
        "cancel_sent",
    )

    def __init__(
        self, ctx: TransactionContext, key: TransactionKey, request: Request, *, reliable: bool
    ) -> None:
        super().__init__(ctx, key, request, reliable=reliable, state=_S.CALLING)
        self._interval = ctx.config.t1
        self._ack: Request | None = None
        self._acks: dict[str | None, Request] = {}
        self._tags_2xx: set[str | None] = set()
        self._index: tuple[str, int] | None = None
        self.cancel_pending = False
        self.cancel_sent = False

    def start(self, now: float) -> None:
        """Send the INVITE and arm Timers A (unreliable only) and B."""
        self.send(self.request)
        if not self.reliable:
            self.arm(_T.A, self._interval, now)
        self.arm(_T.B, self.config.timeout, now)

    def remember_ack(self, ack: Request) -> None:
        """Keep the TU's ACK for a 2xx, to re-send it when that 2xx is retransmitted."""
        self._acks[ack.to.tag] = ack

    # ------------------------------------------------------------------ actions

    def _retransmit(self, now: float, _message: object) -> None:
        self.send(self.request)
        self._interval *= 2
        self.arm(_T.A, self._interval, now)

    def _timed_out(self, now: float, _message: object) -> None:
        self.emit(TransactionTimedOut(self.key, self.request))

    def _transport_failed(self, now: float, _message: object) -> None:
        self.emit(TransportFailed(self.key, self.request))

    def _pass_up(self, now: float, response: Response) -> None:
        self.emit(ResponseReceived(self.key, response))

    def _accept(self, now: float, response: Response) -> None:
        self._tags_2xx.add(response.to.tag)
        self.emit(ResponseReceived(self.key, response))
        self._index = (self.request.call_id, self.request.cseq.seq)
        self._ctx.accepted_invites[self._index] = self
        self.arm(_T.M, self.config.timeout, now)

    def _another_2xx(self, now: float, response: Response) -> None:
        tag = response.to.tag
        if tag in self._tags_2xx:
            ack = self._acks.get(tag)
            if ack is not None:
                self.send(ack)
            return
        self._tags_2xx.add(tag)
        self.emit(ResponseReceived(self.key, response))

    def _complete(self, now: float, response: Response) -> None:
        self._ack = build_ack_for_final_response(self.request, response)
        self.emit(ResponseReceived(self.key, response))
        self.send(self._ack)
        self.arm(_T.D, 0.0 if self.reliable else self.config.timer_d, now)

    def _resend_ack(self, now: float, _message: object) -> None:
        if self._ack is not None:
            self.send(self._ack)

    def forget_indexes(self) -> None:
        """Drop this transaction from the Accepted-INVITE index."""
        if self._index is not None and self._ctx.accepted_invites.get(self._index) is self:
            del self._ctx.accepted_invites[self._index]

    TRANSITIONS: ClassVar[Transitions] = {
        (_S.CALLING, _In.TIMER_A): (_retransmit, _S.CALLING),
        (_S.CALLING, _In.TIMER_B): (_timed_out, _S.TERMINATED),
        (_S.CALLING, _In.RECV_1XX): (_pass_up, _S.PROCEEDING),
        (_S.CALLING, _In.RECV_2XX): (_accept, _S.ACCEPTED),
        (_S.CALLING, _In.RECV_FINAL): (_complete, _S.COMPLETED),
        (_S.CALLING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.PROCEEDING, _In.RECV_1XX): (_pass_up, _S.PROCEEDING),
        (_S.PROCEEDING, _In.RECV_2XX): (_accept, _S.ACCEPTED),
        (_S.PROCEEDING, _In.RECV_FINAL): (_complete, _S.COMPLETED),
        (_S.PROCEEDING, _In.TIMER_CANCEL_WAIT): (_timed_out, _S.TERMINATED),
        (_S.PROCEEDING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.COMPLETED, _In.RECV_1XX): (None, _S.COMPLETED),
        (_S.COMPLETED, _In.RECV_FINAL): (_resend_ack, _S.COMPLETED),
        (_S.COMPLETED, _In.TIMER_D): (None, _S.TERMINATED),
        (_S.COMPLETED, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.ACCEPTED, _In.RECV_1XX): (None, _S.ACCEPTED),
        (_S.ACCEPTED, _In.RECV_2XX): (_another_2xx, _S.ACCEPTED),
        (_S.ACCEPTED, _In.TIMER_M): (None, _S.TERMINATED),
        (_S.ACCEPTED, _In.TRANSPORT_ERROR): (None, _S.ACCEPTED),
    }
    STATE_TIMERS: ClassVar[StateTimers] = {
        _S.CALLING: frozenset({_T.A, _T.B}),
        _S.PROCEEDING: frozenset({_T.CANCEL_WAIT}),
        _S.COMPLETED: frozenset({_T.D}),
        _S.ACCEPTED: frozenset({_T.M}),
    }


class ClientNonInviteTransaction(Transaction):
    """The non-INVITE client transaction (Figure 6)."""

    __slots__ = ("_interval",)

    def __init__(
        self, ctx: TransactionContext, key: TransactionKey, request: Request, *, reliable: bool
    ) -> None:
        super().__init__(ctx, key, request, reliable=reliable, state=_S.TRYING)
        self._interval = ctx.config.t1

    def start(self, now: float) -> None:
        """Send the request and arm Timers E (unreliable only) and F."""
        self.send(self.request)
        if not self.reliable:
            self.arm(_T.E, self._interval, now)
        self.arm(_T.F, self.config.timeout, now)

    # ------------------------------------------------------------------ actions

    def _retransmit_trying(self, now: float, _message: object) -> None:
        self.send(self.request)
        self._interval = min(2 * self._interval, self.config.t2)
        self.arm(_T.E, self._interval, now)

    def _retransmit_proceeding(self, now: float, _message: object) -> None:
        self.send(self.request)
        self._interval = self.config.t2
        self.arm(_T.E, self._interval, now)

    def _timed_out(self, now: float, _message: object) -> None:
        self.emit(TransactionTimedOut(self.key, self.request))

    def _transport_failed(self, now: float, _message: object) -> None:
        self.emit(TransportFailed(self.key, self.request))

    def _pass_up(self, now: float, response: Response) -> None:
        self.emit(ResponseReceived(self.key, response))

    def _complete(self, now: float, response: Response) -> None:
        self.emit(ResponseReceived(self.key, response))
        self.arm(_T.K, 0.0 if self.reliable else self.config.t4, now)

    TRANSITIONS: ClassVar[Transitions] = {
        (_S.TRYING, _In.TIMER_E): (_retransmit_trying, _S.TRYING),
        (_S.TRYING, _In.TIMER_F): (_timed_out, _S.TERMINATED),
        (_S.TRYING, _In.RECV_1XX): (_pass_up, _S.PROCEEDING),
        (_S.TRYING, _In.RECV_2XX): (_complete, _S.COMPLETED),
        (_S.TRYING, _In.RECV_FINAL): (_complete, _S.COMPLETED),
        (_S.TRYING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.PROCEEDING, _In.TIMER_E): (_retransmit_proceeding, _S.PROCEEDING),
        (_S.PROCEEDING, _In.TIMER_F): (_timed_out, _S.TERMINATED),
        (_S.PROCEEDING, _In.RECV_1XX): (_pass_up, _S.PROCEEDING),
        (_S.PROCEEDING, _In.RECV_2XX): (_complete, _S.COMPLETED),
        (_S.PROCEEDING, _In.RECV_FINAL): (_complete, _S.COMPLETED),
        (_S.PROCEEDING, _In.TRANSPORT_ERROR): (_transport_failed, _S.TERMINATED),
        (_S.COMPLETED, _In.RECV_1XX): (None, _S.COMPLETED),
        (_S.COMPLETED, _In.RECV_2XX): (None, _S.COMPLETED),
        (_S.COMPLETED, _In.RECV_FINAL): (None, _S.COMPLETED),
        (_S.COMPLETED, _In.TIMER_K): (None, _S.TERMINATED),
        (_S.COMPLETED, _In.TRANSPORT_ERROR): (None, _S.COMPLETED),
    }
    STATE_TIMERS: ClassVar[StateTimers] = {
        _S.TRYING: frozenset({_T.E, _T.F}),
        _S.PROCEEDING: frozenset({_T.E, _T.F}),
        _S.COMPLETED: frozenset({_T.K}),
    }
