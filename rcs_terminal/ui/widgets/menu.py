"""A chatbot's persistent menu, opened from the composer (formats.md §6).

The menu is a list of entries; an entry is a reply, an action or a submenu (China: two
levels, three entries on top and five below, but any depth the payload holds is followed).
Picking a submenu shows its entries with a "‹ Back" entry first; picking a reply or action
posts :class:`PersistentMenu.Selected`, which the chat screen handles exactly like a tapped
chip (the same suggestion response, §4). Escape goes back one level, then closes the menu.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from rcs_terminal.protocol.up import Menu, MenuEntry, Submenu, Suggestion
from rcs_terminal.render.chips import chip_label
from rcs_terminal.render.layout import RenderOptions, line_text

_BACK = "back"


def entry_label(entry: MenuEntry) -> Text:
    """A menu entry's label: a submenu's name with ``›``, else the chip label."""
    if isinstance(entry, Submenu):
        label = line_text(entry.display_text, "bold")
        label.append(" \u203a", style="bold")
        return label
    return chip_label(entry, RenderOptions())


class PersistentMenu(Vertical):
    """The persistent menu panel (hidden until :meth:`open`).

    Args:
        menu: the chatbot's menu, or ``None`` while unknown.
    """

    DEFAULT_CSS = """
    PersistentMenu {
        display: none;
        height: auto;
        max-height: 60%;
        width: 1fr;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    PersistentMenu.-open {
        display: block;
    }
    PersistentMenu > .menu--title {
        color: $text-muted;
    }
    PersistentMenu > OptionList, PersistentMenu > OptionList:focus {
        height: auto;
        max-height: 12;
        border: none;
        padding: 0;
        background: $surface;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", show=True)]

    class Selected(Message):
        """A reply or action of the menu was picked.

        Attributes:
            suggestion: the entry, exactly as parsed.
        """

        def __init__(self, suggestion: Suggestion) -> None:
            super().__init__()
            self.suggestion = suggestion

    class Closed(Message):
        """The menu was closed without a pick."""

    def __init__(self, menu: Menu | None = None, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.menu = menu
        self._path: list[Submenu] = []

    def compose(self) -> ComposeResult:
        """Title line and entries."""
        yield Static("Menu", classes="menu--title")
        yield OptionList(id="menu-options")

    @property
    def is_open(self) -> bool:
        """Whether the menu is shown."""
        return self.has_class("-open")

    @property
    def entries(self) -> tuple[MenuEntry, ...]:
        """The entries of the level shown."""
        if self._path:
            return self._path[-1].entries
        return self.menu.entries if self.menu is not None else ()

    def set_menu(self, menu: Menu | None) -> None:
        """Use ``menu`` (from the bot info)."""
        self.menu = menu
        self._path.clear()
        if self.is_open:
            self._fill()

    def open(self) -> None:
        """Show the top level and focus it."""
        if self.menu is None:
            return
        self._path.clear()
        self.add_class("-open")
        self._fill()
        self.query_one(OptionList).focus()

    def close(self) -> None:
        """Hide the menu."""
        self.remove_class("-open")
        self._path.clear()

    def _fill(self) -> None:
        title = self.query_one(".menu--title", Static)
        crumbs = ["Menu", *(sanitize_crumb(s.display_text) for s in self._path)]
        title.update(Text(" \u203a ".join(crumbs)))
        options = self.query_one(OptionList)
        options.clear_options()
        if self._path:
            options.add_option(Option(Text("\u2039 Back", style="italic"), id=_BACK))
        options.add_options(Option(entry_label(e), id=str(i)) for i, e in enumerate(self.entries))
        options.highlighted = 1 if self._path and self.entries else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open a submenu, go back, or pick an entry."""
        event.stop()
        option_id = event.option.id
        if option_id == _BACK:
            self.action_back()
            return
        entry = self.entries[int(option_id or 0)]
        if isinstance(entry, Submenu):
            self._path.append(entry)
            self._fill()
            return
        self.close()
        self.post_message(self.Selected(entry))

    def action_back(self) -> None:
        """One level up, or close the menu at the top."""
        if self._path:
            self._path.pop()
            self._fill()
            return
        self.close()
        self.post_message(self.Closed())


def sanitize_crumb(text: str) -> str:
    """A submenu name for the title line."""
    return line_text(text).plain[:25]
