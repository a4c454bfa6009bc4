"""The bot script interpreter: keywords and postbacks to replies, welcome once per
conversation, per-user state, placeholders, and payloads that are valid (and lint-clean) UP."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.engine import BotEngine, classify
from rcs_terminal.lab.bots.loader import builtin_bot_files, load_bots
from rcs_terminal.lab.bots.media import MediaLibrary
from rcs_terminal.lab.bots.payloads import OutgoingMessage
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.up import contenttypes
from rcs_terminal.protocol.up.botmessage import BotMessage, parse_botmessage
from rcs_terminal.protocol.up.fthttp import parse_fthttp
from rcs_terminal.protocol.up.geopush import build_geopush, parse_geopush
from rcs_terminal.protocol.up.sharedclientdata import build_device_specifics
from rcs_terminal.protocol.up.suggestions import (
    Action,
    ChipList,
    CreateCalendarEvent,
    DialPhoneNumber,
    Reply,
    build_suggestion_response,
    parse_chip_list,
)

NOW = dt.datetime(2024, 6, 18, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
ALICE = "sip:+8613900000001@ims.mnc001.mcc460.3gppnetwork.org"
BOB = "sip:+8613900000002@ims.mnc001.mcc460.3gppnetwork.org"
TEXT = "text/plain;charset=UTF-8"
SCRIPTS = {script.id: script for script in load_bots(builtin_bot_files())}


def engine(bot: str = "demo") -> BotEngine:
    ids = iter(range(1, 10_000))
    return BotEngine(
        SCRIPTS[bot], MediaLibrary(), clock=lambda: NOW, new_id=lambda: f"id{next(ids)}"
    )


def split(message: OutgoingMessage) -> tuple[str, bytes, ChipList | None]:
    """The content part and the chip list of a reply."""
    if contenttypes.base_type(message.content_type) != contenttypes.MULTIPART_MIXED:
        return message.content_type, message.body, None
    parts = parse_multipart(message.body, message.content_type, strict=True)
    assert len(parts) == 2
    assert contenttypes.base_type(str(parts[1].content_type)) == contenttypes.BOTSUGGESTION
    return str(parts[0].content_type), parts[0].body, parse_chip_list(parts[1].body)


def card_of(message: OutgoingMessage) -> BotMessage:
    content_type, body, _ = split(message)
    assert contenttypes.base_type(content_type) == contenttypes.BOTMESSAGE
    return parse_botmessage(body)


def text_of(message: OutgoingMessage) -> str:
    content_type, body, _ = split(message)
    assert contenttypes.base_type(content_type) == contenttypes.TEXT_PLAIN
    return body.decode()


def tap(chip: Reply | Action) -> tuple[str, bytes]:
    return contenttypes.BOTSUGGESTION_RESPONSE, build_suggestion_response(chip)


# --------------------------------------------------------------------------- the demo bot


def test_first_message_gets_the_welcome_card_with_chips() -> None:
    bot = engine()
    replies = bot.handle(ALICE, TEXT, b"hi")
    assert [r.kind for r in replies] == ["card"]
    card = card_of(replies[0])
    assert card.card is not None
    labels = [chip.display_text for chip in card.card.content.suggestions]
    assert labels == ["Card layouts", "Carousels", "Suggested actions", "Files and places"]
    _, _, chips = split(replies[0])
    assert chips is not None and len(chips.suggestions) == 10


def test_welcome_once_per_conversation_then_default() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"what is this?")
    second = bot.handle(ALICE, TEXT, b"what is this?")
    assert [r.kind for r in second] == ["text"]
    assert text_of(second[0]).startswith("Sorry, I do not understand “what is this?”")
    other = bot.handle(BOB, TEXT, b"what is this?")
    assert [r.kind for r in other] == ["card"], "conversations are per user"


def test_first_message_matching_a_rule_gets_welcome_and_the_rule() -> None:
    replies = engine().handle(ALICE, TEXT, b"show me a carousel")
    assert [r.kind for r in replies] == ["card", "text"]
    assert "Carousels hold 2 to 12 cards" in text_of(replies[1])


def test_keyword_that_is_the_welcome_is_not_sent_twice() -> None:
    assert [r.kind for r in engine().handle(ALICE, TEXT, b"menu")] == ["card"]


def test_chip_tap_matches_by_exact_postback() -> None:
    bot = engine()
    welcome = card_of(bot.handle(ALICE, TEXT, b"hi")[0])
    assert welcome.card is not None
    chip = welcome.card.content.suggestions[0]
    assert chip == Reply("Card layouts", "cards")
    replies = bot.handle(ALICE, *tap(chip))
    assert text_of(replies[0]) == "Single rich cards come in two orientations. Which one?"


def test_every_card_layout_and_media_height() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    vertical = [card_of(r) for r in bot.handle(ALICE, *tap(Reply("x", "cards.vertical")))]
    heights = [
        str(c.card.content.media.height) for c in vertical if c.card and c.card.content.media
    ]
    assert heights == ["SHORT_HEIGHT", "MEDIUM_HEIGHT", "TALL_HEIGHT"]
    horizontal = [card_of(r) for r in bot.handle(ALICE, *tap(Reply("x", "cards.horizontal")))]
    sides = [
        c.card.layout.image_alignment.value
        for c in horizontal
        if c.card and c.card.layout.image_alignment
    ]
    assert sides == ["LEFT", "RIGHT"]


def test_small_and_medium_carousels() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    small = card_of(bot.handle(ALICE, *tap(Reply("x", "carousels.small")))[0])
    medium = card_of(bot.handle(ALICE, *tap(Reply("x", "carousels.medium")))[0])
    assert small.carousel is not None and small.carousel.layout.card_width.value == "SMALL_WIDTH"
    assert medium.carousel is not None and medium.carousel.layout.card_width.value == "MEDIUM_WIDTH"
    assert len(medium.carousel.content) == 4


def test_every_suggested_action_kind() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    replies = bot.handle(ALICE, *tap(Reply("x", "actions")))
    carousel = card_of(replies[1]).carousel
    assert carousel is not None
    names = {
        chip.name
        for card in carousel.content
        for chip in card.suggestions
        if isinstance(chip, Action)
    }
    assert names == {
        "openUrl", "dialPhoneNumber", "dialEnrichedCall", "dialVideoCall", "showLocation",
        "requestLocationPush", "createCalendarEvent", "composeTextMessage",
        "composeRecordingMessage", "requestDeviceSpecifics", "disableAnonymization",
        "enableDisplayedNotifications",
    }  # fmt: skip
    calendar = next(
        chip.kind
        for card in carousel.content
        for chip in card.suggestions
        if isinstance(chip, Action) and isinstance(chip.kind, CreateCalendarEvent)
    )
    assert calendar.start_time == "2024-06-19T10:00:00+08:00", "{date+1} was expanded"


def test_file_location_device_and_advertisement() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    files = bot.handle(ALICE, *tap(Reply("x", "more.file")))
    assert [r.kind for r in files] == ["text", "file", "file"]
    picture = parse_fthttp(files[1].body)
    assert picture.thumbnail is not None and picture.file.content_type == "image/png"
    assert picture.file.url == "http://botplatform.lab/chatbot/media/demo-landscape.png"
    document = parse_fthttp(split(files[2])[1])
    assert document.file.name == "demo-receipt.pdf" and document.disposition == "attachment"
    location = bot.handle(ALICE, *tap(Reply("x", "more.location")))[0]
    push = parse_geopush(split(location)[1])
    assert (push.latitude, push.longitude, push.entity) == (22.5195, 113.9465, SCRIPTS["demo"].uri)
    device = bot.handle(ALICE, *tap(Reply("x", "more.device")))[0]
    chips = split(device)[2]
    assert chips is not None and isinstance(chips.suggestions[0], Action)
    assert chips.suggestions[0].name == "requestDeviceSpecifics"
    ad = bot.handle(ALICE, *tap(Reply("x", "more.ad")))[0]
    assert ad.traffic_type == "advertisement"


def test_shared_location_file_and_device_get_their_replies() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    geo = build_geopush(22.5431, 114.0579, radius=10.0, label="Home")
    assert text_of(bot.handle(ALICE, contenttypes.GEOPUSH, geo)[0]) == (
        "Thanks! You shared Home: 22.54310, 114.05790."
    )
    unlabelled = build_geopush(22.5, 114.0)
    assert "your location" in text_of(bot.handle(ALICE, contenttypes.GEOPUSH, unlabelled)[0])
    assert "22.50000, 114.00000" in text_of(bot.handle(ALICE, TEXT, b"geo:22.5,114.0;u=10")[0])
    device = build_device_specifics("Axon 30", "MyOS 11", "ZTE", "RCSAndrd/2.4")
    text = text_of(bot.handle(ALICE, contenttypes.BOTSHAREDCLIENTDATA, device)[0])
    assert text == "Your device: Axon 30, ZTE RCSAndrd/2.4 on MyOS 11."


def test_tapped_action_without_rule_gets_no_answer() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    assert bot.handle(ALICE, *tap(Action("Call", "action.dial", DialPhoneNumber("+86")))) == []
    assert bot.handle(ALICE, contenttypes.BOTSUGGESTION_RESPONSE, b"{broken") != []


def test_ascii_keywords_are_whole_words_chinese_anywhere() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    assert text_of(bot.handle(ALICE, TEXT, b"this")[0]).startswith("Sorry")
    assert text_of(bot.handle(ALICE, TEXT, "我想看看轮播".encode())[0]).startswith("Carousels")


def test_reset_forgets_a_conversation_by_number() -> None:
    bot = engine()
    bot.handle(ALICE, TEXT, b"hi")
    bot.reset("tel:+8613900000001")
    assert [r.kind for r in bot.handle(ALICE, TEXT, b"hello?")] == ["card"]


def test_conversations_are_bounded() -> None:
    bot = BotEngine(SCRIPTS["demo"], MediaLibrary(), max_conversations=2, clock=lambda: NOW)
    for user in ("sip:a@x", "sip:b@x", "sip:c@x"):
        bot.handle(user, TEXT, b"hi")
    assert [r.kind for r in bot.handle("sip:a@x", TEXT, b"?")] == ["card"]


# --------------------------------------------------------------------------- Chinese bots


def test_hotline_complaint_becomes_a_work_order_then_progress() -> None:
    bot = engine("hotline")
    bot.handle(ALICE, TEXT, "你好".encode())
    asked = bot.handle(ALICE, *tap(Reply("我要反映", "complain")))
    assert "请用一段话描述" in text_of(asked[0])
    assert bot.conversation(ALICE).state == "complaint"
    done = card_of(bot.handle(ALICE, TEXT, "小区门口路灯坏了".encode())[0])
    assert done.card is not None and done.card.content.description is not None
    assert "工单编号：202406180001" in done.card.content.description
    assert "诉求内容：小区门口路灯坏了" in done.card.content.description
    assert bot.conversation(ALICE).state is None
    progress = card_of(bot.handle(ALICE, TEXT, "查询进度".encode())[0])
    assert progress.card is not None and progress.card.content.description is not None
    assert "202406180001" in progress.card.content.description
    assert "2024-06-21" in progress.card.content.description


def test_state_is_per_user() -> None:
    bot = engine("hotline")
    for user in (ALICE, BOB):
        bot.handle(user, TEXT, "你好".encode())
    bot.handle(ALICE, *tap(Reply("我要反映", "complain")))
    assert bot.conversation(BOB).state is None
    reply = bot.handle(BOB, TEXT, "小区门口路灯坏了".encode())
    assert "抱歉" in text_of(reply[0]), "bob is not in alice's state"


def test_hotline_survey_and_appointment_calendar() -> None:
    bot = engine("hotline")
    bot.handle(ALICE, TEXT, "你好".encode())
    times = card_of(bot.handle(ALICE, *tap(Reply("社保医保", "appt.social")))[0])
    assert times.card is not None
    booked = card_of(bot.handle(ALICE, *tap(times.card.content.suggestions[0]))[0])
    assert booked.card is not None
    event = booked.card.content.suggestions[0]
    assert isinstance(event, Action) and isinstance(event.kind, CreateCalendarEvent)
    assert event.kind.start_time == "2024-06-19T09:00:00+08:00"
    bot.handle(ALICE, *tap(Reply("不满意", "survey.1")))
    thanks = bot.handle(ALICE, TEXT, "等太久".encode())
    assert "已记录您的意见：“等太久”" in text_of(thanks[0])


def test_express_waybill_pattern_and_pickup_location() -> None:
    bot = engine("express")
    bot.handle(ALICE, TEXT, "你好".encode())
    tracked = card_of(bot.handle(ALICE, TEXT, b" SD2024061899 ")[0])
    assert tracked.card is not None and tracked.card.content.title == "运单 SD2024061899"
    pickup = bot.handle(ALICE, *tap(Reply("取件码", "pickup")))
    assert [r.kind for r in pickup] == ["card", "location"]


def test_weather_asks_for_a_location_and_takes_a_photo_report() -> None:
    bot = engine("weather")
    welcome = card_of(bot.handle(ALICE, TEXT, "你好".encode())[0])
    assert welcome.card is not None
    first = welcome.card.content.suggestions[0]
    assert isinstance(first, Action) and first.name == "requestLocationPush"
    local = card_of(bot.handle(ALICE, contenttypes.GEOPUSH, build_geopush(22.5, 114.0))[0])
    assert local.card is not None and local.card.content.description is not None
    assert "位置：您的位置（22.50000，114.00000）" in local.card.content.description
    photo = parse_fthttp_body()
    report = card_of(bot.handle(ALICE, contenttypes.FTHTTP, photo)[0])
    assert report.card is not None and report.card.content.description is not None
    assert "IMG_0618.jpg" in report.card.content.description


def parse_fthttp_body() -> bytes:
    return (
        b'<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp"><file-info type="file">'
        b"<file-size>48213</file-size><file-name>IMG_0618.jpg</file-name>"
        b'<content-type>image/jpeg</content-type><data url="http://ft.rcs.lab/ft/files/a"/>'
        b"</file-info></file>"
    )


def test_bank_payment_is_marked_and_news_carousel() -> None:
    bank = engine("bank")
    bank.handle(ALICE, TEXT, "你好".encode())
    paid = bank.handle(ALICE, *tap(Reply("全额还款", "pay.full")))
    assert paid[0].traffic_type == "payment"
    news = engine("news")
    news.handle(ALICE, TEXT, "你好".encode())
    daily = card_of(news.handle(ALICE, TEXT, "今日要闻".encode())[0])
    assert daily.carousel is not None and daily.carousel.content[0].title is not None
    assert daily.carousel.content[0].title.startswith("2024-06-18 要闻")


# --------------------------------------------------------------------------- validity


def _all_replies(script: model.BotScript) -> Iterator[model.ReplyRef]:
    yield from script.replies
    yield from (rule.reply for rule in script.rules)
    for key in ("welcome", "default", "on_location", "on_file", "on_device_specifics"):
        value = getattr(script, key)
        if value is not None:
            yield value


@pytest.mark.parametrize("bot", sorted(SCRIPTS))
def test_every_reply_is_lint_clean(bot: str) -> None:
    lint = pytest.importorskip("rcs_terminal.lint")
    runner = engine(bot)
    operators = ("gsma",) if bot == "demo" else ("gsma", "cmcc")
    for reply in _all_replies(SCRIPTS[bot]):
        for message in runner.render([reply]):
            for operator in operators:
                findings = lint.lint_payload(
                    message.body, content_type=message.content_type, operator=operator
                )
                errors = [str(f) for f in findings if f.is_error or operator == "gsma"]
                assert not errors, f"{bot}: {reply if isinstance(reply, str) else '<inline>'}"


# --------------------------------------------------------------------------- properties

CONTENT_TYPES = st.sampled_from(
    [
        TEXT,
        contenttypes.BOTSUGGESTION_RESPONSE,
        contenttypes.GEOPUSH,
        contenttypes.FTHTTP,
        contenttypes.BOTSHAREDCLIENTDATA,
        "multipart/mixed; boundary=next",
        "application/octet-stream",
    ]
)


@given(CONTENT_TYPES, st.binary(max_size=300))
def test_classify_never_raises(content_type: str, body: bytes) -> None:
    assert classify(content_type, body).kind in (
        "text", "response", "location", "file", "device", "other",
    )  # fmt: skip


@given(st.text(max_size=300))
def test_any_text_in_any_state_gives_valid_replies(text: str) -> None:
    bot = engine("hotline")
    bot.handle(ALICE, TEXT, "你好".encode())
    bot.handle(ALICE, *tap(Reply("我要反映", "complain")))
    for reply in bot.handle(ALICE, TEXT, text.encode("utf-8", "surrogatepass")):
        content_type, body, _ = split(reply)
        if contenttypes.base_type(content_type) == contenttypes.BOTMESSAGE:
            card = parse_botmessage(body)
            assert card.card is not None and card.card.content.description is not None
            assert len(card.card.content.description) <= 2000
        else:
            json.dumps(body.decode("utf-8"))
