"""Rich cards and carousels in a conversation, with chips that can be focused and tapped.

The card's media, title and description are drawn by the render layer
(:class:`rcs_terminal.render.card.CardView`, the same renderable ``rcs-terminal render``
uses, so both show a card alike); what the TUI adds is interaction. The card's chips are
:class:`~.chips.Chip` widgets under the body (at most four, like a phone and like the
static rendering; more are summarised as "+N more"), so that each can take the focus and
be clicked.

A :class:`CarouselWidget` shows as many cards side by side as the width allows
(:func:`rcs_terminal.render.carousel.cards_per_row`) from a ``start`` index, with a
"◀ 1-2 / 3 ▶" line; the arrows scroll it, and so does moving the focus onto a chip of a
card that is off screen (:meth:`CarouselWidget.reveal_column`).
"""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Click
from textual.reactive import reactive
from textual.widgets import Static

from rcs_terminal.protocol.up import BotMessage, CardContent, Carousel, GeneralPurposeCard
from rcs_terminal.render.card import CardView
from rcs_terminal.render.carousel import GAP, cards_per_row
from rcs_terminal.render.layout import CARD_CHIPS, CAROUSEL_CARD_WIDTH, SINGLE_CARD_WIDTH
from rcs_terminal.ui.widgets.chips import Chip


class _Body:
    """The card body at whatever width the widget gets (Rich renderable)."""

    def __init__(self, view: CardView) -> None:
        self.view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.view.body(max(1, options.max_width))


class CardWidget(Vertical):
    """One card: the rendered body, then its chips.

    Args:
        view: the render layer's view of the card (its content's chips are ignored: the
            widget draws ``content.suggestions`` itself).
        content: the card's content.
        position: the carousel position (``"2/5"``) shown in the frame, if any.
        width: the card's width in cells, frame included.
    """

    DEFAULT_CSS = """
    CardWidget {
        height: auto;
        border: round $panel-lighten-2;
        padding: 0 1;
        background: $surface;
    }
    CardWidget:focus-within {
        border: round $accent;
    }
    CardWidget > .card--body {
        height: auto;
        width: 1fr;
    }
    CardWidget > .card--chips {
        height: auto;
        border-top: solid $panel-lighten-2;
    }
    CardWidget > .card--chips > Chip {
        width: 1fr;
        content-align: center middle;
        margin-bottom: 0;
    }
    CardWidget .card--more {
        width: 1fr;
        content-align: center middle;
        color: $text-muted;
        text-style: italic;
    }
    """

    def __init__(
        self,
        view: CardView,
        content: CardContent,
        *,
        position: str | None = None,
        width: int = SINGLE_CARD_WIDTH,
    ) -> None:
        super().__init__()
        self._view = view
        self.content = content
        self.border_title = position
        self.border_title_align = "right"
        self.styles.width = width

    @classmethod
    def for_card(cls, card: GeneralPurposeCard, width: int = SINGLE_CARD_WIDTH) -> CardWidget:
        """The widget of a single ``generalPurposeCard``."""
        bare = replace(card, content=replace(card.content, suggestions=()))
        return cls(CardView.from_card(bare), card.content, width=width)

    def compose(self) -> ComposeResult:
        """The body, then up to four chips."""
        yield Static(_Body(self._view), classes="card--body")
        suggestions = self.content.suggestions
        if suggestions:
            with Vertical(classes="card--chips"):
                for suggestion in suggestions[:CARD_CHIPS]:
                    yield Chip(suggestion, origin="card")
                hidden = len(suggestions) - CARD_CHIPS
                if hidden > 0:
                    yield Static(f"+{hidden} more", classes="card--more")

    @property
    def chips(self) -> list[Chip]:
        """The card's chip widgets, top to bottom."""
        return list(self.query(Chip))


class SingleCard(Horizontal):
    """A single rich card in a bubble (a one-row, one-column chip grid)."""

    DEFAULT_CSS = """
    SingleCard {
        height: auto;
        width: auto;
    }
    """

    def __init__(self, card: GeneralPurposeCard, *, width: int = SINGLE_CARD_WIDTH) -> None:
        super().__init__()
        self._card = CardWidget.for_card(card, width)

    def compose(self) -> ComposeResult:
        """The card."""
        yield self._card

    def chip_columns(self) -> list[list[Chip]]:
        """One column: the card's chips."""
        return [self._card.chips]

    def reveal_column(self, column: int) -> None:
        """Always visible."""


class CarouselWidget(Vertical):
    """A carousel: a window of cards and a position line (see the module docstring).

    Args:
        carousel: the parsed carousel.
    """

    DEFAULT_CSS = """
    CarouselWidget {
        height: auto;
        width: auto;
    }
    CarouselWidget > .carousel--row {
        height: auto;
        width: auto;
    }
    CarouselWidget > .carousel--row > CardWidget {
        margin-right: 1;
    }
    CarouselWidget > .carousel--row > CardWidget.-hidden {
        display: none;
    }
    CarouselWidget > .carousel--position {
        width: 100%;
        content-align: center middle;
        color: $text-muted;
    }
    """

    start: reactive[int] = reactive(0, init=False)
    """Index of the first card shown."""

    def __init__(self, carousel: Carousel, *, available: int = 80) -> None:
        super().__init__()
        self.carousel = carousel
        self.card_width = CAROUSEL_CARD_WIDTH[carousel.layout.card_width]
        self._per_row = self._fit(available)
        total = len(carousel.content)
        layout = carousel.layout
        self._cards = []
        for index, content in enumerate(carousel.content):
            view = CardView(
                replace(content, suggestions=()),
                title_style=layout.title_font_style,
                description_style=layout.description_font_style,
                width=self.card_width,
            )
            card = CardWidget(view, content, position=f"{index + 1}/{total}", width=self.card_width)
            self._cards.append(card)

    def _fit(self, available: int) -> int:
        return cards_per_row(self.card_width, max(1, available), GAP)

    def compose(self) -> ComposeResult:
        """The row of cards and the position line."""
        with Horizontal(classes="carousel--row"):
            yield from self._cards
        yield Static(self._position(), classes="carousel--position")

    def on_mount(self) -> None:
        """Show the first window."""
        self._show()

    def _window(self) -> range:
        total = len(self._cards)
        first = min(max(0, self.start), max(0, total - self._per_row))
        return range(first, min(total, first + self._per_row))

    def _position(self) -> Text:
        total = len(self._cards)
        shown = self._window()
        span = f"{shown.start + 1}" if len(shown) == 1 else f"{shown.start + 1}-{shown.stop}"
        text = Text(end="")
        text.append("\u25c0 " if shown.start > 0 else "  ", style="bold")
        text.append(f"{span} / {total}")
        text.append(" \u25b6" if shown.stop < total else "  ", style="bold")
        return text

    def _show(self) -> None:
        shown = self._window()
        for index, card in enumerate(self._cards):
            card.set_class(index not in shown, "-hidden")
        if self.is_mounted:
            self.query_one(".carousel--position", Static).update(self._position())

    def watch_start(self) -> None:
        """Move the window."""
        self._show()

    def fit(self, available: int) -> None:
        """Show as many cards side by side as ``available`` cells allow."""
        per_row = self._fit(available)
        if per_row != self._per_row:
            self._per_row = per_row
            self._show()

    def scroll_cards(self, delta: int) -> None:
        """Move the window by ``delta`` cards."""
        total = len(self._cards)
        self.start = min(max(0, self._window().start + delta), max(0, total - self._per_row))

    def on_click(self, event: Click) -> None:
        """Clicks on the position line's arrows scroll the carousel."""
        widget = event.widget
        if isinstance(widget, Static) and widget.has_class("carousel--position"):
            middle = widget.size.width // 2
            self.scroll_cards(-1 if event.x < middle else 1)

    def chip_columns(self) -> list[list[Chip]]:
        """One column per card."""
        return [card.chips for card in self._cards]

    def reveal_column(self, column: int) -> None:
        """Scroll so that card ``column`` is shown."""
        shown = self._window()
        if column < shown.start:
            self.start = column
        elif column >= shown.stop:
            self.start = column - self._per_row + 1


def card_widget(message: BotMessage, available: int) -> SingleCard | CarouselWidget:
    """The widget for a botmessage, sized for ``available`` cells."""
    if message.card is not None:
        return SingleCard(message.card, width=min(SINGLE_CARD_WIDTH, max(20, available)))
    assert message.carousel is not None
    return CarouselWidget(message.carousel, available=available)
