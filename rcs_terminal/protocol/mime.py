"""MIME content types and header-field blocks, as CPIM and multipart bodies carry them.

This module owns two small pieces of MIME that several wire formats share:

- **Content-Type values** (RFC 2045 §5.1, RFC 2046): ``type/subtype`` followed by
  ``; name=value`` parameters whose values are tokens or quoted strings. The media type and
  parameter names are case-insensitive and kept lowercased; parameter values are kept as
  sent (``charset`` is the exception: :attr:`ContentType.charset` lowercases it, since
  charset names compare case-insensitively). Real senders write ``text/plain;charset=UTF-8``
  without a space, leave a trailing ``;``, or put ``=`` and ``/`` in unquoted boundary
  values; all of that is accepted. Output follows RFC 2045: ``; `` between parameters,
  quotes only where a value is not a token.
- **Header-field blocks** (RFC 5322 §2.2 as profiled by RFC 2045 §3 and RFC 3862 §3):
  ``Name: value`` lines up to an empty line. CRLF and bare LF are both accepted, folded
  continuation lines are unfolded, names keep the spelling they were sent with and are
  looked up case-insensitively. CPIM (:mod:`rcs_terminal.protocol.cpim`) and multipart
  (:mod:`rcs_terminal.protocol.multipart`) both parse their headers here, each passing its
  own :class:`~rcs_terminal.errors.ParseError` subclass so a caller always gets the error of
  the format it asked for.

Everything here is pure: bytes or text in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rcs_terminal.errors import LocalProtocolError, ParseError

MAX_HEADER_FIELDS = 128
"""Most header fields accepted in one MIME/CPIM header block."""

MAX_CONTENT_TYPE = 4096
"""Longest Content-Type value accepted, in characters."""

_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')
_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - _TSPECIALS
_WSP = " \t"


def is_token(text: str) -> bool:
    """Return whether ``text`` is a non-empty RFC 2045 token."""
    return bool(text) and all(ch in _TOKEN_CHARS for ch in text)


def _has_control(text: str) -> bool:
    """Return whether ``text`` holds a control character other than horizontal tab."""
    return any((ch < " " and ch != "\t") or ch == "\x7f" for ch in text)


# --------------------------------------------------------------------------- Content-Type


@dataclass(frozen=True, slots=True)
class ContentType:
    """A parsed Content-Type value.

    Attributes:
        media_type: ``type/subtype``, lowercased (``"text/plain"``).
        params: the parameters in order, names lowercased, values as sent (unquoted).
    """

    media_type: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def create(cls, media_type: str, /, **params: str) -> ContentType:
        """Build a content type to send: ``ContentType.create("text/plain", charset="UTF-8")``.

        Raises:
            LocalProtocolError: if the media type is not ``token/token``.
        """
        kind, _, sub = media_type.strip().partition("/")
        if not (is_token(kind) and is_token(sub)):
            raise LocalProtocolError(f"not a media type: {media_type!r}")
        return cls(f"{kind}/{sub}".lower(), tuple((k.lower(), v) for k, v in params.items()))

    @property
    def type(self) -> str:
        """The top-level type (``"text"``, ``"multipart"``...)."""
        return self.media_type.partition("/")[0]

    @property
    def subtype(self) -> str:
        """The subtype (``"plain"``, ``"mixed"``, ``"imdn+xml"``...)."""
        return self.media_type.partition("/")[2]

    def param(self, name: str) -> str | None:
        """Return the value of parameter ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.params:
            if key == wanted:
                return value
        return None

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter, lowercased, or None."""
        value = self.param("charset")
        return value.lower() if value is not None else None

    @property
    def boundary(self) -> str | None:
        """The ``boundary`` parameter of a multipart type, or None."""
        return self.param("boundary")

    @property
    def is_multipart(self) -> bool:
        """Whether this is a ``multipart/*`` type."""
        return self.type == "multipart"

    def __str__(self) -> str:
        return format_content_type(self)


def parse_content_type(value: str | bytes, *, error: type[ParseError] = ParseError) -> ContentType:
    """Parse a Content-Type header value.

    Args:
        value: the header value (without the ``Content-Type:`` name).
        error: the :class:`ParseError` subclass to raise.

    Returns:
        The parsed content type.

    Raises:
        ParseError: (``error``) when the value is not ``type/subtype`` followed by
            well-formed parameters.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise error("Content-Type is not valid UTF-8", where="Content-Type") from None
    if len(value) > MAX_CONTENT_TYPE:
        raise error(f"Content-Type longer than {MAX_CONTENT_TYPE} characters", where="Content-Type")
    if _has_control(value):
        raise error("control character in Content-Type", where="Content-Type")
    semi = value.find(";")
    head = (value if semi < 0 else value[:semi]).strip(_WSP)
    kind, slash, sub = head.partition("/")
    kind, sub = kind.strip(_WSP), sub.strip(_WSP)
    if not slash or not is_token(kind) or not is_token(sub):
        raise error(f"not a media type: {head!r}", where="Content-Type")
    params = _parse_params(value, semi + 1, error) if semi >= 0 else ()
    return ContentType(f"{kind}/{sub}".lower(), params)


def _parse_params(text: str, pos: int, error: type[ParseError]) -> tuple[tuple[str, str], ...]:
    """Parse ``name=value`` parameters separated by ``;`` from ``text[pos:]``."""
    params: list[tuple[str, str]] = []
    end = len(text)
    while pos < end:
        stop = pos
        while stop < end and text[stop] not in "=;":
            stop += 1
        name = text[pos:stop].strip(_WSP)
        if stop == end or text[stop] == ";":
            if name:
                raise error(f"parameter {name!r} has no value", where="Content-Type")
            pos = stop + 1
            continue
        if not is_token(name):
            raise error(f"bad parameter name {name!r}", where="Content-Type")
        pos = stop + 1
        while pos < end and text[pos] in _WSP:
            pos += 1
        if pos < end and text[pos] == '"':
            raw, pos = _read_quoted(text, pos, error)
            while pos < end and text[pos] in _WSP:
                pos += 1
            if pos < end and text[pos] != ";":
                raise error(f"text after the quoted value of {name!r}", where="Content-Type")
        else:
            stop = text.find(";", pos)
            stop = end if stop < 0 else stop
            raw = text[pos:stop].strip(_WSP)
            pos = stop
        params.append((name.lower(), raw))
        pos += 1
    return tuple(params)


def _read_quoted(text: str, pos: int, error: type[ParseError]) -> tuple[str, int]:
    """Read the quoted string starting at ``text[pos] == '"'``; return (value, next pos)."""
    out: list[str] = []
    i = pos + 1
    end = len(text)
    while i < end:
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < end:
            i += 1
            ch = text[i]
        out.append(ch)
        i += 1
    raise error("unterminated quoted string", where="Content-Type")


def quote_if_needed(value: str) -> str:
    """Return ``value`` as a token, or as a quoted string when it is not one."""
    if is_token(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_content_type(content_type: ContentType) -> str:
    """Serialise a content type, e.g. ``multipart/mixed; boundary=next``.

    Raises:
        LocalProtocolError: if a parameter cannot be written on one header line.
    """
    pieces = [content_type.media_type]
    for name, value in content_type.params:
        if not is_token(name) or _has_control(value):
            raise LocalProtocolError(f"cannot write Content-Type parameter {name!r}={value!r}")
        pieces.append(f"; {name}={quote_if_needed(value)}")
    return "".join(pieces)


# --------------------------------------------------------------------------- header blocks


@dataclass(frozen=True, slots=True)
class MimeHeaders:
    """An ordered block of header fields, looked up case-insensitively.

    Attributes:
        fields: ``(name, value)`` pairs in the order they were sent; names keep their
            spelling, values are unfolded and stripped.
    """

    fields: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """Return the value of the first field called ``name`` (any case), or None."""
        wanted = name.lower()
        for key, value in self.fields:
            if key.lower() == wanted:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        """Return the values of every field called ``name`` (any case), in order."""
        wanted = name.lower()
        return [value for key, value in self.fields if key.lower() == wanted]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def to_bytes(self) -> bytes:
        """Serialise as ``Name: value`` lines, each ending in CRLF (no final empty line)."""
        return format_header_fields(self.fields)


def format_header_fields(fields: Iterable[tuple[str, str]]) -> bytes:
    """Serialise header fields as ``Name: value`` CRLF lines.

    Raises:
        LocalProtocolError: if a name is not printable ASCII without ``:``, or a value
            holds a line break or another control character.
    """
    lines: list[str] = []
    for name, value in fields:
        if not _is_field_name(name):
            raise LocalProtocolError(f"bad header name {name!r}")
        if _has_control(value):
            raise LocalProtocolError(f"header {name} has a control character in its value")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("utf-8")


def _is_field_name(name: str) -> bool:
    """RFC 5322 ftext: printable US-ASCII except colon."""
    return bool(name) and all("!" <= ch <= "~" and ch != ":" for ch in name)


def parse_header_block(
    data: bytes,
    start: int = 0,
    *,
    error: type[ParseError] = ParseError,
    require_blank_line: bool = True,
    max_fields: int = MAX_HEADER_FIELDS,
) -> tuple[MimeHeaders, int]:
    """Parse header fields from ``data[start:]`` up to the first empty line.

    Lines may end in CRLF or a bare LF. A line starting with a space or tab continues the
    previous field (RFC 5322 §2.2.3 unfolding). Names and values must be UTF-8; values may
    not hold control characters other than tab.

    Args:
        data: the bytes holding the block.
        start: offset of the first header line.
        error: the :class:`ParseError` subclass to raise.
        require_blank_line: when False, the end of ``data`` also ends the block.
        max_fields: the most fields accepted.

    Returns:
        The fields and the offset just after the empty line (the start of what follows).

    Raises:
        ParseError: (``error``) for a line without a colon, a bad name, a stray
            continuation line, a control character, non-UTF-8 text, too many fields, or a
            block that is not ended by an empty line when one is required.
    """
    fields: list[tuple[str, str]] = []
    pos = start
    end = len(data)
    while True:
        if pos >= end:
            if require_blank_line:
                raise error("header block not ended by an empty line", where=pos)
            return MimeHeaders(tuple(fields)), end
        newline = data.find(b"\n", pos)
        line_end = end if newline < 0 else newline
        next_pos = end if newline < 0 else newline + 1
        raw = data[pos:line_end]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw:
            if newline < 0 and require_blank_line:
                raise error("header block not ended by an empty line", where=pos)
            return MimeHeaders(tuple(fields)), next_pos
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise error("header line is not valid UTF-8", where=pos) from None
        if _has_control(line):
            raise error("control character in a header line", where=pos)
        if line[0] in _WSP:
            if not fields:
                raise error("continuation line before any header", where=pos)
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip(_WSP)}".strip(_WSP))
        else:
            name, colon, value = line.partition(":")
            name = name.rstrip(_WSP)
            if not colon:
                raise error("header line without a colon", where=pos)
            if not _is_field_name(name):
                raise error(f"bad header name {name!r}", where=pos)
            if len(fields) >= max_fields:
                raise error(f"more than {max_fields} header fields", where=pos)
            fields.append((name, value.strip(_WSP)))
        pos = next_pos
