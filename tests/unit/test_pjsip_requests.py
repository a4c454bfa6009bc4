"""Out-of-dialog requests through pjsip: our challenge answers, outcomes, capabilities.

:class:`RequestSender` is driven with stand-ins for the pjsua2 objects (an account that
records ``sendRequest`` calls and hand-made ``onSendRequest`` parameters), so the 401/407
handling and the matching of answers to waiters are tested without pjsip.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain.events import CapabilitiesUpdated, Event
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.pjsip.account import PjsipConfig
from rcs_terminal.engine.pjsip.capabilities import CapabilityQuery, capabilities_from
from rcs_terminal.engine.pjsip.requests import (
    RequestSender,
    answer_challenge,
    outcome_from_transaction,
)
from rcs_terminal.engine.sip_endpoint import RequestOutcome
from rcs_terminal.engine.transport import Address
from rcs_terminal.protocol.sip.auth import NonceCounter, parse_credentials, verify_authorization
from rcs_terminal.protocol.sip.message import Headers, Request, Response, parse_message

SIP = Path(__file__).parent.parent / "data" / "wire" / "pjsip" / "sip"
CONFIG = PjsipConfig(
    pcscf=Address("127.0.0.1", 5060),
    home_domain="rcs.test",
    impi="alice",
    impu="sip:alice@rcs.test",
    username="alice",
    password="alicepw",
    sip_instance="<urn:gsma:imei:86000000-000037-0>",
)


def response(name: str) -> Response:
    parsed = parse_message((SIP / name).read_bytes())
    assert isinstance(parsed, Response)
    return parsed


def options(target: str = "sip:bob@rcs.test") -> Request:
    return Request("OPTIONS", target, Headers())


# --------------------------------------------------------------------------- challenges


def test_answer_to_kamailio_407() -> None:
    counter = NonceCounter()
    answer = answer_challenge(
        response("04_options_407.sip"), method="OPTIONS", uri="sip:bob@rcs.test",
        username="alice", password="alicepw", realm=None, cnonce="c0ffee", counter=counter,
    )  # fmt: skip
    assert answer is not None
    name, value = answer
    assert name == "Proxy-Authorization"
    credentials = parse_credentials(value)
    assert (credentials.username, credentials.realm, credentials.uri) == (
        "alice",
        "rcs.test",
        "sip:bob@rcs.test",
    )
    assert (credentials.qop, credentials.nc, credentials.cnonce) == ("auth", "00000001", "c0ffee")
    assert verify_authorization(credentials, method="OPTIONS", password="alicepw")
    assert not verify_authorization(credentials, method="OPTIONS", password="wrong")


def test_the_configured_realm_is_preferred() -> None:
    reply = response("10_options_407_two_realms.sip")
    kwargs: dict[str, Any] = dict(
        method="OPTIONS", uri="sip:bob@rcs.test", username="alice", password="alicepw",
        cnonce="abc",
    )  # fmt: skip
    ours = answer_challenge(reply, realm="rcs.test", counter=NonceCounter(), **kwargs)
    first = answer_challenge(reply, realm=None, counter=NonceCounter(), **kwargs)
    assert ours is not None and first is not None
    chosen = parse_credentials(ours[1])
    assert (chosen.realm, chosen.algorithm) == ("rcs.test", "SHA-256")
    assert verify_authorization(chosen, method="OPTIONS", password="alicepw")
    assert parse_credentials(first[1]).realm == "other.test"


def test_401_gets_authorization_and_nonces_count() -> None:
    reply = response("04_options_407.sip")
    reply.status = 401
    value = reply.headers.get("Proxy-Authenticate")
    assert value is not None
    reply.headers.add("WWW-Authenticate", value)
    counter = NonceCounter()
    kwargs: dict[str, Any] = dict(
        method="MESSAGE", uri="sip:bob@rcs.test", username="alice", password="pw",
        realm=None, cnonce="x", counter=counter,
    )  # fmt: skip
    first, second = answer_challenge(reply, **kwargs), answer_challenge(reply, **kwargs)
    assert first is not None and second is not None and first[0] == "Authorization"
    assert parse_credentials(second[1]).nc == "00000002"


@pytest.mark.parametrize(
    "challenge",
    [
        None,
        'Digest realm="rcs.test", nonce="bm9uY2U=", algorithm=AKAv1-MD5, qop="auth"',
        'Digest realm="rcs.test", nonce="n", algorithm=SHA-512-256',
        "Basic realm=rcs.test",
        "Digest broken,,,===",
    ],
)
def test_unanswerable_challenges(challenge: str | None) -> None:
    reply = response("04_options_407.sip")
    reply.headers.remove("Proxy-Authenticate")
    if challenge is not None:
        reply.headers.add("Proxy-Authenticate", challenge)
    assert (
        answer_challenge(
            reply,
            method="OPTIONS",
            uri="sip:b@c",
            username="u",
            password="p",
            realm=None,
            cnonce="c",
            counter=NonceCounter(),
        )
        is None
    )


# --------------------------------------------------------------------------- outcomes


def test_outcome_with_a_response() -> None:
    request = (SIP / "01_message_card_cpim.sip").read_bytes()
    answer = (SIP / "03_options_200_pjsua.sip").read_bytes()
    outcome = outcome_from_transaction(request, answer, 200, "OK", options())
    assert outcome.status == 200 and outcome.request.method == "MESSAGE"


@pytest.mark.parametrize(
    ("status", "reason", "error", "expected"),
    [
        (408, "Request Timeout", "timeout", 408),
        (503, "Service Unavailable", "transport: 503 Service Unavailable", 503),
        (500, "", "transport: 500", 503),
    ],
)
def test_outcome_without_a_response(status: int, reason: str, error: str, expected: int) -> None:
    outcome = outcome_from_transaction(b"garbage", b"", status, reason, options())
    assert outcome.request.uri == "sip:bob@rcs.test"
    assert (outcome.error, outcome.status) == (error, expected)


def test_outcome_with_a_malformed_response() -> None:
    outcome = outcome_from_transaction(b"", b"SIP/2.0 2000 Bad\r\n\r\n", 200, "OK", options())
    assert outcome.response is None and outcome.error is not None
    assert outcome.error.startswith("malformed response")


# --------------------------------------------------------------------------- capabilities


def test_pjsua_answer_is_online_but_not_rcs() -> None:
    result = capabilities_from(
        "sip:bob@rcs.test", RequestOutcome(options(), response("03_options_200_pjsua.sip")), now=5.0
    )
    assert (result.status, result.online, result.rcs, result.services) == (200, True, False, ())
    assert result.expires_at == 5.0 + 86400.0


def test_rcs_answer_lists_services_and_tags() -> None:
    result = capabilities_from(
        "sip:bob@rcs.test",
        RequestOutcome(options(), response("08_options_200_rcs_tags.sip")),
        now=0,
    )
    assert result.rcs and result.online and not result.chatbot
    assert set(result.services) == {"chat", "standalone", "fthttp", "chatbot.sa"}
    assert "+g.gsma.rcs.botversion=#=2" in result.tags
    assert not any(tag.startswith("+sip.instance") for tag in result.tags)


def test_bot_and_automata_tags() -> None:
    reply = response("08_options_200_rcs_tags.sip")
    reply.headers.add("Contact", "<sip:bot@127.0.0.1:9>;+g.gsma.rcs.isbot;automata")
    result = capabilities_from("sip:bot@rcs.test", RequestOutcome(options(), reply), now=0)
    assert result.chatbot and not result.online and result.rcs


def test_unreadable_contact_is_noted() -> None:
    reply = response("08_options_200_rcs_tags.sip")
    reply.headers.set("Contact", '<sip:bob@x>;+g.3gpp.icsi-ref="%ff%fe"')
    result = capabilities_from("sip:bob@rcs.test", RequestOutcome(options(), reply), now=0)
    assert result.reason is not None and result.reason.startswith("unreadable Contact")
    assert not result.rcs


@pytest.mark.parametrize(
    ("status", "rcs", "cached"),
    [
        (404, False, True),
        (604, False, True),
        (480, True, False),
        (408, True, False),
        (403, False, False),
    ],
)
def test_error_answers(status: int, rcs: bool, cached: bool) -> None:
    reply = response("03_options_200_pjsua.sip")
    reply.status = status
    result = capabilities_from("sip:x@rcs.test", RequestOutcome(options(), reply), now=1.0)
    assert (result.rcs, result.online, result.expires_at is not None) == (rcs, False, cached)


# --------------------------------------------------------------------------- the sender


class FakePj:
    """The few pjsua2 classes the sender touches."""

    class Error(Exception):
        pass

    class SipHeader:
        hName = ""
        hValue = ""

    class SendRequestParam:
        def __init__(self) -> None:
            self.method = ""
            self.txOption = SimpleNamespace(targetUri="", headers=[])


class FakeLibrary:
    pj = FakePj

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    def call(self, what: str, body: Any) -> Any:
        return body()


class FakeAccount:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def sendRequest(self, prm: Any) -> None:
        self.sent.append(prm)


def wire_request(prm: Any) -> str:
    """The request pjsip would have sent for ``prm`` (what ``tsx.lastTx`` holds)."""
    lines = [f"{prm.method} {prm.txOption.targetUri} SIP/2.0"]
    lines += [
        "Via: SIP/2.0/UDP 127.0.0.1:4001;branch=z9hG4bKx",
        "From: <sip:alice@rcs.test>;tag=1",
        f"To: <{prm.txOption.targetUri}>",
        "Call-ID: c1",
        f"CSeq: 1 {prm.method}",
    ]
    lines += [f"{h.hName}: {h.hValue}" for h in prm.txOption.headers]
    return "\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n"


def done(prm: Any, status: int, answer: bytes = b"") -> Any:
    reply = answer.decode("utf-8", "surrogateescape")
    tsx = SimpleNamespace(
        lastTx=SimpleNamespace(wholeMsg=wire_request(prm)), statusCode=status, statusText="r"
    )
    state = SimpleNamespace(tsx=tsx, src=SimpleNamespace(rdata=SimpleNamespace(wholeMsg=reply)))
    return SimpleNamespace(e=SimpleNamespace(body=SimpleNamespace(tsxState=state)))


def sender() -> tuple[RequestSender, FakeAccount]:
    account = FakeAccount()
    ids = iter(f"cnonce{i}" for i in range(100))
    return RequestSender(FakeLibrary(), account, CONFIG, new_id=lambda: next(ids)), account  # type: ignore[arg-type]


async def test_a_407_is_answered_once_with_our_credentials() -> None:
    requests, account = sender()
    task = asyncio.ensure_future(
        requests.send("OPTIONS", "sip:bob@rcs.test", headers=[("Accept-Contact", "*")])
    )
    await asyncio.sleep(0)
    first = account.sent[0]
    assert (first.method, first.txOption.targetUri) == ("OPTIONS", "sip:bob@rcs.test")
    requests.transaction_done(done(first, 407, (SIP / "04_options_407.sip").read_bytes()))
    assert len(account.sent) == 2 and not task.done()
    retry = account.sent[1]
    names = [h.hName for h in retry.txOption.headers]
    assert names == ["Accept-Contact", "Proxy-Authorization"]
    credentials = parse_credentials(retry.txOption.headers[1].hValue)
    assert credentials.cnonce == "cnonce0"
    assert verify_authorization(credentials, method="OPTIONS", password="alicepw")
    requests.transaction_done(done(retry, 200, (SIP / "08_options_200_rcs_tags.sip").read_bytes()))
    outcome = await task
    assert outcome.status == 200 and outcome.request.headers.get("Proxy-Authorization")


async def test_a_second_challenge_ends_the_request() -> None:
    requests, account = sender()
    task = asyncio.ensure_future(requests.send("OPTIONS", "sip:bob@rcs.test"))
    await asyncio.sleep(0)
    challenge = (SIP / "04_options_407.sip").read_bytes()
    requests.transaction_done(done(account.sent[0], 407, challenge))
    requests.transaction_done(done(account.sent[1], 407, challenge))
    assert (await task).status == 407 and len(account.sent) == 2


async def test_answers_find_their_waiters() -> None:
    requests, account = sender()
    to_bob = asyncio.ensure_future(requests.send("OPTIONS", "sip:bob@rcs.test"))
    to_carol = asyncio.ensure_future(requests.send("OPTIONS", "sip:carol@rcs.test"))
    await asyncio.sleep(0)
    bob, carol = account.sent
    pjsua = (SIP / "03_options_200_pjsua.sip").read_bytes()
    requests.transaction_done(done(carol, 480, pjsua.replace(b"200 OK", b"480 Offline", 1)))
    requests.transaction_done(done(bob, 404, pjsua.replace(b"200 OK", b"404 Not Found", 1)))
    requests.transaction_done(done(bob, 404))  # a stray repeat: nobody waits for it
    assert ((await to_bob).status, (await to_carol).status) == (404, 480)


async def test_timeouts_and_closing() -> None:
    requests, _ = sender()
    assert (await requests.send("OPTIONS", "sip:bob@rcs.test", timeout=0)).error == "timeout"
    waiting = asyncio.ensure_future(requests.send("OPTIONS", "sip:bob@rcs.test"))
    await asyncio.sleep(0)
    requests.cancel_all()
    outcome = await waiting
    assert outcome.status == 503 and outcome.request.uri == "sip:bob@rcs.test"


async def test_capability_query_publishes() -> None:
    requests, account = sender()
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    query = CapabilityQuery(
        requests, CONFIG, contact="<sip:alice@127.0.0.1:4001>;+sip.instance=\"<urn:x>\"", bus=bus,
        clock=lambda: 7.0,
    )  # fmt: skip
    assert [name for name, _ in query.headers()] == ["Contact", "Accept-Contact"]
    task = asyncio.ensure_future(query.query("bob@rcs.test"))
    await asyncio.sleep(0)
    requests.transaction_done(
        done(account.sent[0], 200, (SIP / "08_options_200_rcs_tags.sip").read_bytes())
    )
    result = await task
    assert result.target == "sip:bob@rcs.test" and result.checked_at == 7.0
    assert events == [
        CapabilitiesUpdated(
            sim=1,
            target="sip:bob@rcs.test",
            rcs=True,
            online=True,
            chatbot=False,
            services=result.services,
            status=200,
        )
    ]


# --------------------------------------------------------------------------- properties


@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(100, 699))
def test_any_transaction_gives_an_outcome(request_data: bytes, answer: bytes, status: int) -> None:
    outcome = outcome_from_transaction(request_data, answer, status, "x", options())
    assert outcome.response is not None or outcome.error is not None
    result = capabilities_from("sip:bob@rcs.test", outcome, now=0)
    assert result.target == "sip:bob@rcs.test"


@given(
    st.sampled_from(sorted(SIP.glob("*.sip"))),
    st.integers(0, 3000),
    st.binary(min_size=1, max_size=4),
)
def test_mutated_answers_give_an_outcome(path: Path, at: int, insert: bytes) -> None:
    data = path.read_bytes()
    at %= len(data)
    outcome = outcome_from_transaction(b"", data[:at] + insert + data[at:], 200, "OK", options())
    capabilities_from("sip:bob@rcs.test", outcome, now=0)
    if outcome.response is not None and outcome.response.status in (401, 407):
        answer_challenge(
            outcome.response, method="OPTIONS", uri="sip:bob@rcs.test", username="u",
            password="p", realm=None, cnonce="c", counter=NonceCounter(),
        )  # fmt: skip
