"""The chatbot platform on a real lab over loopback: a small UA built from the engine's SIP
stack registers, chats with the demo bot, taps a chip; OPTIONS shows the bot's tags; bot info
with ETag/304, the directory, the sample media, and the MaaP-style API."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from rcs_terminal.engine.capabilities import CapabilityService
from rcs_terminal.engine.ims_params import DigestCredentials, ImsParams, PcscfTarget
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.sip_endpoint import SipEndpoint
from rcs_terminal.engine.transport import Address
from rcs_terminal.lab.config_documents import LabEndpoints
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.subscribers import LabSubscriber, SubscriberDirectory
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import ImdnNotification, build_imdn_cpim, parse_imdn
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey
from rcs_terminal.protocol.up import contenttypes
from rcs_terminal.protocol.up.botinfo import parse_botinfo
from rcs_terminal.protocol.up.botmessage import parse_botmessage
from rcs_terminal.protocol.up.fthttp import parse_fthttp
from rcs_terminal.protocol.up.menu import Submenu
from rcs_terminal.protocol.up.suggestions import Reply, build_suggestion_response

DOMAIN = "ims.mnc001.mcc460.3gppnetwork.org"
DEMO = "sip:demo@botplatform.lab"
TIMEOUT = 10.0


def subscriber(name: str, number: int) -> LabSubscriber:
    imsi = f"4600190000{number:05d}"
    return LabSubscriber(
        profile="test",
        slot=1,
        imsi=imsi,
        msisdn=f"+86139000000{number:02d}",
        imei=f"8600000000{number:05d}",
        home_domain=DOMAIN,
        impi=f"{imsi}@{DOMAIN}",
        auth_type="Digest",
        password=f"{name}-secret",
        display_name=name,
    )


class TinyHandset:
    """A UA built from the engine's endpoint, registration and capability service, that
    sends CPIM pager messages and keeps what it receives."""

    def __init__(self, sub: LabSubscriber, lab: Lab) -> None:
        self.sub = sub
        self.lab = lab
        self.inbox: asyncio.Queue[cpim.CpimMessage] = asyncio.Queue()
        self.requests: list[Request] = []

    async def start(self) -> TinyHandset:
        sub = self.sub
        assert self.lab.info.sip_tcp is not None and sub.password is not None
        params = ImsParams(
            slot=1,
            imsi=sub.imsi,
            home_domain=sub.home_domain,
            impi=sub.impi,
            impus=sub.impus,
            pcscfs=(PcscfTarget(Address.parse(self.lab.info.sip_tcp), "tcp"),),
            auth=DigestCredentials(sub.impi, sub.password, sub.home_domain),
            user_agent="tiny-ua/1.0",
            sip_instance=f"<urn:gsma:imei:{sub.imei[:8]}-{sub.imei[8:14]}-0>",
            subscribe_reg_event=False,
        )
        self.endpoint = SipEndpoint(params)
        self.registration = Registration(self.endpoint)
        self.capabilities = CapabilityService(self.registration)
        self.endpoint.on_request("MESSAGE", self._on_message)
        await self.registration.start()
        return self

    async def stop(self) -> None:
        await self.registration.stop()
        self.endpoint.close()

    def _on_message(self, request: Request, key: TransactionKey) -> Response:
        self.requests.append(request)
        self.inbox.put_nowait(cpim.parse(request.body))
        return build_response(request, 200, to_tag=uuid.uuid4().hex[:8])

    async def send(self, to: str, content_type: str, body: bytes, *, imdn: bool = False) -> str:
        message_id = uuid.uuid4().hex
        now = dt.datetime.now(dt.UTC)
        if imdn:
            wrapped = body
        else:
            wrapped = cpim.build(
                from_=self.sub.sip_impu,
                to=to,
                datetime=now,
                body=body,
                content_type=content_type,
                message_id=message_id,
                disposition_notification=("positive-delivery", "display"),
            )
        headers = Headers()
        for route in self.registration.routes:
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{self.sub.sip_impu}>;tag={uuid.uuid4().hex[:8]}")
        headers.add("To", f"<{to}>")
        headers.add("Call-ID", uuid.uuid4().hex)
        headers.add("CSeq", "1 MESSAGE")
        headers.add("P-Preferred-Identity", f"<{self.sub.sip_impu}>")
        headers.add("Conversation-ID", "c0nversation-1")
        headers.add("Content-Type", "message/cpim")
        outcome = await self.endpoint.send(Request("MESSAGE", to, headers, wrapped))
        assert outcome.status == 200, outcome.reason
        return message_id

    async def receive(self, *, imdn: bool = False) -> cpim.CpimMessage:
        """The next message (IMDNs skipped unless ``imdn``)."""
        while True:
            message = await asyncio.wait_for(self.inbox.get(), TIMEOUT)
            if message.is_imdn == imdn:
                return message


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    directory = SubscriberDirectory([subscriber("alice", 1), subscriber("bob", 2)])
    async with Lab(directory=directory) as running:
        yield running


@pytest.fixture
async def alice(lab: Lab) -> AsyncIterator[TinyHandset]:
    handset = await TinyHandset(subscriber("alice", 1), lab).start()
    yield handset
    await handset.stop()


@pytest.fixture
async def http(lab: Lab) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=lab.info.http_url) as session:
        yield session


def _endpoints(lab: Lab) -> LabEndpoints:
    endpoints = lab.config_server.endpoints
    assert endpoints is not None
    return endpoints


def parts(message: cpim.CpimMessage) -> list[tuple[str, bytes]]:
    content_type = message.content_headers.get("Content-Type") or ""
    body = message.decoded_body()
    if contenttypes.base_type(content_type) != contenttypes.MULTIPART_MIXED:
        return [(content_type, body)]
    return [(str(p.content_type), p.body) for p in parse_multipart(body, content_type)]


# --------------------------------------------------------------------------- SIP


async def test_bots_register_like_any_ua(lab: Lab) -> None:
    assert lab.chatbots.problems == []
    ids = [agent.id for agent in lab.chatbots.agents]
    assert ids[0] == "demo" and {"hotline", "express", "bank", "weather", "news"} <= set(ids)
    assert all(agent.is_registered for agent in lab.chatbots.agents)
    bindings = lab.registrar.bindings_of("demo@botplatform.lab")
    assert len(bindings) == 1
    assert "+g.gsma.rcs.isbot" in str(bindings[0].contact)


async def test_options_to_the_demo_bot_shows_isbot(alice: TinyHandset) -> None:
    caps = await alice.capabilities.query(DEMO)
    assert caps.status == 200 and caps.online and caps.rcs and caps.chatbot
    assert "+g.gsma.rcs.isbot" in caps.tags
    assert {"standalone", "chatbot.sa", "fthttp", "geopush"} <= set(caps.services)
    assert "+g.gsma.rcs.botversion=#=2" in caps.tags


async def test_hi_welcome_card_chip_tap_and_next_reply(lab: Lab, alice: TinyHandset) -> None:
    sent_id = await alice.send(DEMO, "text/plain;charset=UTF-8", b"hi")
    receipts = [parse_imdn((await alice.receive(imdn=True)).decoded_body()) for _ in range(2)]
    assert {(r.message_id, r.status) for r in receipts} == {
        (sent_id, "delivered"),
        (sent_id, "displayed"),
    }
    welcome = await alice.receive()
    assert welcome.from_ is not None and welcome.from_.uri == DEMO
    assert alice.requests[-1].from_.uri == DEMO
    (card_type, card_body), (chips_type, _) = parts(welcome)
    assert contenttypes.base_type(card_type) == contenttypes.BOTMESSAGE
    assert contenttypes.base_type(chips_type) == contenttypes.BOTSUGGESTION
    card = parse_botmessage(card_body).card
    assert card is not None and card.content.title == "Welcome to the rcs-terminal demo bot"
    chip = card.content.suggestions[1]
    assert chip == Reply("Carousels", "carousels")

    await alice.send(DEMO, contenttypes.BOTSUGGESTION_RESPONSE, build_suggestion_response(chip))
    answer = await alice.receive()
    (text_type, text), _ = parts(answer)
    assert contenttypes.base_type(text_type) == "text/plain"
    assert text.decode().startswith("Carousels hold 2 to 12 cards")

    entries = lab.chatbots.inbox.entries("demo")
    assert [e.content_type for e in entries] == [
        "text/plain;charset=UTF-8",
        contenttypes.BOTSUGGESTION_RESPONSE,
    ]
    assert entries[1].to_json()["body"] == build_suggestion_response(chip).decode()


async def test_receipts_for_the_bots_messages_reach_its_inbox(lab: Lab, alice: TinyHandset) -> None:
    await alice.send(DEMO, "text/plain;charset=UTF-8", b"hello")
    welcome = await alice.receive()
    assert welcome.message_id is not None
    after = lab.chatbots.inbox.last_seq
    receipt = build_imdn_cpim(
        ImdnNotification(welcome.message_id, welcome.datetime, "delivery", "delivered"),
        from_=alice.sub.sip_impu,
        to=DEMO,
        new_message_id="r1",
        datetime=dt.datetime.now(dt.UTC),
    )
    await alice.send(DEMO, cpim.CONTENT_TYPE, receipt, imdn=True)
    (entry,) = await lab.chatbots.inbox.wait("demo", after, TIMEOUT)
    assert entry.kind == "imdn"
    assert entry.imdn == {
        "messageId": welcome.message_id,
        "kind": "delivery",
        "status": "delivered",
    }


async def test_file_reply_is_published_on_the_ft_server(lab: Lab) -> None:
    demo = lab.chatbots.agent("demo")
    assert demo is not None
    replies = demo.engine.render(["file"])
    info = parse_fthttp(replies[1].body)
    assert info.file.url.startswith(_endpoints(lab).ft_url + "/files/")
    stored = lab.ft_server.lookup(info.file.url)
    assert stored is not None and stored.name == "demo-landscape.png"
    assert info.thumbnail is not None


# --------------------------------------------------------------------------- HTTP


async def test_botinfo_with_etag_304_and_menu(lab: Lab, http: aiohttp.ClientSession) -> None:
    port = _endpoints(lab).http_port
    url = f"/bot?id={quote(DEMO, safe='')}&hl=zh-CN&v=3"
    async with http.get(url) as response:
        assert response.status == 200
        etag = response.headers["ETag"]
        assert response.headers["Cache-Control"] == "max-age=3600"
        info = parse_botinfo(await response.read())
    assert info.service_id == DEMO and info.name == "rcs-terminal demo" and info.verified
    assert info.logo_url == f"http://botplatform.lab:{port}/chatbot/media/demo-logo.png"
    assert info.colour_hex == "#1E88E5" and info.sms == "sms:1065800000"
    assert info.persistent_menu is not None
    assert isinstance(info.persistent_menu.entries[1], Submenu)
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        async with http.get(url, headers={"If-None-Match": if_none_match}) as again:
            assert again.status == 304
            assert again.headers["ETag"] == etag
            assert again.headers["Cache-Control"] == "max-age=3600"
            assert await again.read() == b""
    async with http.get(url, headers={"If-None-Match": '"stale"'}) as changed:
        assert changed.status == 200
    async with http.get("/bot?id=express") as bare:
        assert parse_botinfo(await bare.read()).name == "速达快递"
    async with http.get("/bot?id=sip%3Anobody%40botplatform.lab") as unknown:
        assert unknown.status == 404
    async with http.get("/bot") as missing:
        assert missing.status == 400


async def test_directory_search_and_paging(http: aiohttp.ClientSession) -> None:
    async with http.get("/chatbot/directory", params={"q": "快递"}) as response:
        assert response.status == 200
        found = await response.json()
    assert [bot["serviceId"] for bot in found] == ["sip:express@botplatform.lab"]
    assert set(found[0]) >= {"serviceId", "name", "description", "logo", "verified", "botinfo"}
    async with http.get("/chatbot/directory", params={"q": "", "start": "1", "num": "2"}) as page:
        assert page.headers["X-Total-Count"] == "6"
        assert len(await page.json()) == 2
    async with http.get("/chatbot/directory", params={"q": "12345"}) as hotline:
        assert (await hotline.json())[0]["name"] == "12345政务服务便民热线"
    async with http.get("/chatbot/directory", params={"start": "x"}) as bad:
        assert bad.status == 400


async def test_engine_botinfo_client_reads_the_lab(lab: Lab) -> None:
    botinfo = pytest.importorskip("rcs_terminal.engine.botinfo")
    from rcs_terminal.engine.http import HttpClient

    endpoints = _endpoints(lab)
    http = HttpClient(hosts=lab.info.names, allow_dns=False)
    try:
        client = botinfo.BotInfoClient(
            http, fqdn_root=endpoints.botinfo_root, directory_url=endpoints.chatbot_directory
        )
        info = await client.get(DEMO)
        assert info is not None and info.name == "rcs-terminal demo"
        found = await client.search("bank")
        assert [bot.service_id for bot in found] == ["sip:bank@botplatform.lab"]
    finally:
        await http.close()


async def test_sample_media_route(http: aiohttp.ClientSession) -> None:
    async with http.get("/chatbot/media/parcel.png") as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")
    for name in ("..%2Fgenerate.py", "generate.py", "nothing.png", ".hidden"):
        async with http.get(f"/chatbot/media/{name}") as missing:
            assert missing.status == 404


# --------------------------------------------------------------------------- MaaP


async def test_maap_push_reaches_the_handset(
    alice: TinyHandset, http: aiohttp.ClientSession
) -> None:
    card = {"message": {"generalPurposeCard": {"layout": {"cardOrientation": "VERTICAL"},
            "content": {"title": "推送测试", "description": "MaaP"}}}}  # fmt: skip
    push: dict[str, Any] = {
        "from": "sip:bank@botplatform.lab",
        "to": "tel:+8613900000001",
        "contentType": contenttypes.BOTMESSAGE,
        "body": card,
        "trafficType": "advertisement",
        "suggestions": [{"reply": {"displayText": "好的", "postback": {"data": "ok"}}}],
    }
    async with http.post("/maap/messages", json=push) as response:
        assert response.status == 202, await response.text()
        answer = await response.json()
    assert answer["sipStatus"] == 200 and answer["lint"] == []
    received = await alice.receive()
    assert received.message_id == answer["messageId"]
    assert received.traffic_type == "advertisement"
    assert received.from_ is not None and received.from_.uri == "sip:bank@botplatform.lab"
    (card_type, body), (chips_type, _) = parts(received)
    assert card_type == contenttypes.BOTMESSAGE and chips_type == contenttypes.BOTSUGGESTION
    assert parse_botmessage(body).card is not None

    raw = base64.b64encode(b"\x00\x01binary").decode()
    simple = {"to": "+8613900000001", "contentType": "application/octet-stream", "body": raw,
              "bodyEncoding": "base64"}  # fmt: skip
    async with http.post("/maap/messages", json=simple) as response:
        assert response.status == 202
        assert (await response.json())["from"] == DEMO
    assert (await alice.receive()).decoded_body() == b"\x00\x01binary"


async def test_maap_inbox_long_poll(alice: TinyHandset, http: aiohttp.ClientSession) -> None:
    async with http.get("/maap/inbox", params={"bot": "demo"}) as empty:
        assert await empty.json() == []
    poll = asyncio.ensure_future(
        http.get(
            "/maap/inbox", params={"bot": "sip:demo@botplatform.lab", "after": "0", "wait": "10"}
        )
    )
    message_id = await alice.send(DEMO, "text/plain;charset=UTF-8", "你好".encode())
    async with await poll as response:
        entries = await response.json()
    assert entries[0]["messageId"] == message_id
    assert entries[0]["body"] == "你好" and entries[0]["from"] == alice.sub.sip_impu
    assert entries[0]["kind"] == "message" and entries[0]["bot"] == "demo"
    async with http.get("/maap/inbox", params={"after": str(entries[-1]["seq"])}) as later:
        assert all(e["seq"] > entries[-1]["seq"] for e in await later.json())


async def test_maap_errors(lab: Lab, http: aiohttp.ClientSession) -> None:
    cases: list[tuple[Any, int, str]] = [
        ("not json", 400, "JSON object"),
        ({"to": "tel:+8613900000001"}, 400, "body"),
        ({"to": "tel:+8613900000001", "body": "x", "colour": "red"}, 400, "colour"),
        ({"from": "sip:x@botplatform.lab", "to": "+8613900000001", "body": "x"}, 404, "no chat"),
        ({"to": "tel:+8613999999999", "body": "x"}, 404, "not a lab subscriber"),
        ({"to": "tel:+8613900000001", "body": "%%%", "bodyEncoding": "base64"}, 400, "base64"),
        ({"to": "tel:+8613900000002", "body": "bob is not registered"}, 502, "480"),
    ]  # fmt: skip
    for payload, status, text in cases:
        kwargs: dict[str, Any] = (
            {"data": payload} if isinstance(payload, str) else {"json": payload}
        )
        async with http.post("/maap/messages", **kwargs) as response:
            assert response.status == status, payload
            assert text in await response.text()
    async with http.get("/maap/inbox", params={"bot": "nobody"}) as unknown:
        assert unknown.status == 404
    async with http.get("/maap/bots") as bots:
        listed = await bots.json()
    assert listed[0] == {
        "id": "demo",
        "serviceId": DEMO,
        "name": "rcs-terminal demo",
        "registered": True,
    }


async def test_maap_reset_gives_the_welcome_again(
    alice: TinyHandset, http: aiohttp.ClientSession
) -> None:
    await alice.send(DEMO, "text/plain;charset=UTF-8", b"hi")
    first = await alice.receive()
    async with http.delete(
        "/maap/conversations", params={"bot": "demo", "user": "tel:+8613900000001"}
    ) as response:
        assert response.status == 204
    await alice.send(DEMO, "text/plain;charset=UTF-8", b"anything")
    again = await alice.receive()
    assert parts(again)[0][1] == parts(first)[0][1]


def test_bot_info_documents_are_lint_clean(lab: Lab) -> None:
    lint = pytest.importorskip("rcs_terminal.lint")
    for agent in lab.chatbots.agents:
        body, _ = lab.chatbots.botinfo.botinfo(agent.engine.script)
        operators = ("gsma",) if agent.id == "demo" else ("gsma", "cmcc")
        for operator in operators:
            findings = lint.lint_payload(body, content_type=contenttypes.BOTINFO, operator=operator)
            assert not [str(f) for f in findings if f.is_error], agent.id
