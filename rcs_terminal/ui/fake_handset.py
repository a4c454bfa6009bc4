"""An in-memory handset behind the TUI's port, for tests, snapshots and ``tui --fake``.

:class:`FakeHandset` implements :class:`~rcs_terminal.ui.port.HandsetPort` without a
network: a real :class:`~rcs_terminal.domain.store.MessageStore` (in memory by default), a
real :class:`~rcs_terminal.engine.bus.EventBus` and
:class:`~rcs_terminal.engine.trace.TraceRecorder`, and a fixed demo dataset
(:mod:`.fake_dataset`, written by :mod:`.fake_seed`): two SIMs, a person conversation with
a read, a failed and an SMS-fallback message, a verified chatbot with a card, a carousel,
chips, a persistent menu and an advertisement, and a second chatbot on SIM 2.

It behaves like a handset where it matters to the TUI: what is sent is stored first, then
moves through ``sent``/``delivered`` with
:class:`~rcs_terminal.domain.events.MessageStateChanged` events; chatbots answer taps with
scripted replies (:func:`.fake_dataset.bot_reply`), announced by ``IsComposingChanged`` and
``MessageReceived``; every exchange is written to the trace as plausible SIP/HTTP records
(:mod:`.fake_wire`). Every command is also appended to :attr:`FakeHandset.calls`, so tests
can assert exactly what the TUI asked for. Helpers (:meth:`~FakeHandset.request_otp`,
:meth:`~FakeHandset.fail_registration`, :meth:`~FakeHandset.receive_text`...) drive the
states the TUI must show.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from rcs_terminal.domain.events import (
    IsComposingChanged,
    MessageReceived,
    MessageStateChanged,
    OtpRequested,
    ProvisioningChanged,
    RegistrationChanged,
    TermsPresented,
)
from rcs_terminal.domain.message import StoredMessage, Technology
from rcs_terminal.domain.profile import Profile, load_profile
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.protocol.up import (
    Action,
    BotInfo,
    Suggestion,
    build_device_specifics,
    build_geopush,
    build_suggestion_response,
)
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.fake_seed import seed_demo
from rcs_terminal.ui.fake_wire import DISPOSITIONS, FakeWire
from rcs_terminal.ui.port import BotSummary, Setting, SimStatus


class FakeHandset:
    """A handset without a network (see the module docstring).

    Args:
        profile: the emulated device; the built-in ``demo`` profile by default.
        store: where messages live; a fresh in-memory store by default.
        clock: epoch seconds (message times, trace times); ``time.time`` by default.
        dataset: seed the demo conversations.
        reply_delay: seconds before a chatbot answers (0: at once, as tests want).
    """

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        store: MessageStore | None = None,
        clock: Callable[[], float] | None = None,
        dataset: bool = True,
        reply_delay: float = 0.0,
    ) -> None:
        self.profile = profile if profile is not None else load_profile("demo")
        self.clock = clock or time.time
        self.bus = EventBus()
        self.trace = TraceRecorder(clock=self.clock)
        self.store = store if store is not None else MessageStore.open(":memory:", durable=False)
        self.sending_sim: int = self.profile.messaging.default_sim
        self.reply_delay = reply_delay
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        """Every command the TUI gave, as ``(method name, arguments)``."""
        self.settings: dict[str, bool] = {
            "displayed_notifications": self.profile.messaging.displayed_notifications,
            "anonymization": True,
        }
        self._status: dict[int, SimStatus] = {
            sim.slot: SimStatus(
                slot=sim.slot,
                operator=sim.operator.name,
                label=sim.label,
                msisdn=sim.msisdn,
                provisioning="idle",
                registration="unregistered",
            )
            for sim in self.profile.sims
        }
        self._seq = 0
        self._bots = {bot.uri: bot for bot in data.BOTS}
        self.wire = FakeWire(self.trace, self.clock)
        if dataset:
            slots = [sim.slot for sim in self.profile.sims]
            seed_demo(self.store, slots, self.clock(), self._next_id)

    # ------------------------------------------------------------------ state

    def sim_status(self, slot: int) -> SimStatus:
        """The status of the SIM in ``slot``."""
        return self._status[slot]

    def set_status(
        self,
        slot: int,
        *,
        provisioning: str | None = None,
        registration: str | None = None,
        reason: str | None = None,
        status: int | None = None,
    ) -> None:
        """Change a SIM's state and publish the matching events."""
        old = self._status[slot]
        new = SimStatus(
            slot,
            old.operator,
            old.label,
            old.msisdn,
            provisioning or old.provisioning,
            registration or old.registration,
            reason,
        )
        self._status[slot] = new
        if provisioning is not None:
            self.bus.publish(ProvisioningChanged(slot, provisioning, reason=reason))  # type: ignore[arg-type]
        if registration is not None:
            self.bus.publish(
                RegistrationChanged(slot, registration, status=status, reason=reason)  # type: ignore[arg-type]
            )

    async def start(self) -> None:
        """Provision and register every enabled SIM at once (trace records included)."""
        self.calls.append(("start", ()))
        for sim in self.profile.enabled_sims:
            self.set_status(sim.slot, provisioning="provisioning")
            self.wire.provision_and_register(sim)
            self.set_status(sim.slot, provisioning="provisioned", registration="registering")
            self.set_status(sim.slot, registration="registered")

    async def stop(self) -> None:
        """Record the call (the store stays open: see :meth:`close`)."""
        self.calls.append(("stop", ()))

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # ------------------------------------------------------------------ sending

    async def send_text(self, slot: int, peer: str, text: str) -> str:
        """Store and "send" a text message; a chatbot answers it."""
        self.calls.append(("send_text", (slot, peer, text)))
        mid = self._send(slot, peer, "text/plain;charset=UTF-8", text.encode(), None)
        self._bot_answers(slot, peer, None, text)
        return mid

    async def send_suggestion_response(self, slot: int, peer: str, suggestion: Suggestion) -> str:
        """Send the response to a tapped chip (formats.md §4); reply chips get answers."""
        self.calls.append(("send_suggestion_response", (slot, peer, suggestion)))
        body = build_suggestion_response(suggestion)
        mid = self._send(slot, peer, ct.BOTSUGGESTION_RESPONSE, body, suggestion.display_text)
        tapped_action = isinstance(suggestion, Action)
        self._bot_answers(
            slot,
            peer,
            suggestion.postback_data or "",
            suggestion.display_text,
            tapped_action=tapped_action,
        )
        return mid

    async def send_location(
        self, slot: int, peer: str, latitude: float, longitude: float, label: str | None
    ) -> str:
        """Push a location (geolocation push XML)."""
        self.calls.append(("send_location", (slot, peer, latitude, longitude, label)))
        sim = self.profile.sim(slot)
        body = build_geopush(latitude, longitude, label=label, entity=sim.tel_uri)
        preview = f"位置 Location: {label or f'{latitude:.5f}, {longitude:.5f}'}"
        mid = self._send(slot, peer, ct.GEOPUSH, body, preview)
        self._bot_answers(slot, peer, "shared:位置", "")
        return mid

    async def send_device_specifics(self, slot: int, peer: str) -> str:
        """Share the device specifics from the profile (formats.md §5)."""
        self.calls.append(("send_device_specifics", (slot, peer)))
        device = self.profile.device
        body = build_device_specifics(
            device.model,
            f"{device.os.name} {device.os.version}",
            device.client.vendor,
            device.client.version,
            device.battery_minutes,
        )
        mid = self._send(slot, peer, ct.BOTSHAREDCLIENTDATA, body, "设备信息 Device specifics")
        self._bot_answers(slot, peer, "shared:设备信息", "")
        return mid

    async def mark_displayed(self, message_id: str) -> None:
        """Mark an incoming message seen; report it when asked and allowed."""
        self.calls.append(("mark_displayed", (message_id,)))
        change = self.store.mark_displayed_by_us(message_id, now=self.clock())
        if change is None or not change.changed:
            return
        message = change.message
        if message.wants_display_report and self.settings["displayed_notifications"]:
            self.wire.displayed(message.sim, message.peer_uri, message_id)
            self.store.set_displayed_reported(
                message_id, sim=message.sim, peer_uri=message.peer_uri
            )
        self.bus.publish(MessageStateChanged(message.sim, message_id, message.state.value))

    async def set_composing(self, slot: int, peer: str, active: bool) -> None:
        """Record the typing indication."""
        self.calls.append(("set_composing", (slot, peer, active)))

    # ------------------------------------------------------------------ chatbots

    async def bot_info(self, slot: int, uri: str) -> BotInfo | None:
        """The bot info of a known fake chatbot."""
        self.calls.append(("bot_info", (slot, uri)))
        bot = self._bots.get(uri)
        return bot.info() if bot is not None else None

    async def search_chatbots(self, slot: int, query: str) -> list[BotSummary]:
        """Directory search over the fake chatbots (name, description, category, URI)."""
        self.calls.append(("search_chatbots", (slot, query)))
        needle = query.strip().casefold()
        found = []
        for bot in data.BOTS:
            haystack = " ".join((bot.name, bot.description, bot.uri, *bot.categories)).casefold()
            if needle in haystack:
                found.append(
                    BotSummary(bot.uri, bot.name, bot.description, bot.colour, bot.verified)
                )
        return found

    # ------------------------------------------------------------------ provisioning

    async def submit_otp(self, slot: int, code: str) -> None:
        """Accept any code: the SIM is provisioned."""
        self.calls.append(("submit_otp", (slot, code)))
        self.set_status(slot, provisioning="provisioned")

    async def answer_terms(self, slot: int, accept: bool) -> None:
        """Accepting provisions the SIM; rejecting disables RCS on it."""
        self.calls.append(("answer_terms", (slot, accept)))
        self.set_status(slot, provisioning="provisioned" if accept else "disabled")

    async def apply_setting(self, slot: int, setting: Setting, enabled: bool) -> None:
        """Change a setting (kept in :attr:`settings`)."""
        self.calls.append(("apply_setting", (slot, setting, enabled)))
        self.settings[setting] = enabled

    # ------------------------------------------------------------------ test helpers

    def request_otp(self, slot: int) -> None:
        """Act as a config server that sent an OTP by SMS."""
        self.set_status(slot, provisioning="waiting-otp")
        self.bus.publish(OtpRequested(slot, self._status[slot].msisdn))

    def present_terms(
        self, slot: int, title: str, message: str, *, accept: bool = True, reject: bool = True
    ) -> None:
        """Act as a config server that presents terms (the ``MSG`` characteristic)."""
        self.set_status(slot, provisioning="waiting-terms")
        self.bus.publish(TermsPresented(slot, title, message, accept, reject))

    def fail_registration(self, slot: int, reason: str, status: int | None = None) -> None:
        """Make the SIM's registration fail with ``reason``."""
        self.set_status(slot, registration="failed", reason=reason, status=status)

    def peer_composing(self, slot: int, peer: str, active: bool) -> None:
        """Announce that ``peer`` is (or stopped) typing."""
        self.bus.publish(IsComposingChanged(slot, peer, active))

    def receive_text(
        self, slot: int, peer: str, text: str, *, traffic_type: str | None = None
    ) -> StoredMessage:
        """Deliver a text message from ``peer``."""
        body = text.encode()
        return self._receive(
            slot, peer, "text/plain;charset=UTF-8", body, traffic_type=traffic_type
        )

    def receive_payload(
        self,
        slot: int,
        peer: str,
        payload: dict[str, Any] | str,
        chips: dict[str, Any] | None = None,
        *,
        content_type: str = ct.BOTMESSAGE,
        preview: str | None = None,
        traffic_type: str | None = None,
    ) -> StoredMessage:
        """Deliver a chatbot payload (a botmessage by default), with an optional chip list."""
        content_type, body = data.encode(content_type, payload, chips)
        return self._receive(
            slot, peer, content_type, body, preview=preview, traffic_type=traffic_type
        )

    # ------------------------------------------------------------------ internals

    def _next_id(self) -> str:
        self._seq += 1
        return f"fake-{self._seq:04d}"

    def _send(
        self, slot: int, peer: str, content_type: str, body: bytes, preview: str | None
    ) -> str:
        mid = self._next_id()
        now = self.clock()
        self.store.add_outgoing(
            slot,
            peer,
            content_type,
            body,
            message_id=mid,
            now=now,
            preview=preview,
            technology=Technology.PAGER,
            is_chatbot=True if peer in self._bots else None,
        )
        self.wire.message("out", self.profile.sim(slot), peer, content_type, body, mid)
        self.store.mark_sending(mid, now)
        self.store.mark_sent(mid, now)
        change = self.store.apply_imdn(mid, "delivered", now)
        state = change.message.state.value if change is not None else "sent"
        self.bus.publish(MessageStateChanged(slot, mid, state))
        return mid

    def _receive(
        self,
        slot: int,
        peer: str,
        content_type: str,
        body: bytes,
        *,
        preview: str | None = None,
        traffic_type: str | None = None,
        now: float | None = None,
        announce: bool = True,
    ) -> StoredMessage:
        mid = self._next_id()
        bot = self._bots.get(peer)
        message, _ = self.store.add_incoming(
            slot,
            peer,
            content_type,
            body,
            message_id=mid,
            now=self.clock() if now is None else now,
            preview=preview,
            traffic_type=traffic_type,
            technology=Technology.PAGER,
            disposition_requested=DISPOSITIONS,
            display_name=bot.name if bot is not None else None,
            is_chatbot=True if bot is not None else None,
        )
        if announce:
            self.wire.message("in", self.profile.sim(slot), peer, content_type, body, mid)
            self.bus.publish(MessageReceived(slot, mid, message.conversation_id))
        return message

    def _bot_answers(
        self, slot: int, peer: str, postback: str | None, text: str, *, tapped_action: bool = False
    ) -> None:
        answer = data.bot_reply(peer, postback, text, tapped_action=tapped_action)
        if answer is None:
            return
        self.peer_composing(slot, peer, True)

        def deliver() -> None:
            self.peer_composing(slot, peer, False)
            content_type, body = data.encode(answer.content_type, answer.body, answer.chips)
            self._receive(slot, peer, content_type, body, preview=answer.preview)

        if self.reply_delay <= 0:
            deliver()
        else:
            asyncio.get_running_loop().call_later(self.reply_delay, deliver)
