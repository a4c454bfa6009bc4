"""Splitting messages into SEND chunks and putting received chunks back together
(RFC 4975 §5.1, §7.1.1, §7.3).

A message larger than one SEND is carried by several SEND requests ("chunks") that share
its Message-ID. Each chunk says where its bytes go with Byte-Range ``start-end/total``
(1-based, inclusive) and ends with the flag ``+`` (more follow), ``$`` (last chunk) or
``#`` (the sender gave up on the message).

Sending: :class:`OutgoingMessage` hands out chunks one at a time so a session can
interleave the chunks of several messages; :func:`split_message` gives them all at once.

Receiving: :class:`Reassembler` keeps, per Message-ID, the contiguous prefix received so far
in one ``bytearray`` plus any chunks that arrived ahead of it, so out-of-order delivery never
zero-fills gaps a peer merely announced. A message is complete when its size is known (from
a Byte-Range total, or from the end of its ``$`` chunk) and every byte up to it arrived.
Duplicates are recognised and ignored; ``#`` drops the message. Sizes are bounded by
``max_size`` (``limits.MAX_MSRP_REASSEMBLY``) and the number of unfinished messages by
``max_pending`` (the oldest is dropped beyond it).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rcs_terminal.errors import LocalProtocolError, MsrpParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp.headers import ByteRange, Headers
from rcs_terminal.protocol.msrp.message import END_LINE_DASHES, Continuation, MsrpRequest
from rcs_terminal.protocol.msrp.uri import MsrpUri, format_path

DEFAULT_CHUNK_SIZE = 2048
"""Payload bytes per SEND chunk; RFC 4975 §7.1.1 suggests that chunks stay around 2 KB."""

MAX_PENDING_MESSAGES = 16
"""Unfinished incoming messages kept at once per session."""

REMEMBERED_MESSAGES = 256
"""Message-IDs of completed messages remembered, so a repeated chunk is not delivered twice."""


def chunk_ranges(total: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(offset, end)`` 0-based, half-open slices covering ``total`` bytes; one empty
    slice for an empty body.

    Raises:
        LocalProtocolError: when ``chunk_size`` is not positive.
    """
    if chunk_size < 1:
        raise LocalProtocolError("chunk size must be positive")
    if total == 0:
        yield 0, 0
        return
    for offset in range(0, total, chunk_size):
        yield offset, min(offset + chunk_size, total)


class OutgoingMessage:
    """A message being sent, handed out chunk by chunk.

    Args:
        message_id: the Message-ID shared by all chunks.
        body: the whole content.
        content_type: its media type.
        chunk_size: payload bytes per chunk.
        headers: extra fields repeated in every chunk (Success-Report, Failure-Report...).
    """

    def __init__(
        self,
        message_id: str,
        body: bytes,
        *,
        content_type: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        headers: Headers = (),
    ) -> None:
        self.message_id = message_id
        self.body = body
        self.content_type = content_type
        self.headers = headers
        self._ranges = chunk_ranges(len(body), chunk_size)
        self._next = next(self._ranges, None)
        self.sent_bytes = 0

    @property
    def done(self) -> bool:
        """Whether every chunk was handed out."""
        return self._next is None

    def next_chunk(
        self,
        new_id: Callable[[], str],
        to_path: tuple[MsrpUri, ...],
        from_path: tuple[MsrpUri, ...],
    ) -> MsrpRequest:
        """Build the next chunk.

        Args:
            new_id: returns a fresh transaction id; called again if the id's end-line
                happens to occur in the chunk's bytes (RFC 4975 §7.1.1).
            to_path: the To-Path.
            from_path: the From-Path.

        Raises:
            LocalProtocolError: when every chunk was already handed out.
        """
        if self._next is None:
            raise LocalProtocolError(f"message {self.message_id} has no chunk left")
        offset, end = self._next
        self._next = next(self._ranges, None)
        piece = self.body[offset:end]
        tid = new_id()
        while END_LINE_DASHES + tid.encode() in piece:
            tid = new_id()
        total = len(self.body)
        flag: Continuation = "$" if self._next is None else "+"
        headers = (
            ("To-Path", format_path(to_path)),
            ("From-Path", format_path(from_path)),
            ("Message-ID", self.message_id),
            *self.headers,
            ("Byte-Range", str(ByteRange(offset + 1, end, total))),
            ("Content-Type", self.content_type),
        )
        self.sent_bytes = end
        return MsrpRequest("SEND", tid, headers, piece, flag)


def split_message(
    body: bytes,
    *,
    message_id: str,
    content_type: str,
    to_path: tuple[MsrpUri, ...],
    from_path: tuple[MsrpUri, ...],
    new_id: Callable[[], str],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    headers: Headers = (),
) -> list[MsrpRequest]:
    """All the SEND chunks of one message, in order (see :class:`OutgoingMessage`)."""
    out = OutgoingMessage(
        message_id, body, content_type=content_type, chunk_size=chunk_size, headers=headers
    )
    chunks = []
    while not out.done:
        chunks.append(out.next_chunk(new_id, to_path, from_path))
    return chunks


# --------------------------------------------------------------------------- receiving


@dataclass(frozen=True, slots=True)
class ReassembledMessage:
    """A complete incoming message.

    Attributes:
        message_id: its Message-ID.
        content_type: the Content-Type of its chunks.
        body: the whole content.
        headers: the header fields of its first chunk.
    """

    message_id: str
    content_type: str | None
    body: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What one chunk did to its message.

    Attributes:
        message_id: the Message-ID.
        received: bytes of the message held so far (its size once complete).
        total: the message size, when known.
        message: the complete message, when this chunk completed it.
        aborted: the chunk carried ``#``; what was received is dropped.
        duplicate: every byte of the chunk had already arrived.
    """

    message_id: str
    received: int
    total: int | None
    message: ReassembledMessage | None = None
    aborted: bool = False
    duplicate: bool = False


@dataclass
class _Partial:
    prefix: bytearray = field(default_factory=bytearray)
    ahead: dict[int, bytes] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)
    ahead_bytes: int = 0
    total: int | None = None
    content_type: str | None = None
    headers: Headers = ()


class Reassembler:
    """Puts the chunks of incoming messages back together, per Message-ID.

    Args:
        max_size: the largest message accepted (``a=max-size`` of our SDP, if smaller).
        max_pending: unfinished messages kept at once; the oldest is dropped beyond it.
    """

    def __init__(
        self,
        *,
        max_size: int = limits.MAX_MSRP_REASSEMBLY,
        max_pending: int = MAX_PENDING_MESSAGES,
    ) -> None:
        self.max_size = max_size
        self.max_pending = max_pending
        self._partials: OrderedDict[str, _Partial] = OrderedDict()
        self._completed: OrderedDict[str, int] = OrderedDict()

    @property
    def pending(self) -> int:
        """How many messages are unfinished."""
        return len(self._partials)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._partials

    def discard(self, message_id: str) -> None:
        """Forget an unfinished message (after refusing one of its chunks)."""
        self._partials.pop(message_id, None)

    def add(self, chunk: MsrpRequest) -> ChunkResult:
        """Take one SEND chunk.

        Raises:
            MsrpParseError: ``status_hint=400`` when the chunk has no Message-ID or a
                Byte-Range inconsistent with its body or with earlier chunks;
                ``status_hint=413`` when the message exceeds ``max_size`` (its state is
                dropped).
        """
        message_id = chunk.message_id
        if message_id is None:
            raise MsrpParseError(
                "SEND without Message-ID", where="header Message-ID", status_hint=400
            )
        brange = chunk.byte_range or ByteRange(1, None, None)
        offset, size = brange.start - 1, len(chunk.body)
        if message_id in self._completed:
            done = self._completed[message_id]
            return ChunkResult(message_id, done, done, duplicate=True)
        if chunk.continuation == "#":
            partial = self._partials.pop(message_id, None)
            held = 0 if partial is None else len(partial.prefix) + partial.ahead_bytes
            return ChunkResult(message_id, held, brange.total, aborted=True)
        if brange.end is not None and brange.end != offset + size:
            raise MsrpParseError(
                f"Byte-Range {brange} does not match {size} body bytes",
                where="header Byte-Range",
                status_hint=400,
            )
        total = brange.total
        if chunk.continuation == "$" and total is None:
            total = offset + size
        partial = self._partials.get(message_id)
        if partial is None:
            if offset == 0 and total == size and size <= self.max_size:
                # the common case, a whole message in one chunk: no buffering, no copy
                whole = ReassembledMessage(
                    message_id, chunk.content_type, chunk.body, chunk.headers
                )
                self._remember(message_id, size)
                return ChunkResult(message_id, size, size, whole)
            partial = self._new_partial(message_id)
        try:
            self._check_size(partial, offset + size, total)
        except MsrpParseError:
            self.discard(message_id)
            raise
        if total is not None:
            partial.total = total
        if partial.content_type is None or offset == 0:
            partial.content_type = chunk.content_type or partial.content_type
        if offset == 0 or not partial.headers:
            partial.headers = chunk.headers
        duplicate = self._store(partial, offset, chunk.body)
        if partial.total is not None and len(partial.prefix) >= partial.total:
            del self._partials[message_id]
            prefix = partial.prefix
            if len(prefix) > partial.total:
                del prefix[partial.total :]
            body = bytes(prefix)
            self._remember(message_id, len(body))
            complete = ReassembledMessage(message_id, partial.content_type, body, partial.headers)
            return ChunkResult(message_id, len(body), len(body), complete, duplicate=duplicate)
        held = len(partial.prefix) + partial.ahead_bytes
        return ChunkResult(message_id, held, partial.total, duplicate=duplicate)

    def _remember(self, message_id: str, size: int) -> None:
        self._completed[message_id] = size
        if len(self._completed) > REMEMBERED_MESSAGES:
            self._completed.popitem(last=False)

    def _new_partial(self, message_id: str) -> _Partial:
        while len(self._partials) >= self.max_pending:
            self._partials.popitem(last=False)
        partial = _Partial()
        self._partials[message_id] = partial
        return partial

    def _check_size(self, partial: _Partial, end: int, total: int | None) -> None:
        if partial.total is not None and total is not None and total != partial.total:
            raise MsrpParseError(
                f"Byte-Range total {total} differs from {partial.total}",
                where="header Byte-Range",
                status_hint=400,
            )
        known = partial.total if partial.total is not None else total
        if known is not None and end > known:
            raise MsrpParseError(
                f"chunk ends at {end}, past the total {known}",
                where="header Byte-Range",
                status_hint=400,
            )
        held = len(partial.prefix) + partial.ahead_bytes
        if max(end, known or 0, held) > self.max_size:
            raise MsrpParseError(
                f"message larger than {self.max_size} bytes",
                where="header Byte-Range",
                status_hint=413,
            )

    @staticmethod
    def _store(partial: _Partial, offset: int, data: bytes) -> bool:
        """Store ``data`` at ``offset``; return whether it was all there already."""
        prefix = partial.prefix
        end = offset + len(data)
        if offset > len(prefix):
            known = partial.ahead.get(offset)
            if known is not None and len(known) >= len(data):
                return True
            if known is None:
                heapq.heappush(partial.starts, offset)
            else:
                partial.ahead_bytes -= len(known)
            partial.ahead[offset] = data
            partial.ahead_bytes += len(data)
            return False
        if end <= len(prefix):
            return end > offset or offset < len(prefix)  # nothing new (an empty tail is new)
        prefix[offset:end] = data
        while partial.starts and partial.starts[0] <= len(prefix):
            start = heapq.heappop(partial.starts)
            piece = partial.ahead.pop(start)
            partial.ahead_bytes -= len(piece)
            if start + len(piece) > len(prefix):
                prefix[start : start + len(piece)] = piece
        return False
