"""Property tests of the transaction layer: lossy, duplicating, reordering networks.

A UAC and a UAS, each with a well-behaved transaction user (TU), exchange one request over a
simulated network that Hypothesis drives: it delivers in-flight messages in any order,
duplicates or drops them (unreliable transports only), lets time pass, makes the UAS TU
answer, and makes the UAC TU cancel. Messages older than T4 leave the network, as RFC 3261
assumes. Whatever the interleaving, the layers must not raise, the UAC TU must never see two
final responses (or a final response and a timeout) for one transaction, and once the TUs
have finished and the timers have run out, nothing may be left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st
from test_sip_transaction_support import START, counter, load, make_request

from rcs_terminal.clock import FakeClock
from rcs_terminal.errors import ProtocolError, SipParseError
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.events import (
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TransactionEvent,
    TransactionTerminated,
    TransactionTimedOut,
)
from rcs_terminal.protocol.sip.message import Request, Response, build_response, parse_message
from rcs_terminal.protocol.sip.transaction import TransactionKey, TransactionState
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

T4 = 5.0
TAG = "uas-tag"


@dataclass
class InFlight:
    sent_at: float
    data: bytes


@dataclass
class Network:
    """Two layers, their TUs, and the messages between them."""

    reliable: bool
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    to_uas: list[InFlight] = field(default_factory=list)
    to_uac: list[InFlight] = field(default_factory=list)
    uac_events: list[TransactionEvent] = field(default_factory=list)
    uas_events: list[TransactionEvent] = field(default_factory=list)
    pending: list[TransactionKey] = field(default_factory=list)
    decided: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.uac = TransactionLayer(new_branch_id=counter("c"), local_via="SIP/2.0/UDP 192.0.2.10")
        self.uas = TransactionLayer(new_branch_id=counter("s"), local_via="SIP/2.0/UDP 192.0.2.20")

    @property
    def now(self) -> float:
        return self.clock.now()

    # ------------------------------------------------------------------ plumbing

    def flush(self) -> None:
        now = self.now
        self.to_uas += [InFlight(now, m.to_bytes()) for m in self.uac.messages_to_send()]
        self.to_uac += [InFlight(now, m.to_bytes()) for m in self.uas.messages_to_send()]

    def deliver(self, to_uas: bool, index: int, duplicate: bool) -> None:
        if not (self.to_uas if to_uas else self.to_uac):
            to_uas = not to_uas  # nothing that way: deliver the other way
        queue = self.to_uas if to_uas else self.to_uac
        if not queue:
            return
        if self.reliable:
            index, duplicate = 0, False  # a stream keeps order and never duplicates
        index %= len(queue)
        item = queue[index] if duplicate else queue.pop(index)
        message = parse_message(item.data)
        if to_uas:
            self.on_uas(self.uas.receive(message, self.now, reliable=self.reliable))
        else:
            self.on_uac(self.uac.receive(message, self.now, reliable=self.reliable))
        self.flush()

    def drop(self, to_uas: bool, index: int) -> None:
        queue = self.to_uas if to_uas else self.to_uac
        if queue and not self.reliable:
            queue.pop(index % len(queue))

    def advance(self, seconds: float) -> None:
        now = self.clock.advance(seconds)
        if not self.reliable:  # a datagram lives at most T4 in the network
            self.to_uas = [m for m in self.to_uas if now - m.sent_at < T4]
            self.to_uac = [m for m in self.to_uac if now - m.sent_at < T4]
        self.on_uac(self.uac.handle_timer(now))
        self.on_uas(self.uas.handle_timer(now))
        self.flush()

    # ------------------------------------------------------------------ the TUs

    def on_uac(self, events: list[TransactionEvent]) -> None:
        self.uac_events += events
        for event in events:
            if (
                isinstance(event, ResponseReceived)
                and event.key.is_invite
                and 200 <= event.response.status < 300
            ):
                invite = self.request
                dialog = Dialog.from_uac(invite, event.response)
                self.uac.send_ack(dialog.create_ack(event.response), self.now)

    def on_uas(self, events: list[TransactionEvent]) -> None:
        self.uas_events += events
        for event in events:
            if isinstance(event, RequestReceived):
                self.pending.append(event.key)
            elif isinstance(event, CancelReceived):
                status = 481 if event.invite_key is None else 200
                self.on_uas(self.uas.send_response(build_response(event.request, status), self.now))
                if event.invite_key in self.pending:
                    self.answer(event.invite_key, 487)

    def answer(self, key: TransactionKey, status: int) -> None:
        """The UAS TU answers ``key``; a request it has answered before gets the same."""
        if self.uas.state_of(key) is None:
            self.pending.remove(key)
            return
        request = self.uas.request_of(key)
        assert request is not None
        identity = (request.call_id, request.cseq.seq, request.method)
        if identity in self.decided:
            status = self.decided[identity]
        elif status >= 200:
            self.decided[identity] = status
        to_tag = TAG if status > 100 else None
        if status >= 200:
            self.pending.remove(key)
        self.on_uas(
            self.uas.send_response(build_response(request, status, to_tag=to_tag), self.now)
        )

    def uas_respond(self, status: int) -> None:
        if self.pending:
            self.answer(self.pending[0], status)
            self.flush()

    def cancel(self) -> None:
        if self.key.is_invite:
            self.uac.cancel(self.key, self.now)
            self.flush()

    # ------------------------------------------------------------------ the run

    def start(self, method: str) -> None:
        self.request = make_request(method)
        self.key = self.uac.send_request(self.request, self.now, reliable=self.reliable)
        self.flush()

    def finish(self, *, broken: bool) -> None:
        """Answer everything, deliver (or, if ``broken``, lose) everything, cancel what
        still waits, and let time pass until both layers are empty."""
        for _ in range(400):
            while self.pending:
                self.answer(self.pending[0], 480)
            self.flush()
            if broken:
                self.to_uas.clear()
                self.to_uac.clear()
            while self.to_uas or self.to_uac:
                if self.to_uas:
                    self.deliver(True, 0, False)
                if self.to_uac:
                    self.deliver(False, 0, False)
            if self.uac.state_of(self.key) is TransactionState.PROCEEDING:
                self.cancel()
            if (
                not self.uac.transaction_count
                and not self.uas.transaction_count
                and not self.pending
            ):
                return
            self.advance(1.0)
        raise AssertionError("the layers never settled")


_OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["deliver"] * 5
            + ["duplicate", "drop", "advance", "advance", "respond", "respond"]
            + ["cancel"]
        ),
        st.booleans(),  # towards the UAS?
        st.integers(0, 20),  # which message in flight
        st.sampled_from([100, 180, 183, 200, 202, 486, 603]),  # the UAS TU's answer
        st.sampled_from([0.1, 0.5, 1.0, 2.0, 4.0, 8.0]),  # time passing
    ),
    min_size=5,
    max_size=80,
)


@given(
    method=st.sampled_from(["INVITE", "MESSAGE", "OPTIONS"]),
    reliable=st.booleans(),
    ops=_OPS,
    broken_end=st.booleans(),
)
def test_interleavings_never_confuse_the_transaction_users(
    method: str, reliable: bool, ops: list[tuple[str, bool, int, int, float]], broken_end: bool
) -> None:
    net = Network(reliable)
    net.start(method)
    for kind, to_uas, index, status, seconds in ops:
        if kind in ("deliver", "duplicate"):
            net.deliver(to_uas, index, kind == "duplicate")
        elif kind == "drop":
            net.drop(to_uas, index)
        elif kind == "advance":
            net.advance(seconds)
        elif kind == "respond":
            net.uas_respond(status)
        else:
            net.cancel()
    net.finish(broken=broken_end and not reliable)

    # the UAC TU: at most one final response per transaction and To tag, never with a timeout
    finals = Counter(
        (e.key, e.response.to.tag)
        for e in net.uac_events
        if isinstance(e, ResponseReceived) and e.response.status >= 200
    )
    assert all(count == 1 for count in finals.values()), finals
    answered = {key for key, _ in finals}
    timed_out = {e.key for e in net.uac_events if isinstance(e, TransactionTimedOut)}
    assert not answered & timed_out
    assert net.key in answered | timed_out  # every request ends one way or the other
    # every transaction ends exactly once, on both sides, and nothing is left
    for events in (net.uac_events, net.uas_events):
        ended = Counter(e.key for e in events if isinstance(e, TransactionTerminated))
        assert all(count == 1 for count in ended.values()), ended
    assert net.uac.next_deadline() is None and net.uas.next_deadline() is None
    assert not net.uac.messages_to_send() and not net.uas.messages_to_send()
    # the UAS TU never saw one live transaction twice
    live: set[TransactionKey] = set()
    for event in net.uas_events:
        if isinstance(event, RequestReceived | CancelReceived):
            assert event.key not in live
            live.add(event.key)
        elif isinstance(event, TransactionTerminated):
            live.discard(event.key)


# --------------------------------------------------------------------------- hostile input

_CORPUS = [
    "message_pager.sip",
    "options_capability.sip",
    "invite_chat.sip",
    "invite_chat_200.sip",
    "invite_chat_180.sip",
    "invite_rfc2543.sip",
    "bye_in_dialog.sip",
]
_HEADERS = ["Via", "From", "To", "Call-ID", "CSeq", "Contact", "Record-Route", "Content-Type"]


def _primed_layer() -> TransactionLayer:
    """A layer with a few live transactions on both sides, for mutated input to hit."""
    layer = TransactionLayer(new_branch_id=counter("p"), local_via="SIP/2.0/UDP 192.0.2.10")
    invite = make_request("INVITE", call_id="chat-1@192.0.2.10", from_tag="chat-a-1")
    layer.send_request(invite, START, reliable=False)
    layer.receive(load("invite_chat.sip"), START, reliable=False)
    layer.receive(load("message_pager.sip"), START, reliable=False)
    return layer


@given(
    name=st.sampled_from(_CORPUS),
    header=st.sampled_from(_HEADERS),
    value=st.one_of(
        st.none(),
        st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40),
        st.sampled_from(
            [
                "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1",
                "SIP/2.0/UDP 192.0.2.10",
                "1 ACK",
                "1 CANCEL",
                "99999999999 INVITE",
                "<sip:x@y>;tag=chat-b-9",
                "chat-1@192.0.2.10",
                "",
            ]
        ),
    ),
    status=st.one_of(st.none(), st.integers(100, 699)),
)
def test_mutated_messages_raise_only_project_errors(
    name: str, header: str, value: str | None, status: int | None
) -> None:
    message = load(name)
    if value is None:
        message.headers.remove(header)
    else:
        try:
            message.headers.set(header, value)
        except ProtocolError:
            return  # not even writable
    if status is not None and isinstance(message, Response):
        message.status = status
    try:
        reparsed = parse_message(message.to_bytes())
    except SipParseError:
        return
    layer = _primed_layer()
    try:
        events = layer.receive(reparsed, START + 1, reliable=False)
    except (SipParseError, ProtocolError):
        events = []
    assert isinstance(events, list)
    # the layer is still usable afterwards
    layer.handle_timer(START + 100)
    assert isinstance(layer.messages_to_send(), list)
    assert isinstance(reparsed, Request | Response)
