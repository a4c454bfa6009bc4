"""Property tests of the message store: event storms, round-trips and unread counts."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain.message import DeliveryState, Technology
from rcs_terminal.domain.store import MessageStore

S = DeliveryState
ORDER = [S.QUEUED, S.SENDING, S.SENT, S.FAILED, S.DELIVERED, S.DISPLAYED, S.SMS_FALLBACK]
RANK = {state: rank for rank, state in enumerate(ORDER)}
IMDN_STATUSES = ["delivered", "displayed", "failed", "forbidden", "error", "processed", "stored"]
KINDS = [None, "delivery", "display", "processing"]

_ids = itertools.count()

events = st.one_of(
    st.tuples(st.just("imdn"), st.sampled_from(IMDN_STATUSES), st.sampled_from(KINDS)),
    st.tuples(st.just("fail"), st.text(max_size=20), st.none()),
    st.tuples(st.just("fallback"), st.none(), st.none()),
    st.tuples(st.sampled_from(["sending", "sent"]), st.none(), st.none()),
)


@pytest.fixture(scope="module")
def store() -> Iterator[MessageStore]:
    with tempfile.TemporaryDirectory() as folder:
        opened = MessageStore.open(Path(folder) / "messages.sqlite3", durable=False)
        yield opened
        opened.close()


@given(st.lists(events, max_size=12))
def test_event_storms_never_move_backwards(
    store: MessageStore, storm: list[tuple[str, str | None, str | None]]
) -> None:
    mid = f"storm-{next(_ids)}"
    store.add_outgoing(1, "tel:+8613800000002", "text/plain", b"x", message_id=mid, now=0.0)
    state = S.QUEUED
    for now, (name, arg, kind) in enumerate(storm, start=1):
        if name == "imdn":
            change = store.apply_imdn(mid, arg or "", float(now), kind=kind)
        elif name == "fail":
            change = store.mark_failed(mid, arg or "", float(now))
        elif name == "fallback":
            change = store.mark_sms_fallback(mid, float(now))
        elif name == "sending":
            change = store.mark_sending(mid, float(now))
        else:
            change = store.mark_sent(mid, float(now))
        assert change is not None and change.previous is state
        after = change.message.state
        assert after is state or RANK[after] > RANK[state]
        state = after
    stored = store.message(mid)
    assert stored is not None and stored.state is state
    if state is S.DISPLAYED:
        assert stored.delivered_at is not None and stored.displayed_at is not None
    if state is S.SMS_FALLBACK:
        assert stored.technology is Technology.SMS


messages = st.fixed_dictionaries(
    {
        "content_type": st.sampled_from(
            ["text/plain", "text/plain;charset=UTF-8", "application/vnd.gsma.botmessage.v1.0+json"]
        ),
        "body": st.binary(max_size=600),
        "peer_uri": st.sampled_from(
            ["tel:+8613800000002", "sip:bot@botplatform.lab", "sip:alice@rcs.test"]
        ),
        "sim": st.sampled_from([1, 2]),
    },
    optional={
        "preview": st.text(max_size=250),
        "traffic_type": st.sampled_from(["advertisement", "payment", "subscription"]),
        "contribution_id": st.text(min_size=1, max_size=40),
        "cpim_conversation_id": st.text(min_size=1, max_size=40),
        "disposition_requested": st.frozensets(
            st.sampled_from(["positive-delivery", "negative-delivery", "display"])
        ),
        "extra": st.dictionaries(
            st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans())
        ),
        "technology": st.sampled_from(list(Technology)),
        "file_path": st.text(min_size=1, max_size=40),
    },
)


@given(messages, st.booleans())
def test_stored_messages_read_back_identically(
    store: MessageStore, fields: dict[str, object], incoming: bool
) -> None:
    mid = f"rt-{next(_ids)}"
    sim, peer, ctype, body = (fields.pop(k) for k in ("sim", "peer_uri", "content_type", "body"))
    if incoming:
        added, new = store.add_incoming(sim, peer, ctype, body, message_id=mid, now=5.0, **fields)  # type: ignore[arg-type]
        assert new
    else:
        added = store.add_outgoing(sim, peer, ctype, body, message_id=mid, now=5.0, **fields)  # type: ignore[arg-type]
    assert store.message(mid, direction=added.direction) == added
    assert added.body == body and len(added.text_preview) <= 200
    assert added in store.messages(added.conversation_id, limit=1)


@given(st.lists(st.tuples(st.sampled_from([1, 2]), st.booleans()), max_size=15))
def test_unread_counts_match_received_messages(
    store: MessageStore, arrivals: list[tuple[int, bool]]
) -> None:
    peer = f"sip:peer-{next(_ids)}@rcs.test"
    expected = {1: 0, 2: 0}
    for sim, seen in arrivals:
        mid = f"u-{next(_ids)}"
        store.add_incoming(sim, peer, "text/plain", b"x", message_id=mid, now=1.0)
        if seen:
            store.mark_displayed_by_us(mid, sim=sim, peer_uri=peer)
        else:
            expected[sim] += 1
    for sim in (1, 2):
        listed = [c for c in store.conversations(sim) if c.peer_uri == peer]
        assert [c.unread for c in listed] == ([expected[sim]] if listed else [])
