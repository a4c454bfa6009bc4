"""A SIP network element on loopback: sockets, one transaction layer, one timer.

:class:`SipElement` is the plumbing under the lab registrar. It listens on UDP and TCP (one
port when possible), parses what arrives, runs it through a single
:class:`~rcs_terminal.protocol.sip.transaction_layer.TransactionLayer`, and hands the
resulting events to hook methods that a subclass overrides (``on_request``, ``on_response``,
``on_failure``...). What the layer wants sent leaves through the *hop* its transaction
belongs to (:class:`~rcs_terminal.lab.bindings.Hop`): a response over the flow its request
came on (to the source address for UDP, over the connection for TCP, whatever the Via
says), a request over the hop given when it was sent, an ACK of a non-2xx over its
INVITE's hop. Only literal loopback addresses are ever sent to.

One :class:`~rcs_terminal.engine.timers.DeadlineTimer` follows the earliest deadline of the
layer and of the subclass (:meth:`SipElement.extra_deadline`), so an idle element costs one
timer handle. Every message in and out is recorded in the trace by the flows (owner
``lab``). A malformed request is answered with 400 (or the parser's status hint) when its
head is readable, and dropped otherwise; no input and no bug in a hook stops the element.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from rcs_terminal.engine.timers import DeadlineTimer
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import (
    Address,
    Flow,
    StreamFlow,
    UdpFlow,
    open_udp,
    serve_stream,
)
from rcs_terminal.errors import (
    LocalProtocolError,
    NetworkError,
    ParseError,
    RcsTerminalError,
    RemoteProtocolError,
    SipParseError,
)
from rcs_terminal.lab.bindings import Hop, is_loopback_literal
from rcs_terminal.protocol.sip.events import (
    AckReceived,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TransactionEvent,
    TransactionTerminated,
    TransactionTimedOut,
    TransportFailed,
)
from rcs_terminal.protocol.sip.message import (
    Request,
    Response,
    StreamFramer,
    build_response,
    parse_message,
)
from rcs_terminal.protocol.sip.timers import TimerConfig
from rcs_terminal.protocol.sip.transaction import Role, TransactionKey, client_key, server_key
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

__all__ = ["SipElement"]

_log = logging.getLogger(__name__)

_ACK_MEMORY = 4096


class SipElement:
    """Sockets, transactions and timers of one lab SIP element (see the module docstring).

    Args:
        trace: where every message is recorded (a new recorder by default).
        timer_config: SIP timer values (T1, T2, T4) of the transaction layer.
        random_bytes: the randomness source for branches and tags.
    """

    def __init__(
        self,
        *,
        trace: TraceRecorder | None = None,
        timer_config: TimerConfig | None = None,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.trace = trace if trace is not None else TraceRecorder()
        self._random = random_bytes
        self._layer = TransactionLayer(timer_config, new_branch_id=lambda: random_bytes(8).hex())
        self._server_hops: dict[TransactionKey, Hop] = {}
        self._client_hops: dict[TransactionKey, Hop] = {}
        self._ack_hops: dict[str, Hop] = {}
        self._retired: list[TransactionKey] = []
        self._udp: UdpFlow[Any] | None = None
        self._server: asyncio.Server | None = None
        self._streams: set[StreamFlow[Any]] = set()
        self._timer: DeadlineTimer | None = None
        self._clock: Callable[[], float] = time.monotonic
        self._stopping = False
        self.host = "127.0.0.1"
        self.port = 0
        self.udp_address: Address | None = None
        """Where the element listens for UDP, once started."""
        self.tcp_address: Address | None = None
        """Where the element listens for TCP, once started."""

    # ------------------------------------------------------------------ life cycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[Address, Address]:
        """Listen for SIP over UDP and TCP on ``host``, on the same port.

        Args:
            host: the loopback address to listen on.
            port: the port, or 0 for one the system picks (free for both UDP and TCP).

        Returns:
            The UDP and TCP addresses.

        Raises:
            NetworkError: ``host`` is not a loopback address, or no port can be bound.
        """
        if not is_loopback_literal(host):
            raise NetworkError(f"the lab SIP element listens on loopback only, not on {host}")
        self._clock = asyncio.get_running_loop().time
        self._stopping = False
        for _attempt in range(8):
            udp = await open_udp(host, port, **self._flow_kwargs())
            try:
                self._server = await serve_stream(
                    host,
                    udp.local.port,
                    flow_kwargs=lambda: {"framer_factory": StreamFramer, **self._flow_kwargs()},
                    on_connection=self._on_connection,
                )
            except OSError as exc:
                udp.close()
                if port:
                    raise NetworkError(f"cannot listen on TCP {host}:{port}: {exc}") from exc
                continue
            self._udp = udp
            break
        else:
            raise NetworkError(f"no port on {host} is free for both UDP and TCP")
        self.host = host.strip("[]").lower()
        self.port = udp.local.port
        self.udp_address = udp.local
        self.tcp_address = Address(udp.local.host, udp.local.port)
        self._timer = DeadlineTimer(self._next_deadline, self._on_timer)
        return self.udp_address, self.tcp_address

    async def stop(self) -> None:
        """Close every socket and connection and stop the timer."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._server is not None:
            self._server.close()
        streams = list(self._streams)
        for flow in streams:
            flow.close()
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        pending = [flow.closed for flow in streams if not flow.closed.done()]
        if pending:
            await asyncio.wait(pending, timeout=1.0)

    def now(self) -> float:
        """The element's clock (the event loop's time once started)."""
        return self._clock()

    # ------------------------------------------------------------------ hooks

    def accept(self, message: Request | Response, hop: Hop) -> bool:
        """Whether to process ``message`` at all (False swallows it before the layer)."""
        return True

    def on_request(self, key: TransactionKey, request: Request, hop: Hop, now: float) -> None:
        """A new request created the server transaction ``key``; answer it."""
        self.respond(key, request, 501, None, now)

    def on_cancel(self, event: CancelReceived, now: float) -> None:
        """A CANCEL arrived (answer it; the INVITE it cancels is ``event.invite_key``)."""
        self.respond(event.key, event.request, 200 if event.invite_key else 481, None, now)

    def on_ack(self, ack: Request, hop: Hop, now: float) -> None:
        """The ACK of a 2xx arrived."""

    def on_response(self, key: TransactionKey, response: Response, now: float) -> None:
        """A response to our client transaction ``key`` arrived."""

    def on_failure(self, key: TransactionKey, status: int, now: float) -> None:
        """Client transaction ``key`` ended without response: 408 (timeout) or 480 (no way
        to send)."""

    def on_retired(self, key: TransactionKey) -> None:
        """Transaction ``key`` is gone (after its last message was sent)."""

    def on_flow_closed(self, flow: StreamFlow[Any]) -> None:
        """A TCP connection closed."""

    def on_timer(self, now: float) -> None:
        """The timer fired (the layer's timers were handled already)."""

    def extra_deadline(self) -> float | None:
        """The subclass's own next deadline, if any."""
        return None

    # ------------------------------------------------------------------ sending

    def respond(
        self,
        key: TransactionKey,
        request: Request,
        status: int,
        reason: str | None,
        now: float,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Answer the request of server transaction ``key`` (a To tag is added above 100)."""
        try:
            response = build_response(
                request, status, reason, to_tag=self.new_tag() if status > 100 else None
            )
        except SipParseError:
            response = build_response(request, status, reason)
        for name, value in headers:
            response.headers.add(name, value)
        self.send_response(response, now)

    def send_response(self, response: Response, now: float) -> None:
        """Send ``response`` through its server transaction (ignored when it is gone)."""
        try:
            events = self._layer.send_response(response, now)
        except LocalProtocolError:
            return
        self._dispatch(events, now, None)

    def send_request(self, request: Request, hop: Hop, now: float) -> TransactionKey:
        """Send ``request`` (whose top Via is ours, without branch) in a new client
        transaction over ``hop``; returns the transaction key."""
        key = self._layer.send_request(request, now, reliable=hop.reliable)
        self._client_hops[key] = hop
        return key

    def send_ack(self, ack: Request, hop: Hop, now: float) -> None:
        """Send the ACK of a 2xx (outside any transaction) over ``hop``."""
        self._layer.send_ack(ack, now)
        self._ack_hops[ack.top_via.branch or ""] = hop
        while len(self._ack_hops) > _ACK_MEMORY:
            del self._ack_hops[next(iter(self._ack_hops))]

    def cancel(self, key: TransactionKey, now: float) -> None:
        """Cancel the pending INVITE client transaction ``key`` (RFC 3261 §9.1)."""
        cancel_key = self._layer.cancel(key, now)
        hop = self._client_hops.get(key)
        if cancel_key is not None and hop is not None:
            self._client_hops[cancel_key] = hop

    def via(self, hop: Hop) -> str:
        """Our Via value (without branch) for a request sent over ``hop``."""
        return f"SIP/2.0/{hop.transport} {self.own_address}"

    @property
    def own_address(self) -> Address:
        """The listening address."""
        return Address(self.host, self.port)

    @property
    def udp_flow(self) -> UdpFlow[Any] | None:
        """The UDP socket, once started."""
        return self._udp

    def new_tag(self) -> str:
        """A fresh To/From tag."""
        return self._random(6).hex()

    # ------------------------------------------------------------------ input

    def _flow_kwargs(self) -> dict[str, Any]:
        return {
            "parser": parse_message,
            "sink": self._on_message,
            "on_error": self._on_parse_error,
            "trace": self.trace,
            "owner": "lab",
        }

    def _on_connection(self, flow: StreamFlow[Any]) -> None:
        self._streams.add(flow)
        flow.closed.add_done_callback(lambda _future: self._on_closed(flow))

    def _on_closed(self, flow: StreamFlow[Any]) -> None:
        self._streams.discard(flow)
        if not self._stopping:
            self._guarded(self.on_flow_closed, flow)

    def _on_message(self, message: Request | Response, source: Address, flow: Flow[Any]) -> None:
        self._guarded(self._receive, message, Hop.of(flow, source))

    def _on_parse_error(
        self, raw: bytes, exc: ParseError, source: Address, flow: Flow[Any]
    ) -> None:
        if exc.status_hint is None:
            return
        request = _salvage(raw)
        if request is not None:
            self._guarded(self._reply_stateless, request, Hop.of(flow, source), exc)

    def _guarded(self, handler: Callable[..., None], *args: Any) -> None:
        try:
            handler(*args)
        except Exception:  # a lab element survives any input and its own bugs
            _log.exception("lab SIP element: failed to handle an event")
        try:
            self._flush()
        except Exception:
            _log.exception("lab SIP element: failed to send")

    def _receive(self, message: Request | Response, hop: Hop) -> None:
        if not self.accept(message, hop):
            return
        now = self._clock()
        try:
            events = self._layer.receive(message, now, reliable=hop.reliable)
        except SipParseError as exc:
            if isinstance(message, Request):
                self._reply_stateless(message, hop, exc)
            return
        except RemoteProtocolError:
            return
        self._dispatch(events, now, hop)

    def _dispatch(self, events: list[TransactionEvent], now: float, hop: Hop | None) -> None:
        for event in events:
            if isinstance(event, RequestReceived) and hop is not None:
                self._server_hops[event.key] = hop
                try:
                    self.on_request(event.key, event.request, hop, now)
                except ParseError as exc:
                    self.respond(
                        event.key, event.request, exc.status_hint or 400, _reason(exc), now
                    )
            elif isinstance(event, CancelReceived) and hop is not None:
                self._server_hops[event.key] = hop
                self.on_cancel(event, now)
            elif isinstance(event, AckReceived) and hop is not None:
                with contextlib.suppress(ParseError, LocalProtocolError):
                    self.on_ack(event.request, hop, now)
            elif isinstance(event, ResponseReceived):
                self.on_response(event.key, event.response, now)
            elif isinstance(event, TransactionTimedOut) and event.key.role is Role.CLIENT:
                self.on_failure(event.key, 408, now)
            elif isinstance(event, TransportFailed) and event.key.role is Role.CLIENT:
                self.on_failure(event.key, 480, now)
            elif isinstance(event, TransactionTerminated):
                self._retired.append(event.key)

    def _reply_stateless(self, request: Request, hop: Hop, exc: ParseError) -> None:
        if "Via" not in request.headers or request.method == "ACK":
            return
        try:
            response = build_response(request, exc.status_hint or 400, _reason(exc))
            self._send(hop, response.to_bytes())
        except RcsTerminalError:
            return

    # ------------------------------------------------------------------ output and time

    def _flush(self) -> None:
        while messages := self._layer.messages_to_send():
            for message in messages:
                hop = self._hop_of(message)
                if hop is None:
                    continue
                try:
                    self._send(hop, message.to_bytes())
                except NetworkError:
                    self._send_failed(message)
        retired, self._retired = self._retired, []
        for key in retired:
            if key.role is Role.SERVER:
                self._server_hops.pop(key, None)
            else:
                self._client_hops.pop(key, None)
            self.on_retired(key)
        if self._timer is not None:
            self._timer.rearm()

    def _send_failed(self, message: Request | Response) -> None:
        if not isinstance(message, Request) or message.method == "ACK":
            return
        failed = client_key(message)
        if failed is not None:
            now = self._clock()
            self._dispatch(self._layer.transport_error(failed, now), now, None)

    def _send(self, hop: Hop, data: bytes) -> None:
        if not hop.reliable and (
            hop.address == self.udp_address or not is_loopback_literal(hop.address.host)
        ):
            raise NetworkError(f"refusing to send to {hop.address}: loopback peers only")
        hop.send(data)

    def _hop_of(self, message: Request | Response) -> Hop | None:
        try:
            if isinstance(message, Response):
                return self._server_hops.get(server_key(message))
            key = client_key(message)
        except SipParseError:
            return None
        if key is None:
            return None
        if message.method == "ACK":
            invite = TransactionKey(Role.CLIENT, key.branch, "INVITE")
            return self._client_hops.get(invite) or self._ack_hops.get(key.branch)
        return self._client_hops.get(key)

    def _next_deadline(self) -> float | None:
        deadlines = [
            d for d in (self._layer.next_deadline(), self.extra_deadline()) if d is not None
        ]
        return min(deadlines) if deadlines else None

    def _on_timer(self, now: float) -> None:
        self._guarded(self._timer_fired, now)

    def _timer_fired(self, now: float) -> None:
        self._dispatch(self._layer.handle_timer(now), now, None)
        self.on_timer(now)


def _reason(exc: ParseError) -> str:
    text = "".join(char for char in exc.reason if " " <= char <= "~").strip()
    return text[:80] if text else "Bad Request"


def _salvage(raw: bytes) -> Request | None:
    """The head of an unparseable request, when it is readable enough to answer.

    The body and Content-Length are dropped, and a request line naming another SIP
    version is read as SIP/2.0 (so that it can be answered with 505).
    """
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = [
        line
        for line in head.split(b"\n")
        if not line.lower().replace(b" ", b"").startswith((b"content-length:", b"l:"))
    ]
    if lines:
        method, _, rest = lines[0].partition(b" ")
        uri, _, version = rest.rpartition(b" ")
        if version.upper().startswith(b"SIP/") and version != b"SIP/2.0":
            lines[0] = b" ".join((method, uri, b"SIP/2.0"))
    try:
        message = parse_message(b"\r\n".join(lines) + b"\r\n\r\n")
    except SipParseError:
        return None
    return message if isinstance(message, Request) else None
