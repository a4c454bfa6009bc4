"""Property tests of the lab registrar (Hypothesis, no sockets).

- Arbitrary bytes and mutated valid messages (the wire corpus, and requests between two
  registered subscribers) delivered to a registrar that has alice and dave registered: the
  registrar never fails (no error is logged), and everything it sends is a SIP message the
  parser reads back.
- The binding table behaves like a plain dictionary model under any sequence of puts,
  removals and expiries: same contents, same next expiry.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from test_lab_registrar_ua import DOMAIN, directory
from test_lab_registrar_units import FakeFlow, make_binding

from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import ParseError
from rcs_terminal.lab.bindings import BindingTable
from rcs_terminal.lab.registrar import Registrar
from rcs_terminal.protocol.sip.auth import build_authorization, parse_challenge
from rcs_terminal.protocol.sip.message import Response, parse_message

WIRE = Path(__file__).parent.parent / "data" / "wire" / "lab_registrar"
ALICE_SRC = Address("127.0.0.1", 5099)
DAVE_SRC = Address("127.0.0.1", 5098)


def deliver(registrar: Registrar, raw: bytes, flow: FakeFlow, source: Address) -> None:
    """What an engine flow does with a datagram."""
    try:
        message = parse_message(raw)
    except ParseError as exc:
        registrar._on_parse_error(raw, exc, source, flow)  # type: ignore[arg-type]
        return
    registrar._on_message(message, source, flow)  # type: ignore[arg-type]


def register_raw(registrar: Registrar, flow: FakeFlow, source: Address, number: int) -> None:
    impu = f"sip:+86138{number:08d}@{DOMAIN}"
    impi = f"4600012345{number:05d}@{DOMAIN}"

    def register(cseq: int, authorization: str) -> bytes:
        return (
            f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {source};branch=z9hG4bKreg{number}{cseq}\r\n"
            f"From: <{impu}>;tag=f{number}\r\nTo: <{impu}>\r\n"
            f"Call-ID: reg-{number}\r\nCSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:+86138{number:08d}@{source}>\r\n"
            f"Authorization: {authorization}\r\nContent-Length: 0\r\n\r\n"
        ).encode()

    empty = f'Digest username="{impi}",realm="{DOMAIN}",uri="sip:{DOMAIN}",nonce="",response=""'
    deliver(registrar, register(1, empty), flow, source)
    challenge = parse_challenge(parse_message(flow.sent[-1]).headers.get("WWW-Authenticate") or "")
    name = {1: "alice", 4: "dave"}[number]
    answer = build_authorization(
        challenge,
        method="REGISTER",
        uri=f"sip:{DOMAIN}",
        username=impi,
        password=f"{name}-secret",
        cnonce="cn",
        nc=1,
    )
    deliver(registrar, register(2, answer), flow, source)
    final = parse_message(flow.sent[-1])
    assert isinstance(final, Response) and final.status == 200


@contextmanager
def no_logged_errors() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.ERROR)
    logger = logging.getLogger("rcs_terminal.lab")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
    assert records == [], records[0].getMessage()


def registered_lab() -> tuple[Registrar, FakeFlow]:
    counter = itertools.count(1)
    registrar = Registrar(directory(), random_bytes=lambda n: next(counter).to_bytes(n, "big"))
    flow = FakeFlow()
    register_raw(registrar, flow, ALICE_SRC, 1)
    register_raw(registrar, flow, DAVE_SRC, 4)
    return registrar, flow


def between(method: str, extra: str = "", body: bytes = b"") -> bytes:
    return (
        f"{method} tel:+8613800000004 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {ALICE_SRC};branch=z9hG4bKp{method}\r\nMax-Forwards: 70\r\n"
        f"Route: <sip:orig@scscf.{DOMAIN};lr>\r\n"
        f"From: <sip:+8613800000001@{DOMAIN}>;tag=a\r\nTo: <tel:+8613800000004>\r\n"
        f"Call-ID: p-{method}\r\nCSeq: 1 {method}\r\n"
        f"Contact: <sip:+8613800000001@{ALICE_SRC}>\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


SEEDS = [
    *(p.read_bytes() for p in sorted(WIRE.rglob("*")) if p.is_file() and p.name[0] != "."),
    between("MESSAGE", "Content-Type: text/plain\r\n", b"hi"),
    between("OPTIONS"),
    between("INVITE", "Content-Type: application/sdp\r\n", b"v=0\r\n"),
    between("SUBSCRIBE", "Event: presence\r\nExpires: 60\r\n"),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if action == "replace" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from([b";", b",", b"<", b":", b"\r\n", b" ", b"\x00", b"%"])
            )
        elif action == "delete" and data:
            del data[position]
        elif action == "truncate":
            del data[position:]
    return bytes(data)


def check_sent(flow: FakeFlow, start: int) -> None:
    for data in flow.sent[start:]:
        parse_message(data)  # everything the registrar sends reads back


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_break_the_registrar(data: bytes) -> None:
    registrar, flow = registered_lab()
    before = len(flow.sent)
    with no_logged_errors():
        deliver(registrar, data, flow, ALICE_SRC)
    check_sent(flow, before)


@given(mutated())
def test_mutated_messages_never_break_the_registrar(data: bytes) -> None:
    registrar, flow = registered_lab()
    before = len(flow.sent)
    with no_logged_errors():
        deliver(registrar, data, flow, ALICE_SRC)
        deliver(registrar, data, flow, DAVE_SRC)
    check_sent(flow, before)


def test_valid_seeds_are_forwarded_between_the_two() -> None:
    registrar, flow = registered_lab()
    before = len(flow.sent)
    deliver(registrar, between("MESSAGE", "Content-Type: text/plain\r\n", b"hi"), flow, ALICE_SRC)
    forwarded = parse_message(flow.sent[before])
    assert forwarded.headers.get("Call-ID") == "p-MESSAGE"
    assert getattr(forwarded, "uri", "") == f"sip:+8613800000004@{DAVE_SRC}"


OPS = st.lists(
    st.tuples(
        st.sampled_from(["put", "remove", "expire"]),
        st.sampled_from(["a", "b"]),
        st.integers(5000, 5003),
        st.integers(0, 50),
    ),
    max_size=40,
)


@given(OPS)
def test_binding_table_matches_a_dict_model(ops: list[tuple[str, str, int, int]]) -> None:
    table = BindingTable(max_per_owner=10)
    model: dict[tuple[str, str], float] = {}
    for op, owner, port, when in ops:
        uri = f"sip:u@127.0.0.1:{port}"
        if op == "put":
            binding = make_binding(table, owner, uri, float(when + 1))
            table.put(binding)
            model[(owner, binding.key[1])] = float(when + 1)
        elif op == "remove":
            removed = table.remove(owner, ("uri", f"u@127.0.0.1:{port}"))
            assert (removed is not None) == (
                model.pop((owner, f"u@127.0.0.1:{port}"), None) is not None
            )
        else:
            expired = {(b.owner, b.key[1]) for b in table.expire(float(when))}
            due = {key for key, at in model.items() if at <= when}
            assert expired == due
            for key in due:
                del model[key]
        current = {(b.owner, b.key[1]): b.expires_at for o in ("a", "b") for b in table.of(o)}
        assert current == model
        assert table.next_expiry() == (min(model.values()) if model else None)
        assert len(table) == len(model)
