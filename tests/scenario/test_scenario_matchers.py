"""Matchers: text, numbers, cards, carousels, chips, messages and trace records."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.protocol.up import parse_botmessage, parse_chip_list
from rcs_terminal.scenario.expectations import MessageExpect, NumberRange, TextPattern
from rcs_terminal.scenario.matchers import (
    ObservedMessage,
    match_message,
    match_number,
    match_text,
    match_trace_record,
    same_peer,
)
from rcs_terminal.scenario.results import ExpectationFailed
from rcs_terminal.scenario.suggestions import find_chip

CARD = {
    "message": {
        "generalPurposeCard": {
            "layout": {"cardOrientation": "HORIZONTAL", "imageAlignment": "LEFT"},
            "content": {
                "title": "Parcel 42",
                "description": "Out for delivery",
                "media": {
                    "mediaUrl": "https://x.test/a.png",
                    "mediaContentType": "image/png",
                    "mediaFileSize": 10,
                    "height": "MEDIUM_HEIGHT",
                },
                "suggestions": [
                    {"reply": {"displayText": "Track", "postback": {"data": "track"}}},
                    {
                        "action": {
                            "displayText": "Call",
                            "postback": {"data": "call"},
                            "dialerAction": {"dialPhoneNumber": {"phoneNumber": "+8610"}},
                        }
                    },
                ],
            },
        }
    }
}
CAROUSEL = {
    "message": {
        "generalPurposeCardCarousel": {
            "layout": {"cardWidth": "MEDIUM_WIDTH"},
            "content": [
                {"title": "A"},
                {
                    "title": "B",
                    "suggestions": [
                        {"reply": {"displayText": "Pick B", "postback": {"data": "b"}}}
                    ],
                },
            ],
        }
    }
}
CHIPS = {"suggestions": [{"reply": {"displayText": "Home", "postback": {"data": "home"}}}]}


def card_message(**extra: object) -> ObservedMessage:
    bot = parse_botmessage(json.dumps(CARD))
    chips = parse_chip_list(json.dumps(CHIPS)).suggestions
    values: dict = dict(
        message_id="m1",
        sender="sip:bot@botplatform.lab",
        sim=1,
        content_type="multipart/mixed",
        kind="card",
        text="Parcel 42",
        card=bot.card,
        chips=chips,
    )
    values.update(extra)
    return ObservedMessage(**values)


def expect(**fields: object) -> MessageExpect:
    return MessageExpect.model_validate(fields)


def test_text_conditions() -> None:
    assert match_text(TextPattern(equals="a"), "a", "t") == []
    assert match_text(TextPattern(contains="ell", startswith="h"), "hello", "t") == []
    assert match_text(TextPattern(regex=r"^\d+$"), "12", "t") == []
    assert match_text(TextPattern(not_contains="x"), "abc", "t") == []
    [miss] = match_text(TextPattern(contains="zz"), "abc", "text")
    assert str(miss) == "text: expected text containing 'zz', got 'abc'"
    [absent] = match_text(TextPattern(equals="a"), None, "t")
    assert absent.actual == "nothing"


@given(st.text(), st.text())
def test_a_text_always_matches_itself_and_its_parts(prefix: str, rest: str) -> None:
    text = prefix + rest
    assert match_text(TextPattern(equals=text), text, "t") == []
    assert match_text(TextPattern(contains=rest, startswith=prefix), text, "t") == []


def test_numbers() -> None:
    assert match_number(NumberRange(min=1, max=3), 2, "n") == []
    [miss] = match_number(NumberRange(min=4, max=4), 3, "n")
    assert (miss.expected, miss.actual) == ("4", "3")
    assert match_number(NumberRange(max=1), None, "n")[0].actual == "nothing"


def test_card_fields_and_chips() -> None:
    seen = card_message()
    rule = expect(
        kind="card",
        card={
            "title": "Parcel 42",
            "description": {"contains": "delivery"},
            "media_type": "image/png",
            "media_height": "MEDIUM_HEIGHT",
            "orientation": "HORIZONTAL",
            "image_alignment": "LEFT",
            "chips": {
                "texts": ["Track", "Call"],
                "kinds": ["reply", "dialPhoneNumber"],
                "postbacks": ["track", "call"],
            },
        },
        chips={"count": 1, "contains": ["Home"]},
    )
    assert match_message(rule, seen) == []
    wrong = expect(
        card={"image_alignment": "RIGHT", "chips": {"kinds": ["reply", "openUrl"]}}, kind="carousel"
    )
    paths = [m.path for m in match_message(wrong, seen)]
    assert paths == ["kind", "card.image_alignment", "card.chips[1].kind"]


def test_carousel() -> None:
    bot = parse_botmessage(json.dumps(CAROUSEL))
    seen = ObservedMessage("m", "sip:b@x", 1, "application/x", "carousel", carousel=bot.carousel)
    ok = expect(
        carousel={
            "size": 2,
            "width": "MEDIUM_WIDTH",
            "cards": [{"title": "A"}, {"chips": {"texts": ["Pick B"]}}],
        }
    )
    assert match_message(ok, seen) == []
    bad = expect(carousel={"size": {"min": 3}, "cards": [{}, {}, {"title": "C"}]})
    assert [m.path for m in match_message(bad, seen)] == ["carousel.size", "carousel.cards[2]"]
    assert find_chip(seen, "Pick B").postback_data == "b"
    assert find_chip(seen, 0, card=1).display_text == "Pick B"


def test_finding_chips() -> None:
    seen = card_message()
    assert find_chip(seen, "Home").postback_data == "home"  # the chip list first
    assert find_chip(seen, "Call").postback_data == "call"  # then the card's own
    assert find_chip(seen, 0).display_text == "Home"
    assert find_chip(seen, 1, card=0).display_text == "Call"
    try:
        find_chip(seen, "Nope")
    except ExpectationFailed as exc:
        assert "Track" in exc.actual
    else:
        raise AssertionError("no failure")


def test_lint_and_traffic_type() -> None:
    seen = card_message(findings=("error: $: bad [x.y]",), lint_errors=1, traffic_type="payment")
    assert [
        m.path for m in match_message(expect(lint="no-errors", traffic_type="payment"), seen)
    ] == ["lint"]


def test_peers() -> None:
    assert same_peer("tel:+8613800000011", "sip:+8613800000011@ims.test;user=phone")
    assert not same_peer("sip:demo@botplatform.lab", "sip:news@botplatform.lab")


REQUEST = (
    "MESSAGE sip:demo@botplatform.lab SIP/2.0\r\n"
    'Accept-Contact: *;+g.3gpp.iari-ref="urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.chatbot"\r\n'
    "c: message/cpim\r\n\r\nbody here"
)


def test_trace_records() -> None:
    first = REQUEST.split("\r\n", 1)[0]
    assert match_trace_record(
        REQUEST,
        first,
        method="MESSAGE",
        headers={"Content-Type": TextPattern(equals="message/cpim")},
        feature_tags=["+g.3gpp.iari-ref"],
        body=TextPattern(contains="body"),
    )
    assert not match_trace_record(REQUEST, first, method="OPTIONS")
    assert not match_trace_record(REQUEST, first, status=200)
    response = "SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\n\r\n"
    assert match_trace_record(response, "SIP/2.0 200 OK", status=200)
    http = "GET /bot?id=sip%3Ademo%40botplatform.lab&v=3 HTTP/1.1\r\n\r\n"
    assert match_trace_record(
        http, http.split("\r\n")[0], query={"id": TextPattern(equals="sip:demo@botplatform.lab")}
    )
