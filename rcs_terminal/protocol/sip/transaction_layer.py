"""The SIP transaction layer of one endpoint (RFC 3261 §17), sans-I/O.

:class:`TransactionLayer` owns every client and server transaction of one SIP endpoint (one
SIM's registration binding, or one lab element). It is the only object the engine drives:

- messages in: ``receive(message, now, reliable=...)`` matches a parsed request or response
  to its transaction (§17.1.3, §17.2.3) or creates a server transaction, and returns events;
- messages out: ``send_request()``, ``send_response()``, ``send_ack()`` and ``cancel()``
  queue messages; the engine drains them with ``messages_to_send()`` (the h2
  ``data_to_send()`` way) and picks the destination (outbound proxy, or the response's Via);
- time: ``next_deadline()`` tells the engine when to call ``handle_timer(now)``; all timers
  of all transactions live in one heap, so an idle endpoint costs no timer at all.

Usage, as a UAC::

    key = layer.send_request(invite, now, reliable=False)   # adds a branch if needed
    transport.send_all(layer.messages_to_send())
    for event in layer.receive(parse_message(data), now, reliable=False):
        ...  # ResponseReceived(key, 180), then ResponseReceived(key, 200)
    layer.send_ack(dialog.create_ack(response), now)      # ACK of a 2xx: no transaction

and as a UAS::

    for event in layer.receive(invite, now, reliable=False):   # RequestReceived(key, invite)
        layer.send_response(build_response(event.request, 200, to_tag=tag), now)
    layer.receive(ack, now, reliable=False)                   # [AckReceived(ack)]

What the layer does beyond the four state machines: it adds a fresh ``z9hG4bK`` branch to
the top Via of outgoing requests that have none (from an injectable id source, so tests are
deterministic), matches a CANCEL to the INVITE it cancels, holds a CANCEL back until the
INVITE has a provisional response (§9.1), re-sends the TU's ACK when a 2xx is retransmitted,
and retransmits the UAS's 2xx until its ACK comes (§13.3.1.4).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from rcs_terminal.errors import LocalProtocolError, RemoteProtocolError, SipParseError
from rcs_terminal.protocol.sip.client_transaction import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    build_cancel,
)
from rcs_terminal.protocol.sip.events import (
    AckReceived,
    CancelReceived,
    RequestReceived,
    StrayResponseReceived,
    TransactionEvent,
)
from rcs_terminal.protocol.sip.message import Request, Response
from rcs_terminal.protocol.sip.server_transaction import (
    ServerInviteTransaction,
    ServerNonInviteTransaction,
)
from rcs_terminal.protocol.sip.timers import TimerConfig, TimerName
from rcs_terminal.protocol.sip.transaction import (
    MAGIC_COOKIE,
    Role,
    Transaction,
    TransactionContext,
    TransactionInput,
    TransactionKey,
    TransactionState,
    client_key,
    server_key,
)

__all__ = ["TransactionLayer", "random_branch_id"]

_M = TypeVar("_M", Request, Response)
_R = TypeVar("_R")


def random_branch_id() -> str:
    """The default branch id source: 64 random bits as hex (the cookie is added)."""
    return secrets.token_hex(8)


class TransactionLayer:
    """All SIP transactions of one endpoint.

    Args:
        config: the timer values (T1, T2, T4 and Timer D).
        new_branch_id: returns a fresh, unique id for each branch; ``z9hG4bK`` is prepended.
            Inject a counter in tests.
        local_via: the Via value (without branch) added to outgoing requests that carry no
            Via, e.g. ``"SIP/2.0/TCP 192.0.2.7:50123;rport"``. The engine sets it once the
            local address is known; None means requests must come with their own Via.
    """

    def __init__(
        self,
        config: TimerConfig | None = None,
        *,
        new_branch_id: Callable[[], str] = random_branch_id,
        local_via: str | None = None,
    ) -> None:
        self._ctx = TransactionContext(config or TimerConfig())
        self._new_branch_id = new_branch_id
        self.local_via = local_via

    # ------------------------------------------------------------------ inspection

    @property
    def config(self) -> TimerConfig:
        """The timer values."""
        return self._ctx.config

    @property
    def transaction_count(self) -> int:
        """The number of live transactions (zero for an idle endpoint)."""
        return len(self._ctx.transactions)

    def state_of(self, key: TransactionKey) -> TransactionState | None:
        """The state of the transaction ``key``, or None once it is terminated."""
        tx = self._ctx.transactions.get(key)
        return None if tx is None else tx.state

    def request_of(self, key: TransactionKey) -> Request | None:
        """The request of the live transaction ``key``, or None."""
        tx = self._ctx.transactions.get(key)
        return None if tx is None else tx.request

    # ------------------------------------------------------------------ output and time

    def messages_to_send(self) -> list[Request | Response]:
        """Drain and return the messages waiting to be sent, oldest first."""
        out = self._ctx.outbox
        self._ctx.outbox = []
        return out

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` must next be called, or None if no timer is armed."""
        return self._ctx.timers.next_deadline()

    def handle_timer(self, now: float) -> list[TransactionEvent]:
        """Fire every timer due at ``now`` (retransmissions, timeouts, linger ends).

        Args:
            now: the current time; calling early or late is harmless.

        Returns:
            The events the fired timers produced.
        """
        timers = self._ctx.timers
        while (due := timers.pop_due(now)) is not None:
            tx, name = due
            tx.fire(name, now)
        return self._take_events()

    # ------------------------------------------------------------------ client side

    def send_request(self, request: Request, now: float, *, reliable: bool) -> TransactionKey:
        """Start a client transaction for ``request`` and queue it for sending.

        A top Via without a branch gets a fresh one; a request without any Via gets
        :attr:`local_via` plus a branch. The request is updated in place.

        Args:
            request: any request but ACK (use :meth:`send_ack`).
            now: the current time.
            reliable: whether it goes over TCP/TLS (no retransmissions).

        Returns:
            The client transaction key, used in the events about it.

        Raises:
            LocalProtocolError: an ACK, a CSeq that does not name the method, a missing
                header, or a branch already in use.
        """
        if request.method == "ACK":
            raise LocalProtocolError("an ACK is not sent in a transaction; use send_ack()")
        self._ensure_branch(request)
        key = self._local(client_key, request)
        if key is None:  # pragma: no cover - _ensure_branch guarantees a branch
            raise LocalProtocolError("the request has no branch")
        self._check_outgoing(request)
        if key in self._ctx.transactions:
            raise LocalProtocolError(f"a transaction with branch {key.branch} already exists")
        tx: ClientInviteTransaction | ClientNonInviteTransaction
        if request.method == "INVITE":
            tx = ClientInviteTransaction(self._ctx, key, request, reliable=reliable)
        else:
            tx = ClientNonInviteTransaction(self._ctx, key, request, reliable=reliable)
        self._ctx.transactions[key] = tx
        tx.start(now)
        return key

    def send_ack(self, ack: Request, now: float) -> None:
        """Queue the ACK of a 2xx to an INVITE (RFC 3261 §13.2.2.4), outside any transaction.

        The ACK gets its own branch if it has none. While the INVITE transaction is in the
        Accepted state, the layer re-sends this ACK whenever the same 2xx is retransmitted.

        Args:
            ack: the ACK, e.g. from ``Dialog.create_ack()``.
            now: the current time.

        Raises:
            LocalProtocolError: not an ACK, or a required header is missing.
        """
        if ack.method != "ACK":
            raise LocalProtocolError(f"send_ack() takes an ACK, not {ack.method}")
        self._ensure_branch(ack)
        self._check_outgoing(ack)
        tx = self._ctx.accepted_invites.get((ack.call_id, ack.cseq.seq))
        if isinstance(tx, ClientInviteTransaction):
            self._local(tx.remember_ack, ack)
        self._ctx.outbox.append(ack)

    def cancel(self, key: TransactionKey, now: float) -> TransactionKey | None:
        """Cancel the pending INVITE ``key`` (RFC 3261 §9.1).

        Before any provisional response the CANCEL is held back and sent with the first
        one; if a final response comes first, no CANCEL is sent. Once sent, the INVITE gives
        up ``64*T1`` later if no final response arrives. Calling again is harmless.

        Args:
            key: a client INVITE transaction.
            now: the current time.

        Returns:
            The key the CANCEL's own transaction has (or will have), or None when the INVITE
            already has a final response or is gone.

        Raises:
            LocalProtocolError: ``key`` is not a client INVITE transaction.
        """
        if key.role is not Role.CLIENT or not key.is_invite:
            raise LocalProtocolError("only a client INVITE transaction can be cancelled")
        tx = self._ctx.transactions.get(key)
        if not isinstance(tx, ClientInviteTransaction):
            return None
        cancel_key = TransactionKey(Role.CLIENT, key.branch, "CANCEL")
        if tx.state is TransactionState.CALLING:
            tx.cancel_pending = True
            return cancel_key
        if tx.state is TransactionState.PROCEEDING:
            if not tx.cancel_sent:
                self._send_cancel(tx, cancel_key, now)
            return cancel_key
        return None

    def _send_cancel(
        self, tx: ClientInviteTransaction, cancel_key: TransactionKey, now: float
    ) -> None:
        tx.cancel_pending = False
        tx.cancel_sent = True
        cancel = build_cancel(tx.request)
        ctx = self._ctx
        if cancel_key not in ctx.transactions:
            cancel_tx = ClientNonInviteTransaction(ctx, cancel_key, cancel, reliable=tx.reliable)
            ctx.transactions[cancel_key] = cancel_tx
            cancel_tx.start(now)
        tx.arm(TimerName.CANCEL_WAIT, ctx.config.timeout, now)

    # ------------------------------------------------------------------ server side

    def send_response(self, response: Response, now: float) -> list[TransactionEvent]:
        """Send a response through the server transaction it answers.

        Args:
            response: built with ``build_response()`` from the request of a
                :class:`~rcs_terminal.protocol.sip.events.RequestReceived` event.
            now: the current time.

        Returns:
            Events caused at once (a reliable transaction may terminate immediately).

        Raises:
            LocalProtocolError: no live server transaction matches, the status is out of
                range, or the transaction's state forbids this response (e.g. a second
                final response).
        """
        if not 100 <= response.status <= 699:
            raise LocalProtocolError(f"status {response.status} is not a SIP status code")
        key = self._local(server_key, response)
        tx = self._ctx.transactions.get(key)
        if tx is None:
            raise LocalProtocolError(
                f"no server transaction for this {response.status} response "
                f"({key.method}, branch {key.branch})"
            )
        self._take_events()
        tx.process(TransactionInput.for_response(response.status, sending=True), now, response)
        return self._take_events()

    # ------------------------------------------------------------------ input

    def receive(
        self, message: Request | Response, now: float, *, reliable: bool
    ) -> list[TransactionEvent]:
        """Process a message from the network.

        Args:
            message: a parsed request or response.
            now: the current time.
            reliable: whether it came over TCP/TLS (decides the retransmission behaviour of
                a server transaction it creates).

        Returns:
            The events for the TU, in order; empty when the message was a retransmission.

        Raises:
            SipParseError: a header needed for matching (Via, CSeq, Call-ID, From, To) is
                missing or malformed; for a request, ``status_hint`` is 400.
            RemoteProtocolError: the message contradicts its transaction's state (a 2xx
                after a non-2xx final response, an ACK before any final response).
        """
        self._take_events()
        if isinstance(message, Response):
            self._receive_response(message, now)
        else:
            self._receive_request(message, now, reliable)
        return self._take_events()

    def transport_error(self, key: TransactionKey, now: float) -> list[TransactionEvent]:
        """Report that a message of transaction ``key`` could not be sent.

        Args:
            key: the transaction.
            now: the current time.

        Returns:
            The events (usually ``TransportFailed`` then ``TransactionTerminated``); empty
            when the transaction is gone or its state ignores transport errors.
        """
        self._take_events()
        tx = self._ctx.transactions.get(key)
        if tx is not None:
            tx.process(TransactionInput.TRANSPORT_ERROR, now)
        return self._take_events()

    def _receive_response(self, response: Response, now: float) -> None:
        if not 100 <= response.status <= 699:
            raise RemoteProtocolError(f"status {response.status} is not a SIP status code")
        response.validate()  # everything the actions read, before any state changes
        key = client_key(response)
        tx = None if key is None else self._ctx.transactions.get(key)
        if tx is None or key is None:
            self._ctx.events.append(StrayResponseReceived(response))
            return
        tx.process(TransactionInput.for_response(response.status, sending=False), now, response)
        if (
            isinstance(tx, ClientInviteTransaction)
            and tx.cancel_pending
            and tx.state is TransactionState.PROCEEDING
        ):
            self._send_cancel(tx, TransactionKey(Role.CLIENT, key.branch, "CANCEL"), now)

    def _receive_request(self, request: Request, now: float, reliable: bool) -> None:
        request.validate()  # SipParseError with status_hint=400
        ctx = self._ctx
        key = server_key(request)
        tx: Transaction | None = ctx.transactions.get(key)
        if request.method == "ACK":
            if tx is None:
                tx = ctx.awaiting_ack.get((request.call_id, request.cseq.seq))
            if tx is None:
                ctx.events.append(AckReceived(request))
            else:
                tx.process(TransactionInput.RECV_ACK, now, request)
            return
        if tx is not None:
            tx.process(TransactionInput.RECV_REQUEST, now, request)
            return
        if request.method == "INVITE":
            tx = ServerInviteTransaction(ctx, key, request, reliable=reliable)
        else:
            tx = ServerNonInviteTransaction(ctx, key, request, reliable=reliable)
        ctx.transactions[key] = tx
        if request.method == "CANCEL":
            invite_key = TransactionKey(Role.SERVER, key.branch, "INVITE", key.sent_by)
            target = ctx.transactions.get(invite_key)
            found = invite_key if isinstance(target, ServerInviteTransaction) else None
            ctx.events.append(CancelReceived(key, request, found))
        else:
            ctx.events.append(RequestReceived(key, request))

    # ------------------------------------------------------------------ helpers

    def _take_events(self) -> list[TransactionEvent]:
        events = self._ctx.events
        self._ctx.events = []
        return events

    def _ensure_branch(self, request: Request) -> None:
        headers = request.headers
        vias = headers.get_all("Via")
        if not vias:
            if self.local_via is None:
                raise LocalProtocolError(
                    "the request has no Via and the transaction layer has no local_via"
                )
            headers.add("Via", f"{self.local_via};branch={self._fresh_branch()}")
            return
        if self._local(lambda m: m.top_via.branch, request) is not None:
            return
        vias[0] = f"{vias[0]};branch={self._fresh_branch()}"
        headers.set("Via", ", ".join(vias))

    def _fresh_branch(self) -> str:
        branch_id = self._new_branch_id()
        return branch_id if branch_id.startswith(MAGIC_COOKIE) else MAGIC_COOKIE + branch_id

    @staticmethod
    def _check_outgoing(request: Request) -> None:
        TransactionLayer._local(Request.validate, request)

    @staticmethod
    def _local(read: Callable[[_M], _R], message: _M) -> _R:
        """Run ``read`` on one of our own messages; a parse error is the TU's bug."""
        try:
            return read(message)
        except SipParseError as exc:
            raise LocalProtocolError(f"malformed outgoing message: {exc.reason}") from exc
