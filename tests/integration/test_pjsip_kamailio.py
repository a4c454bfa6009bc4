"""Differential test: the pjsip engine against our own SIP stack, through a real Kamailio.

One scenario (register both sides; the sender asks the receiver's capabilities with
OPTIONS, sends a chatbot card as a CPIM-wrapped ``multipart/mixed`` pager MESSAGE, the
receiver stores it and answers a ``delivered`` IMDN, which the sender matches to its
message) runs with three pairings:

- native -> native: the baseline, both sides a plain asyncio UA built from our protocol
  core (``SipEndpoint`` over ``engine/transport.py``, ``Registration``,
  ``CapabilityService``, and pager code written here from ``protocol.cpim`` /
  ``protocol.imdn``, independent of the pjsip engine's own messaging module);
- pjsip -> native and native -> pjsip: one side a :class:`PjsipSim`.

Each run is reduced to domain-level observations (registered, the peer's services seen,
the received content type, body and message id, the IMDN matched as ``delivered``); they
must equal the baseline. The one known difference is asserted as such: pjsua answers
incoming OPTIONS itself, without a Contact, so a pjsip receiver looks online but not RCS.

Kamailio challenges every request from a local user (407), so both engines' digest
handling is exercised: pjsip's own for REGISTER and MESSAGE, ours for pjsip's OPTIONS
(``sendRequest`` does not retry on a challenge).

Skipped (with the reason) where the pjsua2-python wheel cannot exist; under CI a missing
wheel on a supported platform is a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import pytest

from rcs_terminal.domain.events import (
    Event,
    MessageReceived,
    MessageStateChanged,
    RegistrationChanged,
)
from rcs_terminal.domain.message import StoredMessage, Technology
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.capabilities import Capabilities, CapabilityService
from rcs_terminal.engine.ims_params import DigestCredentials, ImsParams, PcscfTarget
from rcs_terminal.engine.pjsip import pjsip_available, platform_problem
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.sip_endpoint import RequestOutcome, SipEndpoint
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address
from rcs_terminal.protocol import cpim, imdn
from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey
from tests.integration.conftest import Kamailio

pytestmark = pytest.mark.kamailio

IMEIS = {"alice": "86000000-000037-0", "bob": "86000000-000038-0", "carol": "86000000-000039-0"}
CARD = json.dumps(
    {
        "message": {
            "generalPurposeCard": {
                "layout": {"cardOrientation": "VERTICAL"},
                "content": {"title": "Order 42 已发货", "description": "Arrives tomorrow"},
            }
        }
    },
    ensure_ascii=False,
).encode()
CHIPS = json.dumps(
    {"suggestions": [{"reply": {"displayText": "Track", "postback": {"data": "track_42"}}}]}
).encode()
CARD_TYPE, CARD_BODY = build_multipart(
    [
        Part.create("application/vnd.gsma.botmessage.v1.0+json", CARD),
        Part.create("application/vnd.gsma.botsuggestion.v1.0+json", CHIPS),
    ]
)
WAIT = 10.0


def require_pjsip() -> None:
    """Skip where the wheel cannot exist; fail under CI when it could but is missing."""
    problem = platform_problem()
    if problem is not None:
        pytest.skip(f"the pjsua2-python wheel does not exist here ({problem})")
    if not pjsip_available():
        reason = "pjsua2-python is not installed (pip install rcs-terminal[pjsip])"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the pjsip differential test: {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _clean_location(kamailio: Kamailio) -> Iterator[None]:
    yield
    for user in IMEIS:
        subprocess.run(
            ["kamcmd", "-s", f"unix:{kamailio.run_dir}/kamailio_ctl", "ul.rm", "location", user],
            capture_output=True,
            timeout=10,
        )


def ims_params(kamailio: Kamailio, user: str, slot: int, transport: str) -> ImsParams:
    return ImsParams(
        slot=slot,
        imsi=f"46000123450000{slot}",
        home_domain="rcs.test",
        impi=user,
        impus=(f"sip:{user}@rcs.test",),
        pcscfs=(PcscfTarget(Address("127.0.0.1", kamailio.port), transport),),  # type: ignore[arg-type]
        auth=DigestCredentials(user, f"{user}pw"),
        user_agent=f"rcs-terminal-test/{user}",
        sip_instance=f"<urn:gsma:imei:{IMEIS[user]}>",
        subscribe_reg_event=False,
    )


# --------------------------------------------------------------------------- the two engines


class Side(Protocol):
    bus: EventBus
    store: MessageStore

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def query_capabilities(self, target: str) -> Capabilities: ...

    async def send_message(self, target: str, content_type: str, body: bytes) -> StoredMessage: ...


class NativeSide:
    """A plain asyncio UA from our protocol core, with pager messaging written here."""

    def __init__(self, params: ImsParams, trace: TraceRecorder) -> None:
        self.params = params
        self.bus = EventBus()
        self.store = MessageStore.open(":memory:", durable=False)
        self.endpoint = SipEndpoint(params, trace=trace, owner="native")
        self.registration = Registration(self.endpoint, bus=self.bus, max_attempts=1)
        self.capabilities = CapabilityService(self.registration, bus=self.bus)
        self.endpoint.on_request("MESSAGE", self._on_message)
        self._tasks: set[asyncio.Future[RequestOutcome]] = set()

    async def start(self) -> None:
        await self.registration.start()

    async def stop(self) -> None:
        await self.registration.stop()
        self.endpoint.close()

    async def query_capabilities(self, target: str) -> Capabilities:
        return await self.capabilities.query(target, force=True)

    def _request(self, target: str, body: bytes, conversation: str) -> Request:
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{self.params.impu}>;tag={self.endpoint.new_id()}")
        headers.add("To", f"<{target}>")
        headers.add("Call-ID", self.endpoint.new_id() + self.endpoint.new_id())
        headers.add("CSeq", "1 MESSAGE")
        headers.add(
            "Accept-Contact", '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'
        )
        headers.add("P-Preferred-Service", "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg")
        headers.add("Conversation-ID", conversation)
        headers.add("Contribution-ID", str(uuid.uuid4()))
        headers.add("Content-Type", cpim.CONTENT_TYPE)
        return Request("MESSAGE", target, headers, body)

    async def send_message(self, target: str, content_type: str, body: bytes) -> StoredMessage:
        now = dt.datetime.now(dt.UTC)
        message_id = str(uuid.uuid4())
        self.store.add_outgoing(
            self.params.slot, target, content_type, body, message_id=message_id,
            now=now.timestamp(), technology=Technology.PAGER,
        )  # fmt: skip
        self.store.mark_sending(message_id, now.timestamp())
        wrapped = cpim.build(
            from_=self.params.impu, to=target, datetime=now, body=body, content_type=content_type,
            message_id=message_id, disposition_notification=("positive-delivery", "display"),
        )  # fmt: skip
        outcome = await self.endpoint.send(self._request(target, wrapped, str(uuid.uuid4())))
        when = dt.datetime.now(dt.UTC).timestamp()
        if outcome.status is not None and 200 <= outcome.status < 300:
            self._publish(self.store.mark_sent(message_id, when))
        else:
            self._publish(self.store.mark_failed(message_id, outcome.reason, when))
        found = self.store.message(message_id)
        assert found is not None
        return found

    def _on_message(self, request: Request, key: TransactionKey) -> Response:
        ctype = (request.content_type or "").split(";", 1)[0].strip().lower()
        now = dt.datetime.now(dt.UTC)
        if ctype == imdn.CONTENT_TYPE or (
            ctype == cpim.CONTENT_TYPE and cpim.parse(request.body).is_imdn
        ):
            note = imdn.parse_imdn_payload(request.body, request.content_type)
            self._publish(
                self.store.apply_imdn(note.message_id, note.status, now.timestamp(), kind=note.kind)
            )
            return build_response(request, 200, to_tag=self.endpoint.new_id())
        message = cpim.parse(request.body)
        sender = request.from_.uri
        assert message.message_id is not None
        stored, new = self.store.add_incoming(
            self.params.slot, sender, message.content_headers.get("Content-Type") or "text/plain",
            message.decoded_body(), message_id=message.message_id, now=now.timestamp(),
            technology=Technology.PAGER,
        )  # fmt: skip
        if new:
            self.bus.publish(
                MessageReceived(self.params.slot, stored.message_id, stored.conversation_id)
            )
        if "positive-delivery" in message.disposition_notification:
            receipt = imdn.build_imdn_cpim(
                imdn.ImdnNotification(
                    message.message_id, message.datetime or now, "delivery", "delivered"
                ),
                from_=self.params.impu, to=sender, new_message_id=str(uuid.uuid4()), datetime=now,
            )  # fmt: skip
            conversation = request.headers.get("Conversation-ID") or str(uuid.uuid4())
            self.endpoint.request(self._request(sender, receipt, conversation), lambda _: None)
        return build_response(request, 200, to_tag=self.endpoint.new_id())

    def _publish(self, change: object) -> None:
        message = getattr(change, "message", None)
        if message is not None and getattr(change, "changed", False):
            self.bus.publish(
                MessageStateChanged(self.params.slot, message.message_id, message.state.value)
            )


class PjsipSide:
    """A :class:`PjsipSim` configured from the same parameters."""

    def __init__(self, params: ImsParams, trace: TraceRecorder) -> None:
        from rcs_terminal.engine.pjsip import PjsipConfig, PjsipSim

        self.bus = EventBus()
        self.store = MessageStore.open(":memory:", durable=False)
        self.sim = PjsipSim(
            PjsipConfig.from_ims_params(params), store=self.store, bus=self.bus, trace=trace,
            owner="pjsip",
        )  # fmt: skip

    async def start(self) -> None:
        await self.sim.start()

    async def stop(self) -> None:
        await self.sim.stop()

    async def query_capabilities(self, target: str) -> Capabilities:
        return await self.sim.query_capabilities(target)

    async def send_message(self, target: str, content_type: str, body: bytes) -> StoredMessage:
        return await self.sim.send_message(target, content_type, body)


# --------------------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Observation:
    """What a user of each handset would have seen."""

    sender_registered: bool
    receiver_registered: bool
    peer_online: bool
    peer_rcs: bool
    peer_services: tuple[str, ...]
    sent_state: str
    received_content_type: str
    received_body: bytes
    received_id_matches: bool
    delivered_matched: bool


def recorder(bus: EventBus) -> list[Event]:
    events: list[Event] = []
    bus.subscribe(events.append)
    return events


@pytest.fixture
async def trace(tmp_path: Path) -> AsyncIterator[TraceRecorder]:
    recorder_ = TraceRecorder()
    yield recorder_
    recorder_.write_jsonl(tmp_path / "trace.jsonl")  # left behind for a failing run
    recorder_.close()


async def run_scenario(sender: Side, receiver: Side, receiver_uri: str) -> Observation:
    sender_events, receiver_events = recorder(sender.bus), recorder(receiver.bus)
    await receiver.start()
    await sender.start()
    try:
        caps = await sender.query_capabilities(receiver_uri)
        received = asyncio.ensure_future(receiver.bus.wait_for(MessageReceived, timeout=WAIT))
        sent = await sender.send_message(receiver_uri, CARD_TYPE, CARD_BODY)
        event = await received
        stored = next(
            m
            for m in receiver.store.messages(event.conversation_id)
            if m.message_id == event.message_id
        )
        delivered = any(
            isinstance(e, MessageStateChanged)
            and e.message_id == sent.message_id
            and e.state == "delivered"
            for e in sender_events
        )
        if not delivered:
            await sender.bus.wait_for(
                MessageStateChanged,
                lambda e: e.message_id == sent.message_id and e.state == "delivered",
                timeout=WAIT,
            )
            delivered = True
        stored_sent = sender.store.message(sent.message_id)
        assert stored_sent is not None
    finally:
        await sender.stop()
        await receiver.stop()

    def registered(events: list[Event]) -> bool:
        return any(isinstance(e, RegistrationChanged) and e.state == "registered" for e in events)

    return Observation(
        sender_registered=registered(sender_events),
        receiver_registered=registered(receiver_events),
        peer_online=caps.online,
        peer_rcs=caps.rcs,
        peer_services=caps.services,
        sent_state=stored_sent.state.value,
        received_content_type=stored.content_type,
        received_body=stored.body,
        received_id_matches=stored.message_id == sent.message_id,
        delivered_matched=delivered,
    )


def make(
    kind: str, kamailio: Kamailio, user: str, slot: int, transport: str, trace: TraceRecorder
) -> Side:
    params = ims_params(kamailio, user, slot, transport)
    return PjsipSide(params, trace) if kind == "pjsip" else NativeSide(params, trace)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_pjsip_and_native_engines_observe_the_same(
    kamailio: Kamailio, trace: TraceRecorder, transport: str
) -> None:
    require_pjsip()
    runs = {}
    for sender_kind, receiver_kind in (
        ("native", "native"),
        ("pjsip", "native"),
        ("native", "pjsip"),
    ):
        sender = make(sender_kind, kamailio, "alice", 1, transport, trace)
        receiver = make(receiver_kind, kamailio, "bob", 2, transport, trace)
        runs[sender_kind, receiver_kind] = await run_scenario(sender, receiver, "sip:bob@rcs.test")

    baseline = runs["native", "native"]
    assert baseline.sender_registered and baseline.receiver_registered
    assert baseline.peer_rcs and {"chat", "standalone", "chatbot.sa"} <= set(baseline.peer_services)
    assert baseline.received_content_type == CARD_TYPE and baseline.received_body == CARD_BODY
    assert baseline.received_id_matches and baseline.delivered_matched
    assert baseline.sent_state == "delivered"

    assert runs["pjsip", "native"] == baseline
    # pjsua answers OPTIONS itself: no Contact, so no tags (sip_peers.md §3c). All else equal.
    pjsip_receiver = runs["native", "pjsip"]
    assert (pjsip_receiver.peer_online, pjsip_receiver.peer_rcs, pjsip_receiver.peer_services) == (
        True, False, ()
    )  # fmt: skip
    assert pjsip_receiver == replace(baseline, peer_rcs=False, peer_services=())


async def test_pjsip_register_trace_and_deregister(
    kamailio: Kamailio, trace: TraceRecorder
) -> None:
    """The REGISTER carries +sip.instance and our tags; OPTIONS got our 407 answer; the
    trace holds pjsip's messages with the SIM slot, secrets masked; stop de-registers."""
    require_pjsip()
    side = PjsipSide(ims_params(kamailio, "carol", 2, "udp"), trace)
    events = recorder(side.bus)
    await side.start()
    try:
        assert "AoR: carol" in kamailio.kamcmd("ul.dump", "brief")
        caps = await side.query_capabilities("sip:nobody@rcs.test")
        assert (caps.status, caps.rcs) == (404, False)
        offline = await side.query_capabilities("sip:alice@rcs.test")
        assert (offline.status, offline.rcs, offline.online) == (480, True, False)
    finally:
        await side.stop()
    assert "AoR: carol" not in kamailio.kamcmd("ul.dump", "brief")
    states = [e.state for e in events if isinstance(e, RegistrationChanged)]
    assert states == ["registering", "registered", "deregistering", "deregistered"]

    records = [r for r in trace if r.owner == "pjsip"]
    assert records and all(r.sim == 2 and r.transport == "udp" for r in records)
    register = next(r for r in records if r.direction == "out" and "Authorization" in r.text)
    assert '+sip.instance="<urn:gsma:imei:86000000-000039-0>"' in register.text
    assert "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg" in register.text
    assert 'response="***"' in register.text and "carolpw" not in register.text
    options = [r for r in records if r.first_line.startswith("OPTIONS sip:nobody@")]
    assert len(options) == 2 and "Proxy-Authorization" in options[1].text
    assert "Accept-Contact: *;+g.3gpp.icsi-ref" in options[0].text


async def test_pjsip_wrong_password_is_refused(kamailio: Kamailio, trace: TraceRecorder) -> None:
    require_pjsip()
    from rcs_terminal.engine.pjsip import PjsipConfig, PjsipSim
    from rcs_terminal.engine.pjsip.library import PjsipLibrary
    from rcs_terminal.engine.registration import RegistrationFailed

    params = ims_params(kamailio, "alice", 1, "udp")
    config = PjsipConfig.from_ims_params(params)
    sim = PjsipSim(replace(config, password="wrong"), trace=trace)
    with pytest.raises(RegistrationFailed) as failure:
        await sim.start()
    assert failure.value.status == 401 and failure.value.refused
    assert sim.library is None and PjsipLibrary.current() is None
