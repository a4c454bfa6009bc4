"""Pilot tests of the actions that ask for consent: device specifics, location push, settings."""

from __future__ import annotations

from textual.pilot import Pilot
from uihelpers import calls, make_app, screen_text

from rcs_terminal.protocol.up import Action, RequestDeviceSpecifics
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.screens.dialogs import ConsentDialog, LocationDialog
from rcs_terminal.ui.widgets.chips import Chip, ChipBar
from rcs_terminal.ui.widgets.conversation_list import ConversationList
from rcs_terminal.ui.widgets.text_field import TextField

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


async def test_device_specifics_consent_accepted_sends_them(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        chip = bar_chip(screen, "设备信息")
        await tap(pilot, chip)
        assert isinstance(app.screen, ConsentDialog)
        assert "Axon 30" in screen_text(app)
        await pilot.click("#allow")
        await pilot.pause()
        assert calls(handset, "send_device_specifics") == [(1, TRAVEL)]
        response = calls(handset, "send_suggestion_response")[-1]
        assert response == (1, TRAVEL, chip.suggestion)
        assert isinstance(chip.suggestion, Action)
        assert isinstance(chip.suggestion.kind, RequestDeviceSpecifics)


async def test_device_specifics_consent_rejected_sends_nothing(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        await tap(pilot, bar_chip(screen, "设备信息"))
        assert isinstance(app.screen, ConsentDialog)
        await pilot.press("escape")  # same as Deny
        await pilot.pause()
        await tap(pilot, bar_chip(screen, "设备信息"))
        await pilot.click("#deny")
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        assert calls(handset, "send_device_specifics") == []
        assert calls(handset, "send_suggestion_response") == []


async def test_location_push_shares_the_chosen_place(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_travel(app, pilot)
        await tap(pilot, bar_chip(screen, "分享位置"))
        assert isinstance(app.screen, LocationDialog)
        app.screen.query_one("#label", TextField).value = "Home"
        await pilot.click("#share")
        await pilot.pause()
        assert calls(handset, "send_location") == [(1, TRAVEL, 39.908722, 116.397499, "Home")]
        assert len(calls(handset, "send_suggestion_response")) == 1


async def test_settings_action_from_menu_after_consent(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_travel(app, pilot)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("down", "enter")  # 我的 Mine
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")  # 已读回执
        await pilot.pause()
        assert isinstance(app.screen, ConsentDialog)
        await pilot.click("#allow")
        await pilot.pause()
        assert calls(handset, "apply_setting") == [(1, "displayed_notifications", True)]
        assert calls(handset, "send_suggestion_response")[-1][2].postback_data == "menu.receipts"
