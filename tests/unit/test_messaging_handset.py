"""The Handset's messaging wiring over in-memory flows: one MessagingService per SIM, the
MESSAGE handler installed, the profile's store, and what was queued sent again at start."""

from __future__ import annotations

from pathlib import Path

from test_messaging_support import EPOCH, WIRE, Core, make_profile
from test_sip_endpoint_support import FakeNetwork, ManualTimer, counter_ids, settle

from rcs_terminal.clock import FakeClock
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.handset import Handset
from rcs_terminal.protocol import cpim


async def test_handset_wires_messaging_and_resends_at_start(tmp_path: Path) -> None:
    store = MessageStore.open(tmp_path / "messages.sqlite3", durable=False)
    store.add_outgoing(
        1,
        "sip:demo@botplatform.rcs.test",
        "text/plain;charset=UTF-8",
        b"left from last time",
        message_id="pending-1",
        now=EPOCH,
        disposition_requested=frozenset({"positive-delivery"}),
    )
    core = Core()
    network = FakeNetwork(core)
    options = {
        "clock": FakeClock().now,
        "new_id": counter_ids(),
        "opener": network.open,
        "timer_factory": ManualTimer,
    }
    phone = Handset(make_profile(), endpoint_options=options, store=store)
    assert phone.store is store
    assert await phone.start() == {1: None}
    messaging = phone.sims[1].messaging
    assert messaging is not None and messaging.store is store
    await settle()
    (resent,) = core.messages
    assert cpim.parse(resent.body).message_id == "pending-1"
    sent = store.message("pending-1")
    assert sent is not None and sent.state.value == "sent"
    # incoming MESSAGEs reach the service
    network.flows[-1].deliver((WIRE / "in_text.sip").read_bytes())
    await settle()
    assert any(r.status == 200 and r.cseq.method == "MESSAGE" for r in network.responses)
    assert store.message("bob-msg-0001") is not None
    await phone.stop()
    assert store.message("pending-1") is not None  # a store given by the caller stays open
    store.close()


async def test_handset_opens_the_profiles_store_lazily_and_closes_it(tmp_path: Path) -> None:
    phone = Handset(make_profile())
    store = phone.store
    assert store.path.name == "messages.sqlite3" and "default" in str(store.path)
    await phone.stop()
    assert phone.store is not store  # closed by stop(), opened again on use
    phone.store.close()
