"""CPM standalone pager mode through a real Kamailio on loopback.

Two emulated handsets (alice and bob, static ``ims:`` profiles) register with Kamailio, which
digest-challenges every MESSAGE and forwards it to the registered contact. Checked: a text
and a card with a chip list (multipart/mixed) from alice to bob, bob's ``delivered`` receipt
back to alice, ``displayed`` after bob's ``mark_displayed``, the states in alice's store;
``listen`` (bob) and ``send --wait delivered`` (alice) as subprocesses; and a sender killed
right after committing its message, whose next start sends it exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcs_terminal.domain.content import describe
from rcs_terminal.domain.events import Event, MessageReceived
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.engine.handset import Handset
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.sip.message import parse_message
from rcs_terminal.protocol.up import contenttypes as ct
from tests.integration.conftest import Kamailio
from tests.integration.test_kamailio_register import sim_yaml, write_profile

pytestmark = pytest.mark.kamailio

ROOT = Path(__file__).resolve().parents[2]
BOB = "sip:bob@rcs.test"
ALICE = "sip:alice@rcs.test"
CARD = {  # small enough for pager mode under China's 900-byte SwitchoverSize
    "message": {
        "generalPurposeCard": {
            "layout": {"cardOrientation": "VERTICAL"},
            "content": {"title": "订单已发货", "description": "预计明天送达"},
        }
    }
}
CHIPS = {
    "suggestions": [
        {"reply": {"displayText": "满意", "postback": {"data": "rate_3"}}},
        {"reply": {"displayText": "不满意", "postback": {"data": "rate_1"}}},
    ]
}


@pytest.fixture(autouse=True)
def _clean_location(kamailio: Kamailio) -> Iterator[None]:
    yield
    for user in ("alice", "bob"):
        kamailio_rm(kamailio, user)


def kamailio_rm(kamailio: Kamailio, user: str) -> None:
    import subprocess

    subprocess.run(
        ["kamcmd", "-s", f"unix:{kamailio.run_dir}/kamailio_ctl", "ul.rm", "location", user],
        capture_output=True,
        timeout=10,
    )


def profile_path(tmp_path: Path, kamailio: Kamailio, user: str, transport: str) -> Path:
    return write_profile(tmp_path / f"{user}.yaml", sim_yaml(1, user, kamailio.port, transport))


def arrivals(handset: Handset) -> asyncio.Queue[MessageReceived]:
    queue: asyncio.Queue[MessageReceived] = asyncio.Queue()

    def on_event(event: Event) -> None:
        if isinstance(event, MessageReceived):
            queue.put_nowait(event)

    handset.bus.subscribe(on_event)
    return queue


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_pager_text_and_card_with_receipts(
    kamailio: Kamailio, tmp_path: Path, transport: str
) -> None:
    trace = TraceRecorder()
    alice = Handset(
        load_profile(str(profile_path(tmp_path, kamailio, "alice", transport))), trace=trace
    )
    bob = Handset(
        load_profile(str(profile_path(tmp_path, kamailio, "bob", transport))), trace=trace
    )
    inbox = arrivals(bob)
    try:
        assert await alice.start() == {1: None}
        assert await bob.start() == {1: None}
        sender = alice.stack().messaging
        receiver = bob.stack().messaging
        assert sender is not None and receiver is not None

        result = await sender.send_text(BOB, "你好 Bob")
        assert (result.technology, result.state, result.status) == ("pager", "sent", 200)
        event = await asyncio.wait_for(inbox.get(), 10)
        got = bob.store.message(event.message_id)
        assert got is not None and got.message_id == result.message_id
        assert got.peer_uri == ALICE and describe(got.content_type, got.body).text == "你好 Bob"
        delivered = await sender.wait_for_state(result.message_id, {"delivered", "displayed"}, 10)
        assert delivered.state.value == "delivered"
        await receiver.mark_displayed(result.message_id)
        displayed = await sender.wait_for_state(result.message_id, {"displayed"}, 10)
        assert displayed.state.value == "displayed" and displayed.displayed_at is not None

        chips = json.dumps(CHIPS, ensure_ascii=False).encode()
        card = json.dumps(CARD, ensure_ascii=False).encode()
        ctype, body = build_multipart(
            [Part.create(ct.BOTMESSAGE, card), Part.create(ct.BOTSUGGESTION, chips)]
        )
        sent_card = await sender.send_content(BOB, ctype, body, preview="订单已发货")
        assert (sent_card.technology, sent_card.state) == ("pager", "sent")
        event = await asyncio.wait_for(inbox.get(), 10)
        got = bob.store.message(event.message_id)
        assert got is not None
        content = describe(got.content_type, got.body)
        assert content.kind == "card" and content.suggestion_texts == ["满意", "不满意"]
        assert content.card is not None and content.card.content.title == "订单已发货"
        state = await sender.wait_for_state(sent_card.message_id, {"delivered"}, 10)
        assert state.state.value == "delivered"

        conversation = alice.store.conversations()[0]
        states = [m.state.value for m in alice.store.messages(conversation.id)]
        assert states == ["displayed", "delivered"]
        incoming = [r for r in trace.records(sim=1) if r.direction == "in"]
        assert any(r.first_line.startswith("SIP/2.0 407") for r in incoming)  # MESSAGE challenged
    finally:
        await alice.stop()
        await bob.stop()


async def run_cli(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rcs_terminal", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "RCS_TERMINAL_HOME": str(home), **(env or {})},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_listen_and_send_wait_delivered(kamailio: Kamailio, tmp_path: Path) -> None:
    bob = profile_path(tmp_path, kamailio, "bob", "tcp")
    alice = profile_path(tmp_path, kamailio, "alice", "udp")
    listener = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rcs_terminal", "listen", "-p", str(bob), "--json", "--for", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "RCS_TERMINAL_HOME": str(tmp_path / "home-bob")},
    )  # fmt: skip
    assert listener.stdout is not None and listener.stderr is not None
    try:
        ready = await asyncio.wait_for(listener.stderr.readline(), 30)
        assert ready.decode().startswith("listening on SIM 1 as sip:bob@rcs.test"), ready
        code, out, err = await run_cli(
            "send", "-p", str(alice), BOB, "hello from the CLI", "--wait", "delivered", "--json",
            home=tmp_path / "home-alice",
        )  # fmt: skip
        assert code == 0, err
        result = json.loads(out)
        assert (result["technology"], result["status"]) == ("pager", "delivered")
        line = json.loads(await asyncio.wait_for(listener.stdout.readline(), 10))
        assert line == {
            "sim": 1,
            "from": ALICE,
            "content_type": "text/plain;charset=UTF-8",
            "kind": "text",
            "text": "hello from the CLI",
            "card": None,
            "suggestions": [],
            "message_id": result["message_id"],
            "traffic_type": None,
            "technology": "pager",
            "error": None,
        }
    finally:
        listener.send_signal(signal.SIGINT)
        await asyncio.wait_for(listener.wait(), 30)
    assert listener.returncode == 0


async def test_sender_killed_after_storing_resends_once(kamailio: Kamailio, tmp_path: Path) -> None:
    bob = Handset(load_profile(str(profile_path(tmp_path, kamailio, "bob", "tcp"))))
    inbox = arrivals(bob)
    alice = profile_path(tmp_path, kamailio, "alice", "tcp")
    home = tmp_path / "home-alice"
    try:
        assert await bob.start() == {1: None}
        code, out, _ = await run_cli(
            "send", "-p", str(alice), BOB, "stored, then killed", "--json",
            home=home, env={"RCS_TERMINAL_TEST_CRASH_AFTER_STORE": "1"},
        )  # fmt: skip
        assert code == 1 and out == ""
        assert inbox.empty()
        code, out, err = await run_cli(
            "send", "-p", str(alice), BOB, "the next start", "--wait", "delivered", "--json",
            home=home,
        )  # fmt: skip
        assert code == 0, err
        texts: list[str] = []
        for _ in range(2):
            event = await asyncio.wait_for(inbox.get(), 15)
            got = bob.store.message(event.message_id)
            assert got is not None
            texts.append(got.body.decode())
        assert sorted(texts) == ["stored, then killed", "the next start"]
        code, _, err = await run_cli("send", "-p", str(alice), BOB, "third", "--json", home=home)
        assert code == 0, err
        event = await asyncio.wait_for(inbox.get(), 15)
        third = bob.store.message(event.message_id)
        assert third is not None and third.body == b"third"
        assert inbox.empty()
        conversation = bob.store.conversations()[0]
        bodies = [m.body for m in bob.store.messages(conversation.id)]
        assert bodies.count(b"stored, then killed") == 1 and len(bodies) == 3
        received = count_messages(bob.trace.records(sim=1), b"stored, then killed")
        assert received == 1
    finally:
        await bob.stop()


def count_messages(records: Any, text: bytes) -> int:
    """Distinct MESSAGE requests (by Call-ID: a retransmission is the same request) that
    carried ``text``."""
    calls = set()
    for record in records:
        if (
            record.direction == "in"
            and record.first_line.startswith("MESSAGE ")
            and text in record.data
        ):
            message = parse_message(record.data)
            calls.add(message.call_id)
    return len(calls)
