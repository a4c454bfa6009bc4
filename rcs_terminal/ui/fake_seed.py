"""The demo conversations of the fake handset, written into its store.

Times are relative to the clock (the first message three hours before "now"), so that a
fixed clock gives fixed snapshots and a real clock a plausible afternoon. SIM 1 has a
person (a read reply, a failed message with its reason, an SMS fallback, one unread
message) and the travel chatbot (welcome text, a vertical card, an advertisement, an
unread carousel with a chip list); SIM 2 a person and the weather chatbot (an unread
horizontal card). A profile with one SIM gets only that SIM's conversations.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from rcs_terminal.domain.message import Technology
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.fake_wire import DISPOSITIONS

PEOPLE = {data.LI_LEI: "Li Lei 李雷", data.HAN_MEIMEI: "Han Meimei 韩梅梅"}
"""The demo persons' names."""


class _Seeder:
    def __init__(self, store: MessageStore, t0: float, next_id: Callable[[], str]) -> None:
        self.store, self.t0, self.next_id = store, t0, next_id
        self.bots = {bot.uri: bot for bot in data.BOTS}

    def incoming(
        self,
        sim: int,
        peer: str,
        offset: float,
        content_type: str,
        payload: dict[str, Any] | str,
        chips: dict[str, Any] | None = None,
        *,
        read: bool = True,
        preview: str | None = None,
        traffic: str | None = None,
    ) -> None:
        content_type, body = data.encode(content_type, payload, chips)
        bot = self.bots.get(peer)
        mid = self.next_id()
        self.store.add_incoming(
            sim,
            peer,
            content_type,
            body,
            message_id=mid,
            now=self.t0 + offset,
            preview=preview,
            traffic_type=traffic,
            technology=Technology.PAGER,
            disposition_requested=DISPOSITIONS,
            display_name=bot.name if bot is not None else None,
            is_chatbot=True if bot is not None else None,
        )
        if read:
            self.store.mark_displayed_by_us(mid, now=self.t0 + offset + 30, sim=sim)
            self.store.set_displayed_reported(mid, sim=sim)

    def outgoing(self, sim: int, peer: str, offset: float, text: str, outcome: str) -> None:
        store, mid, now = self.store, self.next_id(), self.t0 + offset
        store.add_outgoing(
            sim,
            peer,
            "text/plain;charset=UTF-8",
            text.encode(),
            message_id=mid,
            now=now,
            technology=Technology.PAGER,
        )
        store.mark_sent(mid, now + 1)
        if outcome == "failed":
            store.mark_failed(mid, "408 Request Timeout", now + 32)
        elif outcome == "sms":
            store.mark_failed(mid, "480 Temporarily Unavailable", now + 2)
            store.mark_sms_fallback(mid, now + 3, reason="peer offline: sent as SMS")
        else:
            store.apply_imdn(mid, outcome, now + 5)


def seed_demo(
    store: MessageStore, slots: Collection[int], now: float, next_id: Callable[[], str]
) -> None:
    """Write the demo conversations of ``slots`` into ``store`` (see the module docstring).

    Args:
        store: the fake handset's store.
        slots: the SIM slots of the profile.
        now: epoch seconds now.
        next_id: hands out imdn.Message-IDs.
    """
    seed = _Seeder(store, now - 3 * 3600, next_id)
    text = "text/plain"
    if 1 in slots:
        store.conversation_for(1, data.LI_LEI, display_name=PEOPLE[data.LI_LEI], is_chatbot=False)
        seed.incoming(1, data.LI_LEI, 0, text, "晚上一起吃饭吗？")
        seed.outgoing(1, data.LI_LEI, 60, "好的，7 点见", "displayed")
        seed.outgoing(1, data.LI_LEI, 120, "我可能晚到 10 分钟", "failed")
        seed.outgoing(1, data.LI_LEI, 180, "到了吗？", "sms")
        seed.incoming(1, data.LI_LEI, 240, text, "我在门口了 🚪", read=False)
        bot = data.TRAVEL_BOT
        seed.incoming(1, bot, 600, text, "欢迎使用 5G 出行助手！点按按钮即可查询和预订车票。")
        seed.incoming(1, bot, 660, ct.BOTMESSAGE, data.G2_CARD, preview="G2 上海虹桥 → 北京南")
        ad = "【广告】五一出行特惠：高铁票满 300 减 30。"
        seed.incoming(1, bot, 720, text, ad, traffic="advertisement")
        carousel, chips = data.TRAIN_CAROUSEL, data.MAIN_CHIPS
        seed.incoming(
            1, bot, 780, ct.BOTMESSAGE, carousel, chips, read=False, preview="G4 上海 → 北京"
        )
    if 2 in slots:
        name = PEOPLE[data.HAN_MEIMEI]
        store.conversation_for(2, data.HAN_MEIMEI, display_name=name, is_chatbot=False)
        seed.incoming(2, data.HAN_MEIMEI, 300, text, "Hi! This is SIM 2 calling.")
        seed.outgoing(2, data.HAN_MEIMEI, 360, "Hello from the Telecom SIM.", "delivered")
        weather, preview = data.WEATHER_CARD, "北京 今天 晴 26°C"
        seed.incoming(2, data.WEATHER_BOT, 900, ct.BOTMESSAGE, weather, read=False, preview=preview)
