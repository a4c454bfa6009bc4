"""The conversation list: one entry per conversation, latest activity first.

Each entry shows the SIM it belongs to, the peer's name (a chatbot gets a ``BOT`` badge in
its theme colour from the bot info, and ``✔`` when the operator verified it), the time of
the latest message, the unread count and the preview of the latest message. Names and
previews come from the network: they are sanitised and drawn as ``rich.text.Text``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from rcs_terminal.domain.message import Conversation
from rcs_terminal.protocol.up import BotInfo
from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.format import short_time

DEFAULT_BOT_COLOUR = "#5c6bc0"
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def safe_colour(colour: str | None) -> str:
    """``colour`` when it is ``#RRGGBB``, else the default chatbot colour."""
    return colour if colour is not None and _HEX_COLOUR.fullmatch(colour) else DEFAULT_BOT_COLOUR


def bot_badge(colour: str | None, verified: bool | None) -> Text:
    """`` BOT `` on the chatbot's theme colour, plus ``✔`` when verified."""
    style = Style(color="white", bgcolor=safe_colour(colour), bold=True)
    badge = Text(" BOT ", style=style, end="")
    if verified:
        badge.append(" \u2714", style="bold green")
    return badge


def info_badge(info: BotInfo | None) -> Text:
    """The badge of a chatbot from its bot info (default colour while unknown)."""
    if info is None:
        return bot_badge(None, None)
    return bot_badge(info.colour_hex, info.verified)


def peer_name(conversation: Conversation, info: BotInfo | None = None) -> str:
    """The peer's name for display: bot info name, stored name, or the URI (sanitised)."""
    name = (info.name if info is not None else None) or conversation.display_name
    return sanitize(name or conversation.peer_uri, max_length=48)


class ConversationList(OptionList):
    """Conversations to pick from (Enter or a click opens one)."""

    DEFAULT_CSS = """
    ConversationList, ConversationList:focus {
        height: 1fr;
        border: none;
        padding: 0;
        background: $surface;
    }
    ConversationList > .option-list--option {
        padding: 0 1;
    }
    """

    class Opened(Message):
        """The user picked a conversation.

        Attributes:
            conversation: the conversation.
        """

        def __init__(self, conversation: Conversation) -> None:
            super().__init__()
            self.conversation = conversation

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.conversations: tuple[Conversation, ...] = ()

    def show(
        self,
        conversations: Sequence[Conversation],
        *,
        bots: Mapping[tuple[int, str], BotInfo | None],
        now: float,
        tz: dt.tzinfo | None,
    ) -> None:
        """Replace the entries, keeping the highlighted conversation highlighted."""
        current = self.highlighted_conversation
        self.conversations = tuple(conversations)
        options = [
            Option(self._prompt(c, bots.get((c.sim, c.peer_uri)), now, tz), id=str(c.id))
            for c in self.conversations
        ]
        self.clear_options()
        self.add_options(options)
        if not options:
            return
        index = 0
        if current is not None:
            index = next((i for i, c in enumerate(self.conversations) if c.id == current.id), 0)
        self.highlighted = index

    @property
    def highlighted_conversation(self) -> Conversation | None:
        """The conversation under the cursor."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self.conversations):
            return None
        return self.conversations[index]

    @staticmethod
    def _prompt(
        conversation: Conversation, info: BotInfo | None, now: float, tz: dt.tzinfo | None
    ) -> RenderableType:
        head = Text(f"SIM{conversation.sim} ", style="dim", end="")
        if conversation.is_chatbot:
            head.append_text(info_badge(info))
            head.append(" ")
        unread = conversation.unread
        head.append(peer_name(conversation, info), style="bold" if unread else "")
        when = short_time(conversation.last_activity, now, tz) if conversation.last_preview else ""
        right = Text(when, style="dim", end="")
        if unread:
            right.append(" ")
            right.append(f" {unread} ", style="bold white on red")
        preview = Text(
            sanitize(conversation.last_preview, max_length=200),
            style="" if unread else "dim",
            no_wrap=True,
            overflow="ellipsis",
            end="",
        )
        grid = Table.grid(expand=True, padding=0)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(head, right)
        grid.add_row(preview, "")
        return grid

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open the picked conversation."""
        event.stop()
        index = event.option_index
        if 0 <= index < len(self.conversations):
            self.post_message(self.Opened(self.conversations[index]))
