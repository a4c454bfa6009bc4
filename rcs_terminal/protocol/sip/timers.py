"""SIP transaction timers as deadlines: the values of RFC 3261 Table 4 and one shared heap.

The protocol core never sleeps and never reads a clock. A transaction that wants to be woken
up *arms* a timer: it records a deadline (``now + duration``) in a :class:`TimerHeap` that is
shared by every transaction of one SIP endpoint. The engine asks the heap owner (the
:class:`~rcs_terminal.protocol.sip.transaction_layer.TransactionLayer`) for
``next_deadline()``, arms exactly one asyncio timer for that instant, and calls
``handle_timer(now)`` when it fires (the aioquic pattern).

Why a heap with lazy cancellation: a handset emulator runs thousands of endpoints in one
process, most of them idle. An idle endpoint owns an empty list and costs nothing; a busy one
pays ``O(log n)`` per armed timer. Cancelling a timer only forgets its token; the stale entry
is skipped when it reaches the top, and the heap is rebuilt when stale entries outnumber live
ones, so memory stays proportional to the live timers.

Timer values (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2, Table 4; RFC 6026 §8.4 and
§8.7 for Timers L and M). ``T1``/``T2``/``T4`` may be overridden by the provisioning
document (``Timer_T1``/``Timer_T2``/``Timer_T4``, in milliseconds; see
:meth:`TimerConfig.from_milliseconds`).
"""

from __future__ import annotations

import enum
import heapq
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["TimerConfig", "TimerHeap", "TimerName"]

_Payload = TypeVar("_Payload")


class TimerName(enum.Enum):
    """The timers a transaction can arm (RFC 3261 Table 4, RFC 6026, two UA-core timers)."""

    A = "A"
    """INVITE request retransmission (client, unreliable transports only)."""
    B = "B"
    """INVITE transaction timeout (client, Calling state)."""
    D = "D"
    """Wait time for response retransmissions (INVITE client, Completed state)."""
    E = "E"
    """Non-INVITE request retransmission (client, unreliable transports only)."""
    F = "F"
    """Non-INVITE transaction timeout (client)."""
    G = "G"
    """INVITE final response retransmission (server, unreliable transports only)."""
    H = "H"
    """Wait time for the ACK of a non-2xx final response (INVITE server)."""
    I = "I"  # noqa: E741 - the RFC's name
    """Wait time for ACK retransmissions (INVITE server, Confirmed state)."""
    J = "J"
    """Wait time for non-INVITE request retransmissions (server, Completed state)."""
    K = "K"
    """Wait time for response retransmissions (non-INVITE client, Completed state)."""
    L = "L"
    """Wait time for INVITE retransmissions after a 2xx (server, Accepted state; RFC 6026)."""
    M = "M"
    """Wait time for more 2xx responses (INVITE client, Accepted state; RFC 6026)."""
    RETRANSMIT_2XX = "2xx"
    """UAS core: retransmit the 2xx to an INVITE until its ACK arrives (RFC 3261 §13.3.1.4)."""
    CANCEL_WAIT = "cancel"
    """UAC core: give up on an INVITE 64*T1 after cancelling it (RFC 3261 §9.1)."""


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """The base timer values of RFC 3261 §17 (seconds).

    Attributes:
        t1: the round-trip time estimate (default 500 ms). Every retransmission starts at T1
            and every transaction timeout is ``64 * T1``.
        t2: the longest retransmission interval for non-INVITE requests and INVITE
            responses (default 4 s).
        t4: how long a message may stay in the network (default 5 s): Timers I and K.
        timer_d: Timer D over unreliable transports; at least 32 s per Table 4.
    """

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    timer_d: float = 32.0

    def __post_init__(self) -> None:
        if not self.t1 > 0:
            raise ValueError(f"T1 must be positive, not {self.t1!r}")
        if not self.t2 >= self.t1:
            raise ValueError(f"T2 ({self.t2!r}) must not be shorter than T1 ({self.t1!r})")
        if not self.t4 >= 0:
            raise ValueError(f"T4 must not be negative, not {self.t4!r}")
        if not self.timer_d >= 0:
            raise ValueError(f"Timer D must not be negative, not {self.timer_d!r}")

    @classmethod
    def from_milliseconds(
        cls, t1: int | None = None, t2: int | None = None, t4: int | None = None
    ) -> TimerConfig:
        """Build a config from the millisecond values of a provisioning document.

        Args:
            t1: ``Timer_T1`` in ms, or None for the default.
            t2: ``Timer_T2`` in ms, or None for the default.
            t4: ``Timer_T4`` in ms, or None for the default.

        Returns:
            The config; Timer D keeps its default unless ``64 * T1`` is longer.

        Raises:
            ValueError: a value is out of range (T1 not positive, T2 shorter than T1).
        """
        default = cls()
        t1_s = default.t1 if t1 is None else t1 / 1000
        return cls(
            t1=t1_s,
            t2=default.t2 if t2 is None else t2 / 1000,
            t4=default.t4 if t4 is None else t4 / 1000,
            timer_d=max(default.timer_d, 64 * t1_s),
        )

    @property
    def timeout(self) -> float:
        """``64 * T1``: Timers B, F, H, L, M and J (unreliable), and the §9.1 CANCEL wait."""
        return 64 * self.t1


class TimerHeap(Generic[_Payload]):
    """Deadlines of one endpoint's timers, earliest first, with lazy cancellation.

    :meth:`schedule` returns a token; :meth:`cancel` forgets it. :meth:`pop_due` returns the
    payload of the earliest live timer whose deadline has passed. Ties keep their scheduling
    order, so timers armed in one step fire in the order they were armed.
    """

    __slots__ = ("_heap", "_live", "_next_token")

    _COMPACT_MIN = 64

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Payload]] = []
        self._live: set[int] = set()
        self._next_token = 0

    def __len__(self) -> int:
        """The number of live (armed, not cancelled, not fired) timers."""
        return len(self._live)

    def schedule(self, deadline: float, payload: _Payload) -> int:
        """Arm a timer.

        Args:
            deadline: when it fires (the caller's ``now`` plus the duration).
            payload: what :meth:`pop_due` returns when it fires.

        Returns:
            A token for :meth:`cancel`.
        """
        token = self._next_token
        self._next_token += 1
        heapq.heappush(self._heap, (deadline, token, payload))
        self._live.add(token)
        return token

    def cancel(self, token: int) -> None:
        """Disarm a timer; unknown or already fired tokens are ignored."""
        self._live.discard(token)
        heap = self._heap
        if len(heap) > self._COMPACT_MIN and len(heap) > 2 * len(self._live):
            live = self._live
            self._heap = [entry for entry in heap if entry[1] in live]
            heapq.heapify(self._heap)

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None when nothing is armed."""
        heap = self._heap
        live = self._live
        while heap and heap[0][1] not in live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> _Payload | None:
        """Remove and return the earliest live timer due at ``now``, or None if none is due."""
        deadline = self.next_deadline()
        if deadline is None or deadline > now:
            return None
        _, token, payload = heapq.heappop(self._heap)
        self._live.discard(token)
        return payload
