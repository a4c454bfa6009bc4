"""The protocol trace: every SIP, MSRP, HTTP and SMS message in and out.

One :class:`TraceRecorder` is shared by a handset's services (or by the whole lab). Each
message becomes a :class:`TraceRecord` with its time, direction, protocol, transport, the two
addresses and the SIM it belongs to; the raw bytes are masked (:mod:`.masking`) *before* they
are stored, so nothing downstream (the TUI's trace pane, ``--trace FILE`` JSON lines, scenario
reports) can leak a secret. Records live in a bounded ring buffer; subscribers (the TUI, the
scenario runner, a JSON-lines file) are called synchronously for each new record.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from rcs_terminal.engine.masking import mask

Direction = Literal["in", "out"]
Protocol = Literal["SIP", "MSRP", "HTTP", "SMS"]


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One message as it crossed the wire (secrets already masked)."""

    seq: int
    time: float
    direction: Direction
    protocol: Protocol
    transport: str
    local: str
    remote: str
    data: bytes = field(repr=False)
    sim: int | None = None
    owner: str | None = None

    @property
    def first_line(self) -> str:
        """The start line (request line or status line), for lists and filters."""
        return self.data.split(b"\r\n", 1)[0].split(b"\n", 1)[0].decode("utf-8", "replace")

    @property
    def text(self) -> str:
        """The whole message as text (undecodable bytes replaced)."""
        return self.data.decode("utf-8", "replace")

    def to_json(self) -> dict[str, object]:
        """A JSON-able dict (the ``--trace FILE`` line format)."""
        return {
            "seq": self.seq,
            "time": round(self.time, 6),
            "direction": self.direction,
            "protocol": self.protocol,
            "transport": self.transport,
            "local": self.local,
            "remote": self.remote,
            "sim": self.sim,
            "owner": self.owner,
            "first_line": self.first_line,
            "data": self.text,
        }


Subscriber = Callable[[TraceRecord], None]


class TraceRecorder:
    """Collects :class:`TraceRecord` objects and hands them to subscribers.

    Args:
        capacity: how many records the ring buffer keeps.
        clock: wall-clock source for the records' times (injectable for tests).
    """

    def __init__(self, capacity: int = 20_000, *, clock: Callable[[], float] = time.time) -> None:
        self._records: deque[TraceRecord] = deque(maxlen=capacity)
        self._subscribers: list[Subscriber] = []
        self._clock = clock
        self._seq = 0
        self._files: list[IO[str]] = []

    def record(
        self,
        direction: Direction,
        protocol: Protocol,
        data: bytes,
        *,
        transport: str,
        local: str,
        remote: str,
        sim: int | None = None,
        owner: str | None = None,
    ) -> TraceRecord:
        """Mask and store one message, then notify subscribers."""
        self._seq += 1
        rec = TraceRecord(
            seq=self._seq,
            time=self._clock(),
            direction=direction,
            protocol=protocol,
            transport=transport,
            local=local,
            remote=remote,
            data=mask(bytes(data)),
            sim=sim,
            owner=owner,
        )
        self._records.append(rec)
        for sub in list(self._subscribers):
            sub(rec)
        return rec

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` for every new record; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def records(
        self, *, protocol: Protocol | None = None, sim: int | None = None
    ) -> list[TraceRecord]:
        """The stored records, optionally filtered by protocol and SIM."""
        return [
            r
            for r in self._records
            if (protocol is None or r.protocol == protocol) and (sim is None or r.sim == sim)
        ]

    def write_jsonl(self, path: str | Path) -> None:
        """Stream records to ``path`` as JSON lines (existing ones first, then new ones)."""
        fh = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._files.append(fh)
        for rec in self._records:
            fh.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
        fh.flush()

        def write(rec: TraceRecord) -> None:
            fh.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
            fh.flush()

        self.subscribe(write)

    def close(self) -> None:
        """Close any JSON-lines files."""
        for fh in self._files:
            fh.close()
        self._files.clear()
