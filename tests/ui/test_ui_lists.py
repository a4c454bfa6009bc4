"""Pilot tests of the conversation list, the directory, the trace pane and hostile text."""

from __future__ import annotations

from uihelpers import calls, make_app, screen_text

from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.fake_handset import FakeHandset
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.screens.new_conversation import NewConversationScreen
from rcs_terminal.ui.widgets.card import SingleCard
from rcs_terminal.ui.widgets.chips import Chip
from rcs_terminal.ui.widgets.conversation_list import ConversationList
from rcs_terminal.ui.widgets.trace_pane import FilterLine, TracePane

HOSTILE = "\x1b[2J\x1b]52;c;SGk=\x07Win\u202eexe.txt [bold]x[/bold]"


async def test_list_marks_chatbots_with_colour_and_verification(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert (1, data.TRAVEL_BOT) in app.bot_infos  # fetched for the list
        text = screen_text(app)
        assert " BOT  ✔ 5G 出行助手" in text
        assert " BOT  天气 Weather" in text  # not verified: no tick
        listing = app.screen.query_one(ConversationList)
        unread = {c.peer_uri: c.unread for c in listing.conversations}
        assert unread == {
            data.WEATHER_BOT: 1,
            data.TRAVEL_BOT: 1,
            data.HAN_MEIMEI: 0,
            data.LI_LEI: 1,
        }


async def test_view_cycles_all_sims_then_each(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        listing = app.screen.query_one(ConversationList)
        assert {c.sim for c in listing.conversations} == {1, 2}
        await pilot.press("v")
        await pilot.pause()
        assert {c.sim for c in listing.conversations} == {1}
        assert "Conversations · SIM1 China Mobile" in screen_text(app)
        await pilot.press("v")
        await pilot.pause()
        assert {c.sim for c in listing.conversations} == {2}
        await pilot.press("v")
        await pilot.pause()
        assert len(listing.conversations) == 4


async def test_new_message_updates_the_list(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        handset.receive_text(2, data.HAN_MEIMEI, "New one!")
        await pilot.pause()
        listing = app.screen.query_one(ConversationList)
        first = listing.conversations[0]
        assert (first.peer_uri, first.unread, first.last_preview) == (
            data.HAN_MEIMEI,
            1,
            "New one!",
        )


async def test_new_conversation_refuses_garbage(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"not a number", "enter")
        await pilot.pause()
        assert isinstance(app.screen, NewConversationScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, NewConversationScreen)


async def test_directory_search_opens_a_chatbot(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"finance", "enter")
        await pilot.pause()
        assert calls(handset, "search_chatbots") == [(1, "finance")]
        screen = app.screen
        assert isinstance(screen, NewConversationScreen)
        assert [bot.uri for bot in screen.results] == [data.BANK_BOT]
        await pilot.press("enter")
        await pilot.pause()
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        assert chat.conversation.peer_uri == data.BANK_BOT and chat.conversation.is_chatbot
        assert "招财银行" in screen_text(app)


async def test_trace_pane_filters_by_protocol_and_sim(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        pane = app.screen.query_one(TracePane)
        assert pane.is_open
        assert {r.protocol for r in pane.records} == {"HTTP", "SIP"}
        await pilot.press("p", "p", "p")  # all -> SIP -> MSRP -> HTTP
        await pilot.pause()
        assert pane.protocol == "HTTP"
        assert pane.records and {r.protocol for r in pane.records} == {"HTTP"}
        await pilot.press("s", "s")  # all -> 1 -> 2
        await pilot.pause()
        assert pane.records and {(r.protocol, r.sim) for r in pane.records} == {("HTTP", 2)}
        # new records arrive while the pane is open, through the filter
        pane.set_filter(protocol="SIP", sim=None)
        before = len(pane.records)
        handset.receive_text(1, data.LI_LEI, "traced")
        await pilot.pause()
        assert len(pane.records) == before + 2  # MESSAGE in, 200 OK out
        # the filter line is clickable too
        line = pane.query_one(FilterLine)
        text = "".join(strip.text for strip in line.render_lines(line.region.reset_offset))
        await pilot.click(FilterLine, offset=(text.index("MSRP") + 1, 0))
        await pilot.pause()
        assert (pane.protocol, pane.records) == ("MSRP", [])
        await pilot.press("f2")
        await pilot.pause()
        assert not pane.is_open


async def test_trace_detail_is_full_and_sanitised(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        handset.receive_text(1, data.LI_LEI, HOSTILE)
        await pilot.press("t")
        await pilot.pause()
        pane = app.screen.query_one(TracePane)
        message = next(r for r in pane.records if r.first_line.startswith("MESSAGE"))
        detail = pane.detail(message).plain
        assert "Content-Type: message/cpim" in detail and "imdn.Message-ID" in detail
        assert "\x1b" not in detail and "␛[2J" in detail and "⟨U+202E⟩" in detail
        await pilot.press("end")
        await pilot.pause()
        assert "\x1b" not in screen_text(app)


async def test_hostile_text_in_card_title_and_chip_is_sanitised(handset: FakeHandset) -> None:
    payload = data.single_card(
        data.card(HOSTILE, "desc \x1b[31mred", suggestions=[data.reply(HOSTILE[:25], "x")])
    )
    handset.receive_text(1, data.TRAVEL_BOT, "[bold]not markup[/bold] \x1b[5m")
    handset.receive_payload(1, data.TRAVEL_BOT, payload, preview=HOSTILE)
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        listing_text = screen_text(app)
        assert "\x1b" not in listing_text and "␛[2J" in listing_text
        app.open_peer(1, data.TRAVEL_BOT)
        await pilot.pause()
        card = app.screen.query(SingleCard).last()
        card.scroll_visible(animate=False)
        await pilot.pause()
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "␛[2J␛]52;c;SGk=␇Win⟨U+202E⟩" in text  # visible, and Rich markup stays literal
        assert "desc ␛[31mred" in text
        assert "[bold]not markup[/bold] ␛[5m" in text
        chip = card.query_one(Chip)
        assert chip.label.plain.startswith("␛[2J")
