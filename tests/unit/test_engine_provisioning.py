"""The provisioning service against the lab config server, over real HTTP and HTTPS.

Every status path and version value is produced with the lab's fault switches; waits run
on a fake clock (the service's ``sleep`` advances it), so nothing here waits for real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from rcs_terminal.domain.events import (
    Event,
    OtpRequested,
    ProvisioningChanged,
    TermsPresented,
)
from rcs_terminal.domain.profile import Profile, load_profile
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.provisioning import ProvisioningService
from rcs_terminal.engine.provisioning_store import ProvisioningStore
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import ProvisioningError
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.subscribers import SubscriberDirectory, default_directory
from rcs_terminal.protocol.provisioning import RetryPolicy

POLICY = RetryPolicy(max_retries=3, max_511=2, otp_timeout=60.0)


@cache
def directory() -> SubscriberDirectory:
    return default_directory()


@cache
def demo() -> Profile:
    return load_profile("demo")


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    network = Lab(directory=directory())
    await network.start()
    yield network
    await network.stop()


class FakeTime:
    """Unix time that moves only when the service sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Harness:
    """One trace, bus and fake clock shared by the services a test runs."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.trace = TraceRecorder()
        self.bus = EventBus()
        self.time = FakeTime()
        self.events: list[Event] = []
        self.bus.subscribe(self.events.append)

    def service(
        self, slot: int = 1, profile: Profile | None = None, **options: object
    ) -> ProvisioningService:
        chosen = profile or demo()
        return ProvisioningService(
            chosen,
            chosen.sim(slot),
            trace=self.trace,
            bus=self.bus,
            lab=self.lab.info,
            policy=POLICY,
            clock=self.time.clock,
            sleep=self.time.sleep,
            **options,  # type: ignore[arg-type]
        )

    def requests(self, slot: int | None = None) -> list[str]:
        return [
            r.first_line
            for r in self.trace.records(protocol="HTTP", sim=slot)
            if r.direction == "out"
        ]

    def states(self, slot: int = 1) -> list[str]:
        return [
            e.state for e in self.events if isinstance(e, ProvisioningChanged) and e.sim == slot
        ]


@pytest.fixture
def harness(lab: Lab) -> Harness:
    return Harness(lab)


IMSI1, IMSI2 = "460001234500001", "460111234500002"


# ----------------------------------------------------------------------------- happy paths


async def test_dual_sim_demo_provisions_both_sims_independently(harness: Harness) -> None:
    harness.lab.config_server.set_version(IMSI2, 7)
    one, two = await asyncio.gather(harness.service(1).run(), harness.service(2).run())
    assert (one.sim, one.imsi, one.version) == (1, IMSI1, 1)
    assert (two.sim, two.imsi, two.version) == (2, IMSI2, 7)
    assert one.to_json()["auth_type"] == "AKA" and two.to_json()["auth_type"] == "Digest"
    first, second = ProvisioningStore(IMSI1).load(), ProvisioningStore(IMSI2).load()
    assert first is not None and second is not None
    assert first.token and second.token and first.token != second.token
    assert (first.version, second.version) == (1, 7)
    assert harness.states(1) == ["provisioning", "provisioned"] == harness.states(2)
    assert all("IMSI=" + IMSI1 in line for line in harness.requests(1) if "?" in line)


async def test_cached_configuration_is_used_without_a_request(harness: Harness) -> None:
    await harness.service().run()
    before = len(harness.trace)
    cached = await harness.service().run()
    assert cached.from_cache and cached.reason == "cached configuration" and cached.version == 1
    assert len(harness.trace) == before
    forced = await harness.service(force=True).run()
    assert not forced.from_cache
    assert "vers=0&" in harness.requests()[-1]


async def test_expired_configuration_is_refreshed_with_its_version(harness: Harness) -> None:
    await harness.service().run()
    harness.time.now += 86400 + 1
    same = await harness.service().run()
    assert same.version == 1 and not same.from_cache and same.config is not None
    assert same.config.ims is not None  # kept from the stored document
    assert "vers=1&" in harness.requests()[-1]
    harness.lab.config_server.set_version(IMSI1, 2)
    harness.time.now += 86400 + 1
    assert (await harness.service().run()).version == 2


async def test_https_false_keeps_both_steps_on_http(harness: Harness, tmp_path: Path) -> None:
    text = Path(demo().source or "").read_text(encoding="utf-8")
    text = text.replace("{url: lab, verify_tls: false}", "{url: lab, https: false}", 1)
    path = tmp_path / "plain.yaml"
    path.write_text(text, encoding="utf-8")
    result = await harness.service(profile=load_profile(str(path))).run()
    assert result.version == 1
    assert {r.transport for r in harness.trace.records(protocol="HTTP")} == {"http"}


async def test_tls_is_verified_with_the_lab_ca(harness: Harness, tmp_path: Path) -> None:
    text = Path(demo().source or "").read_text(encoding="utf-8")
    path = tmp_path / "verified.yaml"
    path.write_text(text.replace("verify_tls: false", "verify_tls: true"), encoding="utf-8")
    result = await harness.service(profile=load_profile(str(path))).run()
    assert result.version == 1
    assert "https" in {r.transport for r in harness.trace.records(protocol="HTTP")}


# ----------------------------------------------------------------------------- OTP


async def test_otp_end_to_end_through_the_sms_centre(harness: Harness) -> None:
    harness.lab.config_server.set_fault("otp", once=1)
    result = await harness.service(2).run()
    assert result.version == 1
    assert harness.states(2) == ["provisioning", "waiting-otp", "provisioned"]
    assert [e for e in harness.events if isinstance(e, OtpRequested)] == [
        OtpRequested(2, "+8618900000002")
    ]
    (sms,) = harness.lab.smsc.messages("+8618900000002")
    assert any("OTP=***" in line for line in harness.requests(2))
    (received,) = harness.trace.records(protocol="SMS")
    assert received.text.endswith("***")
    stored = ProvisioningStore(IMSI2).load()
    assert stored is not None and stored.token
    sub = directory().by_imsi(IMSI2)
    assert sub is not None and sub.password
    secrets = [
        sms.text,
        stored.token,
        sub.password,
        harness.lab.config_server.ft_password(IMSI2),
    ]
    for record in [*harness.trace, *harness.lab.trace]:
        for secret in secrets:
            assert secret.encode() not in record.data, (record.first_line, secret[:2])


async def test_token_reuse_skips_the_otp_off_cellular(harness: Harness) -> None:
    await harness.service().run()
    harness.lab.config_server.set_fault("503", retry_after=0, once=1)  # nothing else changes
    harness.time.now += 86400 + 1
    await harness.service().run()
    assert harness.lab.smsc.messages("+8613800000001") == []


async def test_wrong_otp_given_up_front_is_refused(harness: Harness) -> None:
    harness.lab.config_server.set_fault("otp")
    with pytest.raises(ProvisioningError, match="403"):
        await harness.service(otp="000000x").run()
    assert harness.states()[-1] == "failed"


async def test_no_otp_sms_in_time_gives_up(harness: Harness) -> None:
    harness.lab.config_server.set_fault("otp")
    sub = directory().by_imsi(IMSI1)
    assert sub is not None
    original, sub.msisdn = sub.msisdn, "+8613800009999"  # the SMS goes elsewhere
    try:
        with pytest.raises(ProvisioningError, match="no OTP SMS arrived"):
            await harness.service(max_wait=0.2).run()
    finally:
        sub.msisdn = original


# ----------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("kind", "options", "slept"),
    [
        ("503", {"retry_after": 1}, [1.0]),
        ("511", {}, [5.0]),
        ("500", {}, [5.0]),
        ("drop", {"once": 3}, None),
    ],
)
async def test_transient_refusals_are_retried(
    harness: Harness, kind: str, options: dict[str, Any], slept: list[float] | None
) -> None:
    harness.lab.config_server.set_fault(kind, **{"once": 1, **options})
    result = await harness.service().run()
    assert result.version == 1
    if slept is not None:
        assert harness.time.slept == slept
    else:
        assert harness.time.slept  # a back-off after no answer
    assert harness.states()[-1] == "provisioned"


async def test_503_longer_than_max_wait_gives_up_clearly(harness: Harness) -> None:
    harness.lab.config_server.set_fault("503", retry_after=120)
    with pytest.raises(ProvisioningError, match="120 s, beyond the 60 s") as caught:
        await harness.service().run()
    assert "--max-wait" in (caught.value.hint or "") and harness.time.slept == []


async def test_persistent_500_exhausts_the_retries(harness: Harness) -> None:
    harness.lab.config_server.set_fault("500")
    with pytest.raises(ProvisioningError, match="HTTP 500"):
        await harness.service(max_wait=3600).run()
    assert len(harness.time.slept) == POLICY.max_retries


async def test_403_fails_and_resets_the_cellular_sim(harness: Harness) -> None:
    await harness.service().run()
    harness.lab.config_server.set_fault("403")
    with pytest.raises(ProvisioningError, match="403") as caught:
        await harness.service(force=True).run()
    assert "IMSI" in (caught.value.hint or "")
    stored = ProvisioningStore(IMSI1).load()
    assert stored is not None and stored.version == 0 and stored.config_xml is None


async def test_406_asks_again_with_the_offered_version(harness: Harness) -> None:
    harness.lab.config_server.set_fault("406", accept_version="4.0")
    await harness.service().run()
    config_requests = [line for line in harness.requests() if "?" in line]
    assert "provisioning_version=5.0" in config_requests[0]
    assert "provisioning_version=4.0" in config_requests[1]


async def test_unreachable_server_is_a_clear_error(harness: Harness) -> None:
    info = harness.lab.info
    await harness.lab.stop()
    service = ProvisioningService(
        demo(),
        demo().sim(1),
        trace=harness.trace,
        lab=info,
        policy=POLICY,
        clock=harness.time.clock,
        sleep=harness.time.sleep,
        max_wait=3600,
    )
    with pytest.raises(ProvisioningError, match="no answer from the configuration server"):
        await service.run()


# ----------------------------------------------------------------------------- versions


async def test_version_0_drops_the_configuration_keeps_the_token(harness: Harness) -> None:
    await harness.service().run()
    token = ProvisioningStore(IMSI1).load().token  # type: ignore[union-attr]
    harness.lab.config_server.set_fault("version", version=0)
    with pytest.raises(ProvisioningError, match="reset the configuration"):
        await harness.service(force=True).run()
    stored = ProvisioningStore(IMSI1).load()
    assert stored is not None and (stored.version, stored.config_xml) == (0, None)
    assert stored.token == token


async def test_version_minus_1_disables_until_forced(harness: Harness) -> None:
    harness.lab.config_server.set_fault("version", version=-1, once=1)
    with pytest.raises(ProvisioningError, match="disabled"):
        await harness.service().run()
    count = len(harness.requests())
    with pytest.raises(ProvisioningError, match="disabled") as caught:
        await harness.service().run()
    assert "--force" in (caught.value.hint or "")
    assert len(harness.requests()) == count  # nothing asked
    assert (await harness.service(force=True).run()).version == 1


async def test_version_minus_2_keeps_the_configuration(harness: Harness) -> None:
    await harness.service().run()
    harness.lab.config_server.set_fault("version", version=-2)
    with pytest.raises(ProvisioningError, match="disabled RCS"):
        await harness.service(force=True).run()
    stored = ProvisioningStore(IMSI1).load()
    assert stored is not None and stored.version == -2 and stored.config_xml is not None
    assert harness.states()[-1] == "disabled"


async def test_version_minus_3_is_dormant_and_polls_later(harness: Harness) -> None:
    harness.lab.config_server.set_fault("version", version=-3, validity=600, once=1)
    with pytest.raises(ProvisioningError, match="dormant"):
        await harness.service().run()
    dormant = [e for e in harness.events if isinstance(e, ProvisioningChanged)][-1]
    assert dormant.state == "dormant" and dormant.retry_at == pytest.approx(harness.time.now + 600)
    count = len(harness.requests())
    with pytest.raises(ProvisioningError, match="dormant"):
        await harness.service().run()
    assert len(harness.requests()) == count
    harness.time.now += 601
    assert (await harness.service().run()).version == 1


# ----------------------------------------------------------------------------- terms


async def test_terms_accepted(harness: Harness) -> None:
    harness.lab.config_server.set_fault("terms", title="服务条款", once=1)
    result = await harness.service(accept_terms=True).run()
    assert result.version == 1
    (terms,) = [e for e in harness.events if isinstance(e, TermsPresented)]
    assert terms.title == "服务条款" and terms.accept_button and terms.reject_button
    assert harness.states() == ["provisioning", "waiting-terms", "provisioned"]


async def test_terms_rejected_disable_rcs(harness: Harness) -> None:
    harness.lab.config_server.set_fault("terms")
    with pytest.raises(ProvisioningError, match="rejected the terms"):
        await harness.service(accept_terms=False).run()
    stored = ProvisioningStore(IMSI1).load()
    assert stored is not None and stored.version == -1


async def test_terms_without_an_answer_name_the_flags(harness: Harness) -> None:
    harness.lab.config_server.set_fault("terms", title="\u202eevil\x9b[31m")
    with pytest.raises(ProvisioningError, match="accept its terms") as caught:
        await harness.service().run()
    assert caught.value.hint == "Run again with --accept-terms or --reject-terms."
    assert "\u202e" not in caught.value.message and "\x9b" not in caught.value.message


async def test_terms_from_the_provider(harness: Harness) -> None:
    harness.lab.config_server.set_fault("terms", once=1)
    shown: list[str] = []

    async def ask(terms: object) -> bool:
        shown.append(getattr(terms, "title", ""))
        return True

    assert (await harness.service(terms_provider=ask).run()).version == 1
    assert shown == ["5G Message terms of service"]


def test_a_record_of_another_server_is_not_used(tmp_path: Path) -> None:
    from rcs_terminal.protocol.provisioning import StoredState

    state = StoredState(version=3, validity_until=None, token="t", token_until=None,
                        config_xml=b"<wap-provisioningdoc/>", last_positive_version=3)
    ProvisioningStore("460001234500001", tmp_path, server="https://127.0.0.1:1").save(state)
    same = ProvisioningStore("460001234500001", tmp_path, server="https://127.0.0.1:1").load()
    other = ProvisioningStore("460001234500001", tmp_path, server="https://127.0.0.1:2").load()
    assert same is not None and same.version == 3
    assert other is None
