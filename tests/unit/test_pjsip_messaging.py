"""Pager messaging through pjsip: the MESSAGE we build, the ones we read, the service.

:class:`PagerMessaging` runs against stand-ins for the pjsua2 objects (a buddy that records
``sendInstantMessage``, hand-made callback parameters) and a real in-memory store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain.events import Event, MessageReceived, MessageStateChanged
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.pjsip.account import PjsipConfig
from rcs_terminal.engine.pjsip.messaging import PagerMessaging
from rcs_terminal.engine.pjsip.pager import (
    CPM_MSG_SERVICE,
    IncomingMessage,
    IncomingReceipt,
    build_delivery_receipt,
    build_pager,
    looks_like_bot,
    read_incoming,
)
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import (
    CpimParseError,
    ImdnParseError,
    NativeEngineRequiredError,
    ParseError,
    SipParseError,
)
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.sip.headers import feature_tags, parse_name_addr
from rcs_terminal.protocol.sip.message import Headers, Request, parse_message

SIP = Path(__file__).parent.parent / "data" / "wire" / "pjsip" / "sip"
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
CONFIG = PjsipConfig(
    pcscf=Address("127.0.0.1", 5060),
    home_domain="rcs.test",
    impi="alice",
    impu="sip:alice@rcs.test",
    username="alice",
    password="alicepw",
    sip_instance="<urn:gsma:imei:86000000-000037-0>",
)


def request(name: str) -> Request:
    parsed = parse_message((SIP / name).read_bytes())
    assert isinstance(parsed, Request)
    return parsed


def as_request(pager: Any, sender: str = "sip:alice@rcs.test") -> Request:
    """The MESSAGE pjsip would send for ``pager``."""
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP 127.0.0.1:4001;branch=z9hG4bKm"),
            ("From", f"<{sender}>;tag=1"),
            ("To", f"<{pager.target}>"),
            ("Call-ID", "call-1"),
            ("CSeq", "1 MESSAGE"),
            *pager.headers,
            ("Content-Type", "message/cpim"),
        ]
    )
    return Request("MESSAGE", pager.target, headers, pager.cpim)


# --------------------------------------------------------------------------- building


def test_pager_headers_and_cpim() -> None:
    pager = build_pager(
        sender="sip:alice@rcs.test", target="sip:bob@rcs.test", content_type="text/plain",
        body=b"hello", message_id="m1", conversation_id="conv", contribution_id="contrib", now=NOW,
    )  # fmt: skip
    headers = dict(pager.headers)
    assert headers["P-Preferred-Service"] == CPM_MSG_SERVICE
    assert (headers["Conversation-ID"], headers["Contribution-ID"]) == ("conv", "contrib")
    accept = parse_name_addr(headers["Accept-Contact"])
    assert accept.is_wildcard and feature_tags(accept.params) == {
        "+g.3gpp.icsi-ref": [CPM_MSG_SERVICE]
    }
    message = cpim.parse(pager.cpim)
    assert message.message_id == "m1" and message.datetime == NOW
    assert message.disposition_notification == {"positive-delivery", "display"}
    assert str(message.from_) == "<sip:alice@rcs.test>" and message.body == b"hello"


def test_chatbot_pager_asks_for_the_chatbot() -> None:
    pager = build_pager(
        sender="sip:alice@rcs.test", target="sip:1065@botplatform.rcs.test",
        content_type="text/plain", body=b"menu", message_id="m2", conversation_id="c",
        contribution_id="d", now=NOW, chatbot=True,
    )  # fmt: skip
    accepts = [v for n, v in pager.headers if n == "Accept-Contact"]
    assert len(accepts) == 2 and accepts[1].endswith(";require;explicit")
    tags = feature_tags(parse_name_addr(accepts[1]).params)
    assert tags["+g.3gpp.iari-ref"] == ["urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa"]
    assert tags["+g.gsma.rcs.botversion"] == ["#=1", "#=2"]


def test_binary_payload_travels_base64() -> None:
    pager = build_pager(
        sender="sip:a@rcs.test", target="sip:b@rcs.test", content_type="image/png",
        body=b"\x89PNG\xff\x00", message_id="m3", conversation_id="c", contribution_id="d", now=NOW,
    )  # fmt: skip
    pager.cpim.decode("utf-8")  # what pjsua2 can carry
    item = read_incoming(as_request(pager))
    assert isinstance(item, IncomingMessage) and item.body == b"\x89PNG\xff\x00"


def test_looks_like_bot() -> None:
    assert looks_like_bot("sip:10658@botplatform.rcs.chinamobile.com")
    assert looks_like_bot("sip:bot@rbm.example;user=x")
    assert not looks_like_bot("sip:bob@rcs.test") and not looks_like_bot("tel:+86138")


# --------------------------------------------------------------------------- reading


def test_card_from_pjsip() -> None:
    item = read_incoming(request("01_message_card_cpim.sip"))
    assert isinstance(item, IncomingMessage)
    assert item.sender == "sip:alice@rcs.test"
    assert item.content_type == "multipart/mixed; boundary=next"
    assert item.body.startswith(
        b"--next\r\nContent-Type: application/vnd.gsma.botmessage.v1.0+json"
    )
    assert item.message_id == "db69c155-3c86-4d93-bc80-2a9e438bd688"
    assert item.dispositions == {"positive-delivery", "display"}
    assert item.conversation_id == "f36a28ca-36be-4569-838b-8d3096ef3d67"
    assert item.sent_at == dt.datetime(2026, 11, 24, 7, 15, 29, 774795, tzinfo=dt.UTC)


@pytest.mark.parametrize("name", ["02_message_imdn_cpim.sip", "07_message_imdn_bare.sip"])
def test_receipts_wrapped_or_bare(name: str) -> None:
    item = read_incoming(request(name))
    assert isinstance(item, IncomingReceipt)
    assert (item.notification.kind, item.notification.status) == ("delivery", "delivered")
    assert item.sender == "sip:bob@rcs.test"


def test_plain_text_from_a_non_rcs_client() -> None:
    item = read_incoming(request("06_message_text_plain.sip"))
    assert isinstance(item, IncomingMessage)
    assert (item.message_id, item.content_type) == ("plain-text-call-1", "text/plain")
    assert item.body == b"Hi alice, plain text from carol" and item.dispositions == frozenset()


def test_chatbot_card_base64_other_prefix() -> None:
    item = read_incoming(request("09_message_cpim_base64_bot.sip"))
    assert isinstance(item, IncomingMessage)
    assert (item.message_id, item.traffic_type) == ("bot-msg-0009", "advertisement")
    assert item.body.decode() == '{"message":{"generalPurposeCard":{"content":{"title":"优惠"}}}}'
    assert item.sender == "sip:10658000@botplatform.rcs.test"
    assert item.contribution_id == "contrib-bot-9"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("message_cpim_no_blank_line.sip", CpimParseError),
        ("message_cpim_undeclared_prefix.sip", CpimParseError),
        ("message_cpim_bad_base64.sip", CpimParseError),
        ("message_imdn_wrong_status.sip", ImdnParseError),
        ("message_imdn_entity.sip", ImdnParseError),
        ("message_bad_from.sip", SipParseError),
    ],
)
def test_broken_messages(name: str, error: type[ParseError]) -> None:
    with pytest.raises(error):
        read_incoming(request(f"broken/{name}"))


def test_delivery_receipt_answers_the_message() -> None:
    item = read_incoming(request("01_message_card_cpim.sip"))
    assert isinstance(item, IncomingMessage)
    receipt = build_delivery_receipt(item, sender="sip:bob@rcs.test", now=NOW, new_message_id="r1")
    assert receipt.target == "sip:alice@rcs.test" and receipt.message_id == "r1"
    assert dict(receipt.headers)["Conversation-ID"] == item.conversation_id
    back = read_incoming(as_request(receipt, sender="sip:bob@rcs.test"))
    assert isinstance(back, IncomingReceipt)
    assert back.notification.message_id == item.message_id
    assert back.notification.datetime == item.sent_at
    assert cpim.parse(receipt.cpim).disposition_notification == frozenset()


# --------------------------------------------------------------------------- properties

payloads = st.tuples(
    st.sampled_from(
        ["text/plain; charset=utf-8", "application/vnd.gsma.botmessage.v1.0+json", "image/png"]
    ),
    st.binary(max_size=300),
    st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36),
)


@given(payloads)
def test_pager_round_trip(payload: tuple[str, bytes, str]) -> None:
    content_type, body, message_id = payload
    pager = build_pager(
        sender="sip:alice@rcs.test", target="sip:bob@rcs.test", content_type=content_type,
        body=body, message_id=message_id, conversation_id="c", contribution_id="d", now=NOW,
    )  # fmt: skip
    item = read_incoming(as_request(pager))
    assert isinstance(item, IncomingMessage)
    assert (item.content_type, item.body, item.message_id) == (content_type, body, message_id)
    assert (item.sent_at, item.conversation_id, item.contribution_id) == (NOW, "c", "d")


@given(
    st.binary(max_size=500),
    st.sampled_from(["message/cpim", "message/imdn+xml", "text/plain", None]),
)
def test_arbitrary_bodies_are_read_or_refused(body: bytes, content_type: str | None) -> None:
    headers = Headers([("From", "<sip:bob@rcs.test>;tag=1"), ("Call-ID", "c")])
    if content_type is not None:
        headers.add("Content-Type", content_type)
    try:
        item = read_incoming(Request("MESSAGE", "sip:alice@rcs.test", headers, body))
    except ParseError:
        return
    assert isinstance(item, IncomingMessage | IncomingReceipt)


CORPUS = sorted(p for p in SIP.rglob("*.sip") if b"MESSAGE " in p.read_bytes()[:8])


@given(
    st.sampled_from(CORPUS), st.integers(0, 3000), st.binary(min_size=1, max_size=4), st.booleans()
)
def test_mutated_messages_are_read_or_refused(path: Path, at: int, data: bytes, cut: bool) -> None:
    raw = path.read_bytes()
    at %= len(raw)
    mutated = raw[:at] + raw[at + len(data) :] if cut else raw[:at] + data + raw[at:]
    try:
        parsed = parse_message(mutated)
        if isinstance(parsed, Request):
            read_incoming(parsed)
    except ParseError:
        pass


# --------------------------------------------------------------------------- the service


class FakePj:
    class Error(Exception):
        pass

    class SipHeader:
        hName = ""
        hValue = ""

    class SendInstantMessageParam:
        def __init__(self) -> None:
            self.contentType = ""
            self.content = ""
            self.txOption = SimpleNamespace(headers=[])

    class BuddyConfig:
        uri = ""
        subscribe = True

    class Buddy:
        sent: ClassVar[list[Any]] = []

        def create(self, account: Any, config: Any) -> None:
            self.uri = config.uri

        def sendInstantMessage(self, prm: Any) -> None:
            FakePj.Buddy.sent.append((self.uri, prm))


class FakeLibrary:
    pj = FakePj

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    def call(self, what: str, body: Any) -> Any:
        return body()

    def ensure_thread(self) -> None:
        pass


def service(switchover: int = 1300) -> tuple[PagerMessaging, list[Event], MessageStore]:
    FakePj.Buddy.sent = []
    store = MessageStore.open(":memory:", durable=False)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    counter = itertools.count(1)
    messaging = PagerMessaging(
        FakeLibrary(), object(), PjsipConfig(**{**CONFIG.__dict__, "switchover_size": switchover}),  # type: ignore[arg-type]
        store=store, bus=bus, clock=lambda: NOW.timestamp(), new_id=lambda: f"id{next(counter)}",
    )  # fmt: skip
    return messaging, events, store


def incoming_prm(raw: bytes) -> Any:
    return SimpleNamespace(rdata=SimpleNamespace(wholeMsg=raw.decode("utf-8", "surrogateescape")))


async def test_send_stores_and_follows_the_answer() -> None:
    messaging, events, store = service()
    task = asyncio.ensure_future(messaging.send("sip:bob@rcs.test", "text/plain", b"hi"))
    await asyncio.sleep(0)
    ((uri, prm),) = FakePj.Buddy.sent
    assert uri == "sip:bob@rcs.test" and prm.contentType == "message/cpim"
    names = [h.hName for h in prm.txOption.headers]
    assert names == ["Accept-Contact", "P-Preferred-Service", "Conversation-ID", "Contribution-ID"]
    messaging.status(SimpleNamespace(code=200, reason="OK", msgBody=prm.content))
    sent = await task
    assert sent.state.value == "sent" and sent.technology.value == "pager"
    assert [e.state for e in events if isinstance(e, MessageStateChanged)] == ["sending", "sent"]
    original = IncomingMessage(
        "sip:alice@rcs.test", sent.message_id, "text/plain", b"hi", NOW, frozenset()
    )
    receipt = build_delivery_receipt(
        original, sender="sip:bob@rcs.test", now=NOW, new_message_id="r"
    )
    messaging.incoming(incoming_prm(as_request(receipt, sender="sip:bob@rcs.test").to_bytes()))
    assert events[-1] == MessageStateChanged(1, sent.message_id, "delivered")
    found = store.message(sent.message_id)
    assert found is not None and found.state.value == "delivered"


async def test_refused_message_is_failed() -> None:
    messaging, _, _ = service()
    task = asyncio.ensure_future(messaging.send("sip:carol@rcs.test", "text/plain", b"hi"))
    await asyncio.sleep(0)
    ((_, prm),) = FakePj.Buddy.sent
    messaging.status(
        SimpleNamespace(code=480, reason="Temporarily Unavailable", msgBody=prm.content)
    )
    failed = await task
    assert failed.state.value == "failed" and failed.failure_reason == "480 Temporarily Unavailable"


async def test_too_large_for_pager_mode() -> None:
    messaging, events, store = service(switchover=300)
    with pytest.raises(
        NativeEngineRequiredError, match="large message mode needs the native engine"
    ):
        await messaging.send("sip:bob@rcs.test", "text/plain", b"x" * 400)
    assert events == [] and store.conversations() == []


async def test_incoming_card_is_stored_announced_and_receipted() -> None:
    messaging, events, store = service()
    raw = (SIP / "01_message_card_cpim.sip").read_bytes()
    messaging.incoming(incoming_prm(raw))
    messaging.incoming(incoming_prm(raw))  # a retransmission: stored and announced once
    announced = [e for e in events if isinstance(e, MessageReceived)]
    assert len(announced) == 1 and announced[0].message_id == "db69c155-3c86-4d93-bc80-2a9e438bd688"
    stored = store.messages(announced[0].conversation_id)
    assert len(stored) == 1 and stored[0].content_type == "multipart/mixed; boundary=next"
    assert stored[0].cpim_conversation_id == "f36a28ca-36be-4569-838b-8d3096ef3d67"
    assert len(FakePj.Buddy.sent) == 2  # a receipt for each copy
    uri, prm = FakePj.Buddy.sent[0]
    assert uri == "sip:alice@rcs.test"
    message = cpim.parse(prm.content.encode())
    assert message.is_imdn and message.message_id == "id1"
    messaging.status(SimpleNamespace(code=200, reason="OK", msgBody=prm.content))
    assert messaging.receipts == {"id1": 200}


async def test_unreadable_incoming_is_kept_aside() -> None:
    messaging, events, _ = service()
    messaging.incoming(incoming_prm((SIP / "broken" / "message_imdn_entity.sip").read_bytes()))
    messaging.incoming(incoming_prm(b"not sip"))
    messaging.status(SimpleNamespace(code=200, reason="OK", msgBody="not cpim"))
    assert events == [] and len(messaging.rejected) == 2


async def test_close_ends_waiting_sends() -> None:
    messaging, _, _ = service()
    task = asyncio.ensure_future(messaging.send("sip:bob@rcs.test", "text/plain", b"hi"))
    await asyncio.sleep(0)
    messaging.close()
    assert (await task).state.value == "failed"
