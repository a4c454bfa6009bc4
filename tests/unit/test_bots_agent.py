"""A chatbot's SIP side over a wire corpus (tests/data/wire/chatbot): what it answers, what it
records, which receipts and replies it sends, and that no input makes it raise."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.sip_endpoint import RequestOutcome
from rcs_terminal.lab.bot_agent import BotAgent
from rcs_terminal.lab.bot_identity import BOT_TAGS, bot_subscriber
from rcs_terminal.lab.bot_inbox import BotInbox
from rcs_terminal.lab.bots.engine import BotEngine
from rcs_terminal.lab.bots.loader import builtin_bot_files, load_bots
from rcs_terminal.lab.bots.media import MediaLibrary
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import parse_imdn
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.headers import parse_params
from rcs_terminal.protocol.sip.message import Request, Response, build_response, parse_message

WIRE = Path(__file__).parent.parent / "data" / "wire" / "chatbot"
USER = "sip:+8613900000001@ims.mnc001.mcc460.3gppnetwork.org"
SCRIPTS = {script.id: script for script in load_bots(builtin_bot_files())}
ROUTE = "<sip:orig@scscf.botplatform.lab;lr>"


class FakeEndpoint:
    """Takes the bot's requests and answers each 200."""

    is_connected = True

    def __init__(self) -> None:
        self.sent: list[Request] = []

    async def send(self, request: Request) -> RequestOutcome:
        self.sent.append(request)
        return RequestOutcome(request, build_response(request, 200, to_tag="t"))


class FakeRegistration:
    routes = (ROUTE,)
    is_registered = True

    def contact(self, **_: Any) -> str:
        return "<sip:demo@127.0.0.1:5060;transport=tcp>;+g.gsma.rcs.isbot"


def make_agent(cls: type[BotAgent] = BotAgent) -> tuple[BotAgent, FakeEndpoint]:
    engine = BotEngine(SCRIPTS["demo"], MediaLibrary(), clock=lambda: 1718674200.0)
    agent = cls(
        engine,
        bot_subscriber("demo", "1065800000", "secret"),
        inbox=BotInbox(clock=lambda: 1718674200.0),
        clock=lambda: 1718674200.0,
    )
    endpoint = FakeEndpoint()
    agent.endpoint = endpoint  # type: ignore[assignment]
    agent.registration = FakeRegistration()  # type: ignore[assignment]
    return agent, endpoint


def wire(name: str) -> Request:
    message = parse_message((WIRE / name).read_bytes())
    assert isinstance(message, Request)
    return message


def payloads(sent: list[Request]) -> list[tuple[str, bytes]]:
    """Content type and body inside the CPIM of each request sent."""
    out = []
    for request in sent:
        message = cpim.parse(request.body)
        out.append((message.content_headers.get("Content-Type") or "", message.decoded_body()))
    return out


# --------------------------------------------------------------------------- the corpus

VALID = sorted(p.name for p in WIRE.glob("*.sip"))
BROKEN = sorted(p.name for p in (WIRE / "broken").glob("*.sip"))


@pytest.mark.parametrize("name", VALID)
async def test_valid_messages_are_answered_200_and_recorded(name: str) -> None:
    agent, _ = make_agent()
    response = agent._on_message(wire(name), None)  # type: ignore[arg-type]
    assert response.status == 200
    assert len(agent.inbox.entries("demo")) == 1
    await agent.idle()


@pytest.mark.parametrize("name", BROKEN)
async def test_broken_cpim_gets_400_and_nothing_else(name: str) -> None:
    agent, endpoint = make_agent()
    response = agent._on_message(wire(f"broken/{name}"), None)  # type: ignore[arg-type]
    assert response.status == 400
    assert response.reason.startswith("Bad Request (")
    assert response.reason.isprintable()
    await agent.idle()
    assert endpoint.sent == [] and agent.inbox.entries() == []


async def test_hi_gets_delivered_and_displayed_receipts_then_the_welcome() -> None:
    agent, endpoint = make_agent()
    agent._on_message(wire("01_text_hi.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    kinds = [content_type for content_type, _ in payloads(endpoint.sent)]
    assert kinds == ["message/imdn+xml", "message/imdn+xml", "multipart/mixed; boundary=next"]
    receipts = [parse_imdn(body) for _, body in payloads(endpoint.sent)[:2]]
    assert [(r.message_id, r.status) for r in receipts] == [
        ("wire-0001", "delivered"),
        ("wire-0001", "displayed"),
    ]
    for request in endpoint.sent:
        assert request.uri == USER, "replies go to the asserted identity"
        assert request.headers.get("Route") == ROUTE
        assert request.headers.get("P-Preferred-Identity") == "<sip:demo@botplatform.lab>"
        assert request.headers.get("Conversation-ID") == "6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5c"
        assert request.from_.uri == "sip:demo@botplatform.lab"
    welcome = cpim.parse(endpoint.sent[2].body)
    assert welcome.from_ is not None and welcome.from_.uri == "sip:demo@botplatform.lab"
    assert welcome.disposition_notification == {"positive-delivery", "display"}
    assert welcome.message_id and cpim.parse(endpoint.sent[0].body).content_disposition == (
        "notification"
    )


async def test_receipts_only_when_asked_and_plain_text_goes_to_from() -> None:
    agent, endpoint = make_agent()
    agent._on_message(wire("09_compact_no_receipts.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    assert [ct for ct, _ in payloads(endpoint.sent)] == ["multipart/mixed; boundary=next"]
    agent, endpoint = make_agent()
    agent._on_message(wire("10_plain_text_no_cpim.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    assert len(endpoint.sent) == 1 and endpoint.sent[0].uri == USER


async def test_tapped_action_gets_receipts_only() -> None:
    agent, endpoint = make_agent()
    agent.engine.conversation(USER).welcomed = True
    agent._on_message(wire("04_response_action.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    assert [ct for ct, _ in payloads(endpoint.sent)] == ["message/imdn+xml"] * 2


async def test_imdn_from_the_handset_is_recorded_not_answered() -> None:
    agent, endpoint = make_agent()
    agent._on_message(wire("08_imdn_delivered.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    assert endpoint.sent == []
    (entry,) = agent.inbox.entries("demo")
    assert entry.kind == "imdn"
    assert entry.imdn == {"messageId": "bot-msg-0001", "kind": "delivery", "status": "delivered"}
    assert entry.to_json()["bodyEncoding"] == "utf8"


async def test_same_message_twice_is_answered_once() -> None:
    agent, endpoint = make_agent()
    for _ in range(2):
        agent._on_message(wire("01_text_hi.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    assert len(endpoint.sent) == 3
    assert len(agent.inbox.entries("demo")) == 2


async def test_inbox_keeps_what_arrived() -> None:
    agent, _ = make_agent()
    agent._on_message(wire("11_base64_text.sip"), None)  # type: ignore[arg-type]
    agent._on_message(wire("05_geopush.sip"), None)  # type: ignore[arg-type]
    await agent.idle()
    first, second = (e.to_json() for e in agent.inbox.entries("demo"))
    assert first["body"] == "卡片" and first["from"] == USER and first["messageId"] == "wire-0011"
    assert second["contentType"] == "application/vnd.gsma.rcspushlocation+xml"
    assert agent.inbox.entries("demo", after=first["seq"])[0].seq == second["seq"]


def test_options_answer_and_contact_tags() -> None:
    agent, _ = make_agent()
    request = wire("01_text_hi.sip")
    request.method = "OPTIONS"
    answer = agent._on_options(request, None)  # type: ignore[arg-type]
    assert answer.status == 200
    assert answer.headers.get("Allow") == "MESSAGE, OPTIONS"
    assert "message/cpim" in (answer.headers.get("Accept") or "")
    assert answer.headers.get("Contact") is not None
    tags = BOT_TAGS
    assert tags["+g.gsma.rcs.isbot"] is None
    assert tags["+g.gsma.rcs.botversion"] == ["#=1", "#=2"]
    written = feature_tags(parse_params(';+g.gsma.rcs.isbot;+g.gsma.rcs.botversion="#=1,#=2"'))
    assert written == {"+g.gsma.rcs.isbot": None, "+g.gsma.rcs.botversion": ["#=1", "#=2"]}


def test_bot_subscriber_identities() -> None:
    sub = bot_subscriber("demo", "1065800000", "pw")
    assert sub.impi == "demo@botplatform.lab"
    assert sub.impus == ("sip:demo@botplatform.lab", "tel:+861065800000")
    assert sub.home_domain == "botplatform.lab" and sub.auth_type == "Digest"
    assert "pw" not in repr(sub)


# --------------------------------------------------------------------------- properties


class RecordingAgent(BotAgent):
    """Runs the interpreter but sends nothing (no event loop needed)."""

    def _answer(self, user: str, content_type: str, body: bytes, receipts: Any = None) -> None:
        self.engine.handle(user, content_type, body)


_SAMPLES = [(WIRE / name).read_bytes() for name in VALID]


@given(st.sampled_from(_SAMPLES), st.data())
def test_mutated_messages_get_a_response_never_an_exception(
    raw: bytes, data: st.DataObject
) -> None:
    body = raw.partition(b"\r\n\r\n")[2]
    position = data.draw(st.integers(0, len(body)))
    noise = data.draw(st.binary(max_size=12))
    mutated = body[:position] + noise + body[position + len(noise) :]
    request = parse_message(raw)
    assert isinstance(request, Request)
    request.body = mutated
    agent, _ = make_agent(RecordingAgent)
    response = agent._on_message(request, None)  # type: ignore[arg-type]
    assert isinstance(response, Response) and response.status in (200, 400, 413)


@given(st.binary(max_size=500))
def test_arbitrary_bodies_get_a_response_never_an_exception(body: bytes) -> None:
    request = wire("01_text_hi.sip")
    request.body = body
    agent, _ = make_agent(RecordingAgent)
    response = agent._on_message(request, None)  # type: ignore[arg-type]
    assert response.status in (200, 400, 413)


class GatedEndpoint(FakeEndpoint):
    """Holds the first request until the gate opens; notes the order requests complete."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.first_sent = asyncio.Event()
        self.done: list[Request] = []

    async def send(self, request: Request) -> RequestOutcome:
        if not self.sent:
            self.first_sent.set()
            self.sent.append(request)
            await self.gate.wait()
            outcome = RequestOutcome(request, build_response(request, 200, to_tag="t"))
        else:
            outcome = await super().send(request)
        self.done.append(request)
        return outcome


async def test_replies_to_one_user_keep_their_order() -> None:
    agent, _ = make_agent()
    endpoint = GatedEndpoint()
    agent.endpoint = endpoint  # type: ignore[assignment]
    agent._on_message(wire("09_compact_no_receipts.sip"), None)  # type: ignore[arg-type]
    agent._on_message(wire("01_text_hi.sip"), None)  # type: ignore[arg-type]
    await endpoint.first_sent.wait()
    assert endpoint.done == [], "the second answer waits for the first"
    endpoint.gate.set()
    await agent.idle()
    kinds = [content_type for content_type, _ in payloads(endpoint.done)]
    assert kinds == [
        "multipart/mixed; boundary=next",  # the welcome for the first message
        "message/imdn+xml",
        "message/imdn+xml",
        "multipart/mixed; boundary=next",  # "hi" is the welcome again (keyword)
    ]
    assert agent._locks == {}
