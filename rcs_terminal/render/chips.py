"""Suggestion chips: a chip list under a message, and the chip buttons inside a card.

GSMA RCC.07 (UP 2.4) suggestions, formats.md §2-§3: a chip is a suggested reply or a
suggested action with a ``displayText`` of up to 25 characters. A chip list (up to 11 chips)
follows a message; a phone shows it as a horizontally scrolling row of rounded buttons.
Here the row is a :class:`ChipBar`: bordered chips wrapped onto further rows as the width
requires, so that a static rendering shows every chip. Inside a card (at most 4 chips,
formats.md §1) chips are full-width buttons, one per line, drawn by :class:`CardChips`;
more than four are summarised as "+N more" (the linter reports them).

Action chips lead with the action's icon (or a ``[label]`` in plain mode, see
:mod:`.actions`); labels are sanitised and cut to :data:`~.layout.CHIP_LABEL_CELLS` cells.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.align import Align
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from rcs_terminal.protocol.up.suggestions import Action, Suggestion
from rcs_terminal.render.actions import action_badge, action_target
from rcs_terminal.render.layout import (
    CARD_CHIPS,
    CHIP_LABEL_CELLS,
    Flow,
    RenderOptions,
    fit,
    line_text,
)

CHIP_STYLE = "bold"
CHIP_BORDER = "bright_blue"
ACTION_BORDER = "magenta"
HIGHLIGHT = "reverse"


def chip_label(
    suggestion: Suggestion, opts: RenderOptions, *, max_cells: int | None = None
) -> Text:
    """The chip's one-line label: icon (actions only) and sanitised display text.

    Args:
        suggestion: the chip.
        opts: plain labels or icons.
        max_cells: cut the label to this many cells (default
            :data:`~.layout.CHIP_LABEL_CELLS`, none in ``full`` mode).
    """
    label = Text()
    if isinstance(suggestion, Action):
        label.append(action_badge(suggestion.kind, plain=opts.plain))
        label.append(" ")
    label.append_text(line_text(suggestion.display_text, CHIP_STYLE))
    limit = max_cells if max_cells is not None else (None if opts.full else CHIP_LABEL_CELLS)
    return label if limit is None else fit(label, limit)


def chip_detail(suggestion: Suggestion) -> Text | None:
    """A dim line saying where an action chip leads (``None`` for replies)."""
    if isinstance(suggestion, Action):
        return Text(action_target(suggestion.kind), style="dim")
    return None


class Chip:
    """One rounded, bordered chip.

    Args:
        suggestion: the chip.
        opts: rendering options (``full`` adds the action's target under the label).
        highlight: draw it as the focused chip.
    """

    def __init__(
        self, suggestion: Suggestion, opts: RenderOptions, *, highlight: bool = False
    ) -> None:
        self.suggestion = suggestion
        self.opts = opts
        self.highlight = highlight

    def _panel(self) -> Panel:
        body: RenderableType = chip_label(self.suggestion, self.opts)
        detail = chip_detail(self.suggestion) if self.opts.full else None
        if detail is not None:
            body = Group(body, detail)
        border = ACTION_BORDER if isinstance(self.suggestion, Action) else CHIP_BORDER
        return Panel(
            body,
            box=box.ROUNDED,
            expand=False,
            padding=(0, 1),
            border_style=border,
            style=HIGHLIGHT if self.highlight else "",
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._panel()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._panel())


class ChipBar:
    """A chip list: bordered chips in a row, wrapped onto further rows.

    Args:
        suggestions: the chips, in order (all are drawn; the linter checks the count).
        opts: rendering options.
        highlight: index of the focused chip, if any (for the TUI).
    """

    def __init__(
        self,
        suggestions: Sequence[Suggestion],
        opts: RenderOptions | None = None,
        *,
        highlight: int | None = None,
    ) -> None:
        self.suggestions = suggestions
        self.opts = opts or RenderOptions()
        self.highlight = highlight

    def _flow(self) -> Flow:
        chips = [
            Chip(s, self.opts, highlight=i == self.highlight)
            for i, s in enumerate(self.suggestions)
        ]
        return Flow(chips, gap=1)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._flow()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._flow())


class CardChips:
    """The chips of one card: a rule, then one centred button line per chip.

    At most :data:`~.layout.CARD_CHIPS` are drawn (all of them in ``full`` mode); the rest
    is summarised as "+N more".

    Args:
        suggestions: the card's chips.
        opts: rendering options.
        highlight: index of the focused chip, if any (for the TUI).
    """

    def __init__(
        self,
        suggestions: Sequence[Suggestion],
        opts: RenderOptions | None = None,
        *,
        highlight: int | None = None,
    ) -> None:
        self.suggestions = suggestions
        self.opts = opts or RenderOptions()
        self.highlight = highlight

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        shown = self.suggestions if self.opts.full else self.suggestions[:CARD_CHIPS]
        rows: list[RenderableType] = [Rule(style="dim", characters="\u2500")]
        for index, suggestion in enumerate(shown):
            label = chip_label(suggestion, self.opts, max_cells=width)
            if index == self.highlight:
                label.stylize("reverse")
            rows.append(Align.center(label))
            if self.opts.full and (detail := chip_detail(suggestion)) is not None:
                rows.append(Align.center(fit(detail, width)))
        hidden = len(self.suggestions) - len(shown)
        if hidden > 0:
            rows.append(Align.center(Text(f"+{hidden} more", style="dim italic")))
        yield Group(*rows)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = [chip_label(s, self.opts).cell_len for s in self.suggestions[:CARD_CHIPS]]
        return Measurement(1, min(max(widths, default=1), options.max_width))
