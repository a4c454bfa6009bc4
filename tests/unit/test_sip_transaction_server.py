"""Server transactions (RFC 3261 §17.2, RFC 6026): absorbing retransmissions, Timers G-L."""

from __future__ import annotations

import pytest
from test_sip_transaction_support import (
    START,
    WIRE,
    UacUasPair,
    counter,
    load_request,
    make_request,
    only,
    over_wire,
    run_timers,
)

from rcs_terminal.errors import LocalProtocolError, RemoteProtocolError, SipParseError
from rcs_terminal.protocol.sip.events import (
    AckNotReceived,
    AckReceived,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TransactionTerminated,
    TransactionTimedOut,
    TransportFailed,
)
from rcs_terminal.protocol.sip.message import Request, Response, build_response, parse_message
from rcs_terminal.protocol.sip.transaction import Role, TransactionKey, TransactionState
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

UAC_VIA = "SIP/2.0/UDP 192.0.2.10:5060"


def new_layer() -> TransactionLayer:
    return TransactionLayer(new_branch_id=counter("s"), local_via="SIP/2.0/UDP 192.0.2.20:5060")


def receive_new(
    layer: TransactionLayer, request: Request, *, reliable: bool = False
) -> TransactionKey:
    [event] = layer.receive(request, START, reliable=reliable)
    assert isinstance(event, RequestReceived)
    assert event.request is request
    return event.key


def response_times(steps: list[tuple[float, list[object]]]) -> list[float]:
    return [when - START for when, items in steps if any(isinstance(i, Response) for i in items)]


# --------------------------------------------------------------------------- non-INVITE


def test_non_invite_absorbs_retransmissions_with_the_last_response() -> None:
    layer = new_layer()
    message = load_request("message_pager.sip")
    key = receive_new(layer, message)
    assert key == TransactionKey(Role.SERVER, "z9hG4bK.pager.0001", "MESSAGE", "192.0.2.10:5060")
    assert layer.state_of(key) is TransactionState.TRYING
    # Trying: nothing to re-send yet
    assert layer.receive(over_wire(message), START + 0.5, reliable=False) == []
    assert layer.messages_to_send() == []
    trying = build_response(message, 100)
    assert layer.send_response(trying, START + 0.6) == []
    assert layer.state_of(key) is TransactionState.PROCEEDING
    assert layer.messages_to_send() == [trying]
    layer.receive(over_wire(message), START + 1.5, reliable=False)
    assert layer.messages_to_send() == [trying]
    accepted = build_response(message, 202, to_tag="pager-to")
    assert layer.send_response(accepted, START + 2) == []
    assert layer.state_of(key) is TransactionState.COMPLETED
    assert layer.messages_to_send() == [accepted]
    layer.receive(over_wire(message), START + 3.5, reliable=False)
    assert layer.messages_to_send() == [accepted]
    # Timer J = 64*T1 over UDP
    assert layer.next_deadline() == START + 2 + 32
    assert layer.handle_timer(START + 34) == [TransactionTerminated(key)]
    assert layer.messages_to_send() == []


def test_non_invite_over_a_reliable_transport_ends_with_its_final_response() -> None:
    layer = new_layer()
    message = load_request("message_compact.sip")
    key = receive_new(layer, message, reliable=True)
    assert key.sent_by == "[2001:db8::10]:5060"
    assert layer.send_response(build_response(message, 200), START) == [TransactionTerminated(key)]
    assert layer.transaction_count == 0
    assert layer.next_deadline() is None


def test_the_tu_cannot_answer_twice_or_answer_nothing() -> None:
    layer = new_layer()
    options = load_request("options_capability.sip")
    key = receive_new(layer, options)
    layer.send_response(build_response(options, 200), START)
    with pytest.raises(LocalProtocolError, match="cannot handle"):
        layer.send_response(build_response(options, 486), START)
    with pytest.raises(LocalProtocolError, match="cannot handle"):
        layer.send_response(build_response(options, 180), START)
    assert layer.state_of(key) is TransactionState.COMPLETED
    stranger = make_request("OPTIONS", via=UAC_VIA, branch="z9hG4bKnone")
    with pytest.raises(LocalProtocolError, match="no server transaction"):
        layer.send_response(build_response(stranger, 200), START)
    bogus = build_response(options, 200)
    bogus.status = 700
    with pytest.raises(LocalProtocolError, match="status"):
        layer.send_response(bogus, START)


def test_transport_error_is_reported() -> None:
    layer = new_layer()
    options = load_request("options_capability.sip")
    key = receive_new(layer, options)
    layer.send_response(build_response(options, 100), START)
    assert layer.transport_error(key, START) == [
        TransportFailed(key, options),
        TransactionTerminated(key),
    ]


# --------------------------------------------------------------------------- INVITE, non-2xx


def test_invite_retransmission_before_any_response_sends_nothing() -> None:
    layer = new_layer()
    invite = load_request("invite_chat.sip")
    key = receive_new(layer, invite)
    assert layer.receive(over_wire(invite), START + 0.5, reliable=False) == []
    assert layer.messages_to_send() == []
    ringing = build_response(invite, 180, to_tag="callee")
    layer.send_response(ringing, START + 0.6)
    assert layer.messages_to_send() == [ringing]
    layer.receive(over_wire(invite), START + 1.5, reliable=False)
    assert layer.messages_to_send() == [ringing]
    assert layer.state_of(key) is TransactionState.PROCEEDING
    assert layer.next_deadline() is None  # Proceeding has no timer


def test_timer_g_retransmits_the_final_response_and_timer_h_gives_up() -> None:
    layer = new_layer()
    invite = load_request("invite_chat.sip")
    key = receive_new(layer, invite)
    busy = build_response(invite, 486, to_tag="callee")
    layer.send_response(busy, START)
    assert layer.messages_to_send() == [busy]
    steps = run_timers(layer, START + 100)
    assert response_times(steps) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert steps[-1] == (START + 32, [TransactionTimedOut(key, invite), TransactionTerminated(key)])


def test_ack_confirms_and_timer_i_ends_the_transaction() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via=UAC_VIA, branch="z9hG4bKinv1")
    key = receive_new(layer, invite)
    busy = build_response(invite, 486, to_tag="callee")
    layer.send_response(busy, START)
    layer.messages_to_send()
    ack = make_request("ACK", via=UAC_VIA, branch="z9hG4bKinv1", to_tag="callee")
    assert layer.receive(ack, START + 0.7, reliable=False) == []  # absorbed: not for the TU
    assert layer.state_of(key) is TransactionState.CONFIRMED
    assert layer.receive(over_wire(ack), START + 1, reliable=False) == []
    assert layer.receive(over_wire(invite), START + 1.2, reliable=False) == []
    assert run_timers(layer, START + 100) == [(START + 0.7 + 5.0, [TransactionTerminated(key)])]


def test_reliable_invite_final_response_is_not_retransmitted() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via="SIP/2.0/TCP 192.0.2.10", branch="z9hG4bKtcp")
    key = receive_new(layer, invite, reliable=True)
    layer.send_response(build_response(invite, 603, to_tag="x"), START)
    assert layer.next_deadline() == START + 32  # Timer H only
    ack = make_request("ACK", via="SIP/2.0/TCP 192.0.2.10", branch="z9hG4bKtcp", to_tag="x")
    assert layer.receive(ack, START + 1, reliable=True) == [TransactionTerminated(key)]


def test_ack_before_any_final_response_is_a_protocol_violation() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via=UAC_VIA, branch="z9hG4bKearly")
    key = receive_new(layer, invite)
    ack = make_request("ACK", via=UAC_VIA, branch="z9hG4bKearly")
    with pytest.raises(RemoteProtocolError):
        layer.receive(ack, START, reliable=False)
    assert layer.state_of(key) is TransactionState.PROCEEDING


# --------------------------------------------------------------------------- INVITE, 2xx


def test_2xx_is_retransmitted_until_its_ack_arrives() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via=UAC_VIA, branch="z9hG4bKinv2")
    key = receive_new(layer, invite)
    ok = build_response(invite, 200, to_tag="callee")
    assert layer.send_response(ok, START) == []
    assert layer.state_of(key) is TransactionState.ACCEPTED
    assert layer.messages_to_send() == [ok]
    steps = run_timers(layer, START + 8)
    assert response_times(steps) == [0.5, 1.5, 3.5, 7.5]
    # a retransmitted INVITE is absorbed in Accepted (RFC 6026)
    assert layer.receive(over_wire(invite), START + 8, reliable=False) == []
    assert layer.messages_to_send() == []
    # the ACK has its own branch: matched by Call-ID and CSeq
    ack = make_request("ACK", via=UAC_VIA, branch="z9hG4bKack2", to_tag="callee")
    assert layer.receive(ack, START + 9, reliable=False) == [AckReceived(ack)]
    assert layer.receive(over_wire(ack), START + 9.5, reliable=False) == []
    assert run_timers(layer, START + 100) == [(START + 32, [TransactionTerminated(key)])]


def test_2xx_without_ack_reports_ack_not_received() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via=UAC_VIA, branch="z9hG4bKinv3")
    key = receive_new(layer, invite)
    ok = build_response(invite, 200, to_tag="callee")
    layer.send_response(ok, START)
    steps = run_timers(layer, START + 100)
    assert response_times(steps) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert steps[-1] == (START + 32, [AckNotReceived(key, ok), TransactionTerminated(key)])


def test_reliable_2xx_is_not_retransmitted_but_the_ack_is_still_awaited() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via="SIP/2.0/TLS 192.0.2.10", branch="z9hG4bKtls")
    key = receive_new(layer, invite, reliable=True)
    ok = build_response(invite, 200, to_tag="callee")
    layer.send_response(ok, START)
    layer.messages_to_send()
    assert layer.next_deadline() == START + 32  # Timer L
    # the TU may send the 2xx again (e.g. updated); it goes out as is
    layer.send_response(ok, START + 1)
    assert layer.messages_to_send() == [ok]
    with pytest.raises(LocalProtocolError):
        layer.send_response(build_response(invite, 500), START + 1)
    ack = make_request("ACK", via="SIP/2.0/TLS 192.0.2.10", branch="z9hG4bKtlsack", to_tag="callee")
    assert layer.receive(ack, START + 2, reliable=True) == [AckReceived(ack)]
    assert layer.handle_timer(START + 32) == [TransactionTerminated(key)]


def test_ack_reusing_the_invite_branch_in_accepted_reaches_the_tu_once() -> None:
    layer = new_layer()
    invite = make_request("INVITE", via=UAC_VIA, branch="z9hG4bKsame")
    receive_new(layer, invite)
    layer.send_response(build_response(invite, 200, to_tag="callee"), START)
    ack = make_request("ACK", via=UAC_VIA, branch="z9hG4bKsame", to_tag="callee")
    assert layer.receive(ack, START + 1, reliable=False) == [AckReceived(ack)]
    assert layer.receive(over_wire(ack), START + 2, reliable=False) == []


def test_ack_matching_nothing_goes_to_the_tu() -> None:
    layer = new_layer()
    ack = make_request("ACK", via=UAC_VIA, branch="z9hG4bKlost", to_tag="t")
    assert layer.receive(ack, START, reliable=False) == [AckReceived(ack)]
    assert layer.transaction_count == 0


# --------------------------------------------------------------------------- CANCEL, matching


def test_cancel_is_matched_to_its_invite() -> None:
    layer = new_layer()
    invite = load_request("invite_chat.sip")
    invite_key = receive_new(layer, invite)
    cancel = make_request(
        "CANCEL",
        via="SIP/2.0/TCP scscf.rcs.test:5060",
        branch="z9hG4bK.scscf.5b1",
        call_id="chat-1@192.0.2.10",
        from_tag="chat-a-1",
    )
    [event] = layer.receive(cancel, START + 1, reliable=True)
    assert isinstance(event, CancelReceived)
    assert event.invite_key == invite_key
    assert event.key == TransactionKey(
        Role.SERVER, "z9hG4bK.scscf.5b1", "CANCEL", invite_key.sent_by
    )
    # both transactions live side by side
    layer.send_response(build_response(cancel, 200), START + 1)
    layer.send_response(build_response(invite, 487, to_tag="callee"), START + 1)
    assert [r.status for r in layer.messages_to_send() if isinstance(r, Response)] == [200, 487]


def test_cancel_for_an_unknown_invite_has_no_invite_key() -> None:
    layer = new_layer()
    cancel = make_request("CANCEL", via=UAC_VIA, branch="z9hG4bKnothing")
    [event] = layer.receive(cancel, START, reliable=False)
    assert isinstance(event, CancelReceived)
    assert event.invite_key is None


def test_same_branch_from_another_sent_by_is_another_transaction() -> None:
    layer = new_layer()
    first = make_request("MESSAGE", via="SIP/2.0/UDP 192.0.2.10:5060", branch="z9hG4bKdup")
    second = make_request("MESSAGE", via="SIP/2.0/UDP 192.0.2.11:5060", branch="z9hG4bKdup")
    assert receive_new(layer, first) != receive_new(layer, second)
    assert layer.transaction_count == 2


def test_sent_by_host_is_compared_without_case() -> None:
    layer = new_layer()
    receive_new(layer, make_request("MESSAGE", via="SIP/2.0/UDP Phone.RCS.test", branch="z9hG4bKc"))
    again = make_request("MESSAGE", via="SIP/2.0/UDP phone.rcs.test", branch="z9hG4bKc")
    assert layer.receive(again, START, reliable=False) == []


def test_rfc2543_requests_match_on_a_legacy_key() -> None:
    layer = new_layer()
    invite = load_request("invite_rfc2543.sip")
    key = receive_new(layer, invite)
    assert key.branch.startswith("rfc2543|")
    assert layer.receive(over_wire(invite), START + 0.5, reliable=False) == []
    busy = build_response(invite, 486, to_tag="callee")
    layer.send_response(busy, START + 1)
    layer.messages_to_send()
    ack = make_request(
        "ACK",
        via="SIP/2.0/UDP 198.51.100.7:5060",
        branch="legacy-77",
        call_id="2543-call@198.51.100.7",
        from_tag="old-1",
        to_tag="callee",
        cseq=100,
    )
    assert layer.receive(ack, START + 1.2, reliable=False) == []
    assert layer.state_of(key) is TransactionState.CONFIRMED


def test_request_whose_cseq_names_another_method_is_a_400() -> None:
    layer = new_layer()
    request = make_request("MESSAGE", via=UAC_VIA, branch="z9hG4bKbad")
    request.headers.set("CSeq", "1 INFO")
    with pytest.raises(SipParseError) as info:
        layer.receive(request, START, reliable=False)
    assert info.value.status_hint == 400
    assert layer.transaction_count == 0


@pytest.mark.parametrize("missing", ["Via", "Call-ID", "From", "To", "CSeq"])
def test_request_missing_a_matching_header_is_a_400(missing: str) -> None:
    layer = new_layer()
    request = make_request("MESSAGE", via=UAC_VIA, branch="z9hG4bKmiss")
    request.headers.remove(missing)
    with pytest.raises(SipParseError) as info:
        layer.receive(request, START, reliable=False)
    assert info.value.status_hint == 400
    assert layer.transaction_count == 0


# --------------------------------------------------------------------------- the pair


@pytest.mark.parametrize("reliable", [False, True], ids=["udp", "tcp"])
def test_lost_request_is_retransmitted_and_answered(reliable: bool) -> None:
    pair = UacUasPair(reliable=reliable)
    message = load_request("message_pager.sip")
    message.headers.remove("Via")
    key = pair.send_request(message)
    assert pair.to_uas(drop=True) == []
    if reliable:
        pair.advance(1.0)
        assert pair.uac.messages_to_send() == []
        return
    pair.advance(0.5)
    received = only(pair.to_uas(), RequestReceived)
    pair.uas.send_response(build_response(received.request, 202, to_tag="x"), pair.now)
    pair.to_uac(drop=True)  # the answer is lost too
    pair.advance(1.0)  # Timer E: the request again
    assert pair.to_uas() == []  # absorbed by the server transaction, answered again
    answer = only(pair.to_uac(), ResponseReceived)
    assert answer.key == key and answer.response.status == 202


# --------------------------------------------------------------------------- broken corpus


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (WIRE / "broken").iterdir()), ids=lambda n: n[:-4]
)
def test_broken_messages_are_refused_with_a_parse_error(name: str) -> None:
    data = (WIRE / "broken" / name).read_bytes()
    layer = new_layer()
    with pytest.raises(SipParseError) as info:
        layer.receive(parse_message(data), START, reliable=False)
    if name.startswith("request"):
        assert info.value.status_hint == 400
    assert layer.transaction_count == 0
    assert layer.messages_to_send() == []
