"""Content-Type values and MIME header blocks (rcs_terminal.protocol.mime)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import CpimParseError, LocalProtocolError, ParseError
from rcs_terminal.protocol.mime import (
    ContentType,
    MimeHeaders,
    format_content_type,
    format_header_fields,
    parse_content_type,
    parse_header_block,
)

# --------------------------------------------------------------------------- Content-Type


@pytest.mark.parametrize(
    ("value", "media_type", "params"),
    [
        ("text/plain", "text/plain", ()),
        ("text/plain;charset=UTF-8", "text/plain", (("charset", "UTF-8"),)),
        ("Text/Plain; Charset=utf-8", "text/plain", (("charset", "utf-8"),)),
        ('multipart/mixed; boundary="next"', "multipart/mixed", (("boundary", "next"),)),
        ("multipart/mixed;boundary=next", "multipart/mixed", (("boundary", "next"),)),
        (
            'multipart/mixed; boundary="----=_Part_0_1.2"',
            "multipart/mixed",
            (("boundary", "----=_Part_0_1.2"),),
        ),
        (
            "multipart/mixed; boundary=----=_Part_0_1.2",
            "multipart/mixed",
            (("boundary", "----=_Part_0_1.2"),),
        ),
        ("application/sdp;", "application/sdp", ()),
        ("text/plain;; charset=utf-8", "text/plain", (("charset", "utf-8"),)),
        ("  message/cpim  ", "message/cpim", ()),
        ("text/plain ; charset = utf-8 ;", "text/plain", (("charset", "utf-8"),)),
        ('text/plain; a="x;y"; b="q\\"uote"', "text/plain", (("a", "x;y"), ("b", 'q"uote'))),
        ("audio/amr; voice-recording=yes", "audio/amr", (("voice-recording", "yes"),)),
        (
            'application/octet-stream; name="五一海报.jpg"',
            "application/octet-stream",
            (("name", "五一海报.jpg"),),
        ),
        ("text/plain; title=", "text/plain", (("title", ""),)),
        (b"message/imdn+xml", "message/imdn+xml", ()),
    ],
)
def test_content_type_variants_parse(
    value: str | bytes, media_type: str, params: tuple[tuple[str, str], ...]
) -> None:
    ct = parse_content_type(value)
    assert ct.media_type == media_type
    assert ct.params == params


def test_content_type_accessors() -> None:
    ct = parse_content_type('multipart/mixed; boundary="next"; charset=UTF-8')
    assert (ct.type, ct.subtype, ct.boundary, ct.charset) == ("multipart", "mixed", "next", "utf-8")
    assert ct.is_multipart and ct.param("BOUNDARY") == "next" and ct.param("nope") is None
    assert str(ct) == "multipart/mixed; boundary=next; charset=UTF-8"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "text",
        "text/",
        "/plain",
        "text plain",
        "te xt/plain",
        "text/plain; charset",
        'text/plain; charset="utf-8',
        'text/plain; charset="utf-8" junk',
        "text/plain; bad name=1",
        "text/plain\x00",
        "text/plain; a=\r\nb",
        "文本/plain",
        b"text/plain; name=\xff",
        "a/" + "b" * 5000,
    ],
)
def test_malformed_content_types_raise_the_callers_error(value: str | bytes) -> None:
    with pytest.raises(CpimParseError):
        parse_content_type(value, error=CpimParseError)


def test_content_type_default_error_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_content_type("nonsense")


def test_content_type_create_and_format() -> None:
    ct = ContentType.create("Text/Plain", charset="UTF-8")
    assert ct == ContentType("text/plain", (("charset", "UTF-8"),))
    assert (
        format_content_type(ContentType("text/plain", (("name", "a b"),)))
        == 'text/plain; name="a b"'
    )
    assert format_content_type(ContentType("text/plain", (("x", ""),))) == 'text/plain; x=""'
    with pytest.raises(LocalProtocolError):
        ContentType.create("textplain")
    with pytest.raises(LocalProtocolError):
        format_content_type(ContentType("text/plain", (("x", "a\r\nInjected: 1"),)))


_token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789-+.!#$%&'*^_`|~", min_size=1, max_size=12
)
_value = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=20)


@given(
    kind=_token,
    sub=_token,
    params=st.lists(st.tuples(_token, _value), max_size=4),
)
def test_content_type_round_trips(kind: str, sub: str, params: list[tuple[str, str]]) -> None:
    ct = ContentType(f"{kind}/{sub}", tuple(params))
    text = format_content_type(ct)
    assert parse_content_type(text) == ct
    assert parse_content_type(text.encode("utf-8")) == ct


# --------------------------------------------------------------------------- header blocks


def test_header_block_with_crlf_lf_folding_and_case() -> None:
    data = (
        b"Content-Type: text/plain;\r\n charset=UTF-8\ncontent-length:  12 \r\nX-Empty:\r\n\r\nbody"
    )
    headers, pos = parse_header_block(data)
    assert data[pos:] == b"body"
    assert headers.get("CONTENT-TYPE") == "text/plain; charset=UTF-8"
    assert headers.get("Content-Length") == "12"
    assert headers.get("X-Empty") == ""
    assert "content-type" in headers and "Nope" not in headers and 3 not in headers
    assert len(headers) == 3 and [n for n, _ in headers] == [
        "Content-Type",
        "content-length",
        "X-Empty",
    ]


def test_header_block_get_all_keeps_order() -> None:
    headers, _ = parse_header_block(b"To: a\r\nX: 1\r\nto: b\r\n\r\n")
    assert headers.get_all("TO") == ["a", "b"]


def test_empty_header_block() -> None:
    headers, pos = parse_header_block(b"\r\nrest")
    assert headers == MimeHeaders() and pos == 2
    headers, pos = parse_header_block(b"\nrest")
    assert len(headers) == 0 and pos == 1


def test_header_block_may_end_at_eof_when_allowed() -> None:
    headers, pos = parse_header_block(b"A: 1\r\nB: 2", require_blank_line=False)
    assert headers.fields == (("A", "1"), ("B", "2")) and pos == 10
    with pytest.raises(ParseError, match="empty line"):
        parse_header_block(b"A: 1\r\nB: 2")
    with pytest.raises(ParseError, match="empty line"):
        parse_header_block(b"A: 1\r\n")
    with pytest.raises(ParseError, match="empty line"):
        parse_header_block(b"A: 1\r\n\r")


@pytest.mark.parametrize(
    "data",
    [
        b"no colon here\r\n\r\n",
        b" folded first: x\r\n\r\n",
        b": empty name\r\n\r\n",
        b"Bad Name: x\r\n\r\n",
        b"A: \x00\r\n\r\n",
        b"A: x\ry\r\n\r\n",
        b"A: \xc4\xe3\r\n\r\n",
        b"",
    ],
)
def test_malformed_header_blocks(data: bytes) -> None:
    with pytest.raises(CpimParseError) as info:
        parse_header_block(data, error=CpimParseError)
    assert isinstance(info.value.where, int)


def test_header_block_field_limit() -> None:
    data = b"".join(b"X-%d: v\r\n" % i for i in range(10)) + b"\r\n"
    with pytest.raises(ParseError, match="more than 5"):
        parse_header_block(data, max_fields=5)


def test_format_header_fields_refuses_injection() -> None:
    assert format_header_fields([("A", "1"), ("B", "二")]) == "A: 1\r\nB: 二\r\n".encode()
    with pytest.raises(LocalProtocolError):
        format_header_fields([("A", "1\r\nEvil: yes")])
    with pytest.raises(LocalProtocolError):
        format_header_fields([("A:B", "1")])


_field_name = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._",
    min_size=1,
    max_size=16,
)
_field_value = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=30).map(
    lambda v: v.strip(" \t")
)


@given(fields=st.lists(st.tuples(_field_name, _field_value), max_size=8), lf=st.booleans())
def test_header_block_round_trips(fields: list[tuple[str, str]], lf: bool) -> None:
    data = format_header_fields(fields) + b"\r\nbody"
    if lf:
        data = data.replace(b"\r\n", b"\n")
    headers, pos = parse_header_block(data)
    assert headers.fields == tuple(fields)
    assert data[pos:] == b"body"
    assert parse_header_block(headers.to_bytes() + b"\r\n")[0] == headers
