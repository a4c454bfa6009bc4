"""The asyncio flows over real loopback sockets, with a toy line protocol as the parser."""

from __future__ import annotations

import asyncio
from typing import Any

from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import (
    Address,
    Flow,
    open_stream,
    open_udp,
    serve_stream,
)
from rcs_terminal.errors import ParseError, SipParseError


def parse_line(data: bytes) -> bytes:
    if data.startswith(b"BAD"):
        raise SipParseError("bad line")
    return data


class LineFramer:
    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        if any(line.startswith(b"BAD") for line in lines):
            raise SipParseError("bad line in stream")
        return lines


def test_address_parse() -> None:
    assert Address.parse("127.0.0.1:5060") == Address("127.0.0.1", 5060)
    assert Address.parse("[::1]:5070") == Address("::1", 5070)
    assert Address.parse("rcs.test") == Address("rcs.test", 5060)
    assert str(Address("::1", 5)) == "[::1]:5"


async def test_udp_flows_exchange_and_trace() -> None:
    got: asyncio.Queue[tuple[Any, Address]] = asyncio.Queue()
    errors: list[ParseError] = []
    trace = TraceRecorder()

    def sink(msg: Any, src: Address, flow: Flow[Any]) -> None:
        got.put_nowait((msg, src))

    kwargs: dict[str, Any] = dict(parser=parse_line, sink=sink,
                                  on_error=lambda raw, e, s, f: errors.append(e), trace=trace)
    a = await open_udp(**kwargs)
    b = await open_udp(**kwargs)
    a.send(b"hello", b.local)
    msg, src = await asyncio.wait_for(got.get(), 5)
    assert msg == b"hello" and src == a.local
    a.send(b"BAD one", b.local)
    a.send(b"after", b.local)
    msg, _ = await asyncio.wait_for(got.get(), 5)
    assert msg == b"after" and len(errors) == 1
    assert [r.direction for r in trace.records()][:2] == ["out", "in"]
    a.close()
    b.close()


async def test_stream_server_and_client() -> None:
    server_got: asyncio.Queue[bytes] = asyncio.Queue()
    client_got: asyncio.Queue[bytes] = asyncio.Queue()
    server_flows: list[Flow[Any]] = []

    def server_sink(msg: Any, src: Address, flow: Flow[Any]) -> None:
        server_got.put_nowait(msg)
        flow.send(b"echo " + msg + b"\n")

    server = await serve_stream(
        "127.0.0.1", 0,
        flow_kwargs=lambda: dict(parser=parse_line, sink=server_sink,
                                 on_error=lambda *a: None, trace=None,
                                 framer_factory=LineFramer),
        on_connection=server_flows.append,
    )
    port = server.sockets[0].getsockname()[1]
    client = await open_stream(
        Address("127.0.0.1", port), parser=parse_line,
        sink=lambda m, s, f: client_got.put_nowait(m), on_error=lambda *a: None, trace=None,
        framer_factory=LineFramer)
    client.send(b"one\ntw")
    client.send(b"o\n")
    assert await asyncio.wait_for(server_got.get(), 5) == b"one"
    assert await asyncio.wait_for(server_got.get(), 5) == b"two"
    assert await asyncio.wait_for(client_got.get(), 5) == b"echo one"
    # a framing error closes that connection only
    client.send(b"BAD\n")
    await asyncio.wait_for(server_flows[0].closed, 5)
    await asyncio.wait_for(client.closed, 5)
    server.close()
    await server.wait_closed()
