"""Pilot tests of messages in a chat: sending, typing, displayed receipts, states, badges."""

from __future__ import annotations

from textual.pilot import Pilot
from uihelpers import calls, make_app, make_handset, screen_text

from rcs_terminal.protocol.up import Action
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.screens.conversations import ConversationsScreen
from rcs_terminal.ui.widgets.bubble import MessageBubble
from rcs_terminal.ui.widgets.card import CarouselWidget, SingleCard
from rcs_terminal.ui.widgets.chips import Chip
from rcs_terminal.ui.widgets.conversation_list import ConversationList

TRAVEL = data.TRAVEL_BOT


def conversation_index(app: RcsTerminalApp, peer: str) -> int:
    listing = app.screen.query_one(ConversationList)
    return next(i for i, c in enumerate(listing.conversations) if c.peer_uri == peer)


async def open_conversation(app: RcsTerminalApp, pilot: Pilot[None], peer: str) -> ChatScreen:
    """Open the conversation with ``peer`` from the list, as a user would."""
    await pilot.pause()
    listing = app.screen.query_one(ConversationList)
    listing.highlighted = conversation_index(app, peer)
    await pilot.press("enter")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def our_texts(screen: ChatScreen) -> list[str]:
    return [
        b.content.text or ""
        for b in screen.query(MessageBubble)
        if b.message.is_outgoing and b.content.text is not None
    ]


async def test_send_text_and_bot_replies(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        await pilot.press(*"hi")
        await pilot.pause()
        assert calls(handset, "set_composing")[-1] == (1, TRAVEL, True)
        await pilot.press("enter")
        await pilot.pause()
        assert calls(handset, "send_text") == [(1, TRAVEL, "hi")]
        assert calls(handset, "set_composing")[-1] == (1, TRAVEL, False)
        assert "hi" in our_texts(screen)
        texts = [b.content.text for b in screen.query(MessageBubble) if not b.message.is_outgoing]
        assert texts[-1] == "您说：「hi」。试试下面的按钮。"


async def test_is_composing_indicator(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        handset.peer_composing(1, TRAVEL, True)
        await pilot.pause()
        typing = screen.query_one("#typing")
        assert typing.has_class("-active")
        assert "is typing" in screen_text(app)
        handset.peer_composing(1, TRAVEL, False)
        await pilot.pause()
        assert not typing.has_class("-active")


async def test_unread_drops_after_opening_and_mark_displayed(handset: FakeHandset) -> None:
    unread = [m for m in handset.store.messages(1) if m.state == "received"]
    assert len(unread) == 1
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        listing = app.screen.query_one(ConversationList)
        index = conversation_index(app, data.LI_LEI)
        assert listing.conversations[index].unread == 1
        await open_conversation(app, pilot, data.LI_LEI)
        await pilot.pause()
        assert calls(handset, "mark_displayed") == [(unread[0].message_id,)]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConversationsScreen)
        listing = app.screen.query_one(ConversationList)
        assert listing.conversations[conversation_index(app, data.LI_LEI)].unread == 0


async def test_offscreen_message_marked_displayed_only_when_scrolled_to() -> None:
    handset = make_handset()
    for index in range(30):
        handset.receive_text(1, data.LI_LEI, f"line {index}")
    first_unread = next(m for m in handset.store.messages(1) if m.state == "received")
    app = make_app(handset)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, data.LI_LEI)
        await pilot.pause()
        shown = {args[0] for args in calls(handset, "mark_displayed")}
        assert first_unread.message_id not in shown  # scrolled out of sight, above
        screen.messages.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        shown = {args[0] for args in calls(handset, "mark_displayed")}
        assert first_unread.message_id in shown
    handset.close()


async def test_delivery_states_are_shown(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_conversation(app, pilot, data.LI_LEI)
        text = screen_text(app)
        assert "✓✓ read" in text
        assert "✗ failed (408 Request Timeout)" in text
        assert "✉ SMS" in text


async def test_ad_badge_and_action_icons(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        screen.query_one(SingleCard).scroll_visible(animate=False)
        await pilot.pause()
        assert "广告 AD" in screen_text(app)
        actions = [c for c in screen.query(Chip) if isinstance(c.suggestion, Action)]
        assert any(c.label.plain.startswith("🔗") for c in actions)


async def test_chat_at_80x24(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        carousel = screen.query_one(CarouselWidget)
        assert len(carousel._window()) == 2  # two medium cards fit in 80 columns
        assert "1-2 / 3" in screen_text(app)


async def test_carousel_refits_when_the_terminal_is_resized(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(180, 40)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        carousel = screen.query_one(CarouselWidget)
        assert len(carousel._window()) == 3
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert len(carousel._window()) == 2


async def test_unreadable_payload_is_shown_as_such(handset: FakeHandset) -> None:
    handset.receive_payload(1, TRAVEL, '{"message": {"generalPurposeCard": 7}}')
    handset.receive_text(1, TRAVEL, "still here")
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        broken = [b for b in screen.query(MessageBubble) if b.has_class("-error")]
        assert len(broken) == 1
        text = screen_text(app)
        assert "⚠ Unreadable message: payload:" in text
        assert "still here" in text
