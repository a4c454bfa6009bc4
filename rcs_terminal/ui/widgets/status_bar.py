"""The status bar: every SIM with its operator and state, and which SIM sends.

Like a dual-SIM phone's status line: ``▶SIM1 China Mobile ● registered │ SIM2 China Telecom
✗ failed: 403 Forbidden``. The sending SIM carries the ``▶`` mark. The bar only draws
:class:`~rcs_terminal.ui.port.SimStatus` values handed to it (:meth:`StatusBar.show`); the
screens refresh it when a ``ProvisioningChanged`` or ``RegistrationChanged`` event arrives
or the user switches the sending SIM.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from rcs_terminal.ui.format import sim_name, sim_state
from rcs_terminal.ui.port import SimStatus


class StatusBar(Static):
    """Per-SIM operator and registration state (see the module docstring)."""

    DEFAULT_CSS = """
    StatusBar {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("", id=id)
        self.sims: tuple[SimStatus, ...] = ()
        self.sending_sim: int | None = None

    def show(self, sims: Sequence[SimStatus], sending_sim: int) -> None:
        """Draw ``sims``, marking ``sending_sim``."""
        self.sims = tuple(sims)
        self.sending_sim = sending_sim
        self.update(self.text())

    def text(self) -> Text:
        """The bar's content."""
        line = Text(end="")
        for index, status in enumerate(self.sims):
            if index:
                line.append(" \u2502 ", style="dim")
            sending = status.slot == self.sending_sim
            line.append("\u25b6" if sending else " ", style="bold cyan" if sending else "")
            line.append(sim_name(status), style="bold" if sending else "")
            line.append(" ")
            line.append_text(sim_state(status))
        return line
