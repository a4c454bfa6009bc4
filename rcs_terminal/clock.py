"""Time as a parameter.

The protocol core never reads the clock: every call that depends on time takes ``now`` (a
monotonic float, seconds). The engine passes ``loop.time()``; tests pass a :class:`FakeClock`
they advance by hand, so timer behaviour is tested without sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current monotonic time in seconds."""

    def now(self) -> float:
        """Return the current monotonic time in seconds."""
        ...


class MonotonicClock:
    """The real clock (``time.monotonic``)."""

    def now(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to; for deterministic tests."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds
        return self._now

    def set(self, now: float) -> None:
        """Jump to ``now`` (not before the current time)."""
        if now < self._now:
            raise ValueError("time only moves forward")
        self._now = now
