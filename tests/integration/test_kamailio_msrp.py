"""Large message mode and 1-to-1 chat sessions (INVITE + MSRP) between two emulated handsets,
through a real Kamailio on loopback and through the lab's registrar.

Checked each way: a 5 KB text (above SwitchoverSize) goes in large message mode (INVITE,
MSRP SEND, BYE) and is stored by the receiver with its delivered receipt coming back; a
chat session carries three messages each way in one INVITE dialog, with the receipts inside
the session, and ends with BYE. Over Kamailio the INVITE is record-routed, ACK and BYE carry
the route set, and MSRP runs directly between the handsets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rcs_terminal.domain.content import describe
from rcs_terminal.domain.events import Event, MessageReceived
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.engine.handset import Handset
from rcs_terminal.engine.msrp_carriers import MsrpService, SessionCarrier
from rcs_terminal.engine.trace import TraceRecord, TraceRecorder
from rcs_terminal.protocol.sip.message import Request, parse_message
from rcs_terminal.protocol.sip.sdp import parse_msrp_media
from tests.integration.conftest import Kamailio
from tests.integration.test_kamailio_register import sim_yaml, write_profile

BOB = "sip:bob@rcs.test"
ALICE = "sip:alice@rcs.test"
TEXT = "五千字节的长消息。" * 186  # 5022 bytes of UTF-8: large message mode


@pytest.fixture
def clean_location(kamailio: Kamailio) -> Iterator[Kamailio]:
    yield kamailio
    for user in ("alice", "bob"):
        subprocess.run(
            ["kamcmd", "-s", f"unix:{kamailio.run_dir}/kamailio_ctl", "ul.rm", "location", user],
            capture_output=True,
            timeout=10,
        )


def arrivals(handset: Handset) -> asyncio.Queue[MessageReceived]:
    queue: asyncio.Queue[MessageReceived] = asyncio.Queue()

    def on_event(event: Event) -> None:
        if isinstance(event, MessageReceived):
            queue.put_nowait(event)

    handset.bus.subscribe(on_event)
    return queue


def msrp_of(handset: Handset) -> MsrpService:
    messaging = handset.stack().messaging
    assert messaging is not None
    carrier = messaging.carriers["session"]
    assert isinstance(carrier, SessionCarrier)
    return carrier.service


def sip_requests(records: list[TraceRecord], owner: str, direction: str) -> list[Request]:
    found = []
    for record in records:
        if record.protocol == "SIP" and record.owner == owner and record.direction == direction:
            message = parse_message(record.data)
            if isinstance(message, Request):
                found.append(message)
    return found


async def exchange(
    alice: Handset, bob: Handset, alice_uri: str, bob_uri: str, trace: TraceRecorder
) -> None:
    """The scenario both networks run (see the module docstring)."""
    to_bob, to_alice = arrivals(bob), arrivals(alice)
    sender, receiver = alice.stack().messaging, bob.stack().messaging
    assert sender is not None and receiver is not None

    # large message mode, both ways
    for source, target, inbox, peer in (
        (sender, bob, to_bob, bob_uri),
        (receiver, alice, to_alice, alice_uri),
    ):
        result = await source.send_text(peer, TEXT)
        assert (result.technology, result.status) == ("large", 200), result
        event = await asyncio.wait_for(inbox.get(), 15)
        got = target.store.message(event.message_id)
        assert got is not None and got.technology.value == "large"
        assert describe(got.content_type, got.body).text == TEXT
        state = await source.wait_for_state(result.message_id, {"delivered", "displayed"}, 15)
        assert state.state.value == "delivered"
    assert not msrp_of(alice).calls and not msrp_of(bob).calls

    # a chat session: three messages each way in one dialog
    invites_before = len(sip_requests(trace.records(), alice.profile.name or "", "out"))
    for number in range(3):
        out = await sender.send_content(
            bob_uri, "text/plain;charset=UTF-8", f"你好 {number}".encode(), technology="session"
        )
        assert (out.technology, out.status) == ("session", 200), out
        event = await asyncio.wait_for(to_bob.get(), 15)
        got = bob.store.message(event.message_id)
        assert got is not None and got.body == f"你好 {number}".encode()
        assert got.technology.value == "session"
        back = await receiver.send_content(
            alice_uri, "text/plain;charset=UTF-8", f"hello {number}".encode(), technology="session"
        )
        assert (back.technology, back.status) == ("session", 200), back
        event = await asyncio.wait_for(to_alice.get(), 15)
        got = alice.store.message(event.message_id)
        assert got is not None and got.body == f"hello {number}".encode()
        delivered = await sender.wait_for_state(out.message_id, {"delivered"}, 15)
        assert delivered.state.value == "delivered"
    sent_by_alice = sip_requests(trace.records(), alice.profile.name or "", "out")[invites_before:]
    assert [r.method for r in sent_by_alice].count("INVITE") <= 2  # one, plus a 407 retry
    assert "MESSAGE" not in [r.method for r in sent_by_alice]  # receipts went in the session
    alice_msrp, bob_msrp = msrp_of(alice), msrp_of(bob)
    (call,) = alice_msrp.sessions.values()
    assert call.usable and len(bob_msrp.sessions) == 1
    (bob_call,) = bob_msrp.sessions.values()
    await call.close("chat closed")  # BYE; bob forgets the session before answering 200
    assert call.close_reason == "chat closed" and bob_call.closed
    assert not alice_msrp.sessions and not bob_msrp.sessions
    assert bob_call.connection is not None
    await asyncio.wait_for(bob_call.connection.closed, 5)
    msrp_records = trace.records(protocol="MSRP")
    assert msrp_records and all(r.remote.startswith("127.0.0.1:") for r in msrp_records)


# --------------------------------------------------------------------------- Kamailio


@pytest.mark.kamailio
@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_large_messages_and_a_session_through_kamailio(
    clean_location: Kamailio, tmp_path: Path, transport: str
) -> None:
    kamailio = clean_location
    trace = TraceRecorder()
    paths = {
        user: write_profile(tmp_path / f"{user}.yaml", sim_yaml(1, user, kamailio.port, transport))
        for user in ("alice", "bob")
    }
    alice = Handset(load_profile(str(paths["alice"])), trace=trace)
    bob = Handset(load_profile(str(paths["bob"])), trace=trace)
    try:
        assert await alice.start() == {1: None}
        assert await bob.start() == {1: None}
        await exchange(alice, bob, ALICE, BOB, trace)
        received = sip_requests(trace.records(), "bob", "in")
        invite = next(r for r in received if r.method == "INVITE")
        assert invite.headers.get("Record-Route")  # record-routed by Kamailio
        media = parse_msrp_media(invite.body)
        assert media.connection_address == "127.0.0.1"
        assert media.path[0].host == "127.0.0.1" and media.path[0].port
        sent = sip_requests(trace.records(), "alice", "out")
        # ACK of a 2xx and BYE go to bob's Contact along the route set (the ACK of the 407
        # stays in the INVITE's transaction and has no Route)
        in_dialog = [r for r in sent if r.method in ("ACK", "BYE") and r.uri != BOB]
        assert {r.method for r in in_dialog} == {"ACK", "BYE"}
        assert all(r.headers.get("Route") for r in in_dialog)
    finally:
        await alice.stop()
        await bob.stop()


# --------------------------------------------------------------------------- the lab


@pytest.fixture
async def lab() -> AsyncIterator[object]:
    lab_module = pytest.importorskip("rcs_terminal.lab.lab")
    network = lab_module.Lab()
    await network.start()
    try:
        yield network
    finally:
        await network.stop()


async def test_large_messages_and_a_session_through_the_lab(lab: object) -> None:
    info = lab.info  # type: ignore[attr-defined]
    trace = TraceRecorder()
    alice = Handset(load_profile("lab-alice"), lab=info, trace=trace)
    bob = Handset(load_profile("lab-bob"), lab=info, trace=trace)
    try:
        assert await alice.start() == {1: None}
        assert await bob.start() == {1: None}
        alice_reg, bob_reg = alice.stack().registration, bob.stack().registration
        assert alice_reg is not None and bob_reg is not None
        await exchange(alice, bob, alice_reg.default_impu, bob_reg.default_impu, trace)
    finally:
        await alice.stop()
        await bob.stop()
