"""The protocol trace pane: every SIP, MSRP, HTTP and SMS message, filterable, in full.

The pane lists the records of the handset's
:class:`~rcs_terminal.engine.trace.TraceRecorder` (secrets are masked by the recorder
before anything is stored) with their time, SIM, direction, protocol and first line, and
shows the selected record in full. ``p`` cycles the protocol filter (all, SIP, MSRP, HTTP,
SMS), ``s`` the SIM filter (all, 1, 2); the filter line can also be clicked.

While open, the pane subscribes to the recorder. Records can arrive in bursts (a
registration, a chatbot's reply), so each one is queued and a single :class:`TraceFlush`
message, which replaces any flush still waiting (Textual's ``can_replace``), adds them all
to the table at once. Record text comes from the network: it is sanitised (escape
sequences made visible) and drawn as ``rich.text.Text``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar, Literal, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Static

from rcs_terminal.engine.trace import Protocol, TraceRecord, TraceRecorder
from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.format import trace_time

PROTOCOLS: tuple[Protocol | None, ...] = (None, "SIP", "MSRP", "HTTP", "SMS")
"""The protocol filter's choices, in cycling order (``None``: all)."""

_NARROW = 110
"""Below this width the detail goes under the table rather than beside it."""


class TraceFlush(Message):
    """New records are waiting (coalesced: one flush stands for any number)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TraceFlush)


class FilterLine(Static):
    """The clickable filter line of the trace pane."""

    def __init__(self, pane: TracePane) -> None:
        super().__init__(classes="trace--filters")
        self._pane = pane

    def draw(self, protocol: Protocol | None, sim: int | None, sims: tuple[int, ...]) -> None:
        """Show the current filter; the choices are links (``@click``)."""
        parts = ["[b]Trace[/b]  protocol:"]
        for choice in PROTOCOLS:
            name = choice or "all"
            label = f"[reverse]{name}[/reverse]" if choice == protocol else name
            parts.append(f"[@click=set_protocol('{name}')]{label}[/]")
        parts.append("  SIM:")
        for slot in (None, *sims):
            slot_name = "all" if slot is None else str(slot)
            label = f"[reverse]{slot_name}[/reverse]" if slot == sim else slot_name
            parts.append(f"[@click=set_sim('{slot_name}')]{label}[/]")
        parts.append("  [dim](p / s)[/dim]")
        self.update(" ".join(parts))

    def action_set_protocol(self, name: str) -> None:
        """A protocol was clicked."""
        self._pane.set_filter(protocol=None if name == "all" else cast(Protocol, name))

    def action_set_sim(self, name: str) -> None:
        """A SIM was clicked."""
        self._pane.set_filter(sim=None if name == "all" else int(name))


class TracePane(Vertical):
    """The trace pane (hidden until :meth:`open`; see the module docstring).

    Args:
        trace: the handset's trace recorder.
        sims: the SIM slots of the handset (filter choices).
        tz: the time zone of record times (local when ``None``).
    """

    DEFAULT_CSS = """
    TracePane {
        display: none;
        height: 55%;
        min-height: 8;
        border-top: heavy $accent;
        background: $surface;
    }
    TracePane.-open {
        display: block;
    }
    TracePane > .trace--filters {
        height: 1;
        padding: 0 1;
    }
    TracePane > Horizontal {
        height: 1fr;
    }
    TracePane.-narrow > Horizontal {
        layout: vertical;
    }
    TracePane DataTable {
        width: 1fr;
        height: 1fr;
    }
    TracePane .trace--detail {
        width: 1fr;
        height: 1fr;
        border-left: solid $panel-lighten-2;
        padding: 0 1;
    }
    TracePane.-narrow .trace--detail {
        border-left: none;
        border-top: solid $panel-lighten-2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "cycle_protocol", "Protocol filter"),
        Binding("s", "cycle_sim", "SIM filter"),
    ]

    def __init__(
        self,
        trace: TraceRecorder,
        *,
        sims: tuple[int, ...] = (1, 2),
        tz: dt.tzinfo | None = None,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
    ) -> None:
        super().__init__(id=id)
        self.trace = trace
        self.sims = sims
        self.tz = tz
        self.protocol: Protocol | None = None
        self.sim: int | None = None
        self._pending: list[TraceRecord] = []
        self._shown: dict[int, TraceRecord] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        """Filter line, table and detail."""
        yield FilterLine(self)
        with Horizontal():
            table: DataTable[Text | str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("#", "time", "SIM", "", "proto", "message")
            yield table
            with VerticalScroll(classes="trace--detail"):
                yield Static(Text("Select a record to see it in full.", style="dim"), id="detail")

    @property
    def is_open(self) -> bool:
        """Whether the pane is shown."""
        return self.has_class("-open")

    @property
    def records(self) -> list[TraceRecord]:
        """The records in the table, in order."""
        return list(self._shown.values())

    def open(self) -> None:
        """Show the pane and follow the recorder."""
        if self.is_open:
            return
        self.add_class("-open")
        self._unsubscribe = self.trace.subscribe(self._queue)
        self._reload()
        self.query_one(DataTable).focus()

    def close(self) -> None:
        """Hide the pane and stop following the recorder."""
        self.remove_class("-open")
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def toggle(self) -> None:
        """Open or close the pane."""
        if self.is_open:
            self.close()
        else:
            self.open()

    def on_unmount(self) -> None:
        """Stop following the recorder."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def set_filter(
        self,
        *,
        protocol: Protocol | Literal["keep"] | None = "keep",
        sim: int | Literal["keep"] | None = "keep",
    ) -> None:
        """Change the protocol and/or SIM filter (``"keep"`` keeps the current value)."""
        if protocol != "keep":
            self.protocol = protocol
        if sim != "keep":
            self.sim = sim
        self._reload()

    def action_cycle_protocol(self) -> None:
        """Next protocol filter."""
        index = PROTOCOLS.index(self.protocol)
        self.set_filter(protocol=PROTOCOLS[(index + 1) % len(PROTOCOLS)])

    def action_cycle_sim(self) -> None:
        """Next SIM filter."""
        choices: tuple[int | None, ...] = (None, *self.sims)
        index = choices.index(self.sim) if self.sim in choices else 0
        self.set_filter(sim=choices[(index + 1) % len(choices)])

    def _matches(self, record: TraceRecord) -> bool:
        return (self.protocol is None or record.protocol == self.protocol) and (
            self.sim is None or record.sim == self.sim
        )

    def _reload(self) -> None:
        self.query_one(FilterLine).draw(self.protocol, self.sim, self.sims)
        table = self.query_one(DataTable)
        table.clear()
        self._shown.clear()
        self._pending.clear()
        self._add(self.trace.records(protocol=self.protocol, sim=self.sim))

    def _queue(self, record: TraceRecord) -> None:
        self._pending.append(record)
        self.post_message(TraceFlush())

    def on_trace_flush(self, message: TraceFlush) -> None:
        """Add the queued records."""
        message.stop()
        pending, self._pending = self._pending, []
        self._add([r for r in pending if self._matches(r)])

    def _add(self, records: list[TraceRecord]) -> None:
        if not records:
            return
        table = self.query_one(DataTable)
        follow = table.cursor_row >= table.row_count - 1
        for record in records:
            if record.seq in self._shown:
                continue
            self._shown[record.seq] = record
            arrow = (
                Text("\u2192", style="cyan")
                if record.direction == "out"
                else Text("\u2190", style="green")
            )
            table.add_row(
                str(record.seq),
                trace_time(record.time, self.tz),
                "-" if record.sim is None else str(record.sim),
                arrow,
                record.protocol,
                Text(sanitize(record.first_line, max_length=120), no_wrap=True),
                key=str(record.seq),
            )
        if follow:
            table.move_cursor(row=table.row_count - 1, animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted record in full."""
        event.stop()
        key = event.row_key.value
        record = self._shown.get(int(key)) if key is not None else None
        if record is not None:
            self.query_one("#detail", Static).update(self.detail(record))

    def detail(self, record: TraceRecord) -> Text:
        """The full, sanitised text of ``record`` under a header line."""
        arrow = "\u2192" if record.direction == "out" else "\u2190"
        remote = sanitize(record.remote, max_length=60)
        transport = sanitize(record.transport, max_length=10)
        head = f"#{record.seq} {record.protocol} {record.direction} {arrow} {remote} ({transport})"
        if record.sim is not None:
            head += f" SIM{record.sim}"
        text = Text(head + "\n", style="bold")
        text.append(sanitize(record.text, multiline=True))
        return text

    def on_resize(self, event: Resize) -> None:
        """Stack the detail under the table on narrow terminals."""
        self.set_class(event.size.width < _NARROW, "-narrow")
