"""Chips, every action kind, chip lists and the suggestion response."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up
from rcs_terminal.protocol.up.actions import coordinates_look_swapped

CORPUS = Path(__file__).parents[1] / "data" / "payloads"


def chips(name: str) -> list[up.Suggestion]:
    return up.parse_suggestion_list((CORPUS / name).read_bytes())


def test_every_action_kind_maps_to_its_class() -> None:
    parsed = chips("chips/chips_every_action.json")
    assert parsed[0] == up.Reply("好的", "ok")
    by_postback = {s.postback_data: s.kind for s in parsed if isinstance(s, up.Action)}
    assert by_postback == {
        "url_browser": up.OpenUrl("https://www.botplatform.lab/"),
        "url_webview": up.OpenUrl(
            "https://m.botplatform.lab/member",
            up.UrlApplication.WEBVIEW,
            up.ViewMode.HALF,
            "x-token=abc",
        ),
        "dial": up.DialPhoneNumber("+8610086", "https://www.botplatform.lab/contact"),
        "dial_enriched": up.DialEnrichedCall(
            "+8610086", "宽带报修", "https://www.botplatform.lab/repair"
        ),
        "dial_video": up.DialVideoCall("+8613800000002"),
        "map_coords": up.ShowLocation(
            22.543096,
            114.057865,
            "深圳福田营业厅",
            None,
            "https://map.botplatform.lab/?q=22.543096,114.057865",
        ),
        "map_query": up.ShowLocation(query="附近的营业厅"),
        "push_location": up.RequestLocationPush(),
        "calendar": up.CreateCalendarEvent(
            "2024-06-18T00:00:00Z", "2024-06-18T23:59:59Z", "618 年中大促", "全场满 300 减 50"
        ),
        "compose_text": up.ComposeTextMessage("10086", "CXTC"),
        "compose_video": up.ComposeRecordingMessage("+8613800000003", up.RecordingType.VIDEO),
        "device": up.RequestDeviceSpecifics(),
        "deanon": up.DisableAnonymization(),
        "displayed": up.EnableDisplayedNotifications(),
    }
    action = parsed[3]
    assert isinstance(action, up.Action)
    assert (action.category, action.name) == ("dialerAction", "dialPhoneNumber")


def test_webview_spellings_and_cases() -> None:
    parsed = chips("noisy/chips__webview_view_modes.json")
    kinds = [s.kind for s in parsed if isinstance(s, up.Action)]
    assert [(k.application, k.view_mode) for k in kinds if isinstance(k, up.OpenUrl)] == [
        (up.UrlApplication.WEBVIEW, up.ViewMode.FULL),
        (up.UrlApplication.WEBVIEW, up.ViewMode.HALF),
        (up.UrlApplication.WEBVIEW, up.ViewMode.TALL),
    ]
    first = kinds[0]
    assert isinstance(first, up.OpenUrl) and first.description == "活动页面"
    assert first.to_dict() == {
        "url": "https://m.botplatform.lab/a",
        "application": "webview",
        "viewMode": "full",
        "description": "活动页面",
    }


def test_missing_application_means_browser() -> None:
    (chip,) = chips("noisy/chips__missing_application.json")
    assert isinstance(chip, up.Action) and chip.kind == up.OpenUrl(
        "https://www.botplatform.lab/search"
    )


def test_coordinates_are_kept_as_given_and_flagged() -> None:
    (swapped,) = chips("noisy/chips__swapped_coordinates.json")
    assert isinstance(swapped, up.Action) and isinstance(swapped.kind, up.ShowLocation)
    assert (swapped.kind.latitude, swapped.kind.longitude) == (116.490061, 40.003678)
    assert swapped.kind.looks_swapped
    (strings,) = chips("noisy/chips__coordinates_as_strings.json")
    assert isinstance(strings, up.Action) and isinstance(strings.kind, up.ShowLocation)
    assert (strings.kind.latitude, strings.kind.longitude) == (31.2397, 121.4998)
    assert not strings.kind.looks_swapped


@pytest.mark.parametrize(
    ("lat", "lon", "swapped"),
    [
        (39.9, 116.4, False),
        (116.4, 39.9, True),
        (-122.08, 37.42, True),
        (37.42, -122.08, False),
        (43.8, 87.6, False),
        (None, None, False),
        (48.7, -3.4, False),
    ],
)
def test_swap_heuristic(lat: float | None, lon: float | None, swapped: bool) -> None:
    assert coordinates_look_swapped(lat, lon) is swapped


def test_chip_without_postback_gives_a_response_without_data() -> None:
    reply, action = chips("noisy/chips__no_postback.json")
    assert reply == up.Reply("无回传") and action.postback_data is None
    assert json.loads(up.build_suggestion_response(reply)) == {
        "response": {"reply": {"displayText": "无回传"}}
    }


def test_response_copies_label_and_postback_exactly() -> None:
    chip = up.Action("\u202e领奖 ", " data\x1b ", up.DialPhoneNumber("10086"))
    assert (
        up.build_suggestion_response(chip)
        == (
            '{"response":{"action":{"displayText":"\u202e领奖 ",'
            '"postback":{"data":" data\\u001b "}}}}'
        ).encode()
    )
    reply_body = up.build_suggestion_response(up.Reply("同意", "agree"))
    assert (
        reply_body
        == '{"response":{"reply":{"displayText":"同意","postback":{"data":"agree"}}}}'.encode()
    )
    expected = (CORPUS / "response" / "response_reply.json").read_bytes().strip()
    assert up.build_suggestion_response(up.Reply("确认收货", "parcel_confirm")) == expected


def test_response_parsing_tolerates_cmcc_type() -> None:
    response = up.parse_suggestion_response(
        (CORPUS / "noisy" / "response__cmcc_type_reply.json").read_bytes()
    )
    assert response == up.SuggestionResponse("reply", "同意", "set_by_chatbot_reply_agree")
    assert [w.path for w in response.warnings] == ["$.response.reply.type"]
    action = up.parse_suggestion_response(
        (CORPUS / "response" / "response_action.json").read_bytes()
    )
    assert action.response_type == "action" and action.postback_data == "parcel_track"


def test_chip_list_keeps_its_warnings() -> None:
    chip_list = up.parse_chip_list(
        (CORPUS / "noisy" / "chips__swapped_coordinates.json").read_bytes()
    )
    assert [w.code for w in chip_list.warnings] == ["coordinates-swapped"]
    assert up.parse_chip_list(chip_list.to_json()) == chip_list


@pytest.mark.parametrize(
    ("item", "where", "message"),
    [
        ("reply", "$.suggestions[0]", "expected an object"),
        ({}, "$.suggestions[0]", "neither"),
        ({"reply": None}, "$.suggestions[0]", "neither"),
        ({"reply": {"displayText": 5}}, "$.suggestions[0].reply.displayText", "string"),
        (
            {"reply": {"displayText": "a", "postback": "x"}},
            "$.suggestions[0].reply.postback",
            "object",
        ),
        (
            {"reply": {"displayText": "a", "postback": {"data": 1}}},
            "$.suggestions[0].reply.postback.data",
            "string",
        ),
        (
            {"action": {"displayText": "a", "urlAction": {}}},
            "$.suggestions[0].action.urlAction",
            "none of",
        ),
        (
            {"action": {"displayText": "a", "urlAction": {"openUrl": {}}}},
            "$.suggestions[0].action.urlAction.openUrl",
            "url",
        ),
        (
            {
                "action": {
                    "displayText": "a",
                    "mapAction": {"showLocation": {"location": {"latitude": 1}}},
                }
            },
            "$.suggestions[0].action.mapAction.showLocation.location",
            "together",
        ),
        (
            {
                "action": {
                    "displayText": "a",
                    "mapAction": {"showLocation": {"location": {"latitude": True, "longitude": 1}}},
                }
            },
            "$.suggestions[0].action.mapAction.showLocation.location.latitude",
            "number",
        ),
        (
            {
                "action": {
                    "displayText": "a",
                    "mapAction": {"showLocation": {"location": {"latitude": "北", "longitude": 1}}},
                }
            },
            "$.suggestions[0].action.mapAction.showLocation.location.latitude",
            "number",
        ),
        (
            {
                "action": {
                    "displayText": "a",
                    "calendarAction": {"createCalendarEvent": {"startTime": "t", "endTime": "t"}},
                }
            },
            "$.suggestions[0].action.calendarAction.createCalendarEvent",
            "title",
        ),
        (
            {
                "action": {
                    "displayText": "a",
                    "composeAction": {"composeRecordingMessage": {"phoneNumber": "1"}},
                }
            },
            "$.suggestions[0].action.composeAction.composeRecordingMessage",
            "type",
        ),
        (
            {
                "action": {
                    "displayText": "a",
                    "urlAction": {"openUrl": {"url": "u", "application": "app"}},
                }
            },
            "$.suggestions[0].action.urlAction.openUrl.application",
            "unknown value",
        ),
    ],
)
def test_malformed_chips_name_the_path(item: object, where: str, message: str) -> None:
    with pytest.raises(PayloadParseError, match=message) as caught:
        up.parse_suggestion_list({"suggestions": [item]})
    assert caught.value.where == where


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"response": {}}, "$.response"),
        ({"response": {"reply": {}}}, "$.response.reply"),
        ({"reply": {"displayText": "a"}}, "$"),
    ],
)
def test_malformed_responses_name_the_path(doc: dict[str, object], where: str) -> None:
    with pytest.raises(PayloadParseError) as caught:
        up.parse_suggestion_response(doc)
    assert caught.value.where == where
