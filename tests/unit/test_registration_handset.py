"""The Handset over in-memory flows: dual SIM at once, independence of the SIMs, slots."""

from __future__ import annotations

from typing import Any

import pytest
from test_sip_endpoint_support import FakeFlow, FakeNetwork, ManualTimer, MiniRegistrar, counter_ids

from rcs_terminal.clock import FakeClock
from rcs_terminal.domain.events import RegistrationChanged
from rcs_terminal.domain.profile import Profile, check_profile_data
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.handset import Handset
from rcs_terminal.engine.registration import RegistrationFailed
from rcs_terminal.errors import ProfileError
from rcs_terminal.protocol.sip.message import Request


def sim(slot: int, user: str, imei: str, password: str) -> str:
    return f"""
  - slot: {slot}
    imei: "{imei}"
    operator: {{name: Test, mcc: "460", mnc: "00"}}
    imsi: "46000123450001{slot}"
    msisdn: "+861380000001{slot}"
    auth: {{scheme: digest}}
    ims:
      pcscf: ["127.0.0.1:5060"]
      transport: tcp
      home_domain: rcs.test
      impi: {user}
      impu: ["sip:{user}@rcs.test"]
      auth: {{scheme: digest, username: {user}, password: {password}}}
"""


def dual(bob_password: str = "bobpw", extra: str = "") -> Profile:
    text = (
        "schema_version: 1\n"
        "device:\n  vendor: ZTE\n  model: S30\n  sw_version: MyOS11\n"
        '  os: {name: Android, version: "11"}\n'
        "  client: {vendor: ZTE, version: RCSAndrd-2.4}\n"
        "sims:"
        + sim(1, "alice", "860000000000371", "alicepw")
        + sim(2, "bob", "860000000000389", bob_password)
        + extra
    )
    return check_profile_data(text.encode(), file="dual.yaml").raise_for_errors()


class Core:
    """One MiniRegistrar per user, chosen by the From of each REGISTER."""

    def __init__(self) -> None:
        self.users = {
            "sip:alice@rcs.test": MiniRegistrar(password="alicepw"),
            "sip:bob@rcs.test": MiniRegistrar(password="bobpw"),
        }

    def __call__(self, request: Request, flow: FakeFlow) -> Any:
        return self.users[request.from_.uri](request, flow)


def handset(profile: Profile, bus: EventBus | None = None) -> tuple[Handset, FakeNetwork]:
    network = FakeNetwork(Core())
    options = {
        "clock": FakeClock().now,
        "new_id": counter_ids(),
        "opener": network.open,
        "timer_factory": ManualTimer,
    }
    return Handset(profile, bus=bus, endpoint_options=options), network


async def test_both_sims_register_independently() -> None:
    bus = EventBus()
    events: list[Any] = []
    bus.subscribe(events.append)
    phone, network = handset(dual(), bus)
    assert await phone.start() == {1: None, 2: None}
    one, two = phone.sims[1], phone.sims[2]
    assert one.is_registered and two.is_registered
    assert one.registration is not None and two.registration is not None
    assert one.registration.call_id != two.registration.call_id
    assert one.endpoint is not two.endpoint and len(network.flows) == 2
    assert {e.sim for e in events if isinstance(e, RegistrationChanged)} == {1, 2}
    assert phone.stack().slot == 1 and phone.stack(2) is two
    await phone.stop()
    assert not one.is_registered and all(flow.is_closed for flow in network.flows)


async def test_one_sim_failing_does_not_disturb_the_other() -> None:
    phone, _ = handset(dual(bob_password="wrong"))
    results = await phone.start()
    assert results[1] is None
    assert isinstance(results[2], RegistrationFailed) and results[2].status == 401
    assert phone.sims[2].error is results[2]
    assert phone.sims[1].is_registered
    await phone.stop()


async def test_slots_and_default_only() -> None:
    phone, _ = handset(dual(extra="messaging: {default_sim: 2, dual_rcs: default_only}\n"))
    assert phone.default_slots() == [2]
    assert await phone.start() == {2: None}
    with pytest.raises(ProfileError):
        phone.stack(1)
    await phone.stop()
    other, _ = handset(dual())
    assert await other.start([2]) == {2: None}
    assert list(other.sims) == [2]
    await other.stop()
