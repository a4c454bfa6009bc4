"""The lab registrar over real loopback sockets: REGISTER with Digest and AKA, bindings, faults.

Small UAs built from the protocol core (``test_lab_registrar_ua``) talk to a registrar
started on ``127.0.0.1:0``, over UDP and TCP. Nothing sleeps: every wait is on a future
with a timeout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from test_lab_registrar_ua import DOMAIN, Ua, directory

from rcs_terminal.lab.registrar import Registrar
from rcs_terminal.protocol.sip.aka import AkaOutcome
from rcs_terminal.protocol.sip.auth import parse_challenge
from rcs_terminal.protocol.sip.timers import TimerConfig


@pytest.fixture
async def registrar() -> AsyncIterator[Registrar]:
    reg = Registrar(directory(), timer_config=TimerConfig(t1=0.05))
    await reg.start()
    yield reg
    await reg.stop()


async def open_ua(registrar: Registrar, name: str, transport: str = "udp", **kw: object) -> Ua:
    sub = next(s for s in registrar.directory if s.display_name == name)
    return await Ua(sub, registrar, transport, **kw).open()  # type: ignore[arg-type]


def outcome(ua: Ua) -> AkaOutcome:
    return ua.last_aka_outcome


# --------------------------------------------------------------------------- start


async def test_listens_on_one_port_for_udp_and_tcp(registrar: Registrar) -> None:
    assert registrar.udp_address is not None and registrar.tcp_address is not None
    assert registrar.udp_address.port == registrar.tcp_address.port
    assert registrar.udp_address.host == "127.0.0.1"


async def test_refuses_a_non_loopback_host() -> None:
    from rcs_terminal.errors import NetworkError

    with pytest.raises(NetworkError):
        await Registrar(directory()).start("192.0.2.1", 0)


# --------------------------------------------------------------------------- Digest


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_digest_register_401_then_200(registrar: Registrar, transport: str) -> None:
    ua = await open_ua(registrar, "alice", transport)
    first = await ua.send(ua.register_request())
    assert first.status == 401
    challenge = parse_challenge(first.headers.get("WWW-Authenticate") or "")
    assert challenge.realm == DOMAIN and challenge.algorithm == "MD5"
    assert challenge.qop == ("auth",)
    ok = await ua.send(ua.register_request(authorization=ua.answer_challenge(first)))
    assert ok.status == 200
    assert ok.headers.get("Service-Route") == f"<sip:orig@scscf.{DOMAIN};lr>"
    associated = [entry.uri for entry in ok.addresses("P-Associated-URI")]
    assert associated == [ua.sub.sip_impu, ua.sub.tel_impu]
    contacts = ok.contacts
    assert len(contacts) == 1
    assert contacts[0].uri == ua.contact_uri
    assert contacts[0].expires == 3600  # 600000 asked, capped
    assert contacts[0].params.get("+sip.instance") == ua.instance
    bindings = registrar.bindings_of(ua.sub.tel_impu)
    assert [b.uri for b in bindings] == [ua.contact_uri]
    assert bindings[0].tags["+g.3gpp.icsi-ref"] == ["urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"]
    assert bindings[0].hop.reliable is (transport == "tcp")
    ua.close()


async def test_sha256_is_offered_first_when_configured() -> None:
    reg = Registrar(directory(), digest_algorithms=("SHA-256", "MD5"))
    await reg.start()
    try:
        ua = await open_ua(reg, "alice")
        first = await ua.send(ua.register_request())
        offers = [parse_challenge(v).algorithm for v in first.headers.get_all("WWW-Authenticate")]
        assert offers == ["SHA-256", "MD5"]
        ok = await ua.send(ua.register_request(authorization=ua.answer_challenge(first)))
        assert ok.status == 200
        ua.close()
    finally:
        await reg.stop()


async def test_wrong_password_gets_401_again_then_403(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    ua.password = "not-the-password"
    first = await ua.send(ua.register_request())
    second = await ua.send(ua.register_request(authorization=ua.answer_challenge(first)))
    assert second.status == 401
    third = await ua.send(ua.register_request(authorization=ua.answer_challenge(second)))
    assert third.status == 403
    assert registrar.bindings_of(ua.sub.impi) == []
    ua.close()


async def test_digest_nonce_may_be_reused_with_a_higher_nc(registrar: Registrar) -> None:
    from rcs_terminal.protocol.sip.auth import build_authorization

    ua = await open_ua(registrar, "alice")
    first = await ua.send(ua.register_request())
    challenge = parse_challenge(first.headers.get("WWW-Authenticate") or "")

    def auth(nc: int) -> str:
        return build_authorization(
            challenge,
            method="REGISTER",
            uri=f"sip:{DOMAIN}",
            username=ua.sub.impi,
            password=ua.password,
            cnonce="c0ffee",
            nc=nc,
        )

    assert (await ua.send(ua.register_request(authorization=auth(1)))).status == 200
    assert (await ua.send(ua.register_request(authorization=auth(2)))).status == 200
    replayed = await ua.send(ua.register_request(authorization=auth(2)))
    assert replayed.status == 401  # nc did not grow: challenged again
    ua.close()


async def test_unknown_subscriber_and_foreign_identity_get_403(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    ua.sub = type(ua.sub)(**{**ua.sub.__dict__, "impi": "nobody@" + DOMAIN})
    assert (await ua.send(ua.register_request())).status == 403
    ua.close()
    other = await open_ua(registrar, "dave")
    request = other.register_request()
    request.headers.set("To", "<sip:+8613800000001@" + DOMAIN + ">")  # alice's IMPU
    response = await other.send(request)
    assert response.status == 403 and "Associated" in response.reason
    other.close()


async def test_register_to_a_foreign_domain_is_refused(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    request = ua.register_request()
    request.uri = "sip:example.org"
    assert (await ua.send(request)).status == 403
    ua.close()


# --------------------------------------------------------------------------- AKA


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_aka_register(registrar: Registrar, transport: str) -> None:
    ua = await open_ua(registrar, "bob", transport)
    first = await ua.send(ua.register_request())
    assert first.status == 401
    challenge = parse_challenge(first.headers.get("WWW-Authenticate") or "")
    assert challenge.algorithm == "AKAv1-MD5" and challenge.qop == ("auth",)
    assert challenge.realm == DOMAIN
    ok = await ua.send(ua.register_request(authorization=ua.answer_challenge(first)))
    assert outcome(ua) is AkaOutcome.AUTHENTICATED
    assert ok.status == 200
    assert ua.usim is not None and ua.usim.sqn == ua.sub.sqn  # the USIM took the vector's SQN
    ua.close()


async def test_aka_resynchronisation_with_auts(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "bob")
    ua.sub.sqn = 0x10  # the network is behind the USIM (0x40): its vector is stale
    first = await ua.send(ua.register_request())
    resync = await ua.send(ua.register_request(authorization=ua.answer_challenge(first)))
    assert outcome(ua) is AkaOutcome.SYNC_FAILURE
    assert resync.status == 401  # a fresh challenge from the resynchronised SQN
    assert ua.sub.sqn == 0x41
    ok = await ua.send(ua.register_request(authorization=ua.answer_challenge(resync)))
    assert outcome(ua) is AkaOutcome.AUTHENTICATED
    assert ok.status == 200
    ua.close()


async def test_aka_refreshes_are_challenged_with_fresh_vectors(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "bob")
    assert (await ua.register()).status == 200
    first_sqn = ua.sub.sqn
    assert (await ua.register()).status == 200
    assert ua.sub.sqn == first_sqn + 1
    ua.close()


async def test_aka_network_failure_gets_403(registrar: Registrar) -> None:
    from rcs_terminal.protocol.sip.aka import Usim

    ua = await open_ua(registrar, "bob")
    ua.usim = Usim(bytes(16), bytes(16), 0)  # a SIM with other keys: MAC-A fails
    first = await ua.send(ua.register_request())
    refused = await ua.send(ua.register_request(authorization=ua.answer_challenge(first)))
    assert outcome(ua) is AkaOutcome.NETWORK_FAILURE
    assert refused.status == 403
    ua.close()


# --------------------------------------------------------------------------- bindings


async def test_interval_too_brief_gets_423_with_min_expires(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    response = await ua.register(expires=10)
    assert response.status == 423
    assert response.headers.get("Min-Expires") == "60"
    assert (await ua.register(expires=60)).status == 200
    ua.close()


async def test_deregistration_with_expires_zero(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice", "tcp")
    assert (await ua.register()).status == 200
    assert len(registrar.bindings_of(ua.sub.sip_impu)) == 1
    response = await ua.register(expires=0)
    assert response.status == 200
    assert response.contacts == []
    assert registrar.bindings_of(ua.sub.sip_impu) == []
    ua.close()


async def test_wildcard_deregistration(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    assert (await ua.register()).status == 200
    assert (await ua.register(expires=0, contact="*")).status == 200
    assert registrar.bindings_of(ua.sub.impi) == []
    assert (await ua.register(expires=60, contact="*")).status == 400
    ua.close()


async def test_same_instance_replaces_its_old_contact(registrar: Registrar) -> None:
    first = await open_ua(registrar, "alice", "udp")
    assert (await first.register()).status == 200
    second = await open_ua(registrar, "alice", "tcp", instance=first.instance)
    assert (await second.register()).status == 200
    bindings = registrar.bindings_of(first.sub.impi)
    assert [b.uri for b in bindings] == [second.contact_uri]
    assert bindings[0].hop.reliable
    third = await open_ua(registrar, "alice", "udp", instance="<urn:uuid:other-device>")
    ok = await third.register()
    assert {c.uri for c in ok.contacts} == {second.contact_uri, third.contact_uri}
    for ua in (first, second, third):
        ua.close()


async def test_malformed_contact_after_authentication_gets_400(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    first = await ua.send(ua.register_request())
    authorization = ua.answer_challenge(first)
    bad = await ua.send(
        ua.register_request(authorization=authorization, contact="<sip:x@127.0.0.1")
    )
    assert bad.status == 400
    assert (await ua.register(contact="<tel:+8613800000001>")).status == 400
    assert registrar.bindings_of(ua.sub.impi) == []
    ua.close()


# --------------------------------------------------------------------------- faults


async def test_fault_503_with_retry_after_once(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice")
    registrar.set_fault("503", target=ua.sub.imsi, once=1, retry_after=7)
    response = await ua.send(ua.register_request())
    assert response.status == 503
    assert response.headers.get("Retry-After") == "7"
    assert registrar.faults == []
    assert (await ua.register()).status == 200
    ua.close()


async def test_fault_403_for_one_subscriber_only(registrar: Registrar) -> None:
    registrar.set_fault("403", target="+8613800000001")
    alice = await open_ua(registrar, "alice")
    dave = await open_ua(registrar, "dave")
    assert (await alice.register()).status == 403
    assert (await dave.register()).status == 200
    assert registrar.clear_faults("+8613800000001") == 1
    assert (await alice.register()).status == 200
    alice.close()
    dave.close()


async def test_fault_drop_lets_the_register_time_out(registrar: Registrar) -> None:
    ua = await open_ua(registrar, "alice", t1=0.02)
    registrar.set_fault("drop", once=1)
    with pytest.raises(TimeoutError):
        await ua.send(ua.register_request())  # retransmitted, never answered
    assert registrar.faults == []
    assert (await ua.register()).status == 200
    ua.close()


async def test_sip_fault_json() -> None:
    from rcs_terminal.lab.sip_faults import make_sip_fault, sip_fault_from_json

    fault = sip_fault_from_json({"kind": "503", "retry_after": 3, "target": "alice", "once": 2})
    assert fault == make_sip_fault("503", target="alice", once=2, retry_after=3)
    assert sip_fault_from_json(fault.to_json()) == fault
    cases: list[object] = [
        {"kind": "500"},
        {"retry_after": 1},
        {"kind": "503", "once": 0},
        [],
        {"kind": 5},
        {"kind": "drop", "extra": 1},
        {"kind": "403", "once": True},
    ]
    for bad in cases:
        with pytest.raises(ValueError):
            sip_fault_from_json(bad)
