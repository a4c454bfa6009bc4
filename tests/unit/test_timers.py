from __future__ import annotations

import asyncio

from rcs_terminal.engine.timers import DeadlineTimer


class Machine:
    def __init__(self, deadlines: list[float]) -> None:
        self.deadlines = deadlines
        self.fired: list[float] = []
        self.done = asyncio.get_running_loop().create_future()

    def next_deadline(self) -> float | None:
        return self.deadlines[0] if self.deadlines else None

    def handle_timer(self, now: float) -> None:
        while self.deadlines and self.deadlines[0] <= now:
            self.fired.append(self.deadlines.pop(0))
        if not self.deadlines and not self.done.done():
            self.done.set_result(None)


async def test_timer_follows_deadlines_until_none() -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    m = Machine([t0 + 0.001, t0 + 0.002, t0 + 0.003])
    timer = DeadlineTimer(m.next_deadline, m.handle_timer)
    timer.rearm()
    await asyncio.wait_for(m.done, 5)
    assert len(m.fired) == 3
    assert timer._handle is None


async def test_cancel_stops_following() -> None:
    loop = asyncio.get_running_loop()
    m = Machine([loop.time() + 3600])
    timer = DeadlineTimer(m.next_deadline, m.handle_timer)
    timer.rearm()
    timer.rearm()  # same deadline: no new handle
    timer.cancel()
    assert timer._handle is None and m.fired == []
