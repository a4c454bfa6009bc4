"""The pjsip SIM's configuration, Contact, account settings and registration tracking."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.feature_tags import DEFAULT_SERVICES
from rcs_terminal.engine.ims_params import (
    AkaCredentials,
    DigestCredentials,
    ImsParams,
    PcscfTarget,
)
from rcs_terminal.engine.pjsip import pjsip_available
from rcs_terminal.engine.pjsip.account import (
    PjsipConfig,
    RegistrationTracker,
    account_config,
    contact,
    local_host_for,
    proxy_uri,
)
from rcs_terminal.engine.pjsip.library import TransportHandle
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import NativeEngineRequiredError, ProfileError
from rcs_terminal.protocol.sip.headers import feature_tags, parse_name_addr

SIP = Path(__file__).parent.parent / "data" / "wire" / "pjsip" / "sip"
INSTANCE = "<urn:gsma:imei:86000000-000037-0>"


def config(**changes: Any) -> PjsipConfig:
    base = PjsipConfig(
        pcscf=Address("127.0.0.1", 5060),
        home_domain="rcs.test",
        impi="alice",
        impu="sip:alice@rcs.test",
        username="alice",
        password="alicepw",
        sip_instance=INSTANCE,
    )
    return replace(base, **changes)


def params(auth: AkaCredentials | DigestCredentials, transport: str = "tcp") -> ImsParams:
    return ImsParams(
        slot=2,
        imsi="460001234500002",
        home_domain="ims.mnc000.mcc460.3gppnetwork.org",
        impi="460001234500002@ims.mnc000.mcc460.3gppnetwork.org",
        impus=("sip:+8613800000002@ims.mnc000.mcc460.3gppnetwork.org", "tel:+8613800000002"),
        pcscfs=(PcscfTarget(Address("10.0.0.5", 5090), transport),),  # type: ignore[arg-type]
        auth=auth,
        user_agent="CPM-client/OMA2.2 RCS-client/UP_2.4",
        sip_instance="<urn:gsma:imei:86000000-000038-0>",
    )


# --------------------------------------------------------------------------- configuration


def test_password_stays_out_of_repr() -> None:
    assert "alicepw" not in repr(config())


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"transport": "sctp"}, "transport"),
        ({"impu": "alice@rcs.test"}, "not a URI"),
        ({"sip_instance": "urn:gsma:imei:1"}, "+sip.instance"),
    ],
)
def test_invalid_configurations(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ProfileError, match="pjsip SIM 1") as error:
        config(**changes)
    assert fragment in str(error.value)


def test_contact_params_carry_instance_and_tags() -> None:
    address = parse_name_addr(f"<sip:alice@127.0.0.1:5090>{config().contact_params}")
    tags = feature_tags(address.params)
    assert tags["+sip.instance"] == [INSTANCE]
    assert "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg" in (tags["+g.3gpp.icsi-ref"] or [])
    assert "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa" in (tags["+g.3gpp.iari-ref"] or [])
    assert tags["+g.gsma.rcs.botversion"] == ["#=1", "#=2"]
    assert "+g.gsma.rcs.cpm.pager-large" in tags
    assert len(address.params.wire_items()) == 5


def test_contact_params_follow_services() -> None:
    tags = feature_tags(parse_name_addr(f"<sip:a@b>{config(services=()).contact_params}").params)
    assert tags == {"+sip.instance": [INSTANCE]}


@pytest.mark.parametrize(
    ("changes", "local", "expected"),
    [
        ({}, Address("127.0.0.1", 4001), "<sip:alice@127.0.0.1:4001>"),
        (
            {"transport": "tcp"},
            Address("127.0.0.1", 4001),
            "<sip:alice@127.0.0.1:4001;transport=tcp>",
        ),
        ({"transport": "tls"}, Address("::1", 4001), "<sip:alice@[::1]:4001;transport=tls>"),
        (
            {"impu": "tel:+86-138-0000-0001"},
            Address("127.0.0.1", 1),
            "<sip:+8613800000001@127.0.0.1:1>",
        ),
    ],
)
def test_contact(changes: dict[str, Any], local: Address, expected: str) -> None:
    value = contact(config(**changes), local)
    assert value.startswith(expected + ';+sip.instance="<urn:gsma:imei:')
    assert parse_name_addr(value).uri == expected[1:-1]


@pytest.mark.parametrize(
    ("pcscf", "transport", "expected"),
    [
        (Address("127.0.0.1", 5060), "udp", "sip:127.0.0.1:5060;lr"),
        (Address("127.0.0.1", 5060), "tcp", "sip:127.0.0.1:5060;transport=tcp;lr"),
        (Address("::1", 5061), "tls", "sip:[::1]:5061;transport=tls;lr"),
    ],
)
def test_proxy_uri(pcscf: Address, transport: str, expected: str) -> None:
    assert proxy_uri(config(pcscf=pcscf, transport=transport)) == expected
    assert config().registrar_uri == "sip:rcs.test"


def test_local_host_for() -> None:
    assert local_host_for(Address("127.0.0.1", 1)) == "127.0.0.1"
    assert local_host_for(Address("::1", 1)) == "::1"
    assert local_host_for(Address("192.0.2.1", 1)) == "0.0.0.0"
    assert local_host_for(Address("2001:db8::1", 1)) == "::"
    assert local_host_for(Address("pcscf.example", 1)) == "0.0.0.0"


def test_from_ims_params_digest() -> None:
    built = PjsipConfig.from_ims_params(params(DigestCredentials("u", "secret", "realm.test")))
    assert (built.pcscf, built.transport, built.slot) == (Address("10.0.0.5", 5090), "tcp", 2)
    assert (built.username, built.password, built.realm) == ("u", "secret", "realm.test")
    assert built.impu == "sip:+8613800000002@ims.mnc000.mcc460.3gppnetwork.org"
    assert built.sip_instance == "<urn:gsma:imei:86000000-000038-0>"
    assert built.services == DEFAULT_SERVICES and built.local_host == "0.0.0.0"
    assert built.user_agent.startswith("CPM-client/")


def test_aka_needs_the_native_engine() -> None:
    with pytest.raises(NativeEngineRequiredError, match="AKA needs the native engine"):
        PjsipConfig.from_ims_params(params(AkaCredentials(k=b"k" * 16, opc=b"o" * 16)))


@pytest.mark.skipif(not pjsip_available(), reason="pjsua2-python is not installed")
def test_account_config_with_the_real_binding() -> None:
    import pjsua2

    handle = TransportHandle(3, "tcp", Address("127.0.0.1", 4001))
    built = account_config(pjsua2, config(transport="tcp", realm=None), handle)
    assert built.idUri == "sip:alice@rcs.test"
    assert built.regConfig.registrarUri == "sip:rcs.test"
    assert built.regConfig.timeoutSec == 600000 and built.regConfig.retryIntervalSec == 0
    assert list(built.sipConfig.proxies) == ["sip:127.0.0.1:5060;transport=tcp;lr"]
    cred = built.sipConfig.authCreds[0]
    assert (cred.realm, cred.username, cred.data) == ("rcs.test", "alice", "alicepw")
    assert built.sipConfig.authInitialEmpty and built.sipConfig.transportId == 3
    assert built.sipConfig.contactForced == contact(config(transport="tcp"), handle.local)
    assert built.natConfig.sipOutboundUse == 0 and not built.natConfig.iceEnabled


# --------------------------------------------------------------------------- registration


def test_registration_events() -> None:
    tracker = RegistrationTracker(1, "sip:alice@rcs.test")
    started = tracker.started(True)
    assert started is not None and started.state == "registering"
    ok = (SIP / "05_register_200_service_route.sip").read_bytes()
    event = tracker.finished(200, "OK", 3600, ok)
    assert event is not None and event.state == "registered" and event.expires == 3600
    assert event.service_route == ("sip:orig@scscf.rcs.test;lr", "sip:pcscf.rcs.test;lr")
    assert event.associated_uris == ("sip:alice@rcs.test", "tel:+8613800000001")
    assert tracker.is_registered
    assert tracker.started(True) is None  # a refresh
    assert tracker.finished(200, "OK", 3600, ok) is None
    shorter = tracker.finished(200, "OK", 1800)
    assert shorter is not None and shorter.expires == 1800 and shorter.service_route == ()
    leaving = tracker.started(False)
    assert leaving is not None and leaving.state == "deregistering"
    gone = tracker.finished(200, "OK", 0)
    assert gone is not None and gone.state == "deregistered" and gone.expires is None
    assert not tracker.is_registered


@pytest.mark.parametrize(("code", "reason"), [(401, "Unauthorized"), (403, "Forbidden"), (408, "")])
def test_registration_failure(code: int, reason: str) -> None:
    tracker = RegistrationTracker(2, "sip:bob@rcs.test")
    tracker.started(True)
    event = tracker.finished(code, reason, 0)
    assert event is not None and (event.state, event.status, event.reason) == (
        "failed",
        code,
        reason,
    )
    assert event.sim == 2
    again = tracker.started(True)
    assert again is not None and again.state == "registering"


def test_unreadable_200_still_registers() -> None:
    tracker = RegistrationTracker(1, "sip:alice@rcs.test")
    event = tracker.finished(200, "OK", 60, b"\x00garbage")
    assert event is not None and event.state == "registered" and event.service_route == ()


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("start"), st.booleans()),
            st.tuples(
                st.just("end"),
                st.sampled_from([200, 202, 401, 403, 408, 423, 503]),
                st.integers(min_value=0, max_value=7200),
            ),
        ),
        max_size=20,
    )
)
def test_tracker_states_stay_consistent(steps: list[tuple[Any, ...]]) -> None:
    tracker = RegistrationTracker(1, "sip:alice@rcs.test")
    for step in steps:
        if step[0] == "start":
            event = tracker.started(step[1])
        else:
            event = tracker.finished(step[1], "r", step[2])
        if event is not None:
            assert event.state == tracker.state
        assert tracker.is_registered == (tracker.state == "registered")
        if tracker.is_registered:
            assert tracker.expires is not None
        if tracker.state in ("unregistered", "failed", "deregistered"):
            assert tracker.expires is None
