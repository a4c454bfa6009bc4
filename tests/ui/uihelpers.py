"""Helpers of the TUI tests: a fake handset on a fixed clock, and apps made deterministic.

Every app is built the same way (:func:`make_app`): fixed clock and UTC times, no cursor
blink, no animation, a recording browser opener instead of the real one, so Pilot tests
assert on state and snapshot tests get the same picture on every run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset

NOW = 1_717_000_000.0
"""2024-05-29 16:26:40 UTC: the fixed "now" of every TUI test."""


def fixed_clock() -> float:
    """The tests' clock."""
    return NOW


def make_handset(**options: Any) -> FakeHandset:
    """A fake handset with the demo dataset on the fixed clock."""
    return FakeHandset(clock=fixed_clock, **options)


def make_app(handset: FakeHandset, **options: Any) -> RcsTerminalApp:
    """A deterministic app on ``handset``; ``app.opened`` lists the URLs "opened"."""
    opened: list[str] = []
    app = RcsTerminalApp(
        handset,
        clock=fixed_clock,
        tz=dt.UTC,
        cursor_blink=False,
        open_browser=opened.append,
        **options,
    )
    app.animation_level = "none"
    app.opened = opened  # type: ignore[attr-defined]
    return app


def screen_text(app: RcsTerminalApp) -> str:
    """What the screen shows, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def calls(handset: FakeHandset, name: str) -> list[tuple[Any, ...]]:
    """The arguments of every call of ``name`` the TUI made."""
    return [args for called, args in handset.calls if called == name]
