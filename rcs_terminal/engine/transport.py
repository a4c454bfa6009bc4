"""asyncio transports: the only place where SIP bytes meet sockets.

A *flow* is one socket a SIP endpoint talks through: a UDP socket (which may send to any
peer), or a TCP/TLS connection (which talks to one peer; requests from that peer arrive on it
too, as RFC 5626 outbound and Kamailio's ``fix_nated_register`` expect). Flows only move
bytes: every datagram, or every message cut out of a stream by the protocol's framer, is
parsed by the injected parser and handed to the sink together with the flow it came from.
They record every message in the trace, and never interpret it.

Parse errors are handed to ``on_error`` with the raw bytes, so the endpoint can answer a
malformed request with 400 (RFC 3261 §21.4.1) when enough of it is readable; a framing error
on a stream closes that connection, as a stream cannot be re-synchronised.

TLS verifies certificates by default (:func:`client_tls_context`); a profile may name a CA
file or, for a lab, explicitly disable verification.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import NetworkError, ParseError

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Address:
    """A transport address (literal IP and port)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, default_port: int = 5060) -> Address:
        """Parse ``host``, ``host:port`` or ``[v6]:port``."""
        text = text.strip()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else default_port
            return cls(host, port)
        host, sep, port_text = text.rpartition(":")
        if sep and port_text.isdigit() and ":" not in host:
            return cls(host, int(port_text))
        return cls(text, default_port)


class Framer(Protocol[M]):
    """Cuts messages out of a byte stream (the protocol core's stream framers)."""

    def feed(self, data: bytes) -> list[M]: ...


class Sink(Protocol[M]):
    """Receives each parsed message with where it came from."""

    def __call__(self, message: M, source: Address, flow: Flow[M]) -> None: ...


ErrorSink = Callable[[bytes, ParseError, Address, "Flow[Any]"], None]


class Flow(Generic[M]):
    """One socket of an endpoint: UDP (any peer) or a TCP/TLS connection (one peer)."""

    transport: str = "udp"
    local: Address
    remote: Address | None = None

    def __init__(
        self,
        *,
        parser: Callable[[bytes], M],
        sink: Sink[M],
        on_error: ErrorSink,
        trace: TraceRecorder | None,
        protocol_name: str = "SIP",
        sim: int | None = None,
        owner: str | None = None,
    ) -> None:
        self._parser = parser
        self._sink = sink
        self._on_error = on_error
        self._trace = trace
        self._proto = protocol_name
        self.sim = sim
        self.owner = owner
        self.closed = asyncio.get_running_loop().create_future()

    def send(self, data: bytes, dest: Address | None = None) -> None:
        """Send ``data`` (to ``dest`` on UDP; streams ignore it)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the socket."""
        raise NotImplementedError

    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    def _record(self, direction: str, data: bytes, peer: Address | None) -> None:
        if self._trace is not None:
            self._trace.record(
                "in" if direction == "in" else "out",
                self._proto,  # type: ignore[arg-type]
                data,
                transport=self.transport,
                local=str(self.local),
                remote=str(peer) if peer else "?",
                sim=self.sim,
                owner=self.owner,
            )

    def _deliver(self, raw: bytes, source: Address) -> None:
        self._record("in", raw, source)
        try:
            message = self._parser(raw)
        except ParseError as exc:
            self._on_error(raw, exc, source, self)
            return
        self._sink(message, source, self)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, flow: UdpFlow[Any]) -> None:
        self.flow = flow

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if not data.strip(b"\r\n"):
            return  # keep-alive
        self.flow._deliver(data, Address(addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable etc.
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.flow.closed.done():
            self.flow.closed.set_result(None)


class UdpFlow(Flow[M]):
    """A UDP socket bound on a local address; sends to any peer."""

    transport = "udp"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._transport: asyncio.DatagramTransport | None = None

    async def _open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(host, port)
        )
        self._transport = transport
        sock = transport.get_extra_info("sockname")
        self.local = Address(sock[0], sock[1])

    def send(self, data: bytes, dest: Address | None = None) -> None:
        if dest is None:
            raise NetworkError("a UDP send needs a destination")
        if self._transport is None or self._transport.is_closing():
            raise NetworkError(f"UDP socket {self.local} is closed")
        self._record("out", data, dest)
        self._transport.sendto(data, (dest.host, dest.port))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, flow: StreamFlow[Any]) -> None:
        self.flow = flow

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.flow._attach(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.flow._data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.flow.closed.done():
            self.flow.closed.set_result(None)


class StreamFlow(Flow[M]):
    """A TCP or TLS connection; messages are cut out of the stream by the framer.

    The framer yields parsed messages; for the trace and for ``on_error`` the flow keeps the
    raw bytes by re-serialising what it delivers (``to_bytes()``), which for our parsers is
    byte-exact for well-formed input.
    """

    def __init__(
        self,
        *,
        framer_factory: Callable[[], Framer[M]],
        tls: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.transport = "tls" if tls else "tcp"
        self._framer = framer_factory()
        self._transport: asyncio.Transport | None = None

    def _attach(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        sock = transport.get_extra_info("sockname")
        peer = transport.get_extra_info("peername")
        self.local = Address(sock[0], sock[1])
        self.remote = Address(peer[0], peer[1])

    def _data(self, data: bytes) -> None:
        assert self.remote is not None
        try:
            messages = self._framer.feed(data)
        except ParseError as exc:
            self._record("in", data, self.remote)
            self._on_error(data, exc, self.remote, self)
            self.close()
            return
        pings = getattr(self._framer, "pings_received", 0)
        if pings and getattr(self, "_pongs", 0) < pings:
            # RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong.
            for _ in range(pings - getattr(self, "_pongs", 0)):
                self._write(b"\r\n")
            self._pongs = pings
        for message in messages:
            self._record("in", _raw(message), self.remote)
            self._sink(message, self.remote, self)

    def _write(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            raise NetworkError(f"{self.transport.upper()} connection to {self.remote} is closed")
        self._transport.write(data)

    def send(self, data: bytes, dest: Address | None = None) -> None:
        self._record("out", data, self.remote)
        self._write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _raw(message: object) -> bytes:
    to_bytes = getattr(message, "to_bytes", None)
    if callable(to_bytes):
        raw: bytes = to_bytes()
        return raw
    return b""


async def open_udp(host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> UdpFlow[Any]:
    """Bind a UDP flow on ``host:port`` (port 0 = any free port)."""
    flow: UdpFlow[Any] = UdpFlow(**kwargs)
    try:
        await flow._open(host, port)
    except OSError as exc:
        raise NetworkError(f"cannot bind UDP {host}:{port}: {exc.strerror or exc}") from exc
    return flow


async def open_stream(
    remote: Address,
    *,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    local_host: str | None = None,
    timeout: float = 10.0,
    **kwargs: Any,
) -> StreamFlow[Any]:
    """Connect a TCP (or, with ``tls``, TLS) flow to ``remote``."""
    loop = asyncio.get_running_loop()
    flow: StreamFlow[Any] = StreamFlow(tls=tls is not None, **kwargs)
    try:
        await asyncio.wait_for(
            loop.create_connection(
                lambda: _StreamProtocol(flow),
                remote.host,
                remote.port,
                ssl=tls,
                server_hostname=(server_hostname or remote.host) if tls else None,
                local_addr=(local_host, 0) if local_host else None,
            ),
            timeout,
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        kind = "TLS" if tls else "TCP"
        raise NetworkError(f"cannot connect {kind} to {remote}: {exc}") from exc
    return flow


async def serve_stream(
    host: str,
    port: int,
    *,
    flow_kwargs: Callable[[], dict[str, Any]],
    tls: ssl.SSLContext | None = None,
    on_connection: Callable[[StreamFlow[Any]], None] | None = None,
) -> asyncio.Server:
    """Listen for TCP/TLS connections; each one becomes a :class:`StreamFlow`."""
    loop = asyncio.get_running_loop()

    def factory() -> _StreamProtocol:
        flow: StreamFlow[Any] = StreamFlow(tls=tls is not None, **flow_kwargs())
        if on_connection is not None:
            on_connection(flow)
        return _StreamProtocol(flow)

    return await loop.create_server(factory, host, port, ssl=tls)


def client_tls_context(*, verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """A TLS client context: verification on unless a lab profile says otherwise."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
