"""The lab registrar as a stateful proxy, over real loopback sockets.

Two (or more) registered UAs, one over UDP and one over TCP, reach each other through the
registrar by sip: and tel: URIs; the tests check what arrives on each side (Request-URI
retargeted to the contact, the proxy's Via, Max-Forwards, P-Asserted-Identity,
Record-Route) and the error answers (404, 480, 403, 483, 408, 500).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from test_lab_registrar_ua import DOMAIN, Ua, directory

from rcs_terminal.lab.registrar import Registrar
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.message import Request, Response, build_response
from rcs_terminal.protocol.sip.timers import TimerConfig

WAIT = 5.0


@pytest.fixture
async def registrar() -> AsyncIterator[Registrar]:
    reg = Registrar(directory(), timer_config=TimerConfig(t1=0.01))
    await reg.start()
    yield reg
    await reg.stop()


async def registered(registrar: Registrar, name: str, transport: str, **kw: object) -> Ua:
    sub = next(s for s in registrar.directory if s.display_name == name)
    ua = await Ua(sub, registrar, transport, **kw).open()  # type: ignore[arg-type]
    assert (await ua.register()).status == 200
    return ua


@pytest.fixture
async def pair(registrar: Registrar) -> AsyncIterator[tuple[Ua, Ua]]:
    alice = await registered(registrar, "alice", "udp")
    dave = await registered(registrar, "dave", "tcp")
    yield alice, dave
    alice.close()
    dave.close()


async def incoming(ua: Ua, method: str) -> Request:
    while True:
        request = await asyncio.wait_for(ua.requests.get(), WAIT)
        if request.method == method:
            return request


# --------------------------------------------------------------------------- forwarding


async def test_message_by_sip_uri_reaches_the_tcp_contact(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    request = alice.new_request(
        "MESSAGE",
        dave.sub.sip_impu,
        extra=(("Route", f"<sip:orig@scscf.{DOMAIN};lr>"),),
        body=b"hello",
        content_type="text/plain",
        contact=False,
    )
    response = await alice.send(request)
    assert response.status == 200
    got = await incoming(dave, "MESSAGE")
    assert got.uri == dave.contact_uri  # retargeted to the registered contact
    assert got.body == b"hello"
    assert got.headers.get("Max-Forwards") == "69"
    assert len(got.vias) == 2 and got.top_via.transport == "TCP"
    assert got.top_via.port == registrar.tcp_address.port  # type: ignore[union-attr]
    assert [a.uri for a in got.addresses("P-Asserted-Identity")] == [alice.sub.sip_impu]
    assert got.addresses("Route") == []  # the Service-Route entry names the registrar
    assert got.addresses("Record-Route") == []  # MESSAGE is not record-routed


async def test_options_by_tel_uri_is_forwarded_and_the_tags_come_back(
    pair: tuple[Ua, Ua],
) -> None:
    alice, dave = pair
    dave.contact_tags = (
        '+g.gsma.rcs.isbot;+g.3gpp.iari-ref="urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.chatbot"'
    )
    response = await dave.send(
        dave.new_request("OPTIONS", alice.sub.tel_impu, to=alice.sub.tel_impu)
    )
    assert response.status == 200
    assert feature_tags(response.contacts[0].params)["+g.3gpp.icsi-ref"] == [
        "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
    ]
    got = await incoming(alice, "OPTIONS")
    assert got.uri == alice.contact_uri
    back = await alice.send(alice.new_request("OPTIONS", dave.sub.tel_impu))
    assert back.status == 200
    tags = feature_tags(back.contacts[0].params)
    assert "+g.gsma.rcs.isbot" in tags
    assert tags["+g.3gpp.iari-ref"] == ["urn:urn-7:3gpp-application.ims.iari.rcs.chatbot"]


async def test_p_preferred_identity_becomes_asserted(pair: tuple[Ua, Ua]) -> None:
    alice, dave = pair
    request = alice.new_request(
        "MESSAGE",
        dave.sub.tel_impu,
        extra=(
            ("P-Preferred-Identity", f"<{alice.sub.tel_impu}>"),
            ("P-Asserted-Identity", "<sip:forged@example.org>"),
        ),
        contact=False,
    )
    assert (await alice.send(request)).status == 200
    got = await incoming(dave, "MESSAGE")
    assert [a.uri for a in got.addresses("P-Asserted-Identity")] == [alice.sub.tel_impu]
    assert "P-Preferred-Identity" not in got.headers


async def test_forking_to_every_contact(registrar: Registrar, pair: tuple[Ua, Ua]) -> None:
    alice, dave = pair
    second = await registered(registrar, "alice", "tcp", instance="<urn:uuid:second-device>")
    response = await dave.send(dave.new_request("MESSAGE", alice.sub.sip_impu, contact=False))
    assert response.status == 200
    first_copy = await incoming(alice, "MESSAGE")
    second_copy = await incoming(second, "MESSAGE")
    assert {first_copy.uri, second_copy.uri} == {alice.contact_uri, second.contact_uri}
    second.close()


async def test_best_final_response_of_a_fork(registrar: Registrar, pair: tuple[Ua, Ua]) -> None:
    alice, dave = pair
    second = await registered(registrar, "alice", "tcp", instance="<urn:uuid:second-device>")
    alice.handler = lambda req: [build_response(req, 486, to_tag="busy")]
    second.handler = lambda req: [build_response(req, 503, to_tag="down")]
    response = await dave.send(dave.new_request("MESSAGE", alice.sub.sip_impu, contact=False))
    assert response.status == 486  # 4xx is preferred over 5xx (RFC 3261 §16.7)
    second.handler = lambda req: [build_response(req, 603, to_tag="no")]
    response = await dave.send(dave.new_request("MESSAGE", alice.sub.sip_impu, contact=False))
    assert response.status == 603  # a 6xx always wins
    alice.handler = lambda req: [build_response(req, 503, to_tag="down")]
    second.handler = alice.handler
    response = await dave.send(dave.new_request("MESSAGE", alice.sub.sip_impu, contact=False))
    assert response.status == 500  # 503 is not relayed as such
    second.close()


async def test_required_accept_contact_picks_the_matching_contact(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    bot_tag = '+g.3gpp.iari-ref="urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.chatbot"'
    bot = Ua(alice.sub, registrar, "tcp", instance="<urn:uuid:bot-device>")
    bot.contact_tags = bot_tag
    await bot.open()
    assert (await bot.register()).status == 200
    wanted = (("Accept-Contact", f"*;{bot_tag};require;explicit"),)
    request = dave.new_request("MESSAGE", alice.sub.sip_impu, extra=wanted, contact=False)
    assert (await dave.send(request)).status == 200
    assert (await incoming(bot, "MESSAGE")).uri == bot.contact_uri
    assert alice.requests.empty()  # alice's other contact lacks the tag
    unknown = '+g.3gpp.iari-ref="urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.geopush"'
    missing = (("Accept-Contact", f"*;{unknown};require;explicit"),)
    request = dave.new_request("MESSAGE", alice.sub.sip_impu, extra=missing, contact=False)
    assert (await dave.send(request)).status == 480
    optional = (("Accept-Contact", f"*;{unknown}"),)  # a preference, not a requirement
    request = dave.new_request("MESSAGE", alice.sub.sip_impu, extra=optional, contact=False)
    assert (await dave.send(request)).status == 200
    first_at_alice = await incoming(alice, "MESSAGE")  # forked to both contacts this time
    assert "require" not in (first_at_alice.headers.get("Accept-Contact") or "")
    bot.close()


# --------------------------------------------------------------------------- refusals


async def test_known_but_unregistered_user_gets_480(pair: tuple[Ua, Ua]) -> None:
    alice, _ = pair
    response = await alice.send(alice.new_request("OPTIONS", "tel:+8613800000003"))
    assert response.status == 480


async def test_unknown_user_gets_404_and_foreign_domain_403(pair: tuple[Ua, Ua]) -> None:
    alice, _ = pair
    assert (await alice.send(alice.new_request("OPTIONS", "tel:+8613899999999"))).status == 404
    unknown = alice.new_request("MESSAGE", f"sip:nobody@{DOMAIN}", contact=False)
    assert (await alice.send(unknown)).status == 404
    foreign = alice.new_request("MESSAGE", "sip:bob@example.org", contact=False)
    response = await alice.send(foreign)
    assert response.status == 403 and response.reason == "Relaying Forbidden"


async def test_unregistered_sender_gets_403_not_registered(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    carol = next(s for s in registrar.directory if s.display_name == "carol")
    stranger = await Ua(carol, registrar, "udp").open()
    response = await stranger.send(stranger.new_request("MESSAGE", alice.sub.sip_impu))
    assert response.status == 403 and response.reason == "Not Registered"
    spoof = alice.new_request("MESSAGE", dave.sub.sip_impu, from_=dave.sub.sip_impu)
    response = await alice.send(spoof)  # alice's flow, dave's identity
    assert response.status == 403
    keepalive = await stranger.send(stranger.new_request("OPTIONS", f"sip:{registrar.udp_address}"))
    assert keepalive.status == 200  # OPTIONS to the registrar itself needs no registration
    assert "MESSAGE" in (keepalive.headers.get("Allow") or "")
    stranger.close()


async def test_max_forwards_zero_gets_483(pair: tuple[Ua, Ua]) -> None:
    alice, dave = pair
    request = alice.new_request("MESSAGE", dave.sub.sip_impu)
    request.headers.set("Max-Forwards", "0")
    assert (await alice.send(request)).status == 483


async def test_silent_contact_times_out_with_408(pair: tuple[Ua, Ua]) -> None:
    alice, dave = pair
    dave.handler = lambda req: []
    response = await alice.send(alice.new_request("MESSAGE", dave.sub.sip_impu), timeout=10)
    assert response.status == 408


# --------------------------------------------------------------------------- INVITE dialogs


async def test_invite_200_ack_bye_through_record_route(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    invite = alice.new_request(
        "INVITE", dave.sub.tel_impu, body=b"v=0\r\n", content_type="application/sdp"
    )
    ok = await alice.send(invite)
    assert ok.status == 200
    record_route = f"<sip:{registrar.udp_address};lr>"
    assert ok.headers.get("Record-Route") == record_route
    assert any(r.status == 180 for r in alice.provisional)
    dialog = Dialog.from_uac(invite, ok)
    assert dialog.route_set == (f"sip:{registrar.udp_address};lr",)
    assert dialog.remote_target == dave.contact_uri
    alice.send_ack(dialog.create_ack(ok))
    ack = await asyncio.wait_for(dave.acks.get(), WAIT)
    assert ack.uri == dave.contact_uri
    received_invite = await incoming(dave, "INVITE")
    assert received_invite.headers.get("Record-Route") == record_route
    dave_dialog = Dialog.from_uas(received_invite, ok.to.tag or "", local_contact=dave.contact)
    bye = dave_dialog.create_request("BYE")
    assert bye.uri == alice.contact_uri
    assert (await dave.send(bye)).status == 200
    got = await incoming(alice, "BYE")
    assert got.uri == alice.contact_uri
    assert got.addresses("Route") == []


async def test_invite_fork_cancels_the_other_branch(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    ringing_only = await registered(registrar, "dave", "udp", instance="<urn:uuid:ringing>")
    ringing_only.handler = lambda req: [build_response(req, 180, to_tag="ring")]
    ok = await alice.send(alice.new_request("INVITE", dave.sub.sip_impu))
    assert ok.status == 200
    cancel = await asyncio.wait_for(ringing_only.cancels.get(), WAIT)
    assert cancel.method == "CANCEL"
    ringing_only.close()


async def test_caller_cancels_a_ringing_invite(pair: tuple[Ua, Ua]) -> None:
    alice, dave = pair
    dave.handler = lambda req: [build_response(req, 180, to_tag="ring")]
    invite = alice.new_request("INVITE", dave.sub.sip_impu)
    key = alice.layer.send_request(invite, alice._now(), reliable=alice.reliable)
    future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
    alice._pending[key] = future
    alice.flush()
    await incoming(dave, "INVITE")
    alice.layer.cancel(key, alice._now())
    alice.flush()
    final = await asyncio.wait_for(future, WAIT)
    assert final.status == 487
    assert (await asyncio.wait_for(dave.cancels.get(), WAIT)).method == "CANCEL"


async def test_domain_route_for_the_chatbot_platform(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    registrar.route_domain("botplatform.lab", dave.sub.impi)
    response = await alice.send(alice.new_request("MESSAGE", "sip:10658888@botplatform.lab"))
    assert response.status == 200
    got = await incoming(dave, "MESSAGE")
    assert got.uri == dave.contact_uri
    reply = dave.new_request("MESSAGE", alice.sub.sip_impu, from_="sip:10658888@botplatform.lab")
    assert (await dave.send(reply)).status == 200
    got = await incoming(alice, "MESSAGE")
    assert [a.uri for a in got.addresses("P-Asserted-Identity")] == ["sip:10658888@botplatform.lab"]
    registrar.route_domain("botplatform.lab", None)
    assert (await alice.send(alice.new_request("MESSAGE", "sip:x@botplatform.lab"))).status == 404
    with pytest.raises(KeyError):
        registrar.route_domain("botplatform.lab", "sip:nobody@nowhere")


async def test_everything_is_traced_with_owner_lab(
    registrar: Registrar, pair: tuple[Ua, Ua]
) -> None:
    alice, dave = pair
    await alice.send(alice.new_request("OPTIONS", dave.sub.sip_impu))
    records = registrar.trace.records(protocol="SIP")
    assert records and all(r.owner == "lab" for r in records)
    assert {r.direction for r in records} == {"in", "out"}
    assert {r.transport for r in records} == {"udp", "tcp"}
    assert not any(b"secret" in r.data for r in records)
