"""The emulated handset: one service stack per SIM, started and stopped together.

A :class:`Handset` is built from a device profile. For each SIM it starts (the enabled ones,
or those asked for) it composes a :class:`SimStack`: the SIM's
:class:`~rcs_terminal.engine.ims_params.ImsParams` (static ``ims:`` settings, or a
configuration provisioned over RCC.14 by
:class:`~rcs_terminal.engine.provisioning.ProvisioningService`), its own
:class:`~rcs_terminal.engine.sip_endpoint.SipEndpoint` (own socket, Call-ID, instance id,
timers), :class:`~rcs_terminal.engine.registration.Registration` and
:class:`~rcs_terminal.engine.capabilities.CapabilityService`.

SIMs start concurrently and independently (provisioning_sip.md §6): one SIM failing to
provision or register is recorded on its stack (``error``) and published on the bus, and
does not disturb the other. A 403 to REGISTER on a provisioned SIM provisions it again once
(forced) and registers with the new configuration. Every service shares the handset's
trace recorder and event bus.

Once a SIM's services exist, its :class:`~rcs_terminal.engine.messaging.MessagingService`
(``sims[slot].messaging``) takes SIP MESSAGEs, and after registration it sends what the
profile's message store (``handset.store``, opened on first use) still holds queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rcs_terminal.domain.profile import Profile, Sim
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.capabilities import CapabilityService
from rcs_terminal.engine.ims_params import ImsParams
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.messaging import MessagingService
from rcs_terminal.engine.msrp_carriers import close_msrp_carriers, install_msrp_carriers
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.sip_endpoint import SipEndpoint
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import ProfileError, ProvisioningError, RcsTerminalError

__all__ = ["Handset", "SimStack"]

log = logging.getLogger(__name__)


@dataclass
class SimStack:
    """The services of one SIM.

    Attributes:
        slot: the SIM slot.
        sim: the SIM from the profile.
        params: its registration parameters, once known.
        endpoint: its SIP endpoint.
        registration: its registration.
        capabilities: its capability service.
        messaging: its messaging service.
        provisioning: the provisioning result, for provisioned SIMs.
        error: why the SIM could not start, if it could not.
    """

    slot: int
    sim: Sim
    params: ImsParams | None = None
    endpoint: SipEndpoint | None = None
    registration: Registration | None = None
    capabilities: CapabilityService | None = None
    messaging: MessagingService | None = None
    provisioning: Any = None
    error: RcsTerminalError | None = None

    @property
    def is_registered(self) -> bool:
        """True while the SIM is registered."""
        return self.registration is not None and self.registration.is_registered


class Handset:
    """A handset built from a profile (see the module docstring).

    Args:
        profile: the device profile.
        trace: the shared trace recorder (a new one by default).
        bus: the shared event bus (a new one by default).
        lab: the running lab, for SIMs that provision from it.
        otp: a one-time password for provisioning, if the user has one.
        params: registration parameters per slot that replace both static settings and
            provisioning (tests, tools that build them by hand).
        accept_terms: the answer to operator terms during provisioning.
        max_attempts: failed registration attempts in a row before a SIM gives up (None:
            never; 0: once per P-CSCF, what a one-shot command wants).
        endpoint_options: extra keyword arguments for each :class:`SipEndpoint` (clock,
            flow opener, timer factory: test seams).
        store: the message store (default: the profile's, opened on first use and closed
            by :meth:`stop`).
        messaging_options: extra keyword arguments for each :class:`MessagingService`.
    """

    def __init__(
        self,
        profile: Profile,
        *,
        trace: TraceRecorder | None = None,
        bus: EventBus | None = None,
        lab: LabInfo | None = None,
        otp: str | None = None,
        params: Mapping[int, ImsParams] | None = None,
        accept_terms: bool | None = None,
        max_attempts: int | None = 4,
        endpoint_options: Mapping[str, Any] | None = None,
        store: MessageStore | None = None,
        messaging_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        self.trace = trace if trace is not None else TraceRecorder()
        self.bus = bus if bus is not None else EventBus()
        self.lab = lab
        self.otp = otp
        self.accept_terms = accept_terms
        self.max_attempts = max_attempts
        self._params = dict(params or {})
        self._endpoint_options = dict(endpoint_options or {})
        self._store = store
        self._own_store = store is None
        self._messaging_options = dict(messaging_options or {})
        self.sims: dict[int, SimStack] = {}
        self._reprovisioned: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def store(self) -> MessageStore:
        """The profile's message store (opened on first use)."""
        if self._store is None:
            self._store = MessageStore.for_profile(self.profile.name or "default")
        return self._store

    def default_slots(self) -> list[int]:
        """The SIMs that start by default: the enabled ones (only the default SIM when the
        profile says ``dual_rcs: default_only``)."""
        slots: list[int] = [sim.slot for sim in self.profile.enabled_sims]
        if self.profile.messaging.dual_rcs == "default_only":
            slots = [s for s in slots if s == self.profile.messaging.default_sim]
        return slots

    async def start(self, slots: Iterable[int] | None = None) -> dict[int, RcsTerminalError | None]:
        """Provision (unless static or given) and register the SIMs, concurrently.

        Args:
            slots: the slots to start; by default :meth:`default_slots`.

        Returns:
            Per slot, None when it registered, else the error that stopped it (also kept
            in ``sims[slot].error``).

        Raises:
            ProfileError: a slot has no SIM.
        """
        chosen = list(self.default_slots() if slots is None else slots)
        for slot in chosen:
            self.sims[slot] = SimStack(slot, self.profile.sim(slot))
        results = await asyncio.gather(*(self._start_sim(slot) for slot in chosen))
        return dict(zip(chosen, results, strict=True))

    async def stop(self) -> None:
        """De-register every SIM and close its sockets."""
        for task in list(self._tasks):
            task.cancel()
        stacks = list(self.sims.values())
        await asyncio.gather(
            *(s.messaging.close() for s in stacks if s.messaging is not None),
            return_exceptions=True,
        )
        await asyncio.gather(*(close_msrp_carriers(s) for s in stacks), return_exceptions=True)
        await asyncio.gather(
            *(s.registration.stop() for s in stacks if s.registration is not None),
            return_exceptions=True,
        )
        for stack in stacks:
            if stack.endpoint is not None:
                stack.endpoint.close()
        if self._own_store and self._store is not None:
            self._store.close()
            self._store = None

    def stack(self, slot: int | None = None) -> SimStack:
        """The stack of ``slot`` (default: the profile's default SIM, else the first one).

        Raises:
            ProfileError: that SIM was not started.
        """
        if slot is None:
            default = self.profile.messaging.default_sim
            slot = default if default in self.sims else next(iter(self.sims), default)
        stack = self.sims.get(slot)
        if stack is None:
            raise ProfileError(f"SIM {slot} was not started")
        return stack

    # ------------------------------------------------------------------ one SIM

    async def _start_sim(self, slot: int, *, force: bool = False) -> RcsTerminalError | None:
        stack = self.sims[slot]
        stack.error = None
        try:
            stack.params = await self._params_for(stack, force=force)
            endpoint = SipEndpoint(
                stack.params, trace=self.trace, owner=self.profile.name, **self._endpoint_options
            )
            attempts = self.max_attempts
            if attempts == 0:
                attempts = len(stack.params.pcscfs)
            registration = Registration(
                endpoint, bus=self.bus, on_reprovision=self._reprovision, max_attempts=attempts
            )
            stack.endpoint, stack.registration = endpoint, registration
            stack.capabilities = CapabilityService(registration, bus=self.bus)
            stack.messaging = messaging = MessagingService(
                registration,
                store=self.store,
                profile=self.profile,
                capabilities=stack.capabilities,
                bus=self.bus,
                config=getattr(stack.provisioning, "config", None),
                lab=self.lab,
                **self._messaging_options,
            )
            install_msrp_carriers(stack)  # large message mode and chat sessions (MSRP)
            await registration.start()
            messaging.spawn(messaging.resend_pending())
        except RcsTerminalError as exc:
            stack.error = exc
            log.info("SIM %s did not start: %s", slot, exc)
            return exc
        return None

    async def _params_for(self, stack: SimStack, *, force: bool) -> ImsParams:
        given = self._params.get(stack.slot)
        if given is not None:
            return given
        if stack.sim.ims is not None:
            return ImsParams.from_static(self.profile, stack.sim)
        from rcs_terminal.engine.provisioning import ProvisioningService

        result = await ProvisioningService(
            self.profile,
            stack.sim,
            trace=self.trace,
            bus=self.bus,
            lab=self.lab,
            otp=self.otp,
            force=force,
            accept_terms=self.accept_terms,
        ).run()
        stack.provisioning = result
        if result.config is None:
            raise ProvisioningError(
                f"SIM {stack.slot}: provisioning gave no configuration ({result.reason})"
            )
        return ImsParams.from_config(self.profile, stack.sim, result.config, lab=self.lab)

    def _reprovision(self, registration: Registration) -> None:
        slot = registration.params.slot
        if slot in self._reprovisioned or slot in self._params:
            return
        self._reprovisioned.add(slot)
        stack = self.sims.get(slot)
        if stack is None or stack.sim.ims is not None:
            return

        async def again() -> None:
            if stack.endpoint is not None:
                stack.endpoint.close()
            await self._start_sim(slot, force=True)

        task = asyncio.get_running_loop().create_task(again())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
