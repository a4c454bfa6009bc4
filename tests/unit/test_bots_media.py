"""The sample media (valid PNG/PDF files, safe names, URLs, descriptors) and the payload
builders' placeholders and multipart boundaries."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.media import MediaLibrary, content_type_of
from rcs_terminal.lab.bots.payloads import CHINA_TIME, RenderContext, build_message, expand
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.up.fthttp import parse_fthttp

LIBRARY = MediaLibrary()
NOW = dt.datetime(2024, 6, 18, 23, 30, tzinfo=CHINA_TIME)


def context(values: dict[str, str] | None = None) -> RenderContext:
    found = values or {}
    return RenderContext(
        media=LIBRARY,
        now=NOW,
        lookup=found.get,
        publish=lambda file, thumb: LIBRARY.descriptor(file, thumb, NOW),
        entity="sip:demo@botplatform.lab",
        new_id=lambda: "id1",
    )


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


@pytest.mark.parametrize("name", [n for n in LIBRARY.names() if n.endswith(".png")])
def test_sample_pictures_are_valid_small_pngs(name: str) -> None:
    data = LIBRARY.get(name).data
    chunks = png_chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    pixels = {
        raw[row * stride + 1 + 3 * x : row * stride + 4 + 3 * x]
        for row in range(height)
        for x in range(width)
    }
    assert len(pixels) >= 3, "a picture, not a blank"
    assert len(data) < 8 * 1024


def test_sample_pdf_and_names() -> None:
    pdf = LIBRARY.get("receipt.pdf")
    assert pdf.data.startswith(b"%PDF-1.4") and pdf.data.rstrip().endswith(b"%%EOF")
    assert pdf.content_type == "application/pdf"
    names = LIBRARY.names()
    assert "generate.py" not in names and len(names) >= 20
    for bad in ("../lab.py", "generate.py", ".hidden", "a/b.png", "nothing.png"):
        assert LIBRARY.find(bad) is None
    with pytest.raises(KeyError):
        LIBRARY.get("nothing.png")
    assert content_type_of("x.JPG") == "image/jpeg"
    assert content_type_of("x.bin") == "application/octet-stream"


def test_urls_and_descriptor() -> None:
    library = MediaLibrary(base_url="http://botplatform.lab:8080/chatbot/media")
    assert library.url("parcel.png") == "http://botplatform.lab:8080/chatbot/media/parcel.png"
    assert library.url("https://x.test/a.png") == "https://x.test/a.png"
    info = library.descriptor(library.get("parcel.png"), library.get("demo-thumb.png"), NOW)
    assert info.file.until == "2024-07-18T23:30:00+08:00"
    assert info.thumbnail is not None and info.thumbnail.size == library.get("demo-thumb.png").size
    assert parse_fthttp(info.to_xml()) == info


# --------------------------------------------------------------------------- placeholders


def test_expand_dates_values_and_fallbacks() -> None:
    ctx = context({"text": "路灯坏了", "empty": ""})
    assert expand("{date} {date+1} {date-18} {time}", ctx) == (
        "2024-06-18 2024-06-19 2024-05-31 23:30"
    )
    assert expand("“{text}” {label|您的位置} {empty|x} {unknown}", ctx) == (
        "“路灯坏了” 您的位置 x {unknown}"
    )
    assert expand("{empty}", ctx) == ""
    assert expand("{text}" * 5, ctx, limit=6) == "路灯坏了路灯"


def test_user_values_are_cut_and_cleaned() -> None:
    ctx = context({"text": "a\x1b[31mb\nc" + "x" * 500})
    expanded = expand("{text}", ctx)
    assert "\x1b" not in expanded and "\n" not in expanded
    assert len(expanded) == 100


def test_chips_get_a_boundary_that_is_not_in_the_content() -> None:
    message = model.Message.model_validate(
        {"text": "a line\r\n--next\r\nlooks like a boundary", "chips": [{"text": "ok"}]}
    )
    built = build_message(message, context())
    assert built.content_type == "multipart/mixed; boundary=next-1"
    parts = parse_multipart(built.body, built.content_type, strict=True)
    assert parts[0].body == b"a line\r\n--next\r\nlooks like a boundary"


def test_url_media_and_payload_messages() -> None:
    card = model.Message.model_validate(
        {
            "card": {
                "title": "t",
                "media": {
                    "url": "https://x.test/v.mp4",
                    "content_type": "video/mp4",
                    "height": "tall",
                },
            }
        }
    )
    assert b'"mediaUrl":"https://x.test/v.mp4"' in build_message(card, context()).body
    raw = model.Message.model_validate(
        {"payload": {"content_type": "application/x-odd", "body": "?"}}
    )
    built = build_message(raw, context())
    assert (built.content_type, built.body, built.kind) == ("application/x-odd", b"?", "payload")
    remote = model.Message.model_validate(
        {"file": {"url": "https://x.test/doc.pdf", "content_type": "application/pdf", "size": 10}}
    )
    info = parse_fthttp(build_message(remote, context()).body)
    assert info.file.name == "doc.pdf" and info.file.size == 10


@given(st.text(max_size=200))
def test_expand_never_raises_and_keeps_plain_text(text: str) -> None:
    result = expand(text, context({"text": text}))
    if "{" not in text:
        assert result == text
