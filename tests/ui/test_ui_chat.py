"""Pilot tests of the chat: chips, cards, carousel, menu, composer, unread and displayed."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button
from uihelpers import calls, make_app, screen_text

from rcs_terminal.protocol.up import Reply, parse_chip_list
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.widgets.bubble import MessageBubble
from rcs_terminal.ui.widgets.card import CarouselWidget, SingleCard
from rcs_terminal.ui.widgets.chips import Chip, ChipBar
from rcs_terminal.ui.widgets.conversation_list import ConversationList
from rcs_terminal.ui.widgets.menu import PersistentMenu

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


async def test_tap_chip_bar_sends_exact_suggestion_and_shows_display_text(
    handset: FakeHandset,
) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        await pilot.press("up")  # from the composer to the chip bar
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Chip) and focused.origin == "chips"
        expected = parse_chip_list(data.MAIN_CHIPS).suggestions[0]
        assert focused.suggestion == expected
        await pilot.press("enter")
        await pilot.pause()
        assert calls(handset, "send_suggestion_response")[-1] == (1, TRAVEL, expected)
        assert "更多车次 More" in our_texts(screen)
        assert "更多车次 More" in screen_text(app)


async def test_click_on_card_chip_sends_postback_intact(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        card = screen.query_one(SingleCard)
        book = card.chip_columns()[0][0]
        book.scroll_visible(animate=False)
        await pilot.pause()
        await pilot.click(book)
        await pilot.pause()
        sent = calls(handset, "send_suggestion_response")[-1]
        assert sent == (1, TRAVEL, Reply("立即预订 Book", "book:G2"))
        # the chatbot's scripted answer arrives with its own chips
        bar = screen.query_one(ChipBar)
        assert [s.postback_data for s in bar.suggestions] == ["pay:G2", "cancel:G2"]


async def test_arrow_keys_move_across_carousel_cards(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(80, 30)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        carousel = screen.query_one(CarouselWidget)
        first = carousel.chip_columns()[0][1]
        first.focus()
        await pilot.pause()
        for _ in range(2):
            await pilot.press("right")
            await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Chip)
        assert focused is carousel.chip_columns()[2][1]  # third card, same row
        assert carousel.start >= 1  # the carousel scrolled to show the third card
        await pilot.press("up")
        await pilot.pause()
        assert app.focused is carousel.chip_columns()[2][0]
        await pilot.press("enter")
        await pilot.pause()
        assert calls(handset, "send_suggestion_response")[-1][2] == Reply("预订 Book", "book:G8")


async def test_persistent_menu_second_level_entry(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        menu = screen.query_one(PersistentMenu)
        assert menu.is_open
        assert menu.entries[0].display_text == "订票 Tickets"
        await pilot.press("down", "enter")  # "我的 Mine" submenu
        await pilot.pause()
        assert menu.entries[0].display_text == "我的订单 Orders"
        await pilot.press("enter")  # the first entry is highlighted, after "‹ Back"
        await pilot.pause()
        assert not menu.is_open
        assert calls(handset, "send_suggestion_response")[-1] == (
            1,
            TRAVEL,
            Reply("我的订单 Orders", "menu.orders"),
        )


async def test_menu_escape_goes_back_then_closes(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_conversation(app, pilot, TRAVEL)
        await pilot.pause()
        screen.query_one("#menu-button", Button).press()
        await pilot.pause()
        menu = screen.query_one(PersistentMenu)
        await pilot.press("enter")  # "订票 Tickets"
        await pilot.pause()
        assert menu.entries[0].display_text == "高铁 Trains"
        await pilot.press("escape")
        await pilot.pause()
        assert menu.is_open and menu.entries[0].display_text == "订票 Tickets"
        await pilot.press("escape")
        await pilot.pause()
        assert not menu.is_open
        assert isinstance(app.screen, ChatScreen)
        assert not calls(handset, "send_suggestion_response")
