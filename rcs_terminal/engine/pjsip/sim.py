"""One SIM on the pjsip engine: registration, capability queries and pager messaging.

:class:`PjsipSim` composes the parts of this package for one SIM, the way the native
engine's :class:`~rcs_terminal.engine.handset.SimStack` composes a SIP endpoint,
registration and capability service: its own pjsip transport and account
(:mod:`.account`), a :class:`~.requests.RequestSender` with a
:class:`~.capabilities.CapabilityQuery` on top, and :class:`~.messaging.PagerMessaging`. It
publishes the native engine's domain events on the bus (``RegistrationChanged``,
``CapabilitiesUpdated``, ``MessageStateChanged``, ``MessageReceived``) and its SIP
messages, read from pjsip's log, go into the trace with the SIM's slot.

Lifecycle: :meth:`PjsipSim.start` takes the process's pjsip library (creating it for the
first SIM), opens the transport, creates the account (which sends REGISTER) and waits for
the outcome; :meth:`PjsipSim.stop` undoes it in the order pjsua2 needs: buddies first,
then de-registration, ``Account.shutdown()``, dropping the account, closing the transport,
and the library's ``libDestroy()`` when the last SIM is gone. Everything runs on the
event-loop thread (see :mod:`.library`).

What only the native engine does (IMS AKA, large message mode, 1-to-1 sessions) raises
:class:`~rcs_terminal.errors.NativeEngineRequiredError`; incoming INVITEs (sessions, large
messages) are left to pjsua, which refuses them since no call object takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from rcs_terminal.domain.events import RegistrationChanged
from rcs_terminal.domain.message import StoredMessage
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.capabilities import Capabilities
from rcs_terminal.engine.pjsip.account import (
    PjsipConfig,
    RegistrationTracker,
    account_config,
    contact,
    make_account,
)
from rcs_terminal.engine.pjsip.capabilities import CapabilityQuery
from rcs_terminal.engine.pjsip.library import PjsipLibrary, TransportHandle, dispose, wire_bytes
from rcs_terminal.engine.pjsip.log import TraceSink
from rcs_terminal.engine.pjsip.messaging import PagerMessaging
from rcs_terminal.engine.pjsip.requests import RequestSender
from rcs_terminal.engine.registration import RegistrationFailed
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import LocalProtocolError, NativeEngineRequiredError, NetworkError

__all__ = ["PjsipSim"]

REGISTER_TIMEOUT = 40.0
"""Seconds :meth:`PjsipSim.start` waits for the registration outcome."""


class PjsipSim:
    """One SIM on the pjsip engine (see the module docstring).

    Args:
        config: the SIM's configuration.
        store: where its messages are kept; an in-memory store by default.
        bus: where its events go.
        trace: where its SIP messages are recorded.
        owner: the owner written in trace records (e.g. the profile name).
        clock: wall-clock seconds (store, CPIM DateTime, capability times).
        new_id: the source of message, Conversation and Contribution ids.
    """

    def __init__(
        self,
        config: PjsipConfig,
        *,
        store: MessageStore | None = None,
        bus: EventBus | None = None,
        trace: TraceRecorder | None = None,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self.store = store if store is not None else MessageStore.open(":memory:", durable=False)
        self.bus = bus
        self.trace = trace
        self.owner = owner
        self.clock = clock
        self.new_id = new_id
        self.registration = RegistrationTracker(config.slot, config.impu)
        self.library: PjsipLibrary | None = None
        self.transport: TransportHandle | None = None
        self.account: Any = None
        self.requests: RequestSender | None = None
        self.capabilities: CapabilityQuery | None = None
        self.messaging: PagerMessaging | None = None
        self._detach: Callable[[], None] | None = None
        self._outcome: asyncio.Future[RegistrationChanged] | None = None

    @property
    def is_registered(self) -> bool:
        """True while the SIM is registered."""
        return self.registration.is_registered

    # ------------------------------------------------------------------ start / stop

    async def start(self, timeout: float = REGISTER_TIMEOUT) -> None:
        """Register the SIM and wait for the outcome.

        Raises:
            PjsipUnavailableError: the pjsua2 wheel cannot be loaded here.
            RegistrationFailed: the registration was refused or timed out (the SIM is
                stopped again).
            NetworkError: pjsip could not open the transport or the account.
        """
        if self.account is not None:
            return
        library = PjsipLibrary.acquire(user_agent=self.config.user_agent)
        self.library = library
        try:
            self.transport = library.open_transport(
                self.config.transport,
                self.config.local_host,
                verify_server=self.config.verify_tls,
                ca_file=self.config.ca_file,
            )
            if self.trace is not None:
                sink = TraceSink(
                    self.trace, self.config.slot, self.owner, str(self.transport.local)
                )
                self._detach = library.router.attach(self.config.impu, sink)
            self._outcome = library.loop.create_future()
            account = make_account(library, self)
            self.account = account
            self.requests = RequestSender(library, account, self.config, new_id=self.new_id)
            self.capabilities = CapabilityQuery(
                self.requests,
                self.config,
                contact=contact(self.config, self.transport.local),
                bus=self.bus,
                clock=self.clock,
            )
            self.messaging = PagerMessaging(
                library, account, self.config, store=self.store, bus=self.bus,
                clock=self.clock, new_id=self.new_id,
            )  # fmt: skip
            settings = account_config(library.pj, self.config, self.transport)
            library.call("create the account", lambda: account.create(settings))
            problem = int(account.getInfo().regLastErr)
            if problem != 0:
                raise NetworkError(
                    f"pjsip could not start the registration of SIM {self.config.slot}: "
                    f"{library.endpoint.utilStrError(problem)}"
                )
            event = await asyncio.wait_for(asyncio.shield(self._outcome), timeout)
        except TimeoutError:
            await self._teardown(unregister=False)
            raise RegistrationFailed(
                f"SIM {self.config.slot}: no registration outcome within {timeout:g} s",
                status=408,
                refused=False,
            ) from None
        except BaseException:
            await self._teardown(unregister=False)
            raise
        if event.state != "registered":
            await self._teardown(unregister=False)
            status = event.status or 0
            # pjsua reports a timeout as 408 and a transport failure as 5xx: unreachable.
            refused = (400 <= status < 500 and status != 408) or 600 <= status < 700
            raise RegistrationFailed(
                f"SIM {self.config.slot}: registration failed ({status} {event.reason or ''})",
                status=event.status,
                refused=refused,
            )

    async def stop(self, timeout: float = 5.0) -> None:
        """De-register and release everything (safe to call twice)."""
        await self._teardown(unregister=True, timeout=timeout)

    async def _teardown(self, *, unregister: bool, timeout: float = 5.0) -> None:
        library = self.library
        if library is None:
            return
        if self.messaging is not None:
            self.messaging.close()
        if self.requests is not None:
            self.requests.cancel_all()
        account = self.account
        if account is not None and unregister and self.registration.is_registered:
            self._outcome = library.loop.create_future()
            try:
                library.call("de-register", lambda: account.setRegistration(False))
                await asyncio.wait_for(asyncio.shield(self._outcome), timeout)
            except Exception:
                pass  # best effort: Account.shutdown() sends the un-REGISTER again
        self.messaging = self.capabilities = self.requests = None
        if account is not None:
            library.ensure_thread()
            with contextlib.suppress(library.pj.Error):
                account.shutdown()
            dispose(account)
            self.account = account = None
        if self._detach is not None:
            self._detach()
            self._detach = None
        if self.transport is not None:
            library.close_transport(self.transport)
            self.transport = None
        self.library = None
        library.release()

    # ------------------------------------------------------------------ services

    async def query_capabilities(self, target: str) -> Capabilities:
        """Ask ``target`` for its capabilities with OPTIONS (our 401/407 handling).

        Raises:
            LocalProtocolError: the SIM is not started.
            SipParseError: the target cannot be read.
        """
        if self.capabilities is None:
            raise LocalProtocolError(f"pjsip SIM {self.config.slot} is not started")
        return await self.capabilities.query(target)

    async def send_message(
        self, target: str, content_type: str, body: bytes, *, chatbot: bool | None = None
    ) -> StoredMessage:
        """Send a message in pager mode (CPIM, IMDN requested); return it once answered.

        Raises:
            LocalProtocolError: the SIM is not started.
            NativeEngineRequiredError: the message is too large for pager mode.
        """
        if self.messaging is None:
            raise LocalProtocolError(f"pjsip SIM {self.config.slot} is not started")
        return await self.messaging.send(target, content_type, body, chatbot=chatbot)

    async def send_large_message(self, *args: object, **kwargs: object) -> NoReturn:
        """Large message mode (INVITE + MSRP): not on this engine.

        Raises:
            NativeEngineRequiredError: always.
        """
        raise NativeEngineRequiredError(
            "large message mode (INVITE and MSRP) needs the native engine"
        )

    async def start_session(self, *args: object, **kwargs: object) -> NoReturn:
        """A 1-to-1 chat session (INVITE + MSRP): not on this engine.

        Raises:
            NativeEngineRequiredError: always.
        """
        raise NativeEngineRequiredError("chat sessions (INVITE and MSRP) need the native engine")

    # ------------------------------------------------------------------ account callbacks

    def reg_started(self, prm: Any) -> None:
        """``onRegStarted``."""
        self._publish(self.registration.started(bool(prm.renew)))

    def reg_state(self, prm: Any) -> None:
        """``onRegState``: publish the change, wake :meth:`start` / :meth:`stop`."""
        raw = wire_bytes(str(prm.rdata.wholeMsg))
        event = self.registration.finished(int(prm.code), str(prm.reason), int(prm.expiration), raw)
        self._publish(event)
        outcome = self._outcome
        if outcome is not None and not outcome.done():
            state = self.registration.state
            outcome.set_result(
                event
                or RegistrationChanged(
                    sim=self.config.slot,
                    state=state,
                    impu=self.config.impu,
                    expires=self.registration.expires,
                    status=self.registration.status,
                    reason=self.registration.reason,
                )
            )

    def instant_message(self, prm: Any) -> None:
        """``onInstantMessage``."""
        if self.messaging is not None:
            self.messaging.incoming(prm)

    def instant_message_status(self, prm: Any) -> None:
        """``onInstantMessageStatus``."""
        if self.messaging is not None:
            self.messaging.status(prm)

    def send_request_done(self, prm: Any) -> None:
        """``onSendRequest``."""
        if self.requests is not None:
            self.requests.transaction_done(prm)

    def _publish(self, event: RegistrationChanged | None) -> None:
        if event is not None and self.bus is not None:
            self.bus.publish(event)
