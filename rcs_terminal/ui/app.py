"""The Textual app: a thin shell around a handset port.

:class:`RcsTerminalApp` owns what is global to the TUI and nothing else:

- the handset behind :class:`~rcs_terminal.ui.port.HandsetPort`, given to the constructor
  (the real engine's adapter, or :class:`~rcs_terminal.ui.fake_handset.FakeHandset` in tests
  and ``rcs-terminal tui --fake``);
- the bridge from the handset's event bus to the screens: each domain event becomes a
  :class:`HandsetEvent` message, so it is handled on Textual's side of the loop; OTP and
  terms requests open their dialogs, everything else goes to every screen in the stack;
- running port commands as workers (:meth:`RcsTerminalApp.run_port`,
  ``exit_on_error=False``) and the one error handler: a failed worker, or any error handed
  to :meth:`RcsTerminalApp.show_error`, opens the :class:`ErrorDialog` with the error's
  title and hint (:class:`~rcs_terminal.errors.RcsTerminalError` carries both);
- the bot-info cache, the sending SIM switch, the trace and help toggles;
- what tests need fixed: the clock, the time zone, the cursor blink, the browser opener.

Screens and widgets own the rest (see :mod:`.screens` and :mod:`.widgets`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import webbrowser
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.worker import Worker, WorkerState

from rcs_terminal.domain.events import Event, OtpRequested, TermsPresented
from rcs_terminal.domain.message import Conversation
from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.protocol.up import BotInfo
from rcs_terminal.ui.actions import DEFAULT_LOCATION
from rcs_terminal.ui.port import HandsetPort
from rcs_terminal.ui.screens.base import HandsetScreen
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.screens.conversations import ConversationsScreen
from rcs_terminal.ui.screens.dialogs import ErrorDialog, OtpDialog, TermsDialog
from rcs_terminal.ui.screens.help import HelpScreen


class HandsetEvent(Message):
    """A domain event from the handset's bus, on Textual's side.

    Attributes:
        event: the domain event.
    """

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class RcsTerminalApp(App[None]):
    """The handset's messaging app (see the module docstring).

    Args:
        handset: the handset behind the port.
        clock: epoch seconds now (times in bubbles and lists).
        tz: the time zone of the times shown; local when ``None``.
        cursor_blink: let text cursors blink (snapshot tests turn it off).
        open_browser: opens a URL in a browser (``webbrowser.open``).
        start_handset: call ``handset.start()`` when the app starts.
        default_location: what the location dialog proposes (latitude, longitude, label).
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "rcs-terminal"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("f2", "toggle_trace", "Trace"),
        Binding("f4", "switch_sim", "SIM"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        handset: HandsetPort,
        *,
        clock: Callable[[], float] | None = None,
        tz: dt.tzinfo | None = None,
        cursor_blink: bool = True,
        open_browser: Callable[[str], Any] | None = None,
        start_handset: bool = True,
        default_location: tuple[float, float, str] = DEFAULT_LOCATION,
    ) -> None:
        super().__init__()
        self.handset = handset
        self.clock = clock or time.time
        self.tz = tz
        self.cursor_blink = cursor_blink
        self.open_browser: Callable[[str], Any] = open_browser or webbrowser.open
        self.start_handset = start_handset
        self.default_location = default_location
        self.bot_infos: dict[tuple[int, str], BotInfo | None] = {}
        """Chatbot information already fetched, by (SIM, chatbot URI)."""
        self._unsubscribe: Callable[[], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        """Follow the bus, show the conversations, start the handset."""
        self._unsubscribe = self.handset.bus.subscribe(self._forward)
        self.push_screen(ConversationsScreen())
        if self.start_handset:
            self.run_port(self.handset.start(), name="start")

    def _forward(self, event: Event) -> None:
        self.post_message(HandsetEvent(event))

    async def on_unmount(self) -> None:
        """Stop following the bus and stop the handset."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with contextlib.suppress(RcsTerminalError):  # leaving: nowhere left to show it
            await self.handset.stop()

    # ------------------------------------------------------------------ events

    def on_handset_event(self, message: HandsetEvent) -> None:
        """Dialogs for OTP and terms; everything to every screen."""
        event = message.event
        if isinstance(event, OtpRequested):
            self.push_screen(OtpDialog(event.sim, event.msisdn), self._otp_answer(event.sim))
        elif isinstance(event, TermsPresented):
            dialog = TermsDialog(
                event.sim,
                event.title,
                event.message,
                accept=event.accept_button,
                reject=event.reject_button,
            )
            self.push_screen(dialog, self._terms_answer(event.sim))
        for screen in self.screen_stack:
            if isinstance(screen, HandsetScreen):
                screen.handset_event(event)

    def _otp_answer(self, slot: int) -> Callable[[object], None]:
        def answer(code: object) -> None:
            if isinstance(code, str):
                self.run_port(self.handset.submit_otp(slot, code), name="OTP")

        return answer

    def _terms_answer(self, slot: int) -> Callable[[object], None]:
        def answer(accepted: object) -> None:
            if isinstance(accepted, bool):
                self.run_port(self.handset.answer_terms(slot, accepted), name="terms")

        return answer

    # ------------------------------------------------------------------ work and errors

    def run_port(self, work: Coroutine[Any, Any, Any], *, name: str = "") -> Worker[Any]:
        """Run a port command as a worker; a failure opens the error dialog."""
        return self.run_worker(work, name=name, group="port", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one error handler of the app."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error)

    def show_error(self, error: BaseException) -> None:
        """Show ``error`` with its title and hint."""
        if isinstance(error, RcsTerminalError):
            dialog = ErrorDialog(error.title, error.message, error.hint)
        else:
            dialog = ErrorDialog(
                "Unexpected error",
                f"{type(error).__name__}: {error}",
                "This is a bug in rcs-terminal; the trace pane (F2) may tell more.",
            )
        self.push_screen(dialog)

    # ------------------------------------------------------------------ shared services

    async def get_bot_info(self, sim: int, uri: str) -> BotInfo | None:
        """The bot info of ``uri`` on ``sim``, fetched once and cached (``None`` cached too)."""
        key = (sim, uri)
        if key not in self.bot_infos:
            self.bot_infos[key] = await self.handset.bot_info(sim, uri)
        return self.bot_infos[key]

    def open_chat(self, conversation: Conversation, *, prefill: str | None = None) -> None:
        """Show ``conversation``."""
        self.push_screen(ChatScreen(conversation, prefill=prefill))

    def open_peer(
        self,
        sim: int,
        peer: str,
        *,
        name: str | None = None,
        chatbot: bool | None = None,
        prefill: str | None = None,
    ) -> None:
        """Show the conversation of ``sim`` with ``peer``, creating it if needed."""
        try:
            conversation = self.handset.store.conversation_for(
                sim, peer, display_name=name, is_chatbot=chatbot
            )
        except RcsTerminalError as exc:
            self.show_error(exc)
            return
        self.open_chat(conversation, prefill=prefill)

    def refresh_status(self) -> None:
        """Redraw the status bar of every screen."""
        for screen in self.screen_stack:
            if isinstance(screen, HandsetScreen):
                screen.refresh_status()

    # ------------------------------------------------------------------ actions

    def action_switch_sim(self) -> None:
        """Make the next enabled SIM the sending SIM."""
        slots = [sim.slot for sim in self.handset.profile.enabled_sims]
        if len(slots) < 2:
            self.notify("This handset has one SIM.")
            return
        current = self.handset.sending_sim
        index = slots.index(current) if current in slots else -1
        self.handset.sending_sim = slots[(index + 1) % len(slots)]
        self.refresh_status()
        status = self.handset.sim_status(self.handset.sending_sim)
        self.notify(
            f"New conversations are sent from SIM{status.slot} ({status.operator}).",
            markup=False,
        )

    def action_toggle_trace(self) -> None:
        """Show or hide the trace pane of the current screen."""
        screen = self.screen
        if isinstance(screen, HandsetScreen):
            screen.trace_pane.toggle()

    def action_help(self) -> None:
        """Show the key bindings."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
