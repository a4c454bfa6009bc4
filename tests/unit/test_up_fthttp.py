"""The FT-HTTP descriptor: entries, extensions, leniency, builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.errors import LocalProtocolError, PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"


def load(name: str) -> up.FileTransferInfo:
    return up.parse_fthttp((CORPUS / name).read_bytes())


def test_image_with_thumbnail() -> None:
    info = load("fthttp/fthttp_image_with_thumbnail.xml")
    assert info.thumbnail == up.FileInfo(
        size=7168,
        content_type="image/jpeg",
        url="https://ft.botplatform.lab/t/5f2c9a1e",
        until="2024-06-20T08:00:00Z",
    )
    assert info.file == up.FileInfo(
        size=1843200,
        content_type="image/jpeg",
        url="https://ft.botplatform.lab/f/5f2c9a1e.jpg",
        until="2024-06-20T08:00:00Z",
        name="西湖日落.jpg",
    )
    assert info.disposition == "render" and not info.is_voice_message


def test_file_without_thumbnail_keeps_escaped_url() -> None:
    info = load("fthttp/fthttp_file_no_thumbnail.xml")
    assert info.thumbnail is None and info.disposition == "attachment"
    assert (
        info.file.url == "https://ft.botplatform.lab/f/invoice-202405.pdf?sig=a%2Bb&exp=1718870400"
    )
    assert info.file.until == "2024-06-30T23:59:59+08:00"


def test_extensions_are_kept() -> None:
    audio = load("fthttp/fthttp_audio_message.xml")
    assert audio.playing_length == 18500 and audio.is_voice_message
    branded = load("fthttp/fthttp_branded_file_exist.xml")
    assert branded.branded_url == "https://b.botplatform.lab/s/W4eRJfAABqQ.png"
    assert branded.file_exist == "1"
    assert branded.thumbnail is not None and branded.thumbnail.until is None
    assert branded.thumbnail.content_type == "image/jpg"


def test_no_namespace_and_no_type_are_tolerated() -> None:
    info = load("noisy/fthttp__no_namespace_no_type.xml")
    assert info.file.size == 2048 and info.file.name == "readme.txt"


def test_builder_output() -> None:
    body = up.build_fthttp(
        up.FileInfo(
            size=10,
            content_type="audio/amr;voice-recording=yes",
            url='https://x/?a=1&b="2"',
            until="2024-01-01T00:00:00Z",
            name="<语音>.amr",
        ),
        up.FileInfo(size=1, content_type="image/jpeg", url="https://x/t"),
        disposition="render",
        playing_length=3000,
        branded_url="https://b/1",
    )
    text = body.decode()
    declaration, root = text.splitlines()[:2]
    assert declaration == '<?xml version="1.0" encoding="UTF-8"?>'
    assert root.startswith('<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp"')
    assert 'xmlns:am="urn:gsma:params:xml:ns:rcs:rcs:rram"' in text
    assert 'xmlns:e="urn:gsma:params:xml:ns:rcs:rcs:up:fthttpext"' in text
    assert text.index('type="thumbnail"') < text.index('type="file"')
    assert "<file-name>&lt;语音&gt;.amr</file-name>" in text
    assert 'url="https://x/?a=1&amp;b=&quot;2&quot;"' in text
    assert "<am:playing-length>3000</am:playing-length>" in text
    parsed = up.parse_fthttp(body)
    assert parsed.file.name == "<语音>.amr" and parsed.playing_length == 3000


def test_builder_refuses_characters_xml_cannot_carry() -> None:
    with pytest.raises(LocalProtocolError):
        up.build_fthttp(up.FileInfo(size=1, content_type="text/plain", url="u", name="bell\x07"))


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (b"<file xmlns='urn:other'/>", "/"),
        (b"<file><file-info type='file'/><file-info type='file'/></file>", "/file/file-info[1]"),
        (b"<file><file-info type='thumbnail'/></file>", "/file/file-info[1]"),
        (
            b"<file><file-info><file-size>-1</file-size></file-info></file>",
            "/file/file-info[1]/file-size",
        ),
        (
            b"<file><file-info><file-size>1</file-size><data url='u'/></file-info></file>",
            "/file/file-info[1]",
        ),
    ],
)
def test_errors_name_the_element(doc: bytes, where: str) -> None:
    with pytest.raises(PayloadParseError) as caught:
        up.parse_fthttp(doc)
    assert caught.value.where == where


def test_duplicate_entries_are_refused() -> None:
    entry = (
        b"<file-info type='%s'><file-size>1</file-size><content-type>t</content-type>"
        b"<data url='u'/></file-info>"
    )
    doc = b"<file>" + entry % b"file" + entry % b"file" + b"</file>"
    with pytest.raises(PayloadParseError, match="several file") as caught:
        up.parse_fthttp(doc)
    assert caught.value.where == "/file/file-info[2]"
    doc = b"<file>" + entry % b"thumbnail" + entry % b"thumbnail" + entry % b"file" + b"</file>"
    with pytest.raises(PayloadParseError, match="several thumbnail"):
        up.parse_fthttp(doc)
