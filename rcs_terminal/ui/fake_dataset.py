"""The fixed demo data of the fake handset: chatbots, conversations and scripted bot replies.

Everything here is plain data (JSON-shaped dicts, text) so that tests and snapshots can rely
on it. The payloads follow the GSMA UP 2.4 chatbot schemas as deployed in China
(formats.md §1-§6): a vertical card, a carousel, chip lists with one of every action kind
worth trying, a two-level persistent menu (top level 3 entries, second level at most 5), an
advertisement (``maap.Traffic-Type: advertisement``). The chatbot URIs use the lab's
``botplatform.lab`` domain, an identifier only: nothing is ever resolved.

:func:`bot_reply` is the chatbots' whole brain: a postback (or a typed text) in, the reply
out, so that tapping chips in ``rcs-terminal tui --fake`` gets an answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.up import BotInfo, parse_menu
from rcs_terminal.protocol.up.contenttypes import BOTMESSAGE, BOTSUGGESTION

TRAVEL_BOT = "sip:travelbot@botplatform.lab"
"""The verified travel chatbot on SIM 1: cards, carousel, chips and a persistent menu."""
WEATHER_BOT = "sip:weather@botplatform.lab"
"""The unverified weather chatbot on SIM 2."""
BANK_BOT = "sip:bank@botplatform.lab"
"""A chatbot only found through the directory search."""
LI_LEI = "tel:+8613900000003"
"""A person on SIM 1."""
HAN_MEIMEI = "tel:+8618900000004"
"""A person on SIM 2."""

TRAVEL_SITE = "https://travel.botplatform.lab"


def encode(
    content_type: str, payload: dict[str, Any] | str, chips: dict[str, Any] | None = None
) -> tuple[str, bytes]:
    """The content type and body of a payload (JSON or text), with a chip list when given
    (then a ``multipart/mixed`` body, boundary ``next``, formats.md §3)."""
    if isinstance(payload, str):
        body = payload.encode("utf-8")
    else:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if content_type == "text/plain":
        content_type = "text/plain;charset=UTF-8"
    if chips is None:
        return content_type, body
    suggestions = json.dumps(chips, ensure_ascii=False).encode("utf-8")
    return build_multipart(
        [Part.create(content_type, body), Part.create(BOTSUGGESTION, suggestions)]
    )


def reply(text: str, data: str) -> dict[str, Any]:
    """A suggested reply."""
    return {"reply": {"displayText": text, "postback": {"data": data}}}


def action(text: str, data: str, category: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """A suggested action holding one action object."""
    return {"action": {category: {name: body}, "displayText": text, "postback": {"data": data}}}


def card(
    title: str,
    description: str | None = None,
    *,
    media: str | None = None,
    height: str = "MEDIUM_HEIGHT",
    suggestions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One card's ``content`` object."""
    content: dict[str, Any] = {"title": title}
    if description is not None:
        content["description"] = description
    if media is not None:
        content["media"] = {
            "mediaUrl": f"{TRAVEL_SITE}/media/{media}",
            "mediaContentType": "image/jpeg",
            "mediaFileSize": 183_204,
            "height": height,
            "contentDescription": title,
        }
    if suggestions:
        content["suggestions"] = suggestions
    return content


def single_card(content: dict[str, Any], orientation: str = "VERTICAL") -> dict[str, Any]:
    """A botmessage holding one card."""
    layout: dict[str, Any] = {"cardOrientation": orientation}
    if orientation == "HORIZONTAL":
        layout["imageAlignment"] = "LEFT"
    return {"message": {"generalPurposeCard": {"layout": layout, "content": content}}}


def carousel(cards: list[dict[str, Any]], width: str = "MEDIUM_WIDTH") -> dict[str, Any]:
    """A botmessage holding a carousel."""
    return {
        "message": {
            "generalPurposeCardCarousel": {"layout": {"cardWidth": width}, "content": cards}
        }
    }


def train_card(train: str, route: str, times: str, price: str) -> dict[str, Any]:
    """A carousel card offering one train."""
    return card(
        f"{train} {route}",
        f"{times} · 二等座 {price}",
        media=f"{train.lower()}.jpg",
        suggestions=[
            reply("预订 Book", f"book:{train}"),
            action(
                "详情",
                f"details:{train}",
                "urlAction",
                "openUrl",
                {"url": f"{TRAVEL_SITE}/trains/{train}", "application": "browser"},
            ),
        ],
    )


TRAIN_CAROUSEL = carousel(
    [
        train_card("G4", "上海 → 北京", "09:00-13:28", "¥553"),
        train_card("G6", "上海 → 北京", "10:00-14:28", "¥553"),
        train_card("G8", "上海 → 北京", "11:00-15:18", "¥598"),
    ]
)

G2_CARD = single_card(
    card(
        "G2 上海虹桥 → 北京南",
        "08:00 发车，约 4 小时 18 分。二等座 ¥553，一等座 ¥930。",
        media="g2.jpg",
        suggestions=[
            reply("立即预订 Book", "book:G2"),
            action(
                "详情 Details",
                "details:G2",
                "urlAction",
                "openUrl",
                {"url": f"{TRAVEL_SITE}/trains/G2", "application": "browser"},
            ),
            action(
                "客服热线",
                "dial:service",
                "dialerAction",
                "dialPhoneNumber",
                {"phoneNumber": "+8610012306"},
            ),
        ],
    )
)

MAIN_CHIPS: dict[str, Any] = {
    "suggestions": [
        reply("更多车次 More", "more"),
        action(
            "车站位置",
            "map:station",
            "mapAction",
            "showLocation",
            {"location": {"latitude": 39.8652, "longitude": 116.3786, "label": "北京南站"}},
        ),
        action(
            "加入日历",
            "calendar:G2",
            "calendarAction",
            "createCalendarEvent",
            {
                "startTime": "2024-06-01T08:00:00+08:00",
                "endTime": "2024-06-01T12:18:00+08:00",
                "title": "G2 上海虹桥 → 北京南",
                "description": "二等座 05 车 12F",
            },
        ),
        action("分享位置", "share:location", "mapAction", "requestLocationPush", {}),
        action("设备信息", "share:device", "deviceAction", "requestDeviceSpecifics", {}),
        action(
            "短信分享",
            "compose:share",
            "composeAction",
            "composeTextMessage",
            {"phoneNumber": "+8613900000003", "text": "我订了 G2 次列车，明早 8 点出发。"},
        ),
        action(
            "视频客服",
            "video:service",
            "dialerAction",
            "dialVideoCall",
            {"phoneNumber": "+8610012306"},
        ),
    ]
}

TRAVEL_MENU: dict[str, Any] = {
    "menu": {
        "entries": [
            {
                "menu": {
                    "displayText": "订票 Tickets",
                    "entries": [
                        reply("高铁 Trains", "menu.trains"),
                        reply("机票 Flights", "menu.flights"),
                        action(
                            "12306 网站",
                            "menu.site",
                            "urlAction",
                            "openUrl",
                            {"url": "https://www.12306.cn", "application": "browser"},
                        ),
                    ],
                }
            },
            {
                "menu": {
                    "displayText": "我的 Mine",
                    "entries": [
                        reply("我的订单 Orders", "menu.orders"),
                        action(
                            "设备信息",
                            "menu.device",
                            "deviceAction",
                            "requestDeviceSpecifics",
                            {},
                        ),
                        action(
                            "客服 Service",
                            "menu.call",
                            "dialerAction",
                            "dialPhoneNumber",
                            {"phoneNumber": "+8610012306"},
                        ),
                        action(
                            "已读回执",
                            "menu.receipts",
                            "settingsAction",
                            "enableDisplayedNotifications",
                            {},
                        ),
                    ],
                }
            },
            reply("帮助 Help", "menu.help"),
        ]
    }
}

WEATHER_CARD = single_card(
    card(
        "北京 今天 晴 26°C",
        "空气质量 良 · 东南风 2 级 · 紫外线 中等",
        media="sunny.jpg",
        height="SHORT_HEIGHT",
        suggestions=[reply("明天 Tomorrow", "weather:tomorrow")],
    ),
    orientation="HORIZONTAL",
)


@dataclass(frozen=True)
class BotProfile:
    """A fake chatbot: what the directory and the bot-info request return."""

    uri: str
    name: str
    description: str
    colour: str
    verified: bool
    menu: dict[str, Any] | None = None
    categories: tuple[str, ...] = field(default=())

    def info(self) -> BotInfo:
        """The chatbot information, as the bot-info server would answer it."""
        return BotInfo(
            service_id=self.uri,
            name=self.name,
            description=self.description,
            colour=self.colour,
            verified=self.verified,
            verified_by="China Mobile" if self.verified else None,
            categories=self.categories,
            persistent_menu=parse_menu(self.menu) if self.menu else None,
        )


BOTS: tuple[BotProfile, ...] = (
    BotProfile(
        TRAVEL_BOT,
        "5G 出行助手",
        "火车票、机票与出行服务",
        "#1E88E5",
        True,
        TRAVEL_MENU,
        ("travel",),
    ),
    BotProfile(WEATHER_BOT, "天气 Weather", "每日天气预报", "#FB8C00", False, None, ("weather",)),
    BotProfile(BANK_BOT, "招财银行", "账户、信用卡与理财", "#C62828", True, None, ("finance",)),
)


@dataclass(frozen=True)
class BotAnswer:
    """What a chatbot answers: a payload and optionally a chip list."""

    content_type: str
    body: dict[str, Any] | str
    chips: dict[str, Any] | None = None
    preview: str | None = None


def bot_reply(
    bot: str, postback: str | None, text: str, *, tapped_action: bool = False
) -> BotAnswer | None:
    """The scripted answer of ``bot`` to a tapped chip (``postback``) or typed ``text``.

    Args:
        bot: the chatbot's URI.
        postback: the tapped chip's postback data; ``None`` for typed text.
        text: the chip's display text, or the typed text.
        tapped_action: the chip was an action (open URL, dial...): the bots stay silent,
            as the action itself was the answer.

    Returns:
        The reply, or ``None`` when the bot stays silent.
    """
    data = postback or ""
    if tapped_action:
        return None
    if bot == WEATHER_BOT:
        if data.startswith("weather:"):
            return BotAnswer("text/plain", "明天 多云 22-29°C，午后有雷阵雨，出门记得带伞。")
        return BotAnswer("text/plain", "回复「明天」查看明日天气。")
    if bot != TRAVEL_BOT:
        return None
    kind, _, arg = data.partition(":")
    if kind == "book":
        chips = {
            "suggestions": [
                reply("确认 Confirm", f"pay:{arg}"),
                reply("取消 Cancel", f"cancel:{arg}"),
            ]
        }
        body = f"已为您锁定 {arg} 次列车二等座（模拟）。请在 15 分钟内确认支付。"
        return BotAnswer("text/plain", body, chips)
    if kind == "pay":
        paid = single_card(card("订单已支付 ✓", f"{arg} 次列车 · 订单号 E2406010{arg[1:]}"))
        return BotAnswer(BOTMESSAGE, paid, preview="订单已支付 ✓")
    if kind == "cancel":
        return BotAnswer("text/plain", f"已取消 {arg} 次列车的预订。", MAIN_CHIPS)
    if data in ("more", "menu.trains"):
        return BotAnswer(BOTMESSAGE, TRAIN_CAROUSEL, MAIN_CHIPS, preview="G4 上海 → 北京")
    if data == "menu.flights":
        return BotAnswer("text/plain", "机票服务即将上线，敬请期待。")
    if data == "menu.orders":
        orders = single_card(card("我的订单", "暂无未出行订单。"))
        return BotAnswer(BOTMESSAGE, orders, preview="我的订单")
    if data == "menu.help":
        return BotAnswer(
            "text/plain", "点按下方按钮或菜单使用服务；输入任意文字与我对话。", MAIN_CHIPS
        )
    if kind == "shared":
        return BotAnswer("text/plain", f"已收到{arg}，谢谢！")
    if postback is not None:
        return BotAnswer("text/plain", f"已收到「{text}」。")
    return BotAnswer("text/plain", f"您说：「{text}」。试试下面的按钮。", MAIN_CHIPS)
