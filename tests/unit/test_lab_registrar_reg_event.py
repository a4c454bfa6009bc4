"""The registrar's reg event package (RFC 3680) over real loopback sockets.

A registered UA subscribes to its own registration; the NOTIFYs are parsed with the
protocol core's reginfo parser and checked for each change: registered, refreshed,
shortened, deactivated, rejected, unregistered, expired.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from test_lab_registrar_ua import DOMAIN, Ua, directory

from rcs_terminal.lab.registrar import Registrar
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.message import Request, Response
from rcs_terminal.protocol.sip.reginfo import RegInfo, parse_reginfo
from rcs_terminal.protocol.sip.timers import TimerConfig

WAIT = 5.0


@pytest.fixture
async def registrar() -> AsyncIterator[Registrar]:
    reg = Registrar(directory(), timer_config=TimerConfig(t1=0.02), min_expires=1)
    await reg.start()
    yield reg
    await reg.stop()


async def registered(registrar: Registrar, name: str, transport: str = "tcp", **kw: object) -> Ua:
    sub = next(s for s in registrar.directory if s.display_name == name)
    ua = await Ua(sub, registrar, transport, **kw).open()  # type: ignore[arg-type]
    assert (await ua.register()).status == 200
    return ua


def reg_subscribe(ua: Ua, expires: int = 600000) -> Request:
    return ua.new_request(
        "SUBSCRIBE",
        ua.sub.sip_impu,
        extra=(
            ("Route", f"<sip:orig@scscf.{DOMAIN};lr>"),
            ("Event", "reg"),
            ("Accept", "application/reginfo+xml"),
            ("Expires", str(expires)),
        ),
    )


async def next_notify(ua: Ua) -> tuple[Request, RegInfo]:
    while True:
        request = await asyncio.wait_for(ua.requests.get(), WAIT)
        if request.method == "NOTIFY":
            assert request.headers.get("Event") == "reg"
            assert request.content_type == "application/reginfo+xml"
            return request, parse_reginfo(request.body)


async def subscribed(ua: Ua) -> tuple[Request, Response, RegInfo]:
    subscribe = reg_subscribe(ua)
    response = await ua.send(subscribe)
    assert response.status == 200
    _, info = await next_notify(ua)
    return subscribe, response, info


def own_contact(info: RegInfo, ua: Ua) -> tuple[str, str | None, int | None]:
    entry = info.registration(ua.sub.sip_impu)
    assert entry is not None
    contact = next(c for c in entry.contacts if c.uri == ua.contact_uri)
    return contact.state, contact.event, contact.expires


async def test_subscribe_gets_200_and_a_full_state_notify(registrar: Registrar) -> None:
    ua = await registered(registrar, "alice")
    _, response, info = await subscribed(ua)
    assert response.headers.get("Expires") == "600000"
    assert response.contacts[0].uri.startswith(f"sip:{registrar.tcp_address}")
    assert info.version == 0 and info.state == "full"
    assert [r.aor for r in info.registrations] == [ua.sub.sip_impu, ua.sub.tel_impu]
    assert all(r.state == "active" for r in info.registrations)
    state, event, expires = own_contact(info, ua)
    assert (state, event) == ("active", "registered")
    assert expires is not None and 3590 <= expires <= 3600
    entry = info.registration(ua.sub.tel_impu)
    assert entry is not None and entry.contacts[0].instance == ua.instance
    ua.close()


async def test_refresh_and_deactivate(registrar: Registrar) -> None:
    ua = await registered(registrar, "alice")
    await subscribed(ua)
    assert (await ua.register()).status == 200
    notify, info = await next_notify(ua)
    assert info.version == 1
    assert own_contact(info, ua)[:2] == ("active", "refreshed")
    assert (notify.headers.get("Subscription-State") or "").startswith("active;expires=")
    assert registrar.deactivate(ua.sub.tel_impu) == 1
    notify, info = await next_notify(ua)
    assert own_contact(info, ua)[:2] == ("terminated", "deactivated")
    assert info.registrations[0].state == "terminated"
    assert notify.headers.get("Subscription-State") == "terminated;reason=deactivated"
    assert registrar.bindings_of(ua.sub.impi) == []
    assert len(registrar.notifier.subscriptions) == 0
    ua.close()


async def test_reject(registrar: Registrar) -> None:
    ua = await registered(registrar, "bob", "udp")
    await subscribed(ua)
    assert registrar.reject(ua.sub.impi) == 1
    notify, info = await next_notify(ua)
    assert own_contact(info, ua)[:2] == ("terminated", "rejected")
    assert notify.headers.get("Subscription-State") == "terminated;reason=rejected"
    assert registrar.reject("sip:+8613899999999@" + DOMAIN) == 0
    ua.close()


async def test_shorten(registrar: Registrar) -> None:
    ua = await registered(registrar, "alice")
    await subscribed(ua)
    assert registrar.shorten(ua.sub.sip_impu, 120) == 1
    _, info = await next_notify(ua)
    state, event, expires = own_contact(info, ua)
    assert (state, event) == ("active", "shortened")
    assert expires is not None and 119 <= expires <= 120
    assert registrar.bindings_of(ua.sub.impi)[0].remaining(registrar.now()) <= 120
    ua.close()


async def test_deregistration_ends_the_subscription(registrar: Registrar) -> None:
    ua = await registered(registrar, "alice")
    await subscribed(ua)
    assert (await ua.register(expires=0)).status == 200
    notify, info = await next_notify(ua)
    assert own_contact(info, ua)[:2] == ("terminated", "unregistered")
    assert notify.headers.get("Subscription-State") == "terminated;reason=noresource"
    ua.close()


async def test_expiry_is_notified(registrar: Registrar) -> None:
    ua = await registered(registrar, "alice")
    await subscribed(ua)
    assert (await ua.register(expires=1)).status == 200
    await next_notify(ua)  # refreshed, for one second
    _, info = await next_notify(ua)  # then the registrar's timer expires it
    assert own_contact(info, ua)[:2] == ("terminated", "expired")
    assert registrar.bindings_of(ua.sub.impi) == []
    ua.close()


async def test_another_device_is_told_when_a_tcp_flow_closes(registrar: Registrar) -> None:
    watcher = await registered(registrar, "alice", "udp", instance="<urn:uuid:watcher>")
    await subscribed(watcher)
    phone = await registered(registrar, "alice", "tcp")
    _, info = await next_notify(watcher)
    assert own_contact(info, phone)[:2] == ("active", "registered")
    phone.close()
    _, info = await next_notify(watcher)
    assert own_contact(info, phone)[:2] == ("terminated", "deactivated")
    assert [b.uri for b in registrar.bindings_of(watcher.sub.impi)] == [watcher.contact_uri]
    watcher.close()


async def test_resubscribe_and_unsubscribe_in_the_dialog(registrar: Registrar) -> None:
    ua = await registered(registrar, "alice")
    subscribe, response, _ = await subscribed(ua)
    dialog = Dialog.from_uac(subscribe, response)
    refresh = dialog.create_request(
        "SUBSCRIBE", extra_headers=(("Event", "reg"), ("Expires", "1200"))
    )
    again = await ua.send(refresh)
    assert again.status == 200 and again.headers.get("Expires") == "1200"
    _, info = await next_notify(ua)
    assert info.version == 1
    bye = dialog.create_request("SUBSCRIBE", extra_headers=(("Event", "reg"), ("Expires", "0")))
    assert (await ua.send(bye)).status == 200
    notify, _ = await next_notify(ua)
    assert notify.headers.get("Subscription-State") == "terminated;reason=timeout"
    assert len(registrar.notifier.subscriptions) == 0
    stale = dialog.create_request("SUBSCRIBE", extra_headers=(("Event", "reg"),))
    assert (await ua.send(stale)).status == 481  # the dialog is gone
    ua.close()


async def test_subscribing_to_someone_else_or_unregistered_is_refused(registrar: Registrar) -> None:
    alice = await registered(registrar, "alice")
    dave_sub = next(s for s in registrar.directory if s.display_name == "dave")
    other = reg_subscribe(alice)
    other.uri = dave_sub.sip_impu
    assert (await alice.send(other)).status == 403
    dave = await Ua(dave_sub, registrar, "tcp").open()
    response = await dave.send(reg_subscribe(dave))
    assert (response.status, response.reason) == (403, "Not Registered")
    alice.close()
    dave.close()
