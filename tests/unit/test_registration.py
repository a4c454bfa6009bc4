"""IMS registration against in-memory registrars: digest and AKA, refresh timing, every error
path, reg-event NOTIFYs and de-registration. No sockets, no sleeping: a FakeClock moves time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from test_sip_endpoint_support import (
    INSTANCE,
    OPC,
    PCSCF1,
    PCSCF2,
    FakeFlow,
    K,
    MiniRegistrar,
    Stack,
    advance,
    aka_params,
    digest_params,
    from_corpus,
    make_stack,
    reginfo_for,
    settle,
)

from rcs_terminal.domain.events import RegistrationChanged
from rcs_terminal.engine.ims_params import AkaCredentials
from rcs_terminal.engine.registration import RegistrationFailed
from rcs_terminal.engine.usim_store import UsimStore
from rcs_terminal.protocol.sip.auth import parse_credentials
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.message import Request


def states(events: list[object]) -> list[str]:
    return [e.state for e in events if isinstance(e, RegistrationChanged)]


# --------------------------------------------------------------------------- digest


async def test_digest_registration_builds_the_up_register() -> None:
    registrar = MiniRegistrar()
    stack = make_stack(digest_params(), registrar)
    await stack.registration.start()
    first, second = registrar.registers
    assert first.uri == "sip:rcs.test" and "Authorization" not in first.headers
    assert first.from_.uri == first.to.uri == "sip:alice@rcs.test"
    assert first.call_id == second.call_id
    assert (first.cseq.seq, second.cseq.seq) == (1, 2)
    assert first.from_.tag == second.from_.tag
    contact = second.contacts[0]
    assert contact.uri == "sip:alice@127.0.0.1:40000"
    assert contact.params.get("+sip.instance") == INSTANCE
    assert "reg-id" not in contact.params  # UDP: no outbound
    tags = feature_tags(contact.params)
    assert "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg" in (tags["+g.3gpp.icsi-ref"] or [])
    assert "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa" in (tags["+g.3gpp.iari-ref"] or [])
    assert tags["+g.gsma.rcs.botversion"] == ["#=1", "#=2"]
    assert "+g.gsma.rcs.cpm.pager-large" in tags
    assert second.headers.get("Expires") == "600000"
    assert second.headers.get("Supported") == "path, gruu"
    assert "MESSAGE" in (second.headers.get("Allow") or "")
    assert (second.headers.get("User-Agent") or "").startswith(
        "CPM-client/OMA2.2 RCS-client/UP_2.4"
    )
    credentials = parse_credentials(second.headers.get("Authorization") or "")
    assert (credentials.username, credentials.uri, credentials.qop) == (
        "alice",
        "sip:rcs.test",
        "auth",
    )
    reg = stack.registration
    assert reg.state == "registered" and reg.expires == 600
    assert reg.service_route == ("sip:orig@scscf.rcs.test:6060;lr",)
    assert reg.path == ("sip:term@pcscf.rcs.test;lr",)
    assert reg.associated_uris == ("sip:alice@rcs.test", "tel:+8613800000001")
    assert reg.default_impu == "sip:alice@rcs.test"
    assert reg.routes == ("<sip:orig@scscf.rcs.test:6060;lr>",)
    assert states(stack.events) == ["registering", "registered"]
    last = stack.events[-1]
    assert isinstance(last, RegistrationChanged)
    assert last.expires == 600 and last.service_route == reg.service_route and last.sim == 1


@pytest.mark.parametrize(("granted", "refresh_after"), [(600, 300), (3600, 3000), (1200, 600)])
async def test_refresh_timing(granted: int, refresh_after: float) -> None:
    registrar = MiniRegistrar(expires=granted)
    stack = make_stack(digest_params(), registrar)
    await stack.registration.start()
    assert stack.registration.next_register_at == stack.clock.now() + refresh_after
    await advance(stack.endpoint, stack.clock, refresh_after - 1)
    assert len(registrar.registers) == 2
    await advance(stack.endpoint, stack.clock, 1)
    refresh = registrar.registers[2]
    assert refresh.call_id == registrar.registers[0].call_id and refresh.cseq.seq == 3
    assert refresh.headers.get("Authorization") is not None  # cached digest, nc 2
    assert parse_credentials(refresh.headers.get("Authorization") or "").nc == "00000002"
    assert stack.registration.state == "registered"


async def test_sha256_is_preferred_over_md5() -> None:
    registrar = MiniRegistrar(algorithm="SHA-256")
    registrar.script = [lambda r: from_corpus("register_401_md5_and_sha256.sip", r)]
    stack = make_stack(digest_params(), registrar)
    await stack.registration.start()
    credentials = parse_credentials(registrar.registers[1].headers.get("Authorization") or "")
    assert credentials.algorithm == "SHA-256" and credentials.nonce == "n-sha-1"
    assert len(credentials.response or "") == 64


async def test_second_401_fails_with_a_clear_reason() -> None:
    registrar = MiniRegistrar(password="not-alicepw")
    stack = make_stack(digest_params(), registrar)
    with pytest.raises(RegistrationFailed) as caught:
        await stack.registration.start()
    assert caught.value.status == 401 and caught.value.refused
    assert "credentials refused" in caught.value.message
    assert stack.registration.state == "failed" and len(registrar.registers) == 2
    assert not stack.endpoint.is_connected


async def test_unreadable_challenge_fails() -> None:
    registrar = MiniRegistrar(script=[lambda r: from_corpus("register_401_unreadable.sip", r)])
    stack = make_stack(digest_params(), registrar)
    with pytest.raises(RegistrationFailed) as caught:
        await stack.registration.start()
    assert "unreadable challenge" in caught.value.message


async def test_403_stops_and_asks_for_provisioning() -> None:
    asked: list[object] = []
    registrar = MiniRegistrar(script=[lambda r: from_corpus("register_403.sip", r)])
    stack = make_stack(
        digest_params(reprovision_on_403=True), registrar, on_reprovision=asked.append
    )
    with pytest.raises(RegistrationFailed) as caught:
        await stack.registration.start()
    assert caught.value.status == 403 and caught.value.refused
    assert asked == [stack.registration]
    assert stack.registration.next_register_at is None  # nothing scheduled: stopped
    assert states(stack.events)[-1] == "failed"


async def test_423_retries_with_min_expires() -> None:
    registrar = MiniRegistrar(expires=7200)
    registrar.script = [lambda r: from_corpus("register_423.sip", r)]
    stack = make_stack(digest_params(register_expires=3600), registrar)
    await stack.registration.start()
    assert registrar.registers[1].headers.get("Expires") == "7200"
    assert registrar.registers[1].contacts[0].params.get("expires") == "7200"
    assert stack.registration.expires == 7200


async def test_503_retry_after_then_next_pcscf() -> None:
    registrar = MiniRegistrar(script=[lambda r: from_corpus("register_503_retry_after.sip", r)])
    stack = make_stack(digest_params(pcscfs=(PCSCF1, PCSCF2)), registrar)
    task = stack_task(stack)
    await settle()
    assert stack.registration.state == "registering"
    assert "retrying in 120 s" in (stack.registration.reason or "")
    assert stack.registration.next_register_at == stack.clock.now() + 120
    await advance(stack.endpoint, stack.clock, 119)
    assert len(registrar.registers) == 1
    await advance(stack.endpoint, stack.clock, 1)
    await task
    assert [t.address.host for t in stack.network.opened] == ["127.0.0.1", "127.0.0.2"]
    assert state_of(stack) == "registered"


async def test_timeouts_back_off_exponentially_across_pcscfs() -> None:
    registrar = MiniRegistrar(script=[lambda r: None, lambda r: None, "ok"])
    stack = make_stack(digest_params(pcscfs=(PCSCF1, PCSCF2)), registrar)
    task = stack_task(stack)
    start = stack.clock.now()
    await advance(stack.endpoint, stack.clock, 32)  # Timer F: 64*T1
    assert stack.registration.status == 408
    assert stack.registration.next_register_at == start + 32 + 30  # RegRetryBaseTime
    await advance(stack.endpoint, stack.clock, 30 + 32)  # second P-CSCF, times out too
    assert stack.registration.next_register_at == start + 32 + 30 + 32 + 60  # doubled
    await advance(stack.endpoint, stack.clock, 60)
    await task
    assert [t.address.host for t in stack.network.opened] == [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.1",
    ]
    assert stack.registration.state == "registered"


async def test_gives_up_after_max_attempts() -> None:
    registrar = MiniRegistrar(script=[lambda r: None] * 5)
    stack = make_stack(digest_params(), registrar, max_attempts=2)
    task = stack_task(stack)
    await advance(stack.endpoint, stack.clock, 32 + 30 + 32)
    with pytest.raises(RegistrationFailed) as caught:
        await task
    assert caught.value.status == 408 and not caught.value.refused


async def test_unreachable_pcscf_moves_to_the_next() -> None:
    registrar = MiniRegistrar()
    stack = make_stack(
        digest_params(pcscfs=(PCSCF1, PCSCF2), reg_retry_base_time=5),
        registrar,
        unreachable={PCSCF1.address},
    )
    task = stack_task(stack)
    await advance(stack.endpoint, stack.clock, 5)
    await task
    assert stack.endpoint.target == PCSCF2


@pytest.mark.parametrize(
    "name",
    [
        "register_200_bad_service_route.sip",
        "register_200_bad_contact.sip",
        "register_200_bad_expires.sip",
        "register_200_unparseable.sip",
        "register_200_short_body.sip",
    ],
)
async def test_malformed_200_fails_the_attempt_only(name: str) -> None:
    registrar = MiniRegistrar()
    registrar.script = ["ok", lambda r: from_corpus(name, r)]
    stack = make_stack(digest_params(reg_retry_base_time=10), registrar)
    task = stack_task(stack)
    await settle()
    reg = stack.registration
    assert reg.state == "registering" and reg.expires is None
    assert "malformed" in (reg.reason or "")
    await advance(stack.endpoint, stack.clock, 9)
    assert len(registrar.registers) == 2  # nothing more until the back-off ends
    await advance(stack.endpoint, stack.clock, 1)
    await task
    assert state_of(stack) == "registered"


async def test_200_with_ims_headers_from_the_corpus() -> None:
    registrar = MiniRegistrar()
    registrar.script = [lambda r: from_corpus("register_200_ims.sip", r)]
    stack = make_stack(digest_params(), registrar)
    await stack.registration.start()
    reg = stack.registration
    assert reg.expires == 3600  # our own Contact, not the other binding or Expires
    assert reg.service_route == ("sip:orig@scscf1.rcs.test:6060;lr", "sip:as.rcs.test;lr")
    assert reg.default_impu == "sip:+8613800000001@rcs.test"
    assert stack.registration.next_register_at == stack.clock.now() + 3000


# --------------------------------------------------------------------------- AKA


async def test_aka_end_to_end_and_sqn_is_persisted(tmp_path: Path) -> None:
    registrar = MiniRegistrar(aka=True, realm="ims.mnc000.mcc460.3gppnetwork.org")
    store = UsimStore("460001234500001", tmp_path)
    stack = make_stack(aka_params(), registrar, store=store)
    await stack.registration.start()
    first, second = registrar.registers
    initial = parse_credentials(first.headers.get("Authorization") or "")
    assert (initial.username, initial.nonce, initial.response, initial.algorithm) == (
        "460001234500001@ims.mnc000.mcc460.3gppnetwork.org",
        "",
        "",
        "AKAv1-MD5",
    )
    assert parse_credentials(second.headers.get("Authorization") or "").response
    assert store.load() == registrar.sqn == 0x60


async def test_aka_resynchronises_with_auts(tmp_path: Path) -> None:
    registrar = MiniRegistrar(aka=True, realm="ims.mnc000.mcc460.3gppnetwork.org", sqn=0x40)
    store = UsimStore("460001234500001", tmp_path)
    store.save(0x5000)  # the USIM has seen far more than the network remembers
    stack = make_stack(aka_params(), registrar, store=store)
    await stack.registration.start()
    answers = [parse_credentials(r.headers.get("Authorization") or "") for r in registrar.registers]
    assert answers[1].auts is not None  # response computed with an empty password
    assert answers[2].auts is None and answers[2].response
    assert store.load() == 0x5000 + 32
    assert stack.registration.state == "registered"


async def test_aka_network_failure_is_refused(tmp_path: Path) -> None:
    registrar = MiniRegistrar(aka=True, k=bytes(16))  # not the SIM's K: MAC-A fails
    stack = make_stack(aka_params(), registrar, store=UsimStore("460001234500001", tmp_path))
    with pytest.raises(RegistrationFailed) as caught:
        await stack.registration.start()
    assert caught.value.status == 403
    assert (
        parse_credentials(registrar.registers[1].headers.get("Authorization") or "").response == ""
    )


async def test_aka_profile_sqn_is_the_floor(tmp_path: Path) -> None:
    registrar = MiniRegistrar(aka=True, sqn=0x1000)
    params = aka_params(auth=AkaCredentials(K, OPC, b"\x80\x00", 0x900))
    stack = make_stack(params, registrar, store=UsimStore("460001234500001", tmp_path))
    await stack.registration.start()
    assert len(registrar.registers) == 2


# --------------------------------------------------------------------------- reg event


async def registered_with_reg_event() -> tuple[Stack, MiniRegistrar, FakeFlow]:
    registrar = MiniRegistrar(expires=3600)
    stack = make_stack(digest_params(subscribe_reg_event=True), registrar)
    await stack.registration.start()
    await settle()
    return stack, registrar, stack.network.flows[-1]


async def test_reg_event_subscription_is_sent_through_the_service_route() -> None:
    stack, registrar, _ = await registered_with_reg_event()
    (subscribe,) = registrar.subscribes
    assert subscribe.uri == "sip:alice@rcs.test"
    assert subscribe.headers.get("Event") == "reg"
    assert subscribe.headers.get("Accept") == "application/reginfo+xml"
    assert subscribe.headers.get("Route") == "<sip:orig@scscf.rcs.test:6060;lr>"
    assert subscribe.contacts[0].params.get("+sip.instance") == INSTANCE
    assert stack.registration.reg_event.state == "active"


async def test_notify_shortened_refreshes_early() -> None:
    stack, registrar, flow = await registered_with_reg_event()
    reg = stack.registration
    info = reginfo_for("sip:alice@rcs.test", reg.contact_uri, "active", "shortened", expires=100)
    registrar.notify(flow, info)
    await settle()
    assert stack.network.responses[-1].status == 200
    assert reg.expires == 100
    await advance(stack.endpoint, stack.clock, 50)
    assert len(registrar.registers) == 3


async def test_notify_deactivated_registers_again() -> None:
    stack, registrar, flow = await registered_with_reg_event()
    reg = stack.registration
    info = reginfo_for("sip:alice@rcs.test", reg.contact_uri, "terminated", "deactivated")
    registrar.notify(flow, info)
    await advance(stack.endpoint, stack.clock, 0)
    assert len(registrar.registers) == 3 and reg.state == "registered"
    assert "registering" in states(stack.events)[2:]


async def test_notify_rejected_stops() -> None:
    stack, registrar, flow = await registered_with_reg_event()
    reg = stack.registration
    info = reginfo_for("sip:alice@rcs.test", reg.contact_uri, "terminated", "rejected")
    registrar.notify(flow, info)
    await settle()
    assert reg.state == "failed" and reg.status == 403
    assert stack.registration.next_register_at is None


async def test_notify_about_someone_else_changes_nothing() -> None:
    stack, registrar, flow = await registered_with_reg_event()
    reg = stack.registration
    other = reginfo_for("sip:alice@rcs.test", "sip:alice@192.0.2.1:5060", "terminated", "rejected")
    info = replace(other, registrations=(replace(other.registrations[0], state="active"),))
    registrar.notify(flow, info)
    await settle()
    assert reg.state == "registered"


async def test_notify_with_broken_body_gets_400() -> None:
    stack, registrar, flow = await registered_with_reg_event()
    info = reginfo_for("sip:alice@rcs.test", "sip:x@h", "active", "registered")
    registrar.notify(flow, info)
    await settle()
    raw = (
        "NOTIFY sip:alice@127.0.0.1:40000 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbad1\r\n"
        "From: <sip:alice@rcs.test>;tag=reg1\r\n"
        f"To: {registrar.subscribes[0].headers.get('From')}\r\n"
        f"Call-ID: {registrar.subscribes[0].call_id}\r\nCSeq: 99 NOTIFY\r\nEvent: reg\r\n"
        "Subscription-State: active\r\nContent-Type: application/reginfo+xml\r\n"
        "Content-Length: 9\r\n\r\n<reginfo>"
    ).encode()
    flow.deliver(raw)
    await settle()
    assert stack.network.responses[-1].status == 400
    assert stack.registration.state == "registered"


async def test_subscription_refused_leaves_the_registration_alone() -> None:
    registrar = MiniRegistrar()

    def refuse(request: Request, flow: FakeFlow) -> bytes | None:
        if request.method == "SUBSCRIBE":
            from test_sip_endpoint_support import respond

            return respond(request, 489, "Bad Event").to_bytes()
        result = registrar(request, flow)
        return result if isinstance(result, bytes) or result is None else result[0]

    stack = make_stack(digest_params(subscribe_reg_event=True), refuse)
    await stack.registration.start()
    await settle()
    assert stack.registration.reg_event.state == "failed"
    assert stack.registration.state == "registered"


# --------------------------------------------------------------------------- stop


async def test_deregistration_removes_the_binding() -> None:
    registrar = MiniRegistrar()
    stack = make_stack(digest_params(subscribe_reg_event=True), registrar)
    await stack.registration.start()
    await settle()
    assert registrar.bindings
    await stack.registration.stop()
    last = registrar.registers[-1]
    assert last.headers.get("Expires") == "0" and last.contacts[0].params.get("expires") == "0"
    assert registrar.bindings == {}
    assert stack.registration.state == "deregistered"
    assert states(stack.events)[-2:] == ["deregistering", "deregistered"]
    unsubscribe = registrar.subscribes[-1]
    assert unsubscribe.headers.get("Expires") == "0" and unsubscribe.to.tag == "reg1"


async def test_stop_without_answer_does_not_hang() -> None:
    registrar = MiniRegistrar()
    stack = make_stack(digest_params(), registrar)
    await stack.registration.start()
    registrar.script = [lambda r: None]
    await stack.registration.stop(timeout=0)
    assert stack.registration.state == "deregistered"


async def test_flow_loss_registers_again() -> None:
    registrar = MiniRegistrar()
    stack = make_stack(digest_params(reg_retry_base_time=3), registrar)
    await stack.registration.start()
    stack.network.flows[-1].close()
    await settle()
    assert stack.registration.state == "registering"
    await advance(stack.endpoint, stack.clock, 3)
    assert state_of(stack) == "registered" and len(stack.network.flows) == 2


def stack_task(stack: Stack) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(stack.registration.start())


def state_of(stack: Stack) -> str:
    """The registration state, read afresh (keeps mypy from narrowing across awaits)."""
    return stack.registration.state


def test_params_are_replaceable() -> None:
    assert replace(digest_params(), slot=2).slot == 2
