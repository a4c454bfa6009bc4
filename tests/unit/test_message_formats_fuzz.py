"""Fuzzing the message-format parsers: CPIM, IMDN, multipart, is-composing, Content-Type.

Whatever bytes arrive (random, or a valid capture from the wire corpus mutated a little),
each parser returns a value or raises its own ParseError subclass; nothing else may escape,
including from the lazily computed views a consumer reads afterwards.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import (
    CpimParseError,
    ImdnParseError,
    MultipartParseError,
    ParseError,
    XmlParseError,
)
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.cpim import CpimMessage, parse_rfc3339
from rcs_terminal.protocol.imdn import parse_imdn, parse_imdn_payload
from rcs_terminal.protocol.iscomposing import parse_iscomposing
from rcs_terminal.protocol.mime import parse_content_type, parse_header_block
from rcs_terminal.protocol.multipart import parse_multipart

WIRE = Path(__file__).parents[1] / "data" / "wire"
CPIM_CORPUS = [p.read_bytes() for p in sorted((WIRE / "cpim").rglob("*.cpim"))]
IMDN_CORPUS = [
    p.read_bytes() for p in sorted((WIRE / "imdn").rglob("*.*")) if not p.name.startswith(".")
]
MULTIPART_CORPUS = [p.read_bytes() for p in sorted((WIRE / "multipart").rglob("*.mime"))]
ISCOMPOSING_SAMPLE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">'
    b"<state>idle</state><lastactive>2024-05-01T09:30:00+08:00</lastactive><contenttype>text/plain"
    b"</contenttype><refresh>60</refresh></isComposing>"
)

# Tokens that steer mutations towards the interesting parts of these formats.
_SPICE = [
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b":",
    b".",
    b"<",
    b">",
    b'"',
    b"\\",
    b";",
    b"=",
    b" ",
    b"\t",
    b"\x00",
    b"--next",
    b"--next--",
    b"NS: ",
    b"imdn.",
    b"x.",
    b"Content-Length: 99999999999999999999\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"charset=",
    b"\xff\xfe",
    "中".encode(),
    b"<!DOCTYPE a [",
    b"&amp;",
    b"&#0;",
    b' encoding="x-nope"',
    b"]]>",
    b"<status>",
    b"</status>",
    b"<delivered/>",
    b"<displayed/>",
    b'xmlns=""',
]


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A corpus sample with a few random edits: flips, insertions, deletions, cuts, swaps."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate", "lf"]))
        pos = draw(st.integers(min_value=0, max_value=len(data)))
        if kind == "flip" and data:
            at = min(pos, len(data) - 1)
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from(_SPICE) | st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(min_value=1, max_value=16))]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(min_value=1, max_value=40))]
        else:
            data = bytearray(bytes(data).replace(b"\r\n", b"\n"))
    return bytes(data)


def read_every_view(message: CpimMessage) -> list[Any]:
    """Read each lazy view; each may only succeed or raise CpimParseError."""
    results: list[Any] = []
    views = [
        lambda: message.from_,
        lambda: message.to_all,
        lambda: message.to,
        lambda: message.datetime,
        lambda: message.datetime_raw,
        lambda: message.subject,
        lambda: message.message_id,
        lambda: message.disposition_notification,
        lambda: message.traffic_type,
        lambda: message.content_type,
        lambda: message.content_disposition,
        lambda: message.is_imdn,
        message.decoded_body,
        message.text,
        message.to_bytes,
    ]
    for view in views:
        try:
            results.append(view())
        except CpimParseError:
            results.append(None)
    return results


def check_cpim(data: bytes) -> None:
    try:
        message = cpim.parse(data)
    except CpimParseError as exc:
        assert exc.status_hint in (400, 413)
        return
    read_every_view(message)
    assert cpim.parse(message.to_bytes()) == message


def check_imdn(data: bytes) -> None:
    with contextlib.suppress(ImdnParseError):
        parse_imdn(data)
    with contextlib.suppress(CpimParseError, ImdnParseError):
        parse_imdn_payload(data)


def check_multipart(data: bytes, content_type: str, strict: bool) -> None:
    try:
        parts = parse_multipart(data, content_type, strict=strict)
    except MultipartParseError:
        return
    assert len(parts) >= 1
    for part in parts:
        with contextlib.suppress(MultipartParseError):
            _ = part.content_type
        _ = part.content_length


def check_iscomposing(data: bytes) -> None:
    with contextlib.suppress(XmlParseError):
        parse_iscomposing(data)


# --------------------------------------------------------------------------- CPIM


@given(st.binary(max_size=512))
def test_cpim_arbitrary_bytes(data: bytes) -> None:
    check_cpim(data)


@given(mutated(CPIM_CORPUS))
def test_cpim_mutated_captures(data: bytes) -> None:
    check_cpim(data)


@given(
    headers=st.lists(
        st.sampled_from(
            [b"From", b"To", b"NS", b"DateTime", b"imdn.Message-ID", b"p.X", b"a..b"]
        ).flatmap(lambda n: st.binary(max_size=40).map(lambda v: n + b": " + v)),
        max_size=6,
    ),
    content=st.lists(
        st.sampled_from([b"Content-Type", b"Content-Length", b"Content-Transfer-Encoding"]).flatmap(
            lambda n: st.binary(max_size=30).map(lambda v: n + b": " + v)
        ),
        max_size=4,
    ),
    body=st.binary(max_size=64),
)
def test_cpim_structured_noise(headers: list[bytes], content: list[bytes], body: bytes) -> None:
    check_cpim(b"\r\n".join(headers) + b"\r\n\r\n" + b"\r\n".join(content) + b"\r\n\r\n" + body)


# --------------------------------------------------------------------------- IMDN and is-composing


@given(st.binary(max_size=512))
def test_imdn_arbitrary_bytes(data: bytes) -> None:
    check_imdn(data)


@given(mutated(IMDN_CORPUS))
def test_imdn_mutated_captures(data: bytes) -> None:
    check_imdn(data)


@given(st.binary(max_size=300) | mutated([ISCOMPOSING_SAMPLE]))
def test_iscomposing_arbitrary_and_mutated(data: bytes) -> None:
    check_iscomposing(data)


@given(st.text(max_size=300))
def test_xml_parsers_accept_any_text(text: str) -> None:
    for parser, error in ((parse_imdn, ImdnParseError), (parse_iscomposing, XmlParseError)):
        with contextlib.suppress(error):
            parser(text)


# --------------------------------------------------------------------------- multipart and MIME

_content_types = st.sampled_from(
    [
        "multipart/mixed; boundary=next",
        'multipart/mixed; boundary="----=_Part_42_1714526400000.1714526400123"',
        "multipart/mixed",
        "multipart/mixed; boundary=",
        "text/plain",
        'multipart/mixed; boundary="unterminated',
        "multipart/related; boundary=b",
    ]
)


@given(st.binary(max_size=512), _content_types, st.booleans())
def test_multipart_arbitrary_bytes(data: bytes, content_type: str, strict: bool) -> None:
    check_multipart(data, content_type, strict)


@given(mutated(MULTIPART_CORPUS), st.booleans())
def test_multipart_mutated_captures(data: bytes, strict: bool) -> None:
    try:
        headers, pos = parse_header_block(data, error=MultipartParseError)
    except MultipartParseError:
        return
    check_multipart(
        data[pos:], headers.get("Content-Type") or "multipart/mixed; boundary=next", strict
    )


@given(st.text(max_size=120) | st.binary(max_size=120))
def test_content_type_any_input(value: str | bytes) -> None:
    try:
        parsed = parse_content_type(value)
    except ParseError:
        return
    assert parse_content_type(str(parsed)) == parsed


@given(st.text(max_size=60))
def test_rfc3339_never_raises(text: str) -> None:
    value = parse_rfc3339(text)
    assert value is None or value.tzinfo is not None
