"""Cutting a TCP/TLS byte stream into MSRP messages (RFC 4975 §6, §7.1.1).

MSRP has no length field: a message ends at the first ``CRLF "-------" tid flag CRLF``
after its start line, where ``tid`` is the transaction id the start line announced. The
framer therefore reads the start line first and then searches for that one end-line, so a
body may hold anything, including text that looks like the end-line of another transaction.

Theory of operation: bytes are appended to one buffer. While a message is incomplete the
framer remembers where its search stopped (``_scan``) and resumes there on the next read,
backing up only by the length of a partial end-line; a large chunk arriving in many small
reads is thus scanned once, not once per read. Consumed bytes are dropped once per read, not
once per message, so many small messages in one read cost linear time too.

Errors come in two kinds:

- a framed message whose content is malformed (bad header, missing To-Path...) becomes a
  :class:`Frame` carrying the :class:`MsrpParseError`; framing continues with the next
  message, and the session can answer the transaction with an error status;
- a message larger than ``max_message`` is reported as soon as it crosses the limit
  (``status_hint=413``, so the sender can be told to stop) and its remaining bytes are then
  skipped up to its end-line; framing continues after it;
- a start line that is not MSRP leaves no way to find the next message: the frame is
  ``fatal`` and the connection should be closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcs_terminal.errors import MsrpParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp.message import (
    MAX_START_LINE,
    MsrpMessage,
    StartLine,
    find_end_line,
    parse_framed,
    parse_start_line,
)

_PREFIX = b"MSRP "


@dataclass(frozen=True, slots=True)
class Frame:
    """One framed transaction: a parsed message, or why it could not be parsed.

    Attributes:
        transaction_id: the transaction id from the start line (``None`` if unreadable).
        method: the request method, ``None`` for a response or an unreadable start line.
        message: the parsed message, when it parsed.
        error: the reason it did not.
        fatal: the stream cannot be framed any further; close the connection.
    """

    transaction_id: str | None
    method: str | None
    message: MsrpMessage | None = None
    error: MsrpParseError | None = None
    fatal: bool = False


class StreamFramer:
    """Turns the bytes of one MSRP connection into messages.

    Args:
        max_message: the largest single message (one chunk with its headers) accepted.
    """

    def __init__(self, *, max_message: int = limits.MAX_MSRP_MESSAGE) -> None:
        self._max = max_message
        self._buf = bytearray()
        self._pos = 0
        self._start: StartLine | None = None
        self._line_end = 0
        self._scan = 0
        self._discarding = False
        self._fatal: Frame | None = None
        self._backlog: list[Frame] = []

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of their message."""
        return len(self._buf) - self._pos

    @property
    def broken(self) -> bool:
        """Whether a fatal framing error happened."""
        return self._fatal is not None

    def receive(self, data: bytes) -> list[Frame]:
        """Add received bytes; return a frame for every transaction they complete.

        Never raises: malformed messages come back as frames with an ``error``.
        """
        if self._fatal is not None:
            return [self._fatal]
        self._buf += data
        frames: list[Frame] = []
        try:
            while self._step(frames):
                pass
        finally:
            self._compact()
        return frames

    def feed(self, data: bytes) -> list[MsrpMessage]:
        """Add received bytes; return every message they complete.

        Messages framed before a malformed one are returned first; the error is raised by
        the next call (``feed(b"")`` will do), and framing then goes on with what follows.

        Raises:
            MsrpParseError: for a malformed or oversized message, or a broken stream (then
                on every later call too).
        """
        frames = self._backlog
        self._backlog = []
        if not (frames and frames[-1].fatal):
            frames += self.receive(data)
        messages: list[MsrpMessage] = []
        for index, frame in enumerate(frames):
            if frame.error is not None:
                if messages:
                    self._backlog = frames[index:]
                    return messages
                self._backlog = [frame] if frame.fatal else frames[index + 1 :]
                raise frame.error
            assert frame.message is not None
            messages.append(frame.message)
        return messages

    # ------------------------------------------------------------------ internals

    def _step(self, frames: list[Frame]) -> bool:
        """Make one unit of progress; ``False`` when more bytes are needed."""
        buf = self._buf
        if self._start is None:
            pos = self._pos
            while pos < len(buf) and buf[pos] in b"\r\n":
                pos += 1  # tolerate stray line ends between messages
            self._pos = pos
            if pos >= len(buf):
                return False
            head = bytes(buf[pos : pos + len(_PREFIX)])
            if not _PREFIX.startswith(head):
                return self._fail(frames, MsrpParseError("not an MSRP start line", where=pos))
            line_end = buf.find(b"\r\n", pos, pos + MAX_START_LINE + 2)
            if line_end < 0:
                if len(buf) - pos > MAX_START_LINE + 1:
                    return self._fail(frames, MsrpParseError("start line too long", where=pos))
                return False
            try:
                self._start = parse_start_line(buf[pos:line_end])
            except MsrpParseError as exc:
                return self._fail(frames, exc)
            self._line_end = self._scan = line_end
            self._discarding = False
        start = self._start
        pattern = start.end_line_pattern
        end_at = find_end_line(buf, pattern, self._scan)
        if end_at < 0:
            self._scan = max(self._scan, len(buf) - len(pattern) - 2)
            if len(buf) - self._pos > self._max:
                if not self._discarding:
                    frames.append(self._oversized(start))
                    self._discarding = True
                self._pos = self._scan  # nothing before the resume point is needed any more
            return False
        end = end_at + len(pattern) + 3
        if not self._discarding:
            if end - self._pos > self._max:
                frames.append(self._oversized(start))
            else:
                try:
                    message = parse_framed(buf, self._pos, self._line_end, end_at, start)
                except MsrpParseError as exc:
                    frames.append(Frame(start.transaction_id, start.method, error=exc))
                else:
                    frames.append(Frame(start.transaction_id, start.method, message))
        self._pos = end
        self._start = None
        self._discarding = False
        return True

    def _oversized(self, start: StartLine) -> Frame:
        error = MsrpParseError(
            f"MSRP message larger than {self._max} bytes", where=self._pos, status_hint=413
        )
        return Frame(start.transaction_id, start.method, error=error)

    def _fail(self, frames: list[Frame], error: MsrpParseError) -> bool:
        self._fatal = Frame(None, None, error=error, fatal=True)
        frames.append(self._fatal)
        self._buf.clear()
        self._pos = self._scan = self._line_end = 0
        self._start = None
        return False

    def _compact(self) -> None:
        if self._pos:
            del self._buf[: self._pos]
            self._scan = max(0, self._scan - self._pos)
            self._line_end = max(0, self._line_end - self._pos)
            self._pos = 0
