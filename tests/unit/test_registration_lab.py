"""A whole handset against the bundled lab on loopback: RCC.14 provisioning, then IMS AKA
registration with the lab registrar (lab-alice) and digest (lab-bob), OPTIONS between them,
and the reg events the lab network sends (shortened, deactivated, rejected)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rcs_terminal.domain.events import RegistrationChanged
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.handset import Handset
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.usim_store import UsimStore

lab_module = pytest.importorskip("rcs_terminal.lab.lab")


@pytest.fixture
async def lab() -> AsyncIterator[object]:
    network = lab_module.Lab()
    await network.start()
    try:
        yield network
    finally:
        await network.stop()


async def next_state(events: asyncio.Queue[RegistrationChanged], state: str) -> RegistrationChanged:
    """The next event with ``state`` (others in between are skipped)."""
    while True:
        event = await asyncio.wait_for(events.get(), 10)
        if event.state == state:
            return event


async def started(name: str, info: LabInfo, bus: EventBus | None = None) -> Handset:
    handset = Handset(load_profile(name), lab=info, trace=TraceRecorder(), bus=bus)
    assert await handset.start() == {1: None}
    return handset


async def test_provision_then_register_with_aka_and_exchange_options(lab: object) -> None:
    info = lab.info  # type: ignore[attr-defined]
    alice = await started("lab-alice", info)
    bob = await started("lab-bob", info)
    try:
        stack = alice.stack()
        assert stack.params is not None and stack.params.is_aka
        assert stack.provisioning is not None
        reg = stack.registration
        assert reg is not None and reg.state == "registered"
        assert reg.service_route and reg.associated_uris
        assert reg.default_impu.startswith("sip:+86")
        assert reg.reg_event.state == "active"
        registers = [
            r for r in alice.trace.records(protocol="SIP") if r.first_line.startswith("REGISTER")
        ]
        assert "algorithm=AKAv1-MD5" in registers[0].text and 'nonce=""' in registers[0].text
        assert UsimStore(stack.params.imsi).load() is not None  # the accepted SQN was kept
        assert not bob.stack().params.is_aka  # type: ignore[union-attr]

        service = alice.stack().capabilities
        assert service is not None
        bob_reg = bob.stack().registration
        assert bob_reg is not None
        for target in bob_reg.associated_uris:
            result = await service.query(target, force=True)
            assert result.status == 200 and result.rcs and "standalone" in result.services
    finally:
        await alice.stop()
        await bob.stop()
    assert lab.registrar.bindings_of(reg.params.impi) == []  # type: ignore[attr-defined]


async def test_network_reg_events(lab: object) -> None:
    bus = EventBus()
    events: asyncio.Queue[RegistrationChanged] = asyncio.Queue()
    bus.subscribe(lambda e: events.put_nowait(e) if isinstance(e, RegistrationChanged) else None)
    alice = await started("lab-alice", lab.info, bus)  # type: ignore[attr-defined]
    registrar = lab.registrar  # type: ignore[attr-defined]
    reg = alice.stack().registration
    assert reg is not None
    try:
        while not events.empty():
            events.get_nowait()
        registrar.shorten(reg.params.impi, 120)
        shortened = await next_state(events, "registered")
        assert shortened.state == "registered" and shortened.expires == 120
        assert reg.next_register_at is not None
        assert reg.next_register_at - reg.endpoint.now() <= 60

        registrar.deactivate(reg.params.impi)
        await next_state(events, "registering")
        await next_state(events, "registered")
        assert registrar.bindings_of(reg.params.impi)

        registrar.reject(reg.params.impi)
        rejected = await next_state(events, "failed")
        assert (rejected.state, rejected.status) == ("failed", 403)
    finally:
        await alice.stop()
