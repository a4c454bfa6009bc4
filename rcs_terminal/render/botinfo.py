"""Chatbot information as a Rich renderable: the "about this chatbot" page of a phone.

The bot-info document (formats.md §6) names the chatbot, says whether and by whom it is
verified, describes it, lists its addresses (service id, SMS, e-mail, telephone, postal
address), its web pages, categories and theme colour, and carries the persistent menu.
:class:`BotInfoView` lays this out as a framed key/value list followed by the menu tree
(:class:`~.menu.MenuView`). The logo is a remote picture: it is named, not drawn.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from rcs_terminal.protocol.up.botinfo import BotInfo
from rcs_terminal.render.layout import (
    DESCRIPTION_LINES,
    Clamp,
    RenderOptions,
    block_text,
    line_text,
)
from rcs_terminal.render.menu import MenuView
from rcs_terminal.render.sanitize import sanitize, sanitize_url

PANEL_WIDTH = 72
"""Widest the bot-info panel is drawn."""


def _title(info: BotInfo, opts: RenderOptions) -> Text:
    title = line_text(info.name or "(unnamed chatbot)", "bold")
    if info.verified:
        title.append(" [verified]" if opts.plain else " \u2714", style="green")
    elif info.verified is False:
        title.append(" [not verified]", style="yellow")
    return title


def _colour(info: BotInfo, opts: RenderOptions) -> Text | None:
    if info.colour is None:
        return None
    hex_colour = info.colour_hex
    if hex_colour is None:
        return Text(f"{sanitize(info.colour, max_length=40)} (unreadable)", style="dim")
    text = Text()
    if not opts.plain:
        text.append("\u2588\u2588 ", style=Style(color=hex_colour))
    text.append(hex_colour)
    return text


def _rows(info: BotInfo, opts: RenderOptions) -> list[tuple[str, RenderableType]]:
    rows: list[tuple[str, RenderableType]] = []

    def url(label: str, value: str | None) -> None:
        if value is not None:
            rows.append((label, Text(sanitize_url(value, max_length=200), overflow="fold")))

    def plain(label: str, value: str | None) -> None:
        if value is not None:
            rows.append((label, line_text(value)))

    plain("service id", info.service_id)
    if info.description is not None:
        rows.append(
            (
                "about",
                Clamp(block_text(info.description), None if opts.full else DESCRIPTION_LINES),
            )
        )
    if info.categories:
        rows.append(("categories", line_text(", ".join(info.categories))))
    if info.verified_by is not None or info.expires is not None:
        by = sanitize(info.verified_by or "?", max_length=80)
        until = f" until {sanitize(info.expires, max_length=40)}" if info.expires else ""
        rows.append(("verified by", Text(by + until)))
    url("website", info.website)
    url("terms", info.tc_page)
    plain("sms", info.sms)
    plain("e-mail", info.email)
    plain("tel", info.tel)
    plain("address", info.address)
    if (colour := _colour(info, opts)) is not None:
        rows.append(("colour", colour))
    url("logo", info.logo_url)
    url("background", info.background_image)
    return rows


class BotInfoView:
    """A chatbot's information and its persistent menu.

    Args:
        info: the parsed bot-info document.
        opts: rendering options.
    """

    def __init__(self, info: BotInfo, opts: RenderOptions | None = None) -> None:
        self.info = info
        self.opts = opts or RenderOptions()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(ratio=1)
        for label, value in _rows(self.info, self.opts):
            grid.add_row(label, value)
        parts: list[RenderableType] = [grid]
        if self.info.persistent_menu is not None:
            parts.append(Text(""))
            parts.append(MenuView(self.info.persistent_menu, self.opts, title=self.info.name))
        yield Panel(
            Group(*parts),
            box=box.ROUNDED,
            title=_title(self.info, self.opts),
            title_align="left",
            width=min(options.max_width, PANEL_WIDTH),
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = min(options.max_width, PANEL_WIDTH)
        return Measurement(width, width)
