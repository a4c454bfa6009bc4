"""Chatbot information: both name variants, colour forms, verification, menu, builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads" / "botinfo"


def load(name: str) -> up.BotInfo:
    return up.parse_botinfo((CORPUS / name).read_bytes())


def test_modern_form() -> None:
    info = load("botinfo_org_name.json")
    assert info.name == "顺丰快递服务号"
    assert info.service_id == "sip:1065800000001@botplatform.rcs.test"
    assert info.sms == "sms:+8610658000001" and info.email == "mailto:service@botplatform.lab"
    assert info.tel == "+8695338"
    assert info.logo_url == "https://media.botplatform.lab/logo/express.png"
    assert info.colour == "#E60012" and info.colour_hex == "#E60012"
    assert info.categories == ("物流", "生活服务")
    assert info.description == "寄件、查件、预约取件，一站式快递服务。"
    assert info.website == "https://express.botplatform.lab/"
    assert info.tc_page == "https://express.botplatform.lab/terms"
    assert info.address == "广东省深圳市南山区科技园"
    assert info.background_image == "https://media.botplatform.lab/bg/express.jpg"
    assert (info.verified, info.verified_by, info.expires) == (
        True,
        "中国移动",
        "2025-12-31T23:59:59Z",
    )
    assert info.persistent_menu is not None and len(info.persistent_menu.entries) == 2
    assert info.raw["botinfo"]["provider"] == "botplatform.lab"


def test_older_form_and_flat_members() -> None:
    info = load("botinfo_name_entry.json")
    assert info.name == "天气早知道"
    assert info.service_id == "sip:12520000000002@botplatform.rcs.test"
    assert info.tel == "+864001234567"
    assert info.colour == "#1E90FF"
    assert info.categories == ("天气",)
    assert info.website == "https://weather.botplatform.lab/"
    assert info.tc_page == "https://weather.botplatform.lab/tc"
    assert info.email == "help@weather.botplatform.lab"
    assert info.address == "北京市朝阳区"
    assert info.verified is False
    assert {w.code for w in info.warnings} == {"variant-spelling", "value-as-string"}


def test_minimal_and_base64_colour() -> None:
    minimal = load("botinfo_minimal.json")
    assert (
        minimal.name == "测试机器人"
        and minimal.service_id is None
        and minimal.persistent_menu is None
    )
    assert minimal.verified is None and minimal.colour_hex is None
    blue = load("botinfo_colour_base64.json")
    assert blue.colour == "IzFFOTBGRg==" and blue.colour_hex == "#1E90FF"
    assert up.BotInfo(colour="not base64!").colour_hex is None
    assert up.BotInfo(colour="aGVsbG8=").colour_hex is None


def test_official_name_wins_over_order() -> None:
    doc = {
        "botinfo": {
            "pcc": {
                "org-details": {
                    "org-name": [
                        {"display-name": "简称", "org-name-type": "ShortName"},
                        {"display-name": "全称", "org-name-type": "OfficialName"},
                    ]
                }
            }
        }
    }
    assert up.parse_botinfo(doc).name == "全称"


def test_menu_warnings_are_reported_with_their_path() -> None:
    doc = {
        "persistent-menu": {
            "menu": {
                "entries": [{"reply": {"displayText": "x", "postback": {"data": "y"}}}],
                "extra": 1,
            }
        }
    }
    info = up.parse_botinfo(doc)
    assert info.persistent_menu is not None and info.name is None
    assert [w.path for w in info.warnings] == ["$.persistent-menu.menu.extra"]


def test_build_botinfo_writes_the_modern_form() -> None:
    menu = up.Menu((up.Reply("查快递", "track"),))
    body = up.build_botinfo(
        "sip:bot@botplatform.lab",
        "实验室机器人",
        description="演示用",
        logo_url="https://media.botplatform.lab/logo.png",
        colour="#00A0E9",
        verified=True,
        verified_by="实验室",
        categories=("演示",),
        website="https://botplatform.lab/",
        tel="+8610086",
        persistent_menu=menu,
    )
    doc = json.loads(body)
    org = doc["botinfo"]["pcc"]["org-details"]
    assert org["org-name"] == [{"display-name": "实验室机器人", "org-name-type": "OfficialName"}]
    assert org["comm-addr"]["uri-entry"][0]["label"] == "ServiceID"
    assert org["media-list"]["media-entry"][0]["label"] == "Icon"
    assert doc["botinfo"]["colour"] == "#00A0E9"
    assert doc["bot-verification"] == {
        "verification-info": {"verified": True, "verified-by": "实验室"}
    }
    info = up.parse_botinfo(body)
    assert (info.name, info.persistent_menu, info.tel, info.verified) == (
        "实验室机器人",
        menu,
        "+8610086",
        True,
    )


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({}, "$"),
        ({"botinfo": []}, "$.botinfo"),
        (
            {"botinfo": {"pcc": {"org-details": {"category-list": {"category-entry": ["a", 1]}}}}},
            "$.botinfo.pcc.org-details.category-list.category-entry[1]",
        ),
        (
            {"botinfo": {}, "bot-verification": {"verification-info": {"verified": "maybe"}}},
            "$.bot-verification.verification-info.verified",
        ),
        ({"persistent-menu": {"menu": {"entries": [{}]}}}, "$.persistent-menu.menu.entries[0]"),
    ],
)
def test_wrong_types_name_the_path(doc: dict[str, object], where: str) -> None:
    with pytest.raises(PayloadParseError) as caught:
        up.parse_botinfo(doc)
    assert caught.value.where == where
