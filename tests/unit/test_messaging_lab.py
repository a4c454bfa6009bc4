"""Messaging through the bundled lab on loopback: two provisioned handsets (lab-alice,
lab-bob) exchange a text with receipts, alice talks to the ``demo`` chatbot (welcome card
with chips, a chip response answered by the bot) and sends bob a file over FT-HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rcs_terminal.domain.content import describe
from rcs_terminal.domain.events import Event, MessageReceived
from rcs_terminal.domain.message import Direction, StoredMessage
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.engine.handset import Handset

lab_module = pytest.importorskip("rcs_terminal.lab.lab")

DEMO = "sip:demo@botplatform.lab"


@pytest.fixture
async def lab() -> AsyncIterator[Any]:
    network = lab_module.Lab()
    await network.start()
    try:
        yield network
    finally:
        await network.stop()


class Inbox:
    """The messages a handset receives, in order."""

    def __init__(self, handset: Handset) -> None:
        self.handset = handset
        self.queue: asyncio.Queue[MessageReceived] = asyncio.Queue()
        handset.bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, MessageReceived):
            self.queue.put_nowait(event)

    async def next(self) -> StoredMessage:
        event = await asyncio.wait_for(self.queue.get(), 10)
        found = self.handset.store.message(event.message_id, direction=Direction.INCOMING)
        assert found is not None
        return found


async def started(name: str, lab: Any) -> Handset:
    handset = Handset(load_profile(name), lab=lab.info)
    assert await handset.start() == {1: None}
    return handset


async def test_person_to_person_chatbot_and_file(lab: Any, tmp_path: Path) -> None:
    alice = await started("lab-alice", lab)
    bob = await started("lab-bob", lab)
    alice_inbox, bob_inbox = Inbox(alice), Inbox(bob)
    try:
        sender = alice.stack().messaging
        assert sender is not None
        reg = bob.stack().registration
        assert reg is not None
        bob_tel = next(u for u in reg.associated_uris if u.startswith("tel:"))

        sent = await sender.send_text(bob_tel, "你好 Bob")
        assert (sent.technology, sent.state) == ("pager", "sent")
        got = await bob_inbox.next()
        assert got.body.decode() == "你好 Bob" and got.message_id == sent.message_id
        reached = await sender.wait_for_state(sent.message_id, {"delivered", "displayed"}, 10)
        assert reached.state.value == "delivered"

        hello = await sender.send_text(DEMO, "hi")
        assert hello.state == "sent"
        welcome = await alice_inbox.next()
        content = describe(welcome.content_type, welcome.body)
        assert content.kind in ("card", "carousel") and content.suggestions
        assert any(c.is_chatbot for c in alice.store.conversations())
        answer = await sender.send_suggestion_response(DEMO, content.suggestions[0])
        assert answer.state == "sent"
        reply = await alice_inbox.next()
        assert describe(reply.content_type, reply.body).kind != "unknown"

        path = tmp_path / "note.txt"
        path.write_text("file over HTTP", encoding="utf-8")
        file_sent = await sender.send_file(bob_tel, path)
        assert file_sent.state == "sent"
        got = await bob_inbox.next()
        info = describe(got.content_type, got.body)
        assert info.kind == "file" and info.file is not None
        assert info.file.file.size == len(b"file over HTTP")
    finally:
        await alice.stop()
        await bob.stop()
