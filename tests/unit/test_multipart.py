"""multipart/mixed bodies (rcs_terminal.protocol.multipart) over the wire corpus.

Each capture under ``tests/data/wire/multipart`` is a MIME entity: its ``Content-Type``
header, an empty line, then the multipart body.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, MultipartParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.mime import ContentType, MimeHeaders, parse_header_block
from rcs_terminal.protocol.multipart import Part, build_multipart, parse_multipart

WIRE = Path(__file__).parents[1] / "data" / "wire" / "multipart"
CHIPS = "application/vnd.gsma.botsuggestion.v1.0+json"


def entity(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    headers, pos = parse_header_block(data)
    content_type = headers.get("Content-Type")
    assert content_type is not None
    return content_type, data[pos:]


GOOD = sorted(WIRE.glob("*.mime"))
BROKEN = sorted((WIRE / "broken").glob("*.mime"))


def test_corpus_is_present() -> None:
    assert len(GOOD) >= 8 and len(BROKEN) >= 8


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_good_capture_parses_strictly_and_rebuilds(path: Path) -> None:
    content_type, body = entity(path)
    parts = parse_multipart(body, content_type, strict=True)
    assert parts
    for part in parts:
        assert part.content_type.media_type
        if part.content_length is not None:
            assert part.content_length == len(part.body)
    rebuilt_type, rebuilt = build_multipart(parts, "=_rebuilt_=")
    again = parse_multipart(rebuilt, rebuilt_type, strict=True)
    assert [p.body for p in again] == [p.body for p in parts]
    assert [p.content_type.media_type for p in again] == [p.content_type.media_type for p in parts]


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_every_broken_capture_raises_multipart_parse_error(path: Path) -> None:
    content_type, body = entity(path)
    with pytest.raises(MultipartParseError) as info:
        parse_multipart(body, content_type, strict=True)
    assert info.value.where is not None or info.value.status_hint is not None


def parts_of(name: str) -> list[Part]:
    content_type, body = entity(WIRE / name)
    return parse_multipart(body, content_type)


def test_text_and_chip_list() -> None:
    text, chips = parts_of("text_and_chips.mime")
    assert text.content_type.charset == "utf-8"
    assert text.body.decode() == "您好，请选择您需要的服务："
    assert chips.content_type.media_type == CHIPS and chips.body.startswith(b'{"suggestions"')
    assert chips.headers.get("content-length") == str(len(chips.body))


def test_lf_only_and_missing_final_crlf() -> None:
    assert parts_of("lf_only.mime")[0].body.decode() == "只用换行符"
    (only,) = parts_of("no_final_crlf.mime")
    assert only.body.decode() == "结尾没有换行"


def test_preamble_and_epilogue_are_ignored() -> None:
    text, chips = parts_of("preamble_epilogue.mime")
    assert text.body.decode() == "带前言和后记" and b"epilogue" not in chips.body


def test_surplus_blank_lines_trimmed_by_content_length() -> None:
    text, _ = parts_of("extra_blank_line.mime")
    assert text.body.decode() == "多余空行"


def test_part_without_headers_defaults_to_text_plain() -> None:
    plain, chips = parts_of("part_without_headers.mime")
    assert plain.headers == MimeHeaders() and plain.content_type == ContentType("text/plain")
    assert plain.body == b"plain text with default type" and chips.content_length is None


def test_boundary_prefix_inside_a_line_is_not_a_delimiter() -> None:
    first, second = parts_of("boundary_lookalike.mime")
    assert first.body == b"--nextday delivery" and second.body == b"second"


def test_unterminated_body_is_accepted_when_lenient() -> None:
    content_type, body = entity(WIRE / "broken" / "unterminated.mime")
    (only,) = parse_multipart(body, content_type)
    assert only.body.decode() == "没结束"


def test_delimiter_at_end_without_close_is_accepted_when_lenient() -> None:
    (only,) = parse_multipart(b"--next\r\n\r\nhi\r\n--next", "multipart/mixed; boundary=next")
    assert only.body == b"hi"
    with pytest.raises(MultipartParseError):
        parse_multipart(
            b"--next\r\n\r\nhi\r\n--next", "multipart/mixed; boundary=next", strict=True
        )


def test_empty_parts_and_transport_padding() -> None:
    parts = parse_multipart(b"--b  \r\n--b\t\r\n\r\nx\r\n--b-- \r\n", "multipart/mixed; boundary=b")
    assert [p.body for p in parts] == [b"", b"x"]


def test_epilogue_on_the_close_delimiter_line() -> None:
    parts = parse_multipart(
        b"--b\r\n\r\nx\r\n--b--trailing words\r\nmore", "multipart/mixed; boundary=b"
    )
    assert [p.body for p in parts] == [b"x"]


def test_too_many_parts_is_refused() -> None:
    body = (
        b"".join(b"--next\r\n\r\n%d\r\n" % i for i in range(limits.MAX_MULTIPART_PARTS + 1))
        + b"--next--"
    )
    with pytest.raises(MultipartParseError, match="more than"):
        parse_multipart(body, "multipart/mixed; boundary=next")
    ok = (
        b"".join(b"--next\r\n\r\n%d\r\n" % i for i in range(limits.MAX_MULTIPART_PARTS))
        + b"--next--"
    )
    assert len(parse_multipart(ok, "multipart/mixed; boundary=next")) == limits.MAX_MULTIPART_PARTS


def test_oversized_body_and_boundary_are_refused() -> None:
    with pytest.raises(MultipartParseError):
        parse_multipart(b"x" * (limits.MAX_CPIM + 1), "multipart/mixed; boundary=next")
    with pytest.raises(MultipartParseError):
        parse_multipart(b"--" + b"b" * 300, "multipart/mixed; boundary=" + "b" * 300)


def test_malformed_part_content_type_raises_on_access() -> None:
    (part,) = parse_multipart(
        b"--next\r\nContent-Type: nope\r\n\r\nx\r\n--next--", "multipart/mixed;boundary=next"
    )
    with pytest.raises(MultipartParseError):
        _ = part.content_type


# --------------------------------------------------------------------------- building


def test_build_layout() -> None:
    content_type, body = build_multipart(
        [
            Part.create("text/plain;charset=UTF-8", "你好".encode()),
            Part.create(CHIPS, b'{"suggestions":[]}'),
        ]
    )
    assert content_type == "multipart/mixed; boundary=next"
    assert (
        body
        == (
            "--next\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 6\r\n\r\n你好\r\n"
            "--next\r\nContent-Type: application/vnd.gsma.botsuggestion.v1.0+json\r\n"
            "Content-Length: 18\r\n\r\n"
            '{"suggestions":[]}\r\n--next--\r\n'
        ).encode()
    )


def test_build_fixes_stale_length_and_missing_type() -> None:
    part = Part(MimeHeaders((("Content-Length", "99"), ("Content-ID", "<a>"))), b"abc")
    content_type, body = build_multipart([part], "----=_Part_1")
    (parsed,) = parse_multipart(body, content_type, strict=True)
    assert parsed.headers.fields == (
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-ID", "<a>"),
        ("Content-Length", "3"),
    )
    assert content_type == 'multipart/mixed; boundary="----=_Part_1"'


@pytest.mark.parametrize(
    ("parts", "boundary"),
    [
        ([], "next"),
        ([Part.create("text/plain", b"x")], ""),
        ([Part.create("text/plain", b"x")], "b" * 71),
        ([Part.create("text/plain", b"x")], "trailing "),
        ([Part.create("text/plain", b"x")], "semi;colon"),
        ([Part.create("text/plain", b"a\r\n--next\r\nb")], "next"),
        ([Part.create("text/plain", b"--next")], "next"),
        ([Part.create("text/plain", b"x")] * (limits.MAX_MULTIPART_PARTS + 1), "next"),
        ([Part.create("text/plain\r\nX: y", b"x")], "next"),
    ],
)
def test_build_refuses_what_it_cannot_write(parts: list[Part], boundary: str) -> None:
    with pytest.raises(LocalProtocolError):
        build_multipart(parts, boundary)


_ctype = st.sampled_from(
    [
        "text/plain;charset=UTF-8",
        "application/vnd.gsma.botmessage.v1.0+json",
        CHIPS,
        "application/vnd.gsma.rcs-ft-http+xml",
        'text/plain; charset="utf-8"',
    ]
)
_boundary = st.sampled_from(["next", "----=_Part_0_1714526400000", "b", "x'()+_,-./:=?y"])


@given(
    parts=st.lists(st.tuples(_ctype, st.binary(max_size=80)), min_size=1, max_size=6),
    boundary=_boundary,
    lf=st.booleans(),
)
def test_build_parse_build_is_identity(
    parts: list[tuple[str, bytes]], boundary: str, lf: bool
) -> None:
    dash = b"--" + boundary.encode()
    if any(body.startswith(dash) or b"\n" + dash in body for _, body in parts):
        return  # the builder refuses a body holding the delimiter (tested above)
    originals = [Part.create(ctype, body) for ctype, body in parts]
    content_type, body = build_multipart(originals, boundary)
    if lf:
        if any(b"\r" in b or b"\n" in b for _, b in parts):
            return  # converting line ends would change the bodies themselves
        body = body.replace(b"\r\n", b"\n")
    parsed = parse_multipart(body, content_type, strict=True)
    assert [p.body for p in parsed] == [b for _, b in parts]
    assert [p.headers.get("Content-Type") for p in parsed] == [c for c, _ in parts]
    assert build_multipart(parsed, boundary) == build_multipart(originals, boundary)
