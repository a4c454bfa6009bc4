"""The delivery-state machine, peer keys and previews (rcs_terminal.domain.message)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain.message import (
    INCOMING_STATES,
    OUTGOING_STATES,
    PENDING_STATES,
    PREVIEW_LENGTH,
    TRANSITIONS,
    DeliveryEvent,
    DeliveryState,
    Direction,
    StateChange,
    StoredMessage,
    Technology,
    advance,
    canonical_peer,
    event_for_imdn,
    make_preview,
    next_state,
)

S = DeliveryState
E = DeliveryEvent

# The table, written out again independently of the module: every move that changes a state.
EXPECTED: dict[tuple[DeliveryState, DeliveryEvent], DeliveryState] = {
    (S.QUEUED, E.SEND_STARTED): S.SENDING,
    (S.QUEUED, E.SEND_ACCEPTED): S.SENT,
    (S.QUEUED, E.DELIVERED): S.DELIVERED,
    (S.QUEUED, E.DISPLAYED): S.DISPLAYED,
    (S.QUEUED, E.FAILED): S.FAILED,
    (S.QUEUED, E.SMS_FALLBACK): S.SMS_FALLBACK,
    (S.SENDING, E.SEND_ACCEPTED): S.SENT,
    (S.SENDING, E.DELIVERED): S.DELIVERED,
    (S.SENDING, E.DISPLAYED): S.DISPLAYED,
    (S.SENDING, E.FAILED): S.FAILED,
    (S.SENDING, E.SMS_FALLBACK): S.SMS_FALLBACK,
    (S.SENT, E.DELIVERED): S.DELIVERED,
    (S.SENT, E.DISPLAYED): S.DISPLAYED,
    (S.SENT, E.FAILED): S.FAILED,
    (S.SENT, E.SMS_FALLBACK): S.SMS_FALLBACK,
    (S.DELIVERED, E.DISPLAYED): S.DISPLAYED,
    (S.FAILED, E.DELIVERED): S.DELIVERED,
    (S.FAILED, E.DISPLAYED): S.DISPLAYED,
    (S.FAILED, E.SMS_FALLBACK): S.SMS_FALLBACK,
    (S.FAILED, E.RETRY): S.QUEUED,
    (S.RECEIVED, E.READ): S.DISPLAYED_BY_US,
}

# A topological order of the table without RETRY: network events only ever climb it.
ORDER = [S.QUEUED, S.SENDING, S.SENT, S.FAILED, S.DELIVERED, S.DISPLAYED, S.SMS_FALLBACK]
RANK = {state: rank for rank, state in enumerate(ORDER)} | {S.RECEIVED: 0, S.DISPLAYED_BY_US: 1}
NETWORK_EVENTS = [e for e in DeliveryEvent if e is not E.RETRY]


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(DeliveryState, DeliveryEvent)), ids=str
)
def test_every_pair_of_the_table(state: DeliveryState, event: DeliveryEvent) -> None:
    assert next_state(state, event) is EXPECTED.get((state, event), state)


def test_table_holds_only_real_moves() -> None:
    assert dict(TRANSITIONS) == EXPECTED
    assert all(state is not target for (state, _), target in TRANSITIONS.items())


def test_table_never_crosses_directions() -> None:
    for (state, _), target in TRANSITIONS.items():
        side = INCOMING_STATES if state in INCOMING_STATES else OUTGOING_STATES
        assert target in side
    assert {S.QUEUED, S.SENDING} == PENDING_STATES
    assert set(DeliveryState) == INCOMING_STATES | OUTGOING_STATES


def test_only_retry_goes_back() -> None:
    for (state, event), target in TRANSITIONS.items():
        if event is E.RETRY:
            assert RANK[target] < RANK[state]
        else:
            assert RANK[target] > RANK[state], (state, event, target)


@pytest.mark.parametrize(
    ("events", "final"),
    [
        # displayed overtakes delivered: the late delivered receipt is ignored
        ([E.SEND_STARTED, E.SEND_ACCEPTED, E.DISPLAYED, E.DELIVERED], S.DISPLAYED),
        # a receipt before the 200 OK of the MESSAGE
        ([E.SEND_STARTED, E.DELIVERED, E.SEND_ACCEPTED], S.DELIVERED),
        # retransmitted receipts
        ([E.SEND_STARTED, E.SEND_ACCEPTED, E.DELIVERED, E.DELIVERED], S.DELIVERED),
        # a failure after delivery is stale
        ([E.SEND_ACCEPTED, E.DELIVERED, E.FAILED], S.DELIVERED),
        # a timeout, then the receipt proves delivery
        ([E.SEND_STARTED, E.FAILED, E.DELIVERED], S.DELIVERED),
        # failed, then sent as SMS; later receipts no longer matter
        ([E.SEND_STARTED, E.FAILED, E.SMS_FALLBACK, E.DISPLAYED], S.SMS_FALLBACK),
        # the user retries, the second attempt works
        ([E.SEND_STARTED, E.FAILED, E.RETRY, E.SEND_STARTED, E.SEND_ACCEPTED], S.SENT),
        # READ means nothing to an outgoing message
        ([E.SEND_ACCEPTED, E.READ], S.SENT),
    ],
)
def test_out_of_order_sequences(events: list[DeliveryEvent], final: DeliveryState) -> None:
    state = S.QUEUED
    for event in events:
        state = next_state(state, event)
    assert state is final


def test_incoming_machine() -> None:
    assert next_state(S.RECEIVED, E.READ) is S.DISPLAYED_BY_US
    assert next_state(S.DISPLAYED_BY_US, E.READ) is S.DISPLAYED_BY_US
    for event in DeliveryEvent:
        if event is not E.READ:
            assert next_state(S.RECEIVED, event) is S.RECEIVED


@given(st.sampled_from(list(DeliveryState)), st.lists(st.sampled_from(NETWORK_EVENTS)))
def test_network_events_never_move_backwards(
    start: DeliveryState, events: list[DeliveryEvent]
) -> None:
    state = start
    for event in events:
        after = next_state(state, event)
        assert after is state or RANK[after] > RANK[state]
        state = after


@given(st.lists(st.sampled_from(list(DeliveryEvent)), max_size=30))
def test_any_sequence_stays_in_its_direction(events: list[DeliveryEvent]) -> None:
    outgoing, incoming = S.QUEUED, S.RECEIVED
    for event in events:
        outgoing, incoming = next_state(outgoing, event), next_state(incoming, event)
        assert outgoing in OUTGOING_STATES and incoming in INCOMING_STATES


# ----------------------------------------------------------------------------- IMDN


@pytest.mark.parametrize(
    ("status", "kind", "event"),
    [
        ("delivered", "delivery", E.DELIVERED),
        ("delivered", None, E.DELIVERED),
        (" Displayed ", "display", E.DISPLAYED),
        ("failed", "delivery", E.FAILED),
        ("forbidden", "delivery", E.FAILED),
        ("error", None, E.FAILED),
        ("forbidden", "display", None),
        ("error", "display", None),
        ("error", "processing", None),
        ("processed", "processing", None),
        ("stored", "processing", None),
        ("nonsense", None, None),
    ],
)
def test_event_for_imdn(status: str, kind: str | None, event: DeliveryEvent | None) -> None:
    assert event_for_imdn(status, kind) is event


# ----------------------------------------------------------------------------- advance


def _message(state: DeliveryState = S.QUEUED, **changes: object) -> StoredMessage:
    values: dict[str, object] = {
        "id": 1,
        "message_id": "m1",
        "conversation_id": 1,
        "sim": 1,
        "direction": Direction.OUTGOING,
        "peer_uri": "tel:+8613800000002",
        "content_type": "text/plain",
        "body": b"hi",
        "text_preview": "hi",
        "state": state,
        "technology": Technology.PAGER,
        "failure_reason": None,
        "created_at": 1000.0,
        "sent_at": None,
        "delivered_at": None,
        "displayed_at": None,
        "file_path": None,
        "traffic_type": None,
        "contribution_id": None,
        "cpim_conversation_id": None,
        "disposition_requested": frozenset({"positive-delivery", "display"}),
        "displayed_reported": False,
    }
    values.update(changes)
    return StoredMessage(**values)  # type: ignore[arg-type]


def test_advance_stamps_times() -> None:
    sent = advance(_message(S.SENDING), E.SEND_ACCEPTED, 1001)
    assert sent.state is S.SENT and sent.sent_at == 1001.0
    assert isinstance(sent.sent_at, float)
    delivered = advance(sent, E.DELIVERED, 1002.0)
    assert (delivered.sent_at, delivered.delivered_at) == (1001.0, 1002.0)
    displayed = advance(delivered, E.DISPLAYED, 1003.0)
    assert (displayed.delivered_at, displayed.displayed_at) == (1002.0, 1003.0)


def test_advance_display_implies_delivery() -> None:
    displayed = advance(_message(S.SENDING), E.DISPLAYED, 1005.0)
    assert (displayed.sent_at, displayed.delivered_at, displayed.displayed_at) == (
        1005.0,
        1005.0,
        1005.0,
    )


def test_advance_ignored_event_returns_the_same_object() -> None:
    message = _message(S.DISPLAYED)
    assert advance(message, E.DELIVERED, 1.0) is message


def test_advance_failure_reason_fallback_and_retry() -> None:
    failed = advance(_message(S.SENDING), E.FAILED, 1.0, reason="408 Request Timeout")
    assert failed.failure_reason == "408 Request Timeout"
    fallback = advance(failed, E.SMS_FALLBACK, 2.0, technology=Technology.SMS)
    assert fallback.state is S.SMS_FALLBACK and fallback.technology is Technology.SMS
    assert fallback.failure_reason == "408 Request Timeout" and fallback.sent_at == 2.0
    retried = advance(failed, E.RETRY, None)
    assert retried.state is S.QUEUED and retried.failure_reason is None
    assert retried.message_id == failed.message_id


def test_advance_without_now_stamps_nothing() -> None:
    sent = advance(_message(S.SENDING), E.SEND_ACCEPTED, None)
    assert sent.state is S.SENT and sent.sent_at is None


def test_message_properties() -> None:
    incoming = _message(S.RECEIVED, direction=Direction.INCOMING)
    assert incoming.wants_display_report and not incoming.is_outgoing
    assert not _message(
        S.RECEIVED, direction=Direction.INCOMING, displayed_reported=True
    ).wants_display_report
    assert _message(S.SENDING).is_pending and not _message(S.SENT).is_pending
    change = StateChange(_message(S.SENT), S.SENDING)
    assert change.changed and not StateChange(_message(S.SENT), S.SENT).changed
    assert hash(_message()) == hash(_message(extra={"x": 1}))


# ----------------------------------------------------------------------------- peers


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("tel:+8613800000002", "tel:+8613800000002"),
        ("TEL:+86-138-0000-0002", "tel:+8613800000002"),
        ("tel:+86 (138) 0000.0002;phone-context=+86", "tel:+8613800000002"),
        ("sip:+8613800000002@ims.mnc000.mcc460.3gppnetwork.org;user=phone", "tel:+8613800000002"),
        ("sip:+8613800000002@IMS.MNC000.MCC460.3GPPNETWORK.ORG", "tel:+8613800000002"),
        ("<sip:+8613800000002@rcs.test;user=phone>", "tel:+8613800000002"),
        ('"Bob" <tel:+8613800000002>', "tel:+8613800000002"),
        ("sip:10086@rcs.test;user=phone", "tel:10086"),
        ("tel:10086;phone-context=ims.mnc000.mcc460.3gppnetwork.org", "tel:10086"),
        ("sip:10086@rcs.test", "sip:10086@rcs.test"),
        ("sip:Bot_Weather@BotPlatform.Lab", "sip:Bot_Weather@botplatform.lab"),
        ("sips:bot@botplatform.lab;transport=tls?subject=x", "sip:bot@botplatform.lab"),
        ("sip:alice:secret@rcs.test", "sip:alice@rcs.test"),
        ("sip:alice@rcs.test:5060", "sip:alice@rcs.test:5060"),
        ("sip:rcs.test", "sip:rcs.test"),
        ("+8613800000002", "tel:+8613800000002"),
        ("alice@rcs.test", "sip:alice@rcs.test"),
        ("MAILTO:a@b", "mailto:a@b"),
        ("  10086 ", "10086"),
    ],
)
def test_canonical_peer(uri: str, key: str) -> None:
    assert canonical_peer(uri) == key


@given(st.text(max_size=80))
def test_canonical_peer_never_raises_and_is_stable(uri: str) -> None:
    key = canonical_peer(uri)
    assert isinstance(key, str)
    assert canonical_peer(key) == key


# ----------------------------------------------------------------------------- previews


def test_preview_of_text() -> None:
    assert make_preview("text/plain", "  你好,\r\n  世界  ".encode()) == "你好, 世界"
    assert make_preview("Text/Plain; charset=GBK", "中国移动".encode("gbk")) == "中国移动"
    assert make_preview('text/plain;charset="utf-16"', "hé".encode("utf-16")) == "hé"
    assert len(make_preview("text/plain", b"x" * 5000)) == PREVIEW_LENGTH


def test_preview_of_other_content() -> None:
    card = b'{"message": {"generalPurposeCard": {}}}'
    content_type = "application/vnd.gsma.botmessage.v1.0+json"
    assert make_preview(content_type, card) == f"[{content_type}]"
    assert make_preview(content_type, card, "Weather today") == "Weather today"
    assert make_preview("", b"") == ""
    assert make_preview("text/plain", b"ignored", "x" * 300) == "x" * PREVIEW_LENGTH


def test_preview_with_odd_charsets() -> None:
    assert make_preview("text/plain; charset=no-such-thing", b"abc") == "abc"
    assert make_preview("text/plain; charset=zlib", b"abc") == "abc"
    assert make_preview("text/plain", b"\xff\xfeok") == "\ufffd\ufffdok"


@given(st.text(max_size=60), st.binary(max_size=2000))
def test_preview_never_raises(content_type: str, body: bytes) -> None:
    for ctype in (content_type, f"text/plain; charset={content_type}"):
        preview = make_preview(ctype, body)
        assert len(preview) <= max(PREVIEW_LENGTH, len(ctype) + 2)
