"""The message store across crashes, restarts and concurrent connections (WAL)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from rcs_terminal.domain.message import DeliveryState
from rcs_terminal.domain.store import MessageStore

REPO = Path(__file__).resolve().parents[2]
BOB = "tel:+8613800000002"

# Runs in a child interpreter: store, start sending, then die without closing anything.
CRASHING_CHILD = """
import os, sys
from rcs_terminal.domain.store import MessageStore

store = MessageStore.open(sys.argv[1])
store.add_outgoing(1, "tel:+8613800000002", "text/plain", "出发了".encode(),
                   message_id="crash-queued", now=1000.0,
                   disposition_requested=frozenset({"positive-delivery", "display"}))
store.add_outgoing(2, "sip:bot@botplatform.lab", "text/plain", b"menu",
                   message_id="crash-in-flight", now=1001.0)
store.mark_sending("crash-in-flight", 1002.0)
store.add_incoming(1, "tel:+8613800000002", "text/plain", b"hi", message_id="got-it",
                   now=1003.0)
print("stored", flush=True)
os._exit(1)
"""


def _run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_outgoing_messages_survive_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "messages.sqlite3"
    result = _run_child(CRASHING_CHILD, str(path))
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == "stored"
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # nothing was checkpointed or closed

    with MessageStore.open(path) as store:
        pending = store.pending_outgoing()
        assert [(m.message_id, m.state, m.sim) for m in pending] == [
            ("crash-queued", DeliveryState.QUEUED, 1),
            ("crash-in-flight", DeliveryState.SENDING, 2),
        ]
        assert pending[0].body == "出发了".encode()
        assert pending[0].disposition_requested == {"positive-delivery", "display"}
        # the restart resends under the same Message-ID, and the receiver's copy is kept once
        store.mark_sending("crash-in-flight", 2000.0)
        assert store.mark_sent("crash-in-flight", 2001.0).changed  # type: ignore[union-attr]
        _, new = store.add_incoming(1, BOB, "text/plain", b"hi", message_id="got-it", now=2002.0)
        assert not new
    with MessageStore.open(path) as store:
        assert [m.message_id for m in store.pending_outgoing()] == ["crash-queued"]


def test_pending_outgoing_after_clean_reopen(tmp_path: Path) -> None:
    path = tmp_path / "messages.sqlite3"
    with MessageStore.open(path, durable=False) as store:
        store.add_outgoing(1, BOB, "text/plain", b"a", message_id="a", now=1.0)
        store.add_outgoing(1, BOB, "text/plain", b"b", message_id="b", now=2.0)
        store.mark_sent("b", 3.0)
    with MessageStore.open(path) as store:
        assert [m.message_id for m in store.pending_outgoing()] == ["a"]


def test_durable_commits_restore_normal_sync(tmp_path: Path) -> None:
    with MessageStore.open(tmp_path / "m.sqlite3") as store:
        store.add_outgoing(1, BOB, "text/plain", b"a", message_id="a", now=1.0)
        conn = store._conn  # the setting is per connection: check it went back to NORMAL
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_two_stores_on_one_file_see_each_other(tmp_path: Path) -> None:
    path = tmp_path / "messages.sqlite3"
    with MessageStore.open(path) as engine, MessageStore.open(path) as viewer:
        engine.add_outgoing(1, BOB, "text/plain", b"a", message_id="a", now=1.0)
        assert [m.message_id for m in viewer.pending_outgoing()] == ["a"]
        viewer.mark_sent("a", 2.0)
        assert engine.message("a").state is DeliveryState.SENT  # type: ignore[union-attr]
        engine.add_incoming(1, BOB, "text/plain", b"b", message_id="b", now=3.0)
        assert not viewer.add_incoming(1, BOB, "text/plain", b"b", message_id="b", now=4.0)[1]
        assert viewer.conversations()[0].unread == 1


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "messages.sqlite3"
    MessageStore.open(path).close()
    errors: list[BaseException] = []

    def writer(sim: int) -> None:
        try:
            with MessageStore.open(path, durable=False) as store:
                for n in range(40):
                    mid = f"s{sim}-{n}"
                    store.add_outgoing(sim, BOB, "text/plain", b"x", message_id=mid, now=n)
                    store.add_incoming(sim, BOB, "text/plain", b"y", message_id=mid, now=n)
                    store.mark_sent(mid, n + 0.5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(sim,)) for sim in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with MessageStore.open(path) as store:
        conversations = store.conversations()
        assert sorted(c.sim for c in conversations) == [1, 2, 3]
        assert all(c.unread == 40 for c in conversations)
        assert store.pending_outgoing() == []
        assert all(len(store.messages(c.id)) == 80 for c in conversations)


def test_one_store_shared_by_threads(tmp_path: Path) -> None:
    with MessageStore.open(tmp_path / "m.sqlite3", durable=False) as store:

        def writer(sim: int) -> None:
            for n in range(30):
                store.add_outgoing(sim, BOB, "text/plain", b"x", message_id=f"{sim}-{n}", now=n)

        threads = [threading.Thread(target=writer, args=(sim,)) for sim in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.pending_outgoing()) == 60
