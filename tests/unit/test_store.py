"""The message store (rcs_terminal.domain.store): conversations, messages, states, queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcs_terminal.domain import store_schema
from rcs_terminal.domain.message import DeliveryState, Direction, StoredMessage, Technology
from rcs_terminal.domain.store import STORE_FILE_NAME, MessageStore
from rcs_terminal.errors import StoreError

S = DeliveryState
BOB = "tel:+8613800000002"
BOB_SIP = "sip:+8613800000002@ims.mnc000.mcc460.3gppnetwork.org;user=phone"
BOT = "sip:weather@botplatform.lab"
CARD = "application/vnd.gsma.botmessage.v1.0+json"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MessageStore]:
    with MessageStore.open(tmp_path / "messages.sqlite3") as opened:
        yield opened


def _send(
    store: MessageStore, mid: str, now: float = 1000.0, peer: str = BOB, sim: int = 1
) -> StoredMessage:
    return store.add_outgoing(
        sim, peer, "text/plain", f"to {peer}".encode(), message_id=mid, now=now
    )


def _receive(
    store: MessageStore, mid: str, now: float = 1000.0, peer: str = BOB, sim: int = 1
) -> tuple[StoredMessage, bool]:
    return store.add_incoming(
        sim,
        peer,
        "text/plain",
        b"hello",
        message_id=mid,
        now=now,
        disposition_requested=frozenset({"positive-delivery", "display"}),
    )


# ----------------------------------------------------------------------------- opening


def test_open_sets_wal_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "messages.sqlite3"
    with MessageStore.open(path) as store:
        assert store.path == path
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [
        (store_schema.SCHEMA_VERSION,)
    ]
    conn.close()


def test_for_profile_uses_the_profile_dir(tmp_path: Path) -> None:
    with MessageStore.for_profile("lab alice", durable=False) as store:
        assert store.path.name == STORE_FILE_NAME
        assert store.path.parent.name == "lab_alice"
        assert (tmp_path / "rcs-home") in store.path.parents


def test_reopen_keeps_data_and_runs_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    with MessageStore.open(path) as store:
        _send(store, "m1")
    with MessageStore.open(path) as store:
        assert store.message("m1") is not None


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    MessageStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        MessageStore.open(path)


def test_migration_hook_upgrades_in_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    MessageStore.open(path).close()

    def add_pinned(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    conn = sqlite3.connect(path, isolation_level=None)
    assert store_schema.migrate(conn, target=2, migrations={1: add_pinned}) == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(conversations)")]
    assert "pinned" in columns
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (2,)
    with pytest.raises(StoreError, match="no migration from message store version 2"):
        store_schema.migrate(conn, target=3, migrations={})
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (2,)
    assert not conn.in_transaction

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE conversations ADD COLUMN muted INTEGER")
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        store_schema.migrate(conn, target=3, migrations={2: broken})
    columns = [row[1] for row in conn.execute("PRAGMA table_info(conversations)")]
    assert "muted" not in columns
    conn.close()


def test_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the message store"):
        MessageStore.open(path)


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = MessageStore.open(tmp_path / "m.sqlite3")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.conversations()
    with pytest.raises(StoreError, match="closed"):
        _send(store, "m1")


# ----------------------------------------------------------------------------- conversations


def test_conversation_for_gets_or_creates(store: MessageStore) -> None:
    first = store.conversation_for(1, BOB)
    assert (first.sim, first.peer_uri, first.unread, first.is_chatbot) == (1, BOB, 0, False)
    assert store.conversation_for(1, BOB_SIP).id == first.id
    assert store.conversation_for(1, "tel:+86-138-0000-0002").id == first.id
    assert store.conversation_for(2, BOB).id != first.id
    assert len(store.conversations()) == 2
    assert [c.sim for c in store.conversations(sim=2)] == [2]
    assert store.conversation(first.id) == first
    assert store.conversation(12345) is None


def test_conversation_details_update(store: MessageStore) -> None:
    bot = store.conversation_for(
        1, BOT, display_name="Weather", is_chatbot=True, conversation_id="conv-1"
    )
    assert (bot.display_name, bot.is_chatbot, bot.conversation_id) == ("Weather", True, "conv-1")
    same = store.conversation_for(1, BOT, conversation_id="conv-2")
    assert (same.display_name, same.is_chatbot, same.conversation_id) == (
        "Weather",
        True,
        "conv-1",
    )
    renamed = store.conversation_for(1, BOT, display_name="天气", is_chatbot=False)
    assert (renamed.display_name, renamed.is_chatbot) == ("天气", False)


def test_conversations_ordered_by_activity_with_previews(store: MessageStore) -> None:
    _send(store, "a", now=1000.0, peer=BOB)
    _send(store, "b", now=1002.0, peer=BOT)
    _receive(store, "c", now=1001.0, peer=BOB)
    assert [c.peer_uri for c in store.conversations()] == [BOT, BOB]
    _receive(store, "d", now=1003.0, peer=BOB_SIP)
    listed = store.conversations()
    assert [c.peer_uri for c in listed] == [BOB, BOT]
    assert (listed[0].last_activity, listed[0].last_preview, listed[0].unread) == (
        1003.0,
        "hello",
        2,
    )


def test_late_message_does_not_rewind_activity(store: MessageStore) -> None:
    _send(store, "a", now=2000.0)
    _receive(store, "old", now=1500.0)
    (conversation,) = store.conversations()
    assert conversation.last_activity == 2000.0
    assert conversation.last_preview == f"to {BOB}"


def test_cpim_conversation_id_is_adopted(store: MessageStore) -> None:
    store.add_incoming(
        1, BOB, "text/plain", b"x", message_id="m", now=1.0, cpim_conversation_id="c-77"
    )
    assert store.conversation_for(1, BOB).conversation_id == "c-77"


# ----------------------------------------------------------------------------- outgoing


def test_add_outgoing_is_queued_and_complete(store: MessageStore) -> None:
    message = store.add_outgoing(
        1,
        BOT,
        CARD,
        b'{"message":{}}',
        message_id="out-1",
        now=1000,
        technology=Technology.PAGER,
        preview="Weather card",
        file_path=Path("/tmp/x.jpg"),
        traffic_type="advertisement",
        contribution_id="contrib",
        cpim_conversation_id="conv",
        disposition_requested=frozenset({"Display", "positive-delivery"}),
        extra={"suggestion": {"postback": "ok"}, "n": [1, 2]},
        display_name="Weather",
        is_chatbot=True,
    )
    assert message.state is S.QUEUED and message.id > 0 and message.created_at == 1000.0
    assert message.direction is Direction.OUTGOING and message.is_pending
    assert message.text_preview == "Weather card" and message.file_path == "/tmp/x.jpg"
    assert message.disposition_requested == {"display", "positive-delivery"}
    assert store.message("out-1") == message
    conversation = store.conversation(message.conversation_id)
    assert conversation is not None and conversation.is_chatbot
    assert conversation.display_name == "Weather" and conversation.unread == 0


def test_outgoing_message_id_is_unique(store: MessageStore) -> None:
    _send(store, "dup")
    with pytest.raises(StoreError, match="already used"):
        _send(store, "dup", peer=BOT)
    assert len(store.pending_outgoing()) == 1


def test_empty_message_id_is_refused(store: MessageStore) -> None:
    with pytest.raises(StoreError, match="non-empty"):
        _send(store, "")
    with pytest.raises(StoreError, match="non-empty"):
        _receive(store, "")


def test_body_limit(tmp_path: Path) -> None:
    with MessageStore.open(tmp_path / "m.sqlite3", max_body=10) as store:
        store.add_outgoing(1, BOB, "text/plain", b"x" * 10, message_id="ok", now=1.0)
        with pytest.raises(StoreError, match="over the store's limit of 10 bytes") as info:
            store.add_outgoing(1, BOB, "text/plain", b"x" * 11, message_id="big", now=1.0)
        assert info.value.hint
        with pytest.raises(StoreError):
            store.add_incoming(1, BOB, "text/plain", b"x" * 11, message_id="big", now=1.0)
        assert store.message("big") is None


def test_default_body_limit_is_16_mb(store: MessageStore) -> None:
    assert store.max_body == 16 * 1024 * 1024


def test_extra_must_be_json(store: MessageStore) -> None:
    with pytest.raises(StoreError, match="JSON"):
        store.add_outgoing(
            1, BOB, "text/plain", b"x", message_id="m", now=1.0, extra={"bad": object()}
        )
    assert store.message("m") is None and store.conversations() == []


def test_outgoing_life(store: MessageStore) -> None:
    _send(store, "m1", now=1000.0)
    sending = store.mark_sending("m1", 1001.0, technology=Technology.PAGER)
    assert sending is not None and sending.changed and sending.previous is S.QUEUED
    assert sending.message.technology is Technology.PAGER
    sent = store.mark_sent("m1", 1002.0)
    assert sent is not None and sent.message.sent_at == 1002.0
    delivered = store.apply_imdn("m1", "delivered", 1003.0, kind="delivery")
    assert delivered is not None and delivered.message.delivered_at == 1003.0
    displayed = store.apply_imdn("m1", "displayed", 1004.0, kind="display")
    assert displayed is not None and displayed.message.state is S.DISPLAYED
    assert store.message("m1") == displayed.message
    assert store.pending_outgoing() == []


def test_out_of_order_imdn_is_ignored(store: MessageStore) -> None:
    _send(store, "m1")
    store.mark_sent("m1", 1.0)
    store.apply_imdn("m1", "displayed", 3.0)
    late = store.apply_imdn("m1", "delivered", 4.0)
    assert late is not None and not late.changed and late.message.state is S.DISPLAYED
    stored = store.message("m1")
    assert stored is not None and stored.delivered_at == 3.0 and stored.displayed_at == 3.0


def test_imdn_without_state_change(store: MessageStore) -> None:
    _send(store, "m1")
    store.mark_sent("m1", 1.0)
    change = store.apply_imdn("m1", "error", 2.0, kind="display")
    assert change is not None and not change.changed and change.message.state is S.SENT
    assert store.apply_imdn("nope", "processed", 2.0) is None
    failed = store.apply_imdn("m1", "forbidden", 3.0)
    assert failed is not None and failed.message.state is S.FAILED
    assert failed.message.failure_reason == "IMDN forbidden"


def test_unknown_message_ids(store: MessageStore) -> None:
    assert store.mark_sending("nope", 1.0) is None
    assert store.mark_sent("nope", 1.0) is None
    assert store.apply_imdn("nope", "delivered", 1.0) is None
    assert store.mark_failed("nope", "x", 1.0) is None
    assert store.mark_sms_fallback("nope", 1.0) is None
    assert store.retry("nope") is None
    assert store.mark_displayed_by_us("nope") is None
    assert not store.set_displayed_reported("nope")
    assert not store.set_file_path("nope", "/x", direction=Direction.INCOMING)
    assert store.message("nope") is None


def test_failure_fallback_and_retry(store: MessageStore) -> None:
    _send(store, "m1")
    store.mark_sending("m1", 1.0)
    failed = store.mark_failed("m1", "480 Temporarily Unavailable", 2.0)
    assert failed is not None and failed.message.failure_reason == "480 Temporarily Unavailable"
    assert store.pending_outgoing() == []
    retried = store.retry("m1")
    assert retried is not None and retried.message.state is S.QUEUED
    assert [m.message_id for m in store.pending_outgoing()] == ["m1"]
    store.mark_failed("m1", "timeout", 3.0)
    fallback = store.mark_sms_fallback("m1", 4.0, reason="no RCS")
    assert fallback is not None and fallback.message.state is S.SMS_FALLBACK
    assert fallback.message.technology is Technology.SMS
    assert fallback.message.failure_reason == "no RCS"
    assert store.retry("m1") is not None and store.message("m1").state is S.SMS_FALLBACK  # type: ignore[union-attr]


def test_pending_outgoing_by_sim_in_order(store: MessageStore) -> None:
    _send(store, "a", sim=1)
    _send(store, "b", sim=2)
    _send(store, "c", sim=1)
    store.mark_sending("c", 1.0)
    _send(store, "d", sim=1)
    store.mark_sent("d", 1.0)
    assert [m.message_id for m in store.pending_outgoing()] == ["a", "b", "c"]
    pending = store.pending_outgoing(sim=1)
    assert [(m.message_id, m.state) for m in pending] == [("a", S.QUEUED), ("c", S.SENDING)]


# ----------------------------------------------------------------------------- incoming


def test_incoming_and_its_duplicate(store: MessageStore) -> None:
    first, new = _receive(store, "in-1", now=1000.0)
    assert new and first.state is S.RECEIVED and first.direction is Direction.INCOMING
    again, new_again = _receive(store, "in-1", now=1005.0, peer=BOB_SIP)
    assert not new_again and again == first
    assert store.conversation(first.conversation_id).unread == 1  # type: ignore[union-attr]
    assert len(store.messages(first.conversation_id)) == 1


def test_same_message_id_from_another_peer_or_sim_is_new(store: MessageStore) -> None:
    _receive(store, "x")
    assert _receive(store, "x", peer=BOT)[1]
    assert _receive(store, "x", sim=2)[1]
    _send(store, "x")
    assert store.message("x").direction is Direction.OUTGOING  # type: ignore[union-attr]
    incoming = store.message("x", direction=Direction.INCOMING)
    assert incoming is not None and incoming.sim == 2


def test_incoming_sent_at_and_details(store: MessageStore) -> None:
    message, _ = store.add_incoming(
        2,
        BOT,
        CARD,
        b"{}",
        message_id="m",
        now=1000.0,
        sent_at=999.5,
        technology=Technology.SESSION,
        preview="Card",
        traffic_type="payment",
        display_name="Weather",
        is_chatbot=True,
    )
    assert (message.sent_at, message.technology, message.text_preview) == (
        999.5,
        Technology.SESSION,
        "Card",
    )
    assert store.conversations(sim=2)[0].is_chatbot


def test_read_flow_and_display_reports(store: MessageStore) -> None:
    one, _ = _receive(store, "in-1", now=1.0)
    _receive(store, "in-2", now=2.0)
    store.add_incoming(1, BOB, "text/plain", b"no receipts", message_id="in-3", now=3.0)
    _receive(store, "other", now=4.0, peer=BOT)
    seen = store.mark_displayed_by_us("in-1", now=5.0, peer_uri=BOB_SIP)
    assert seen is not None and seen.changed and seen.message.displayed_at == 5.0
    assert store.conversation(one.conversation_id).unread == 2  # type: ignore[union-attr]
    read = store.mark_conversation_read(one.conversation_id, now=6.0)
    assert [m.message_id for m in read] == ["in-2", "in-3"]
    assert all(m.state is S.DISPLAYED_BY_US and m.displayed_at == 6.0 for m in read)
    assert [m.wants_display_report for m in read] == [True, False]
    assert store.mark_conversation_read(one.conversation_id) == []
    unread = {c.peer_uri: c.unread for c in store.conversations()}
    assert unread == {BOB: 0, BOT: 1}
    due = [m.message_id for m in store.display_reports_due()]
    assert due == ["in-1", "in-2"]
    assert store.set_displayed_reported("in-1", sim=1)
    assert [m.message_id for m in store.display_reports_due(sim=1)] == ["in-2"]
    assert store.display_reports_due(sim=2) == []


def test_set_file_path(store: MessageStore) -> None:
    _receive(store, "ft")
    assert store.set_file_path("ft", Path("/downloads/a.jpg"), direction=Direction.INCOMING)
    assert store.message("ft").file_path == "/downloads/a.jpg"  # type: ignore[union-attr]
    assert not store.set_file_path("ft", "/x", direction=Direction.OUTGOING)


# ----------------------------------------------------------------------------- queries


def test_paging_through_a_conversation(store: MessageStore) -> None:
    for n in range(7):
        _send(store, f"m{n}", now=1000.0 + n)
    conv = store.conversations()[0].id
    page = store.messages(conv, limit=3)
    assert [m.message_id for m in page] == ["m4", "m5", "m6"]
    older = store.messages(conv, limit=3, before=page[0].id)
    assert [m.message_id for m in older] == ["m1", "m2", "m3"]
    assert [m.message_id for m in store.messages(conv, before=older[0].id)] == ["m0"]
    assert len(store.messages(conv)) == 7
    assert store.messages(999) == []


def test_bodies_are_kept_exactly(store: MessageStore) -> None:
    body = bytes(range(256)) * 3
    store.add_outgoing(1, BOB, "application/octet-stream", body, message_id="bin", now=1.0)
    stored = store.message("bin")
    assert stored is not None and stored.body == body
    assert stored.text_preview == "[application/octet-stream]"


def test_search(store: MessageStore) -> None:
    store.add_outgoing(1, BOB, "text/plain", b"Meet at 100% Plaza_1", message_id="a", now=1.0)
    store.add_incoming(2, BOT, "text/plain", "天气 sunny".encode(), message_id="b", now=2.0)
    assert [m.message_id for m in store.search("plaza")] == ["a"]
    assert [m.message_id for m in store.search("100%")] == ["a"]
    assert [m.message_id for m in store.search("%")] == ["a"]
    assert [m.message_id for m in store.search("_")] == ["a"]
    assert [m.message_id for m in store.search("天气")] == ["b"]
    assert store.search("sunny", sim=1) == []
    assert len(store.search("")) == 2
