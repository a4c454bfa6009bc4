"""multipart/mixed bodies (RFC 2046 §5.1), as chatbots send a message plus its chip list.

A UP chatbot message with suggested replies is a ``multipart/mixed`` body: the first part is
the content (text, a rich card, a file or a location) and the last part the
``application/vnd.gsma.botsuggestion.v1.0+json`` chip list. Chinese 5G Message platforms use
the boundary ``next``; others use generated strings. Every part carries its own MIME headers,
usually ``Content-Type`` and ``Content-Length``.

Parsing follows RFC 2046 §5.1.1: a delimiter is ``--boundary`` at the start of a line
(optionally followed by spaces and tabs), the line break *before* it belongs to the
delimiter, ``--boundary--`` closes the body, and the preamble and epilogue are ignored.
What real senders do beyond that is accepted: bare LF line ends, a close delimiter without
its final line break, and (unless ``strict``) a body that never closes, whose last part then
runs to the end. When a part's ``Content-Length`` is smaller than its body and the surplus is
only line breaks or spaces, the surplus is dropped: some platforms put an extra empty line
before the next delimiter. Output always uses CRLF, writes ``Content-Type`` first and a
correct ``Content-Length`` in every part, and closes with ``--boundary--`` CRLF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rcs_terminal.errors import LocalProtocolError, MultipartParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.mime import (
    ContentType,
    MimeHeaders,
    format_content_type,
    format_header_fields,
    parse_content_type,
    parse_header_block,
)

DEFAULT_BOUNDARY = "next"
"""The boundary Chinese 5G Message platforms use."""

MAX_BOUNDARY = 200
"""Longest boundary accepted on input (RFC 2046 allows 70; some senders go beyond)."""

_BCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")


@dataclass(frozen=True, slots=True)
class Part:
    """One body part: its MIME headers and its body bytes.

    Attributes:
        headers: the part's header fields.
        body: the part's body.
    """

    headers: MimeHeaders
    body: bytes

    @classmethod
    def create(
        cls,
        content_type: ContentType | str,
        body: bytes,
        *,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Part:
        """Make a part to send: ``Content-Type`` first, then ``headers``."""
        ctype = content_type if isinstance(content_type, str) else format_content_type(content_type)
        return cls(MimeHeaders((("Content-Type", ctype), *headers)), body)

    @property
    def content_type(self) -> ContentType:
        """The part's Content-Type; ``text/plain`` when absent (RFC 2046 §5.1.1).

        Raises:
            MultipartParseError: if the part's Content-Type value is malformed.
        """
        value = self.headers.get("Content-Type")
        if value is None:
            return ContentType("text/plain")
        return parse_content_type(value, error=MultipartParseError)

    @property
    def content_length(self) -> int | None:
        """The part's declared Content-Length, or None when absent or not a number."""
        return _declared_length(self.headers)


def _declared_length(headers: MimeHeaders) -> int | None:
    value = headers.get("Content-Length")
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 12:
        return None
    return int(value)


# --------------------------------------------------------------------------- parsing


def parse_multipart(
    body: bytes, content_type: ContentType | str, *, strict: bool = False
) -> list[Part]:
    """Split a multipart body into its parts.

    Args:
        body: the multipart body.
        content_type: its Content-Type (must be ``multipart/*`` with a ``boundary``).
        strict: refuse a body without a close delimiter instead of ending the last part at
            the end of the data.

    Returns:
        The parts in order (at least one).

    Raises:
        MultipartParseError: when the content type is not multipart or has no usable
            boundary, no delimiter is found, the body has no parts, holds more than
            ``limits.MAX_MULTIPART_PARTS`` parts or is larger than ``limits.MAX_CPIM``, a part's
            headers are malformed, or (``strict``) the close delimiter is missing.
    """
    ctype = (
        content_type
        if isinstance(content_type, ContentType)
        else parse_content_type(content_type, error=MultipartParseError)
    )
    if not ctype.is_multipart:
        raise MultipartParseError(
            f"{ctype.media_type} is not a multipart type", where="Content-Type"
        )
    boundary = ctype.boundary
    if not boundary:
        raise MultipartParseError("multipart Content-Type without a boundary", where="Content-Type")
    if len(boundary) > MAX_BOUNDARY:
        raise MultipartParseError(f"boundary longer than {MAX_BOUNDARY}", where="Content-Type")
    if len(body) > limits.MAX_CPIM:
        raise MultipartParseError(
            f"body of {len(body)} bytes exceeds the limit of {limits.MAX_CPIM}", status_hint=413
        )
    dash = b"--" + boundary.encode("utf-8")
    found = _find_delimiter(body, dash, 0)
    if found is None:
        raise MultipartParseError(f"no --{boundary} delimiter in the body", where=0)
    at, closed, cursor = found
    if closed:
        raise MultipartParseError("multipart body has no parts", where=at)
    parts: list[Part] = []
    end = len(body)
    while True:
        found = _find_delimiter(body, dash, max(cursor - 1, 0))
        if found is None:
            if strict:
                raise MultipartParseError("no closing --boundary-- delimiter", where=end)
            stop = end
            if body.endswith(b"\n", cursor):
                stop -= 2 if body.endswith(b"\r\n", cursor) else 1
            parts.append(_parse_part(body, cursor, stop, len(parts)))
            break
        at, closed, next_cursor = found
        stop = at - 1  # the LF ending the last body line belongs to the delimiter
        if stop > cursor and body[stop - 1] == 0x0D:
            stop -= 1
        parts.append(_parse_part(body, cursor, max(stop, cursor), len(parts)))
        if closed:
            break
        cursor = next_cursor
        if cursor >= end:
            if strict:
                raise MultipartParseError("no closing --boundary-- delimiter", where=end)
            break
    return parts


def _find_delimiter(body: bytes, dash: bytes, start: int) -> tuple[int, bool, int] | None:
    """Find the next delimiter line at or after ``start``.

    Returns:
        ``(offset of the dashes, whether it is the close delimiter, offset after its line)``,
        or None when there is none.
    """
    if start == 0 and body.startswith(dash):
        tail = _delimiter_tail(body, len(dash))
        if tail is not None:
            return 0, tail[0], tail[1]
    needle = b"\n" + dash
    pos = start
    while True:
        hit = body.find(needle, pos)
        if hit < 0:
            return None
        tail = _delimiter_tail(body, hit + len(needle))
        if tail is not None:
            return hit + 1, tail[0], tail[1]
        pos = hit + 1


def _delimiter_tail(body: bytes, pos: int) -> tuple[bool, int] | None:
    """Check what follows ``--boundary`` at ``pos``: ``(closed, next line)`` or None if the
    line is not a delimiter (the boundary is only the start of a longer word)."""
    closed = body.startswith(b"--", pos)
    if closed:
        pos += 2
    end = len(body)
    while pos < end and body[pos] in b" \t":
        pos += 1
    if pos == end:
        return closed, end
    if body.startswith(b"\r\n", pos):
        return closed, pos + 2
    if body[pos] == 0x0A:
        return closed, pos + 1
    if closed:  # "--boundary--" followed by epilogue text on the same line
        newline = body.find(b"\n", pos)
        return closed, end if newline < 0 else newline + 1
    return None


def _parse_part(body: bytes, start: int, stop: int, index: int) -> Part:
    if index >= limits.MAX_MULTIPART_PARTS:
        raise MultipartParseError(
            f"more than {limits.MAX_MULTIPART_PARTS} parts", where=start, status_hint=413
        )
    content = body[start:stop]
    if not content:
        return Part(MimeHeaders(), b"")
    if content.startswith((b"\r\n", b"\n")):
        headers, pos = MimeHeaders(), 2 if content.startswith(b"\r\n") else 1
    else:
        try:
            headers, pos = parse_header_block(
                content, 0, error=MultipartParseError, require_blank_line=False
            )
        except MultipartParseError as exc:
            where = start + exc.where if isinstance(exc.where, int) else exc.where
            raise MultipartParseError(f"part {index + 1}: {exc.reason}", where=where) from None
    part_body = content[pos:]
    declared = _declared_length(headers)
    if (
        declared is not None
        and declared < len(part_body)
        and not part_body[declared:].strip(b" \t\r\n")
    ):
        part_body = part_body[:declared]
    return Part(headers, part_body)


# --------------------------------------------------------------------------- building


def build_multipart(
    parts: Sequence[Part], boundary: str = DEFAULT_BOUNDARY, *, subtype: str = "mixed"
) -> tuple[str, bytes]:
    """Build a multipart body.

    Each part is written with its headers in order (``Content-Type`` first, added as
    ``text/plain; charset=utf-8`` if missing), any stale ``Content-Length`` replaced by the
    real length of its body.

    Args:
        parts: the parts, at least one.
        boundary: the boundary (1 to 70 RFC 2046 ``bchars``, not ending in a space).
        subtype: the multipart subtype.

    Returns:
        ``(Content-Type value, body)``, e.g. ``("multipart/mixed; boundary=next", b"--next...")``.

    Raises:
        LocalProtocolError: for no parts, too many parts, a bad boundary, a boundary that
            occurs in a part's body, or a header that cannot be written.
    """
    if not parts:
        raise LocalProtocolError("a multipart body needs at least one part")
    if len(parts) > limits.MAX_MULTIPART_PARTS:
        raise LocalProtocolError(f"more than {limits.MAX_MULTIPART_PARTS} parts")
    if not (0 < len(boundary) <= 70) or boundary.endswith(" ") or set(boundary) - _BCHARS:
        raise LocalProtocolError(f"not a valid multipart boundary: {boundary!r}")
    dash = b"--" + boundary.encode("ascii")
    chunks: list[bytes] = []
    for part in parts:
        if part.body.startswith(dash) or b"\n" + dash in part.body:
            raise LocalProtocolError(f"boundary {boundary!r} occurs in a part's body")
        fields = [(n, v) for n, v in part.headers if n.lower() != "content-length"]
        if not any(n.lower() == "content-type" for n, _ in fields):
            fields.insert(0, ("Content-Type", "text/plain; charset=utf-8"))
        fields.append(("Content-Length", str(len(part.body))))
        chunks += [dash, b"\r\n", format_header_fields(fields), b"\r\n", part.body, b"\r\n"]
    chunks += [dash, b"--\r\n"]
    ctype = ContentType(f"multipart/{subtype.lower()}", (("boundary", boundary),))
    return format_content_type(ctype), b"".join(chunks)
