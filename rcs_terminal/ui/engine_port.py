"""The real engine behind the TUI: :class:`EngineHandset` implements the handset port.

:class:`~rcs_terminal.ui.port.HandsetPort` is what the TUI needs; the engine's
:class:`~rcs_terminal.engine.handset.Handset` is what the headless commands use. This module
is the thin adapter between the two, and the only place where the TUI meets the engine:

- **state**: :meth:`EngineHandset.sim_status` follows the ``ProvisioningChanged`` and
  ``RegistrationChanged`` events on the handset's bus (the same events the status bar
  redraws on), and turns a SIM that could not start (``Handset.start`` returns its error)
  into a ``failed`` state with the reason, published on the bus so the bar shows it;
- **the user in the loop**: a SIM's RCC.14 run asks the TUI for a one-time password or an
  answer to the operator's terms. The service publishes ``OtpRequested`` /
  ``TermsPresented`` (the TUI opens its dialogs on them) and then waits on a future that
  :meth:`EngineHandset.submit_otp` / :meth:`EngineHandset.answer_terms` resolve. Lab SIMs read
  their OTP SMS themselves, so a code typed for them is not needed and is ignored;
- **commands**: sends go to the SIM's
  :class:`~rcs_terminal.engine.messaging.MessagingService` (``handset.sims[slot].messaging``),
  which stores before it sends and returns the imdn.Message-ID; chatbot information and
  directory search go to one :class:`~rcs_terminal.engine.botinfo.BotInfoClient` per SIM,
  built from the SIM's provisioned ``MESSAGING/Chatbot`` settings; settings actions change
  the SIM's messaging settings. Whatever the engine cannot do raises an
  :class:`~rcs_terminal.errors.RcsTerminalError` with a title and a hint, which the TUI shows
  in its error dialog.

:meth:`EngineHandset.start` returns at once: the SIMs provision and register in the
background, as a phone's do, and the TUI watches them through the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from rcs_terminal.domain.events import (
    Event,
    MessageStateChanged,
    ProvisioningChanged,
    RegistrationChanged,
)
from rcs_terminal.domain.profile import Profile
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.handset import Handset, SimStack
from rcs_terminal.engine.ims_params import ImsParams
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.messaging import MessagingService
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import NetworkError, ProfileError, ProvisioningError, RcsTerminalError
from rcs_terminal.protocol.provisioning import TermsMessage
from rcs_terminal.protocol.up import BotInfo, Suggestion
from rcs_terminal.ui.port import BotSummary, Setting, SimStatus

__all__ = ["CONFIG_WAIT", "EngineHandset"]

log = logging.getLogger(__name__)

CONFIG_WAIT = 60.0
"""How long chatbot information and search wait for a starting SIM's configuration (s)."""
_STOPPED_STATES = ("failed", "disabled", "dormant")
T = TypeVar("T")


class _Answers(Generic[T]):
    """What the user answers to one kind of provisioning question (OTP, terms), per SIM.

    A provisioning run that asks waits in :meth:`ask` until :meth:`answer`; an answer given
    a moment before the run asks (the dialog opens on the event, the run asks just after)
    is kept by :meth:`keep` and taken by the next :meth:`ask`.
    """

    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Future[T]] = {}
        self._early: dict[int, T] = {}

    async def ask(self, slot: int) -> T:
        """Wait for the user's answer for ``slot``."""
        if slot in self._early:
            return self._early.pop(slot)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting[slot] = future
        try:
            return await future
        finally:
            if self._waiting.get(slot) is future:
                del self._waiting[slot]

    def answer(self, slot: int, value: T) -> bool:
        """Hand ``value`` to the run waiting for ``slot``; False when none waits."""
        future = self._waiting.get(slot)
        if future is None or future.done():
            return False
        future.set_result(value)
        return True

    def keep(self, slot: int, value: T) -> None:
        """Keep ``value`` for the next question of ``slot``."""
        self._early[slot] = value

    def forget(self, slot: int) -> None:
        """Drop a kept answer (its question is settled)."""
        self._early.pop(slot, None)

    def cancel(self) -> None:
        """Stop every wait (the handset stops)."""
        for future in self._waiting.values():
            future.cancel()


class _PromptingHandset(Handset):
    """A :class:`Handset` whose provisioning asks the user (through the port) for the OTP
    and the answer to terms, and that reports when each SIM's configuration is known."""

    def __init__(
        self,
        profile: Profile,
        *,
        otp_provider: Callable[[int], Callable[[], Awaitable[str]]],
        terms_provider: Callable[[int], Callable[[TermsMessage], Awaitable[bool]]],
        on_configured: Callable[[int], None],
        **options: Any,
    ) -> None:
        super().__init__(profile, **options)
        self._otp_provider = otp_provider
        self._terms_provider = terms_provider
        self._on_configured = on_configured

    async def _params_for(self, stack: SimStack, *, force: bool) -> ImsParams:
        try:
            if stack.slot in self._params or stack.sim.ims is not None:
                return await super()._params_for(stack, force=force)
            from rcs_terminal.engine.provisioning import ProvisioningService

            result = await ProvisioningService(
                self.profile,
                stack.sim,
                trace=self.trace,
                bus=self.bus,
                lab=self.lab,
                otp=self.otp,
                otp_provider=self._otp_provider(stack.slot),
                force=force,
                accept_terms=self.accept_terms,
                terms_provider=self._terms_provider(stack.slot),
            ).run()
            stack.provisioning = result
            if result.config is None:
                raise ProvisioningError(
                    f"SIM {stack.slot}: provisioning gave no configuration ({result.reason})"
                )
            return ImsParams.from_config(self.profile, stack.sim, result.config, lab=self.lab)
        finally:
            self._on_configured(stack.slot)


class EngineHandset:
    """The handset port on the real engine (see the module docstring).

    Args:
        profile: the emulated device.
        lab: the running lab, for SIMs that provision from it.
        trace: the protocol trace (a new recorder by default).
        bus: the event bus (a new one by default).
        store: the message store (default: the profile's, closed by :meth:`stop`).
        max_attempts: failed registrations in a row before a SIM gives up (None: never,
            like a phone that keeps retrying with back-off).
        handset_options: more keyword arguments for the engine's ``Handset`` (test seams).
    """

    def __init__(
        self,
        profile: Profile,
        *,
        lab: LabInfo | None = None,
        trace: TraceRecorder | None = None,
        bus: EventBus | None = None,
        store: MessageStore | None = None,
        max_attempts: int | None = None,
        handset_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        self.lab = lab
        self.trace = trace if trace is not None else TraceRecorder()
        self.bus = bus if bus is not None else EventBus()
        self.handset = _PromptingHandset(
            profile,
            otp_provider=self._otp_provider,
            terms_provider=self._terms_provider,
            on_configured=self._configured_now,
            trace=self.trace,
            bus=self.bus,
            lab=lab,
            store=store,
            max_attempts=max_attempts,
            **dict(handset_options or {}),
        )
        self.store: MessageStore = self.handset.store
        self.sending_sim: int = profile.messaging.default_sim
        started = set(self.handset.default_slots())
        self._status: dict[int, SimStatus] = {}
        for sim in profile.sims:
            off = sim.slot not in started
            self._status[sim.slot] = SimStatus(
                slot=sim.slot,
                operator=sim.operator.name,
                label=sim.label,
                msisdn=sim.msisdn,
                provisioning="disabled" if off else "idle",
                registration="unregistered",
                reason="RCS is off for this SIM in the profile" if off else None,
            )
        self._otp: _Answers[str] = _Answers()
        self._terms: _Answers[bool] = _Answers()
        self._configured: dict[int, asyncio.Event] = {}
        self._bots: dict[int, tuple[object, Any]] = {}
        self._starting: asyncio.Task[None] | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._unsubscribe: Callable[[], None] | None = self.bus.subscribe(self._follow)

    # ------------------------------------------------------------------ state

    def sim_status(self, slot: int) -> SimStatus:
        """The current state of the SIM in ``slot``.

        Raises:
            ProfileError: the profile has no SIM in that slot.
        """
        status = self._status.get(slot)
        if status is None:
            raise ProfileError(f"the profile has no SIM in slot {slot}")
        return status

    def _follow(self, event: Event) -> None:
        status = self._status.get(event.sim)
        if status is None:
            return
        if isinstance(event, ProvisioningChanged):
            if event.state not in ("provisioning", "waiting-otp", "waiting-terms"):
                self._otp.forget(event.sim)
                self._terms.forget(event.sim)
            reason = event.reason if event.state in _STOPPED_STATES else None
            self._status[event.sim] = dataclasses.replace(
                status, provisioning=event.state, reason=reason
            )
        elif isinstance(event, RegistrationChanged):
            reason = event.reason if event.state == "failed" else None
            if reason and event.status is not None and not reason.startswith(str(event.status)):
                reason = f"{event.status} {reason}"
            self._status[event.sim] = dataclasses.replace(
                status, registration=event.state, reason=reason
            )

    def _failed(self, slot: int, error: RcsTerminalError) -> None:
        """Show a SIM that could not start as failed, unless an event already said so."""
        status = self._status.get(slot)
        if status is None or status.state in _STOPPED_STATES:
            return
        stack = self.handset.sims.get(slot)
        if stack is None or stack.registration is None:
            self.bus.publish(ProvisioningChanged(slot, "failed", reason=error.message))
        else:
            code = getattr(error, "status", None)
            self.bus.publish(
                RegistrationChanged(
                    slot,
                    "failed",
                    status=code if isinstance(code, int) else None,
                    reason=error.message,
                )
            )

    # ------------------------------------------------------------------ life

    async def start(self) -> None:
        """Start provisioning and registering the profile's SIMs; returns at once."""
        if self._starting is None and self._stopping is None:
            self._starting = asyncio.get_running_loop().create_task(self._start_all())

    async def _start_all(self) -> None:
        slots = self.handset.default_slots()
        try:
            results: Mapping[int, RcsTerminalError | None] = await self.handset.start(slots)
        except RcsTerminalError as exc:
            results = dict.fromkeys(slots, exc)
        for slot, error in results.items():
            self._configured_now(slot)
            if error is not None:
                log.info("SIM %s did not start: %s", slot, error)
                self._failed(slot, error)

    async def stop(self) -> None:
        """De-register every SIM and close everything (safe to call more than once)."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.wait({starting})
        self._otp.cancel()
        self._terms.cancel()
        bots, self._bots = self._bots, {}
        for _, client in bots.values():
            with contextlib.suppress(Exception):
                await client.http.close()
        try:
            await self.handset.stop()
        finally:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

    # ------------------------------------------------------------------ sending

    def _messaging(self, slot: int) -> MessagingService:
        stack = self.handset.sims.get(slot)
        if stack is None:
            raise RcsTerminalError(
                f"SIM {slot} is not in use on this handset",
                title="SIM not in use",
                hint="Switch the sending SIM (F4) to one shown in the status bar.",
            )
        if stack.messaging is None or not stack.is_registered:
            state = self.sim_status(slot).state
            raise RcsTerminalError(
                f"SIM {slot} cannot send messages while it is {state}",
                title="SIM not registered",
                hint="Wait until the status bar shows the SIM registered, "
                "or send from the other SIM (F4).",
            )
        return stack.messaging

    async def send_text(self, slot: int, peer: str, text: str) -> str:
        """Send a text message; returns its imdn.Message-ID."""
        return (await self._messaging(slot).send_text(peer, text)).message_id

    async def send_suggestion_response(self, slot: int, peer: str, suggestion: Suggestion) -> str:
        """Send the response to a tapped chip or menu entry; returns the message id."""
        messaging = self._messaging(slot)
        return (await messaging.send_suggestion_response(peer, suggestion)).message_id

    async def send_location(
        self, slot: int, peer: str, latitude: float, longitude: float, label: str | None
    ) -> str:
        """Push a location (geolocation push); returns the message id."""
        messaging = self._messaging(slot)
        return (await messaging.send_location(peer, latitude, longitude, label)).message_id

    async def send_device_specifics(self, slot: int, peer: str) -> str:
        """Share the device specifics with a chatbot; returns the message id."""
        return (await self._messaging(slot).send_device_specifics(peer)).message_id

    async def mark_displayed(self, message_id: str) -> None:
        """Mark an incoming message seen; its SIM sends the display receipt when asked for
        and allowed (or, while the SIM is not registered, once it is)."""
        message = self.store.message(message_id)
        if message is None:
            return
        stack = self.handset.sims.get(message.sim)
        if stack is not None and stack.messaging is not None and stack.is_registered:
            await stack.messaging.mark_displayed(message_id)
            return
        change = self.store.mark_displayed_by_us(message_id, now=time.time(), sim=message.sim)
        if change is not None and change.changed:
            state = change.message.state.value
            self.bus.publish(MessageStateChanged(message.sim, message_id, state))

    async def set_composing(self, slot: int, peer: str, active: bool) -> None:
        """Tell ``peer`` the user is typing; dropped while the SIM is not registered (an
        indication that cannot go now is worthless later)."""
        stack = self.handset.sims.get(slot)
        if stack is None or stack.messaging is None or not stack.is_registered:
            return
        await stack.messaging.set_composing(peer, active)

    # ------------------------------------------------------------------ chatbots

    async def bot_info(self, slot: int, uri: str) -> BotInfo | None:
        """The chatbot information of ``uri`` (HTTP-cached per SIM); None when the SIM has no
        bot-info server or the server does not know the chatbot."""
        client = await self._bot_client(slot)
        if client is None or client.fqdn_root is None:
            return None
        info: BotInfo | None = await client.get(uri)
        return info

    async def search_chatbots(self, slot: int, query: str) -> list[BotSummary]:
        """Search the chatbot directory of ``slot``'s operator.

        Raises:
            NetworkError: the SIM has no configuration or no directory, or the search failed.
        """
        client = await self._bot_client(slot)
        if client is None:
            raise NetworkError(
                f"SIM {slot} has no configuration from its operator",
                title="No chatbot directory",
                hint="The directory address comes with provisioning; see the status bar.",
            )
        return [
            BotSummary(found.service_id, found.name, found.description, None, found.verified)
            for found in await client.search(query)
        ]

    async def _bot_client(self, slot: int) -> Any:
        """The SIM's bot-info client (built when its configuration changes), or None when
        the SIM has no provisioned configuration."""
        stack = self.handset.sims.get(slot)
        starting = self._starting is not None and slot in self.handset.default_slots()
        if starting and (stack is None or (stack.params is None and stack.error is None)):
            event = self._configured.setdefault(slot, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), CONFIG_WAIT)
            stack = self.handset.sims.get(slot)
        if stack is None:
            return None
        config = getattr(stack.provisioning, "config", None)
        if config is None:
            return None
        known = self._bots.get(slot)
        if known is not None and known[0] is config:
            return known[1]
        from rcs_terminal.engine.botinfo import BotInfoClient, botinfo_cache_dir
        from rcs_terminal.engine.http import HttpClient
        from rcs_terminal.engine.transport import client_tls_context

        params = stack.params
        http = HttpClient(
            self.trace,
            sim=slot,
            owner=self.profile.name,
            hosts=self.lab.names if self.lab is not None else None,
            allow_dns=self.lab is None,
            ssl_context=client_tls_context(
                verify=params.verify_tls if params is not None else True,
                ca_file=params.ca_file if params is not None else None,
            ),
        )
        device = self.profile.device
        client = BotInfoClient.from_config(
            http,
            config,
            identity=stack.sim.tel_uri,
            client_vendor=device.client.vendor,
            client_version=device.client.version,
            cache_dir=botinfo_cache_dir(self.profile.name or "default"),
        )
        self._bots[slot] = (config, client)
        if known is not None:
            with contextlib.suppress(Exception):
                await known[1].http.close()
        return client

    # ------------------------------------------------------------------ provisioning

    def _configured_now(self, slot: int) -> None:
        self._configured.setdefault(slot, asyncio.Event()).set()

    def _otp_provider(self, slot: int) -> Callable[[], Awaitable[str]]:
        return lambda: self._otp.ask(slot)

    def _terms_provider(self, slot: int) -> Callable[[TermsMessage], Awaitable[bool]]:
        return lambda terms: self._terms.ask(slot)

    async def submit_otp(self, slot: int, code: str) -> None:
        """Give the one-time password to the SIM's provisioning.

        A code given while the SIM is still on its way to asking is kept for it; a code the
        SIM no longer needs (a lab SIM reads its OTP SMS itself) is ignored.

        Raises:
            RcsTerminalError: the SIM is not provisioning.
        """
        code = code.strip()
        if self._otp.answer(slot, code):
            return
        provisioning = self.sim_status(slot).provisioning
        if provisioning in ("waiting-otp", "provisioning"):
            self._otp.keep(slot, code)
        elif provisioning != "provisioned":
            raise RcsTerminalError(
                f"SIM {slot} is not waiting for a one-time password",
                title="No password needed",
                hint="The SIM asks for a new code the next time it provisions.",
            )

    async def answer_terms(self, slot: int, accept: bool) -> None:
        """Answer the operator's terms for the SIM's provisioning.

        Raises:
            RcsTerminalError: the SIM is not waiting for an answer.
        """
        if self._terms.answer(slot, accept):
            return
        if self.sim_status(slot).provisioning != "waiting-terms":
            raise RcsTerminalError(
                f"SIM {slot} is not waiting for an answer to the operator's terms",
                title="No terms to answer",
                hint="The SIM asks again the next time it provisions.",
            )
        self._terms.keep(slot, accept)

    # ------------------------------------------------------------------ settings

    async def apply_setting(self, slot: int, setting: Setting, enabled: bool) -> None:
        """Change a handset setting at a chatbot's request (``settingsAction``).

        ``displayed_notifications`` switches the SIM's read receipts. The engine always
        shows the user's real number to chatbots, so turning anonymization off changes
        nothing, and turning it on cannot be done.

        Raises:
            RcsTerminalError: the SIM is not ready, or the engine cannot do it.
        """
        if setting == "anonymization":
            if enabled:
                raise RcsTerminalError(
                    "this handset cannot hide its number from chatbots (no anonymization)",
                    title="Not supported",
                    hint="rcs-terminal always shows the SIM's real number to chatbots.",
                )
            return
        if setting != "displayed_notifications":
            raise RcsTerminalError(f"unknown setting {setting!r}", title="Not supported")
        stack = self.handset.sims.get(slot)
        if stack is None or stack.messaging is None:
            raise RcsTerminalError(
                f"SIM {slot} is not ready to change its settings",
                title="SIM not ready",
                hint="Try again once the status bar shows the SIM registered.",
            )
        messaging = stack.messaging
        messaging.settings = dataclasses.replace(
            messaging.settings, displayed_notifications=enabled
        )
