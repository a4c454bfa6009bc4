"""A rich card (``generalPurposeCard``) as a Rich renderable.

GSMA RCC.07 (UP 2.4) botmessage, formats.md §1: a card shows, in this order, its media,
title, description and up to four chips. A vertical card stacks them; a horizontal card
puts the media in a column on the left or right (``imageAlignment``) beside the title and
description, with the chips underneath. The media area is as tall as ``media.height`` says
(:data:`~.layout.MEDIA_ROWS`: SHORT 3, MEDIUM 5, TALL 8 rows). The title is bold, and both
title and description take the layout's ``titleFontStyle`` / ``descriptionFontStyle``
(italics, bold, underline).

Like a phone, the card cuts a long title after :data:`~.layout.TITLE_LINES` lines and a long
description after :data:`~.layout.DESCRIPTION_LINES` lines with "…"; ``full=True`` in
:class:`~.layout.RenderOptions` shows everything (``rcs-terminal render --full``).

:class:`CardView` draws one card's content; the carousel reuses it with the carousel's
width and font styles and a "2/5" position in the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rcs_terminal.protocol.up.botmessage import (
    CardContent,
    CardOrientation,
    FontStyle,
    GeneralPurposeCard,
    ImageAlignment,
)
from rcs_terminal.render.chips import CardChips
from rcs_terminal.render.layout import (
    DESCRIPTION_LINES,
    HORIZONTAL_MEDIA_SHARE,
    SINGLE_CARD_WIDTH,
    TITLE_LINES,
    Clamp,
    RenderOptions,
    block_text,
    font_style,
    line_text,
)
from rcs_terminal.render.media import MediaBox

CARD_BORDER = "bright_black"
_FRAME = 4
"""Cells a card's frame takes from its width: two borders and one cell of padding each side."""


class CardView:
    """One card's content in a rounded frame.

    Args:
        content: what the card shows.
        opts: rendering options (plain icons, no truncation).
        orientation: vertical, or horizontal with the media beside the text.
        image_alignment: the media column's side for a horizontal card (left if unset).
        title_style: the layout's ``titleFontStyle``.
        description_style: the layout's ``descriptionFontStyle``.
        width: the card's width in cells, frame included (default: up to
            :data:`~.layout.SINGLE_CARD_WIDTH`, never wider than the space given).
        position: a label for the top frame, such as ``"2/5"`` in a carousel.
        highlight_chip: index of the focused chip, if any (for the TUI).
    """

    def __init__(
        self,
        content: CardContent,
        opts: RenderOptions | None = None,
        *,
        orientation: CardOrientation = CardOrientation.VERTICAL,
        image_alignment: ImageAlignment | None = None,
        title_style: Sequence[FontStyle] = (),
        description_style: Sequence[FontStyle] = (),
        width: int | None = None,
        position: str | None = None,
        highlight_chip: int | None = None,
    ) -> None:
        self.content = content
        self.opts = opts or RenderOptions()
        self.orientation = orientation
        self.image_alignment = image_alignment
        self.title_style = tuple(title_style)
        self.description_style = tuple(description_style)
        self.width = width
        self.position = position
        self.highlight_chip = highlight_chip

    @classmethod
    def from_card(
        cls,
        card: GeneralPurposeCard,
        opts: RenderOptions | None = None,
        *,
        width: int | None = None,
        highlight_chip: int | None = None,
    ) -> CardView:
        """The view of a single ``generalPurposeCard`` with its own layout."""
        layout = card.layout
        return cls(
            card.content,
            opts,
            orientation=layout.orientation,
            image_alignment=layout.image_alignment,
            title_style=layout.title_font_style,
            description_style=layout.description_font_style,
            width=width,
            highlight_chip=highlight_chip,
        )

    # ------------------------------------------------------------------ pieces

    def _title(self) -> RenderableType | None:
        if self.content.title is None:
            return None
        text = line_text(self.content.title, font_style(self.title_style, bold=True))
        return Clamp(text, None if self.opts.full else TITLE_LINES)

    def _description(self) -> RenderableType | None:
        if self.content.description is None:
            return None
        text = block_text(self.content.description, font_style(self.description_style))
        return Clamp(text, None if self.opts.full else DESCRIPTION_LINES)

    def _media(self) -> MediaBox | None:
        media = self.content.media
        return None if media is None else MediaBox.for_media(media, self.opts)

    def _texts(self) -> list[RenderableType]:
        return [part for part in (self._title(), self._description()) if part is not None]

    def _chips(self) -> CardChips | None:
        if not self.content.suggestions:
            return None
        return CardChips(self.content.suggestions, self.opts, highlight=self.highlight_chip)

    def _horizontal(self, inner: int, media: MediaBox) -> Table:
        share, whole = HORIZONTAL_MEDIA_SHARE
        media_width = max(8, inner * share // whole)
        grid = Table.grid(padding=(0, 1), expand=True)
        texts = Group(*self._texts())
        if self.image_alignment is ImageAlignment.RIGHT:
            grid.add_column(ratio=1)
            grid.add_column(width=media_width)
            grid.add_row(texts, media)
        else:
            grid.add_column(width=media_width)
            grid.add_column(ratio=1)
            grid.add_row(media, texts)
        return grid

    def body(self, inner: int) -> Group:
        """The card's content (without the frame) for ``inner`` cells of width."""
        media = self._media()
        parts: list[RenderableType] = []
        if self.orientation is CardOrientation.HORIZONTAL and media is not None:
            parts.append(self._horizontal(inner, media))
        else:
            if media is not None:
                parts.append(media)
            parts.extend(self._texts())
        if not parts:
            parts.append(Text("(empty card)", style="dim italic"))
        chips = self._chips()
        if chips is not None:
            parts.append(chips)
        return Group(*parts)

    # ------------------------------------------------------------------ Rich protocol

    def outer_width(self, available: int) -> int:
        """The card's width, frame included, in ``available`` cells."""
        return max(1, min(available, self.width or SINGLE_CARD_WIDTH))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.outer_width(options.max_width)
        yield Panel(
            self.body(max(1, width - _FRAME)),
            box=box.ROUNDED,
            width=width,
            height=options.height,  # set when a carousel row stretches its cards
            padding=(0, 1),
            border_style=CARD_BORDER,
            title=Text(self.position) if self.position else None,
            title_align="right",
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = self.outer_width(options.max_width)
        return Measurement(width, width)
