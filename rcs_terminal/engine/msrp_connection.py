"""MSRP on the wire: one sans-I/O session on one TCP (or TLS) connection (RFC 4975 §5.4,
§6; RFC 6135 connection roles).

The protocol work is :class:`~rcs_terminal.protocol.msrp.session.MsrpSession`'s; a
:class:`MsrpConnection` only moves its bytes, h11 style: what the socket reads goes to
``receive_data``, ``data_to_send`` goes to the socket after every interaction, and one
:class:`~rcs_terminal.engine.timers.DeadlineTimer` follows the earliest of the session's
transaction deadline and the idle deadline (TimerIdle of UP chat, driven by the timer, never
by a sleep). Every MSRP message in or out is recorded in the trace (protocol ``MSRP``), one
record per transaction.

Which side connects is settled in SDP (RFC 6135): the *active* side opens the connection
(:meth:`MsrpConnection.connect`) and binds it to the session with a bodiless SEND, answered
200; the *passive* side has put the address of its SIM's
:class:`~rcs_terminal.engine.msrp_listener.MsrpListener` in its ``a=path`` and waits
(:meth:`MsrpConnection.wait_ready`) until the listener hands it the peer's connection.

Received messages are committed before they are acknowledged: while the ``on_message``
callback of a connection runs (the messaging service storing the CPIM message), nothing is
written, so the 200 of the last chunk and any success REPORT leave after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from rcs_terminal.engine.timers import DeadlineTimer
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import MsrpParseError, NetworkError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp import (
    ConnectionBroken,
    MessageReceived,
    MessageSendFailed,
    MessageSent,
    MsrpEvent,
    MsrpSession,
    ReportReceived,
    RequestRejected,
)
from rcs_terminal.protocol.msrp.message import find_end_line, parse_start_line

__all__ = ["MsrpConnection", "SendOutcome", "StreamProtocol", "new_session_id"]

log = logging.getLogger(__name__)

MessageHandler = Callable[[MessageReceived], "Awaitable[None] | None"]
"""Takes a received message; an awaitable result holds the connection's output until done."""


class TimerLike(Protocol):
    """What a connection needs from its timer: follow the deadline, stop."""

    def rearm(self) -> None: ...

    def cancel(self) -> None: ...


TimerFactory = Callable[[Callable[[], "float | None"], Callable[[float], None]], TimerLike]


def new_session_id() -> str:
    """A fresh MSRP session-id: 80 random bits, URL-safe (RFC 4975 §14.1 wants them
    unguessable)."""
    return secrets.token_urlsafe(10)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """How one message we sent over MSRP ended.

    Attributes:
        message_id: its MSRP Message-ID.
        status: 200 when every chunk (and the success REPORT, if asked for) came back 200;
            the error status otherwise (408 for a timeout or a lost connection).
        reason: the response comment or what went wrong.
    """

    message_id: str
    status: int
    reason: str

    @property
    def ok(self) -> bool:
        """Whether the peer took the message."""
        return self.status == 200


class StreamProtocol(asyncio.Protocol):
    """Hands the socket's callbacks to whoever owns the connection right now."""

    def __init__(self, owner: _Owner) -> None:
        self.owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.owner.attach(transport, self)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.owner.data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.lost(exc)

    def pause_writing(self) -> None:
        self.owner.pause(True)

    def resume_writing(self) -> None:
        self.owner.pause(False)


class _Owner(Protocol):
    def attach(self, transport: asyncio.Transport, protocol: StreamProtocol) -> None: ...

    def data(self, data: bytes) -> None: ...

    def lost(self, exc: Exception | None) -> None: ...

    def pause(self, paused: bool) -> None: ...


class _TraceSplitter:
    """Cuts bytes into whole MSRP transactions for the trace (one record each); bytes that
    are not MSRP are passed on as they are."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while self._buf:
            line_end = self._buf.find(b"\r\n")
            if line_end < 0:
                break
            try:
                start = parse_start_line(self._buf[:line_end])
            except MsrpParseError:
                out.append(bytes(self._buf))
                self._buf.clear()
                break
            pattern = start.end_line_pattern
            end_at = find_end_line(self._buf, pattern, line_end)
            if end_at < 0:
                if len(self._buf) > limits.MAX_MSRP_MESSAGE:
                    out.append(bytes(self._buf))
                    self._buf.clear()
                break
            end = end_at + len(pattern) + 3
            out.append(bytes(self._buf[:end]))
            del self._buf[:end]
        return out


class MsrpConnection:
    """One MSRP session over one stream connection (see the module docstring).

    Args:
        session: the session; its ``local_uri`` is how a listener recognises the connection.
        trace: where every MSRP message is recorded.
        sim: the SIM slot written in trace records.
        owner: the owner written in trace records (the profile name).
        on_message: called with every complete message received.
        on_closed: called once with the reason when the connection is gone.
        idle_timeout: seconds without a SEND either way after which ``on_idle`` runs.
        on_idle: called once when the idle deadline passes.
        clock: the time source (the loop's ``time()`` by default).
        timer_factory: builds the timer following :meth:`next_deadline` (tests inject one).
    """

    def __init__(
        self,
        session: MsrpSession,
        *,
        trace: TraceRecorder | None = None,
        sim: int | None = None,
        owner: str | None = None,
        on_message: MessageHandler | None = None,
        on_closed: Callable[[str], None] | None = None,
        idle_timeout: float | None = None,
        on_idle: Callable[[], None] | None = None,
        clock: Callable[[], float] | None = None,
        timer_factory: TimerFactory = DeadlineTimer,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.session = session
        self.trace = trace
        self.sim = sim
        self.owner = owner
        self.on_message = on_message
        self.on_closed = on_closed
        self.idle_timeout = idle_timeout
        self.on_idle = on_idle
        self._clock = clock or loop.time
        self._timer = timer_factory(self.next_deadline, self.handle_timer)
        self._transport: asyncio.Transport | None = None
        self.local: Address | None = None
        self.remote: Address | None = None
        self.tls = False
        self.ready: asyncio.Future[None] = loop.create_future()
        """Done once the connection is bound to the session (or failed: see ``closed``)."""
        self.closed: asyncio.Future[str] = loop.create_future()
        """Done, with the reason, once the connection is closed."""
        self._waiters: dict[str, asyncio.Future[SendOutcome]] = {}
        self._want_report: set[str] = set()
        self._bind_id: str | None = None
        self._holds = 0
        self._paused = False
        self._last_activity = self._clock()
        self._splitter = _TraceSplitter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._close_reason: str | None = None
        self._gone = False

    # ------------------------------------------------------------------ connecting

    async def connect(
        self,
        remote: Address,
        *,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Open the connection (the active role), bind it with a bodiless SEND and wait for
        its 200.

        Raises:
            NetworkError: the connection cannot be opened, or the binding SEND failed or
                was not answered within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: StreamProtocol(self),
                    remote.host,
                    remote.port,
                    ssl=tls,
                    server_hostname=(server_hostname or remote.host) if tls else None,
                ),
                timeout,
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            kind = "TLS" if tls else "TCP"
            raise NetworkError(f"cannot connect MSRP over {kind} to {remote}: {exc}") from exc
        self._bind_id = self.session.send_empty(self._clock())
        self.flush()
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the connection is bound to the session: the 200 to our binding SEND
        (active side), or the peer's first request (passive side).

        Raises:
            NetworkError: it was not bound within ``timeout`` seconds, or failed.
        """
        try:
            await asyncio.wait_for(asyncio.shield(self.ready), timeout)
        except TimeoutError:
            self.close("no MSRP connection in time")
            raise NetworkError(f"no MSRP connection within {timeout:g} s") from None

    def attach(self, transport: asyncio.Transport, protocol: StreamProtocol | None = None) -> None:
        """Take the socket (from ``connect`` or from a listener)."""
        self._transport = transport
        sock = transport.get_extra_info("sockname")
        peer = transport.get_extra_info("peername")
        self.tls = transport.get_extra_info("sslcontext") is not None
        if sock is not None:
            self.local = Address(str(sock[0]), int(sock[1]))
        if peer is not None:
            self.remote = Address(str(peer[0]), int(peer[1]))
        self._rearm()

    @property
    def is_connected(self) -> bool:
        """Whether the socket is open."""
        return self._transport is not None and not self.closed.done()

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        content_type: str,
        body: bytes,
        *,
        success_report: bool = False,
        message_id: str | None = None,
    ) -> SendOutcome:
        """Send one message and wait until every chunk is answered (and, with
        ``success_report``, until the peer's REPORT arrives).

        Returns:
            The outcome; a lost connection or an unanswered chunk gives status 408.
        """
        if self.closed.done():
            why = f"MSRP connection closed ({self.closed.result()})"
            return SendOutcome(message_id or "", 408, why)
        message_id = self.session.send_message(
            content_type,
            body,
            self._clock(),
            success_report=success_report,
            message_id=message_id,
        )
        waiter: asyncio.Future[SendOutcome] = asyncio.get_running_loop().create_future()
        self._waiters[message_id] = waiter
        if success_report:
            self._want_report.add(message_id)
        self._last_activity = self._clock()
        self.flush()
        return await waiter

    def flush(self) -> None:
        """Write what the session has to send (unless a received message is being
        committed) and handle what that caused."""
        if self._holds or self._transport is None or self._transport.is_closing():
            self._rearm()
            return
        data = self.session.data_to_send(self._clock(), 0 if self._paused else None)
        if data:
            self._record("out", data)
            self._transport.write(data)
        self._handle(self.session.next_events())
        self._rearm()

    def pause(self, paused: bool) -> None:
        """The socket's buffer is full (or drained again): hold chunks back meanwhile."""
        self._paused = paused
        if not paused:
            self.flush()

    # ------------------------------------------------------------------ receiving

    def data(self, data: bytes) -> None:
        """Bytes from the socket."""
        self._record("in", data)
        self._handle(self.session.receive_data(data, self._clock()))
        if self.session.bound and not self.ready.done():
            self.ready.set_result(None)
        self.flush()

    def _handle(self, events: list[MsrpEvent]) -> None:
        for event in events:
            if isinstance(event, MessageReceived):
                self._last_activity = self._clock()
                self._deliver(event)
            elif isinstance(event, MessageSent):
                if event.message_id == self._bind_id:
                    if not self.ready.done():
                        self.ready.set_result(None)
                elif event.message_id not in self._want_report:
                    self._finish(event.message_id, 200, "OK")
            elif isinstance(event, MessageSendFailed):
                if event.message_id == self._bind_id and not self.ready.done():
                    self.close(f"binding SEND refused: {event.status} {event.reason}")
                self._want_report.discard(event.message_id)
                self._finish(event.message_id, event.status, event.reason)
            elif isinstance(event, ReportReceived):
                if event.message_id in self._want_report:
                    self._want_report.discard(event.message_id)
                    self._finish(event.message_id, event.status, event.reason or "")
            elif isinstance(event, RequestRejected):
                log.info("MSRP %s rejected with %s: %s", event.method, event.status, event.reason)
            elif isinstance(event, ConnectionBroken):
                self.close(f"not MSRP: {event.reason}")
            else:
                self._last_activity = self._clock()  # ChunkReceived, MessageAborted

    def _deliver(self, event: MessageReceived) -> None:
        if self.on_message is None:
            return
        result = self.on_message(event)
        if result is None:
            return
        self._holds += 1

        async def commit() -> None:
            try:
                await result
            except Exception:
                log.exception("handling a received MSRP message failed")
            finally:
                self._holds -= 1
                self.flush()

        task = asyncio.get_running_loop().create_task(commit())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self, message_id: str, status: int, reason: str) -> None:
        waiter = self._waiters.pop(message_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(SendOutcome(message_id, status, reason))

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        """The earliest of the session's transaction deadline and the idle deadline."""
        deadlines = []
        session = self.session.next_deadline()
        if session is not None:
            deadlines.append(session)
        if self.idle_timeout is not None and self.on_idle is not None and not self.closed.done():
            deadlines.append(self._last_activity + self.idle_timeout)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        """Expire overdue transactions; run ``on_idle`` once the idle deadline passed."""
        self._handle(self.session.handle_timer(now))
        if (
            self.idle_timeout is not None
            and self.on_idle is not None
            and now >= self._last_activity + self.idle_timeout
            and not self._waiters
        ):
            on_idle, self.on_idle = self.on_idle, None
            on_idle()
        self.flush()

    def _rearm(self) -> None:
        if self.closed.done():
            self._timer.cancel()
        else:
            self._timer.rearm()

    # ------------------------------------------------------------------ closing

    def close(self, reason: str = "closed") -> None:
        """Close the connection; unfinished sends end with 408."""
        if self._gone:
            return
        self._close_reason = reason
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.close()  # lost() follows from the loop
        else:
            self.lost(None)

    def lost(self, exc: Exception | None) -> None:
        """The socket is gone: fail what is unfinished, tell the owner."""
        if self._gone:
            return
        self._gone = True
        if self._close_reason is not None:
            reason = self._close_reason
        else:
            reason = "closed by the peer" if exc is None else f"connection lost: {exc}"
        self._transport = None
        for message_id in list(self._waiters):
            self._finish(message_id, 408, f"MSRP connection lost ({reason})")
        self._handle(self.session.connection_lost())
        self.closed.set_result(reason)
        if not self.ready.done():
            self.ready.set_exception(NetworkError(f"MSRP connection closed: {reason}"))
            self.ready.exception()  # retrieved: nobody may be waiting
        self._timer.cancel()
        if self.on_closed is not None:
            self.on_closed(reason)

    # ------------------------------------------------------------------ trace

    def _record(self, direction: str, data: bytes) -> None:
        if self.trace is None:
            return
        pieces = self._splitter.feed(data) if direction == "in" else _TraceSplitter().feed(data)
        for piece in pieces:
            self.trace.record(
                "in" if direction == "in" else "out",
                "MSRP",
                piece,
                transport="tls" if self.tls else "tcp",
                local=str(self.local) if self.local else "?",
                remote=str(self.remote) if self.remote else "?",
                sim=self.sim,
                owner=self.owner,
            )
