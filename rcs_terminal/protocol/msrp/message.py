"""MSRP requests and responses: the model, the parser and the serialiser (RFC 4975 §7, §9).

An MSRP transaction on the wire is a start line, header fields, an optional body and an
end-line that repeats the transaction id followed by a continuation flag::

    MSRP a786hjs2 SEND
    To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
    From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
    Message-ID: 87652491
    Byte-Range: 1-25/25
    Content-Type: text/plain

    Hey Bob, are you there?
    -------a786hjs2$

There is no Content-Length: the end-line is what delimits the body, so the parser finds the
first ``CRLF "-------" transaction-id flag CRLF`` after the start line (§6). The flag is
``$`` for the last chunk of a message, ``+`` when more chunks follow and ``#`` when the
sender aborted the message (§7.1).

Header values are kept as the strings that arrived and parsed only when a typed accessor is
read (``to_path``, ``byte_range``...), which then raises :class:`MsrpParseError` with
``status_hint=400`` if the value is malformed. Headers are kept in the order §7.1.1 asks for
on output: To-Path, From-Path, the other fields, MIME fields, and Content-Type last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, cast

from rcs_terminal.errors import LocalProtocolError, MsrpParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp.headers import (
    CONTROL,
    HEADER_NAME,
    ByteRange,
    Headers,
    ReportStatus,
    canonical_order,
    is_ident,
    parse_byte_range,
    parse_status,
)
from rcs_terminal.protocol.msrp.uri import MsrpUri, parse_path

Continuation = Literal["$", "+", "#"]
"""The end-line flag: ``$`` last chunk, ``+`` more chunks follow, ``#`` message aborted."""

MAX_HEADERS = 64
"""Most header fields accepted in one MSRP message."""

MAX_START_LINE = 1024
"""Longest start line accepted, in bytes (CRLF excluded)."""

END_LINE_DASHES = b"-------"

_METHOD = re.compile(r"[A-Z]{1,32}")


# --------------------------------------------------------------------------- the model


class _HeaderAccess:
    """Typed access to the header fields every MSRP message carries."""

    transaction_id: str
    headers: Headers

    def header(self, name: str) -> str | None:
        """The value of the first header field called ``name`` (case-insensitive)."""
        lname = name.lower()
        for hname, value in self.headers:
            if hname.lower() == lname:
                return value
        return None

    def _required(self, name: str) -> str:
        value = self.header(name)
        if value is None:
            raise MsrpParseError(f"missing {name}", where=f"header {name}", status_hint=400)
        return value

    @cached_property
    def to_path(self) -> tuple[MsrpUri, ...]:
        """The To-Path URIs, the next hop first."""
        return parse_path(self._required("To-Path"))

    @cached_property
    def from_path(self) -> tuple[MsrpUri, ...]:
        """The From-Path URIs, the previous hop first."""
        return parse_path(self._required("From-Path"))

    def _end_line(self, flag: str) -> bytes:
        return b"".join((END_LINE_DASHES, self.transaction_id.encode(), flag.encode(), b"\r\n"))

    def _header_bytes(self) -> list[bytes]:
        out = []
        for name, value in self.headers:
            if not HEADER_NAME.fullmatch(name) or CONTROL.search(value):
                raise LocalProtocolError(f"MSRP header {name!r} cannot be serialised")
            out.append(f"{name}: {value}\r\n".encode())
        return out


@dataclass(frozen=True)
class MsrpRequest(_HeaderAccess):
    """An MSRP request (SEND, REPORT or any other method).

    Attributes:
        method: the method name, upper case.
        transaction_id: the transaction identifier of the start and end lines.
        headers: ``(name, value)`` pairs, kept in the §7.1.1 output order.
        body: the content (empty for a bodiless request).
        continuation: the end-line flag.
    """

    method: str
    transaction_id: str
    headers: Headers = ()
    body: bytes = b""
    continuation: Continuation = "$"

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", canonical_order(self.headers))

    @property
    def has_body(self) -> bool:
        """Whether the request has a body section (a Content-Type or some content)."""
        return bool(self.body) or self.header("Content-Type") is not None

    @cached_property
    def message_id(self) -> str | None:
        """The Message-ID, or ``None`` when absent."""
        value = self.header("Message-ID")
        if value is None:
            return None
        value = value.strip()
        if not is_ident(value):
            raise MsrpParseError(
                f"bad Message-ID {value[:40]!r}", where="header Message-ID", status_hint=400
            )
        return value

    @cached_property
    def byte_range(self) -> ByteRange | None:
        """The Byte-Range, or ``None`` when absent (then ``1-*/*`` is meant)."""
        value = self.header("Byte-Range")
        return None if value is None else parse_byte_range(value)

    @cached_property
    def success_report(self) -> bool:
        """Whether the sender asked for a success REPORT (absent means no)."""
        return self._yes_no("Success-Report", ("yes", "no"), "no") == "yes"

    @cached_property
    def failure_report(self) -> str:
        """``"yes"`` (the default), ``"no"`` or ``"partial"``."""
        return self._yes_no("Failure-Report", ("yes", "no", "partial"), "yes")

    @cached_property
    def status(self) -> ReportStatus | None:
        """The Status of a REPORT, or ``None`` when absent."""
        value = self.header("Status")
        return None if value is None else parse_status(value)

    @property
    def content_type(self) -> str | None:
        """The Content-Type value, or ``None``."""
        return self.header("Content-Type")

    def _yes_no(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.header(name)
        if value is None:
            return default
        value = value.strip().lower()
        if value not in allowed:
            raise MsrpParseError(
                f"bad {name} value {value[:20]!r}", where=f"header {name}", status_hint=400
            )
        return value

    def to_bytes(self) -> bytes:
        """Serialise the request.

        Raises:
            LocalProtocolError: when a header cannot be written or the body contains this
                transaction's end-line (pick another transaction id, RFC 4975 §7.1.1).
        """
        tid = self.transaction_id.encode()
        if (
            END_LINE_DASHES + tid in self.body
            and find_end_line(b"\r\n" + self.body + b"\r\n", b"\r\n" + END_LINE_DASHES + tid, 0)
            >= 0
        ):
            raise LocalProtocolError("MSRP body contains its own end-line")
        parts = [f"MSRP {self.transaction_id} {self.method}\r\n".encode()]
        parts += self._header_bytes()
        if self.has_body:
            parts += [b"\r\n", self.body, b"\r\n"]
        parts.append(self._end_line(self.continuation))
        return b"".join(parts)


@dataclass(frozen=True)
class MsrpResponse(_HeaderAccess):
    """An MSRP transaction response (RFC 4975 §7.2).

    Attributes:
        transaction_id: the transaction identifier of the request answered.
        status: the three-digit status code.
        comment: the text after the code, or ``None``.
        headers: ``(name, value)`` pairs, To-Path and From-Path first.
    """

    transaction_id: str
    status: int
    comment: str | None = None
    headers: Headers = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", canonical_order(self.headers))

    def to_bytes(self) -> bytes:
        """Serialise the response."""
        line = f"MSRP {self.transaction_id} {self.status:03d}"
        if self.comment:
            line = f"{line} {self.comment}"
        parts = [line.encode() + b"\r\n", *self._header_bytes(), self._end_line("$")]
        return b"".join(parts)


MsrpMessage = MsrpRequest | MsrpResponse


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class StartLine:
    """A parsed start line: a request's method or a response's status."""

    transaction_id: str
    method: str | None
    status: int | None = None
    comment: str | None = None

    @property
    def end_line_pattern(self) -> bytes:
        """What precedes the flag of this transaction's end-line."""
        return b"\r\n" + END_LINE_DASHES + self.transaction_id.encode()


def parse_start_line(line: bytes | bytearray) -> StartLine:
    """Parse ``MSRP <tid> <METHOD>`` or ``MSRP <tid> <code> [comment]`` (CRLF excluded).

    Raises:
        MsrpParseError: when the line is neither.
    """
    if len(line) > MAX_START_LINE:
        raise MsrpParseError("start line too long", where="start line", status_hint=400)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise MsrpParseError("start line is not UTF-8", where="start line") from None
    parts = text.split(" ", 3)
    if len(parts) < 3 or parts[0] != "MSRP" or not is_ident(parts[1]):
        raise MsrpParseError(f"bad start line {text[:60]!r}", where="start line")
    tid, word = parts[1], parts[2]
    if len(word) == 3 and word.isdigit() and word.isascii():
        comment = parts[3] if len(parts) == 4 else None
        if comment is not None and CONTROL.search(comment):
            raise MsrpParseError("control character in comment", where="start line")
        return StartLine(tid, None, int(word), comment or None)
    if len(parts) != 3 or not _METHOD.fullmatch(word):
        raise MsrpParseError(
            f"bad method or status in {text[:60]!r}", where="start line", status_hint=400
        )
    return StartLine(tid, word)


def find_end_line(buf: bytes | bytearray, pattern: bytes, start: int) -> int:
    """Index of the first complete end-line ``pattern flag CRLF`` at or after ``start``,
    or -1. ``pattern`` is ``CRLF "-------" tid``."""
    size = len(pattern)
    i = buf.find(pattern, start)
    while i >= 0:
        j = i + size
        if j + 3 <= len(buf) and buf[j] in b"+$#" and buf[j + 1 : j + 3] == b"\r\n":
            return i
        i = buf.find(pattern, i + 1)
    return -1


def parse_message(data: bytes) -> MsrpRequest | MsrpResponse:
    """Parse exactly one complete MSRP message, end-line included.

    Raises:
        MsrpParseError: when ``data`` is too large, malformed, lacks To-Path or From-Path,
            has no end-line matching its transaction id, or has bytes after the end-line.
    """
    if len(data) > limits.MAX_MSRP_MESSAGE:
        raise MsrpParseError("MSRP message too large", where=len(data), status_hint=413)
    line_end = data.find(b"\r\n", 0, MAX_START_LINE + 2)
    if line_end < 0:
        raise MsrpParseError("no complete start line", where=0)
    start = parse_start_line(data[:line_end])
    pattern = start.end_line_pattern
    end_at = find_end_line(data, pattern, line_end)
    if end_at < 0:
        raise MsrpParseError(
            f"no end-line for transaction {start.transaction_id}", where="end-line", status_hint=400
        )
    if end_at + len(pattern) + 3 != len(data):
        raise MsrpParseError("data after the end-line", where=end_at + len(pattern) + 3)
    return parse_framed(data, 0, line_end, end_at, start)


def parse_framed(
    buf: bytes | bytearray, pos: int, line_end: int, end_at: int, start: StartLine
) -> MsrpRequest | MsrpResponse:
    """Build a message from a framed region of ``buf`` (used by the stream framer).

    Args:
        buf: the bytes holding the message.
        pos: where its start line begins.
        line_end: where the start line's CRLF is.
        end_at: where the CRLF before the end-line's dashes is.
        start: the parsed start line.

    Raises:
        MsrpParseError: when the header section or the body is malformed.
    """
    flag = chr(buf[end_at + len(start.end_line_pattern)])
    blank = buf.find(b"\r\n\r\n", line_end, end_at + 2)
    body = b""
    if blank < 0:
        header_end = end_at
    else:
        header_end = blank
        if blank + 4 <= end_at:
            body = bytes(buf[blank + 4 : end_at])
    headers = _parse_headers(buf, line_end + 2, header_end) if header_end > line_end else ()
    names = [name.lower() for name, _ in headers]
    for required in ("To-Path", "From-Path"):
        count = names.count(required.lower())
        if count != 1:
            problem = "missing" if count == 0 else "repeated"
            raise MsrpParseError(
                f"{problem} {required}", where=f"header {required}", status_hint=400
            )
    if start.method is None:
        if blank >= 0 and (body or blank + 4 <= end_at):
            raise MsrpParseError("MSRP response with a body", where=blank - pos)
        assert start.status is not None
        return MsrpResponse(start.transaction_id, start.status, start.comment, headers)
    return MsrpRequest(start.method, start.transaction_id, headers, body, cast(Continuation, flag))


def _parse_headers(buf: bytes | bytearray, begin: int, end: int) -> Headers:
    try:
        text = buf[begin:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MsrpParseError(
            "header section is not UTF-8", where=begin + exc.start, status_hint=400
        ) from None
    lines = text.split("\r\n")
    if len(lines) > MAX_HEADERS:
        raise MsrpParseError("too many header fields", where="headers", status_hint=400)
    headers = []
    for number, line in enumerate(lines, start=2):
        name, colon, value = line.partition(":")
        value = value.strip(" \t")
        if not colon or not HEADER_NAME.fullmatch(name) or CONTROL.search(value):
            raise MsrpParseError(
                f"bad header field {line[:40]!r}", where=f"line {number}", status_hint=400
            )
        headers.append((name, value))
    return tuple(headers)
