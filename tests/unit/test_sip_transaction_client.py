"""Client transactions (RFC 3261 §17.1): retransmission timers, ACK generation, CANCEL."""

from __future__ import annotations

import pytest
from test_sip_transaction_support import (
    START,
    UacUasPair,
    counter,
    load_request,
    make_request,
    only,
    over_wire,
    run_timers,
)

from rcs_terminal.errors import LocalProtocolError, RemoteProtocolError
from rcs_terminal.protocol.sip.events import (
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    StrayResponseReceived,
    TransactionTerminated,
    TransactionTimedOut,
    TransportFailed,
)
from rcs_terminal.protocol.sip.message import Request, Response, build_response
from rcs_terminal.protocol.sip.timers import TimerConfig
from rcs_terminal.protocol.sip.transaction import Role, TransactionKey, TransactionState
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

VIA = "SIP/2.0/UDP 192.0.2.10:5060;rport"


def new_layer(config: TimerConfig | None = None) -> TransactionLayer:
    return TransactionLayer(config, new_branch_id=counter("t"), local_via=VIA)


def retransmission_times(steps: list[tuple[float, list[object]]]) -> list[float]:
    return [when - START for when, items in steps if any(isinstance(i, Request) for i in items)]


# --------------------------------------------------------------------------- non-INVITE


def test_timer_e_doubles_up_to_t2_and_timer_f_times_out() -> None:
    layer = new_layer()
    message = make_request("MESSAGE")
    key = layer.send_request(message, START, reliable=False)
    assert layer.messages_to_send() == [message]
    steps = run_timers(layer, START + 100)
    assert retransmission_times(steps) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    when, items = steps[-1]
    assert when == START + 32.0
    assert items == [TransactionTimedOut(key, message), TransactionTerminated(key)]
    assert layer.transaction_count == 0
    assert layer.next_deadline() is None


def test_timer_e_uses_configured_t1_and_t2() -> None:
    layer = new_layer(TimerConfig(t1=2.0, t2=16.0, t4=17.0))
    layer.send_request(make_request("OPTIONS"), START, reliable=False)
    layer.messages_to_send()
    steps = run_timers(layer, START + 1000)
    assert retransmission_times(steps) == [
        2.0,
        6.0,
        14.0,
        30.0,
        46.0,
        62.0,
        78.0,
        94.0,
        110.0,
        126.0,
    ]
    assert steps[-1][0] == START + 128.0


def test_provisional_response_moves_to_proceeding_and_retransmits_at_t2() -> None:
    layer = new_layer()
    message = make_request("MESSAGE")
    key = layer.send_request(message, START, reliable=False)
    layer.messages_to_send()
    events = layer.receive(over_wire(build_response(message, 100)), START + 0.1, reliable=False)
    assert [type(e) for e in events] == [ResponseReceived]
    assert layer.state_of(key) is TransactionState.PROCEEDING
    steps = run_timers(layer, START + 13)
    assert retransmission_times(steps) == [0.5, 4.5, 8.5, 12.5]


def test_final_response_completes_absorbs_retransmissions_then_timer_k() -> None:
    layer = new_layer()
    message = make_request("MESSAGE")
    key = layer.send_request(message, START, reliable=False)
    ok = over_wire(build_response(message, 202))
    assert layer.receive(ok, START + 0.2, reliable=False) == [ResponseReceived(key, ok)]
    assert layer.state_of(key) is TransactionState.COMPLETED
    layer.messages_to_send()
    # the retransmitted 202 and a late 100 are absorbed
    assert layer.receive(over_wire(ok), START + 0.3, reliable=False) == []
    assert layer.receive(over_wire(build_response(message, 100)), START + 0.4, reliable=False) == []
    assert layer.next_deadline() == START + 0.2 + 5.0  # Timer K = T4
    assert layer.handle_timer(START + 5.2) == [TransactionTerminated(key)]
    assert layer.messages_to_send() == []


def test_reliable_non_invite_never_retransmits_and_ends_at_once() -> None:
    layer = new_layer()
    message = make_request("MESSAGE")
    key = layer.send_request(message, START, reliable=True)
    assert layer.next_deadline() == START + 32.0  # only Timer F
    layer.messages_to_send()
    ok = over_wire(build_response(message, 200))
    assert layer.receive(ok, START + 1, reliable=True) == [
        ResponseReceived(key, ok),
        TransactionTerminated(key),
    ]
    assert layer.next_deadline() is None


def test_reliable_non_invite_still_times_out() -> None:
    layer = new_layer()
    message = make_request("OPTIONS")
    key = layer.send_request(message, START, reliable=True)
    layer.messages_to_send()
    assert layer.handle_timer(START + 31.9) == []
    assert layer.handle_timer(START + 32.0) == [
        TransactionTimedOut(key, message),
        TransactionTerminated(key),
    ]
    assert layer.messages_to_send() == []


# --------------------------------------------------------------------------- INVITE


def test_timer_a_doubles_without_cap_and_timer_b_times_out() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=False)
    layer.messages_to_send()
    steps = run_timers(layer, START + 100)
    assert retransmission_times(steps) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert steps[-1] == (
        START + 32.0,
        [TransactionTimedOut(key, invite), TransactionTerminated(key)],
    )


def test_reliable_invite_has_timer_b_only() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=True)
    layer.messages_to_send()
    steps = run_timers(layer, START + 100)
    assert steps == [(START + 32.0, [TransactionTimedOut(key, invite), TransactionTerminated(key)])]


def test_provisional_response_stops_timers_a_and_b() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=False)
    ringing = over_wire(build_response(invite, 180, to_tag="callee"))
    assert layer.receive(ringing, START + 0.1, reliable=False) == [ResponseReceived(key, ringing)]
    assert layer.state_of(key) is TransactionState.PROCEEDING
    assert layer.next_deadline() is None  # the callee may take its time
    assert layer.receive(over_wire(ringing), START + 5, reliable=False) == [
        ResponseReceived(key, ringing)
    ]


def test_non_2xx_final_generates_ack_per_17_1_1_3() -> None:
    layer = new_layer()
    invite = load_request("invite_chat_uac.sip")
    key = layer.send_request(invite, START, reliable=False)
    assert invite.top_via.branch == "z9hG4bK.ue.c0ffee"  # kept, not replaced
    layer.messages_to_send()
    busy = over_wire(build_response(invite, 486, to_tag="busy-1"))
    assert layer.receive(busy, START + 0.2, reliable=False) == [ResponseReceived(key, busy)]
    [ack] = layer.messages_to_send()
    assert isinstance(ack, Request)
    assert ack.method == "ACK"
    assert ack.uri == invite.uri
    assert ack.headers.get_all("Via") == invite.headers.get_all("Via")[:1]
    assert ack.top_via.branch == invite.top_via.branch
    assert ack.headers.get("From") == invite.headers.get("From")
    assert ack.headers.get("To") == busy.headers.get("To")
    assert ack.to.tag == "busy-1"
    assert ack.call_id == invite.call_id
    assert (ack.cseq.seq, ack.cseq.method) == (1, "ACK")
    assert ack.headers.get_all("Route") == invite.headers.get_all("Route")
    assert ack.body == b""
    # the ACK survives the wire
    assert over_wire(ack).headers.get("To") == busy.headers.get("To")
    assert layer.state_of(key) is TransactionState.COMPLETED


def test_retransmitted_final_response_gets_the_ack_again_then_timer_d() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=False)
    layer.messages_to_send()
    busy = over_wire(build_response(invite, 486, to_tag="b"))
    layer.receive(busy, START + 1, reliable=False)
    [ack] = layer.messages_to_send()
    assert layer.receive(over_wire(busy), START + 2, reliable=False) == []
    assert layer.messages_to_send() == [ack]
    assert layer.receive(over_wire(build_response(invite, 183)), START + 3, reliable=False) == []
    assert layer.next_deadline() == START + 1 + 32.0  # Timer D
    assert layer.handle_timer(START + 33) == [TransactionTerminated(key)]


def test_reliable_non_2xx_final_acks_and_terminates_at_once() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=True)
    layer.messages_to_send()
    declined = over_wire(build_response(invite, 603, to_tag="d"))
    assert layer.receive(declined, START + 1, reliable=True) == [
        ResponseReceived(key, declined),
        TransactionTerminated(key),
    ]
    [ack] = layer.messages_to_send()
    assert isinstance(ack, Request) and ack.method == "ACK"


def test_2xx_is_passed_up_once_and_retransmissions_reuse_the_tu_ack() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=False)
    layer.messages_to_send()
    ok = over_wire(build_response(invite, 200, to_tag="callee-1"))
    assert layer.receive(ok, START + 1, reliable=False) == [ResponseReceived(key, ok)]
    assert layer.state_of(key) is TransactionState.ACCEPTED
    assert layer.messages_to_send() == []  # the 2xx is the TU's to ACK
    # a retransmission before the TU's ACK is simply absorbed
    assert layer.receive(over_wire(ok), START + 1.5, reliable=False) == []
    ack = make_request("ACK", call_id=invite.call_id, to_tag="callee-1", via=VIA)
    layer.send_ack(ack, START + 1.6)
    assert ack.top_via.branch == "z9hG4bKt2"  # its own branch (§17.1.1.3)
    assert layer.messages_to_send() == [ack]
    assert layer.receive(over_wire(ok), START + 2, reliable=False) == []
    assert layer.messages_to_send() == [ack]
    # a 2xx from another fork is a new dialog: passed up
    fork = over_wire(build_response(invite, 200, to_tag="callee-2"))
    assert layer.receive(fork, START + 3, reliable=False) == [ResponseReceived(key, fork)]
    # late provisionals are absorbed
    assert layer.receive(over_wire(build_response(invite, 180)), START + 4, reliable=False) == []
    assert layer.handle_timer(START + 1 + 32) == [TransactionTerminated(key)]
    # after Timer M, more 2xx are stray
    events = layer.receive(over_wire(ok), START + 40, reliable=False)
    assert [type(e) for e in events] == [StrayResponseReceived]


def test_2xx_after_non_2xx_final_is_a_remote_protocol_error() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=False)
    layer.receive(over_wire(build_response(invite, 404, to_tag="x")), START, reliable=False)
    with pytest.raises(RemoteProtocolError):
        layer.receive(over_wire(build_response(invite, 200, to_tag="x")), START, reliable=False)
    assert layer.state_of(key) is TransactionState.COMPLETED


def test_responses_matching_nothing_are_stray() -> None:
    layer = new_layer()
    other = make_request("MESSAGE", via=VIA, branch="z9hG4bKnotours")
    response = over_wire(build_response(other, 200))
    assert layer.receive(response, START, reliable=False) == [StrayResponseReceived(response)]
    unbranched = over_wire(build_response(make_request("MESSAGE", via=VIA), 200))
    assert layer.receive(unbranched, START, reliable=False) == [StrayResponseReceived(unbranched)]


def test_a_response_with_another_cseq_method_matches_nothing() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    layer.send_request(invite, START, reliable=False)
    response = build_response(invite, 200)
    response.headers.set("CSeq", "1 CANCEL")
    events = layer.receive(over_wire(response), START, reliable=False)
    assert [type(e) for e in events] == [StrayResponseReceived]


def test_transport_error_ends_the_transaction() -> None:
    layer = new_layer()
    message = make_request("MESSAGE")
    key = layer.send_request(message, START, reliable=True)
    assert layer.transport_error(key, START + 0.1) == [
        TransportFailed(key, message),
        TransactionTerminated(key),
    ]
    assert layer.transport_error(key, START + 0.2) == []
    assert layer.next_deadline() is None


# --------------------------------------------------------------------------- CANCEL


def test_cancel_before_a_provisional_waits_for_one() -> None:
    pair = UacUasPair()
    invite = make_request("INVITE")
    key = pair.send_request(invite)
    cancel_key = pair.uac.cancel(key, pair.now)
    assert cancel_key == TransactionKey(Role.CLIENT, key.branch, "CANCEL")
    assert pair.uac.state_of(cancel_key) is None  # held back (§9.1)
    received = only(pair.to_uas(), RequestReceived)
    pair.uas.send_response(build_response(received.request, 180, to_tag="b1"), pair.now)
    events = pair.to_uac()
    assert [type(e) for e in events] == [ResponseReceived]
    [cancel] = pair.uac.messages_to_send()
    assert isinstance(cancel, Request)
    assert cancel.method == "CANCEL"
    assert cancel.uri == invite.uri
    assert cancel.top_via.branch == invite.top_via.branch
    assert (cancel.cseq.seq, cancel.cseq.method) == (invite.cseq.seq, "CANCEL")
    assert cancel.to.tag is None
    assert cancel.headers.get("From") == invite.headers.get("From")
    assert pair.uac.state_of(cancel_key) is TransactionState.TRYING
    assert pair.uac.cancel(key, pair.now) == cancel_key  # idempotent
    assert pair.uac.messages_to_send() == []


def test_cancel_in_proceeding_is_sent_at_once_and_the_487_is_acked() -> None:
    pair = UacUasPair()
    invite = make_request("INVITE")
    key = pair.send_request(invite)
    received = only(pair.to_uas(), RequestReceived)
    pair.uas.send_response(build_response(received.request, 180, to_tag="b1"), pair.now)
    pair.to_uac()
    cancel_key = pair.uac.cancel(key, pair.now)
    cancel_received = only(pair.to_uas(), CancelReceived)
    assert cancel_received.invite_key == received.key
    pair.uas.send_response(build_response(cancel_received.request, 200), pair.now)
    pair.uas.send_response(build_response(received.request, 487, to_tag="b1"), pair.now)
    events = pair.to_uac()
    statuses = [(e.key, e.response.status) for e in events if isinstance(e, ResponseReceived)]
    assert statuses == [(cancel_key, 200), (key, 487)]
    [ack] = pair.uac.messages_to_send()
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert pair.uac.cancel(key, pair.now) is None  # already answered


def test_cancel_without_final_response_gives_up_after_64_t1() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=True)
    layer.receive(over_wire(build_response(invite, 100)), START + 1, reliable=True)
    cancel_key = layer.cancel(key, START + 10)
    assert cancel_key is not None
    layer.messages_to_send()
    cancel_request = layer.request_of(cancel_key)
    assert cancel_request is not None and cancel_request.method == "CANCEL"
    cancel_ok = over_wire(build_response(cancel_request, 200))
    assert layer.receive(cancel_ok, START + 11, reliable=True) == [
        ResponseReceived(cancel_key, cancel_ok),
        TransactionTerminated(cancel_key),
    ]
    assert layer.handle_timer(START + 10 + 31.9) == []
    assert layer.handle_timer(START + 10 + 32) == [
        TransactionTimedOut(key, invite),
        TransactionTerminated(key),
    ]


def test_pending_cancel_is_dropped_when_a_final_response_comes_first() -> None:
    layer = new_layer()
    invite = make_request("INVITE")
    key = layer.send_request(invite, START, reliable=False)
    layer.messages_to_send()
    assert layer.cancel(key, START) is not None
    layer.receive(over_wire(build_response(invite, 486, to_tag="x")), START + 1, reliable=False)
    [ack] = layer.messages_to_send()
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert layer.cancel(key, START + 2) is None


def test_only_client_invite_transactions_can_be_cancelled() -> None:
    layer = new_layer()
    key = layer.send_request(make_request("MESSAGE"), START, reliable=False)
    with pytest.raises(LocalProtocolError):
        layer.cancel(key, START)
    gone = TransactionKey(Role.CLIENT, "z9hG4bKgone", "INVITE")
    assert layer.cancel(gone, START) is None


# --------------------------------------------------------------------------- sending rules


def test_send_request_adds_a_branch_to_a_via_without_one() -> None:
    layer = new_layer()
    request = make_request("OPTIONS", via="SIP/2.0/UDP 192.0.2.10:5060;rport")
    key = layer.send_request(request, START, reliable=False)
    assert key == TransactionKey(Role.CLIENT, "z9hG4bKt1", "OPTIONS")
    assert request.top_via.branch == "z9hG4bKt1"
    assert request.top_via.rport is True
    assert over_wire(request).top_via.branch == "z9hG4bKt1"


def test_send_request_adds_the_local_via() -> None:
    layer = new_layer()
    request = make_request("OPTIONS")
    layer.send_request(request, START, reliable=False)
    assert request.headers.get("Via") == f"{VIA};branch=z9hG4bKt1"


def test_send_request_keeps_the_order_of_several_vias() -> None:
    layer = new_layer()
    request = make_request("OPTIONS", via="SIP/2.0/UDP a.rcs.test")
    request.headers.add("Via", "SIP/2.0/UDP b.rcs.test;branch=z9hG4bKb")
    layer.send_request(request, START, reliable=False)
    hosts = [v.split()[1].split(";")[0] for v in request.headers.get_all("Via")]
    assert hosts == ["a.rcs.test", "b.rcs.test"]
    assert request.top_via.branch == "z9hG4bKt1"


def test_branch_ids_with_the_cookie_are_used_as_they_are() -> None:
    layer = TransactionLayer(new_branch_id=lambda: "z9hG4bKfixed", local_via=VIA)
    request = make_request("OPTIONS")
    assert layer.send_request(request, START, reliable=False).branch == "z9hG4bKfixed"
    with pytest.raises(LocalProtocolError, match="already exists"):
        layer.send_request(make_request("OPTIONS"), START, reliable=False)


def test_default_branch_ids_are_random_and_unique() -> None:
    layer = TransactionLayer(local_via=VIA)
    branches = {
        layer.send_request(make_request("OPTIONS"), START, reliable=True).branch for _ in range(50)
    }
    assert len(branches) == 50
    assert all(b.startswith("z9hG4bK") and len(b) > 16 for b in branches)


@pytest.mark.parametrize(
    ("request_factory", "message"),
    [
        (lambda: make_request("ACK"), "send_ack"),
        (lambda: _cseq_mismatch(), "CSeq method"),
    ],
)
def test_send_request_refuses_bad_requests(request_factory, message) -> None:  # type: ignore[no-untyped-def]
    layer = new_layer()
    with pytest.raises(LocalProtocolError, match=message):
        layer.send_request(request_factory(), START, reliable=False)
    assert layer.messages_to_send() == []
    assert layer.transaction_count == 0


def _cseq_mismatch() -> Request:
    request = make_request("MESSAGE")
    request.headers.set("CSeq", "1 OPTIONS")
    return request


def test_send_request_without_any_via_needs_local_via() -> None:
    layer = TransactionLayer(new_branch_id=counter("x"))
    with pytest.raises(LocalProtocolError, match="local_via"):
        layer.send_request(make_request("OPTIONS"), START, reliable=False)


def test_send_ack_refuses_other_methods() -> None:
    layer = new_layer()
    with pytest.raises(LocalProtocolError):
        layer.send_ack(make_request("BYE"), START)


def test_send_ack_without_matching_invite_is_just_sent() -> None:
    layer = new_layer()
    ack = make_request("ACK", to_tag="t")
    layer.send_ack(ack, START)
    assert layer.messages_to_send() == [ack]
    assert layer.transaction_count == 0
    assert isinstance(ack, Request) and not isinstance(ack, Response)
