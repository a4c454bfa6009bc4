"""The message store's SQLite schema, its versions, and rows turned back into values.

:mod:`rcs_terminal.domain.store` runs the queries; this module owns what the file looks
like: the tables and indexes (:data:`SCHEMA`), the version kept in the ``schema_version``
table, the migration hook (:data:`MIGRATIONS`, applied by :func:`migrate` when an older file
is opened) and the conversion of rows into :class:`~rcs_terminal.domain.message.Conversation`
and :class:`~rcs_terminal.domain.message.StoredMessage`.

Layout, and why:

- ``conversations`` is keyed by ``(sim, peer_key)``, where ``peer_key`` is
  :func:`~rcs_terminal.domain.message.canonical_peer` of the peer (the unique index doubles as
  the lookup index for "conversation with this peer on this SIM").
- ``messages`` holds both directions. Our own imdn.Message-IDs (RFC 5438 §6.3) are unique
  among outgoing messages (partial unique index); incoming ones are unique per
  ``(sim, peer_key)``, which is how a retransmitted MESSAGE, sent again by the same peer under
  the same Message-ID, is recognised. ``(state, conversation_id)`` serves the restart queue
  and the unread counts; ``conversation_id`` (with the implicit rowid) serves paging through
  a conversation.
- bodies are BLOBs, exactly as carried; ``disposition_requested`` is a space-separated list;
  ``extra`` is JSON text, NULL when empty.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rcs_terminal.domain.message import (
    Conversation,
    DeliveryState,
    Direction,
    StoredMessage,
    Technology,
)
from rcs_terminal.errors import StoreError

SCHEMA_VERSION = 1
"""The version of the layout this code writes."""

SCHEMA = """
CREATE TABLE schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    sim INTEGER NOT NULL,
    peer_key TEXT NOT NULL,
    peer_uri TEXT NOT NULL,
    display_name TEXT,
    is_chatbot INTEGER NOT NULL DEFAULT 0,
    conversation_id TEXT,
    last_activity REAL NOT NULL DEFAULT 0,
    last_preview TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX conversations_sim_peer ON conversations (sim, peer_key);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sim INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    peer_uri TEXT NOT NULL,
    peer_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    text_preview TEXT NOT NULL,
    state TEXT NOT NULL,
    technology TEXT NOT NULL,
    failure_reason TEXT,
    created_at REAL NOT NULL,
    sent_at REAL,
    delivered_at REAL,
    displayed_at REAL,
    file_path TEXT,
    traffic_type TEXT,
    contribution_id TEXT,
    cpim_conversation_id TEXT,
    disposition_requested TEXT NOT NULL DEFAULT '',
    displayed_reported INTEGER NOT NULL DEFAULT 0,
    extra TEXT
);
CREATE UNIQUE INDEX messages_outgoing_id ON messages (message_id) WHERE direction = 'out';
CREATE UNIQUE INDEX messages_incoming_id
    ON messages (sim, peer_key, message_id) WHERE direction = 'in';
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_state ON messages (state, conversation_id);
CREATE INDEX messages_conversation ON messages (conversation_id);
"""
"""The layout at :data:`SCHEMA_VERSION`, for a new file."""

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: Mapping[int, Migration] = {}
"""Upgrade steps: ``MIGRATIONS[n]`` turns a version ``n`` file into version ``n + 1``.

Each step runs inside the one transaction that also records the new version, so a file is
never left half-migrated. Empty while there is a single version.
"""


def connect(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """Open ``path`` in WAL mode, ``synchronous=NORMAL``, foreign keys on, and migrate it.

    The connection is in autocommit mode (``isolation_level=None``): the store issues its
    own ``BEGIN IMMEDIATE``/``COMMIT``. It may be used from another thread than the one that
    opened it; the store serialises calls.

    Raises:
        StoreError: the file cannot be opened, is not a store, or is from a newer version.
    """
    conn: sqlite3.Connection | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.Error | OSError):
            raise StoreError(f"cannot open the message store {path}: {exc}") from exc
        raise
    return conn


def migrate(
    conn: sqlite3.Connection,
    *,
    target: int = SCHEMA_VERSION,
    migrations: Mapping[int, Migration] = MIGRATIONS,
) -> int:
    """Create the schema in a new file or bring an older one up to ``target``.

    Must be called outside a transaction; runs in one ``BEGIN IMMEDIATE`` transaction.

    Args:
        conn: a connection in autocommit mode (``isolation_level=None``).
        target: the version to reach.
        migrations: the upgrade steps to use.

    Returns:
        The version the file had before (0 for a new file).

    Raises:
        StoreError: the file was written by a newer version, or a step is missing.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _version(conn)
        if found == 0:
            for statement in _statements(SCHEMA):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
        elif found > target:
            raise StoreError(
                f"the message store has schema version {found}, newer than {target}",
                hint="open it with the rcs-terminal version that wrote it, or move it away",
            )
        elif found < target:
            for version in range(found, target):
                step = migrations.get(version)
                if step is None:
                    raise StoreError(f"no migration from message store version {version}")
                step(conn)
            conn.execute("UPDATE schema_version SET version = ?", (target,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def _version(conn: sqlite3.Connection) -> int:
    table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if table is None:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _statements(script: str) -> list[str]:
    # executescript() would commit the open transaction; run the statements one by one.
    return [part.strip() for part in script.split(";") if part.strip()]


# ----------------------------------------------------------------------------- statements
# Module constants, so that sqlite3's statement cache keeps each one prepared.

UPSERT_CONVERSATION = """
INSERT INTO conversations (sim, peer_key, peer_uri, display_name, is_chatbot, conversation_id)
VALUES (:sim, :peer_key, :peer_uri, :name, coalesce(:bot, 0), :conv)
ON CONFLICT (sim, peer_key) DO UPDATE SET
    display_name = coalesce(:name, display_name),
    is_chatbot = coalesce(:bot, is_chatbot),
    conversation_id = coalesce(conversation_id, :conv)
RETURNING id
"""
TOUCH_CONVERSATION = """
UPDATE conversations SET last_activity = :now, last_preview = :preview
WHERE id = :id AND last_activity <= :now
"""
UPDATE_STATE = """
UPDATE messages SET state = ?, technology = ?, failure_reason = ?, sent_at = ?,
    delivered_at = ?, displayed_at = ?
WHERE id = ?
"""
SET_DISPLAYED_REPORTED = "UPDATE messages SET displayed_reported = ? WHERE id = ?"
SET_FILE_PATH = "UPDATE messages SET file_path = ? WHERE id = ?"

# ----------------------------------------------------------------------------- rows

CONVERSATION_COLUMNS = (
    "c.id, c.sim, c.peer_uri, c.display_name, c.is_chatbot, c.conversation_id, "
    "c.last_activity, c.last_preview"
)
"""Columns of ``conversations c`` read by :func:`conversation_from_row` (unread count last)."""

MESSAGE_COLUMNS = (
    "id, message_id, conversation_id, sim, direction, peer_uri, content_type, body, "
    "text_preview, state, technology, failure_reason, created_at, sent_at, delivered_at, "
    "displayed_at, file_path, traffic_type, contribution_id, cpim_conversation_id, "
    "disposition_requested, displayed_reported, extra"
)
"""Columns of ``messages`` read by :func:`message_from_row`, in field order."""


INSERT_MESSAGE = f"""
INSERT INTO messages ({MESSAGE_COLUMNS}, peer_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
SELECT_OUTGOING = f"""
SELECT {MESSAGE_COLUMNS} FROM messages WHERE direction = 'out' AND message_id = ?
"""
SELECT_INCOMING = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE direction = 'in' AND message_id = :mid
    AND (:sim IS NULL OR sim = :sim) AND (:peer IS NULL OR peer_key = :peer)
ORDER BY id DESC LIMIT 1
"""
SELECT_CONVERSATIONS = f"""
SELECT {CONVERSATION_COLUMNS}, u.n FROM conversations c
LEFT JOIN (
    SELECT conversation_id, count(*) AS n FROM messages WHERE state = 'received'
    GROUP BY conversation_id
) u ON u.conversation_id = c.id
WHERE (:sim IS NULL OR c.sim = :sim) AND (:id IS NULL OR c.id = :id)
ORDER BY c.last_activity DESC, c.id DESC
"""
SELECT_PENDING = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE state IN ('queued', 'sending') AND direction = 'out' AND (:sim IS NULL OR sim = :sim)
ORDER BY id
"""
SELECT_UNREPORTED = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE state = 'displayed_by_us' AND displayed_reported = 0
    AND (' ' || disposition_requested || ' ') LIKE '% display %'
    AND (:sim IS NULL OR sim = :sim)
ORDER BY id
"""
SELECT_PAGE = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE conversation_id = :conv AND (:before IS NULL OR id < :before)
ORDER BY id DESC LIMIT :limit
"""
SELECT_BY_MESSAGE_ID = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE message_id = :mid AND (:dir IS NULL OR direction = :dir)
ORDER BY direction = 'out' DESC, id DESC LIMIT 1
"""
READ_CONVERSATION = f"""
UPDATE messages SET state = :target, displayed_at = coalesce(:now, displayed_at)
WHERE conversation_id = :conv AND state = 'received'
RETURNING {MESSAGE_COLUMNS}
"""
SEARCH_PREVIEWS = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE text_preview LIKE :pattern ESCAPE '\\' AND (:sim IS NULL OR sim = :sim)
ORDER BY id DESC LIMIT :limit
"""


def conversation_from_row(row: Sequence[Any]) -> Conversation:
    """Build a :class:`Conversation` from :data:`CONVERSATION_COLUMNS` plus an unread count."""
    id_, sim, peer_uri, name, is_chatbot, conv_id, last_activity, preview, unread = row
    return Conversation(
        id=id_,
        sim=sim,
        peer_uri=peer_uri,
        display_name=name,
        is_chatbot=bool(is_chatbot),
        conversation_id=conv_id,
        last_activity=float(last_activity),
        unread=unread or 0,
        last_preview=preview,
    )


def message_from_row(row: Sequence[Any]) -> StoredMessage:
    """Build a :class:`StoredMessage` from a row of :data:`MESSAGE_COLUMNS`.

    The columns hold the types the store wrote, so only the enums, flags, packed fields and
    times are converted (a ``RETURNING`` clause can hand back a whole-number REAL as an int).
    """
    (
        id_, message_id, conversation_id, sim, direction, peer_uri, content_type, body,
        preview, state, technology, failure_reason, created_at, sent_at, delivered_at,
        displayed_at, file_path, traffic_type, contribution_id, cpim_conversation_id,
        disposition, displayed_reported, extra,
    ) = row  # fmt: skip
    return StoredMessage(
        id=id_,
        message_id=message_id,
        conversation_id=conversation_id,
        sim=sim,
        direction=Direction(direction),
        peer_uri=peer_uri,
        content_type=content_type,
        body=body,
        text_preview=preview,
        state=DeliveryState(state),
        technology=Technology(technology),
        failure_reason=failure_reason,
        created_at=float(created_at),
        sent_at=_opt_float(sent_at),
        delivered_at=_opt_float(delivered_at),
        displayed_at=_opt_float(displayed_at),
        file_path=file_path,
        traffic_type=traffic_type,
        contribution_id=contribution_id,
        cpim_conversation_id=cpim_conversation_id,
        disposition_requested=frozenset(disposition.split()),
        displayed_reported=bool(displayed_reported),
        extra=json.loads(extra) if extra else {},
    )


def dispositions_text(values: frozenset[str] | set[str] | tuple[str, ...]) -> str:
    """The stored form of ``disposition_requested``: sorted, lower-case, space-separated."""
    return " ".join(sorted({value.strip().lower() for value in values if value.strip()}))


def message_to_row(message: StoredMessage, peer_key: str) -> tuple[Any, ...]:
    """The values of :data:`INSERT_MESSAGE` for a new message (its ``id`` is assigned)."""
    extra = json.dumps(message.extra, ensure_ascii=False, separators=(",", ":"))
    return (
        None,
        message.message_id,
        message.conversation_id,
        message.sim,
        message.direction.value,
        message.peer_uri,
        message.content_type,
        message.body,
        message.text_preview,
        message.state.value,
        message.technology.value,
        message.failure_reason,
        message.created_at,
        message.sent_at,
        message.delivered_at,
        message.displayed_at,
        message.file_path,
        message.traffic_type,
        message.contribution_id,
        message.cpim_conversation_id,
        dispositions_text(message.disposition_requested),
        int(message.displayed_reported),
        extra if message.extra else None,
        peer_key,
    )


def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def state_row(message: StoredMessage) -> tuple[Any, ...]:
    """The values of :data:`UPDATE_STATE` for a message whose state moved."""
    return (
        message.state.value,
        message.technology.value,
        message.failure_reason,
        message.sent_at,
        message.delivered_at,
        message.displayed_at,
        message.id,
    )
