"""The per-profile message store: conversations and messages in SQLite (WAL).

The store is the handset's memory and its outgoing queue. Two promises shape it:

- **A message the user sends is committed before it leaves.** :meth:`MessageStore.add_outgoing`
  returns only after the row (state ``queued``) is committed. Anything still ``queued`` or
  ``sending`` when the process dies is returned by :meth:`MessageStore.pending_outgoing` at
  the next start and sent again with the *same* imdn.Message-ID, so a recipient that got the
  first copy recognises the second.
- **A received message is committed before the 200/202 goes back.** The engine calls
  :meth:`MessageStore.add_incoming`, then answers. A retransmission (the peer never saw our
  200) carries the same sender and imdn.Message-ID; the store recognises it and keeps one
  copy (RFC 5438 §6.3).

Durability. The file runs in WAL mode with ``synchronous=NORMAL``: every committed
transaction is in the WAL, handed to the operating system, before ``COMMIT`` returns, so a
crash, ``kill -9`` or ``os._exit`` of the process loses nothing; only a power cut or kernel
crash can drop the latest commits. The two commits that promise something to the outside
world (a new outgoing message, whose loss would be silent, and a new incoming one, about to
be acknowledged so the sender will not retransmit it) additionally run with
``synchronous=FULL`` (the WAL is fsynced at commit), which also flushes the NORMAL commits
before them. State updates stay NORMAL: losing one to a power cut at worst resends a message
under its old Message-ID (the recipient de-duplicates) or shows an older receipt state.
``durable=False`` makes every commit NORMAL, for load tests running many handsets.

Writes are one ``BEGIN IMMEDIATE`` transaction each (a second connection on the same file
waits up to ``busy_timeout`` for the write lock instead of failing half-way). SQL strings are
module constants, so sqlite3's statement cache reuses the prepared statements. Time is always
passed in (``now``, epoch seconds); the store never reads a clock. The store is safe to call
from several threads (calls are serialised), though the engine uses it from one.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Unpack

from rcs_terminal.domain import store_schema as sql
from rcs_terminal.domain.message import (
    Conversation,
    DeliveryEvent,
    DeliveryState,
    Direction,
    MessageDetails,
    StateChange,
    StoredMessage,
    Technology,
    advance,
    canonical_peer,
    event_for_imdn,
    make_preview,
    next_state,
)
from rcs_terminal.domain.store_schema import conversation_from_row, message_from_row
from rcs_terminal.errors import StoreError

DEFAULT_MAX_BODY = 16 * 1024 * 1024
"""Largest body stored by default, in bytes (larger content travels as a file transfer)."""

STORE_FILE_NAME = "messages.sqlite3"
"""The store's file name inside a profile's folder."""


class MessageStore:
    """Conversations and messages of one profile, in one SQLite file.

    Open it with :meth:`open` (or :meth:`for_profile`); use it as a context manager or call
    :meth:`close`. Every write method commits before it returns. The ``mark_*`` methods
    return a :class:`~rcs_terminal.domain.message.StateChange` (``changed`` is false when the
    state machine ignored the event) or ``None`` for an unknown message id.

    Args:
        conn: an open, migrated connection (see :func:`store_schema.connect`).
        path: where the file is.
        max_body: largest body accepted, in bytes.
        durable: fsync the commits of new messages (see the module docstring).
    """

    def __init__(
        self, conn: sqlite3.Connection, path: Path, *, max_body: int, durable: bool
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._durable = durable
        self.path = path
        """Where the store lives."""
        self.max_body = max_body
        """Largest body accepted, in bytes."""

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        max_body: int = DEFAULT_MAX_BODY,
        durable: bool = True,
        busy_timeout: float = 5.0,
    ) -> MessageStore:
        """Open the store at ``path``, creating or upgrading the file if needed.

        Args:
            path: the SQLite file; its folder is created if missing.
            max_body: largest body :meth:`add_outgoing` / :meth:`add_incoming` accept.
            durable: fsync the commits of new messages (see the module docstring).
            busy_timeout: seconds to wait for another connection's write lock.

        Raises:
            StoreError: the file cannot be opened, is not a store, or is from a newer version.
        """
        file = Path(path)
        conn = sql.connect(file, busy_timeout=busy_timeout)
        return cls(conn, file, max_body=max_body, durable=durable)

    @classmethod
    def for_profile(cls, profile_name: str, **options: Any) -> MessageStore:
        """Open a profile's store, ``paths.profile_dir(name) / "messages.sqlite3"``.

        Args:
            profile_name: the profile's name.
            **options: the keywords of :meth:`open`.
        """
        from rcs_terminal import paths

        return cls.open(paths.profile_dir(profile_name) / STORE_FILE_NAME, **options)

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> MessageStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``durable`` commits with ``synchronous=FULL``."""
        with self._lock:
            conn = self._live()
            full = durable and self._durable
            try:
                if full:
                    conn.execute("PRAGMA synchronous = FULL")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"message store write failed: {exc}") from exc
            finally:
                if full:
                    conn.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._live()
            except sqlite3.Error as exc:
                raise StoreError(f"message store read failed: {exc}") from exc

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the message store is closed")
        return self._conn

    # ------------------------------------------------------------------ conversations

    def conversation_for(
        self,
        sim: int,
        peer_uri: str,
        *,
        display_name: str | None = None,
        is_chatbot: bool | None = None,
        conversation_id: str | None = None,
    ) -> Conversation:
        """Get or create the conversation of ``sim`` with ``peer_uri``.

        Peers are matched by :func:`~rcs_terminal.domain.message.canonical_peer`. Given
        values update the conversation: ``display_name`` and ``is_chatbot`` replace the
        stored ones; ``conversation_id`` (CPM Conversation-ID) is kept only if none is known.
        """
        with self._write() as conn:
            row_id = _upsert_conversation(
                conn, sim, peer_uri, display_name, is_chatbot, conversation_id
            )
            row = conn.execute(sql.SELECT_CONVERSATIONS, {"sim": None, "id": row_id}).fetchone()
        return conversation_from_row(row)

    def conversation(self, conversation_id: int) -> Conversation | None:
        """The conversation with this row id, with its unread count."""
        params = {"sim": None, "id": conversation_id}
        with self._read() as conn:
            row = conn.execute(sql.SELECT_CONVERSATIONS, params).fetchone()
        return None if row is None else conversation_from_row(row)

    def conversations(self, sim: int | None = None) -> list[Conversation]:
        """All conversations (of one SIM, if given) with unread counts, latest activity first."""
        with self._read() as conn:
            rows = conn.execute(sql.SELECT_CONVERSATIONS, {"sim": sim, "id": None}).fetchall()
        return [conversation_from_row(row) for row in rows]

    def mark_conversation_read(
        self, conversation_id: int, *, now: float | None = None
    ) -> list[StoredMessage]:
        """Mark every unread incoming message of a conversation as seen by the user.

        Returns:
            The messages that were unread, now ``displayed_by_us``, oldest first; the engine
            sends display receipts for those whose ``wants_display_report`` is true.
        """
        target = next_state(DeliveryState.RECEIVED, DeliveryEvent.READ)
        params = {"target": target.value, "now": now, "conv": conversation_id}
        with self._write() as conn:
            rows = conn.execute(sql.READ_CONVERSATION, params).fetchall()
        return sorted((message_from_row(row) for row in rows), key=lambda m: m.id)

    # ------------------------------------------------------------------ new messages

    def add_outgoing(
        self,
        sim: int,
        peer_uri: str,
        content_type: str,
        body: bytes,
        *,
        message_id: str,
        now: float,
        **details: Unpack[MessageDetails],
    ) -> StoredMessage:
        """Store a message the user sends, state ``queued``, committed (fsynced) on return.

        Args:
            sim: the sending SIM's slot.
            peer_uri: the recipient.
            content_type: the content type of ``body``.
            body: the content as it will be carried inside CPIM.
            message_id: the imdn.Message-ID it will carry on every attempt.
            now: epoch seconds.
            **details: see :class:`~rcs_terminal.domain.message.MessageDetails`
                (technology, preview, file_path, traffic_type, contribution_id,
                cpim_conversation_id, disposition_requested, extra, display_name, is_chatbot).

        Raises:
            StoreError: the body is over :attr:`max_body`, or the message id is empty or
                already used by another outgoing message.
        """
        draft = self._draft(
            Direction.OUTGOING, sim, peer_uri, content_type, body, message_id, now, details, None
        )
        with self._write(durable=True) as conn:
            if conn.execute(sql.SELECT_OUTGOING, (message_id,)).fetchone() is not None:
                raise StoreError(f"message id {message_id!r} is already used")
            return _insert(conn, draft, details)

    def add_incoming(
        self,
        sim: int,
        peer_uri: str,
        content_type: str,
        body: bytes,
        *,
        message_id: str,
        now: float,
        sent_at: float | None = None,
        **details: Unpack[MessageDetails],
    ) -> tuple[StoredMessage, bool]:
        """Store a received message (state ``received``), committed before returning.

        A message already stored from the same peer on the same SIM with the same
        imdn.Message-ID is a retransmission: it is not stored again, and the stored copy is
        returned. The arguments are those of :meth:`add_outgoing` (``peer_uri`` being the
        sender), plus ``sent_at``: the sender's CPIM ``DateTime``, when given.

        Returns:
            The stored message, and ``True`` when it is new (``False`` for a duplicate:
            answer it again, but do not notify the user twice).

        Raises:
            StoreError: the body is over :attr:`max_body` or the message id is empty.
        """
        draft = self._draft(
            Direction.INCOMING, sim, peer_uri, content_type, body, message_id, now, details, sent_at
        )
        params = {"mid": message_id, "sim": sim, "peer": canonical_peer(peer_uri)}
        with self._write(durable=True) as conn:
            row = conn.execute(sql.SELECT_INCOMING, params).fetchone()
            if row is not None:
                return message_from_row(row), False
            return _insert(conn, draft, details), True

    def _draft(
        self,
        direction: Direction,
        sim: int,
        peer_uri: str,
        content_type: str,
        body: bytes,
        message_id: str,
        now: float,
        details: MessageDetails,
        sent_at: float | None,
    ) -> StoredMessage:
        """The new message as it will be stored (ids not yet assigned)."""
        if not message_id:
            raise StoreError("a message needs a non-empty imdn.Message-ID")
        if len(body) > self.max_body:
            raise StoreError(
                f"message body of {len(body)} bytes is over the store's limit of "
                f"{self.max_body} bytes",
                hint="send large content as a file transfer",
            )
        file_path = details.get("file_path")
        dispositions = details.get("disposition_requested", frozenset())
        return StoredMessage(
            id=0,
            message_id=message_id,
            conversation_id=0,
            sim=sim,
            direction=direction,
            peer_uri=peer_uri,
            content_type=content_type,
            body=bytes(body),
            text_preview=make_preview(content_type, body, details.get("preview")),
            state=DeliveryState.QUEUED if direction is Direction.OUTGOING else _RECEIVED,
            technology=Technology(details.get("technology", Technology.UNKNOWN)),
            failure_reason=None,
            created_at=float(now),
            sent_at=None if sent_at is None else float(sent_at),
            delivered_at=None,
            displayed_at=None,
            file_path=None if file_path is None else os.fspath(file_path),
            traffic_type=details.get("traffic_type"),
            contribution_id=details.get("contribution_id"),
            cpim_conversation_id=details.get("cpim_conversation_id"),
            disposition_requested=frozenset(sql.dispositions_text(dispositions).split()),
            displayed_reported=False,
            extra=dict(details.get("extra") or {}),
        )

    # ------------------------------------------------------------------ outgoing states

    def mark_sending(
        self, message_id: str, now: float, *, technology: Technology | None = None
    ) -> StateChange | None:
        """The message is being handed to the network (``queued -> sending``)."""
        return self._outgoing(message_id, DeliveryEvent.SEND_STARTED, now, technology=technology)

    def mark_sent(
        self, message_id: str, now: float, *, technology: Technology | None = None
    ) -> StateChange | None:
        """The network accepted the message (2xx to the MESSAGE, MSRP 200)."""
        return self._outgoing(message_id, DeliveryEvent.SEND_ACCEPTED, now, technology=technology)

    def apply_imdn(
        self, message_id: str, status: str, now: float, *, kind: str | None = None
    ) -> StateChange | None:
        """Apply a delivery/display notification for one of our messages.

        Args:
            message_id: the notification's ``<message-id>``: our imdn.Message-ID.
            status: the IMDN status (``delivered``, ``displayed``, ``failed``...).
            now: epoch seconds.
            kind: the notification kind, which decides what ``forbidden``/``error`` mean
                (see :func:`~rcs_terminal.domain.message.event_for_imdn`).
        """
        event = event_for_imdn(status, kind)
        if event is None:
            found = self.message(message_id, direction=Direction.OUTGOING)
            return None if found is None else StateChange(found, found.state)
        return self._outgoing(message_id, event, now, reason=f"IMDN {status.strip()}")

    def mark_failed(self, message_id: str, reason: str, now: float) -> StateChange | None:
        """Sending failed (error response, timeout, or the peer reported a failure)."""
        return self._outgoing(message_id, DeliveryEvent.FAILED, now, reason=reason)

    def mark_sms_fallback(
        self, message_id: str, now: float, *, reason: str | None = None
    ) -> StateChange | None:
        """The message went out as an SMS instead (its technology becomes ``sms``)."""
        return self._outgoing(
            message_id, DeliveryEvent.SMS_FALLBACK, now, reason=reason, technology=Technology.SMS
        )

    def retry(self, message_id: str) -> StateChange | None:
        """Queue a failed message again at the user's request (same imdn.Message-ID)."""
        return self._outgoing(message_id, DeliveryEvent.RETRY, None, durable=True)

    def pending_outgoing(self, sim: int | None = None) -> list[StoredMessage]:
        """Outgoing messages still to send (``queued`` or ``sending``), oldest first.

        Called at start: each is sent again under its stored imdn.Message-ID.
        """
        with self._read() as conn:
            rows = conn.execute(sql.SELECT_PENDING, {"sim": sim}).fetchall()
        return [message_from_row(row) for row in rows]

    def _outgoing(
        self,
        message_id: str,
        event: DeliveryEvent,
        now: float | None,
        *,
        reason: str | None = None,
        technology: Technology | None = None,
        durable: bool = False,
    ) -> StateChange | None:
        with self._write(durable=durable) as conn:
            row = conn.execute(sql.SELECT_OUTGOING, (message_id,)).fetchone()
            if row is None:
                return None
            return _apply(conn, message_from_row(row), event, now, reason, technology)

    # ------------------------------------------------------------------ incoming states

    def mark_displayed_by_us(
        self,
        message_id: str,
        *,
        now: float | None = None,
        sim: int | None = None,
        peer_uri: str | None = None,
    ) -> StateChange | None:
        """The user has seen an incoming message (``received -> displayed_by_us``).

        ``sim`` and ``peer_uri`` narrow the lookup should two peers have used one
        Message-ID; without them the latest incoming message with that id is meant.
        """
        with self._write() as conn:
            row = conn.execute(sql.SELECT_INCOMING, _lookup(message_id, sim, peer_uri))
            found = row.fetchone()
            if found is None:
                return None
            return _apply(conn, message_from_row(found), DeliveryEvent.READ, now)

    def set_displayed_reported(
        self,
        message_id: str,
        *,
        reported: bool = True,
        sim: int | None = None,
        peer_uri: str | None = None,
    ) -> bool:
        """Record that our display receipt for an incoming message went out.

        Returns:
            Whether the message was found.
        """
        with self._write() as conn:
            row = conn.execute(sql.SELECT_INCOMING, _lookup(message_id, sim, peer_uri))
            found = row.fetchone()
            if found is not None:
                conn.execute(sql.SET_DISPLAYED_REPORTED, (int(reported), found[0]))
        return found is not None

    def display_reports_due(self, sim: int | None = None) -> list[StoredMessage]:
        """Seen incoming messages whose requested display receipt has not gone out yet
        (the process may have died between showing and reporting them), oldest first."""
        with self._read() as conn:
            rows = conn.execute(sql.SELECT_UNREPORTED, {"sim": sim}).fetchall()
        return [message_from_row(row) for row in rows]

    def set_file_path(
        self, message_id: str, file_path: str | os.PathLike[str] | None, *, direction: Direction
    ) -> bool:
        """Attach a local file to the latest message with this id and direction (e.g. once a
        file transfer is downloaded). Returns whether such a message exists."""
        params = {"mid": message_id, "dir": direction.value}
        path = None if file_path is None else os.fspath(file_path)
        with self._write() as conn:
            found = conn.execute(sql.SELECT_BY_MESSAGE_ID, params).fetchone()
            if found is not None:
                conn.execute(sql.SET_FILE_PATH, (path, found[0]))
        return found is not None

    # ------------------------------------------------------------------ queries

    def messages(
        self, conversation_id: int, *, limit: int = 200, before: int | None = None
    ) -> list[StoredMessage]:
        """A page of a conversation, oldest first.

        Args:
            conversation_id: the conversation's row id.
            limit: at most this many (the latest ones).
            before: only messages whose row id is below this (the ``id`` of the oldest
                message of the page already shown).
        """
        params = {"conv": conversation_id, "before": before, "limit": limit}
        with self._read() as conn:
            rows = conn.execute(sql.SELECT_PAGE, params).fetchall()
        return [message_from_row(row) for row in reversed(rows)]

    def message(
        self, message_id: str, *, direction: Direction | None = None
    ) -> StoredMessage | None:
        """The message with this imdn.Message-ID (ours first, should both directions use it)."""
        params = {"mid": message_id, "dir": None if direction is None else direction.value}
        with self._read() as conn:
            row = conn.execute(sql.SELECT_BY_MESSAGE_ID, params).fetchone()
        return None if row is None else message_from_row(row)

    def search(self, text: str, *, sim: int | None = None, limit: int = 100) -> list[StoredMessage]:
        """Messages whose preview contains ``text`` (ASCII case-insensitive), newest first."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params = {"pattern": f"%{escaped}%", "sim": sim, "limit": limit}
        with self._read() as conn:
            rows = conn.execute(sql.SEARCH_PREVIEWS, params).fetchall()
        return [message_from_row(row) for row in rows]


# ----------------------------------------------------------------------------- helpers

_RECEIVED = DeliveryState.RECEIVED


def _lookup(message_id: str, sim: int | None, peer_uri: str | None) -> dict[str, object]:
    peer = None if peer_uri is None else canonical_peer(peer_uri)
    return {"mid": message_id, "sim": sim, "peer": peer}


def _upsert_conversation(
    conn: sqlite3.Connection,
    sim: int,
    peer_uri: str,
    display_name: str | None,
    is_chatbot: bool | None,
    conversation_id: str | None,
) -> int:
    params = {
        "sim": sim,
        "peer_key": canonical_peer(peer_uri),
        "peer_uri": peer_uri,
        "name": display_name,
        "bot": None if is_chatbot is None else int(is_chatbot),
        "conv": conversation_id,
    }
    return int(conn.execute(sql.UPSERT_CONVERSATION, params).fetchone()[0])


def _insert(
    conn: sqlite3.Connection, draft: StoredMessage, details: MessageDetails
) -> StoredMessage:
    conv = _upsert_conversation(
        conn,
        draft.sim,
        draft.peer_uri,
        details.get("display_name"),
        details.get("is_chatbot"),
        draft.cpim_conversation_id,
    )
    draft = dataclasses.replace(draft, conversation_id=conv)
    try:
        values = sql.message_to_row(draft, canonical_peer(draft.peer_uri))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"message extra data is not JSON-compatible: {exc}") from exc
    row_id = conn.execute(sql.INSERT_MESSAGE, values).lastrowid
    touch = {"now": draft.created_at, "preview": draft.text_preview, "id": conv}
    conn.execute(sql.TOUCH_CONVERSATION, touch)
    return dataclasses.replace(draft, id=row_id or 0)


def _apply(
    conn: sqlite3.Connection,
    message: StoredMessage,
    event: DeliveryEvent,
    now: float | None,
    reason: str | None = None,
    technology: Technology | None = None,
) -> StateChange:
    """Run ``event`` through the state machine and write the result if the state moved."""
    updated = advance(message, event, now, reason=reason, technology=technology)
    if updated is not message:
        conn.execute(sql.UPDATE_STATE, sql.state_row(updated))
    return StateChange(updated, message.state)
