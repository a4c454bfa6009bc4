"""The MSRP stream framer: split points, several messages per read, errors, limits."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import MsrpParseError
from rcs_terminal.protocol.msrp import MsrpRequest, StreamFramer, parse_message

WIRE = Path(__file__).parent.parent / "data" / "wire" / "msrp"
VALID = sorted(WIRE.glob("*.msrp"))
STREAM = b"".join(path.read_bytes() for path in VALID)
EXPECTED = [parse_message(path.read_bytes()) for path in VALID]


def chunk(tid: str, body: bytes, flag: str = "$", size: int | None = None) -> bytes:
    return MsrpRequest(
        "SEND",
        tid,
        (
            ("To-Path", "msrp://198.51.100.20:20001/Pq9dWm3Rt0;tcp"),
            ("From-Path", "msrp://192.0.2.10:20000/a7Fq2kL9xZ;tcp"),
            ("Message-ID", "msg00001"),
            ("Content-Type", "application/octet-stream"),
        ),
        body,
        flag,  # type: ignore[arg-type]
    ).to_bytes()


def test_whole_corpus_in_one_read() -> None:
    framer = StreamFramer()
    assert framer.feed(STREAM) == EXPECTED
    assert framer.buffered == 0


def test_one_byte_at_a_time() -> None:
    framer = StreamFramer()
    out = []
    for i in range(len(STREAM)):
        out += framer.feed(STREAM[i : i + 1])
    assert out == EXPECTED


@given(st.lists(st.integers(0, len(STREAM)), max_size=20))
def test_arbitrary_split_points(cuts: list[int]) -> None:
    framer = StreamFramer()
    bounds = [0, *sorted(cuts), len(STREAM)]
    out = []
    for start, end in itertools.pairwise(bounds):
        out += framer.feed(STREAM[start:end])
    assert out == EXPECTED


def test_stray_line_ends_between_messages_are_skipped() -> None:
    raw = (WIRE / "response_200.msrp").read_bytes()
    assert len(StreamFramer().feed(b"\r\n" + raw + b"\r\n\r\n" + raw)) == 2


def test_body_with_lookalike_end_lines_across_reads() -> None:
    body = b"-------other001$\r\n\r\n-------tid00001+x\r\n-------tid0000\r\n" * 50
    raw = chunk("tid00001", body)
    framer = StreamFramer()
    out = []
    for i in range(0, len(raw), 7):
        out += framer.feed(raw[i : i + 7])
    assert len(out) == 1 and isinstance(out[0], MsrpRequest) and out[0].body == body


def test_large_chunk_in_small_reads_is_scanned_incrementally() -> None:
    body = bytes(range(256)) * 2000  # 512 KB
    raw = chunk("bigchunk", body)
    framer = StreamFramer()
    position = 0
    while len(raw) - position > 1000:
        assert framer.feed(raw[position : position + 1000]) == []
        position += 1000
        # the end-line search resumes near the end of what is buffered, not from the start
        assert framer._scan >= framer.buffered - len(b"\r\n-------bigchunk") - 3
    (message,) = framer.feed(raw[position:])
    assert isinstance(message, MsrpRequest) and message.body == body


def test_malformed_message_does_not_stop_framing() -> None:
    bad = (WIRE / "broken" / "missing_to_path.msrp").read_bytes()
    good = (WIRE / "response_200.msrp").read_bytes()
    framer = StreamFramer()
    assert framer.feed(good + bad + good) == [parse_message(good)]
    with pytest.raises(MsrpParseError):
        framer.feed(b"")
    assert framer.feed(b"") == [parse_message(good)]
    frames = StreamFramer().receive(bad + good)
    assert frames[0].error is not None and frames[0].transaction_id == "noto0001"
    assert frames[0].method == "SEND" and frames[1].message == parse_message(good)


def test_oversized_message_is_reported_early_then_skipped() -> None:
    framer = StreamFramer(max_message=10_000)
    raw = chunk("huge0001", b"z" * 50_000)
    after = (WIRE / "response_200.msrp").read_bytes()
    frames = framer.receive(raw[:12_000])
    assert len(frames) == 1 and frames[0].error is not None
    assert frames[0].error.status_hint == 413 and frames[0].transaction_id == "huge0001"
    assert framer.buffered < 100  # the rest of the message is not kept
    frames = framer.receive(raw[12_000:] + after)
    assert [f.message for f in frames] == [parse_message(after)]


def test_complete_but_oversized_message_in_one_read() -> None:
    framer = StreamFramer(max_message=1000)
    with pytest.raises(MsrpParseError) as info:
        framer.feed(chunk("huge0002", b"z" * 5000))
    assert info.value.status_hint == 413
    assert framer.feed((WIRE / "response_200.msrp").read_bytes())


@pytest.mark.parametrize(
    "data",
    [
        (WIRE / "broken" / "not_msrp.msrp").read_bytes(),
        b"MSRP x SEND\r\n",  # transaction id too short
        b"MSRP " + b"a" * 2000,  # start line never ends
    ],
)
def test_garbage_breaks_the_stream(data: bytes) -> None:
    framer = StreamFramer()
    with pytest.raises(MsrpParseError):
        framer.feed(data)
    assert framer.broken
    with pytest.raises(MsrpParseError):
        framer.feed((WIRE / "response_200.msrp").read_bytes())
    (frame,) = framer.receive(b"more")
    assert frame.fatal


def test_partial_prefix_waits_for_more() -> None:
    framer = StreamFramer()
    assert framer.feed(b"MSR") == []
    assert not framer.broken


@given(st.lists(st.binary(max_size=64), max_size=8))
def test_arbitrary_bytes_never_raise_anything_else(reads: list[bytes]) -> None:
    framer = StreamFramer(max_message=4096)
    for data in reads:
        with contextlib.suppress(MsrpParseError):
            framer.feed(data)
        framer.receive(b"")


@given(st.binary(max_size=64), st.integers(0, len(STREAM)), st.integers(16, 700))
def test_corpus_with_injected_bytes(junk: bytes, at: int, step: int) -> None:
    data = STREAM[:at] + junk + STREAM[at:]
    framer = StreamFramer(max_message=2048)
    for i in range(0, len(data), step):
        with contextlib.suppress(MsrpParseError):
            framer.feed(data[i : i + step])
