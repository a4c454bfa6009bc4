"""Terminal geometry of the chatbot renderables: sizes, safe text and two layout helpers.

A handset draws cards in density-independent pixels (dp); a terminal has cells about twice
as tall as they are wide. This module turns the RBM dp proportions quoted in formats.md §1
(UNSURE that UP mandates them; they are what phones use) into cells and rows, and keeps
every other magic number of the render layer in one place:

=====================  ==========  ==================================================
dp on a phone           here        why
=====================  ==========  ==================================================
SMALL card 120 dp       20 cells    about 6 dp per cell
MEDIUM card 232 dp      34 cells    about 6.8 dp per cell
single card ~320 dp     48 cells    at most; narrower when the terminal is
horizontal media 128dp  2/5 width   the media column's share of a 320 dp card
SHORT media 112 dp      3 rows      keeps the order and roughly the ratio
MEDIUM media 168 dp     5 rows      1 : 1.5 : 2.4 at a height a terminal can afford
TALL media 264 dp       8 rows
=====================  ==========  ==================================================

Text from the network only ever enters a renderable through :func:`line_text` (titles,
labels, names: one line) or :func:`block_text` (bodies, descriptions: several lines), which
pass it through :func:`~rcs_terminal.render.sanitize.sanitize` and wrap it in
:class:`rich.text.Text`, so Rich markup in a title is shown literally and no escape sequence
reaches the terminal. Widths are measured in cells (:func:`rich.cells.cell_len`), so Chinese
titles, two cells per character, never break a box.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style, StyleType
from rich.text import Text

from rcs_terminal.protocol.up.botmessage import CardWidth, FontStyle, MediaHeight
from rcs_terminal.render.sanitize import sanitize

CAROUSEL_CARD_WIDTH: dict[CardWidth, int] = {
    CardWidth.SMALL_WIDTH: 20,
    CardWidth.MEDIUM_WIDTH: 34,
}
"""Cells per carousel card, border included."""

SINGLE_CARD_WIDTH = 48
"""Widest a single card is drawn, border included (narrower terminals get narrower cards)."""

MEDIA_ROWS: dict[MediaHeight, int] = {
    MediaHeight.SHORT_HEIGHT: 3,
    MediaHeight.MEDIUM_HEIGHT: 5,
    MediaHeight.TALL_HEIGHT: 8,
}
"""Terminal rows of a card's media area, its frame included."""

DEFAULT_MEDIA_HEIGHT = MediaHeight.MEDIUM_HEIGHT
"""What a card whose media has no ``height`` gets."""

HORIZONTAL_MEDIA_SHARE = (2, 5)
"""The media column of a horizontal card takes this fraction of the card's inner width."""

TITLE_LINES = 2
"""Lines a card title may take before it is cut with an ellipsis."""

DESCRIPTION_LINES = 3
"""Lines a card description may take before it is cut (the first field a phone truncates)."""

CARD_CHIPS = 4
"""Chips shown inside a card; the rest is summarised as "+N more"."""

CHIP_LABEL_CELLS = 26
"""Widest chip label, in cells (25 characters is the schema's limit)."""

ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class RenderOptions:
    """How payloads are drawn.

    Attributes:
        plain: text labels instead of emoji icons (``[url]`` for 🔗), for logs and diffs.
            Colour is the console's business: a plain console has no colour system.
        full: no truncation: every line of every description, every chip of a card,
            action targets spelled out.
    """

    plain: bool = False
    full: bool = False


# --------------------------------------------------------------------------- safe text


def line_text(value: str, style: StyleType = "") -> Text:
    """Untrusted single-line text (a title, label or name) as a Rich ``Text``."""
    return Text(sanitize(value), style=style, no_wrap=False)


def block_text(value: str, style: StyleType = "") -> Text:
    """Untrusted multi-line text (a body or description) as a Rich ``Text``."""
    return Text(sanitize(value, multiline=True), style=style)


def font_style(styles: Iterable[FontStyle], *, bold: bool = False) -> Style:
    """The Rich style for a card layout's ``titleFontStyle``/``descriptionFontStyle``."""
    chosen = set(styles)
    return Style(
        bold=bold or FontStyle.BOLD in chosen or None,
        italic=FontStyle.ITALICS in chosen or None,
        underline=FontStyle.UNDERLINE in chosen or None,
    )


def fit(text: Text, width: int) -> Text:
    """A copy of ``text`` cut to ``width`` cells, ending in ``…`` when it was longer."""
    if text.cell_len <= width:
        return text
    out = text.copy()
    out.truncate(max(0, width - 1))
    while out.cell_len > max(0, width - 1):  # a wide character may overhang by one cell
        out.right_crop(1)
    out.rstrip()  # the pad a cut wide character leaves
    out.append(ELLIPSIS)
    return out


def cells(text: str) -> int:
    """Width of ``text`` in terminal cells (CJK and most emoji take two)."""
    return cell_len(text)


# --------------------------------------------------------------------------- renderables


class Clamp:
    """Wrapped text limited to ``max_lines`` lines, the last one ending in ``…`` when cut.

    Args:
        text: the text to wrap.
        max_lines: the most lines shown; ``None`` shows everything.
    """

    def __init__(self, text: Text, max_lines: int | None) -> None:
        self.text = text
        self.max_lines = max_lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        lines = self.text.wrap(console, width, overflow="fold")
        if self.max_lines is not None and len(lines) > self.max_lines:
            shown = list(lines)[: max(1, self.max_lines)]
            last = shown[-1]
            last.rstrip()
            shown[-1] = fit(Text.assemble(last, ELLIPSIS), width)
        else:
            shown = list(lines)
        for line in shown:
            line.no_wrap = True
            line.end = "\n"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)


class Flow:
    """Renderables laid out left to right, continued on further rows as the width requires.

    Used for chip lists (bordered chips wrapped like words) and for carousels drawn in full.

    Args:
        items: what to lay out, in order.
        widths: the width of each item in cells; measured when not given.
        gap: blank cells between two items of a row.
        row_gap: blank lines between two rows.
        equal_height: stretch the items of a row to the tallest one (carousel cards).
    """

    def __init__(
        self,
        items: Sequence[RenderableType],
        *,
        widths: Sequence[int] | None = None,
        gap: int = 1,
        row_gap: int = 0,
        equal_height: bool = False,
    ) -> None:
        self.items = items
        self.widths = widths
        self.gap = gap
        self.row_gap = row_gap
        self.equal_height = equal_height

    def _widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        limit = max(1, options.max_width)
        if self.widths is not None:
            return [max(1, min(w, limit)) for w in self.widths]
        return [
            max(1, min(Measurement.get(console, options, item).maximum, limit))
            for item in self.items
        ]

    def rows(self, console: Console, options: ConsoleOptions) -> list[list[tuple[int, int]]]:
        """Pack the items into rows: each row a list of ``(index, width)``."""
        limit = max(1, options.max_width)
        rows: list[list[tuple[int, int]]] = []
        used = 0
        for index, width in enumerate(self._widths(console, options)):
            if rows and used + self.gap + width <= limit:
                rows[-1].append((index, width))
                used += self.gap + width
            else:
                rows.append([(index, width)])
                used = width
        return rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        blank_gap = Segment(" " * self.gap)
        for row_number, row in enumerate(self.rows(console, options)):
            if row_number and self.row_gap:
                for _ in range(self.row_gap):
                    yield Segment.line()
            rendered = [
                console.render_lines(self.items[i], options.update(width=w, height=None), pad=True)
                for i, w in row
            ]
            height = max(len(lines) for lines in rendered)
            if self.equal_height and any(len(lines) != height for lines in rendered):
                rendered = [
                    console.render_lines(
                        self.items[i], options.update(width=w, height=height), pad=True
                    )
                    for i, w in row
                ]
            for line_number in range(height):
                for column, ((_, width), lines) in enumerate(zip(row, rendered, strict=True)):
                    if column:
                        yield blank_gap
                    if line_number < len(lines):
                        yield from lines[line_number]
                    else:
                        yield Segment(" " * width)
                yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = self._widths(console, options)
        if not widths:
            return Measurement(0, 0)
        total = sum(widths) + self.gap * (len(widths) - 1)
        return Measurement(max(widths), min(total, options.max_width))
