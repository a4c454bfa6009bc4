"""A carousel (``generalPurposeCardCarousel``) as a Rich renderable.

GSMA RCC.07 (UP 2.4) botmessage, formats.md §1: 2 to 12 vertical cards of one width,
SMALL_WIDTH or MEDIUM_WIDTH (here 20 and 34 cells, :data:`~.layout.CAROUSEL_CARD_WIDTH`),
that a phone scrolls sideways. Every card carries its position ("2/5") in its frame, and
the cards of a row are stretched to the same height, as phones draw them.

Two modes:

- **static** (``wrap=True``, what ``rcs-terminal render`` uses): every card is shown, side
  by side as far as the width allows and continued on further rows;
- **scrolling** (``wrap=False``, for the TUI): one row starting at card ``start``, with a
  "◀ 2–3 / 5 ▶" line telling what is off screen; the TUI moves ``start``.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text

from rcs_terminal.protocol.up.botmessage import Carousel
from rcs_terminal.render.card import CardView
from rcs_terminal.render.layout import CAROUSEL_CARD_WIDTH, Flow, RenderOptions

GAP = 1
"""Blank cells between two cards."""


def cards_per_row(card_width: int, available: int, gap: int = GAP) -> int:
    """How many cards of ``card_width`` cells fit side by side in ``available`` cells (≥1)."""
    return max(1, (available + gap) // (card_width + gap))


class CarouselView:
    """A carousel's cards, all of them (static) or a scrolling window of one row.

    Args:
        carousel: the parsed carousel.
        opts: rendering options.
        start: index of the first card shown when scrolling (clamped to the valid range).
        wrap: show every card on as many rows as needed (static rendering); when False,
            show one row from ``start`` and a position line.
        highlight_card: index of the focused card, if any (for the TUI).
        highlight_chip: index of the focused chip in the focused card, if any.
    """

    def __init__(
        self,
        carousel: Carousel,
        opts: RenderOptions | None = None,
        *,
        start: int = 0,
        wrap: bool = True,
        highlight_card: int | None = None,
        highlight_chip: int | None = None,
    ) -> None:
        self.carousel = carousel
        self.opts = opts or RenderOptions()
        self.start = start
        self.wrap = wrap
        self.highlight_card = highlight_card
        self.highlight_chip = highlight_chip

    @property
    def card_width(self) -> int:
        """The width of each card in cells, frame included."""
        return CAROUSEL_CARD_WIDTH[self.carousel.layout.card_width]

    def card(self, index: int, width: int) -> CardView:
        """The view of card ``index`` (0-based) at ``width`` cells."""
        layout = self.carousel.layout
        total = len(self.carousel.content)
        return CardView(
            self.carousel.content[index],
            self.opts,
            title_style=layout.title_font_style,
            description_style=layout.description_font_style,
            width=width,
            position=f"{index + 1}/{total}",
            highlight_chip=self.highlight_chip if index == self.highlight_card else None,
        )

    def window(self, available: int) -> range:
        """The indexes of the cards a scrolling view shows in ``available`` cells."""
        total = len(self.carousel.content)
        if total == 0:
            return range(0)
        per_row = cards_per_row(min(self.card_width, available), available)
        first = min(max(0, self.start), max(0, total - per_row))
        return range(first, min(total, first + per_row))

    def _position_line(self, shown: range) -> Text:
        total = len(self.carousel.content)
        left = "<" if self.opts.plain else "\u25c0"
        right = ">" if self.opts.plain else "\u25b6"
        span = f"{shown.start + 1}" if len(shown) == 1 else f"{shown.start + 1}-{shown.stop}"
        text = Text(justify="center")
        text.append(left if shown.start > 0 else " ", style="bold")
        text.append(f" {span} / {total} ")
        text.append(right if shown.stop < total else " ", style="bold")
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        available = max(1, options.max_width)
        width = min(self.card_width, available)
        total = len(self.carousel.content)
        indexes = range(total) if self.wrap else self.window(available)
        cards: list[RenderableType] = [self.card(i, width) for i in indexes]
        yield Flow(cards, widths=[width] * len(cards), gap=GAP, equal_height=True)
        if not self.wrap and total:
            yield self._position_line(indexes)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = min(self.card_width, options.max_width)
        total = max(1, len(self.carousel.content))
        return Measurement(width, min(options.max_width, total * (width + GAP) - GAP))
