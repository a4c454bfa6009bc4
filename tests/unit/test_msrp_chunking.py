"""Chunking outgoing MSRP messages and reassembling incoming ones."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, MsrpParseError
from rcs_terminal.protocol.msrp import ByteRange, MsrpRequest, parse_message
from rcs_terminal.protocol.msrp.chunking import (
    OutgoingMessage,
    Reassembler,
    chunk_ranges,
    split_message,
)
from rcs_terminal.protocol.msrp.uri import parse_uri

WIRE = Path(__file__).parent.parent / "data" / "wire" / "msrp"
ME = parse_uri("msrp://192.0.2.10:20000/a7Fq2kL9xZ;tcp")
BOT = parse_uri("msrp://198.51.100.20:20001/Pq9dWm3Rt0;tcp")


def ids() -> itertools.count[int]:
    return itertools.count()


def split(body: bytes, size: int, message_id: str = "msg00001") -> list[MsrpRequest]:
    counter = ids()
    return split_message(
        body,
        message_id=message_id,
        content_type="application/octet-stream",
        to_path=(BOT,),
        from_path=(ME,),
        new_id=lambda: f"t{next(counter):07d}",
        chunk_size=size,
        headers=(("Success-Report", "yes"),),
    )


def load(name: str) -> MsrpRequest:
    message = parse_message((WIRE / name).read_bytes())
    assert isinstance(message, MsrpRequest)
    return message


def test_chunk_ranges() -> None:
    assert list(chunk_ranges(5, 2)) == [(0, 2), (2, 4), (4, 5)]
    assert list(chunk_ranges(4, 2)) == [(0, 2), (2, 4)]
    assert list(chunk_ranges(0, 2048)) == [(0, 0)]
    with pytest.raises(LocalProtocolError):
        list(chunk_ranges(5, 0))


def test_split_sets_ranges_flags_and_headers() -> None:
    chunks = split(b"abcdefghij", 4)
    assert [str(c.byte_range) for c in chunks] == ["1-4/10", "5-8/10", "9-10/10"]
    assert [c.continuation for c in chunks] == ["+", "+", "$"]
    assert [c.body for c in chunks] == [b"abcd", b"efgh", b"ij"]
    assert len({c.transaction_id for c in chunks}) == 3
    for c in chunks:
        assert c.to_path == (BOT,) and c.from_path == (ME,)
        assert c.message_id == "msg00001" and c.success_report
        assert c.content_type == "application/octet-stream"
        assert parse_message(c.to_bytes()) == c


def test_empty_body_is_one_empty_chunk() -> None:
    (only,) = split(b"", 2048)
    assert only.byte_range == ByteRange(1, 0, 0) and only.continuation == "$"
    assert only.has_body and only.body == b""


def test_transaction_id_is_replaced_when_the_body_holds_its_end_line() -> None:
    ids_given = iter(["clash001", "fresh001"])
    out = OutgoingMessage("m1", b"x\r\n-------clash001$\r\ny", content_type="text/plain")
    request = out.next_chunk(lambda: next(ids_given), (BOT,), (ME,))
    assert request.transaction_id == "fresh001" and out.done
    with pytest.raises(LocalProtocolError):
        out.next_chunk(lambda: "again001", (BOT,), (ME,))


def test_corpus_chunks_reassemble() -> None:
    reassembler = Reassembler()
    first = reassembler.add(load("send_first.msrp"))
    assert (first.received, first.total, first.message) == (16, 46, None)
    assert "chunked0001" in reassembler
    reassembler.add(load("send_middle.msrp"))
    done = reassembler.add(load("send_last.msrp"))
    assert done.message is not None
    assert done.message.body == b"The quick brown fox jumps over the lazy dog!!!"
    assert done.message.content_type == "text/plain"
    assert dict(done.message.headers)["Byte-Range"] == "1-16/46"  # the first chunk's
    assert reassembler.pending == 0


def test_single_chunk_message_is_not_copied() -> None:
    request = load("send_single.msrp")
    result = Reassembler().add(request)
    assert result.message is not None and result.message.body is request.body


def test_abort_drops_what_was_received() -> None:
    reassembler = Reassembler()
    chunks = split(b"0123456789", 4, "abort001")
    reassembler.add(chunks[0])
    aborted = MsrpRequest("SEND", "tabort01", chunks[1].headers, b"45", "#")
    result = reassembler.add(aborted)
    assert result.aborted and result.received == 4 and result.message is None
    assert reassembler.pending == 0
    assert Reassembler().add(load("send_aborted.msrp")).aborted


def test_duplicates_are_recognised() -> None:
    reassembler = Reassembler()
    chunks = split(b"0123456789", 4)
    assert not reassembler.add(chunks[0]).duplicate
    assert reassembler.add(chunks[0]).duplicate
    assert not reassembler.add(chunks[2]).duplicate  # ahead of the prefix
    assert reassembler.add(chunks[2]).duplicate
    done = reassembler.add(chunks[1])
    assert done.message is not None and done.message.body == b"0123456789"


def test_unknown_totals_end_with_the_dollar_chunk() -> None:
    reassembler = Reassembler()

    def star(tid: str, start: int, body: bytes, flag: str) -> MsrpRequest:
        headers = (
            ("To-Path", str(BOT)),
            ("From-Path", str(ME)),
            ("Message-ID", "star0001"),
            ("Byte-Range", f"{start}-*/*"),
            ("Content-Type", "text/plain"),
        )
        return MsrpRequest("SEND", tid, headers, body, flag)  # type: ignore[arg-type]

    assert reassembler.add(star("tstar001", 1, b"hello ", "+")).total is None
    done = reassembler.add(star("tstar002", 7, b"world", "$"))
    assert done.message is not None and done.message.body == b"hello world"
    # without any Byte-Range the chunk is the whole message
    headers = (
        ("To-Path", str(BOT)),
        ("From-Path", str(ME)),
        ("Message-ID", "norange1"),
        ("Content-Type", "text/plain"),
    )
    whole = Reassembler().add(MsrpRequest("SEND", "tnorange", headers, b"all"))
    assert whole.message is not None and whole.message.body == b"all"


def test_inconsistent_chunks_are_refused() -> None:
    base = (
        ("To-Path", str(BOT)),
        ("From-Path", str(ME)),
        ("Message-ID", "bad00001"),
        ("Content-Type", "text/plain"),
    )
    cases = [
        ("1-5/10", b"abc"),  # the range does not match the body
        ("9-12/10", b"abcd"),  # past the total
    ]
    for value, body in cases:
        with pytest.raises(MsrpParseError) as info:
            Reassembler().add(
                MsrpRequest("SEND", "tbad0001", (*base, ("Byte-Range", value)), body, "+")
            )
        assert info.value.status_hint == 400
    reassembler = Reassembler()
    reassembler.add(MsrpRequest("SEND", "tbad0002", (*base, ("Byte-Range", "1-2/10")), b"ab", "+"))
    with pytest.raises(MsrpParseError):
        reassembler.add(
            MsrpRequest("SEND", "tbad0003", (*base, ("Byte-Range", "3-4/12")), b"cd", "+")
        )
    with pytest.raises(MsrpParseError):
        Reassembler().add(MsrpRequest("SEND", "tbad0004", base[:2], b"no id"))


def test_size_limit() -> None:
    reassembler = Reassembler(max_size=10)
    chunks = split(b"x" * 12, 4, "big00001")
    with pytest.raises(MsrpParseError) as info:
        reassembler.add(chunks[0])  # the total announces 12 bytes
    assert info.value.status_hint == 413
    assert reassembler.pending == 0
    # with unknown totals the limit applies to what arrives
    base = (
        ("To-Path", str(BOT)),
        ("From-Path", str(ME)),
        ("Message-ID", "big00002"),
        ("Content-Type", "text/plain"),
    )
    reassembler.add(
        MsrpRequest("SEND", "tbig0001", (*base, ("Byte-Range", "1-*/*")), b"x" * 8, "+")
    )
    with pytest.raises(MsrpParseError):
        reassembler.add(
            MsrpRequest("SEND", "tbig0002", (*base, ("Byte-Range", "9-*/*")), b"x" * 8, "+")
        )


def test_oldest_unfinished_message_is_dropped_beyond_max_pending() -> None:
    reassembler = Reassembler(max_pending=2)
    for n in range(3):
        reassembler.add(split(b"0123456789", 4, f"pend000{n}")[0])
    assert reassembler.pending == 2
    assert "pend0000" not in reassembler and "pend0002" in reassembler
    reassembler.discard("pend0002")
    assert reassembler.pending == 1


@given(
    body=st.binary(max_size=3000),
    size=st.integers(1, 700),
    data=st.data(),
)
def test_reassembly_in_any_order(body: bytes, size: int, data: st.DataObject) -> None:
    chunks = split(body, size)
    order = data.draw(st.permutations(chunks))
    repeats = data.draw(st.lists(st.sampled_from(chunks), max_size=3))
    reassembler = Reassembler()
    completed = []
    for chunk in [*repeats, *order]:
        result = reassembler.add(chunk)
        if result.message is not None:
            completed.append(result.message.body)
    assert completed == [body]  # exactly once, whatever the order and the repeats
    again = reassembler.add(chunks[0])
    assert again.duplicate and again.message is None
