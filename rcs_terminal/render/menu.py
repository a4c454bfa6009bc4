"""The chatbot persistent menu as a Rich tree.

GSMA ``chatbot_menu_schema.json`` (formats.md §6): a menu holds entries that are suggested
replies, suggested actions or submenus with their own entries (two submenu levels in the
GSMA schema; Chinese operators allow one, with at most 3 top-level and 5 second-level
entries). A phone shows the top level as a bar under the composer and opens submenus as
pop-ups; a static rendering cannot pop anything up, so :class:`MenuView` shows every entry
of every level as a tree, actions with their icon and their target. Levels or entries
beyond the limits are drawn too: counting them is the linter's job.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from rich.tree import Tree

from rcs_terminal.protocol.up.menu import Menu, MenuEntry, Submenu
from rcs_terminal.protocol.up.suggestions import Action
from rcs_terminal.render.actions import action_target
from rcs_terminal.render.chips import chip_label
from rcs_terminal.render.layout import RenderOptions, line_text

MENU_ICON = "\u2261"
SUBMENU_MARK = "\u25b8"


def _entry_label(entry: MenuEntry, opts: RenderOptions) -> Text:
    if isinstance(entry, Submenu):
        label = Text(f"{'>' if opts.plain else SUBMENU_MARK} ")
        label.append_text(line_text(entry.display_text, "bold"))
        return label
    label = chip_label(entry, opts)
    if isinstance(entry, Action):
        label.append("  ")
        label.append(action_target(entry.kind), style="dim")
    return label


def _add(node: Tree, entries: tuple[MenuEntry, ...], opts: RenderOptions) -> None:
    for entry in entries:
        child = node.add(_entry_label(entry, opts))
        if isinstance(entry, Submenu):
            _add(child, entry.entries, opts)


class MenuView:
    """Every entry of a persistent menu, level by level.

    Args:
        menu: the parsed menu.
        opts: rendering options.
        title: the root label (e.g. the chatbot's name, untrusted).
    """

    def __init__(
        self, menu: Menu, opts: RenderOptions | None = None, *, title: str | None = None
    ) -> None:
        self.menu = menu
        self.opts = opts or RenderOptions()
        self.title = title

    def tree(self) -> Tree:
        """The menu as a :class:`rich.tree.Tree`."""
        root = Text()
        root.append("[menu]" if self.opts.plain else MENU_ICON, style="bold")
        root.append(" ")
        root.append_text(line_text(self.title or "persistent menu", "bold"))
        tree = Tree(root, guide_style="bright_black")
        _add(tree, self.menu.entries, self.opts)
        return tree

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.tree()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.tree())
