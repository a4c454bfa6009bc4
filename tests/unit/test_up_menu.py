"""The persistent menu: entries, submenus to any depth, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"


def test_two_level_menu() -> None:
    menu = up.parse_menu((CORPUS / "menu" / "menu_two_levels.json").read_bytes())
    assert menu.depth == 2
    business, offers, call = menu.entries
    assert isinstance(business, up.Submenu) and business.display_text == "我的业务"
    assert len(business.entries) == 5 and business.depth == 1
    assert isinstance(offers, up.Submenu) and len(offers.entries) == 3
    assert isinstance(call, up.Action) and call.kind == up.DialPhoneNumber("10086")
    assert business.entries[0] == up.Reply("话费查询", "m_fee")


def test_flat_and_deep_menus_parse_and_report_their_depth() -> None:
    assert up.parse_menu((CORPUS / "menu" / "menu_flat.json").read_bytes()).depth == 1
    assert up.parse_menu((CORPUS / "menu" / "menu_three_levels.json").read_bytes()).depth == 3


def test_any_depth_is_parsed_within_the_nesting_limit() -> None:
    entry: dict[str, object] = {"reply": {"displayText": "底", "postback": {"data": "x"}}}
    for level in range(15):
        entry = {"menu": {"displayText": f"第{level}层", "entries": [entry]}}
    menu = up.parse_menu({"menu": {"entries": [entry]}})
    assert menu.depth == 16
    assert up.parse_menu(menu.to_json()) == menu


def test_submenu_to_dict() -> None:
    sub = up.Submenu("更多", (up.Reply("a", "b"),))
    assert sub.to_dict() == {
        "menu": {
            "displayText": "更多",
            "entries": [{"reply": {"displayText": "a", "postback": {"data": "b"}}}],
        }
    }


@pytest.mark.parametrize(
    ("doc", "where", "message"),
    [
        ({"entries": []}, "$", "menu"),
        ({"menu": {}}, "$.menu", "entries"),
        ({"menu": {"entries": {}}}, "$.menu.entries", "array"),
        (
            {"menu": {"entries": [{"menu": {"entries": []}}]}},
            "$.menu.entries[0].menu",
            "displayText",
        ),
        (
            {"menu": {"entries": [{"menu": {"displayText": "x", "entries": []}, "reply": {}}]}},
            "$.menu.entries[0]",
            "several",
        ),
        (
            {"menu": {"entries": [{"reply": {"displayText": "x"}}, 3]}},
            "$.menu.entries[1]",
            "object",
        ),
    ],
)
def test_menu_errors_name_the_path(doc: dict[str, object], where: str, message: str) -> None:
    with pytest.raises(PayloadParseError, match=message) as caught:
        up.parse_menu(doc)
    assert caught.value.where == where
