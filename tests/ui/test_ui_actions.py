"""Pilot tests of suggested actions: consent, URL, call, map, calendar, compose, settings."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot
from uihelpers import calls, make_app, screen_text

from rcs_terminal.protocol.up import Action, DialVideoCall, OpenUrl
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset
from rcs_terminal.ui.screens.action_screens import CallScreen, InfoScreen, LocationScreen, UrlScreen
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.screens.dialogs import ConfirmDialog
from rcs_terminal.ui.widgets.chips import Chip, ChipBar
from rcs_terminal.ui.widgets.conversation_list import ConversationList

TRAVEL = data.TRAVEL_BOT


async def open_travel(app: RcsTerminalApp, pilot: Pilot[None]) -> ChatScreen:
    await pilot.pause()
    listing = app.screen.query_one(ConversationList)
    listing.highlighted = next(
        i for i, c in enumerate(listing.conversations) if c.peer_uri == TRAVEL
    )
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, ChatScreen)
    return app.screen


def bar_chip(screen: ChatScreen, label: str) -> Chip:
    bar = screen.query_one(ChipBar)
    return next(c for c in bar.query(Chip) if c.suggestion.display_text == label)


async def tap(pilot: Pilot[None], chip: Chip) -> None:
    chip.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_open_url_copy_and_browser_after_confirmation(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        chip = next(
            c
            for c in screen.query(Chip)
            if isinstance(c.suggestion, Action) and isinstance(c.suggestion.kind, OpenUrl)
        )
        url = chip.suggestion.kind.url  # type: ignore[union-attr]
        await tap(pilot, chip)
        assert isinstance(app.screen, UrlScreen)
        assert calls(handset, "send_suggestion_response")[-1][2] == chip.suggestion
        await pilot.click("#copy")
        await pilot.pause()
        assert app.clipboard == url
        await pilot.click("#browser")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert app.opened == []  # nothing opens before the confirmation
        await pilot.click("#yes")
        await pilot.pause()
        assert app.opened == [url]


async def test_url_screen_refuses_non_web_schemes(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        app.push_screen(UrlScreen("javascript:alert(1)", app.open_browser))
        await pilot.pause()
        assert app.screen.query_one("#browser").disabled
        assert "Only http and https" in screen_text(app)


async def test_video_call_is_emulated(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        chip = next(
            c
            for c in screen.query(Chip)
            if isinstance(c.suggestion, Action) and isinstance(c.suggestion.kind, DialVideoCall)
        )
        await tap(pilot, chip)
        assert isinstance(app.screen, CallScreen)
        text = screen_text(app)
        assert "+8610012306" in text and "emulated" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)


async def test_show_location_has_a_map_link(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        await tap(pilot, bar_chip(screen, "车站位置"))
        assert isinstance(app.screen, LocationScreen)
        assert "北京南站" in screen_text(app)
        await pilot.click("#copy")
        await pilot.pause()
        assert app.clipboard.startswith("https://www.openstreetmap.org/?mlat=39.865200")


async def test_calendar_event_writes_ics(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        await tap(pilot, bar_chip(screen, "加入日历"))
        assert isinstance(app.screen, InfoScreen)
        folder = Path(os.environ["RCS_TERMINAL_HOME"]) / "profiles" / "demo" / "calendar"
        files = list(folder.glob("*.ics"))
        assert len(files) == 1
        text = files[0].read_text(encoding="utf-8")
        assert "DTSTART:20240601T000000Z" in text and "DTEND:20240601T041800Z" in text
        assert "SUMMARY:G2 上海虹桥 → 北京南" in text
        assert len(calls(handset, "send_suggestion_response")) == 1


async def test_compose_opens_the_number_with_a_draft(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        await tap(pilot, bar_chip(screen, "短信分享"))
        await pilot.pause()
        chat = app.screen
        assert isinstance(chat, ChatScreen) and chat is not screen
        assert chat.conversation.peer_uri in ("tel:+8613900000003", data.LI_LEI)
        assert chat.composer.field.value == "我订了 G2 次列车，明早 8 点出发。"
