"""The SIP endpoint over in-memory flows: requests and their outcomes, challenges, incoming
requests with and without handlers, malformed input, timers, and fuzzing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sip_endpoint_support import (
    PCSCF1,
    FakeFlow,
    FakeNetwork,
    ManualTimer,
    advance,
    counter_ids,
    digest_params,
    respond,
    settle,
)

from rcs_terminal.clock import FakeClock
from rcs_terminal.engine.ims_params import PcscfTarget
from rcs_terminal.engine.sip_endpoint import RequestOutcome, SipEndpoint
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import NetworkError
from rcs_terminal.protocol.sip.auth import Challenge, make_challenge
from rcs_terminal.protocol.sip.message import Headers, Request, Response, parse_message
from rcs_terminal.protocol.sip.transaction import TransactionKey

WIRE = Path(__file__).parents[1] / "data" / "wire" / "endpoint"
INCOMING = sorted(WIRE.glob("incoming_*.sip"))
BROKEN = sorted((WIRE / "broken").glob("*.sip"))


def message_request(target: str = "sip:bob@rcs.test") -> Request:
    headers = Headers()
    headers.add("Max-Forwards", "70")
    headers.add("From", "<sip:alice@rcs.test>;tag=a1")
    headers.add("To", f"<{target}>")
    headers.add("Call-ID", "call-1")
    headers.add("CSeq", "1 MESSAGE")
    headers.add("Content-Type", "text/plain")
    return Request("MESSAGE", target, headers, b"hi")


async def connected(
    server: object = None, transport: str = "udp"
) -> tuple[SipEndpoint, FakeNetwork, FakeClock]:
    clock = FakeClock()
    network = FakeNetwork(server)  # type: ignore[arg-type]
    target = PcscfTarget(Address("127.0.0.1", 5060), transport)  # type: ignore[arg-type]
    endpoint = SipEndpoint(
        digest_params(pcscfs=(target,)),
        clock=clock.now,
        new_id=counter_ids(),
        opener=network.open,
        timer_factory=ManualTimer,
    )
    await endpoint.connect(target)
    return endpoint, network, clock


def proxy_challenge(request: Request, flow: FakeFlow) -> bytes:
    if request.headers.get("Proxy-Authorization") is None:
        value = make_challenge("rcs.test", "pn1")
        return respond(request, 407, Proxy_Authenticate=value).to_bytes()
    return respond(request, 200).to_bytes()


# --------------------------------------------------------------------------- requests


async def test_via_and_contact_follow_the_flow() -> None:
    endpoint, _network, _ = await connected(transport="tcp")
    assert endpoint.layer.local_via == "SIP/2.0/TCP 127.0.0.1:40000;rport"
    assert (
        endpoint.contact_uri("+8613800000001") == "sip:+8613800000001@127.0.0.1:40000;transport=tcp"
    )
    assert endpoint.contact_uri(None) == "sip:127.0.0.1:40000;transport=tcp"


async def test_request_is_answered_and_407_is_answered_once() -> None:
    endpoint, network, _ = await connected(proxy_challenge)
    seen: list[tuple[Challenge, int]] = []

    def authorizer(challenge: Challenge, request: Request, status: int) -> str:
        seen.append((challenge, status))
        return 'Digest username="alice",realm="rcs.test",nonce="pn1",uri="x",response="00"'

    endpoint.authorizer = authorizer
    outcome = await endpoint.send(message_request())
    assert outcome.status == 200 and outcome.error is None
    first, second = network.requests("MESSAGE")
    assert second.cseq.seq == first.cseq.seq + 1 and second.call_id == first.call_id
    assert second.top_via.branch != first.top_via.branch
    assert (
        second.headers.get(
            "Proxy-Authorization",
        )
        is not None
    )
    assert seen[0][1] == 407 and seen[0][0].nonce == "pn1"
    assert outcome.request.headers.get("Proxy-Authorization") is not None


async def test_second_challenge_is_returned_not_answered() -> None:
    def always(request: Request, flow: FakeFlow) -> bytes:
        return respond(request, 407, Proxy_Authenticate=make_challenge("rcs.test", "n")).to_bytes()

    endpoint, network, _ = await connected(always)
    endpoint.authorizer = lambda c, r, s: (
        'Digest username="a",realm="r",nonce="n",uri="u",response="0"'
    )
    outcome = await endpoint.send(message_request())
    assert outcome.status == 407 and len(network.requests("MESSAGE")) == 2


async def test_challenge_without_authorizer_is_returned() -> None:
    endpoint, network, _ = await connected(proxy_challenge)
    outcome = await endpoint.send(message_request())
    assert outcome.status == 407 and len(network.requests()) == 1


async def test_timeout_is_408() -> None:
    endpoint, network, clock = await connected(lambda r, f: None)
    outcomes: list[RequestOutcome] = []
    endpoint.request(message_request(), outcomes.append)
    await advance(endpoint, clock, 31.9)
    assert outcomes == []
    assert len(network.requests()) > 1  # retransmitted over UDP
    await advance(endpoint, clock, 0.1)
    assert outcomes[0].status == 408 and outcomes[0].error == "timeout"


async def test_no_flow_is_a_transport_failure() -> None:
    endpoint, _, _ = await connected()
    endpoint.disconnect()
    outcome = await endpoint.send(message_request())
    assert outcome.status == 503 and outcome.reason.startswith("transport")


async def test_flow_loss_fails_pending_requests_and_reports() -> None:
    endpoint, network, _ = await connected(lambda r, f: None, transport="tcp")
    lost: list[bool] = []
    endpoint.on_flow_lost = lambda: lost.append(True)
    outcomes: list[RequestOutcome] = []
    endpoint.request(message_request(), outcomes.append)
    network.flows[0].close()
    await settle()
    assert outcomes[0].status == 503 and lost == [True]
    assert not endpoint.is_connected
    with pytest.raises(NetworkError):
        endpoint.contact_uri("alice")


async def test_send_failure_becomes_a_transport_failure() -> None:
    endpoint, network, _ = await connected()

    def broken(data: bytes, dest: Address | None = None) -> None:
        raise NetworkError("socket closed")

    network.flows[0].send = broken  # type: ignore[method-assign]
    outcome = await endpoint.send(message_request())
    assert outcome.status == 503


async def test_stray_and_provisional_responses_are_harmless() -> None:
    def provisional_then_final(request: Request, flow: FakeFlow) -> list[bytes]:
        return [respond(request, 100).to_bytes(), respond(request, 202, "Accepted").to_bytes()]

    endpoint, network, _ = await connected(provisional_then_final)
    outcome = await endpoint.send(message_request())
    assert outcome.status == 202
    stray = respond(message_request(), 200)
    stray.headers.add("Via", "SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKnothing")
    network.flows[0].deliver(stray.to_bytes())
    await settle()


# --------------------------------------------------------------------------- incoming


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("incoming_options.sip", 405),
        ("incoming_message.sip", 405),
        ("incoming_unknown_method.sip", 501),
    ],
)
async def test_requests_without_handler(name: str, status: int) -> None:
    endpoint, network, _ = await connected()
    network.flows[0].deliver((WIRE / name).read_bytes(), Address("127.0.0.1", 5999))
    await settle()
    (response,) = network.responses
    assert response.status == status
    assert response.to.tag is not None
    assert "ACK" in (response.headers.get("Allow") or "")
    assert (
        response.headers.get(
            "Server",
        )
        == endpoint.params.user_agent
    )


async def test_handler_answers_and_response_goes_to_the_source() -> None:
    endpoint, network, _ = await connected()
    destinations: list[Address | None] = []
    flow = network.flows[0]
    original = flow.send

    def spy(data: bytes, dest: Address | None = None) -> None:
        destinations.append(dest)
        original(data, dest)

    flow.send = spy  # type: ignore[method-assign]
    endpoint.on_request("OPTIONS", lambda request, key: respond(request, 200))
    flow.deliver((WIRE / "incoming_options.sip").read_bytes(), Address("127.0.0.1", 5999))
    await settle()
    assert network.responses[0].status == 200
    assert destinations == [Address("127.0.0.1", 5999)]
    endpoint.on_request("OPTIONS", None)
    assert "OPTIONS" not in endpoint.allowed_methods


async def test_handler_may_answer_later() -> None:
    endpoint, network, _ = await connected()
    keys: list[tuple[Request, TransactionKey]] = []

    def later(request: Request, key: TransactionKey) -> None:
        keys.append((request, key))

    endpoint.on_request("MESSAGE", later)
    network.flows[0].deliver((WIRE / "incoming_message.sip").read_bytes())
    await settle()
    assert network.responses == []
    request, key = keys[0]
    endpoint.respond(key, respond(request, 202))
    await settle()
    assert network.responses[0].status == 202


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("incoming_bad_cseq.sip", 400),
        ("incoming_bad_content_length.sip", 400),
        ("incoming_bad_from.sip", 400),
        ("incoming_no_via.sip", None),
        ("incoming_garbage.sip", None),
        ("incoming_ack_bad_cseq.sip", None),
    ],
)
async def test_malformed_requests(name: str, status: int | None) -> None:
    endpoint, network, _ = await connected()
    network.flows[0].deliver((WIRE / "broken" / name).read_bytes())
    await settle()
    if status is None:
        assert network.sent == []
    else:
        (response,) = network.responses
        assert response.status == status and response.reason.startswith("Bad Request")
    assert endpoint.is_connected


async def test_cancel_without_invite_is_481() -> None:
    _endpoint, network, _ = await connected()
    cancel = (WIRE / "incoming_message.sip").read_bytes().replace(b"MESSAGE", b"CANCEL")
    cancel = cancel.replace(b"Content-Type: text/plain\r\n", b"")
    network.flows[0].deliver(parse_message(cancel).to_bytes())
    await settle()
    assert network.responses[0].status == 481


async def test_ack_goes_to_the_ack_handler() -> None:
    endpoint, network, _ = await connected()
    acks: list[Request] = []

    def on_ack(request: Request, key: TransactionKey) -> None:
        acks.append(request)

    endpoint.on_request("ACK", on_ack)
    ack = (WIRE / "incoming_unknown_method.sip").read_bytes().replace(b"FROBNICATE", b"ACK")
    network.flows[0].deliver(ack)
    await settle()
    assert len(acks) == 1 and network.sent == []


async def test_messages_from_an_old_flow_are_ignored() -> None:
    endpoint, network, _ = await connected()
    old = network.flows[0]
    await endpoint.connect(PCSCF1)
    old.closed = asyncio.get_running_loop().create_future()  # reopen it, as a late packet
    old.deliver((WIRE / "incoming_options.sip").read_bytes())
    await settle()
    assert network.responses == []


# --------------------------------------------------------------------------- timers


async def test_call_at_runs_from_the_one_timer() -> None:
    endpoint, _, clock = await connected()
    fired: list[float] = []
    endpoint.call_at(clock.now() + 10, lambda: fired.append(clock.now()))
    cancelled = endpoint.call_at(clock.now() + 5, lambda: fired.append(-1))
    cancelled.cancel()
    assert endpoint.next_deadline() == clock.now() + 10
    await advance(endpoint, clock, 10)
    assert fired == [clock.now()]
    assert endpoint.next_deadline() is None


async def test_a_failing_callback_does_not_stop_the_timer() -> None:
    endpoint, _, clock = await connected()
    fired: list[int] = []

    def boom() -> None:
        raise RuntimeError("bug")

    endpoint.call_at(clock.now() + 1, boom)
    endpoint.call_at(clock.now() + 1, lambda: fired.append(1))
    await advance(endpoint, clock, 1)
    assert fired == [1]


async def test_real_timer_fires_on_the_loop() -> None:
    endpoint = SipEndpoint(digest_params(), opener=FakeNetwork().open)
    await endpoint.connect(PCSCF1)
    done = asyncio.get_running_loop().create_future()
    endpoint.call_at(endpoint.now(), lambda: done.set_result(True))
    assert await asyncio.wait_for(done, 5)
    endpoint.close()


# --------------------------------------------------------------------------- fuzzing


def _mutate(data: bytes, edits: list[tuple[int, int, str]]) -> bytes:
    raw = bytearray(data)
    for position, value, action in edits:
        if not raw:
            break
        index = position % len(raw)
        if action == "flip":
            raw[index] = value
        elif action == "delete":
            del raw[index]
        else:
            raw.insert(index, value)
    return bytes(raw)


_EDITS = st.lists(
    st.tuples(
        st.integers(0, 10_000), st.integers(0, 255), st.sampled_from(["flip", "delete", "insert"])
    ),
    max_size=6,
)
_SEEDS = INCOMING + BROKEN + sorted(WIRE.glob("options_*.sip"))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(_SEEDS), edits=_EDITS, noise=st.binary(max_size=64))
def test_any_input_leaves_the_endpoint_working(
    seed: Path, edits: list[tuple[int, int, str]], noise: bytes
) -> None:
    async def run() -> None:
        endpoint, network, _ = await connected(lambda r, f: respond(r, 200).to_bytes())
        flow = network.flows[0]
        flow.deliver(noise)
        flow.deliver(_mutate(seed.read_bytes(), edits))
        await settle(5)
        for data in network.sent:
            assert isinstance(parse_message(data), Response)  # whatever we sent parses
        outcome = await endpoint.send(message_request())
        assert outcome.status == 200  # still working
        endpoint.close()

    asyncio.run(run())
