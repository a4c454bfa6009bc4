"""Suggestion chips as focusable widgets: one :class:`Chip` per suggestion, and the chip bar.

A chip is the thing a user taps: a suggested reply or action (formats.md §2). In the TUI a
chip is a one-line, focusable widget drawn with the render layer's label
(:func:`rcs_terminal.render.chips.chip_label`: the action's icon and the sanitised display
text). Enter, a click or a tap posts :class:`Chip.Pressed` with the suggestion exactly as
parsed, so the response copies ``displayText`` and ``postback.data`` unchanged (§4).

Arrow keys on a chip post :class:`Chip.Navigate`; the chat screen moves the focus across the
*chip grid* of the conversation (:class:`ChipGrid`): rows (a card, a carousel, the chip
bar) made of columns (a card's chips, top to bottom). Up and down move within a column and
then to the neighbouring row, left and right to the neighbouring column, so cards of a
carousel and chips of the bar are reached the way a thumb would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal, Protocol

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll
from textual.message import Message
from textual.widget import Widget

from rcs_terminal.protocol.up import Action, Suggestion
from rcs_terminal.render.chips import chip_label
from rcs_terminal.render.layout import RenderOptions

Direction = Literal["up", "down", "left", "right"]


class ChipGrid(Protocol):
    """A container of chips the chat screen can navigate (see the module docstring)."""

    def chip_columns(self) -> list[list[Chip]]:
        """The chips, column by column (each column top to bottom)."""
        ...

    def reveal_column(self, column: int) -> None:
        """Make column ``column`` visible (a carousel scrolls to it)."""
        ...


class Chip(Widget, can_focus=True):
    """One suggested reply or action.

    Args:
        suggestion: the chip as parsed.
        origin: where it sits: ``"card"``, ``"chips"`` (the chip bar) or ``"menu"``.
        plain: text labels instead of emoji icons.
    """

    DEFAULT_CSS = """
    Chip {
        width: auto;
        height: 1;
        padding: 0 1;
        color: $text-primary;
        background: $primary-muted;
    }
    Chip.-action {
        color: $text-secondary;
        background: $secondary-muted;
    }
    Chip:hover {
        background: $primary-darken-1;
    }
    Chip:focus {
        color: $text;
        background: $accent;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "press", "Tap", show=True),
        Binding("up", "navigate('up')", show=False),
        Binding("down", "navigate('down')", show=False),
        Binding("left", "navigate('left')", show=False),
        Binding("right", "navigate('right')", show=False),
    ]

    class Pressed(Message):
        """A chip was tapped.

        Attributes:
            chip: the chip widget.
            suggestion: the suggestion, exactly as parsed.
        """

        def __init__(self, chip: Chip, suggestion: Suggestion) -> None:
            super().__init__()
            self.chip = chip
            self.suggestion = suggestion

    class Navigate(Message):
        """An arrow key was pressed on a chip.

        Attributes:
            chip: the chip that has the focus.
            direction: which arrow.
        """

        def __init__(self, chip: Chip, direction: Direction) -> None:
            super().__init__()
            self.chip = chip
            self.direction = direction

    def __init__(
        self,
        suggestion: Suggestion,
        *,
        origin: str = "chips",
        plain: bool = False,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
    ) -> None:
        super().__init__(id=id)
        self.suggestion = suggestion
        self.origin = origin
        self._label = chip_label(suggestion, RenderOptions(plain=plain))
        if isinstance(suggestion, Action):
            self.add_class("-action")
        self.tooltip = self._label.plain

    @property
    def label(self) -> Text:
        """The chip's label as drawn (sanitised)."""
        return self._label

    def render(self) -> Text:
        """The label."""
        return self._label

    def action_press(self) -> None:
        """Tap the chip."""
        self.post_message(self.Pressed(self, self.suggestion))

    def action_navigate(self, direction: Direction) -> None:
        """Ask the screen to move the focus."""
        self.post_message(self.Navigate(self, direction))

    def on_click(self, event: events.Click) -> None:
        """A click taps the chip."""
        event.stop()
        self.focus()
        self.action_press()


class ChipBar(HorizontalScroll):
    """The chip list attached to the latest message, shown above the composer (§3).

    Args:
        suggestions: the chips (up to 11 in practice; all are shown, scrolling sideways).
    """

    DEFAULT_CSS = """
    ChipBar {
        height: 1;
        width: 1fr;
        scrollbar-size-horizontal: 0;
        padding: 0 1;
    }
    ChipBar > Chip {
        margin-right: 1;
    }
    ChipBar.-empty {
        display: none;
    }
    """

    can_focus = False

    def __init__(self, suggestions: Sequence[Suggestion] = (), *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._suggestions: tuple[Suggestion, ...] = tuple(suggestions)

    @property
    def suggestions(self) -> tuple[Suggestion, ...]:
        """The chips shown."""
        return self._suggestions

    def compose(self) -> ComposeResult:
        """One chip per suggestion."""
        for suggestion in self._suggestions:
            yield Chip(suggestion, origin="chips")

    def on_mount(self) -> None:
        """Hide the bar when it has no chips."""
        self.set_class(not self._suggestions, "-empty")

    async def show(self, suggestions: Sequence[Suggestion]) -> None:
        """Replace the chips (no work when they are the same)."""
        new = tuple(suggestions)
        if new == self._suggestions:
            return
        self._suggestions = new
        await self.remove_children()
        await self.mount_all([Chip(s, origin="chips") for s in new])
        self.set_class(not new, "-empty")

    def chip_columns(self) -> list[list[Chip]]:
        """Each chip is a column of its own."""
        return [[chip] for chip in self.query_children(Chip)]

    def reveal_column(self, column: int) -> None:
        """Chips scroll into view when focused; nothing to do."""
