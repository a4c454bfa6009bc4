"""The chatbot persistent menu (GSMA ``chatbot_menu_schema.json``, formats.md §6).

A menu is ``{"menu": {"entries": [...]}}``; each entry is a suggested reply, a suggested
action (the same shapes as chips, :mod:`.suggestions`) or a submenu
``{"menu": {"displayText": ..., "entries": [...]}}``. The menu arrives inside the bot info
(``persistent-menu``) and tapping an entry sends the same suggestion response as a chip.

Submenus are parsed to any depth (bounded only by the JSON nesting limit): the depth and
per-level entry counts (schema: 1..5 entries, two submenu levels; China: top level 3,
second level 5) are the linter's findings, available here as :attr:`Menu.depth`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rcs_terminal.protocol.up._json import (
    Context,
    JsonInput,
    JsonObject,
    PayloadWarning,
    as_object,
    dump_json,
    load_object,
)
from rcs_terminal.protocol.up.suggestions import Action, Reply, suggestion_from_json


@dataclass(frozen=True)
class Submenu:
    """An entry that opens a further list of entries."""

    display_text: str
    entries: tuple[MenuEntry, ...]

    @property
    def depth(self) -> int:
        """Levels below and including this one."""
        return 1 + max((e.depth for e in self.entries if isinstance(e, Submenu)), default=0)

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``{"menu": {...}}``."""
        entries = [e.to_dict() for e in self.entries]
        return {"menu": {"displayText": self.display_text, "entries": entries}}


MenuEntry = Reply | Action | Submenu
"""A persistent-menu entry."""


@dataclass(frozen=True)
class Menu:
    """A persistent menu.

    Attributes:
        entries: the top-level entries.
        warnings: what was tolerated while parsing (not part of equality).
    """

    entries: tuple[MenuEntry, ...]
    warnings: tuple[PayloadWarning, ...] = field(default=(), compare=False, repr=False)

    @property
    def depth(self) -> int:
        """Number of levels: 1 for a flat menu, 2 with submenus, and so on."""
        return 1 + max((e.depth for e in self.entries if isinstance(e, Submenu)), default=0)

    def to_dict(self) -> dict[str, Any]:
        """The menu document ``{"menu": {"entries": [...]}}``."""
        return {"menu": {"entries": [e.to_dict() for e in self.entries]}}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


def _entries(o: JsonObject) -> tuple[MenuEntry, ...]:
    return tuple(_entry(v, p, o.ctx) for v, p in o.array("entries", required=True))


def _entry(value: Any, path: str, ctx: Context) -> MenuEntry:
    o = as_object(value, path, ctx)
    kinds = [k for k in ("reply", "action", "menu") if k in o]
    if len(kinds) > 1:
        raise o.error(f"menu entry holds several of {', '.join(kinds)}; exactly one allowed")
    if not kinds:
        raise o.error("menu entry holds none of reply, action, menu")
    if kinds[0] != "menu":
        return suggestion_from_json(value, path, ctx)
    o.check_keys(("menu",))
    sub = o.require_obj("menu")
    sub.check_keys(("displayText", "entries"))
    return Submenu(sub.require_text("displayText"), _entries(sub))


def menu_from_json(o: JsonObject) -> Menu:
    """Parse a ``{"menu": {...}}`` wrapper object (a document or bot info's
    ``persistent-menu``); warnings go to ``o``'s context."""
    o.check_keys(("menu",))
    top = o.require_obj("menu")
    top.check_keys(("entries",))
    return Menu(_entries(top), tuple(o.ctx.warnings))


def parse_menu(data: JsonInput) -> Menu:
    """Parse a persistent-menu document ``{"menu": {"entries": [...]}}``.

    Raises:
        PayloadParseError: on malformed input, with the JSON path.
    """
    return menu_from_json(JsonObject(load_object(data), "$", Context()))
