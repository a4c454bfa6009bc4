"""Snapshot tests of the TUI's main states (pytest-textual-snapshot).

Every app is deterministic (:func:`uihelpers.make_app`: fixed clock, UTC, no cursor blink,
no animation, fixed message ids). Update with ``pytest tests/ui --snapshot-update`` after
looking at the differences in the snapshot report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from uihelpers import make_app, make_handset

from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.widgets.card import SingleCard
from rcs_terminal.ui.widgets.trace_pane import TracePane

SnapCompare = Callable[..., Any]

WIDE = (100, 36)
SMALL = (80, 24)


async def open_travel(pilot: Pilot[None]) -> ChatScreen:
    pilot.app.open_peer(1, data.TRAVEL_BOT)  # type: ignore[attr-defined]
    await pilot.pause()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def test_conversation_list(snap_compare: SnapCompare) -> None:
    """All SIMs: chatbots with their colour and verification, unread counts, previews."""
    assert snap_compare(make_app(make_handset()), terminal_size=WIDE)


def test_chat_with_rich_card_and_chips(snap_compare: SnapCompare) -> None:
    """A vertical card with media, title, description and three chips."""

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await open_travel(pilot)
        screen.query_one(SingleCard).scroll_visible(animate=False, top=True)
        await pilot.pause()

    assert snap_compare(make_app(make_handset()), terminal_size=WIDE, run_before=run_before)


def test_chat_with_carousel_and_chip_bar(snap_compare: SnapCompare) -> None:
    """The latest message: a carousel, its position line, and the chip list above the composer."""

    async def run_before(pilot: Pilot[None]) -> None:
        await open_travel(pilot)

    assert snap_compare(make_app(make_handset()), terminal_size=WIDE, run_before=run_before)


def test_persistent_menu_open(snap_compare: SnapCompare) -> None:
    """F3 opens the chatbot's persistent menu; Enter goes into a submenu."""

    async def run_before(pilot: Pilot[None]) -> None:
        await open_travel(pilot)
        await pilot.press("f3")
        await pilot.pause()

    assert snap_compare(
        make_app(make_handset()), terminal_size=WIDE, run_before=run_before, press=["down", "enter"]
    )


def test_trace_pane_filtered(snap_compare: SnapCompare) -> None:
    """The trace pane, filtered to SIP, with a record shown in full."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.action_toggle_trace()  # type: ignore[attr-defined]
        await pilot.pause()
        pilot.app.screen.query_one(TracePane).set_filter(protocol="SIP")
        await pilot.pause()

    assert snap_compare(make_app(make_handset()), terminal_size=WIDE, run_before=run_before)


def test_registration_failure(snap_compare: SnapCompare) -> None:
    """SIM 2's registration failed: the reason is in the status bar."""
    handset = make_handset()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        handset.fail_registration(2, "403 Forbidden (unknown subscriber)", status=403)
        await pilot.pause()

    assert snap_compare(make_app(handset), terminal_size=WIDE, run_before=run_before)


def test_chat_at_80x24(snap_compare: SnapCompare) -> None:
    """The smallest supported terminal: two carousel cards side by side, the chip bar."""

    async def run_before(pilot: Pilot[None]) -> None:
        await open_travel(pilot)

    assert snap_compare(make_app(make_handset()), terminal_size=SMALL, run_before=run_before)


def test_horizontal_card_on_sim2(snap_compare: SnapCompare) -> None:
    """SIM 2's weather chatbot: a horizontal card, media on the left, not verified."""

    async def run_before(pilot: Pilot[None]) -> None:
        pilot.app.open_peer(2, data.WEATHER_BOT)  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(make_handset()), terminal_size=WIDE, run_before=run_before)


def test_otp_dialog(snap_compare: SnapCompare) -> None:
    """The configuration server asks for the OTP it sent by SMS."""
    handset = make_handset()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        handset.request_otp(1)
        await pilot.pause()

    assert snap_compare(make_app(handset), terminal_size=SMALL, run_before=run_before)
