"""Large message mode and chat sessions between emulated phones, with SIP in memory and
MSRP on real loopback TCP.

:class:`Bridge` plays the IMS core: a MiniRegistrar per user answers REGISTER; every other
request goes to the phone its Request-URI names (Record-Route added to an initial INVITE),
and responses go back to whoever sent the request. ``carol`` is a foreign client scripted
from the corpus (``tests/data/wire/msrp_calls``), with her own MSRP side when needed.
Messages received are handed to a stub with ``receive_cpim`` (the messaging service's entry
point), so these tests cover the carriers alone.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_sip_endpoint_support import (
    FakeNetwork,
    ManualTimer,
    MiniRegistrar,
    advance,
    counter_ids,
    digest_params,
    settle,
)

from rcs_terminal.clock import FakeClock
from rcs_terminal.engine.carriers import CarrierResult
from rcs_terminal.engine.handset import SimStack
from rcs_terminal.engine.ims_params import DigestCredentials, PcscfTarget
from rcs_terminal.engine.invite import (
    InviteDialog,
    SessionTimer,
    parse_session_expires,
)
from rcs_terminal.engine.msrp_calls import MsrpOptions, call_kind, extract_offer
from rcs_terminal.engine.msrp_carriers import (
    LargeMessageCarrier,
    MsrpService,
    SessionCarrier,
    close_msrp_carriers,
    install_msrp_carriers,
)
from rcs_terminal.engine.msrp_connection import MsrpConnection, new_session_id
from rcs_terminal.engine.msrp_listener import MsrpListener
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.sip_endpoint import SipEndpoint
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.msrp import MessageReceived, MsrpSession
from rcs_terminal.protocol.msrp.uri import parse_uri
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.message import (
    Headers,
    Request,
    Response,
    build_response,
    parse_message,
)
from rcs_terminal.protocol.sip.sdp import parse_msrp_media

WIRE = Path(__file__).parents[1] / "data" / "wire" / "msrp_calls"
CONVERSATION = ("Conversation-ID", "6b1f3a0e-2b51-4d0a-9f31-8a0c4b7e2d11")
ALICE, BOB = "sip:alice@rcs.test", "sip:bob@rcs.test"


# --------------------------------------------------------------------------- the core


def user_of(uri: str) -> str:
    return uri.split(":", 1)[1].split("@", 1)[0]


def fill(name: str, **values: str) -> bytes:
    """A corpus message with its ``$NAME`` fields filled in and Content-Length fixed."""
    data = (WIRE / name).read_bytes()
    for key, value in values.items():
        data = data.replace(f"${key}".encode(), value.encode())
    head, _, body = data.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length")]
    lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def corpus_request(name: str, branch: str = "z9hG4bKf") -> Request:
    """A corpus INVITE with dummy values, parsed."""
    message = parse_message(
        fill(name, BRANCH=branch, CALLID="c", PATH="msrp://127.0.0.1:9/a;tcp", PORT="9")
    )
    assert isinstance(message, Request)
    return message


class BridgeFlow:
    """A phone's flow to the core."""

    transport = "tcp"

    def __init__(self, bridge: Bridge, user: str, target: PcscfTarget, sink: Any, port: int):
        self.bridge, self.user, self.sink = bridge, user, sink
        self.local = Address("127.0.0.1", port)
        self.remote = target.address
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    def send(self, data: bytes, dest: Address | None = None) -> None:
        self.bridge.route(self.user, data)

    def close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def deliver(self, data: bytes) -> None:
        if not self.is_closed:
            self.sink(parse_message(data), self.remote, self)


class Bridge:
    """The IMS core in memory (see the module docstring)."""

    def __init__(self) -> None:
        self.flows: dict[str, BridgeFlow] = {}
        self.registrars: dict[str, MiniRegistrar] = {}
        self.scripts: dict[str, Callable[[Request], bytes | None]] = {}
        self.log: list[tuple[str, str, Request | Response]] = []
        self.inbox: dict[str, asyncio.Queue[Request | Response]] = defaultdict(asyncio.Queue)
        self._origin: dict[str, str] = {}
        self._ports = iter(range(41000, 42000))

    def opener(self, user: str) -> Any:
        async def open_flow(target: PcscfTarget, *, sink: Any, **_: Any) -> BridgeFlow:
            flow = BridgeFlow(self, user, target, sink, next(self._ports))
            self.flows[user] = flow
            return flow

        return open_flow

    def route(self, sender: str, data: bytes) -> None:
        message = parse_message(data)
        branch = message.top_via.branch or ""
        if isinstance(message, Response):
            origin = self._origin.get(branch, "?")
            self.log.append((sender, origin, message))
            self._to(origin, data, message)
            return
        if message.method == "REGISTER":
            reply = self.registrars[sender](message, None)  # type: ignore[arg-type]
            if isinstance(reply, bytes):
                self._to(sender, reply, parse_message(reply))
            return
        target = user_of(message.uri)
        self._origin[branch] = sender
        if message.method == "INVITE" and message.to.tag is None:
            message.headers = Headers(
                [("Record-Route", "<sip:core.rcs.test;lr>"), *message.headers]
            )
            data = message.to_bytes()
        self.log.append((sender, target, message))
        if target in self.flows:
            self._to(target, data, message)
        elif target in self.scripts:
            self.inbox[target].put_nowait(message)
            reply = self.scripts[target](message)
            if reply is not None:
                self._to(sender, reply, parse_message(reply))
        elif message.method != "ACK":
            answer = build_response(message, 404, to_tag="core")
            self._to(sender, answer.to_bytes(), answer)

    def _to(self, user: str, data: bytes, message: Request | Response) -> None:
        flow = self.flows.get(user)
        if flow is not None:
            asyncio.get_running_loop().call_soon(flow.deliver, data)
        else:
            self.inbox[user].put_nowait(message)

    def requests(self, method: str, sender: str | None = None) -> list[Request]:
        return [
            m
            for who, _, m in self.log
            if isinstance(m, Request) and m.method == method and (sender is None or who == sender)
        ]

    def responses(self, method: str, sender: str | None = None) -> list[Response]:
        return [
            m
            for who, _, m in self.log
            if isinstance(m, Response)
            and m.cseq.method == method
            and (sender is None or who == sender)
        ]


class Inbox:
    """Stands in for the messaging service: records what ``receive_cpim`` gets."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes, str, Headers | None]] = []
        self.arrived: asyncio.Queue[bytes] = asyncio.Queue()
        self.status = 200

    async def receive_cpim(
        self, peer: str, cpim_data: bytes, *, technology: str, sip_headers: Headers | None
    ) -> int:
        self.got.append((peer, cpim_data, technology, sip_headers))
        self.arrived.put_nowait(cpim_data)
        return self.status

    async def next(self) -> bytes:
        return await asyncio.wait_for(self.arrived.get(), 5)


class Phone:
    def __init__(self, user: str, service: MsrpService, inbox: Inbox) -> None:
        self.user, self.service, self.inbox = user, service, inbox

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@rcs.test"


async def make_phone(
    bridge: Bridge, user: str, *, trace: TraceRecorder | None = None, **options: Any
) -> Phone:
    connection_options = options.pop("connection_options", None)
    params = digest_params(
        impi=user,
        impus=(f"sip:{user}@rcs.test",),
        auth=DigestCredentials(user, f"{user}pw"),
        pcscfs=(PcscfTarget(Address("127.0.0.1", 5060), "tcp"),),
        outbound=False,
    )
    bridge.registrars[user] = MiniRegistrar(
        password=f"{user}pw", associated=(f"<sip:{user}@rcs.test>",)
    )
    endpoint = SipEndpoint(
        params, trace=trace, owner=user, opener=bridge.opener(user), new_id=counter_ids(user)
    )
    registration = Registration(endpoint, max_attempts=1)
    await registration.start()
    inbox = Inbox()
    service = MsrpService(
        registration,
        inbox,
        options=MsrpOptions(connect_timeout=5.0, **options),
        connection_options=connection_options,
    )
    return Phone(user, service, inbox)


def message(text: str, sender: str = ALICE, to: str = BOB) -> bytes:
    return cpim.build(from_=sender, to=to, datetime=None, body=text.encode())


async def closed_everything(*phones: Phone) -> None:
    for phone in phones:
        await phone.service.close()


# --------------------------------------------------------------------------- large mode


@pytest.mark.parametrize("callee_role", ["active", "passive"])
async def test_large_message_both_ways(callee_role: str) -> None:
    bridge, trace = Bridge(), TraceRecorder()
    alice = await make_phone(bridge, "alice", trace=trace, prefer_setup=callee_role)
    bob = await make_phone(bridge, "bob", trace=trace, prefer_setup=callee_role)
    try:
        big = "大" * 2000  # 6000 bytes of UTF-8, above any SwitchoverSize
        result = await alice.service.large.deliver(
            BOB, message(big), headers=[CONVERSATION], chatbot=False
        )
        assert result == CarrierResult(True, 200, "OK")
        peer, data, technology, headers = bob.inbox.got[0]
        assert (peer, technology) == (ALICE, "large")
        assert cpim.parse(data).decoded_body().decode() == big
        assert headers is not None and headers.get("Conversation-ID") == CONVERSATION[1]

        (invite,) = bridge.requests("INVITE", "alice")
        assert invite.headers.get("P-Preferred-Service") == (
            "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
        )
        contact = invite.headers.get("Contact") or ""
        assert "oma.cpm.largemsg" in contact and "+sip.instance" in contact
        assert "cpm.largemsg" in (invite.headers.get("Accept-Contact") or "")
        offer = parse_msrp_media(invite.body)
        assert (offer.setup, offer.direction, offer.accept_types) == (
            "actpass",
            "sendonly",
            ("message/cpim",),
        )
        assert offer.connection_address == "127.0.0.1" and offer.path[0].host == "127.0.0.1"
        (ok,) = bridge.responses("INVITE", "bob")
        answer = parse_msrp_media(ok.body)
        assert answer.setup == callee_role and answer.direction == "recvonly"
        assert [r.method for r in bridge.requests("ACK")] == ["ACK"]
        assert bridge.requests("ACK")[0].headers.get("Route") == "<sip:core.rcs.test;lr>"
        await settle()
        assert [s.status for s in bridge.responses("BYE", "bob")] == [200]
        assert not alice.service.calls and not bob.service.calls

        back = await bob.service.large.deliver(
            ALICE, message("x" * 5000, BOB, ALICE), headers=[], chatbot=False
        )
        assert back.ok and alice.inbox.got[0][2] == "large"
        msrp = trace.records(protocol="MSRP")
        assert any(r.first_line.endswith(" SEND") and r.owner == "alice" for r in msrp)
        assert all(r.remote.startswith("127.0.0.1:") for r in msrp)
    finally:
        await closed_everything(alice, bob)


async def test_large_message_to_a_chatbot_names_the_chatbot_service() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    bob = await make_phone(bridge, "bob")
    try:
        result = await alice.service.large.deliver(
            BOB, message("y" * 3000), headers=[], chatbot=True
        )
        assert result.ok
        (invite,) = bridge.requests("INVITE")
        accepts = invite.headers.get_all("Accept-Contact")
        assert any("rcs.chatbot.sa" in a and a.endswith(";require;explicit") for a in accepts)
        assert 'botversion="#=1,#=2"' in (invite.headers.get("Contact") or "")
    finally:
        await closed_everything(alice, bob)


# --------------------------------------------------------------------------- sessions


async def test_session_three_messages_each_way_then_bye() -> None:
    bridge, trace = Bridge(), TraceRecorder()
    alice = await make_phone(bridge, "alice", trace=trace)
    bob = await make_phone(bridge, "bob", trace=trace)
    try:
        for number in range(3):
            sent = await alice.service.session.deliver(
                BOB, message(f"a{number}"), headers=[CONVERSATION], chatbot=False
            )
            assert sent.ok and sent.status == 200
            assert cpim.parse(await bob.inbox.next()).decoded_body() == f"a{number}".encode()
            reply = await bob.service.session.deliver(
                ALICE, message(f"b{number}", BOB, ALICE), headers=[], chatbot=False
            )
            assert reply.ok
            assert cpim.parse(await alice.inbox.next()).decoded_body() == f"b{number}".encode()
        assert len(bridge.requests("INVITE")) == 1  # one session, reused both ways
        assert {g[2] for g in alice.inbox.got + bob.inbox.got} == {"session"}
        (invite,) = bridge.requests("INVITE")
        assert invite.headers.get("P-Preferred-Service") == (
            "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session"
        )
        assert invite.headers.get("Session-Expires") == "1800"
        assert "timer" in (invite.headers.get("Supported") or "")
        assert parse_msrp_media(invite.body).direction == "sendrecv"
        (ok,) = bridge.responses("INVITE")
        assert ok.headers.get("Session-Expires") == "1800;refresher=uac"
        assert ok.headers.get("Require") == "timer"

        alice_call = alice.service.sessions["sip:bob@rcs.test"]
        bob_call = bob.service.sessions["sip:alice@rcs.test"]
        await alice_call.close("user closed the chat")
        assert [r.status for r in bridge.responses("BYE", "bob")] == [200]
        await asyncio.wait_for(bob_call.connection.closed, 5)  # type: ignore[union-attr]
        assert not alice.service.sessions and not bob.service.sessions
        assert not alice.service.calls and not bob.service.calls

        again = await alice.service.session.deliver(BOB, message("new"), headers=[], chatbot=False)
        assert again.ok and len(bridge.requests("INVITE")) == 2
    finally:
        await closed_everything(alice, bob)


async def test_concurrent_first_messages_share_one_invite() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    bob = await make_phone(bridge, "bob")
    try:
        results = await asyncio.gather(
            *(
                alice.service.session.deliver(BOB, message(f"m{i}"), headers=[], chatbot=False)
                for i in range(4)
            )
        )
        assert all(r.ok for r in results)
        assert len(bridge.requests("INVITE")) == 1 and len(bob.inbox.got) == 4
    finally:
        await closed_everything(alice, bob)


async def test_chatbot_session_tags() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    bob = await make_phone(bridge, "bob")
    try:
        assert (
            await alice.service.session.deliver(BOB, message("hi"), headers=[], chatbot=True)
        ).ok
        (invite,) = bridge.requests("INVITE")
        contact = invite.headers.get("Contact") or ""
        assert "oma.cpm.session" in contact and "iari.rcs.chatbot" in contact
        assert 'botversion="#=1,#=2"' in contact
        (accept,) = invite.headers.get_all("Accept-Contact")
        assert "3gpp-application.ims.iari.rcs.chatbot" in accept
        assert accept.endswith(";require;explicit") and "icsi" not in accept
        (ok,) = bridge.responses("INVITE")
        assert "iari.rcs.chatbot" in (ok.headers.get("Contact") or "")
    finally:
        await closed_everything(alice, bob)


async def test_peer_loses_the_connection_and_the_session_ends_with_bye() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    bob = await make_phone(bridge, "bob")
    try:
        assert (
            await alice.service.session.deliver(BOB, message("1"), headers=[], chatbot=False)
        ).ok
        alice_call = alice.service.sessions["sip:bob@rcs.test"]
        bob_call = bob.service.sessions["sip:alice@rcs.test"]
        assert alice_call.usable and bob_call.usable
        transport = alice_call.connection._transport  # type: ignore[union-attr]
        transport.abort()  # type: ignore[union-attr]
        await asyncio.wait_for(bob_call.shutdown("test"), 5)
        await asyncio.wait_for(alice_call.shutdown("test"), 5)
        byes = bridge.requests("BYE")
        assert len(byes) >= 1 and not alice.service.sessions and not bob.service.sessions
    finally:
        await closed_everything(alice, bob)


async def test_idle_session_is_closed_by_the_timer() -> None:
    bridge = Bridge()
    clock = FakeClock()
    seams = {"clock": clock.now, "timer_factory": ManualTimer}
    alice = await make_phone(bridge, "alice", connection_options=seams, idle_timeout=180.0)
    bob = await make_phone(bridge, "bob", connection_options=seams, idle_timeout=180.0)
    try:
        assert (
            await alice.service.session.deliver(BOB, message("1"), headers=[], chatbot=False)
        ).ok
        call = alice.service.sessions["sip:bob@rcs.test"]
        connection = call.connection
        assert connection is not None
        assert connection.next_deadline() == clock.now() + 180
        connection.handle_timer(clock.advance(179))
        assert call.usable
        connection.handle_timer(clock.advance(1))
        await asyncio.wait_for(call.shutdown("idle"), 5)
        assert call.close_reason == "idle"
        assert [r.status for r in bridge.responses("BYE", "bob")] == [200]
    finally:
        await closed_everything(alice, bob)


async def test_stopping_the_service_ends_every_call_with_bye() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    bob = await make_phone(bridge, "bob")
    assert (await alice.service.session.deliver(BOB, message("1"), headers=[], chatbot=False)).ok
    await bob.service.close()
    await settle()
    assert [r.status for r in bridge.responses("BYE", "alice")] == [200]
    assert not alice.service.sessions
    late = await bob.service.session.deliver(ALICE, message("late"), headers=[], chatbot=False)
    assert not late.ok and late.reason == "MSRP service stopped"
    await alice.service.close()


# --------------------------------------------------------------------------- failures


async def test_invite_refused_gives_its_status() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    bridge.scripts["carol"] = lambda r: build_response(r, 486, to_tag="c").to_bytes()
    try:
        nobody = await alice.service.large.deliver(
            "sip:nobody@rcs.test", message("x"), headers=[], chatbot=False
        )
        assert nobody == CarrierResult(False, 404, "Not Found")
        busy = await alice.service.session.deliver(
            "sip:carol@rcs.test", message("x"), headers=[], chatbot=False
        )
        assert (busy.ok, busy.status, busy.reason) == (False, 486, "Busy Here")
        assert alice.service.listener is not None and alice.service.listener.expected == 0
    finally:
        await alice.service.close()


def carol_answers(body: bytes | None, content_type: str = "application/sdp") -> Callable[..., Any]:
    """carol's UA: 200 with ``body`` to INVITE, 200 to BYE."""

    def script(request: Request) -> bytes | None:
        if request.method == "ACK":
            return None
        response = build_response(request, 200, to_tag="c4r0l")
        if request.method == "INVITE":
            response.headers.add("Contact", "<sip:carol@127.0.0.1:5099;transport=tcp>")
            if body is not None:
                response.headers.add("Content-Type", content_type)
                response.body = body
        return response.to_bytes()

    return script


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "carries no SDP answer"),
        ("answer_broken.sdp", "malformed SDP answer"),
        ("answer_port_zero.sdp", "refused the MSRP stream"),
    ],
)
async def test_unusable_answer_fails_and_hangs_up(body: Any, reason: str) -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    if isinstance(body, str):
        body = (WIRE / body).read_bytes().replace(b"$PATH", b"msrp://127.0.0.1:9/x;tcp")
        body = body.replace(b"$PORT", b"9")
    bridge.scripts["carol"] = carol_answers(body)
    try:
        result = await alice.service.session.deliver(
            "sip:carol@rcs.test", message("x"), headers=[], chatbot=False
        )
        assert not result.ok and result.status == 488 and reason in (result.reason or "")
        await settle()
        assert [r.method for r in bridge.inbox["carol"]._queue] == ["INVITE", "ACK", "BYE"]  # type: ignore[attr-defined]
    finally:
        await alice.service.close()


@pytest.mark.parametrize("name", ["answer_passive.sdp", "answer_no_setup.sdp"])
async def test_connection_refused_fails_with_the_reason(name: str) -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    port = closed_port()
    path = f"msrp://127.0.0.1:{port}/c4r0lS;tcp"
    body = (WIRE / name).read_bytes().replace(b"$PATH", path.encode())
    bridge.scripts["carol"] = carol_answers(body.replace(b"$PORT", str(port).encode()))
    try:
        result = await alice.service.large.deliver(
            "sip:carol@rcs.test", message("x"), headers=[], chatbot=False
        )
        assert not result.ok and "cannot connect MSRP" in (result.reason or "")
        assert [r.method for r in bridge.requests("BYE", "alice")] == ["BYE"]
    finally:
        await alice.service.close()


async def test_a_path_with_a_host_name_is_not_resolved() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    body = (WIRE / "answer_name_path.sdp").read_bytes()
    body = body.replace(b"$PATH", b"msrp://msrp.rcs.test:2855/c4r0lS;tcp").replace(
        b"$PORT", b"2855"
    )
    bridge.scripts["carol"] = carol_answers(body)
    try:
        result = await alice.service.large.deliver(
            "sip:carol@rcs.test", message("x"), headers=[], chatbot=False
        )
        assert not result.ok and "no DNS" in (result.reason or "")
    finally:
        await alice.service.close()


async def test_answerer_that_never_connects_times_out() -> None:
    bridge = Bridge()
    alice = await make_phone(bridge, "alice")
    alice.service.options.connect_timeout = 0.05
    body = (WIRE / "answer_active.sdp").read_bytes()
    body = body.replace(b"$PATH", b"msrp://127.0.0.1:9/c4r0lS;tcp").replace(b"$PORT", b"9")
    bridge.scripts["carol"] = carol_answers(body)
    try:
        result = await alice.service.large.deliver(
            "sip:carol@rcs.test", message("x"), headers=[], chatbot=False
        )
        assert not result.ok and "no MSRP connection" in (result.reason or "")
        assert alice.service.listener is not None and alice.service.listener.expected == 0
    finally:
        await alice.service.close()


# --------------------------------------------------------------------------- a foreign caller


class Carol:
    """A foreign client calling bob from the corpus, with her own MSRP side."""

    def __init__(self, bridge: Bridge, listener: MsrpListener) -> None:
        self.bridge = bridge
        self.listener = listener
        self.uri = (
            listener.uri(new_session_id())
            if listener.port is not None
            else parse_uri("msrp://127.0.0.1:9/c4r0lS;tcp")
        )
        self.received: list[MessageReceived] = []
        self.connection: MsrpConnection | None = None
        self.branches = iter(range(1, 100))

    def invite(self, name: str) -> bytes:
        return fill(
            name,
            BRANCH=f"z9hG4bKcarol{next(self.branches)}",
            CALLID="c4r0l-call-1",
            PATH=str(self.uri),
            PORT=str(self.uri.port),
        )

    async def call(self, name: str) -> Response:
        self.bridge.route("carol", self.invite(name))
        return await self.answer()

    async def answer(self) -> Response:
        while True:
            got = await asyncio.wait_for(self.bridge.inbox["carol"].get(), 5)
            if isinstance(got, Response) and got.status >= 200:
                return got

    def expect_connection(self, answer: Response) -> MsrpConnection:
        media = parse_msrp_media(answer.body)
        self.connection = MsrpConnection(
            MsrpSession(self.uri, media.path), on_message=self.received.append
        )
        self.listener.expect(self.connection)
        return self.connection

    def in_dialog(self, name: str, answer: Response) -> None:
        self.bridge.route(
            "carol",
            fill(
                name,
                BRANCH=f"z9hG4bKcarol{next(self.branches)}",
                CALLID="c4r0l-call-1",
                TOTAG=answer.to.tag or "",
            ),
        )


@pytest.fixture
async def carol_side() -> Any:
    listener = MsrpListener("127.0.0.1")
    await listener.start()
    yield listener
    await listener.close()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("invite_session.sip", "session"),
        ("invite_large.sip", "large"),
        ("invite_lf_sdp.sip", "session"),
        ("invite_no_setup.sip", "session"),
        ("invite_offer_active.sip", "session"),
    ],
)
async def test_foreign_invite_is_accepted_and_its_messages_arrive(
    name: str, kind: str, carol_side: MsrpListener
) -> None:
    bridge = Bridge()
    bob = await make_phone(bridge, "bob")
    carol = Carol(bridge, carol_side)
    try:
        answer = await carol.call(name)
        assert answer.status == 200 and answer.to.tag
        assert answer.headers.get("Record-Route") == "<sip:core.rcs.test;lr>"
        media = parse_msrp_media(answer.body)
        connection = carol.expect_connection(answer)
        if media.setup == "passive":  # the offer said active (or nothing): carol connects
            carol.listener.forget(connection)
            await connection.connect(Address("127.0.0.1", media.path[0].port or 0), timeout=5)
        else:
            assert media.setup == "active"
            await connection.wait_ready(5)
        sent = await connection.send(
            "message/cpim", message("from carol", "sip:carol@rcs.test", BOB)
        )
        assert sent.ok
        peer, data, technology, headers = bob.inbox.got[-1]
        assert peer == "sip:+8613900000003@rcs.test;user=phone"  # P-Asserted-Identity
        assert technology == kind and cpim.parse(data).decoded_body() == b"from carol"
        assert headers is not None and headers.get("Contribution-ID")
        if kind == "session":
            reply = await bob.service.session.deliver(
                "tel:+8613900000003", message("hi carol", BOB, "sip:carol@rcs.test"),
                headers=[], chatbot=False,
            )  # fmt: skip
            assert reply.ok and carol.received[-1].body.endswith(b"hi carol")
            assert answer.headers.get("Session-Expires") == "1800;refresher=uac"
        carol.in_dialog("bye.sip", answer)
        bye_answer = await carol.answer()
        assert bye_answer.status == 200
        await asyncio.wait_for(connection.closed, 5)
        assert not bob.service.calls and not bob.service.sessions
    finally:
        await bob.service.close()


async def test_first_message_in_a_multipart_invite(carol_side: MsrpListener) -> None:
    bridge = Bridge()
    bob = await make_phone(bridge, "bob")
    carol = Carol(bridge, carol_side)
    try:
        answer = await carol.call("invite_multipart_first_message.sip")
        assert answer.status == 200
        connection = carol.expect_connection(answer)
        await connection.wait_ready(5)
        assert cpim.parse(bob.inbox.got[0][1]).decoded_body() == b"first in the INVITE"
        carol.in_dialog("update_refresh.sip", answer)
        refreshed = await carol.answer()
        assert refreshed.status == 200
        assert refreshed.headers.get("Session-Expires") == "1200;refresher=uac"
        carol.in_dialog("update_stale.sip", answer)  # a lower CSeq: out of order
        assert (await carol.answer()).status == 500
    finally:
        await bob.service.close()


@pytest.mark.parametrize(
    ("name", "status", "check"),
    [
        ("invite_bad_sdp.sip", 488, "Warning"),
        ("invite_no_cpim.sip", 488, "Warning"),
        ("invite_port_zero.sip", 488, "Warning"),
        ("invite_holdconn.sip", 488, "Warning"),
        ("invite_no_message_media.sip", 488, "Warning"),
        ("invite_text_body.sip", 415, "Accept"),
        ("invite_broken_multipart.sip", 400, None),
    ],
)
async def test_unacceptable_invites(name: str, status: int, check: str | None) -> None:
    bridge = Bridge()
    bob = await make_phone(bridge, "bob")
    carol = Carol(bridge, MsrpListener())
    try:
        answer = await carol.call(name)
        assert answer.status == status and answer.to.tag
        if check is not None:
            assert answer.headers.get(check)
        assert not bob.service.calls and bob.inbox.got == []
    finally:
        await bob.service.close()


async def test_cancelled_invite_leaves_nothing_behind() -> None:
    bridge = Bridge()
    bob = await make_phone(bridge, "bob")
    carol = Carol(bridge, MsrpListener())
    try:
        invite = carol.invite("invite_session.sip")
        branch = parse_message(invite).top_via.branch or ""
        bridge.route("carol", invite)
        bridge.route("carol", fill("cancel.sip", BRANCH=branch, CALLID="c4r0l-call-1"))
        statuses = set()
        for _ in range(2):
            got = await asyncio.wait_for(bridge.inbox["carol"].get(), 5)
            assert isinstance(got, Response)
            statuses.add((got.cseq.method, got.status))
        assert statuses == {("CANCEL", 200), ("INVITE", 487)}
        await settle()
        assert not bob.service.calls and not bob.service.sessions and bob.inbox.got == []
    finally:
        await bob.service.close()


async def test_tls_offer_is_answered_active_over_tls() -> None:
    bridge = Bridge()
    bob = await make_phone(bridge, "bob", prefer_setup="passive")
    carol = Carol(bridge, MsrpListener())
    carol.uri = parse_uri(f"msrps://127.0.0.1:{closed_port()}/c4r0lS;tcp")
    bridge.scripts["carol"] = carol_answers(None)
    try:
        answer = await carol.call("invite_tls.sip")
        assert answer.status == 200
        media = parse_msrp_media(answer.body)
        assert (media.transport, media.setup, media.path[0].scheme) == (
            "TCP/TLS/MSRP",
            "active",
            "msrps",
        )
        bye = await asyncio.wait_for(bridge.inbox["carol"].get(), 5)  # bob could not connect
        assert isinstance(bye, Request) and bye.method == "BYE"
        assert not bob.service.calls
    finally:
        await bob.service.close()


async def test_requests_for_unknown_dialogs_get_481() -> None:
    bridge = Bridge()
    bob = await make_phone(bridge, "bob")
    carol = Carol(bridge, MsrpListener())
    try:
        fake = build_response(
            corpus_request("invite_session.sip"),
            200,
            to_tag="nosuchtag",
        )
        carol.in_dialog("bye.sip", fake)
        assert (await carol.answer()).status == 481
    finally:
        await bob.service.close()


# --------------------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1800", SessionTimer(1800, None)),
        ("1800;refresher=uac", SessionTimer(1800, "uac")),
        (" 600 ; REFRESHER = UAS ", SessionTimer(600, "uas")),
        ("30", SessionTimer(90, None)),
        ("", None),
        (None, None),
        ("soon", None),
        ("99999999999", None),
    ],
)
def test_parse_session_expires(value: str | None, expected: SessionTimer | None) -> None:
    assert parse_session_expires(value) == expected


@given(st.text(max_size=60))
def test_parse_session_expires_takes_anything(value: str) -> None:
    timer = parse_session_expires(value)
    assert timer is None or (timer.interval >= 90 and timer.refresher in (None, "uac", "uas"))


def test_call_kind_and_offer_extraction() -> None:
    large = corpus_request("invite_large.sip")
    session = corpus_request("invite_multipart_first_message.sip")
    assert (call_kind(large), call_kind(session)) == ("large", "session")
    sdp, first = extract_offer(session)
    assert sdp is not None and sdp.startswith(b"v=0") and first is not None
    assert extract_offer(large) == (large.body, None)


def _invite_bodies() -> st.SearchStrategy[tuple[str, bytes]]:
    names = sorted(p.name for p in WIRE.glob("invite_*.sip"))

    def mutate(name: str, seed: int, count: int) -> tuple[str, bytes]:
        message = corpus_request(name)
        body = bytearray(message.body)
        chooser = random.Random(seed)
        for _ in range(count):
            if body:
                body[chooser.randrange(len(body))] = chooser.randrange(256)
        return message.content_type or "", bytes(body)

    return st.one_of(
        st.builds(mutate, st.sampled_from(names), st.integers(0, 2**32), st.integers(0, 8)),
        st.tuples(
            st.sampled_from(["application/sdp", "multipart/mixed;boundary=b", "text/plain", ""]),
            st.binary(max_size=300),
        ),
    )


@given(_invite_bodies())
def test_any_invite_body_gets_an_answer_or_is_taken(case: tuple[str, bytes]) -> None:
    content_type, body = case
    template = corpus_request("invite_session.sip")
    template.headers.remove("Content-Type")
    if content_type:
        template.headers.add("Content-Type", content_type)
    template.body = body
    endpoint = SimpleNamespace(on_request=lambda *a: None, new_id=lambda: "t1", flow=None)
    registration = SimpleNamespace(endpoint=endpoint, params=digest_params())
    service = MsrpService(registration, Inbox())  # type: ignore[arg-type]
    taken: list[Any] = []
    service.spawn = lambda coro: (taken.append(coro), coro.close())  # type: ignore[assignment, func-returns-value]
    answer = service.on_request(template, None)  # type: ignore[arg-type]
    if answer is None:
        assert len(taken) == 1
    else:
        assert answer.status in (400, 415, 488) and answer.to.tag == "t1"


async def test_session_timer_refreshes_with_update_and_expires() -> None:
    clock = FakeClock(1000.0)
    answers: list[int] = [200, 481]

    def core(request: Request, flow: Any) -> list[bytes] | bytes | None:
        if request.method == "REGISTER":
            return registrar(request, flow)
        status = answers.pop(0) if answers else 200
        response = build_response(request, status)
        if status == 200:
            response.headers.add("Session-Expires", "120;refresher=uac")
        return response.to_bytes()

    registrar = MiniRegistrar()
    network = FakeNetwork(core)
    params = replace(digest_params(), subscribe_reg_event=False)
    endpoint = SipEndpoint(
        params,
        clock=clock.now,
        new_id=counter_ids(),
        opener=network.open,
        timer_factory=ManualTimer,
    )
    registration = Registration(endpoint)
    await registration.start()
    dialog = Dialog(
        call_id="dlg1", local_tag="l1", remote_tag="r1", local_uri=ALICE, remote_uri=BOB,
        remote_target="sip:bob@127.0.0.1:5070", route_set=("sip:core.rcs.test;lr",), local_seq=1,
    )  # fmt: skip
    ended: list[str] = []
    usage = InviteDialog(endpoint, dialog, role="uac", timer=SessionTimer(180, "uac"))
    usage.on_terminated = ended.append
    await advance(endpoint, clock, 90)
    updates = network.requests("UPDATE")
    assert len(updates) == 1 and updates[0].headers.get("Session-Expires") == "180;refresher=uac"
    assert updates[0].headers.get("Route") == "<sip:core.rcs.test;lr>"
    assert usage.timer == SessionTimer(120, "uac")
    await advance(endpoint, clock, 60)
    assert len(network.requests("UPDATE")) == 2 and ended == ["session expired"]

    other = InviteDialog(
        endpoint, replace(dialog, call_id="dlg2"), role="uac", timer=SessionTimer(90, "uas")
    )
    gone: list[str] = []
    other.on_terminated = gone.append
    await advance(endpoint, clock, 59)
    assert gone == []
    await advance(endpoint, clock, 1)
    assert gone == ["session expired"]


# --------------------------------------------------------------------------- wiring


async def test_install_and_close_on_a_sim_stack() -> None:
    bridge = Bridge()
    params = digest_params(pcscfs=(PcscfTarget(Address("127.0.0.1", 5060), "tcp"),), outbound=False)
    bridge.registrars["alice"] = MiniRegistrar()
    endpoint = SipEndpoint(params, opener=bridge.opener("alice"), new_id=counter_ids("a"))
    registration = Registration(endpoint, max_attempts=1)
    await registration.start()
    chat = SimpleNamespace(timer_idle=0)
    config = SimpleNamespace(messaging=SimpleNamespace(chat=chat))
    messaging = SimpleNamespace(carriers={"pager": object()}, config=config, receive_cpim=None)
    stack = SimStack(1, None, registration=registration, messaging=messaging)  # type: ignore[arg-type]
    service = install_msrp_carriers(stack)
    assert service is not None and service.options.idle_timeout is None
    assert isinstance(messaging.carriers["large"], LargeMessageCarrier)
    assert isinstance(messaging.carriers["session"], SessionCarrier)
    assert {"BYE", "INVITE", "UPDATE"} <= set(endpoint.allowed_methods)
    await close_msrp_carriers(stack)
    assert service.closed and not {"BYE", "INVITE", "UPDATE"} & set(endpoint.allowed_methods)
    chat.timer_idle = 300
    assert MsrpOptions.from_config(config).idle_timeout == 300.0  # type: ignore[arg-type]
    assert MsrpOptions.from_config(None).idle_timeout == 180.0
    assert install_msrp_carriers(SimStack(2, None)) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MsrpOptions(prefer_setup="holdconn")
