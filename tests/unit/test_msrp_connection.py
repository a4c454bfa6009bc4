"""MSRP connections and the listener: real loopback TCP between two connections, and one
connection fed from the wire corpus through a fake transport (timers by hand, no sleeps).

Corpus: ``tests/data/wire/msrp_connection`` (our session is
``msrp://127.0.0.1:40001/s3ss10nA;tcp``, the peer ``msrp://127.0.0.1:40002/p33rB;tcp``);
``broken/`` holds what a connection must survive.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.clock import FakeClock
from rcs_terminal.engine.msrp_connection import (
    MsrpConnection,
    SendOutcome,
    _TraceSplitter,
    new_session_id,
)
from rcs_terminal.engine.msrp_listener import MsrpListener
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import NetworkError
from rcs_terminal.protocol.msrp import MessageReceived, MsrpSession, parse_message
from rcs_terminal.protocol.msrp.uri import parse_uri

WIRE = Path(__file__).parents[1] / "data" / "wire" / "msrp_connection"
ME = parse_uri("msrp://127.0.0.1:40001/s3ss10nA;tcp")
PEER = parse_uri("msrp://127.0.0.1:40002/p33rB;tcp")
GOOD = sorted(p.name for p in WIRE.glob("*.msrp"))
BROKEN = sorted(p.name for p in (WIRE / "broken").glob("*.msrp"))


def wire(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def counter(prefix: str) -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers):06d}"


class ManualTimer:
    """Stands in for DeadlineTimer: tests call handle_timer themselves."""

    def __init__(self, next_deadline: Callable[[], float | None], on_expiry: Any) -> None:
        self.next_deadline = next_deadline

    def rearm(self) -> None:
        pass

    def cancel(self) -> None:
        pass


class FakeTransport:
    """What a connection uses of an asyncio transport; writes are kept."""

    def __init__(self, connection: MsrpConnection) -> None:
        self.connection = connection
        self.written: list[bytes] = []
        self.closing = False

    def get_extra_info(self, name: str) -> Any:
        return {"sockname": ("127.0.0.1", 40001), "peername": ("127.0.0.1", 40002)}.get(name)

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.connection.lost, None)

    def messages(self) -> list[Any]:
        return [parse_message(piece) for piece in _TraceSplitter().feed(b"".join(self.written))]


class Fed:
    """One connection fed by hand (see the module docstring)."""

    def __init__(self, **options: Any) -> None:
        self.clock = FakeClock()
        self.received: list[MessageReceived] = []
        self.closed: list[str] = []
        self.idle: list[bool] = []
        self.trace = TraceRecorder(clock=self.clock.now)
        session = MsrpSession(ME, PEER, id_source=counter("me"), **options)
        self.connection = MsrpConnection(
            session,
            trace=self.trace,
            sim=1,
            owner="alice",
            on_message=self.received.append,
            on_closed=self.closed.append,
            idle_timeout=180.0,
            on_idle=lambda: self.idle.append(True),
            clock=self.clock.now,
            timer_factory=ManualTimer,
        )
        self.transport = FakeTransport(self.connection)
        self.connection.attach(self.transport)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fed by hand


@pytest.mark.parametrize("name", GOOD)
async def test_corpus_requests_are_answered_200(name: str) -> None:
    fed = Fed()
    fed.connection.data(wire(name))
    answers = fed.transport.messages()
    assert answers and answers[0].status == 200
    assert str(answers[0].to_path[0]) == str(PEER)
    assert fed.connection.ready.done() and not fed.closed


async def test_message_and_success_report() -> None:
    fed = Fed()
    fed.connection.data(wire("cpim_single.msrp"))
    assert [e.message_id for e in fed.received] == ["msg00001"]
    assert fed.received[0].body.endswith("你好 MSRP".encode())
    response, report = fed.transport.messages()
    assert response.status == 200 and report.method == "REPORT"
    assert report.status.code == 200 and report.message_id == "msg00001"
    records = fed.trace.records(protocol="MSRP")
    assert [r.direction for r in records] == ["in", "out", "out"]
    assert records[0].first_line == "MSRP snd0001 SEND" and records[0].sim == 1


async def test_chunks_in_pieces_make_one_message() -> None:
    fed = Fed()
    data = wire("cpim_chunk1.msrp") + wire("cpim_chunk2.msrp")
    for start in range(0, len(data), 7):
        fed.connection.data(data[start : start + 7])
    assert [e.message_id for e in fed.received] == ["msg00002"]
    assert [m.status for m in fed.transport.messages()] == [200, 200]
    assert [r.first_line for r in fed.trace.records(protocol="MSRP", sim=1)] == [
        "MSRP chk0001 SEND",
        "MSRP chk0001 200 OK",
        "MSRP chk0002 SEND",
        "MSRP chk0002 200 OK",
    ]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("wrong_session.msrp", 481),
        ("unknown_method.msrp", 501),
        ("bad_byte_range.msrp", 400),
        ("no_message_id.msrp", 400),
    ],
)
async def test_broken_requests_get_an_error_and_the_connection_stays(
    name: str, status: int
) -> None:
    fed = Fed()
    fed.connection.data(wire("broken/" + name))
    assert [m.status for m in fed.transport.messages()] == [status]
    fed.connection.data(wire("text_plain.msrp"))
    assert [e.message_id for e in fed.received] == ["msg00004"]
    assert not fed.closed


async def test_not_msrp_closes_the_connection() -> None:
    fed = Fed()
    fed.connection.data(wire("broken/not_msrp.msrp"))
    await asyncio.sleep(0)
    assert fed.closed and fed.closed[0].startswith("not MSRP")
    assert fed.transport.closing


async def test_commit_holds_the_answer_back() -> None:
    fed = Fed()
    release = asyncio.Event()

    async def commit(event: MessageReceived) -> None:
        await release.wait()

    fed.connection.on_message = commit
    fed.connection.data(wire("cpim_single.msrp"))
    await asyncio.sleep(0)
    assert fed.transport.written == []  # not acknowledged before the commit
    release.set()
    for _ in range(3):
        await asyncio.sleep(0)
    first = fed.transport.messages()[0]
    assert first.status == 200


async def test_idle_deadline_follows_activity() -> None:
    fed = Fed()
    start = fed.clock.now()
    assert fed.connection.next_deadline() == start + 180
    fed.clock.advance(100)
    fed.connection.data(wire("text_plain.msrp"))
    assert fed.connection.next_deadline() == fed.clock.now() + 180
    fed.connection.handle_timer(fed.clock.advance(179))
    assert fed.idle == []
    fed.connection.handle_timer(fed.clock.advance(1))
    assert fed.idle == [True]
    fed.connection.handle_timer(fed.clock.advance(500))
    assert fed.idle == [True]  # once


async def test_unanswered_chunk_fails_with_408_at_the_transaction_timeout() -> None:
    fed = Fed(transaction_timeout=30.0)
    task = asyncio.ensure_future(fed.connection.send("message/cpim", b"x" * 5000))
    await asyncio.sleep(0)
    sends = fed.transport.messages()
    assert [m.byte_range.start for m in sends] == [1, 2049, 4097]
    assert fed.connection.next_deadline() == fed.clock.now() + 30
    fed.connection.handle_timer(fed.clock.advance(30))
    outcome = await task
    assert (outcome.status, outcome.ok) == (408, False)


async def test_connection_loss_fails_what_is_in_flight() -> None:
    fed = Fed()
    task = asyncio.ensure_future(fed.connection.send("message/cpim", b"hello"))
    await asyncio.sleep(0)
    fed.connection.lost(ConnectionResetError("reset by peer"))
    outcome = await task
    assert outcome.status == 408 and "reset by peer" in outcome.reason
    assert fed.closed == ["connection lost: reset by peer"]
    late = await fed.connection.send("message/cpim", b"again")
    assert late.status == 408 and not late.ok


async def test_ready_fails_when_closed_before_binding() -> None:
    fed = Fed()
    fed.connection.close("gave up")
    await asyncio.sleep(0)
    with pytest.raises(NetworkError, match="gave up"):
        await fed.connection.wait_ready(1.0)


# --------------------------------------------------------------------------- trace splitting


def test_trace_splitter_keeps_transactions_whole() -> None:
    data = b"".join(wire(name) for name in GOOD)
    pieces = _TraceSplitter().feed(data)
    assert pieces == [wire(name) for name in GOOD]


@given(st.lists(st.integers(min_value=1, max_value=200), max_size=40))
def test_trace_splitter_is_independent_of_read_sizes(sizes: list[int]) -> None:
    data = b"".join(wire(name) for name in GOOD)
    splitter = _TraceSplitter()
    pieces: list[bytes] = []
    position = 0
    for size in sizes:
        pieces += splitter.feed(data[position : position + size])
        position += size
    pieces += splitter.feed(data[position:])
    assert pieces == [wire(name) for name in GOOD]


@given(st.binary(max_size=600))
def test_trace_splitter_takes_any_bytes(data: bytes) -> None:
    pieces = _TraceSplitter().feed(data)
    assert b"".join(pieces) == data[: len(b"".join(pieces))]


def _mutations() -> st.SearchStrategy[bytes]:
    def mutate(name: str, seed: int, count: int) -> bytes:
        data = bytearray(wire(name))
        chooser = random.Random(seed)
        for _ in range(count):
            data[chooser.randrange(len(data))] = chooser.randrange(256)
        return bytes(data)

    return st.builds(
        mutate,
        st.sampled_from(GOOD + [f"broken/{n}" for n in BROKEN]),
        st.integers(0, 2**32),
        st.integers(0, 6),
    )


@given(st.lists(st.one_of(_mutations(), st.binary(max_size=300)), min_size=1, max_size=4))
def test_any_input_leaves_the_connection_working_or_closed(chunks: list[bytes]) -> None:
    async def run() -> None:
        fed = Fed()
        for chunk in chunks:
            fed.connection.data(chunk)
        await asyncio.sleep(0)
        for piece in fed.transport.written:
            assert piece.startswith(b"MSRP ")
        if not fed.closed:  # still usable (a mangled end-line may swallow what follows)
            fed.connection.data(wire("text_plain.msrp"))
            outcome = asyncio.ensure_future(fed.connection.send("message/cpim", b"ping"))
            await asyncio.sleep(0)
            assert fed.transport.written[-1].startswith(b"MSRP ")
            outcome.cancel()

    asyncio.run(run())


# --------------------------------------------------------------------------- real sockets


async def _pair(
    trace: TraceRecorder | None = None, **options: Any
) -> tuple[MsrpListener, MsrpConnection, MsrpConnection, list[MessageReceived]]:
    listener = MsrpListener("127.0.0.1")
    await listener.start()
    passive_uri = listener.uri(new_session_id())
    active_uri = parse_uri(f"msrp://127.0.0.1:9/{new_session_id()};tcp")
    received: list[MessageReceived] = []
    passive = MsrpConnection(
        MsrpSession(passive_uri, active_uri), trace=trace, on_message=received.append, **options
    )
    active = MsrpConnection(
        MsrpSession(active_uri, passive_uri), trace=trace, on_message=received.append, **options
    )
    listener.expect(passive)
    await active.connect(Address("127.0.0.1", passive_uri.effective_port), timeout=5)
    await passive.wait_ready(5)
    return listener, passive, active, received


async def test_two_connections_over_loopback_both_ways() -> None:
    trace = TraceRecorder()
    listener, passive, active, received = await _pair(trace)
    try:
        big = "长消息".encode() * 3000
        sent = await active.send("message/cpim", big, success_report=True)
        assert sent == SendOutcome(sent.message_id, 200, "OK") and sent.ok
        back = await passive.send("message/cpim", b"reply")
        assert back.ok
        assert [r.body for r in received] == [big, b"reply"]
        assert listener.expected == 0
        lines = [r.first_line for r in trace.records(protocol="MSRP")]
        assert sum(1 for line in lines if line.endswith(" SEND")) >= 2 * 5 + 1
        assert any(line.endswith(" REPORT") for line in lines)
    finally:
        active.close()
        await asyncio.wait_for(passive.closed, 5)
        await listener.close()
    assert (active.closed.result(), passive.closed.result()) == ("closed", "closed by the peer")


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connection = MsrpConnection(MsrpSession(ME, PEER))
    with pytest.raises(NetworkError, match="cannot connect MSRP"):
        await connection.connect(Address("127.0.0.1", port), timeout=5)


async def test_listener_closes_connections_nobody_expects() -> None:
    listener = MsrpListener("127.0.0.1")
    await listener.start()
    try:
        stranger = MsrpConnection(MsrpSession(PEER, listener.uri("nobody-here")))
        with pytest.raises(NetworkError):
            await stranger.connect(Address("127.0.0.1", listener.port or 0), timeout=5)
        await asyncio.wait_for(stranger.closed, 5)
    finally:
        await listener.close()


def parked_signal(listener: MsrpListener) -> asyncio.Event:
    """An event set once the listener has looked at a new connection."""
    event = asyncio.Event()
    claim = listener._claim

    def claimed(pending: Any) -> None:
        claim(pending)
        event.set()

    listener._claim = claimed  # type: ignore[method-assign]
    return event


async def test_listener_holds_an_early_connection_for_a_reserved_session() -> None:
    listener = MsrpListener("127.0.0.1")
    await listener.start()
    try:
        uri = listener.uri(new_session_id())
        listener.reserve(uri)
        parked = parked_signal(listener)
        early = MsrpConnection(MsrpSession(PEER, uri))
        connecting = asyncio.ensure_future(
            early.connect(Address("127.0.0.1", uri.effective_port), timeout=5)
        )
        await asyncio.wait_for(parked.wait(), 5)
        assert listener._parked and not connecting.done()
        late = MsrpConnection(MsrpSession(uri, PEER))
        listener.expect(late)
        await connecting
        await late.wait_ready(5)
        assert (await early.send("message/cpim", b"first")).ok
        late.close()
    finally:
        await listener.close()


async def test_released_reservation_drops_the_held_connection() -> None:
    listener = MsrpListener("127.0.0.1")
    await listener.start()
    try:
        uri = listener.uri(new_session_id())
        listener.reserve(uri)
        parked = parked_signal(listener)
        early = MsrpConnection(MsrpSession(PEER, uri))
        connecting = asyncio.ensure_future(
            early.connect(Address("127.0.0.1", uri.effective_port), timeout=5)
        )
        await asyncio.wait_for(parked.wait(), 5)
        listener.release(uri)
        with pytest.raises(NetworkError):
            await connecting
        assert listener.expected == 0
    finally:
        await listener.close()


async def test_listener_uri_needs_a_started_listener() -> None:
    listener = MsrpListener("127.0.0.1")
    with pytest.raises(NetworkError):
        listener.uri("abc")
    await listener.start()
    await listener.start()  # once
    uri = listener.uri("abc")
    assert uri.host == "127.0.0.1" and uri.port == listener.port and uri.session_id == "abc"
    await listener.close()
    assert listener.port is None
