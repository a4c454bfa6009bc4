"""The chat screen: one conversation, its chips, the persistent menu and the composer.

Layout, top to bottom: status bar, the peer's header (a chatbot's name in its theme
colour with a ``✔`` when verified, the SIM), the messages, the "is typing" line, the chip
list of the latest message (formats.md §3), the persistent menu when open (§6), the
composer, the trace pane, the footer.

The screen re-reads the store whenever an event says something changed for its SIM
(:class:`ChatScreen.Reload` coalesces bursts) and hands every tap to the
:class:`~rcs_terminal.ui.actions.ActionRunner`. Arrow keys on a chip move the focus across
the chip grid (:mod:`rcs_terminal.ui.widgets.chips`): up and down along a card's chips and
on to the neighbouring card or chip row, left and right across the cards of a carousel or
the chips of the bar; down from the chip bar reaches the composer, up from the composer the
chips. Messages are marked displayed when they come on screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.events import Mount, ScreenResume
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from rcs_terminal.domain.events import (
    Event,
    IsComposingChanged,
    MessageReceived,
    MessageStateChanged,
)
from rcs_terminal.domain.message import Conversation, canonical_peer
from rcs_terminal.protocol.up import BotInfo, Suggestion
from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.actions import ActionRunner
from rcs_terminal.ui.format import sim_name
from rcs_terminal.ui.screens.base import HandsetScreen
from rcs_terminal.ui.widgets.chips import Chip, ChipBar, ChipGrid, Direction
from rcs_terminal.ui.widgets.composer import Composer
from rcs_terminal.ui.widgets.conversation_list import info_badge, peer_name
from rcs_terminal.ui.widgets.menu import PersistentMenu
from rcs_terminal.ui.widgets.message_list import MessageList


class ChatScreen(HandsetScreen):
    """One conversation (see the module docstring).

    Args:
        conversation: the conversation to show.
        prefill: text to put in the composer (a ``composeTextMessage`` action).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f3", "open_menu", "Menu"),
        Binding("up", "focus_chips", "Chips", show=False),
    ]

    class Reload(Message):
        """Re-read the conversation from the store (coalesced)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ChatScreen.Reload)

    def __init__(self, conversation: Conversation, *, prefill: str | None = None) -> None:
        super().__init__()
        self.conversation = conversation
        self.bot: BotInfo | None = None
        self.runner = ActionRunner(self)
        self._prefill = prefill

    # ------------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        """Header, messages, typing line, chip bar, menu, composer."""
        yield Static(self._header(), id="chat-header")
        yield MessageList(clock=self.rcs_app.clock, tz=self.rcs_app.tz, id="messages")
        yield Static("", id="typing")
        yield ChipBar(id="chip-bar")
        yield PersistentMenu(id="menu")
        status = self.handset.sim_status(self.conversation.sim)
        yield Composer(f"Message via {sim_name(status)}", id="composer")

    @property
    def peer_label(self) -> str:
        """The peer's name for display (sanitised)."""
        return peer_name(self.conversation, self.bot)

    @property
    def messages(self) -> MessageList:
        """The message list."""
        return self.query_one(MessageList)

    @property
    def chip_bar(self) -> ChipBar:
        """The chip bar."""
        return self.query_one(ChipBar)

    @property
    def composer(self) -> Composer:
        """The composer."""
        return self.query_one(Composer)

    @property
    def menu(self) -> PersistentMenu:
        """The persistent menu."""
        return self.query_one(PersistentMenu)

    def _header(self) -> Text:
        conversation = self.conversation
        text = Text(end="")
        if conversation.is_chatbot:
            text.append_text(info_badge(self.bot))
            text.append(" ")
        text.append(self.peer_label, style="bold")
        status = self.handset.sim_status(conversation.sim)
        text.append(f"  \u00b7  {sim_name(status)}", style="dim")
        text.append(f"  \u00b7  {sanitize(conversation.peer_uri, max_length=60)}", style="dim")
        return text

    @on(Mount)
    async def _first_show(self) -> None:
        """Show the messages, fetch the bot info, focus the composer."""
        await self.reload()
        if self.conversation.is_chatbot:
            self.run_worker(self._load_bot(), group="bot-info", exit_on_error=False)
        if self._prefill is not None:
            self.composer.prefill(self._prefill)
        else:
            self.composer.field.focus()

    async def _load_bot(self) -> None:
        info = await self.rcs_app.get_bot_info(self.conversation.sim, self.conversation.peer_uri)
        self.apply_bot_info(info)

    def apply_bot_info(self, info: BotInfo | None) -> None:
        """Use the chatbot's info: header colour and badge, persistent menu."""
        self.bot = info
        header = self.query_one("#chat-header", Static)
        header.update(self._header())
        colour = info.colour_hex if info is not None else None
        if colour is not None:
            header.styles.border_left = ("thick", colour)
        menu = info.persistent_menu if info is not None else None
        self.menu.set_menu(menu)
        self.composer.set_menu(menu is not None)

    # ------------------------------------------------------------------ events

    def handset_event(self, event: Event) -> None:
        """Reload on news for this SIM; show the peer typing."""
        super().handset_event(event)
        if event.sim != self.conversation.sim:
            return
        if isinstance(event, MessageReceived | MessageStateChanged):
            self.post_message(self.Reload())
        elif isinstance(event, IsComposingChanged) and self._is_peer(event.peer):
            self.show_typing(event.active)

    def _is_peer(self, uri: str) -> bool:
        return canonical_peer(uri) == canonical_peer(self.conversation.peer_uri)

    def show_typing(self, active: bool) -> None:
        """Show or hide "… is typing"."""
        line = self.query_one("#typing", Static)
        line.update(
            Text(f"\u2026 {self.peer_label} is typing", style="italic dim") if active else ""
        )
        line.set_class(active, "-active")

    async def on_chat_screen_reload(self, message: Reload) -> None:
        """Re-read the conversation."""
        message.stop()
        await self.reload()

    async def reload(self) -> None:
        """Show the stored messages and the chip list of the latest one."""
        store = self.handset.store
        conversation = store.conversation(self.conversation.id)
        if conversation is not None:
            self.conversation = conversation
        await self.messages.show(store.messages(self.conversation.id))
        bubbles = self.messages.bubbles
        chips: tuple[Suggestion, ...] = ()
        if bubbles and not bubbles[-1].message.is_outgoing:
            chips = bubbles[-1].content.suggestions
        await self.chip_bar.show(chips)

    @on(ScreenResume)
    async def _catch_up(self) -> None:
        """Catch up after a dialog or another chat."""
        await self.reload()

    # ------------------------------------------------------------------ user input

    def on_chip_pressed(self, event: Chip.Pressed) -> None:
        """A chip was tapped."""
        event.stop()
        self.runner.tap(event.suggestion)

    def on_persistent_menu_selected(self, event: PersistentMenu.Selected) -> None:
        """A menu entry was picked: same as a chip."""
        event.stop()
        self.composer.field.focus()
        self.runner.tap(event.suggestion)

    def on_persistent_menu_closed(self, event: PersistentMenu.Closed) -> None:
        """Back to the composer."""
        event.stop()
        self.composer.field.focus()

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        """Send the typed text."""
        event.stop()
        conversation = self.conversation
        self.rcs_app.run_port(
            self.handset.send_text(conversation.sim, conversation.peer_uri, event.text),
            name="send text",
        )

    def on_composer_typing(self, event: Composer.Typing) -> None:
        """Tell the peer we are typing (when the profile allows it)."""
        event.stop()
        if not self.handset.profile.messaging.is_composing:
            return
        conversation = self.conversation
        self.rcs_app.run_port(
            self.handset.set_composing(conversation.sim, conversation.peer_uri, event.active),
            name="is-composing",
        )

    def on_composer_menu_requested(self, event: Composer.MenuRequested) -> None:
        """The ☰ button."""
        event.stop()
        self.action_open_menu()

    def on_message_list_seen(self, event: MessageList.Seen) -> None:
        """Mark what came on screen displayed."""
        event.stop()
        for message_id in event.message_ids:
            self.rcs_app.run_port(self.handset.mark_displayed(message_id), name="displayed")

    def action_open_menu(self) -> None:
        """Open (or close) the persistent menu."""
        menu = self.menu
        if menu.is_open:
            menu.close()
            self.composer.field.focus()
        elif menu.menu is not None:
            menu.open()
        else:
            self.notify("This conversation has no persistent menu.")

    def action_back(self) -> None:
        """Close the menu, or go back to the conversations."""
        if self.menu.is_open:
            self.menu.close()
            self.composer.field.focus()
            return
        self.dismiss(None)

    def compose_to(self, number: str, text: str) -> None:
        """Prefill a draft to ``number``: here if it is this peer, else in its chat."""
        if canonical_peer(number) == canonical_peer(self.conversation.peer_uri):
            self.composer.prefill(text)
        else:
            self.rcs_app.open_peer(self.conversation.sim, number, prefill=text)

    # ------------------------------------------------------------------ chip navigation

    def _grids(self) -> list[ChipGrid]:
        grids: list[ChipGrid] = []
        for bubble in self.messages.bubbles:
            grid = bubble.chip_grid()
            if grid is not None:
                grids.append(grid)  # type: ignore[arg-type]
        if self.chip_bar.suggestions:
            grids.append(self.chip_bar)
        return grids

    def _focus(self, grid: ChipGrid, column: int, index: int) -> None:
        columns = grid.chip_columns()
        if not columns:
            return
        column = min(max(0, column), len(columns) - 1)
        chips = columns[column]
        if not chips:
            return
        target = chips[min(max(0, index), len(chips) - 1)]
        if _displayed(target):
            target.focus()
        else:  # a carousel card off screen: show it, focus once it is laid out
            grid.reveal_column(column)
            self.call_after_refresh(target.focus)

    def action_focus_chips(self) -> None:
        """From the composer: focus the chip bar, else the latest card's chips."""
        grids = self._grids()
        if grids:
            last = grids[-1]
            self._focus(last, 0, len(last.chip_columns()[0]) - 1)

    def on_chip_navigate(self, event: Chip.Navigate) -> None:
        """Move the focus across the chip grid."""
        event.stop()
        self.navigate(event.chip, event.direction)

    def navigate(self, chip: Chip, direction: Direction) -> None:
        """Move the focus from ``chip`` one step in ``direction``."""
        grids = self._grids()
        for g, grid in enumerate(grids):
            for c, column in enumerate(grid.chip_columns()):
                if chip in column:
                    self._step(grids, g, c, column.index(chip), direction)
                    return

    def _step(self, grids: list[ChipGrid], g: int, c: int, i: int, direction: Direction) -> None:
        grid = grids[g]
        columns = grid.chip_columns()
        if direction in ("left", "right"):
            target = c + (1 if direction == "right" else -1)
            if 0 <= target < len(columns):
                self._focus(grid, target, i)
            return
        step = 1 if direction == "down" else -1
        if 0 <= i + step < len(columns[c]):
            self._focus(grid, c, i + step)
        elif 0 <= g + step < len(grids):
            other = grids[g + step]
            other_columns = other.chip_columns()
            column = min(c, len(other_columns) - 1)
            index = 0 if step > 0 else len(other_columns[column]) - 1
            self._focus(other, column, index)
        elif step > 0:
            self.composer.field.focus()


def _displayed(widget: Widget) -> bool:
    """Whether ``widget`` and all its ancestors are displayed."""
    node: DOMNode | None = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True
