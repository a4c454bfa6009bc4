"""The transaction layer as a whole: keys, tables, timers, and complete UAC/UAS exchanges."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_sip_transaction_support import (
    START,
    UacUasPair,
    load_request,
    make_request,
    only,
    over_wire,
)

from rcs_terminal.errors import LocalProtocolError, RemoteProtocolError
from rcs_terminal.protocol.sip.client_transaction import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
)
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.events import (
    AckReceived,
    RequestReceived,
    ResponseReceived,
    TransactionTerminated,
)
from rcs_terminal.protocol.sip.message import Request, build_response
from rcs_terminal.protocol.sip.server_transaction import (
    ServerInviteTransaction,
    ServerNonInviteTransaction,
)
from rcs_terminal.protocol.sip.timers import TimerConfig, TimerHeap, TimerName
from rcs_terminal.protocol.sip.transaction import (
    Role,
    Transaction,
    TransactionContext,
    TransactionInput,
    TransactionKey,
    TransactionState,
    client_key,
    server_key,
)
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

MACHINES: list[type[Transaction]] = [
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ServerInviteTransaction,
    ServerNonInviteTransaction,
]

# --------------------------------------------------------------------------- timer values


def test_timer_config_defaults_are_rfc_3261_table_4() -> None:
    config = TimerConfig()
    assert (config.t1, config.t2, config.t4, config.timer_d) == (0.5, 4.0, 5.0, 32.0)
    assert config.timeout == 32.0


def test_timer_config_from_provisioning_milliseconds() -> None:
    config = TimerConfig.from_milliseconds(2000, 16000, 17000)
    assert (config.t1, config.t2, config.t4) == (2.0, 16.0, 17.0)
    assert config.timeout == 128.0
    assert config.timer_d == 128.0  # never shorter than 64*T1
    assert TimerConfig.from_milliseconds() == TimerConfig()
    assert TimerConfig.from_milliseconds(t2=8000).t2 == 8.0


@pytest.mark.parametrize(
    "values",
    [{"t1": 0.0}, {"t1": -1.0}, {"t1": 5.0, "t2": 4.0}, {"t4": -1.0}, {"timer_d": -1.0}],
)
def test_timer_config_refuses_nonsense(values: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TimerConfig(**values)


# --------------------------------------------------------------------------- the heap


def test_timer_heap_orders_deadlines_and_keeps_ties_in_order() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.schedule(5.0, "late")
    heap.schedule(1.0, "first")
    heap.schedule(1.0, "second")
    assert heap.next_deadline() == 1.0
    assert heap.pop_due(0.5) is None
    assert [heap.pop_due(10.0) for _ in range(4)] == ["first", "second", "late", None]
    assert heap.next_deadline() is None


def test_timer_heap_cancel_and_compaction() -> None:
    heap: TimerHeap[int] = TimerHeap()
    tokens = [heap.schedule(float(i), i) for i in range(500)]
    for token in tokens[:-1]:
        heap.cancel(token)
    heap.cancel(tokens[0])  # twice: harmless
    assert len(heap) == 1
    assert len(heap._heap) < 200  # stale entries were compacted away
    assert heap.next_deadline() == 499.0
    assert heap.pop_due(1000.0) == 499
    assert len(heap) == 0


@given(st.lists(st.tuples(st.floats(0, 100, allow_nan=False), st.booleans()), max_size=60))
def test_timer_heap_matches_a_sorted_list(entries: list[tuple[float, bool]]) -> None:
    heap: TimerHeap[int] = TimerHeap()
    kept: list[tuple[float, int]] = []
    for number, (deadline, cancel) in enumerate(entries):
        token = heap.schedule(deadline, number)
        if cancel:
            heap.cancel(token)
        else:
            kept.append((deadline, number))
    kept.sort()
    assert heap.next_deadline() == (kept[0][0] if kept else None)
    popped = []
    while (item := heap.pop_due(100.0)) is not None:
        popped.append(item)
    assert popped == [number for _, number in kept]


# --------------------------------------------------------------------------- keys


def test_server_key_files_ack_under_invite_and_lowercases_the_host() -> None:
    invite = make_request("INVITE", via="SIP/2.0/UDP Host.RCS.test:5070", branch="z9hG4bKk")
    ack = make_request("ACK", via="SIP/2.0/UDP host.rcs.test:5070", branch="z9hG4bKk")
    assert server_key(invite) == server_key(ack)
    assert server_key(ack) == TransactionKey(
        Role.SERVER, "z9hG4bKk", "INVITE", "host.rcs.test:5070"
    )
    assert server_key(ack).is_invite


def test_client_key_of_a_response_without_branch_is_none() -> None:
    request = make_request("MESSAGE", via="SIP/2.0/UDP 192.0.2.1")
    assert client_key(request) is None
    assert client_key(build_response(request, 200)) is None


def test_events_are_frozen() -> None:
    event = TransactionTerminated(TransactionKey(Role.CLIENT, "z9hG4bKx", "MESSAGE"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.key = event.key  # type: ignore[misc]


# --------------------------------------------------------------------------- the tables


def _all_cases() -> list[tuple[type[Transaction], TransactionState, TransactionInput]]:
    cases = []
    for machine in MACHINES:
        states = {state for state, _ in machine.TRANSITIONS}
        for state in states:
            for event in TransactionInput:
                if (state, event) not in machine.TRANSITIONS:
                    cases.append((machine, state, event))
    return cases


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.__name__)
def test_tables_are_consistent(machine: type[Transaction]) -> None:
    for (state, _), (action, target) in machine.TRANSITIONS.items():
        assert state is not TransactionState.TERMINATED
        assert target is TransactionState.TERMINATED or target in machine.STATE_TIMERS
        assert action is None or callable(action)
    # every timer a state keeps can fire in that state
    for state, timers in machine.STATE_TIMERS.items():
        for name in timers:
            assert (state, TransactionInput[f"TIMER_{name.name}"]) in machine.TRANSITIONS


@pytest.mark.parametrize(
    ("machine", "state", "event"),
    _all_cases(),
    ids=lambda v: getattr(v, "__name__", getattr(v, "name", str(v))),
)
def test_invalid_transitions_raise_and_change_nothing(
    machine: type[Transaction], state: TransactionState, event: TransactionInput
) -> None:
    ctx = TransactionContext(TimerConfig())
    request = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.1", branch="z9hG4bKt")
    key = TransactionKey(Role.CLIENT, "z9hG4bKt", "INVITE")
    tx = machine(ctx, key, request, reliable=False)  # type: ignore[call-arg]
    tx.state = state
    expected = RemoteProtocolError if event.is_remote else LocalProtocolError
    with pytest.raises(expected):
        tx.process(event, START)
    assert tx.state is state
    assert ctx.outbox == [] and ctx.events == []


def _internal_cases() -> list[tuple[type[Transaction], TransactionState, TransactionInput]]:
    return [
        (machine, state, event)
        for machine in MACHINES
        for (state, event) in machine.TRANSITIONS
        if not event.is_remote and not event.name.startswith("SEND_")
    ]


@pytest.mark.parametrize(
    ("machine", "state", "event"),
    _internal_cases(),
    ids=lambda v: getattr(v, "__name__", getattr(v, "name", str(v))),
)
def test_timer_and_transport_inputs_reach_their_target(
    machine: type[Transaction], state: TransactionState, event: TransactionInput
) -> None:
    ctx = TransactionContext(TimerConfig())
    request = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.1", branch="z9hG4bKt")
    key = TransactionKey(Role.CLIENT, "z9hG4bKt", "INVITE")
    tx = machine(ctx, key, request, reliable=False)  # type: ignore[call-arg]
    ctx.transactions[key] = tx
    tx.state = state
    tx.process(event, START)
    target = machine.TRANSITIONS[state, event][1]
    assert tx.state is target
    assert (key in ctx.transactions) is (target is not TransactionState.TERMINATED)
    kinds = [type(e).__name__ for e in ctx.events]
    if event is TransactionInput.TRANSPORT_ERROR and machine.TRANSITIONS[state, event][0]:
        assert kinds[0] == "TransportFailed"
    if target is TransactionState.TERMINATED:
        assert kinds[-1] == "TransactionTerminated"


def test_for_response_classifies_status_codes() -> None:
    assert TransactionInput.for_response(100, sending=False) is TransactionInput.RECV_1XX
    assert TransactionInput.for_response(299, sending=False) is TransactionInput.RECV_2XX
    assert TransactionInput.for_response(300, sending=True) is TransactionInput.SEND_FINAL
    assert TransactionInput.for_response(199, sending=True) is TransactionInput.SEND_1XX


def test_every_timer_has_an_input() -> None:
    inputs = {TransactionInput[f"TIMER_{name.name}"] for name in TimerName}
    assert len(inputs) == len(TimerName)
    assert not any(event.is_remote for event in inputs)


# --------------------------------------------------------------------------- whole exchanges


def settle(pair: UacUasPair, seconds: float = 100.0) -> None:
    """Let every timer run out, delivering whatever is sent."""
    for _ in range(int(seconds)):
        pair.advance(1.0)
        pair.to_uas()
        pair.to_uac()
    assert pair.uac.transaction_count == 0 and pair.uas.transaction_count == 0
    assert pair.uac.next_deadline() is None and pair.uas.next_deadline() is None


@pytest.mark.parametrize("reliable", [False, True], ids=["udp", "tcp"])
def test_pager_message_exchange(reliable: bool) -> None:
    pair = UacUasPair(reliable=reliable)
    message = load_request("message_pager.sip")
    message.headers.remove("Via")
    key = pair.send_request(message)
    received = only(pair.to_uas(), RequestReceived)
    assert received.request.body == message.body
    assert received.request.headers.get("Accept-Contact") == message.headers.get("Accept-Contact")
    pair.uas.send_response(build_response(received.request, 202, to_tag="pgr"), pair.now)
    events = pair.to_uac()
    assert isinstance(events[0], ResponseReceived)
    assert events[0].key == key and events[0].response.status == 202
    settle(pair)


@pytest.mark.parametrize("reliable", [False, True], ids=["udp", "tcp"])
def test_invite_200_ack_then_bye(reliable: bool) -> None:
    pair = UacUasPair(reliable=reliable)
    invite = load_request("invite_chat_uac.sip")
    invite.headers.remove("Via")
    invite_key = pair.send_request(invite)
    received = only(pair.to_uas(), RequestReceived)
    uas_dialog = Dialog.from_uas(
        received.request, "callee-7", local_contact="<sip:+8613800000002@192.0.2.20:5060>"
    )
    ringing = build_response(received.request, 180, to_tag="callee-7")
    pair.uas.send_response(ringing, pair.now)
    ok = build_response(received.request, 200, to_tag="callee-7")
    ok.headers.add("Contact", "<sip:+8613800000002@192.0.2.20:5060>")
    pair.uas.send_response(ok, pair.now)
    statuses = [e.response.status for e in pair.to_uac() if isinstance(e, ResponseReceived)]
    assert statuses == [180, 200]
    # the UAC core ACKs the 2xx through its dialog
    assert pair.uac.request_of(invite_key) is invite
    uac_dialog = Dialog.from_uac(invite, over_wire(ok))
    ack = uac_dialog.create_ack(over_wire(ok))
    pair.uac.send_ack(ack, pair.now)
    ack_event = only(pair.to_uas(), AckReceived)
    assert uas_dialog.receive_request(ack_event.request) is None
    # the callee hangs up
    bye = uas_dialog.create_request("BYE")
    bye_key = pair.uas.send_request(bye, pair.now, reliable=reliable)
    bye_received = only(pair.to_uac(), RequestReceived)
    assert uac_dialog.receive_request(bye_received.request) is None
    pair.uac.send_response(build_response(bye_received.request, 200), pair.now)
    [bye_ok] = [e for e in pair.to_uas() if isinstance(e, ResponseReceived)]
    assert bye_ok.key == bye_key and bye_ok.response.status == 200
    settle(pair)


def test_thousands_of_idle_layers_arm_nothing() -> None:
    layers = [TransactionLayer() for _ in range(2000)]
    assert all(layer.next_deadline() is None for layer in layers)
    assert all(layer.handle_timer(START) == [] for layer in layers)


def test_many_finished_transactions_leave_no_timers_behind() -> None:
    layer = TransactionLayer(local_via="SIP/2.0/TCP 192.0.2.10")
    for number in range(300):
        request = make_request("MESSAGE", cseq=number + 1)
        layer.send_request(request, START, reliable=True)
        layer.receive(over_wire(build_response(request, 200)), START, reliable=True)
    assert layer.transaction_count == 0
    assert layer.next_deadline() is None
    assert len(layer._ctx.timers._heap) < 150


def test_handle_timer_before_any_deadline_does_nothing() -> None:
    layer = TransactionLayer(local_via="SIP/2.0/UDP 192.0.2.10")
    layer.send_request(make_request("OPTIONS"), START, reliable=False)
    layer.messages_to_send()
    assert layer.handle_timer(START + 0.1) == []
    assert layer.messages_to_send() == []
    assert layer.config == TimerConfig()


def test_request_of_and_state_of_unknown_keys() -> None:
    layer = TransactionLayer()
    key = TransactionKey(Role.SERVER, "z9hG4bKx", "MESSAGE", "h")
    assert layer.state_of(key) is None
    assert layer.request_of(key) is None
    assert isinstance(make_request("OPTIONS"), Request)
