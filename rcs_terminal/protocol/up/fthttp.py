"""File transfer via HTTP descriptor: ``application/vnd.gsma.rcs-ft-http+xml``.

GSMA RCC.07 FT-HTTP (formats.md §8): the sender uploads the file to the content server
and sends this small XML document instead; the receiver downloads from ``data/@url``
until ``data/@until``::

    <file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp">
      <file-info type="thumbnail"> file-size, content-type, data </file-info>   (optional)
      <file-info type="file" file-disposition="render|attachment">
        file-size, file-name, content-type, data, extensions </file-info>
    </file>

Extensions are kept: ``am:playing-length`` (audio messages, milliseconds;
``urn:gsma:params:xml:ns:rcs:rcs:rram``), ``e:branded-url``
(``urn:gsma:params:xml:ns:rcs:rcs:up:fthttpext``) and China Unicom's ``file-exist``.
Elements are matched by local name, so a sender that drops or changes a namespace is
still understood. XML is read only through :func:`~rcs_terminal.protocol.xmlsafe.parse_xml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol.up import _xml
from rcs_terminal.protocol.xmlsafe import Element, local_name, namespace

FTHTTP_NS = "urn:gsma:params:xml:ns:rcs:rcs:fthttp"
FTHTTP_EXT_NS = "urn:gsma:params:xml:ns:rcs:rcs:up:fthttpext"
RRAM_NS = "urn:gsma:params:xml:ns:rcs:rcs:rram"


@dataclass(frozen=True, kw_only=True)
class FileInfo:
    """One ``file-info`` entry (the file or its thumbnail).

    Attributes:
        size: ``file-size`` in bytes.
        content_type: ``content-type`` (e.g. ``image/png``, ``audio/amr;voice-recording=yes``).
        url: ``data/@url``, where to download it.
        until: ``data/@until``, RFC 3339 expiry of the URL, as sent.
        name: ``file-name`` (file entries only).
    """

    size: int
    content_type: str
    url: str
    until: str | None = None
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class FileTransferInfo:
    """An FT-HTTP descriptor.

    Attributes:
        file: the file entry.
        thumbnail: the thumbnail entry, when sent.
        disposition: ``file-disposition`` (``render`` or ``attachment``), as sent.
        playing_length: ``am:playing-length`` of an audio message, in milliseconds.
        branded_url: ``e:branded-url``, an operator-branded download link.
        file_exist: China Unicom's ``file-exist`` value (meaning unknown), as sent.
    """

    file: FileInfo
    thumbnail: FileInfo | None = None
    disposition: str | None = None
    playing_length: int | None = None
    branded_url: str | None = None
    file_exist: str | None = None

    @property
    def is_voice_message(self) -> bool:
        """True for audio messages (``voice-recording=yes`` in the content type)."""
        return "voice-recording=yes" in self.file.content_type.replace(" ", "").lower()

    def to_xml(self) -> bytes:
        """The descriptor document (UTF-8).

        Raises:
            LocalProtocolError: when a value holds a character XML cannot carry.
        """
        x = _xml
        ns = f' xmlns="{FTHTTP_NS}"'
        if self.playing_length is not None:
            ns += f' xmlns:am="{RRAM_NS}"'
        if self.branded_url is not None:
            ns += f' xmlns:e="{FTHTTP_EXT_NS}"'
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<file{ns}>\n"]
        if self.thumbnail is not None:
            parts.append('<file-info type="thumbnail">\n')
            _entry(parts, self.thumbnail)
            parts.append("</file-info>\n")
        disposition = ""
        if self.disposition is not None:
            disposition = f' file-disposition="{x.attr(self.disposition)}"'
        parts.append(f'<file-info type="file"{disposition}>\n')
        _entry(parts, self.file, self.playing_length)
        if self.file_exist is not None:
            parts.append(f"<file-exist>{x.text(self.file_exist)}</file-exist>\n")
        if self.branded_url is not None:
            parts.append(f"<e:branded-url>{x.text(self.branded_url)}</e:branded-url>\n")
        parts.append("</file-info>\n</file>\n")
        return "".join(parts).encode("utf-8")


def _entry(parts: list[str], info: FileInfo, playing_length: int | None = None) -> None:
    x = _xml
    parts.append(f"<file-size>{info.size}</file-size>\n")
    if info.name is not None:
        parts.append(f"<file-name>{x.text(info.name)}</file-name>\n")
    parts.append(f"<content-type>{x.text(info.content_type)}</content-type>\n")
    if playing_length is not None:
        parts.append(f"<am:playing-length>{playing_length}</am:playing-length>\n")
    until = "" if info.until is None else f' until="{x.attr(info.until)}"'
    parts.append(f'<data url="{x.attr(info.url)}"{until}/>\n')


def build_fthttp(
    file: FileInfo,
    thumbnail: FileInfo | None = None,
    *,
    disposition: str | None = None,
    playing_length: int | None = None,
    branded_url: str | None = None,
    file_exist: str | None = None,
) -> bytes:
    """The FT-HTTP descriptor body for ``file`` (and its ``thumbnail``)."""
    return FileTransferInfo(
        file=file,
        thumbnail=thumbnail,
        disposition=disposition,
        playing_length=playing_length,
        branded_url=branded_url,
        file_exist=file_exist,
    ).to_xml()


# --------------------------------------------------------------------------- parsing


def _int(el: Element, where: str) -> int:
    value = (el.text or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 30:
        raise PayloadParseError(f"expected a non-negative integer, found {value!r}", where=where)
    return int(value)


def _read_entry(el: Element, where: str) -> tuple[FileInfo, dict[str, Any]]:
    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for child in el:
        tag = local_name(child.tag) if isinstance(child.tag, str) else ""
        here = f"{where}/{tag}"
        if tag == "file-size":
            values["size"] = _int(child, here)
        elif tag == "file-name":
            values["name"] = (child.text or "").strip()
        elif tag == "content-type":
            values["content_type"] = (child.text or "").strip()
        elif tag == "data":
            url = child.get("url")
            if url is None:
                raise PayloadParseError("data element without url", where=here)
            values["url"] = url
            values["until"] = child.get("until")
        elif tag == "playing-length":
            extras["playing_length"] = _int(child, here)
        elif tag == "branded-url":
            extras["branded_url"] = (child.text or "").strip()
        elif tag == "file-exist":
            extras["file_exist"] = (child.text or "").strip()
    for key, element in (("size", "file-size"), ("content_type", "content-type"), ("url", "data")):
        if key not in values:
            raise PayloadParseError(f"file-info without {element}", where=where)
    return FileInfo(**values), extras


def parse_fthttp(data: bytes | str) -> FileTransferInfo:
    """Parse an FT-HTTP descriptor.

    Raises:
        PayloadParseError: when the XML is unsafe or malformed, the root is not ``file``,
            or the file entry misses its size, content type or URL.
    """
    root = _xml.parse(data)
    if local_name(root.tag) != "file" or namespace(root.tag) not in (FTHTTP_NS, ""):
        raise PayloadParseError(f"root element {root.tag!r} is not an FT-HTTP file", where="/")
    file: tuple[FileInfo, dict[str, Any]] | None = None
    thumbnail: FileInfo | None = None
    disposition = root.get("file-disposition")
    index = 0
    for child in root:
        if not isinstance(child.tag, str) or local_name(child.tag) != "file-info":
            continue
        index += 1
        kind = child.get("type", "file")
        where = f"/file/file-info[{index}]"
        if kind == "thumbnail":
            if thumbnail is not None:
                raise PayloadParseError("several thumbnail entries", where=where)
            thumbnail = _read_entry(child, where)[0]
        elif kind == "file":
            if file is not None:
                raise PayloadParseError("several file entries", where=where)
            file = _read_entry(child, where)
            disposition = child.get("file-disposition", disposition)
    if file is None:
        raise PayloadParseError('no file-info of type "file"', where="/file")
    info, extras = file
    return FileTransferInfo(file=info, thumbnail=thumbnail, disposition=disposition, **extras)
