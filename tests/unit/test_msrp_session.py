"""MSRP sessions: two sessions piping bytes to each other in memory, with a fake clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.clock import FakeClock
from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.msrp import (
    ByteRange,
    ChunkReceived,
    ConnectionBroken,
    MessageAborted,
    MessageReceived,
    MessageSendFailed,
    MessageSent,
    MsrpEvent,
    MsrpRequest,
    MsrpResponse,
    MsrpSession,
    ReportReceived,
    RequestRejected,
    StreamFramer,
    parse_message,
)
from rcs_terminal.protocol.msrp.session import TRANSACTION_TIMEOUT, random_ids
from rcs_terminal.protocol.msrp.uri import parse_uri

WIRE = Path(__file__).parent.parent / "data" / "wire" / "msrp"
ME = parse_uri("msrp://192.0.2.10:20000/a7Fq2kL9xZ;tcp")
BOT = parse_uri("msrp://198.51.100.20:20001/Pq9dWm3Rt0;tcp")


def counter(prefix: str) -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers):07d}"


class Pair:
    """Alice (ME) and the bot (BOT), with a wire between them that can be cut."""

    def __init__(self, **options: Any) -> None:
        self.clock = FakeClock()
        self.alice = MsrpSession(ME, [BOT], id_source=counter("a"), **options)
        self.bot = MsrpSession(BOT, ME, id_source=counter("b"), **options)
        self.alice_events: list[MsrpEvent] = []
        self.bot_events: list[MsrpEvent] = []
        self.to_bot: list[bytes] = []  # what alice wrote, kept for inspection

    @property
    def now(self) -> float:
        return self.clock.now()

    def pump(self, *, drop_to_bot: bool = False, drop_to_alice: bool = False) -> None:
        for _ in range(1000):
            a = self.alice.data_to_send(self.now)
            b = self.bot.data_to_send(self.now)
            self.alice_events += self.alice.next_events()
            self.bot_events += self.bot.next_events()
            if not a and not b:
                return
            if a:
                self.to_bot.append(a)
                if not drop_to_bot:
                    self.bot_events += self.bot.receive_data(a, self.now)
            if b and not drop_to_alice:
                self.alice_events += self.alice.receive_data(b, self.now)
        raise AssertionError("the sessions never went quiet")

    def of(self, kind: type, side: str = "bot") -> list[Any]:
        events = self.bot_events if side == "bot" else self.alice_events
        return [event for event in events if isinstance(event, kind)]


def test_text_message_with_success_report() -> None:
    pair = Pair()
    message_id = pair.alice.send_message(
        "message/cpim", b"hello bot", pair.now, success_report=True
    )
    pair.pump()
    (received,) = pair.of(MessageReceived)
    assert received == MessageReceived(message_id, "message/cpim", b"hello bot", received.headers)
    assert dict(received.headers)["Success-Report"] == "yes"
    assert pair.alice_events == [
        MessageSent(message_id),
        ReportReceived(message_id, 200, ByteRange(1, 9, 9), "OK"),
    ]
    assert pair.alice.next_deadline() is None and pair.bot.bound


def test_large_binary_message_in_chunks() -> None:
    pair = Pair()
    body = os.urandom(100 * 1024)
    message_id = pair.alice.send_message(
        "application/octet-stream", body, pair.now, success_report=True, chunk_size=4096
    )
    pair.pump()
    (received,) = pair.of(MessageReceived)
    assert received.body == body and received.message_id == message_id
    progress = pair.of(ChunkReceived)
    assert len(progress) == 24 and progress[-1] == ChunkReceived(message_id, 24 * 4096, len(body))
    assert pair.of(MessageSent, "alice") == [MessageSent(message_id)]
    (report,) = pair.of(ReportReceived, "alice")
    assert report.byte_range == ByteRange(1, len(body), len(body))


def test_messages_interleave_chunk_by_chunk_with_max_bytes() -> None:
    pair = Pair()
    big = pair.alice.send_message("application/octet-stream", b"B" * 20_000, pair.now)
    small = pair.alice.send_message("text/plain", b"quick", pair.now)
    first = pair.alice.data_to_send(pair.now, max_bytes=3000)
    framed = StreamFramer().feed(first)
    order = [m.message_id for m in framed if isinstance(m, MsrpRequest)]
    assert order == [big, small, big]  # round robin: the small one is not stuck behind
    pair.bot_events += pair.bot.receive_data(first, pair.now)
    pair.pump()
    assert [e.message_id for e in pair.of(MessageReceived)] == [small, big]


def test_empty_send_binds_the_connection() -> None:
    pair = Pair()
    message_id = pair.alice.send_empty(pair.now)
    assert not pair.bot.bound
    pair.pump()
    assert pair.bot.bound and pair.bot_events == []
    assert pair.alice_events == [MessageSent(message_id)]
    sent = parse_message(pair.to_bot[0])
    assert isinstance(sent, MsrpRequest) and not sent.has_body
    assert sent.byte_range == ByteRange(1, 0, 0)


def test_empty_send_from_the_corpus_gets_200_and_no_event() -> None:
    bot = MsrpSession(BOT, ME, id_source=counter("b"))
    assert bot.receive_data((WIRE / "send_empty.msrp").read_bytes(), 1.0) == []
    response = parse_message(bot.data_to_send())
    assert isinstance(response, MsrpResponse) and response.status == 200
    assert response.transaction_id == "bind0001"
    assert response.to_path == (ME,) and response.from_path == (BOT,)


def test_no_response_means_failure_after_the_transaction_timeout() -> None:
    pair = Pair()
    message_id = pair.alice.send_message("text/plain", b"anyone?", pair.now)
    pair.pump(drop_to_bot=True)
    deadline = pair.alice.next_deadline()
    assert deadline == pair.now + TRANSACTION_TIMEOUT
    pair.clock.advance(TRANSACTION_TIMEOUT - 1)
    assert pair.alice.handle_timer(pair.now) == []
    pair.clock.advance(1)
    (failed,) = pair.alice.handle_timer(pair.now)
    assert isinstance(failed, MessageSendFailed)
    assert (failed.message_id, failed.status) == (message_id, 408)
    assert pair.alice.next_deadline() is None
    assert pair.alice.handle_timer(pair.now + 100) == []


def test_timeout_is_configurable() -> None:
    pair = Pair(transaction_timeout=5.0)
    pair.alice.send_message("text/plain", b"x", pair.now)
    pair.pump(drop_to_bot=True)
    assert pair.alice.next_deadline() == pair.now + 5.0


def test_error_response_fails_the_message_and_stops_its_chunks() -> None:
    pair = Pair(max_size=5000)
    message_id = pair.alice.send_message(
        "application/octet-stream", b"z" * 20_000, pair.now, chunk_size=1000
    )
    first = pair.alice.data_to_send(pair.now, max_bytes=1)
    pair.bot_events += pair.bot.receive_data(first, pair.now)
    pair.alice_events += pair.alice.receive_data(pair.bot.data_to_send(pair.now), pair.now)
    (failed,) = pair.alice_events
    assert failed == MessageSendFailed(message_id, 413, "Stop Sending Message")
    assert pair.alice.data_to_send(pair.now) == b""
    assert pair.of(RequestRejected)[0].status == 413
    assert pair.alice.next_deadline() is None


def test_wrong_to_path_gets_481() -> None:
    stranger = MsrpSession(
        ME, parse_uri("msrp://198.51.100.20:20001/OTHER;tcp"), id_source=counter("s")
    )
    bot = MsrpSession(BOT, ME, id_source=counter("b"))
    message_id = stranger.send_message("text/plain", b"hi", 0.0)
    events = bot.receive_data(stranger.data_to_send(0.0), 0.0)
    assert [type(e) for e in events] == [RequestRejected]
    assert not bot.bound
    assert stranger.receive_data(bot.data_to_send(), 0.0) == [
        MessageSendFailed(message_id, 481, "Session Does Not Exist")
    ]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("send_unknown_method.msrp", 501),
        ("broken/bad_byte_range.msrp", 400),
        ("broken/missing_to_path.msrp", 400),
        ("broken/header_without_colon.msrp", 400),
        ("broken/bad_to_path_uri.msrp", 400),
    ],
)
def test_bad_requests_are_answered(name: str, status: int) -> None:
    bot = MsrpSession(BOT, ME, id_source=counter("b"))
    raw = (WIRE / name).read_bytes()
    (event,) = bot.receive_data(raw, 0.0)
    assert isinstance(event, RequestRejected) and event.status == status
    response = parse_message(bot.data_to_send())
    assert isinstance(response, MsrpResponse) and response.status == status
    assert response.transaction_id == raw.split()[1].decode()


def test_unacceptable_content_type_gets_415() -> None:
    pair = Pair(accept_types=["message/cpim", "application/*"])
    bad = pair.alice.send_message("text/plain", b"plain", pair.now)
    good = pair.alice.send_message("application/im-iscomposing+xml", b"<x/>", pair.now)
    pair.pump()
    assert [e.message_id for e in pair.of(MessageReceived)] == [good]
    assert pair.of(MessageSendFailed, "alice") == [
        MessageSendFailed(bad, 415, "Unsupported Media Type")
    ]


def test_failure_report_no_gets_no_response() -> None:
    pair = Pair()
    message_id = pair.alice.send_message(
        "text/plain", b"fire and forget", pair.now, failure_report="no"
    )
    pair.pump()
    assert pair.alice_events == [MessageSent(message_id)]
    assert pair.of(MessageReceived)[0].body == b"fire and forget"
    assert pair.alice.next_deadline() is None


def test_failure_report_partial_reports_errors_only() -> None:
    pair = Pair(max_size=10)
    ok = pair.alice.send_message("text/plain", b"short", pair.now, failure_report="partial")
    too_big = pair.alice.send_message(
        "text/plain", b"much too long", pair.now, failure_report="partial"
    )
    pair.pump()
    assert pair.alice_events == [
        MessageSent(ok),
        MessageSent(too_big),
        MessageSendFailed(too_big, 413, "Stop Sending Message"),
    ]
    assert pair.alice.next_deadline() is not None  # ``ok`` may still get an error
    pair.clock.advance(TRANSACTION_TIMEOUT)
    assert pair.alice.handle_timer(pair.now) == []
    assert pair.alice.next_deadline() is None


def test_cancel_sends_an_abort_chunk() -> None:
    pair = Pair()
    message_id = pair.alice.send_message(
        "application/octet-stream", b"q" * 10_000, pair.now, chunk_size=1000
    )
    first = pair.alice.data_to_send(pair.now, max_bytes=1)
    pair.bot_events += pair.bot.receive_data(first, pair.now)
    pair.alice.cancel_message(message_id)
    pair.alice.cancel_message(message_id)  # twice is harmless
    pair.pump()
    assert pair.of(MessageAborted) == [MessageAborted(message_id, 1000)]
    assert pair.of(MessageReceived) == [] and pair.alice_events == []
    assert pair.alice.next_deadline() is None


def test_corpus_abort_and_reports_reach_the_events() -> None:
    alice = MsrpSession(ME, BOT, id_source=counter("a"))
    events = alice.receive_data((WIRE / "report_failure.msrp").read_bytes(), 0.0)
    assert events == [ReportReceived("12339sdqwer", 408, ByteRange(1, 100, 106), "Request Timeout")]
    assert alice.data_to_send() == b""  # REPORTs are never answered
    assert alice.receive_data((WIRE / "broken/bad_report_status.msrp").read_bytes(), 0.0) == []
    bot = MsrpSession(BOT, ME, id_source=counter("b"))
    events = bot.receive_data((WIRE / "send_aborted.msrp").read_bytes(), 0.0)
    assert events == [MessageAborted("chunked0002", 0)]


def test_duplicate_chunk_is_acknowledged_but_not_delivered_twice() -> None:
    bot = MsrpSession(BOT, ME, id_source=counter("b"))
    raw = (WIRE / "send_single.msrp").read_bytes()
    assert len(bot.receive_data(raw, 0.0)) == 1
    assert bot.receive_data(raw, 0.0) == []
    framed = StreamFramer().feed(bot.data_to_send())
    statuses = [m.status for m in framed if isinstance(m, MsrpResponse)]
    assert statuses == [200, 200]
    assert sum(isinstance(m, MsrpRequest) and m.method == "REPORT" for m in framed) == 1


def test_garbage_breaks_the_connection() -> None:
    bot = MsrpSession(BOT, ME, id_source=counter("b"))
    events = bot.receive_data(b"GET / HTTP/1.1\r\n\r\n", 0.0)
    assert len(events) == 1 and isinstance(events[0], ConnectionBroken)
    assert bot.receive_data((WIRE / "send_single.msrp").read_bytes(), 0.0) == []


def test_connection_lost_fails_everything_in_flight() -> None:
    pair = Pair()
    first = pair.alice.send_message("text/plain", b"one", pair.now)
    pair.alice.data_to_send(pair.now)
    second = pair.alice.send_message("text/plain", b"two", pair.now)
    assert pair.alice.connection_lost() == [
        MessageSendFailed(first, 408, "connection lost"),
        MessageSendFailed(second, 408, "connection lost"),
    ]
    assert pair.alice.data_to_send() == b"" and pair.alice.next_deadline() is None
    with pytest.raises(LocalProtocolError):
        pair.alice.send_message("text/plain", b"three", pair.now)


def test_local_misuse_is_refused() -> None:
    session = MsrpSession(ME, BOT, id_source=counter("a"))
    with pytest.raises(LocalProtocolError):
        session.send_message("text/plain", b"x", 0.0, failure_report="sometimes")
    with pytest.raises(LocalProtocolError):
        session.send_message("", b"x", 0.0)
    with pytest.raises(LocalProtocolError):
        session.send_message("text/plain", b"x", 0.0, message_id="no")
    with pytest.raises(LocalProtocolError):
        MsrpSession(ME, [], id_source=counter("a"))
    bad_ids = MsrpSession(ME, BOT, id_source=lambda: "x")
    with pytest.raises(LocalProtocolError):
        bad_ids.send_empty(0.0)


def test_default_ids_are_64_random_bits() -> None:
    first, second = random_ids(), random_ids()
    assert len(first) == 16 and first != second
    int(first, 16)


def test_relay_path_and_response_addressing() -> None:
    relay = parse_uri("msrp://relay.rcs.test:2855/r1;tcp")
    alice = MsrpSession([relay, ME], [relay, BOT], id_source=counter("a"))
    alice.send_message("text/plain", b"via relay", 0.0)
    (sent,) = StreamFramer().feed(alice.data_to_send(0.0))
    assert isinstance(sent, MsrpRequest)
    assert sent.to_path == (relay, BOT) and sent.from_path == (ME,)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    session = MsrpSession(BOT, ME, id_source=counter("b"))
    session.receive_data(data, 0.0)
    session.data_to_send()


@given(st.sampled_from(sorted(WIRE.rglob("*.msrp"))), st.integers(0, 2000), st.binary(max_size=8))
def test_mutated_corpus_never_raises(path: Path, at: int, junk: bytes) -> None:
    raw = path.read_bytes()
    at %= len(raw) + 1
    session = MsrpSession(BOT, ME, id_source=counter("b"))
    session.receive_data(raw[:at] + junk + raw[at + len(junk) :], 0.0)
    session.data_to_send()
