from __future__ import annotations

import asyncio

import pytest

from rcs_terminal.domain.events import RegistrationChanged
from rcs_terminal.engine.bus import EventBus


async def test_wait_for_matches_kind_and_predicate() -> None:
    bus = EventBus()
    waiter = asyncio.create_task(
        bus.wait_for(RegistrationChanged, lambda e: e.state == "registered", timeout=5))
    await asyncio.sleep(0)
    bus.publish(RegistrationChanged(sim=1, state="registering"))
    bus.publish(RegistrationChanged(sim=2, state="registered"))
    event = await waiter
    assert event.sim == 2


async def test_wait_for_times_out() -> None:
    with pytest.raises(TimeoutError):
        await EventBus().wait_for(RegistrationChanged, timeout=0.01)


async def test_stream_and_unsubscribe() -> None:
    bus = EventBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(lambda e: seen.append(e.sim))
    stream = bus.stream()
    nxt = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    bus.publish(RegistrationChanged(sim=1, state="registering"))
    assert (await nxt).sim == 1
    unsubscribe()
    bus.publish(RegistrationChanged(sim=2, state="registering"))
    assert seen == [1]
    await stream.aclose()
