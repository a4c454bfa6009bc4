"""Receipts and the store in the loop: states from IMDNs (in and out of order, CPIM-wrapped
and bare), waiting for a state, display receipts and their settings, and resending after a
simulated crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_messaging_support import EPOCH, Core, Phone, make_phone, make_profile

from rcs_terminal.domain.events import MessageStateChanged
from rcs_terminal.domain.message import Technology
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import parse_imdn_payload

BOT = "sip:demo@botplatform.rcs.test"


def state_events(events: list[object]) -> list[str]:
    return [e.state for e in events if isinstance(e, MessageStateChanged)]


def state_of(phone: Phone, message_id: str) -> str:
    stored = phone.store.message(message_id)
    assert stored is not None
    return stored.state.value


async def sent_message(tmp_path: Path) -> tuple[Phone, str]:
    phone = await make_phone(tmp_path)
    result = await phone.service.send_text(BOT, "hello")
    assert result.message_id == "alice-msg-0001" and result.state == "sent"
    return phone, result.message_id


async def test_delivered_then_displayed(tmp_path: Path) -> None:
    phone, mid = await sent_message(tmp_path)
    assert (await phone.deliver_file("in_imdn_delivered.sip")).status == 200
    assert state_of(phone, mid) == "delivered"
    await phone.deliver_file("in_imdn_displayed.sip")
    stored = phone.store.message(mid)
    assert stored is not None and stored.state.value == "displayed"
    assert stored.delivered_at and stored.displayed_at
    assert state_events(phone.events)[-2:] == ["delivered", "displayed"]


async def test_out_of_order_receipts_never_go_backwards(tmp_path: Path) -> None:
    phone, mid = await sent_message(tmp_path)
    await phone.deliver_file("in_imdn_displayed_bare.sip")
    await phone.deliver_file("in_imdn_delivered.sip")
    await phone.deliver_file("in_imdn_failed.sip")
    assert state_of(phone, mid) == "displayed"
    assert state_events(phone.events).count("displayed") == 1


async def test_a_failure_receipt_fails_the_message(tmp_path: Path) -> None:
    phone, mid = await sent_message(tmp_path)
    await phone.deliver_file("in_imdn_failed.sip")
    stored = phone.store.message(mid)
    assert stored is not None and stored.state.value == "failed"
    assert stored.failure_reason == "IMDN forbidden"
    # a late delivered receipt is proof of delivery
    await phone.deliver_file("in_imdn_delivered.sip")
    assert state_of(phone, mid) == "delivered"


async def test_receipt_for_an_unknown_message_is_accepted(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    assert (await phone.deliver_file("in_imdn_delivered.sip")).status == 200
    assert phone.store.conversations() == []


async def test_wait_for_state(tmp_path: Path) -> None:
    phone, mid = await sent_message(tmp_path)
    service = phone.service
    waiting = asyncio.get_running_loop().create_task(
        service.wait_for_state(mid, {"delivered", "displayed"}, 5)
    )
    await asyncio.sleep(0)
    assert not waiting.done()
    await phone.deliver_file("in_imdn_delivered.sip")
    reached = await waiting
    assert reached.state.value == "delivered"
    # already there: returns at once
    assert (await service.wait_for_state(mid, {"sent", "delivered"}, 0)).message_id == mid
    with pytest.raises(TimeoutError):
        await service.wait_for_state(mid, {"displayed"}, 0)
    with pytest.raises(KeyError):
        await service.wait_for_state("nope", {"sent"}, 1)


async def test_wait_for_state_gives_up_on_failure(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, core=Core(message_answers=[403]))
    result = await phone.service.send_text(BOT, "x")
    stored = await phone.service.wait_for_state(result.message_id, {"delivered"}, 1)
    assert stored.state.value == "failed"


# --------------------------------------------------------------------------- display receipts


async def test_mark_displayed_sends_the_displayed_receipt_once(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.deliver_file("in_text.sip")
    assert len(phone.core.messages) == 1  # delivered
    await phone.service.mark_displayed("bob-msg-0001")
    assert len(phone.core.messages) == 2
    notification = parse_imdn_payload(phone.core.messages[-1].body, "message/cpim")
    assert (notification.kind, notification.status, notification.message_id) == (
        "display",
        "displayed",
        "bob-msg-0001",
    )
    stored = phone.store.message("bob-msg-0001")
    assert stored is not None and stored.state.value == "displayed_by_us"
    assert stored.displayed_reported and not stored.wants_display_report
    assert "displayed_by_us" in state_events(phone.events)
    await phone.service.mark_displayed("bob-msg-0001")
    assert len(phone.core.messages) == 2
    await phone.service.mark_displayed("unknown-id")  # harmless


async def test_no_display_receipt_when_not_asked(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.deliver_file("in_card_chips.sip")  # positive-delivery only
    await phone.service.mark_displayed("bot-card-0001")
    assert len(phone.core.messages) == 1


async def test_display_receipts_off_unless_the_chatbot_was_allowed(tmp_path: Path) -> None:
    profile = make_profile("messaging: {displayed_notifications: false}\n")
    phone = await make_phone(tmp_path, profile=profile)
    await phone.deliver_file("in_text.sip")
    await phone.service.mark_displayed("bob-msg-0001")
    assert len(phone.core.messages) == 1  # only delivered
    stored = phone.store.message("bob-msg-0001")
    assert stored is not None and stored.wants_display_report
    phone.service.enable_displayed_notifications("sip:BOB@rcs.test".replace("BOB", "bob"))
    assert phone.service.imdn.may_report_display(stored)
    await phone.service.resend_pending()  # sends the display receipts that are due
    assert len(phone.core.messages) == 2
    stored = phone.store.message("bob-msg-0001")
    assert stored is not None and stored.displayed_reported


# --------------------------------------------------------------------------- restart


async def test_resend_after_a_crash_uses_the_same_id_once(tmp_path: Path) -> None:
    # the previous process stored two messages and died: one never sent, one in flight
    store = MessageStore.open(tmp_path / "messages.sqlite3", durable=False)
    store.add_outgoing(
        1,
        BOT,
        "text/plain;charset=UTF-8",
        b"queued before the crash",
        message_id="old-queued",
        now=EPOCH - 60,
        contribution_id="c-1",
        cpim_conversation_id="conv-1",
        disposition_requested=frozenset({"positive-delivery", "display"}),
    )
    store.add_outgoing(
        1,
        BOT,
        "text/plain;charset=UTF-8",
        b"in flight at the crash",
        message_id="old-sending",
        now=EPOCH - 30,
        contribution_id="c-2",
        cpim_conversation_id="conv-1",
        disposition_requested=frozenset({"positive-delivery"}),
    )
    store.mark_sending("old-sending", EPOCH - 29)
    store.close()

    phone = await make_phone(tmp_path)
    assert await phone.service.resend_pending() == 2
    first, second = phone.core.messages
    assert [cpim.parse(m.body).message_id for m in (first, second)] == [
        "old-queued",
        "old-sending",
    ]
    body = cpim.parse(first.body)
    assert body.text() == "queued before the crash"
    assert body.datetime is not None and body.datetime.timestamp() == EPOCH - 60
    assert first.headers.get("Conversation-ID") == "conv-1"
    assert first.headers.get("Contribution-ID") == "c-1"
    assert second.headers.get("Contribution-ID") == "c-2"
    for mid in ("old-queued", "old-sending"):
        stored = phone.store.message(mid)
        assert stored is not None and stored.state.value == "sent"
        assert stored.technology is Technology.PAGER
    assert await phone.service.resend_pending() == 0
    assert len(phone.core.messages) == 2
