"""The help screen: every key binding of the app, grouped by where it works."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from rcs_terminal.ui.screens.dialogs import dialog_css

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Everywhere",
        (
            ("F1", "this help"),
            ("F2", "show / hide the protocol trace"),
            ("F4", "switch the sending SIM"),
            ("Ctrl+Q", "quit"),
        ),
    ),
    (
        "Conversations",
        (
            ("\u2191 \u2193  Enter", "pick and open a conversation"),
            ("n", "new conversation (number or URI)"),
            ("/", "search the chatbot directory"),
            ("v", "all SIMs / SIM 1 / SIM 2"),
            ("s", "switch the sending SIM"),
            ("t", "trace pane"),
            ("q", "quit"),
        ),
    ),
    (
        "Chat",
        (
            ("Enter", "send the message / tap the focused chip"),
            ("\u2191 from the composer", "go to the chips"),
            ("\u2190 \u2192 \u2191 \u2193", "move between cards and chips"),
            ("F3, menu button", "persistent menu (Escape: back)"),
            ("Tab", "next focusable item"),
            ("Escape", "back to the conversations"),
        ),
    ),
    (
        "Trace pane",
        (
            ("p", "protocol filter: all, SIP, MSRP, HTTP, SMS"),
            ("s", "SIM filter: all, 1, 2"),
            ("\u2191 \u2193", "select a record to see it in full"),
        ),
    ),
)
"""The bindings the help screen lists."""


def help_table() -> Table:
    """All bindings, in one table."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for group, keys in KEYS:
        table.add_row(Text(group, style="bold underline"), "")
        for key, what in keys:
            table.add_row(key, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Key bindings; any of Escape, F1 or q closes it."""

    DEFAULT_CSS = (
        dialog_css("HelpScreen")
        + """
    HelpScreen > Vertical { width: 72; }
    HelpScreen .dialog--body { max-height: 30; }
    """
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("rcs-terminal: keys", classes="dialog--title")
            with VerticalScroll(classes="dialog--body"):
                yield Static(help_table())

    def action_close(self) -> None:
        self.dismiss(None)
