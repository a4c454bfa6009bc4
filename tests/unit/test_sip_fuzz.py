"""Property tests for the SIP message layer.

- Generated messages survive parse -> serialise -> parse unchanged (identity on the model).
- Arbitrary bytes, and the corpus with bytes inserted, deleted or flipped, give a message or
  a SipParseError, nothing else, and reading every lazy view of a message that parsed raises
  nothing but SipParseError. Whatever parses also round-trips.
- The stream framer gives the same messages however the corpus is cut into reads.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip import Headers, Request, Response, StreamFramer, parse_message
from rcs_terminal.protocol.sip.headers import feature_tags

CORPUS = [
    path.read_bytes()
    for path in sorted((Path(__file__).parent.parent / "data" / "wire" / "sip").glob("*.sip"))
]
_ADDRESS_HEADERS = (
    "Contact",
    "Route",
    "Record-Route",
    "Path",
    "Service-Route",
    "Accept-Contact",
    "P-Associated-URI",
)


def read_every_view(message: Request | Response) -> None:
    """Read every lazy view; only SipParseError may come out."""
    for view in ("call_id", "cseq", "vias", "top_via", "from_", "to", "contacts", "content_type"):
        with contextlib.suppress(SipParseError):
            getattr(message, view)
    with contextlib.suppress(SipParseError):
        message.validate()
    with contextlib.suppress(SipParseError):
        for via in message.vias:
            _ = (via.branch, via.received, via.rport, via.sent_by)
    for name in _ADDRESS_HEADERS:
        with contextlib.suppress(SipParseError):
            for address in message.addresses(name):
                _ = (address.tag, address.is_wildcard)
                for view in ("expires", "q", "parsed_uri"):
                    with contextlib.suppress(SipParseError):
                        getattr(address, view)
                with contextlib.suppress(SipParseError):
                    feature_tags(address.params)
    for name, _ in message.headers:
        message.headers.get_all(name)
    if isinstance(message, Request):
        with contextlib.suppress(SipParseError):
            message.request_uri  # noqa: B018


def check(data: bytes) -> None:
    """``data`` parses into a message that round-trips, or raises SipParseError."""
    try:
        message = parse_message(data)
    except SipParseError:
        return
    read_every_view(message)
    again = parse_message(message.to_bytes())
    assert again == message
    assert again.to_bytes() == message.to_bytes()


@given(st.binary(max_size=600))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_a_start_line(data: bytes) -> None:
    check(b"MESSAGE sip:bot@botplatform.lab SIP/2.0\r\n" + data)
    check(b"SIP/2.0 200 OK\r\n" + data)


_MUTATION = st.tuples(
    st.sampled_from(["insert", "delete", "flip"]),
    st.integers(0, 1 << 16),
    st.binary(min_size=1, max_size=4),
)


@given(st.sampled_from(CORPUS), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_corpus(original: bytes, mutations: list[tuple[str, int, bytes]]) -> None:
    data = bytearray(original)
    for kind, position, junk in mutations:
        at = position % (len(data) + 1)
        if kind == "insert":
            data[at:at] = junk
        elif kind == "delete":
            del data[at : at + len(junk)]
        elif data:
            data[at % len(data)] ^= junk[0]
    check(bytes(data))


@given(
    st.sampled_from(CORPUS),
    st.sampled_from([b" ", b",", b";", b'"', b"<", b">", b":", b"%", b"\t", b"=", b"@"]),
    st.integers(0, 1 << 16),
)
def test_corpus_with_a_grammar_character_inserted(
    original: bytes, char: bytes, position: int
) -> None:
    at = position % (len(original) + 1)
    check(original[:at] + char + original[at:])


# --------------------------------------------------------------------------- stream framing


@given(
    st.permutations(range(len(CORPUS))),
    st.lists(st.integers(1, 400), min_size=1, max_size=40),
    st.booleans(),
)
def test_framer_gives_the_same_messages_however_the_stream_is_cut(
    order: list[int], sizes: list[int], pings: bool
) -> None:
    separator = b"\r\n\r\n" if pings else b""
    stream = separator.join(CORPUS[index] for index in order)
    framer = StreamFramer()
    received: list[Request | Response] = []
    position = 0
    turn = 0
    while position < len(stream):
        size = sizes[turn % len(sizes)]
        received += framer.feed(stream[position : position + size])
        position += size
        turn += 1
    assert received == [parse_message(CORPUS[index]) for index in order]
    assert not framer.broken


@given(st.lists(st.binary(max_size=80), max_size=8))
def test_framer_on_arbitrary_bytes(reads: list[bytes]) -> None:
    framer = StreamFramer()
    for data in reads:
        try:
            for message in framer.feed(data):
                read_every_view(message)
        except SipParseError:
            continue


# --------------------------------------------------------------------------- generated messages

_TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-.!%*_+`'~", min_size=1, max_size=12)
_NAMES = st.sampled_from(
    [
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Route",
        "Subject",
        "P-Asserted-Identity",
        "i",
        "m",
        "v",
        "k",
    ]
) | _TOKEN.filter(lambda name: name.lower() not in ("content-length", "l"))
_VALUE = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\t"), max_size=40).map(
    lambda value: value.strip(" \t")
)
_HEADERS = st.lists(st.tuples(_NAMES, _VALUE), max_size=12)
_URI = st.sampled_from(
    [
        "sip:alice@rcs.test",
        "sips:[2001:db8::1]:5061;transport=tls",
        "tel:+8613800000001",
        "urn:uuid:1",
    ]
) | _TOKEN.map(lambda text: f"sip:{text}@botplatform.lab")
_REASON = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@st.composite
def messages(draw: st.DrawFn) -> Request | Response:
    headers = Headers(draw(_HEADERS))
    body = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        return Request(draw(_TOKEN), draw(_URI), headers, body)
    return Response(draw(st.integers(100, 699)), draw(_REASON), headers, body)


@given(messages())
def test_generated_messages_round_trip(message: Request | Response) -> None:
    parsed = parse_message(message.to_bytes())
    assert type(parsed) is type(message)
    assert parsed.body == message.body
    expected = message.headers.copy()
    expected.set("Content-Length", str(len(message.body)))
    assert parsed.headers == expected
    if isinstance(message, Request):
        assert isinstance(parsed, Request)
        assert (parsed.method, parsed.uri) == (message.method, message.uri)
    else:
        assert isinstance(parsed, Response)
        assert (parsed.status, parsed.reason) == (message.status, message.reason)
    again = parse_message(parsed.to_bytes())
    assert again == parsed
    read_every_view(parsed)
