"""Where a SIP message begins and ends in bytes (RFC 3261 §7, §7.5, §18.3; RFC 5626 §4.4.1).

This module owns the byte-level layout of a message, below the typed model:

- :func:`split_head` cuts one message into start line, header fields and body offset: it
  finds the empty line that ends the header section, refuses control characters and
  non-UTF-8 text there, and joins folded header lines (a line starting with whitespace
  continues the previous field, §7.3.1), expanding compact names as it goes;
- :class:`FrameSplitter` cuts a TCP/TLS byte stream into whole messages by their
  Content-Length (which a stream message must carry, §18.3), skipping the CRLF keep-alives
  of RFC 5626 §4.4.1 (a double CRLF ping, a single CRLF pong) that may sit between them.

Both accept lines ended by a bare LF as well as CRLF, as many parsers do. Nothing here
knows about requests or responses; :mod:`rcs_terminal.protocol.sip.message` builds those.
"""

from __future__ import annotations

import re
from typing import NoReturn

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.sip.grammar import is_token
from rcs_terminal.protocol.sip.names import CANONICAL_NAMES

__all__ = ["FrameSplitter", "HeadParts", "find_blank_line", "split_head"]

_BAD_HEAD_BYTES_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")
_PRINTABLE = b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_CRLF = b"\r\n"
_CONTENT_LENGTH_RE = re.compile(rb"\n(?:content-length|l)[ \t]*:([^\r\n]*)", re.IGNORECASE)
_SPACE = " \t"

HeadParts = tuple[str, list[tuple[str, str, str]], int]
"""``(start_line, fields, body_offset)``: fields are ``(key, name, value)`` triples."""


def split_head(data: bytes, start: int, hint: int | None) -> HeadParts:
    """Cut the header section of the message that starts at ``data[start]``.

    Args:
        data: the bytes holding the message.
        start: the offset of its start line.
        hint: the ``status_hint`` for errors (400 for a request, ``None`` for a response).

    Returns:
        The start line, the header fields in order (folded lines joined, compact names
        expanded, values stripped) and the offset of the first body byte.

    Raises:
        SipParseError: when the header section has no end, holds control characters or
            non-UTF-8 text, has a line without a colon, a bad name or too many fields.
    """
    found = find_blank_line(data, start)
    if found is None:
        raise SipParseError(
            "header section is not ended by an empty line", where=start, status_hint=hint
        )
    head_end, body_start = found
    head = data[start:head_end]
    # One pass over the bytes: what is left after deleting the printable ones must be the
    # CRLF line breaks and nothing else; anything more is a control byte, a lone CR, or
    # bare-LF line breaks (accepted).
    breaks = head.translate(None, _PRINTABLE)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(
            "header section is not UTF-8", where=start + exc.start, status_hint=hint
        ) from None
    lines = text.split("\r\n")
    if breaks != _CRLF * (len(lines) - 1):
        bad = _BAD_HEAD_BYTES_RE.search(head)
        if bad is not None:
            raise SipParseError(
                f"control byte {bad.group()[:1]!r} in the header section",
                where=start + bad.start(),
                status_hint=hint,
            )
        lines = text.replace("\r\n", "\n").split("\n")
    if "\n " in text or "\n\t" in text:
        lines = _unfold(lines, hint)
    return lines[0], _fields(lines, hint), body_start


def find_blank_line(data: bytes | bytearray, start: int) -> tuple[int, int] | None:
    """Find the empty line that ends a header section starting at ``data[start]``.

    Returns:
        ``(head_end, body_start)``: where the last header line ends (its line break
        excluded) and where the body begins; ``None`` when there is no empty line yet.
    """
    crlf = data.find(b"\n\r\n", start)
    bare = data.find(b"\n\n", start, None if crlf < 0 else crlf + 1)
    if bare >= 0:
        newline, body_start = bare, bare + 2
    elif crlf >= 0:
        newline, body_start = crlf, crlf + 3
    else:
        return None
    head_end = newline - 1 if newline > 0 and data[newline - 1] == 0x0D else newline
    return head_end, body_start


def _unfold(lines: list[str], hint: int | None) -> list[str]:
    """Join continuation lines (starting with SP or HTAB) to the line before (§7.3.1)."""
    joined = [lines[0]]
    folded: list[str] = []
    for number in range(1, len(lines)):
        line = lines[number]
        if line[:1] in (" ", "\t"):
            if number == 1:
                raise SipParseError(
                    "continuation line before any header", where="line 2", status_hint=hint
                )
            piece = line.strip(_SPACE)
            if piece:
                folded.append(piece)
            continue
        if folded:
            joined[-1] = " ".join([joined[-1].rstrip(_SPACE), *folded])
            folded = []
        joined.append(line)
    if folded:
        joined[-1] = " ".join([joined[-1].rstrip(_SPACE), *folded])
    return joined


def _fields(lines: list[str], hint: int | None) -> list[tuple[str, str, str]]:
    fields: list[tuple[str, str, str]] = []
    append = fields.append
    known = CANONICAL_NAMES.get
    limit = limits.MAX_SIP_HEADERS
    for number in range(1, len(lines)):
        raw_name, colon, raw_value = lines[number].partition(":")
        if not colon:
            raise SipParseError(
                "header line without a colon", where=f"line {number + 1}", status_hint=hint
            )
        entry = known(raw_name.lower())
        if entry is None:
            raw_name = raw_name.rstrip(_SPACE)
            entry = known(raw_name.lower())
            if entry is None:
                if not is_token(raw_name):
                    raise SipParseError(
                        f"bad header name {raw_name[:40]!r}",
                        where=f"line {number + 1}",
                        status_hint=hint,
                    )
                entry = (raw_name.lower(), raw_name)
        append((entry[0], entry[1], raw_value.strip(_SPACE)))
        if len(fields) > limit:
            raise SipParseError(
                f"more than {limit} header fields", where=f"line {number + 1}", status_hint=hint
            )
    return fields


class FrameSplitter:
    """Cuts a stream of bytes into whole SIP messages by Content-Length (RFC 3261 §18.3).

    Feed bytes with :meth:`push` and take messages with :meth:`next_frame` until it returns
    ``None``. Keep-alives are resolved per push: a CRLFCRLF counts as a ping, a lone CRLF
    as a pong (peers write each keep-alive whole, RFC 5626 §4.4.1).

    A framing error (no end of the header section within the size limit, a missing or bad
    Content-Length, a message over the limit) leaves the stream unusable: the call raises
    :class:`SipParseError`, and so does every later call.

    Args:
        max_message: the largest message accepted, in bytes.
    """

    def __init__(self, max_message: int = limits.MAX_SIP_MESSAGE) -> None:
        self._max = max_message
        self._buf = bytearray()
        self._pos = 0
        self._scan = 0
        self._frame_end: int | None = None
        self._offset = 0
        self._error: str | None = None
        self.pings_received = 0
        """Double-CRLF pings seen (answer each with a CRLF pong)."""
        self.pongs_received = 0
        """Single-CRLF pongs seen."""

    @property
    def broken(self) -> bool:
        """True once a framing error has made the stream unusable."""
        return self._error is not None

    def push(self, data: bytes) -> None:
        """Append bytes received from the stream."""
        if self._pos:
            del self._buf[: self._pos]
            self._offset += self._pos
            self._scan = max(0, self._scan - self._pos)
            if self._frame_end is not None:
                self._frame_end -= self._pos
            self._pos = 0
        self._buf += data

    def next_frame(self) -> bytes | None:
        """Return the next complete message, or ``None`` when more bytes are needed.

        Raises:
            SipParseError: on a framing error (now or earlier).
        """
        if self._error is not None:
            raise SipParseError(f"stream unusable after an earlier error: {self._error}")
        if self._frame_end is None:
            if not self._skip_keepalives():
                return None
            end = self._find_frame_end()
            if end is None:
                return None
            self._frame_end = end
        end = self._frame_end
        if len(self._buf) < end:
            return None
        frame = bytes(self._buf[self._pos : end])
        self._pos = self._scan = end
        self._frame_end = None
        return frame

    def _skip_keepalives(self) -> bool:
        buf = self._buf
        pos = self._pos
        size = len(buf)
        while pos < size and buf[pos] == 0x0D:
            if buf.startswith(b"\r\n\r\n", pos):
                self.pings_received += 1
                pos += 4
            elif buf.startswith(b"\r\n", pos):
                self.pongs_received += 1
                pos += 2
            else:
                break  # a lone CR: the rest of a keep-alive, or junk the parser reports
        self._pos = pos
        self._scan = max(self._scan, pos)
        return pos < size and not (buf[pos] == 0x0D and pos + 1 == size)

    def _find_frame_end(self) -> int | None:
        buf = self._buf
        start = self._pos
        found = find_blank_line(buf, self._scan)
        if found is None:
            if len(buf) - start > self._max:
                self._fail(f"no end of header section within {self._max} bytes", start)
            self._scan = max(start, len(buf) - 2)
            return None
        head_end, body_start = found
        lengths = {
            match.group(1).strip(b" \t")
            for match in _CONTENT_LENGTH_RE.finditer(buf, start, head_end)
        }
        if not lengths:
            self._fail("message on a stream without Content-Length", start)
        if len(lengths) > 1:
            self._fail("conflicting Content-Length values", start)
        (raw,) = lengths
        if not raw.isdigit() or len(raw) > 10:
            self._fail("bad Content-Length", start)
        end = body_start + int(raw)
        if end - start > self._max:
            self._fail(f"message of {end - start} bytes exceeds {self._max}", start)
        return end

    def _fail(self, reason: str, start: int) -> NoReturn:
        self._error = reason
        raise SipParseError(reason, where=self._offset + start)
