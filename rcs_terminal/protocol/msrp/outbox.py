"""Our messages on their way out of an MSRP session: queue, chunks, transactions, timers
(RFC 4975 §7.1.1, §7.2).

Theory of operation: each queued message is a :class:`_Sending`. :meth:`Outbox.take`
serves the queue round robin, one chunk per message per turn, so a short chat message is
not stuck behind a large file. Every chunk sent with ``Failure-Report: yes`` opens a
transaction that must be answered by a 200 before its deadline; the first error response
or expired deadline fails the whole message (``MessageSendFailed``) and stops its remaining
chunks. When the last chunk has gone and every transaction got its 200, the message is
sent (``MessageSent``).

``Failure-Report: partial`` asks the peer for error responses only, and ``no`` for none at
all, so for those the message counts as sent once its last chunk is handed out; with
``partial`` a later error response still gives ``MessageSendFailed``, and its transactions
are simply forgotten at their deadline.

The wait for a response is :data:`TRANSACTION_TIMEOUT`, 30 s. RFC 4975 does not fix this
value for endpoints (an unanswered transaction is reported as 408, §10); 30 s is the figure
in common use and can be changed per session. Deadlines sit in a heap with lazy deletion,
so many chunks in flight cost O(log n) per event, not a scan.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from rcs_terminal.protocol.msrp.chunking import OutgoingMessage
from rcs_terminal.protocol.msrp.events import MessageSendFailed, MessageSent, MsrpEvent
from rcs_terminal.protocol.msrp.headers import REASON_PHRASES
from rcs_terminal.protocol.msrp.message import MsrpRequest, MsrpResponse
from rcs_terminal.protocol.msrp.uri import MsrpUri, format_path

TRANSACTION_TIMEOUT = 30.0
"""Seconds to wait for the response to a SEND chunk before the message fails with 408."""


@dataclass
class _Sending:
    """A message of ours on its way out."""

    message_id: str
    failure_report: str
    chunks: OutgoingMessage | None = None  # None: a bodiless SEND
    open: set[str] = field(default_factory=set)
    handed_out: bool = False
    finished: bool = False
    failed: bool = False


@dataclass
class _Transaction:
    message_id: str
    deadline: float
    awaited: bool


class Outbox:
    """The sending half of a session.

    Args:
        to_path: the To-Path of our requests (the peer's ``a=path``).
        from_uri: our URI, the From-Path.
        new_id: returns a fresh transaction id.
        timeout: seconds to wait for each chunk's response.
        emit: receives ``MessageSent`` and ``MessageSendFailed`` events.
    """

    def __init__(
        self,
        *,
        to_path: tuple[MsrpUri, ...],
        from_uri: MsrpUri,
        new_id: Callable[[], str],
        timeout: float,
        emit: Callable[[MsrpEvent], None],
    ) -> None:
        self.to_path = to_path
        self.from_uri = from_uri
        self.timeout = timeout
        self._new_id = new_id
        self._emit = emit
        self._queue: deque[_Sending] = deque()
        self._sending: dict[str, _Sending] = {}
        self._transactions: dict[str, _Transaction] = {}
        self._deadlines: list[tuple[float, str]] = []

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._sending

    def queue(
        self,
        message_id: str,
        chunks: OutgoingMessage | None,
        failure_report: str = "yes",
    ) -> None:
        """Queue a message (``chunks``) or, with ``None``, a bodiless SEND."""
        sending = _Sending(message_id, failure_report, chunks)
        self._sending[message_id] = sending
        self._queue.append(sending)

    def cancel(self, message_id: str) -> bytes:
        """Stop sending a message; return the ``#`` chunk that tells the peer to drop what
        it received, or ``b""`` when nothing of it left yet (RFC 4975 §7.1)."""
        sending = self._sending.pop(message_id, None)
        if sending is None or sending.finished:
            return b""
        sending.finished = True
        self._forget_transactions(sending)
        chunks = sending.chunks
        if chunks is None or not chunks.sent_bytes:
            return b""
        sent = chunks.sent_bytes
        headers = (
            *self._paths(),
            ("Message-ID", message_id),
            ("Byte-Range", f"{sent + 1}-{sent}/*"),
            ("Content-Type", chunks.content_type),
        )
        return MsrpRequest("SEND", self._new_id(), headers, b"", "#").to_bytes()

    def take(self, now: float, budget: int | None) -> list[bytes]:
        """Serialise chunks, round robin, until ``budget`` bytes (``None``: all)."""
        parts: list[bytes] = []
        size = 0
        while self._queue and (budget is None or size < budget):
            sending = self._queue.popleft()
            if sending.finished:
                continue
            request = self._next_request(sending)
            data = request.to_bytes()
            parts.append(data)
            size += len(data)
            if sending.failure_report != "no":
                self._track(request.transaction_id, sending, now)
            if not sending.handed_out:
                self._queue.append(sending)
            elif sending.failure_report != "yes":
                self._finish(sending, MessageSent(sending.message_id))
        return parts

    def on_response(self, response: MsrpResponse) -> None:
        """Match a transaction response to the message it answers."""
        transaction = self._transactions.pop(response.transaction_id, None)
        if transaction is None:
            return  # late, duplicate or not ours
        sending = self._sending.get(transaction.message_id)
        if sending is None:
            return
        sending.open.discard(response.transaction_id)
        if response.status == 200:
            if sending.handed_out and not sending.open:
                self._finish(sending, MessageSent(sending.message_id))
        else:
            reason = response.comment or REASON_PHRASES.get(response.status, "error")
            self._finish(sending, MessageSendFailed(sending.message_id, response.status, reason))

    def next_deadline(self) -> float | None:
        """The earliest response deadline, or ``None``."""
        heap = self._deadlines
        while heap:
            deadline, tid = heap[0]
            transaction = self._transactions.get(tid)
            if transaction is not None and transaction.deadline == deadline:
                return deadline
            heapq.heappop(heap)
        return None

    def expire(self, now: float) -> None:
        """Fail the messages whose awaited response is overdue (408)."""
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            deadline, tid = heapq.heappop(heap)
            transaction = self._transactions.get(tid)
            if transaction is None or transaction.deadline != deadline:
                continue
            del self._transactions[tid]
            sending = self._sending.get(transaction.message_id)
            if sending is None:
                continue
            sending.open.discard(tid)
            if transaction.awaited:
                reason = f"no response within {self.timeout:g} s"
                self._finish(sending, MessageSendFailed(sending.message_id, 408, reason))
            elif sending.finished and not sending.open:
                self._sending.pop(sending.message_id, None)

    def fail_all(self, reason: str) -> None:
        """Fail every unfinished message (408) and forget everything queued."""
        for sending in list(self._sending.values()):
            self._finish(sending, MessageSendFailed(sending.message_id, 408, reason))
        self._sending.clear()
        self._queue.clear()
        self._transactions.clear()
        self._deadlines.clear()

    # ------------------------------------------------------------------ internals

    def _paths(self) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("To-Path", format_path(self.to_path)), ("From-Path", str(self.from_uri))

    def _next_request(self, sending: _Sending) -> MsrpRequest:
        if sending.chunks is None:
            sending.handed_out = True
            headers = (*self._paths(), ("Message-ID", sending.message_id), ("Byte-Range", "1-0/0"))
            return MsrpRequest("SEND", self._new_id(), headers)
        request = sending.chunks.next_chunk(self._new_id, self.to_path, (self.from_uri,))
        sending.handed_out = sending.chunks.done
        return request

    def _track(self, tid: str, sending: _Sending, now: float) -> None:
        deadline = now + self.timeout
        awaited = sending.failure_report == "yes"
        self._transactions[tid] = _Transaction(sending.message_id, deadline, awaited)
        heapq.heappush(self._deadlines, (deadline, tid))
        sending.open.add(tid)

    def _finish(self, sending: _Sending, event: MsrpEvent) -> None:
        """Record the outcome of a message once. A ``partial`` message is kept after its
        ``MessageSent`` while its transactions may still bring an error response."""
        if isinstance(event, MessageSendFailed):
            if not sending.failed:
                sending.failed = True
                self._emit(event)
            self._forget_transactions(sending)
        elif not sending.finished:
            self._emit(event)
        sending.finished = True
        if not sending.open:
            self._sending.pop(sending.message_id, None)

    def _forget_transactions(self, sending: _Sending) -> None:
        for tid in sending.open:
            self._transactions.pop(tid, None)
        sending.open.clear()
