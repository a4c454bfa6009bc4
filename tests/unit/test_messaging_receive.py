"""Receiving: the MESSAGE corpus answered and committed before the answer, duplicates,
malformed bodies (400 / stored unreadable / 415), is-composing, plain text, lab SMS, and
arbitrary bytes into receive_cpim."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_messaging_support import WIRE, Phone, make_phone, make_profile
from test_sip_endpoint_support import advance, settle

from rcs_terminal.domain.content import describe
from rcs_terminal.domain.events import IsComposingChanged, MessageReceived
from rcs_terminal.domain.message import Technology
from rcs_terminal.lab.smsc import Smsc
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import parse_imdn_payload


def received(phone: Phone) -> list[MessageReceived]:
    return [e for e in phone.events if isinstance(e, MessageReceived)]


async def test_text_is_committed_before_the_200_and_a_delivered_receipt_follows(
    tmp_path: Path,
) -> None:
    phone = await make_phone(tmp_path)
    seen_at_answer: list[Any] = []
    original = phone.stack.network.handle

    def spy(flow: Any, data: bytes) -> None:
        if data.startswith(b"SIP/2.0 200"):
            seen_at_answer.append(phone.store.message("bob-msg-0001"))
        original(flow, data)

    phone.stack.network.handle = spy  # type: ignore[method-assign]
    answer = await phone.deliver_file("in_text.sip")
    assert (answer.status, answer.reason) == (200, "OK") and answer.to.tag
    assert seen_at_answer and seen_at_answer[0] is not None  # committed before the 200
    stored = phone.store.message("bob-msg-0001")
    assert stored is not None and stored.state.value == "received"
    assert stored.peer_uri == "sip:bob@rcs.test" and stored.technology is Technology.PAGER
    assert stored.cpim_conversation_id == "6f6b1d2e-3c1a-4c8e-9a51-0c1f5a1b2c01"
    assert stored.contribution_id == "0b5f7a9e-8d44-4b7f-a0f1-2e8c3d4b5a02"
    assert stored.disposition_requested == {"positive-delivery", "display"}
    assert stored.sent_at == cpim.parse_rfc3339("2026-11-24T08:00:00Z").timestamp()  # type: ignore[union-attr]
    assert describe(stored.content_type, stored.body).text == "Hello Alice, 你好！"
    (event,) = received(phone)
    assert (event.sim, event.message_id) == (1, "bob-msg-0001")
    # the delivered receipt goes out after the 200
    (receipt,) = phone.core.messages
    sent = phone.stack.network.sent
    answer_at = next(i for i, d in enumerate(sent) if d.startswith(b"SIP/2.0 200"))
    receipt_at = next(i for i, d in enumerate(sent) if d.startswith(b"MESSAGE "))
    assert answer_at < receipt_at
    assert receipt.uri == "sip:bob@rcs.test"
    assert receipt.headers.get("Conversation-ID") == stored.cpim_conversation_id
    wrapper = cpim.parse(receipt.body)
    assert wrapper.is_imdn and wrapper.message_id != "bob-msg-0001"
    assert not wrapper.disposition_notification  # no receipt for a receipt
    notification = parse_imdn_payload(receipt.body, "message/cpim")
    assert (notification.message_id, notification.kind, notification.status) == (
        "bob-msg-0001",
        "delivery",
        "delivered",
    )
    assert notification.datetime is not None
    assert notification.datetime.timestamp() == stored.sent_at


async def test_a_duplicate_is_answered_but_stored_and_announced_once(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.deliver_file("in_text.sip")
    again = await phone.deliver_file(
        "in_text.sip", **{"branch=z9hG4bK-in_text": "branch=z9hG4bK-again"}
    )
    assert again.status == 200
    conversation = phone.store.conversations()[0]
    assert len(phone.store.messages(conversation.id)) == 1
    assert len(received(phone)) == 1


async def test_chatbot_card_with_chips_and_traffic_type(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    answer = await phone.deliver_file("in_card_chips.sip")
    assert answer.status == 200
    stored = phone.store.message("bot-card-0001")
    assert stored is not None and stored.traffic_type == "advertisement"
    assert stored.content_type == 'multipart/mixed; boundary="next"'
    content = describe(stored.content_type, stored.body)
    assert content.kind == "card" and content.suggestion_texts == ["满意", "客服电话"]
    assert stored.text_preview == "订单已发货"
    assert phone.store.conversations()[0].is_chatbot
    (receipt,) = phone.core.messages  # positive-delivery only
    assert len(receipt.headers.get_all("Accept-Contact")) == 2  # chatbot tags on the receipt


async def test_base64_text_is_stored_decoded(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert (await phone.deliver_file("in_base64_text.sip")).status == 200
    stored = phone.store.message("bob-msg-b64")
    assert stored is not None and stored.body.decode() == "五星红旗迎风飘扬"
    assert stored.disposition_requested == {"display"} and not phone.core.messages


async def test_unknown_content_is_kept(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert (await phone.deliver_file("in_unknown_type.sip")).status == 200
    stored = phone.store.message("bob-revoke-1")
    assert stored is not None and stored.content_type == "application/vnd.gsma.rcsrevoke+xml"
    assert describe(stored.content_type, stored.body).kind == "unknown"


async def test_broken_card_is_stored_as_unreadable(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert (await phone.deliver_file("broken/card_bad_json.sip")).status == 200
    stored = phone.store.message("bot-broken-1")
    assert stored is not None and stored.body.startswith(b'{"message"')
    assert "unreadable" in stored.extra
    content = describe(stored.content_type, stored.body)
    assert content.kind == "unknown" and content.error
    assert stored.text_preview.startswith("[unreadable")


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("broken/cpim_no_blank_line.sip", 400, "colon"),
        ("broken/cpim_undeclared_prefix.sip", 400, "prefix"),
        ("broken/imdn_bad_xml.sip", 400, ""),
        ("broken/bad_base64.sip", 400, "base64"),
        ("broken/iscomposing_no_state.sip", 400, "state"),
        ("broken/sdp_body.sip", 415, "Unsupported"),
    ],
)
async def test_malformed_messages_get_an_error_answer(
    tmp_path: Path, name: str, status: int, words: str
) -> None:
    phone = await make_phone(tmp_path)
    answer = await phone.deliver_file(name)
    assert answer.status == status and words in answer.reason
    assert answer.reason.isprintable()
    if status == 415:
        assert "message/cpim" in (answer.headers.get("Accept") or "")
    assert phone.store.conversations() == [] and not phone.core.messages


async def test_plain_text_without_cpim_uses_the_asserted_identity(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert (await phone.deliver_file("in_plain_text.sip")).status == 200
    stored = phone.store.message("sip-in_plain_text-call@rcs.test")
    assert stored is not None and stored.peer_uri == "tel:+8613800000002"
    assert stored.body == b"plain SIP text" and not phone.core.messages


async def test_is_composing_is_announced_expires_and_is_not_stored(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert (await phone.deliver_file("in_iscomposing.sip")).status == 200
    flags = [e.active for e in phone.events if isinstance(e, IsComposingChanged)]
    assert flags == [True] and phone.store.conversations() == []
    await advance(phone.stack.endpoint, phone.stack.clock, 61)
    flags = [e.active for e in phone.events if isinstance(e, IsComposingChanged)]
    assert flags == [True, False]


async def test_a_message_ends_the_typing_indication(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.deliver_file("in_iscomposing.sip")
    await phone.deliver_file("in_text.sip")
    events = [e for e in phone.events if isinstance(e, IsComposingChanged)]
    assert [e.active for e in events] == [True, False]
    assert events[0].peer == "sip:bob@rcs.test"
    await advance(phone.stack.endpoint, phone.stack.clock, 200)
    assert len([e for e in phone.events if isinstance(e, IsComposingChanged)]) == 2


async def test_delivery_receipts_respect_the_setting(tmp_path: Path) -> None:
    profile = make_profile("messaging: {delivery_notifications: false}\n")
    phone = await make_phone(tmp_path, profile=profile)
    await phone.deliver_file("in_text.sip")
    assert not phone.core.messages


async def test_receive_cpim_for_other_carriers(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    body = cpim.build(
        from_="sip:bob@rcs.test",
        to="sip:alice@rcs.test",
        datetime=None,
        body=b"over MSRP",
        content_type="text/plain",
        message_id="msrp-1",
    )
    status = await phone.service.receive_cpim(
        "sip:bob@rcs.test", body, technology="session", sip_headers=None
    )
    assert status == 200
    stored = phone.store.message("msrp-1")
    assert stored is not None and stored.technology is Technology.SESSION
    verdict = await phone.service.receive(
        "sip:bob@rcs.test", b"junk", technology="large", sip_headers=None
    )
    assert verdict.status == 400 and verdict.reason


async def test_lab_sms_is_stored_once_as_sms(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert phone.service.receive_sms("+8610086", "您的话费余额为 10 元", seq=5)
    assert not phone.service.receive_sms("+8610086", "您的话费余额为 10 元", seq=5)
    (conversation,) = phone.store.conversations()
    (message,) = phone.store.messages(conversation.id)
    assert message.technology is Technology.SMS and message.peer_uri == "tel:+8610086"
    assert len(received(phone)) == 1


# --------------------------------------------------------------------------- fuzz


_LOOP = asyncio.new_event_loop()
_PHONE: dict[str, Phone] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_fuzz_loop() -> Iterator[None]:
    yield
    for phone in _PHONE.values():
        phone.store.close()
    _LOOP.close()


def _phone(tmp_path_factory: Any) -> Phone:
    if "p" not in _PHONE:
        folder = tmp_path_factory.mktemp("fuzz")
        _PHONE["p"] = _LOOP.run_until_complete(make_phone(folder))
    return _PHONE["p"]


_GOOD = [
    (WIRE / name).read_bytes().split(b"\r\n\r\n", 1)[1]
    for name in ("in_text.sip", "in_card_chips.sip", "in_imdn_delivered.sip", "in_base64_text.sip")
]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=400), st.sampled_from(_GOOD)), st.data())
def test_arbitrary_and_mutated_cpim_never_raise(
    tmp_path_factory: Any, data: bytes, draw: st.DataObject
) -> None:
    phone = _phone(tmp_path_factory)
    buf = bytearray(data)
    for _ in range(draw.draw(st.integers(0, 6))):
        if not buf:
            break
        pos = draw.draw(st.integers(0, len(buf) - 1))
        buf[pos] = draw.draw(st.integers(0, 255))

    async def run() -> int:
        verdict = await phone.service.receive(
            "sip:bob@rcs.test", bytes(buf), technology="pager", sip_headers=None
        )
        await settle(3)
        return verdict.status

    status = _LOOP.run_until_complete(run())
    assert status in (200, 400, 413)


def test_corpus_is_crlf() -> None:
    for path in WIRE.rglob("*.sip"):
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        assert b"\n" not in head.replace(b"\r\n", b""), path


# --------------------------------------------------------------------------- lab SMS centre


class WatchedSmsc(Smsc):
    """The lab SMS centre, telling the test when a reader is waiting (a long poll)."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self, msisdn: str, after: int, timeout: float) -> list[Any]:
        if timeout > 0:
            self.waiting.set()
        return await super().wait(msisdn, after, timeout)


async def test_sms_inbox_reads_the_lab_sms_centre(tmp_path: Path) -> None:
    centre = WatchedSmsc()
    app = web.Application()
    app.add_routes(centre.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    phone = await make_phone(tmp_path)
    centre.deliver("+8613800000001", "old, before the phone started")
    reader = asyncio.get_running_loop().create_task(
        phone.service.run_sms_inbox(f"http://127.0.0.1:{port}")
    )
    try:
        await asyncio.wait_for(centre.waiting.wait(), 10)
        centre.deliver("+8613800000001", "123456", sender="10690000", port=37273)  # a data SMS
        centre.deliver("+8613800000001", "您的快递已到", sender="+8610690000")
        event = await phone.stack.bus.wait_for(MessageReceived, timeout=10)
        stored = phone.store.message(event.message_id)
        assert stored is not None and stored.body.decode() == "您的快递已到"
        assert stored.technology is Technology.SMS and stored.peer_uri == "tel:+8610690000"
        assert len(received(phone)) == 1
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        centre.deliver("+8613800000001", "wakes the abandoned long poll")
        await runner.cleanup()
