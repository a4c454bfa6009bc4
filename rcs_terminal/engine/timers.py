"""Arming the protocol core's deadlines on the event loop.

Sans-I/O objects (transaction layers, MSRP sessions, provisioning flows) expose
``next_deadline() -> float | None`` and ``handle_timer(now)``. A :class:`DeadlineTimer` keeps
exactly one ``loop.call_at`` handle per such object and re-arms it after every interaction, in
the aioquic way: an idle object costs no task and at most one timer handle, which is what lets
thousands of registered SIMs share one loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class DeadlineTimer:
    """One timer handle following an object's next deadline.

    Args:
        next_deadline: returns the earliest deadline (loop time) or None.
        on_expiry: called with ``now`` when the deadline passes; it should call the object's
            ``handle_timer(now)`` and process the results.
    """

    def __init__(
        self,
        next_deadline: Callable[[], float | None],
        on_expiry: Callable[[float], None],
    ) -> None:
        self._next_deadline = next_deadline
        self._on_expiry = on_expiry
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._loop = asyncio.get_running_loop()

    def rearm(self) -> None:
        """Follow the object's current next deadline (call after every interaction)."""
        deadline = self._next_deadline()
        if deadline == self._armed_for and self._handle is not None:
            return
        self.cancel()
        if deadline is not None:
            self._armed_for = deadline
            self._handle = self._loop.call_at(deadline, self._fire)

    def cancel(self) -> None:
        """Stop following (on close)."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_for = None

    def _fire(self) -> None:
        self._handle = None
        self._armed_for = None
        self._on_expiry(self._loop.time())
        self.rearm()
