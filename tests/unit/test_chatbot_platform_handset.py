"""The real handset against the lab's demo bot: provisioning, registration, then
``messaging.send_text("sip:demo@botplatform.lab", "hi")``, the welcome card with chips, a
chip tap with its exact postback, and the next reply (skipped while the engine's messaging
service is not there)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rcs_terminal.domain.events import MessageReceived
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.lab.lab import Lab

pytest.importorskip("rcs_terminal.engine.messaging")
content = pytest.importorskip("rcs_terminal.domain.content")
handset_module = pytest.importorskip("rcs_terminal.engine.handset")

DEMO = "sip:demo@botplatform.lab"


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    async with Lab() as running:
        yield running


async def next_received(events: asyncio.Queue[object]) -> str:
    """The message id of the next MessageReceived."""
    while True:
        event = await asyncio.wait_for(events.get(), 10)
        if isinstance(event, MessageReceived):
            return event.message_id


async def test_real_handset_chats_with_the_demo_bot(lab: Lab) -> None:
    bus = EventBus()
    events: asyncio.Queue[object] = asyncio.Queue()
    bus.subscribe(events.put_nowait)
    handset = handset_module.Handset(
        load_profile("lab-alice"), lab=lab.info, trace=TraceRecorder(), bus=bus
    )
    assert await handset.start() == {1: None}
    try:
        messaging = handset.sims[1].messaging
        sent = await messaging.send_text(DEMO, "hi")
        assert sent.technology == "pager" and sent.status == 200
        welcome = handset.store.message(await next_received(events))
        assert welcome.peer_uri == DEMO
        shown = content.describe(welcome.content_type, welcome.body)
        assert shown.kind == "card" and shown.card is not None
        assert len(shown.suggestions) == 10
        chip = shown.card.content.suggestions[0]
        assert chip.display_text == "Card layouts" and chip.postback_data == "cards"

        tapped = await messaging.send_suggestion_response(DEMO, chip)
        assert tapped.status == 200
        answer = handset.store.message(await next_received(events))
        reply = content.describe(answer.content_type, answer.body)
        assert reply.kind == "text" and reply.text is not None
        assert reply.text.startswith("Single rich cards come in two orientations")
        assert [s.display_text for s in reply.suggestions] == [
            "Vertical cards",
            "Horizontal cards",
            "Home",
        ]

        received = lab.chatbots.inbox.entries("demo")
        responses = [e for e in received if e.content_type.startswith("application/vnd.gsma")]
        assert responses[0].to_json()["body"] == (
            '{"response":{"reply":{"displayText":"Card layouts","postback":{"data":"cards"}}}}'
        )
        shown_to_bot = await messaging.wait_for_state(sent.message_id, {"displayed"}, 10)
        assert shown_to_bot.delivered_at is not None, "the bot's IMDNs reached the handset"
    finally:
        await handset.stop()
