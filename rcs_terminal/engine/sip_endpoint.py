"""One SIM's SIP user agent on the wire: a flow, a transaction layer, one timer handle.

:class:`SipEndpoint` is where the sans-I/O SIP core meets asyncio for one SIM (RFC 3261
§8, §17, §18). It owns:

- the *flow* to the current P-CSCF (a UDP socket, or a TCP/TLS connection on which the
  network also sends us its requests, RFC 5626 style), opened by :meth:`connect`; every
  request goes to that P-CSCF, which is our outbound proxy (no DNS, ever);
- the :class:`~rcs_terminal.protocol.sip.transaction_layer.TransactionLayer`, fed with
  what the flow parses and drained after every interaction;
- exactly one timer handle (:class:`~rcs_terminal.engine.timers.DeadlineTimer`) following
  the earliest of the transactions' deadlines and the few callbacks services schedule with
  :meth:`call_at` (registration refresh, back-off, subscription refresh). An idle SIM has
  no task and one ``loop.call_at`` handle, so thousands fit in one process.

Outgoing requests (:meth:`request` with a callback, or ``await`` :meth:`send`) end in one
:class:`RequestOutcome`: the final response, or a timeout (treated as 408), a transport
failure (503) or a malformed answer. A 401 or 407 to a request is answered once with
credentials from :attr:`SipEndpoint.authorizer` (Kamailio challenges every request from a
local user; IMS cores only REGISTER).

Incoming requests go to the handler registered for their method (:meth:`on_request`);
without one the answer is 405 (501 for methods SIP does not define). A request that cannot
be used (a broken mandatory header) is answered 400 when enough of it is readable to build
a response, and dropped otherwise; either way the raw bytes are in the trace (the flow
records everything it receives). A peer breaking the transaction rules is noted and
ignored: the endpoint carries on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import secrets
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rcs_terminal.engine.ims_params import ImsParams, PcscfTarget
from rcs_terminal.engine.timers import DeadlineTimer
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import (
    Address,
    Flow,
    client_tls_context,
    open_stream,
    open_udp,
)
from rcs_terminal.errors import (
    LocalProtocolError,
    NetworkError,
    ParseError,
    RemoteProtocolError,
    SipParseError,
)
from rcs_terminal.protocol.sip.auth import Challenge, parse_challenges
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
    Headers,
    Request,
    Response,
    StreamFramer,
    build_response,
    parse_message,
)
from rcs_terminal.protocol.sip.transaction import TransactionKey, client_key, server_key
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

__all__ = ["Authorizer", "RequestHandler", "RequestOutcome", "Scheduled", "SipEndpoint"]

log = logging.getLogger(__name__)

KNOWN_METHODS = frozenset(
    {
        "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "MESSAGE", "NOTIFY", "SUBSCRIBE",
        "REFER", "INFO", "UPDATE", "PRACK", "PUBLISH", "REGISTER",
    }
)  # fmt: skip
_BRANCH_RE = re.compile(rb"(?i)^(?:via|v)[ \t]*:[^\r\n]*?branch=([^;,\s]+)", re.MULTILINE)
_MANDATORY = ("via", "from", "to", "call-id", "cseq")
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id"}

Authorizer = Callable[[Challenge, Request, int], "str | None"]
"""Answers a challenge (401: WWW-Authenticate, 407: Proxy-Authenticate) for a request:
the credentials header value, or None when there are none for it."""

RequestHandler = Callable[[Request, TransactionKey], "Response | None"]
"""Answers an incoming request: a response now, or None to answer later with
:meth:`SipEndpoint.respond`."""


class TimerLike(Protocol):
    """What the endpoint needs from its timer: follow the deadline, stop."""

    def rearm(self) -> None: ...

    def cancel(self) -> None: ...


FlowOpener = Callable[..., Awaitable[Any]]
"""Opens a flow for a :class:`PcscfTarget` (see :func:`_open_flow` for the arguments)."""


def random_id() -> str:
    """The default source of tags, Call-IDs, cnonces and branches: 64 random bits."""
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """How a request we sent ended.

    Attributes:
        request: the last request sent (with credentials, when it was re-sent).
        response: the final response, or None.
        error: why there is no usable response: ``timeout``, ``transport: ...`` or
            ``malformed response: ...``; None when there is one.
    """

    request: Request
    response: Response | None
    error: str | None = None

    @property
    def status(self) -> int | None:
        """The status: the response's, 408 for a timeout, 503 for a transport failure
        (RFC 3261 §8.1.3.1), None for a malformed answer."""
        if self.response is not None:
            return self.response.status
        if self.error == "timeout":
            return 408
        if self.error is not None and self.error.startswith("transport"):
            return 503
        return None

    @property
    def reason(self) -> str:
        """The reason phrase, or a description of the failure."""
        if self.response is not None:
            return self.response.reason
        return self.error or ""


class Scheduled:
    """A callback scheduled with :meth:`SipEndpoint.call_at`; :meth:`cancel` forgets it."""

    __slots__ = ("_endpoint", "_token", "when")

    def __init__(self, endpoint: SipEndpoint, token: int, when: float) -> None:
        self._endpoint = endpoint
        self._token = token
        self.when = when

    def cancel(self) -> None:
        """Forget the callback (harmless when it already ran)."""
        self._endpoint._unschedule(self._token)


@dataclass(slots=True)
class _Pending:
    request: Request
    callback: Callable[[RequestOutcome], None]
    authenticate: bool
    challenged: bool = False


class SipEndpoint:
    """The SIP user agent of one SIM (see the module docstring).

    Args:
        params: the SIM's parameters (timers, TLS settings, User-Agent).
        trace: where the flows record every message.
        owner: the owner written in trace records (e.g. the profile name).
        clock: the time source; default the event loop's ``time()``.
        new_id: the source of tags, Call-IDs, cnonces and branch ids.
        opener: opens a flow (tests inject in-memory flows); see :meth:`connect`.
        timer_factory: builds the timer following :meth:`next_deadline` (default
            :class:`DeadlineTimer`); tests inject one they fire by hand.
    """

    def __init__(
        self,
        params: ImsParams,
        *,
        trace: TraceRecorder | None = None,
        owner: str | None = None,
        clock: Callable[[], float] | None = None,
        new_id: Callable[[], str] = random_id,
        opener: FlowOpener | None = None,
        timer_factory: Callable[
            [Callable[[], float | None], Callable[[float], None]], TimerLike
        ] = DeadlineTimer,
    ) -> None:
        self.params = params
        self.trace = trace
        self.owner = owner
        self.new_id = new_id
        self._clock = clock or asyncio.get_running_loop().time
        self._opener = opener or _open_flow
        self.layer = TransactionLayer(params.timers, new_branch_id=new_id)
        self._timer = timer_factory(self.next_deadline, self.handle_timer)
        self.flow: Flow[Any] | None = None
        self.target: PcscfTarget | None = None
        self.authorizer: Authorizer | None = None
        self.on_flow_lost: Callable[[], None] | None = None
        self._handlers: dict[str, RequestHandler] = {}
        self._pending: dict[TransactionKey, _Pending] = {}
        self._sources: dict[TransactionKey, Address] = {}
        self._scheduled: dict[int, tuple[float, Callable[[], None]]] = {}
        self._next_token = 0
        self.protocol_errors = 0

    # ------------------------------------------------------------------ connection

    def now(self) -> float:
        """The current time on the endpoint's clock."""
        return self._clock()

    @property
    def is_connected(self) -> bool:
        """True while a flow to a P-CSCF is open."""
        return self.flow is not None and not self.flow.is_closed

    async def connect(self, target: PcscfTarget) -> None:
        """Open a flow to ``target`` (closing any previous one).

        Raises:
            NetworkError: the socket cannot be bound or the connection fails.
        """
        self.disconnect()
        flow = await self._opener(
            target,
            sink=self._on_message,
            on_error=self._on_error,
            trace=self.trace,
            sim=self.params.slot,
            owner=self.owner,
            params=self.params,
        )
        self.flow, self.target = flow, target
        host = flow.local.host
        shown = f"[{host}]" if ":" in host else host
        self.layer.local_via = f"SIP/2.0/{target.transport.upper()} {shown}:{flow.local.port};rport"
        flow.closed.add_done_callback(lambda _: self._flow_closed(flow))

    def disconnect(self) -> None:
        """Close the current flow, if any (pending requests end as transport failures)."""
        flow, self.flow = self.flow, None
        if flow is not None:
            flow.close()
        self._fail_all("transport: flow closed")

    def close(self) -> None:
        """Close the flow and stop the timer; the endpoint can be connected again."""
        self.disconnect()
        self._scheduled.clear()
        self._timer.cancel()

    def _flow_closed(self, flow: Flow[Any]) -> None:
        if flow is not self.flow:
            return
        self.flow = None
        self._fail_all("transport: connection lost")
        if self.on_flow_lost is not None:
            self.on_flow_lost()

    def contact_uri(self, user: str | None) -> str:
        """Our Contact URI on the current flow: ``sip:user@host:port[;transport=tcp]``.

        Raises:
            NetworkError: no flow is open.
        """
        if self.flow is None or self.target is None:
            raise NetworkError("the SIP endpoint is not connected")
        host = self.flow.local.host
        shown = f"[{host}]" if ":" in host else host
        prefix = f"{_escape_user(user)}@" if user else ""
        suffix = "" if self.target.transport == "udp" else f";transport={self.target.transport}"
        return f"sip:{prefix}{shown}:{self.flow.local.port}{suffix}"

    # ------------------------------------------------------------------ client side

    def request(
        self,
        request: Request,
        callback: Callable[[RequestOutcome], None],
        *,
        authenticate: bool = True,
    ) -> None:
        """Send ``request`` to the P-CSCF; ``callback`` gets its :class:`RequestOutcome`.

        Args:
            request: the request, without Via (added here) and with every other header.
            callback: called once, with the final outcome.
            authenticate: answer one 401/407 with :attr:`authorizer`'s credentials.
        """
        self._start(_Pending(request, callback, authenticate))
        self._flush()

    async def send(self, request: Request, *, authenticate: bool = True) -> RequestOutcome:
        """:meth:`request`, awaited."""
        future: asyncio.Future[RequestOutcome] = asyncio.get_running_loop().create_future()

        def done(outcome: RequestOutcome) -> None:
            if not future.done():
                future.set_result(outcome)

        self.request(request, done, authenticate=authenticate)
        return await future

    def send_ack(self, ack: Request) -> None:
        """Send the ACK of a 2xx to our INVITE (RFC 3261 §13.2.2.4), outside any transaction;
        the layer sends it again if the 2xx is retransmitted."""
        if "Via" not in ack.headers and self.layer.local_via is not None:
            ack.headers = Headers([("Via", self.layer.local_via), *ack.headers])
        try:
            self.layer.send_ack(ack, self.now())
        except LocalProtocolError as exc:
            log.warning("cannot send an ACK: %s", exc)
            return
        self._flush()

    def _start(self, pending: _Pending) -> None:
        if self.flow is None or self.target is None:
            pending.callback(RequestOutcome(pending.request, None, "transport: not connected"))
            return
        reliable = self.target.transport != "udp"
        request = pending.request
        if "Via" not in request.headers and self.layer.local_via is not None:
            # Via first, as people expect to read it; the layer adds the branch in place.
            request.headers = Headers([("Via", self.layer.local_via), *request.headers])
        key = self.layer.send_request(request, self.now(), reliable=reliable)
        self._pending[key] = pending

    def _on_response(self, key: TransactionKey, response: Response) -> None:
        if response.status < 200:
            return
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        if response.status in (401, 407) and pending.authenticate and not pending.challenged:
            retry = self._with_credentials(pending.request, response)
            if retry is not None:
                self._start(_Pending(retry, pending.callback, True, challenged=True))
                return
        pending.callback(RequestOutcome(pending.request, response))

    def _with_credentials(self, request: Request, response: Response) -> Request | None:
        if self.authorizer is None:
            return None
        status = response.status
        challenge_header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
        answer_header = "Authorization" if status == 401 else "Proxy-Authorization"
        for raw in response.headers.get_all(challenge_header):
            try:
                challenges = parse_challenges(raw)
            except ParseError:
                continue
            for challenge in challenges:
                value = self.authorizer(challenge, request, status)
                if value is not None:
                    retry = _next_request(request)
                    retry.headers.remove(answer_header)
                    retry.headers.add(answer_header, value)
                    return retry
        return None

    def _fail_all(self, error: str) -> None:
        pending, self._pending = self._pending, {}
        now = self.now()
        for key in pending:
            self.layer.transport_error(key, now)  # no retransmission to the next flow
        for item in pending.values():
            item.callback(RequestOutcome(item.request, None, error))

    # ------------------------------------------------------------------ server side

    def on_request(self, method: str, handler: RequestHandler | None) -> None:
        """Route incoming ``method`` requests to ``handler`` (None removes it)."""
        if handler is None:
            self._handlers.pop(method, None)
        else:
            self._handlers[method] = handler

    @property
    def allowed_methods(self) -> list[str]:
        """The methods we answer (for ``Allow``)."""
        return sorted({"ACK", "CANCEL", *self._handlers})

    def respond(self, key: TransactionKey, response: Response) -> None:
        """Send a response to the request of server transaction ``key``."""
        try:
            events = self.layer.send_response(response, self.now())
        except (ParseError, LocalProtocolError) as exc:
            log.warning("cannot send response: %s", exc)
            return
        self._handle_events(events)
        self._flush()

    def _answer(self, key: TransactionKey, request: Request) -> None:
        handler = self._handlers.get(request.method)
        response: Response | None
        if handler is None:
            status = 405 if request.method in KNOWN_METHODS else 501
            if request.method == "SUBSCRIBE":
                status = 489  # no event package here (RFC 6665 §8.3.3)
            response = build_response(request, status, to_tag=self.new_id())
            response.headers.add("Allow", ", ".join(self.allowed_methods))
        else:
            response = handler(request, key)
        if response is not None:
            if "Server" not in response.headers and "User-Agent" not in response.headers:
                response.headers.add("Server", self.params.user_agent)
            self.respond(key, response)

    def _on_cancel(self, event: CancelReceived) -> None:
        if event.invite_key is None:
            self.respond(event.key, build_response(event.request, 481))
            return
        self.respond(event.key, build_response(event.request, 200))
        invite = self.layer.request_of(event.invite_key)
        if invite is not None:
            self.respond(event.invite_key, build_response(invite, 487, to_tag=self.new_id()))

    # ------------------------------------------------------------------ input

    def _on_message(self, message: Request | Response, source: Address, flow: Flow[Any]) -> None:
        if flow is not self.flow or self.target is None:
            return
        reliable = self.target.transport != "udp"
        try:
            events = self.layer.receive(message, self.now(), reliable=reliable)
        except SipParseError as exc:
            self._malformed(message, exc, source)
            return
        except RemoteProtocolError as exc:
            self.protocol_errors += 1
            log.info("SIP peer broke the transaction rules: %s", exc)
            return
        for event in events:
            if isinstance(event, RequestReceived | CancelReceived):
                self._sources[event.key] = source
        self._handle_events(events)
        self._flush()

    def _on_error(self, raw: bytes, error: ParseError, source: Address, flow: Flow[Any]) -> None:
        if flow is not self.flow:
            return
        if raw.lstrip(b"\r\n")[:4].upper() == b"SIP/":
            self._fail_by_branch(raw, f"malformed response: {error.reason}")
            return
        answer = _minimal_400(raw, error)
        if answer is not None and _well_formed(answer):
            self._send_raw(answer, source)

    def _malformed(
        self, message: Request | Response, error: SipParseError, source: Address
    ) -> None:
        if isinstance(message, Response):
            head = "\r\n".join(f"{n}: {v}" for n, v in message.headers if n == "Via")
            self._fail_by_branch(head.encode(), f"malformed response: {error.reason}")
            return
        if message.method == "ACK" or error.status_hint is None:
            return
        try:
            data = build_response(message, error.status_hint, _reason(error)).to_bytes()
        except (ParseError, LocalProtocolError) as exc:
            log.info("dropped a malformed request: %s", exc)
            return
        if _well_formed(data):
            self._send_raw(data, source)

    def _fail_by_branch(self, raw: bytes, error: str) -> None:
        match = _BRANCH_RE.search(raw)
        if match is None:
            return
        branch = match.group(1).decode("latin-1")
        for key in [k for k in self._pending if k.branch == branch]:
            pending = self._pending.pop(key)
            self.layer.transport_error(key, self.now())  # ends the transaction
            pending.callback(RequestOutcome(pending.request, None, error))
        self._rearm()

    def _handle_events(self, events: list[TransactionEvent]) -> None:
        for event in events:
            if isinstance(event, ResponseReceived):
                self._on_response(event.key, event.response)
            elif isinstance(event, RequestReceived):
                self._answer(event.key, event.request)
            elif isinstance(event, CancelReceived):
                self._on_cancel(event)
            elif isinstance(event, TransactionTimedOut | TransportFailed):
                pending = self._pending.pop(event.key, None)
                if pending is not None:
                    error = "timeout" if isinstance(event, TransactionTimedOut) else "transport"
                    pending.callback(RequestOutcome(pending.request, None, error))
            elif isinstance(event, TransactionTerminated):
                self._sources.pop(event.key, None)
            elif isinstance(event, AckReceived):
                handler = self._handlers.get("ACK")
                if handler is not None:
                    handler(event.request, server_key(event.request))

    # ------------------------------------------------------------------ output

    def _flush(self) -> None:
        for message in self.layer.messages_to_send():
            data = message.to_bytes()
            if isinstance(message, Request):
                self._send_request(message, data)
            else:
                self._send_raw(data, self._destination(message))
        self._rearm()

    def _send_request(self, request: Request, data: bytes) -> None:
        flow, target = self.flow, self.target
        try:
            if flow is None or target is None:
                raise NetworkError("not connected")
            flow.send(data, target.address)
        except NetworkError:
            key = client_key(request) if request.method != "ACK" else None
            if key is not None:
                self._handle_events(self.layer.transport_error(key, self.now()))

    def _send_raw(self, data: bytes, dest: Address | None) -> None:
        flow = self.flow
        if flow is None:
            return
        try:
            flow.send(data, dest if flow.transport == "udp" else None)
        except NetworkError as exc:
            log.info("could not send a response: %s", exc)

    def _destination(self, response: Response) -> Address | None:
        try:
            key = server_key(response)
        except ParseError:
            key = None
        source = self._sources.get(key) if key is not None else None
        if source is not None:
            return source
        return self.target.address if self.target is not None else None

    # ------------------------------------------------------------------ time

    def call_at(self, when: float, callback: Callable[[], None]) -> Scheduled:
        """Run ``callback`` at ``when`` (endpoint clock) from the endpoint's one timer."""
        self._next_token += 1
        self._scheduled[self._next_token] = (when, callback)
        self._rearm()
        return Scheduled(self, self._next_token, when)

    def _unschedule(self, token: int) -> None:
        if self._scheduled.pop(token, None) is not None:
            self._rearm()

    def next_deadline(self) -> float | None:
        """The earliest deadline of the transactions and the scheduled callbacks."""
        deadlines = [when for when, _ in self._scheduled.values()]
        layer = self.layer.next_deadline()
        if layer is not None:
            deadlines.append(layer)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        """Fire everything due at ``now``: transaction timers, then scheduled callbacks."""
        self._handle_events(self.layer.handle_timer(now))
        self._flush()
        due = sorted((when, token) for token, (when, _) in self._scheduled.items() if when <= now)
        for _, token in due:
            entry = self._scheduled.pop(token, None)
            if entry is not None:
                try:
                    entry[1]()
                except Exception:  # a service's bug must not stop the SIM's timer
                    log.exception("scheduled SIP callback failed")
        self._rearm()

    def _rearm(self) -> None:
        self._timer.rearm()


# --------------------------------------------------------------------------- helpers


def _escape_user(user: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.!~*'()&=+$,;?/" else f"%{ord(c):02X}" for c in user)


def _next_request(request: Request) -> Request:
    """A copy of ``request`` with the next CSeq and no Via (for a re-send with credentials)."""
    headers = Headers()
    for name, value in request.headers:
        if name == "Via":
            continue
        if name == "CSeq":
            value = f"{request.cseq.seq + 1} {request.method}"
        headers.add(name, value)
    return Request(request.method, request.uri, headers, request.body)


def _reason(error: ParseError) -> str:
    text = "".join(c if c.isprintable() else " " for c in error.reason)
    return f"Bad Request ({text[:80]})"


def _well_formed(data: bytes) -> bool:
    """Whether a response we built to a broken request can itself be read and routed (never
    send garbage back: one without a readable Via, or with control bytes, is dropped; the
    broken header it echoes is the peer's own)."""
    try:
        message = parse_message(data)
        message.vias  # noqa: B018 - the header a response is routed by
    except ParseError:
        return False
    return isinstance(message, Response)


def _minimal_400(raw: bytes, error: ParseError) -> bytes | None:
    """A 400 for a request the parser refused, when its mandatory headers can be read."""
    if error.status_hint is None:
        return None
    head = raw.lstrip(b"\r\n").split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].upper().startswith("SIP/") or parts[0] == "ACK":
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        if colon and key in _MANDATORY:
            found.setdefault(key, []).append(value.strip())
    if any(key not in found for key in _MANDATORY):
        return None
    status = error.status_hint if 400 <= error.status_hint < 600 else 400
    out = [f"SIP/2.0 {status} {_reason(error) if status == 400 else 'Bad Request'}"]
    for key, canonical in zip(_MANDATORY, ("Via", "From", "To", "Call-ID", "CSeq"), strict=True):
        out.extend(f"{canonical}: {value}" for value in found[key])
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1", "replace")


async def _open_flow(
    target: PcscfTarget,
    *,
    sink: Callable[..., None],
    on_error: Callable[..., None],
    trace: TraceRecorder | None,
    sim: int | None,
    owner: str | None,
    params: ImsParams,
) -> Flow[Any]:
    """Open a real UDP socket or TCP/TLS connection to ``target``."""
    common: dict[str, Any] = dict(
        parser=parse_message, sink=sink, on_error=on_error, trace=trace, sim=sim, owner=owner
    )
    if target.transport == "udp":
        return await open_udp(_local_host_for(target.address), 0, **common)
    tls: ssl.SSLContext | None = None
    if target.transport == "tls":
        tls = client_tls_context(verify=params.verify_tls, ca_file=params.ca_file)
    return await open_stream(
        target.address,
        tls=tls,
        server_hostname=target.name or target.address.host,
        framer_factory=StreamFramer,
        **common,
    )


def _local_host_for(remote: Address) -> str:
    """The local address that reaches ``remote`` (no packet is sent to find it)."""
    try:
        address = ipaddress.ip_address(remote.host)
    except ValueError:
        return "0.0.0.0"
    if address.is_loopback:
        return str(address)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((remote.host, remote.port))
            return str(probe.getsockname()[0])
        except OSError:
            return "::" if family == socket.AF_INET6 else "0.0.0.0"
