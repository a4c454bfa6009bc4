"""What the conversation list and the chat have in common: status bar, trace pane, footer.

Every full screen of the app is a :class:`HandsetScreen`: the status bar on top, the
screen's own body (:meth:`HandsetScreen.compose_body`), the trace pane that F2 toggles, and
the footer of key bindings. The app hands each domain event to every such screen in its
stack (:meth:`HandsetScreen.handset_event`), so a screen below a dialog is up to date when
the dialog closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from rcs_terminal.domain.events import Event, ProvisioningChanged, RegistrationChanged
from rcs_terminal.ui.port import HandsetPort
from rcs_terminal.ui.widgets.status_bar import StatusBar
from rcs_terminal.ui.widgets.trace_pane import TracePane

if TYPE_CHECKING:
    from rcs_terminal.ui.app import RcsTerminalApp


class HandsetScreen(Screen[None]):
    """A full screen of the app (see the module docstring)."""

    @property
    def rcs_app(self) -> RcsTerminalApp:
        """The app, typed."""
        return cast("RcsTerminalApp", self.app)

    @property
    def handset(self) -> HandsetPort:
        """The handset behind the port."""
        return self.rcs_app.handset

    def compose(self) -> ComposeResult:
        """Status bar, body, trace pane, footer."""
        yield StatusBar()
        yield from self.compose_body()
        sims = tuple(sim.slot for sim in self.handset.profile.sims)
        yield TracePane(self.handset.trace, sims=sims, tz=self.rcs_app.tz)
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        """Draw the status bar."""
        self.refresh_status()

    def on_screen_resume(self) -> None:
        """Redraw the status bar (the sending SIM may have changed meanwhile)."""
        self.refresh_status()

    def refresh_status(self) -> None:
        """Redraw the status bar from the handset's SIM states."""
        handset = self.handset
        sims = [handset.sim_status(sim.slot) for sim in handset.profile.sims]
        self.query_one(StatusBar).show(sims, handset.sending_sim)

    @property
    def trace_pane(self) -> TracePane:
        """The screen's trace pane."""
        return self.query_one(TracePane)

    def handset_event(self, event: Event) -> None:
        """React to a domain event (subclasses extend this)."""
        if isinstance(event, ProvisioningChanged | RegistrationChanged):
            self.refresh_status()
