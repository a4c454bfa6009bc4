"""Sending: header sets per peer kind, the CPIM we build, carrier choice, SMS fallback,
retries, and the content helpers (chip response, device specifics, location, file)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from test_messaging_support import Core, make_phone, make_profile
from test_sip_endpoint_support import advance

from rcs_terminal.domain.events import MessageStateChanged
from rcs_terminal.domain.message import Technology
from rcs_terminal.engine.carriers import CarrierResult
from rcs_terminal.engine.messaging import MessagingSettings
from rcs_terminal.errors import FileTransferError, SipParseError
from rcs_terminal.protocol.iscomposing import parse_iscomposing
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo
from rcs_terminal.protocol.up.geopush import parse_geopush
from rcs_terminal.protocol.up.sharedclientdata import parse_shared_client_data
from rcs_terminal.protocol.up.suggestions import (
    Action,
    DialPhoneNumber,
    Reply,
    parse_suggestion_response,
)

CPM_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
BOB = "tel:+8613800000002"
BOT = "sip:demo@botplatform.rcs.test"


class FakeCarrier:
    """A carrier that records what it is given and answers from a script."""

    def __init__(self, name: str, *answers: CarrierResult) -> None:
        self.name = name
        self.answers = list(answers)
        self.sent: list[tuple[str, bytes, list[tuple[str, str]], bool]] = []

    async def deliver(
        self, peer: str, cpim: bytes, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> CarrierResult:
        self.sent.append((peer, cpim, headers, chatbot))
        return self.answers.pop(0) if self.answers else CarrierResult(True, 200, "OK")


def states(events: list[Any], message_id: str) -> list[str]:
    return [
        e.state for e in events if isinstance(e, MessageStateChanged) and e.message_id == message_id
    ]


# --------------------------------------------------------------------------- wire


async def test_text_to_a_person_queries_options_then_sends_a_pager_message(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    result = await phone.service.send_text("+8613800000002", "你好 Bob")
    assert (result.technology, result.state, result.status) == ("pager", "sent", 200)
    assert result.message_id == "alice-msg-0001"
    (options,) = phone.core.options
    assert options.uri == BOB
    (request,) = phone.core.messages
    headers = request.headers
    assert request.method == "MESSAGE" and request.uri == BOB
    assert headers.get("Route") == "<sip:orig@scscf.rcs.test:6060;lr>"
    assert request.from_.uri == "sip:alice@rcs.test" and request.from_.tag
    assert request.to.uri == BOB and request.to.tag is None
    assert headers.get("P-Preferred-Identity") == "<sip:alice@rcs.test>"
    assert headers.get("P-Preferred-Service") == CPM_MSG
    (accept,) = request.addresses("Accept-Contact")
    assert accept.is_wildcard
    assert feature_tags(accept.params) == {"+g.3gpp.icsi-ref": [CPM_MSG]}
    assert headers.get("Conversation-ID") and headers.get("Contribution-ID")
    assert headers.get("Content-Type") == "message/cpim"
    assert (headers.get("User-Agent") or "").startswith("CPM-client/OMA2.2")
    body = phone.core.cpim_of()
    assert body.from_ is not None and body.from_.uri == "sip:alice@rcs.test"
    assert body.to is not None and body.to.uri == BOB
    assert body.message_id == "alice-msg-0001"
    assert body.disposition_notification == {"positive-delivery", "display"}
    assert body.get_all("urn:ietf:params:imdn", "Disposition-Notification") == [
        "positive-delivery, display"
    ]
    assert body.datetime is not None and body.datetime.timestamp() == phone.wall.now()
    assert body.content_type.media_type == "text/plain" and body.text() == "你好 Bob"
    stored = phone.store.message("alice-msg-0001")
    assert stored is not None and stored.state.value == "sent"
    assert stored.technology is Technology.PAGER and stored.peer_uri == BOB
    assert stored.cpim_conversation_id == headers.get("Conversation-ID")
    assert stored.contribution_id == headers.get("Contribution-ID")
    assert states(phone.events, "alice-msg-0001") == ["queued", "sending", "sent"]


async def test_conversation_id_is_kept_and_contribution_id_is_new(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.service.send_text(BOB, "one")
    await phone.service.send_text(BOB, "two")
    first, second = phone.core.messages
    assert first.headers.get("Conversation-ID") == second.headers.get("Conversation-ID")
    assert first.headers.get("Contribution-ID") != second.headers.get("Contribution-ID")
    assert first.call_id != second.call_id
    assert len(phone.core.options) == 1  # the answer is cached


async def test_chatbot_gets_the_chatbot_accept_contact_and_no_options(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    result = await phone.service.send_text(BOT, "hi")
    assert result.state == "sent" and not phone.core.options
    (request,) = phone.core.messages
    first, second = request.addresses("Accept-Contact")
    assert feature_tags(first.params) == {"+g.3gpp.icsi-ref": [CPM_MSG]}
    assert feature_tags(second.params) == {
        "+g.3gpp.iari-ref": ["urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa"],
        "+g.gsma.rcs.botversion": ["#=1", "#=2"],
    }
    raw = request.headers.get_all("Accept-Contact")[1]
    assert raw.endswith(";require;explicit")
    assert 'botversion="#=1,#=2"' in raw
    conversation = phone.store.conversations()[0]
    assert conversation.is_chatbot


async def test_202_accepted_counts_as_sent(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, core=Core(message_answers=[202]))
    result = await phone.service.send_text(BOT, "hi")
    assert (result.state, result.status) == ("sent", 202)


async def test_bad_target_is_refused_before_storing(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    with pytest.raises(SipParseError):
        await phone.service.send_text("not a target", "x")
    assert phone.store.conversations() == []


# --------------------------------------------------------------------------- SMS fallback, retries


async def test_options_404_sends_by_sms_fallback(tmp_path: Path) -> None:
    core = Core(options_answers={BOB: "options_404.sip"})
    phone = await make_phone(tmp_path, core=core)
    result = await phone.service.send_text(BOB, "are you there?")
    assert (result.technology, result.state, result.status) == ("sms-fallback", "sms_fallback", 404)
    assert result.reason is not None and "sent by SMS fallback" in result.reason
    assert not core.messages
    stored = phone.store.message(result.message_id)
    assert stored is not None and stored.technology is Technology.SMS
    assert stored.failure_reason is not None and "sent by SMS fallback" in stored.failure_reason
    # the non-RCS answer is cached: no second OPTIONS
    again = await phone.service.send_text(BOB, "still?")
    assert again.technology == "sms-fallback" and len(core.options) == 1


async def test_an_answer_without_messaging_tags_is_not_rcs(tmp_path: Path) -> None:
    core = Core(options_answers={BOB: "options_200_linphone_bare.sip"})
    phone = await make_phone(tmp_path, core=core)
    assert (await phone.service.send_text(BOB, "x")).technology == "sms-fallback"


async def test_offline_rcs_user_is_still_tried(tmp_path: Path) -> None:
    core = Core(options_answers={BOB: "options_480.sip"}, message_answers=[480])
    phone = await make_phone(tmp_path, core=core)
    result = await phone.service.send_text(BOB, "x")
    assert len(core.messages) == 1  # 480 is not retried
    assert result.technology == "sms-fallback" and "480" in (result.reason or "")


async def test_one_retry_then_sms_fallback(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, core=Core(message_answers=[500, 503]))
    result = await phone.service.send_text(BOB, "x")
    assert len(phone.core.messages) == 2
    assert result.technology == "sms-fallback" and result.status == 503
    first, second = phone.core.messages
    assert first.body == second.body  # same CPIM, same imdn.Message-ID


async def test_retry_can_succeed(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, core=Core(message_answers=[503, 200]))
    result = await phone.service.send_text(BOB, "x")
    assert (result.state, len(phone.core.messages)) == ("sent", 2)


async def test_timeout_is_retried_then_falls_back(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, core=Core(message_answers=[None, None]))
    sending = asyncio.get_running_loop().create_task(phone.service.send_text(BOB, "x"))
    await advance(phone.stack.endpoint, phone.stack.clock, 40)
    await advance(phone.stack.endpoint, phone.stack.clock, 40)
    result = await sending
    assert (result.technology, result.status) == ("sms-fallback", 408)
    assert len(phone.core.messages) == 2


async def test_no_sms_fallback_for_chatbots_or_peers_without_number(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, core=Core(message_answers=[403, 404]))
    to_bot = await phone.service.send_text(BOT, "x")
    assert (to_bot.technology, to_bot.state, to_bot.status) == ("pager", "failed", 403)
    to_sip = await phone.service.send_text("sip:bob@rcs.test", "x")
    assert (to_sip.state, to_sip.status) == ("failed", 404)
    stored = phone.store.message(to_sip.message_id)
    assert stored is not None and stored.failure_reason == "RCS delivery failed: 404 Not Found"
    assert len(phone.core.messages) == 2  # 403 and 404 are not retried


async def test_sms_fallback_can_be_turned_off(tmp_path: Path) -> None:
    core = Core(options_answers={BOB: "options_404.sip"})
    phone = await make_phone(tmp_path, core=core, settings=MessagingSettings(sms_fallback=False))
    result = await phone.service.send_text(BOB, "x")
    assert result.state == "failed" and "not an RCS user" in (result.reason or "")


# --------------------------------------------------------------------------- carrier choice


async def test_large_bodies_use_the_large_carrier(tmp_path: Path) -> None:
    large = FakeCarrier("large")
    phone = await make_phone(tmp_path, carriers={"large": large})
    result = await phone.service.send_text(BOT, "x" * 1400)
    assert (result.technology, result.state) == ("large", "sent")
    assert not phone.core.messages and len(large.sent) == 1
    peer, _body, headers, chatbot = large.sent[0]
    assert (
        peer == BOT and chatbot and dict(headers).keys() == {"Conversation-ID", "Contribution-ID"}
    )
    stored = phone.store.message(result.message_id)
    assert stored is not None and stored.technology is Technology.LARGE


async def test_missing_large_carrier_fails_clearly_above_the_pager_limit(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    result = await phone.service.send_text(BOT, "x" * 1400)
    assert result.state == "failed" and not phone.core.messages
    assert "large messaging is not available" in (result.reason or "")


async def test_missing_large_carrier_uses_pager_when_it_fits(tmp_path: Path) -> None:
    settings = MessagingSettings(switchover_size=900, pager_limit=60 * 1024)
    phone = await make_phone(tmp_path, settings=settings)
    result = await phone.service.send_text(BOT, "x" * 1000)
    assert (result.technology, result.state) == ("pager", "sent")


async def test_max_size_is_enforced(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path, settings=MessagingSettings(max_size=500))
    result = await phone.service.send_text(BOT, "x" * 600)
    assert result.state == "failed" and "MaxSize" in (result.reason or "")


async def test_session_only_chatbots_use_the_session_carrier(tmp_path: Path) -> None:
    session = FakeCarrier("session")
    phone = await make_phone(
        tmp_path, settings=MessagingSettings(chatbot_msg_tech=1), carriers={"session": session}
    )
    assert (await phone.service.send_text(BOT, "hi")).technology == "session"
    assert (await phone.service.send_text(BOB, "hi")).technology == "pager"
    forced = await phone.service.send_content(BOB, ct.TEXT_PLAIN, b"x", technology="session")
    assert forced.technology == "session" and len(session.sent) == 2


async def test_settings_come_from_the_profile_and_operator() -> None:
    profile = make_profile("messaging: {delivery_notifications: false, is_composing: false}\n")
    settings = MessagingSettings.for_sim(profile, profile.sim(1), None, transport="tcp")
    assert settings.switchover_size == 1300 and settings.pager_limit == 60 * 1024
    assert not settings.delivery_notifications and not settings.is_composing
    china = make_profile().model_copy(deep=True)
    sim = china.sim(1).model_copy(
        update={"operator": china.sim(1).operator.model_copy(update={"mcc": "460", "mnc": "00"})}
    )
    assert MessagingSettings.for_sim(china, sim, None).switchover_size == 900


# --------------------------------------------------------------------------- content helpers


async def test_suggestion_responses_copy_the_chip_exactly(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    reply = Reply("查看物流 ", 'track:{"id": 7}')
    await phone.service.send_suggestion_response(BOT, reply)
    body = phone.core.cpim_of()
    assert body.content_type.media_type == ct.BOTSUGGESTION_RESPONSE
    response = parse_suggestion_response(body.decoded_body())
    assert (response.response_type, response.display_text, response.postback_data) == (
        "reply",
        "查看物流 ",
        'track:{"id": 7}',
    )
    action = Action("拨打", "dial_1", DialPhoneNumber("+8610086"))
    await phone.service.send_suggestion_response(BOT, action)
    doc = json.loads(phone.core.cpim_of().decoded_body())
    assert doc == {"response": {"action": {"displayText": "拨打", "postback": {"data": "dial_1"}}}}
    stored = phone.store.message("alice-msg-0001")
    assert stored is not None and stored.text_preview == "查看物流"


async def test_device_specifics_follow_the_profile_and_schema_lengths(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.service.send_device_specifics(BOT)
    body = phone.core.cpim_of()
    assert body.content_type.media_type == ct.BOTSHAREDCLIENTDATA
    shared = parse_shared_client_data(body.decoded_body())
    assert shared.device_model == "Axon 40 Ul"  # deviceModel is 1..10 characters
    assert (shared.platform_version, shared.client_vendor, shared.client_version) == (
        "13",
        "ZTE",
        "RCSAndrd-2.4",
    )
    assert shared.battery_remaining_minutes == 300


async def test_location_push(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.service.send_location(BOT, 39.9042, 116.4074, "天安门", radius=25)
    body = phone.core.cpim_of()
    assert body.content_type.media_type == ct.GEOPUSH
    place = parse_geopush(body.decoded_body())
    assert (place.latitude, place.longitude, place.label, place.radius) == (
        39.9042,
        116.4074,
        "天安门",
        25,
    )
    assert place.entity == "sip:alice@rcs.test" and place.timestamp


async def test_send_file_needs_file_transfer(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    with pytest.raises(FileTransferError, match="not available"):
        await phone.service.send_file(BOT, tmp_path / "x.png")


async def test_send_file_sends_the_descriptor(tmp_path: Path) -> None:
    class Uploader:
        async def upload(self, path: Any) -> FileTransferInfo:
            entry = FileInfo(
                size=3, content_type="image/png", url="https://ft.rcs.test/f/1", name="x.png"
            )
            return FileTransferInfo(file=entry)

    phone = await make_phone(tmp_path, file_transfer=Uploader)
    result = await phone.service.send_file(BOT, tmp_path / "x.png")
    assert result.state == "sent"
    (request,) = phone.core.messages
    raw = request.headers.get_all("Accept-Contact")
    assert any("rcs.fthttp" in value and value.endswith("require;explicit") for value in raw)
    assert phone.core.cpim_of().content_type.media_type == ct.FTHTTP
    stored = phone.store.message(result.message_id)
    assert stored is not None and stored.file_path == str(tmp_path / "x.png")
    assert stored.text_preview == "[file] x.png"


async def test_is_composing_goes_bare_in_a_message(tmp_path: Path) -> None:
    phone = await make_phone(tmp_path)
    await phone.service.set_composing(BOT, True)
    await phone.service.set_composing(BOT, False)
    active, idle = phone.core.messages
    assert active.headers.get("Content-Type") == ct.ISCOMPOSING
    first = parse_iscomposing(active.body)
    assert (first.state, first.refresh) == ("active", 60)
    assert parse_iscomposing(idle.body).state == "idle"
    assert phone.store.conversations() == []  # not a message


async def test_is_composing_respects_the_setting(tmp_path: Path) -> None:
    profile = make_profile("messaging: {is_composing: false}\n")
    phone = await make_phone(tmp_path, profile=profile)
    await phone.service.set_composing(BOT, True)
    assert not phone.core.messages


async def test_both_technologies_use_a_session_only_when_the_bot_announced_one(
    tmp_path: Path,
) -> None:
    session = FakeCarrier("session")
    core = Core(options_answers={BOT: "options_200_chatbot.sip"})
    phone = await make_phone(
        tmp_path,
        core=core,
        settings=MessagingSettings(chatbot_msg_tech=2),
        carriers={"session": session},
    )
    assert (await phone.service.send_text(BOT, "hi")).technology == "pager"  # nothing cached
    caps = phone.service.capabilities
    assert caps is not None
    found = await caps.query(BOT)
    assert found.chatbot and "chatbot" not in found.services  # a standalone-only bot
    assert (await phone.service.send_text(BOT, "hi")).technology == "pager"
    assert not session.sent


async def test_a_refused_session_falls_back_to_standalone(tmp_path: Path) -> None:
    session = FakeCarrier("session", CarrierResult(False, 480, "Temporarily Unavailable"))
    phone = await make_phone(
        tmp_path, settings=MessagingSettings(chatbot_msg_tech=1), carriers={"session": session}
    )
    result = await phone.service.send_text(BOT, "hi")
    assert (result.technology, result.state) == ("pager", "sent")
    assert len(session.sent) == 1 and len(phone.core.messages) == 1
    assert session.sent[0][1] == phone.core.messages[0].body  # the same CPIM message


async def test_session_bots_get_large_bodies_in_the_session(tmp_path: Path) -> None:
    session = FakeCarrier("session")
    phone = await make_phone(
        tmp_path, settings=MessagingSettings(chatbot_msg_tech=1), carriers={"session": session}
    )
    assert (await phone.service.send_text(BOT, "x" * 5000)).technology == "session"


async def test_refused_large_mode_falls_back_to_pager_when_it_fits(tmp_path: Path) -> None:
    large = FakeCarrier("large", CarrierResult(False, 405, "Method Not Allowed"))
    settings = MessagingSettings(switchover_size=900, pager_limit=60 * 1024)
    phone = await make_phone(tmp_path, settings=settings, carriers={"large": large})
    result = await phone.service.send_text(BOT, "x" * 1000)
    assert (result.technology, result.state) == ("pager", "sent")
    assert len(large.sent) == 1 and len(phone.core.messages) == 1


async def test_refused_large_mode_fails_when_pager_cannot_carry_it(tmp_path: Path) -> None:
    large = FakeCarrier("large", CarrierResult(False, 405, "Method Not Allowed"))
    phone = await make_phone(tmp_path, carriers={"large": large})
    result = await phone.service.send_text(BOT, "x" * 1400)
    assert (result.state, result.status) == ("failed", 405)
    assert not phone.core.messages
