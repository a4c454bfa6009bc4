"""Starting a conversation: by phone number or URI, or from the chatbot directory.

The conversation starts on the sending SIM (F4 switches it). A number may be typed as
``+8613900000003``, ``139 0000 0003`` or ``tel:+86...``; a chatbot or person as a ``sip:``
URI or ``user@domain``. The directory search (formats.md §6, ``ChatbotDirectory``) goes
through the handset port; picking a result opens its chat.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.format import sim_name
from rcs_terminal.ui.port import BotSummary
from rcs_terminal.ui.widgets.conversation_list import bot_badge
from rcs_terminal.ui.widgets.text_field import TextField

if TYPE_CHECKING:
    from rcs_terminal.ui.app import RcsTerminalApp

_SEPARATORS = re.compile(r"[-.()\s]")
_NUMBER = re.compile(r"\+?[0-9]{3,20}")


def normalize_peer(text: str) -> str | None:
    """The URI for what the user typed, or ``None`` when it is neither a number nor a URI."""
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith(("sip:", "sips:", "tel:")):
        return text if len(text.partition(":")[2]) > 0 and " " not in text else None
    compact = _SEPARATORS.sub("", text)
    if _NUMBER.fullmatch(compact):
        return f"tel:{compact}"
    if re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+", text):
        return f"sip:{text}"
    return None


class NewConversationScreen(ModalScreen[None]):
    """Number/URI entry and chatbot directory search.

    Args:
        search: start in the directory search field.
    """

    DEFAULT_CSS = """
    NewConversationScreen {
        align: center middle;
        background: $background 60%;
    }
    NewConversationScreen > Vertical {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: thick $accent;
        background: $surface;
        padding: 0 2;
    }
    NewConversationScreen Label {
        margin-top: 1;
        text-style: bold;
    }
    NewConversationScreen #sim-line {
        color: $text-muted;
    }
    NewConversationScreen OptionList {
        height: auto;
        max-height: 10;
        border: none;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("f4", "switch_sim", "Sending SIM"),
    ]

    def __init__(self, *, search: bool = False) -> None:
        super().__init__()
        self._start_in_search = search
        self.results: list[BotSummary] = []

    @property
    def rcs_app(self) -> RcsTerminalApp:
        """The app, typed."""
        return cast("RcsTerminalApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="sim-line")
            yield Label("To: number or URI")
            yield TextField(placeholder="+8613900000003 or sip:bot@example.org", id="to")
            yield Label("Or search the chatbot directory")
            yield TextField(placeholder="name or service", id="search")
            yield OptionList(id="results")

    def on_mount(self) -> None:
        self._draw_sim()
        self.query_one("#search" if self._start_in_search else "#to", TextField).focus()

    def _draw_sim(self) -> None:
        handset = self.rcs_app.handset
        status = handset.sim_status(handset.sending_sim)
        line = Text(f"New conversation on {sim_name(status)}", end="")
        line.append("   F4: switch SIM", style="dim")
        self.query_one("#sim-line", Static).update(line)

    def action_switch_sim(self) -> None:
        """Switch the sending SIM (the app's action), then redraw."""
        self.rcs_app.action_switch_sim()
        self._draw_sim()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Open the typed peer, or run the search."""
        event.stop()
        if event.input.id == "to":
            peer = normalize_peer(event.value)
            if peer is None:
                self.notify("Type a phone number or a sip:/tel: URI.", severity="warning")
                return
            app = self.rcs_app
            self.dismiss(None)
            app.open_peer(app.handset.sending_sim, peer)
        else:
            self.run_worker(
                self._search(event.value), group="directory", exclusive=True, exit_on_error=False
            )

    async def _search(self, query: str) -> None:
        handset = self.rcs_app.handset
        try:
            self.results = await handset.search_chatbots(handset.sending_sim, query)
        except Exception as exc:
            self.rcs_app.show_error(exc)
            return
        options = self.query_one("#results", OptionList)
        options.clear_options()
        if not self.results:
            options.add_option(Option(Text("No chatbot found.", style="dim"), disabled=True))
            return
        options.add_options(
            Option(self._result(bot), id=str(i)) for i, bot in enumerate(self.results)
        )
        options.highlighted = 0
        options.focus()

    @staticmethod
    def _result(bot: BotSummary) -> Text:
        text = bot_badge(bot.colour, bot.verified)
        text.append(" ")
        text.append(sanitize(bot.name, max_length=40), style="bold")
        if bot.description:
            text.append(f"  {sanitize(bot.description, max_length=60)}", style="dim")
        return text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open the picked chatbot."""
        event.stop()
        if event.option.id is None:
            return
        bot = self.results[int(event.option.id)]
        app = self.rcs_app
        self.dismiss(None)
        app.open_peer(app.handset.sending_sim, bot.uri, name=bot.name, chatbot=True)
