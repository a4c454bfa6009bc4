"""The home screen: conversations of every SIM or of one, and the way to new ones.

``v`` cycles the view (all SIMs, SIM 1, SIM 2); ``n`` starts a conversation with a number
or URI, ``/`` searches the chatbot directory, ``s`` switches the sending SIM, ``t`` (or F2)
toggles the trace pane. The list is re-read from the store when messages arrive or change
and when the screen comes back; chatbots' names, colours and verification come from their
bot info, fetched once per chatbot (the app caches it).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Mount, ScreenResume
from textual.message import Message
from textual.widgets import Static

from rcs_terminal.domain.events import Event, MessageReceived, MessageStateChanged
from rcs_terminal.ui.format import sim_name
from rcs_terminal.ui.screens.base import HandsetScreen
from rcs_terminal.ui.widgets.conversation_list import ConversationList


class ConversationsScreen(HandsetScreen):
    """The conversation list (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_conversation", "New"),
        Binding("slash", "search_chatbots", "Chatbots"),
        Binding("v", "cycle_view", "View"),
        Binding("s", "app.switch_sim", "Sending SIM", show=False),
        Binding("t", "app.toggle_trace", "Trace", show=False),
        Binding("question_mark", "app.help", "Help", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    class Reload(Message):
        """Re-read the conversations (coalesced)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ConversationsScreen.Reload)

    def __init__(self) -> None:
        super().__init__()
        self.view_sim: int | None = None
        """The SIM whose conversations are listed; ``None`` for all."""

    def compose_body(self) -> ComposeResult:
        """View title and list."""
        yield Static("", id="view-title")
        yield ConversationList(id="conversations")

    @property
    def conversation_list(self) -> ConversationList:
        """The list widget."""
        return self.query_one(ConversationList)

    @on(Mount)
    def _first_show(self) -> None:
        """Fill the list."""
        self.reload()
        self.conversation_list.focus()

    @on(ScreenResume)
    def _catch_up(self) -> None:
        """Unread counts may have changed in a chat."""
        self.reload()

    def handset_event(self, event: Event) -> None:
        """Reload on message news."""
        super().handset_event(event)
        if isinstance(event, MessageReceived | MessageStateChanged):
            self.post_message(self.Reload())

    def on_conversations_screen_reload(self, message: Reload) -> None:
        """Re-read the conversations."""
        message.stop()
        self.reload()

    def reload(self) -> None:
        """Re-read the conversations of the current view; fetch unknown bot infos."""
        app = self.rcs_app
        conversations = self.handset.store.conversations(self.view_sim)
        self.conversation_list.show(conversations, bots=app.bot_infos, now=app.clock(), tz=app.tz)
        self.query_one("#view-title", Static).update(self._title(len(conversations)))
        missing = [
            (c.sim, c.peer_uri)
            for c in conversations
            if c.is_chatbot and (c.sim, c.peer_uri) not in app.bot_infos
        ]
        if missing:
            self.run_worker(self._fetch_bots(missing), group="bot-info", exit_on_error=False)

    async def _fetch_bots(self, wanted: list[tuple[int, str]]) -> None:
        for sim, uri in wanted:
            await self.rcs_app.get_bot_info(sim, uri)
        self.post_message(self.Reload())

    def _title(self, count: int) -> Text:
        if self.view_sim is None:
            view = "All SIMs"
        else:
            view = sim_name(self.handset.sim_status(self.view_sim))
        title = Text("Conversations \u00b7 ", style="bold", end="")
        title.append(view, style="bold cyan")
        title.append(f"  ({count})  v: change view", style="dim")
        return title

    def on_conversation_list_opened(self, event: ConversationList.Opened) -> None:
        """Open the picked conversation."""
        event.stop()
        self.rcs_app.open_chat(event.conversation)

    def action_cycle_view(self) -> None:
        """All SIMs, then each SIM in turn."""
        choices: list[int | None] = [None, *(sim.slot for sim in self.handset.profile.sims)]
        index = choices.index(self.view_sim) if self.view_sim in choices else 0
        self.view_sim = choices[(index + 1) % len(choices)]
        self.reload()

    def action_new_conversation(self) -> None:
        """Ask for a number or URI."""
        from rcs_terminal.ui.screens.new_conversation import NewConversationScreen

        self.app.push_screen(NewConversationScreen())

    def action_search_chatbots(self) -> None:
        """Search the chatbot directory."""
        from rcs_terminal.ui.screens.new_conversation import NewConversationScreen

        self.app.push_screen(NewConversationScreen(search=True))
