"""pjsip's log entries read back into SIP messages and routed to the SIMs' traces.

The corpus (``tests/data/wire/pjsip/log``) holds real entries written by pjsip 2.15.1
(pjsua2-python) against the loopback Kamailio, and broken look-alikes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.pjsip.log import (
    LoggedSipMessage,
    LogRouter,
    TraceSink,
    our_identity,
    parse_log_entry,
)
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.protocol.sip import Request, Response, parse_message

DATA = Path(__file__).parent.parent / "data" / "wire" / "pjsip" / "log"
GOOD = sorted(p for p in DATA.glob("*.log") if p.name != "11_not_sip.log")
BROKEN = sorted((DATA / "broken").glob("*.log"))


def entry(path: Path) -> str:
    """A corpus file as the log writer hands it over (UTF-8, surrogateescape)."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


def as_entry(message: LoggedSipMessage) -> str:
    """Write a message the way pjsip logs it (``decor=0``)."""
    verb, word = ("TX", "to") if message.direction == "out" else ("RX", "from")
    text = message.data.decode("utf-8", "surrogateescape")
    return (
        f"{verb} {len(message.data)} bytes Request msg X/cseq=1 (tdta0x1) {word} "
        f"{message.transport.upper()} {message.remote}:\n{text}\n--end msg--"
    )


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_corpus_entries_give_the_exact_message(path: Path) -> None:
    text = entry(path)
    message = parse_log_entry(text)
    assert message is not None
    declared = int(text.split(" ", 2)[1])
    assert len(message.data) == declared
    assert message.direction == ("out" if text.startswith("TX") else "in")
    assert message.remote.startswith("127.0.0.1:")
    parsed = parse_message(message.data)
    assert parsed.to_bytes().split(b"\r\n", 1)[0] == message.data.split(b"\r\n", 1)[0]
    assert len(parsed.body) == int((parsed.headers.get("Content-Length") or "0").strip())


def test_transports_and_directions() -> None:
    tcp = parse_log_entry(entry(DATA / "10_tcp_tx_register.log"))
    rx = parse_log_entry(entry(DATA / "05_rx_options_407.log"))
    assert tcp is not None and (tcp.transport, tcp.direction) == ("tcp", "out")
    assert rx is not None and (rx.transport, rx.direction) == ("udp", "in")
    assert rx.data.startswith(b"SIP/2.0 407 ")


@pytest.mark.parametrize("path", [*BROKEN, DATA / "11_not_sip.log"], ids=lambda p: p.name)
def test_broken_and_ordinary_entries_are_lines(path: Path) -> None:
    assert parse_log_entry(entry(path)) is None


def test_not_utf8_body_comes_back_byte_exact() -> None:
    data = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\n\xff\x00\xfe"
    message = LoggedSipMessage("in", "udp", "127.0.0.1:5060", data)
    assert parse_log_entry(as_entry(message)) == message


@pytest.mark.parametrize(
    ("name", "identity"),
    [
        ("01_tx_register_initial.log", "sip:alice@rcs.test"),  # our request: From
        ("05_rx_options_407.log", "sip:alice@rcs.test"),  # answer to our request: From
        ("06_rx_options_forwarded.log", "sip:bob@rcs.test"),  # request to us: To
        ("07_tx_options_200_pjsua.log", "sip:bob@rcs.test"),  # our answer: To
        ("09_rx_message_imdn.log", "sip:alice@rcs.test"),
    ],
)
def test_our_identity(name: str, identity: str) -> None:
    message = parse_log_entry(entry(DATA / name))
    assert message is not None and our_identity(message) == identity


def test_our_identity_of_garbage_is_none() -> None:
    assert our_identity(LoggedSipMessage("in", "udp", "x", b"not sip at all")) is None


def router_with_two_sims() -> tuple[LogRouter, TraceRecorder, TraceRecorder]:
    router = LogRouter()
    alice, bob = TraceRecorder(clock=lambda: 1.0), TraceRecorder(clock=lambda: 1.0)
    router.attach("sip:alice@rcs.test", TraceSink(alice, 1, "alice", "127.0.0.1:4001"))
    router.attach("<sip:bob@rcs.test>", TraceSink(bob, 2, None, "127.0.0.1:4002"))
    return router, alice, bob


def test_router_sends_each_message_to_its_sim() -> None:
    router, alice, bob = router_with_two_sims()
    for path in GOOD:
        router.handle(4, entry(path))
    assert {r.sim for r in alice} == {1} and {r.sim for r in bob} == {2}
    assert [r.first_line for r in bob] == [
        "OPTIONS sip:bob@127.0.0.1:53534 SIP/2.0",
        "SIP/2.0 200 OK",
        "MESSAGE sip:bob@127.0.0.1:53534 SIP/2.0",
    ]
    first = next(iter(alice))
    assert (first.direction, first.protocol, first.transport) == ("out", "SIP", "udp")
    assert (first.local, first.remote, first.owner) == (
        "127.0.0.1:4001",
        "127.0.0.1:53318",
        "alice",
    )
    assert b'response="***"' in first.data  # the trace masks secrets


def test_unclaimed_messages_go_to_every_trace_once() -> None:
    router, alice, _ = router_with_two_sims()
    router.attach("sip:carol@rcs.test", TraceSink(alice, 3, None, "127.0.0.1:4003"))
    data = (
        b"OPTIONS sip:x@rcs.test SIP/2.0\r\n"
        b"From: <sip:k@rcs.test>;tag=1\r\nTo: <sip:x@rcs.test>\r\n\r\n"
    )
    router.record(LoggedSipMessage("in", "udp", "127.0.0.1:5060", data))
    assert router.unattributed == 1
    assert [r.sim for r in alice] == [None]


def test_detach_stops_routing() -> None:
    router = LogRouter()
    trace = TraceRecorder()
    detach = router.attach("sip:alice@rcs.test", TraceSink(trace, 1, None, "l"))
    detach()
    detach()
    router.handle(4, entry(DATA / "01_tx_register_initial.log"))
    assert len(trace) == 0 and router.unattributed == 1


def test_other_lines_go_to_logging(caplog: pytest.LogCaptureFixture) -> None:
    router = LogRouter(keep=2)
    with caplog.at_level(logging.DEBUG, logger="rcs_terminal.engine.pjsip"):
        router.handle(1, "Unable to create registration\n")
        router.handle(4, "Module registered")
        router.handle(3, "third")
    assert list(router.lines) == [(4, "Module registered"), (3, "third")]
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels["pjsip: Unable to create registration"] == logging.ERROR
    assert levels["pjsip: Module registered"] == logging.DEBUG


# --------------------------------------------------------------------------- properties

messages = st.builds(
    LoggedSipMessage,
    direction=st.sampled_from(["in", "out"]),
    transport=st.sampled_from(["udp", "tcp", "tls"]),
    remote=st.sampled_from(["127.0.0.1:5060", "[::1]:5061", "192.0.2.7:1"]),
    data=st.binary(max_size=400),
)


@given(messages)
def test_round_trip(message: LoggedSipMessage) -> None:
    assert parse_log_entry(as_entry(message)) == message


@given(st.text(max_size=300))
def test_arbitrary_text_is_a_line_or_a_message(text: str) -> None:
    found = parse_log_entry(text)
    assert found is None or isinstance(found, LoggedSipMessage)


@given(
    st.sampled_from(GOOD),
    st.integers(min_value=0, max_value=2000),
    st.text(min_size=1, max_size=5),
    st.booleans(),
)
def test_mutated_entries_never_raise(path: Path, at: int, insert: str, delete: bool) -> None:
    text = entry(path)
    at %= len(text)
    mutated = text[:at] + text[at + len(insert) :] if delete else text[:at] + insert + text[at:]
    found = parse_log_entry(mutated)
    if found is not None:
        identity = our_identity(found)
        assert identity is None or isinstance(identity, str)
        router = LogRouter()
        router.record(found)  # nobody attached: counted, nothing raised


def test_response_and_request_views_of_the_corpus() -> None:
    kinds = [type(parse_message(m.data)) for p in GOOD if (m := parse_log_entry(entry(p)))]
    assert Request in kinds and Response in kinds
