"""One MSRP session over one connection, without I/O (RFC 4975 §5, §7).

The engine owns the socket; the session only turns bytes and the current time into events
and bytes to write, h11 style::

    events = session.receive_data(data, now)     # what the peer sent
    sock.write(session.data_to_send(now))        # responses, reports, chunks
    events += session.next_events()              # completions noticed while sending
    deadline = session.next_deadline()           # arm one timer; then handle_timer(now)

Sending is the :class:`~rcs_terminal.protocol.msrp.outbox.Outbox`'s job: chunks are cut
lazily, interleaved between messages, and each must be answered within the transaction
timeout (30 s by default, see that module).

Receiving (§7.3): a request whose To-Path is not exactly our URI gets 481, an unknown
method 501, a malformed request 400, an oversized one 413, an unacceptable content type
415. A SEND chunk is answered 200 unless its Failure-Report says otherwise (``no``: no
response at all; ``partial``: errors only), then handed to the
:class:`~rcs_terminal.protocol.msrp.chunking.Reassembler`. When a message is complete a
``MessageReceived`` event is emitted and, if the sender asked with ``Success-Report: yes``,
a REPORT covering the whole message goes back (§7.1.2). A bodiless SEND (sent right after
connecting to bind the connection to the session, §5.4) is answered 200 and produces no
event; :meth:`MsrpSession.send_empty` sends one. REPORTs are never answered. Responses go to
the previous hop only: the first URI of the request's From-Path (§7.2).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from rcs_terminal.errors import LocalProtocolError, MsrpParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp.chunking import DEFAULT_CHUNK_SIZE, OutgoingMessage, Reassembler
from rcs_terminal.protocol.msrp.events import (
    ChunkReceived,
    ConnectionBroken,
    MessageAborted,
    MessageReceived,
    MsrpEvent,
    ReportReceived,
    RequestRejected,
)
from rcs_terminal.protocol.msrp.framer import Frame, StreamFramer
from rcs_terminal.protocol.msrp.headers import REASON_PHRASES, is_ident
from rcs_terminal.protocol.msrp.message import MsrpRequest, MsrpResponse
from rcs_terminal.protocol.msrp.outbox import TRANSACTION_TIMEOUT, Outbox
from rcs_terminal.protocol.msrp.uri import MsrpUri, format_path

__all__ = ["TRANSACTION_TIMEOUT", "IdSource", "MsrpSession", "random_ids"]

IdSource = Callable[[], str]
"""Returns a fresh identifier (transaction ids and Message-IDs): an RFC 4975 ``ident`` of
4 to 32 characters. Transaction ids need at least 64 bits of randomness (§7.1)."""


def random_ids() -> str:
    """The default :data:`IdSource`: 64 random bits as 16 hex digits."""
    return secrets.token_hex(8)


def _accepts(patterns: tuple[str, ...], content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    for pattern in patterns:
        if pattern in ("*", media):
            return True
        if pattern.endswith("/*") and media.startswith(pattern[:-1]):
            return True
    return False


class MsrpSession:
    """An MSRP endpoint's view of one session on one connection.

    Args:
        local_path: our URI (the last URI of our SDP ``a=path``), or that path.
        remote_path: the peer's SDP ``a=path``: the To-Path of our requests.
        id_source: fresh identifiers; :func:`random_ids` by default (tests inject a counter).
        accept_types: media types accepted (our ``a=accept-types``); ``("*",)`` accepts all.
        max_size: the largest incoming message (our ``a=max-size``, if any).
        transaction_timeout: seconds to wait for each chunk's response.
        max_message: the largest single incoming chunk.
    """

    def __init__(
        self,
        local_path: MsrpUri | Sequence[MsrpUri],
        remote_path: MsrpUri | Sequence[MsrpUri],
        *,
        id_source: IdSource = random_ids,
        accept_types: Sequence[str] = ("*",),
        max_size: int = limits.MAX_MSRP_REASSEMBLY,
        transaction_timeout: float = TRANSACTION_TIMEOUT,
        max_message: int = limits.MAX_MSRP_MESSAGE,
    ) -> None:
        local = (local_path,) if isinstance(local_path, MsrpUri) else tuple(local_path)
        remote = (remote_path,) if isinstance(remote_path, MsrpUri) else tuple(remote_path)
        if not local or not remote:
            raise LocalProtocolError("MSRP paths must not be empty")
        self.local_uri = local[-1]
        self.remote_path = remote
        self.accept_types = tuple(t.strip().lower() for t in accept_types)
        self._id_source = id_source
        self._events: list[MsrpEvent] = []
        self._framer = StreamFramer(max_message=max_message)
        self._reassembler = Reassembler(max_size=max_size)
        self._outbox = Outbox(
            to_path=remote,
            from_uri=self.local_uri,
            new_id=self._new_id,
            timeout=transaction_timeout,
            emit=self._events.append,
        )
        self._priority: list[bytes] = []
        self._now = 0.0
        self.bound = False
        """Whether a valid request for this session arrived on the connection."""
        self.closed = False
        """Whether :meth:`connection_lost` was called."""

    # ------------------------------------------------------------------ sending

    def send_message(
        self,
        content_type: str,
        body: bytes,
        now: float,
        *,
        success_report: bool = False,
        failure_report: str = "yes",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        message_id: str | None = None,
    ) -> str:
        """Queue a message; :meth:`data_to_send` sends its chunks.

        Args:
            content_type: the media type (``message/cpim`` in UP chat).
            body: the content.
            now: the current time.
            success_report: ask the peer for a REPORT once it has the whole message.
            failure_report: ``"yes"``, ``"partial"`` or ``"no"``.
            chunk_size: payload bytes per SEND chunk.
            message_id: the Message-ID to use; a fresh one by default.

        Returns:
            The Message-ID, which later events carry.

        Raises:
            LocalProtocolError: when the session is closed or an argument is invalid.
        """
        if failure_report not in ("yes", "partial", "no"):
            raise LocalProtocolError(f"bad Failure-Report value {failure_report!r}")
        if not content_type or "\r" in content_type or "\n" in content_type:
            raise LocalProtocolError("a message needs a Content-Type")
        self._tick(now)
        message_id = self._check_open(message_id)
        headers: list[tuple[str, str]] = []
        if success_report:
            headers.append(("Success-Report", "yes"))
        if failure_report != "yes":
            headers.append(("Failure-Report", failure_report))
        chunks = OutgoingMessage(
            message_id,
            body,
            content_type=content_type,
            chunk_size=chunk_size,
            headers=tuple(headers),
        )
        self._outbox.queue(message_id, chunks, failure_report)
        return message_id

    def send_empty(self, now: float) -> str:
        """Queue a bodiless SEND, which binds the connection to the session (RFC 4975 §5.4;
        the active side sends one right after connecting). Its 200 gives ``MessageSent``.

        Returns:
            Its Message-ID.
        """
        self._tick(now)
        message_id = self._check_open(None)
        self._outbox.queue(message_id, None)
        return message_id

    def cancel_message(self, message_id: str) -> None:
        """Stop sending a message. If chunks of it already left, a last empty chunk with
        the ``#`` flag tells the peer to drop what it received (RFC 4975 §7.1)."""
        abort = self._outbox.cancel(message_id)
        if abort:
            self._priority.append(abort)

    def data_to_send(self, now: float | None = None, max_bytes: int | None = None) -> bytes:
        """Bytes to write now: pending responses and reports, then chunks.

        Args:
            now: the current time; response timers of the chunks start here (the latest
                time the session was given, when omitted).
            max_bytes: stop adding chunks once this many bytes are collected (responses
                and reports always go out). ``None`` sends every queued chunk.
        """
        if now is not None:
            self._tick(now)
        parts = self._priority
        self._priority = []
        budget = None
        if max_bytes is not None:
            budget = max(0, max_bytes - sum(len(part) for part in parts))
        parts += self._outbox.take(self._now, budget)
        return b"".join(parts)

    def _check_open(self, message_id: str | None) -> str:
        if self.closed:
            raise LocalProtocolError("the MSRP session is closed")
        message_id = message_id or self._new_id()
        if not is_ident(message_id) or message_id in self._outbox:
            raise LocalProtocolError(f"unusable Message-ID {message_id!r}")
        return message_id

    def _new_id(self) -> str:
        value = self._id_source()
        if not is_ident(value):
            raise LocalProtocolError(f"id source gave an unusable identifier {value!r}")
        return value

    # ------------------------------------------------------------------ receiving

    def receive_data(self, data: bytes, now: float) -> list[MsrpEvent]:
        """Process bytes from the connection.

        Returns:
            The events they caused (and any queued by :meth:`data_to_send`). After a
            ``ConnectionBroken`` event nothing more can be read from this connection.
        """
        self._tick(now)
        if self._framer.broken:
            return self.next_events()  # ConnectionBroken was already reported
        for frame in self._framer.receive(data):
            if frame.fatal:
                assert frame.error is not None
                self._events.append(ConnectionBroken(frame.error.reason))
                break
            if frame.message is None:
                self._on_bad_frame(frame)
            elif isinstance(frame.message, MsrpResponse):
                self._outbox.on_response(frame.message)
            elif frame.message.method == "REPORT":
                self._on_report(frame.message)
            else:
                self._on_request(frame.message)
        return self.next_events()

    def next_events(self) -> list[MsrpEvent]:
        """Take the events queued so far."""
        events = self._events[:]
        self._events.clear()
        return events

    def _on_bad_frame(self, frame: Frame) -> None:
        if frame.method is None or frame.method == "REPORT" or frame.transaction_id is None:
            return  # responses and REPORTs are never answered
        assert frame.error is not None
        status = frame.error.status_hint or 400
        self._reject(frame.transaction_id, frame.method, status, frame.error.reason, None)

    def _reject(
        self,
        tid: str,
        method: str,
        status: int,
        reason: str,
        to: MsrpUri | None,
        failure_report: str = "yes",
    ) -> None:
        self._events.append(RequestRejected(tid, method, status, reason))
        self._respond(tid, status, to, failure_report)

    def _respond(self, tid: str, status: int, to: MsrpUri | None, failure_report: str) -> None:
        if failure_report == "no" or (failure_report == "partial" and status == 200):
            return
        headers = (
            ("To-Path", str(to or self.remote_path[0])),
            ("From-Path", str(self.local_uri)),
        )
        response = MsrpResponse(tid, status, REASON_PHRASES.get(status), headers)
        self._priority.append(response.to_bytes())

    def _on_request(self, request: MsrpRequest) -> None:
        tid, method = request.transaction_id, request.method
        try:
            to_path, from_path = request.to_path, request.from_path
        except MsrpParseError as exc:
            self._reject(tid, method, 400, exc.reason, None)
            return
        hop = from_path[0]
        if to_path != (self.local_uri,):
            self._reject(tid, method, 481, "To-Path is not this session", hop)
        elif method != "SEND":
            self._reject(tid, method, 501, f"method {method} not understood", hop)
        else:
            self._on_send(request, from_path)

    def _on_send(self, request: MsrpRequest, from_path: tuple[MsrpUri, ...]) -> None:
        tid, hop = request.transaction_id, from_path[0]
        try:
            failure_report = request.failure_report
            success_report = request.success_report
            message_id = request.message_id
            _ = request.byte_range  # validated here, used by the reassembler
        except MsrpParseError as exc:
            self._reject(tid, "SEND", exc.status_hint or 400, exc.reason, hop)
            return
        if message_id is None:
            self._reject(tid, "SEND", 400, "SEND without Message-ID", hop, failure_report)
            return
        self.bound = True
        if (
            not request.has_body
            and request.continuation != "#"
            and message_id not in self._reassembler
        ):
            self._respond(tid, 200, hop, failure_report)
            return  # an empty SEND: binds the connection, carries no message
        content_type = request.content_type
        if content_type is not None and not _accepts(self.accept_types, content_type):
            self._reassembler.discard(message_id)
            reason = f"{content_type} not accepted"
            self._reject(tid, "SEND", 415, reason, hop, failure_report)
            return
        try:
            result = self._reassembler.add(request)
        except MsrpParseError as exc:
            self._reject(tid, "SEND", exc.status_hint or 400, exc.reason, hop, failure_report)
            return
        self._respond(tid, 200, hop, failure_report)
        if result.aborted:
            self._events.append(MessageAborted(message_id, result.received))
        elif result.message is not None:
            whole = result.message
            self._events.append(
                MessageReceived(message_id, whole.content_type, whole.body, whole.headers)
            )
            if success_report:
                self._send_report(message_id, len(whole.body), from_path)
        elif not result.duplicate:
            self._events.append(ChunkReceived(message_id, result.received, result.total))

    def _send_report(self, message_id: str, size: int, to_path: tuple[MsrpUri, ...]) -> None:
        headers = (
            ("To-Path", format_path(to_path)),
            ("From-Path", str(self.local_uri)),
            ("Message-ID", message_id),
            ("Byte-Range", f"1-{size}/{size}"),
            ("Status", "000 200 OK"),
        )
        self._priority.append(MsrpRequest("REPORT", self._new_id(), headers).to_bytes())

    def _on_report(self, report: MsrpRequest) -> None:
        try:
            if report.to_path != (self.local_uri,):
                return
            message_id, status = report.message_id, report.status
            byte_range = report.byte_range
        except MsrpParseError:
            return  # a REPORT is never answered, not even with 400
        if message_id is not None and status is not None:
            self.bound = True
            self._events.append(ReportReceived(message_id, status.code, byte_range, status.reason))

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` should run next, or ``None``."""
        return self._outbox.next_deadline()

    def handle_timer(self, now: float) -> list[MsrpEvent]:
        """Expire the transactions whose response is overdue.

        Returns:
            ``MessageSendFailed`` (408) for messages with an unanswered chunk, and any
            other queued events.
        """
        self._tick(now)
        self._outbox.expire(now)
        return self.next_events()

    def connection_lost(self) -> list[MsrpEvent]:
        """The connection closed: every unfinished message fails (408) and the session
        accepts no more messages.

        Returns:
            The resulting events and any queued ones.
        """
        self.closed = True
        self._outbox.fail_all("connection lost")
        self._priority.clear()
        return self.next_events()

    def _tick(self, now: float) -> None:
        self._now = max(self._now, now)
