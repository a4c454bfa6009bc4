"""MSRP header field values and the names of things (RFC 4975 §7.1, §9, §10).

Typed values of the header fields the session reads (Byte-Range, Status), the ``ident``
rule shared by transaction ids and Message-IDs, the output order of header fields that
§7.1.1 asks for, and the comments written after response status codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rcs_terminal.errors import MsrpParseError

Headers = tuple[tuple[str, str], ...]

REASON_PHRASES: dict[int, str] = {
    200: "OK",
    400: "Unintelligible",
    403: "Action Not Allowed",
    408: "Transaction Timeout",
    413: "Stop Sending Message",
    415: "Unsupported Media Type",
    423: "Parameter Out Of Bounds",
    481: "Session Does Not Exist",
    501: "Method Not Understood",
    506: "Session Already In Use",
}
"""Comments for the status codes of RFC 4975 §10 (the text is free; these are ours)."""

_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-+%=]{2,63}")
HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9\-_]*")
_RANGE = re.compile(r"([0-9]{1,18})-([0-9]{1,18}|\*)/([0-9]{1,18}|\*)")
_STATUS = re.compile(r"([0-9]{3}) ([0-9]{3})(?: (.*))?")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Characters refused in header values and comments (HTAB is allowed)."""


def is_ident(text: str) -> bool:
    """Whether ``text`` is acceptable as a transaction id or Message-ID (RFC 4975 ``ident``,
    accepted up to 64 characters)."""
    return _IDENT.fullmatch(text) is not None


# --------------------------------------------------------------------------- header values


@dataclass(frozen=True, slots=True)
class ByteRange:
    """A Byte-Range header value (RFC 4975 §7.1.1): 1-based, inclusive.

    Attributes:
        start: the position of the chunk's first byte in the whole message.
        end: the position of its last byte, or ``None`` for ``*`` (not known when the
            header was written). ``start - 1`` for an empty chunk (``1-0/0``).
        total: the size of the whole message, or ``None`` for ``*``.
    """

    start: int
    end: int | None
    total: int | None

    def __str__(self) -> str:
        end = "*" if self.end is None else str(self.end)
        total = "*" if self.total is None else str(self.total)
        return f"{self.start}-{end}/{total}"


def parse_byte_range(value: str) -> ByteRange:
    """Parse a Byte-Range value such as ``1-2048/10000`` or ``2049-*/*``.

    Raises:
        MsrpParseError: when the value is malformed or inconsistent (start below 1, end
            before start - 1, total below end).
    """
    match = _RANGE.fullmatch(value.strip())
    if match is None:
        raise MsrpParseError(
            f"bad Byte-Range {value[:40]!r}", where="header Byte-Range", status_hint=400
        )
    start = int(match[1])
    end = None if match[2] == "*" else int(match[2])
    total = None if match[3] == "*" else int(match[3])
    if (
        start < 1
        or (end is not None and end < start - 1)
        or (total is not None and total < (start - 1 if end is None else end))
    ):
        raise MsrpParseError(
            f"inconsistent Byte-Range {value[:40]!r}", where="header Byte-Range", status_hint=400
        )
    return ByteRange(start, end, total)


@dataclass(frozen=True, slots=True)
class ReportStatus:
    """A Status header value of a REPORT (RFC 4975 §7.1.2), e.g. ``000 200 OK``.

    Attributes:
        code: the status code (200 for success).
        reason: the text after the code, if any.
        namespace: ``0`` for the codes of RFC 4975.
    """

    code: int
    reason: str | None = None
    namespace: int = 0

    def __str__(self) -> str:
        text = f"{self.namespace:03d} {self.code:03d}"
        return text if self.reason is None else f"{text} {self.reason}"


def parse_status(value: str) -> ReportStatus:
    """Parse a Status header value.

    Raises:
        MsrpParseError: when the value is not ``namespace SP code [SP text]``.
    """
    match = _STATUS.fullmatch(value.strip())
    if match is None:
        raise MsrpParseError(f"bad Status {value[:40]!r}", where="header Status", status_hint=400)
    return ReportStatus(int(match[2]), match[3] or None, int(match[1]))


def _sort_key(header: tuple[str, str]) -> int:
    name = header[0].lower()
    if name == "to-path":
        return 0
    if name == "from-path":
        return 1
    if name == "content-type":
        return 4
    return 3 if name.startswith("content-") else 2


def canonical_order(headers: Headers) -> Headers:
    """``headers`` in the §7.1.1 order: To-Path, From-Path, other fields, MIME fields,
    Content-Type last (stable otherwise)."""
    ordered = tuple(headers)
    keys = [_sort_key(h) for h in ordered]
    if keys == sorted(keys):
        return ordered
    return tuple(sorted(ordered, key=_sort_key))
