"""The provisioning service: one SIM's RCC.14 flow run over real HTTP(S).

The state machine is the protocol core's :class:`~rcs_terminal.protocol.provisioning.
ProvisioningFlow`; this module is its asyncio edge (the aioquic habit: the core decides,
the edge performs). For one SIM it:

- works out the servers: the lab's (``provisioning.url: lab``, from a
  :class:`~rcs_terminal.engine.labinfo.LabInfo`), an explicit URL, or the RCC.14 default
  ``config.rcs.mnc<MNC>.mcc<MCC>.pub.3gppnetwork.org``; step 2 over HTTPS unless the profile
  says ``provisioning.https: false``. For an explicit ``https://`` URL the cookie probe goes
  to ``http://`` on the same host when the URL names no port, and is skipped when it does;
  an explicit ``http://`` URL serves both steps;
- loads the SIM's stored state (:mod:`.provisioning_store`, keyed by IMSI), so a valid
  cached configuration is used without a request unless ``force``;
- performs each :class:`~rcs_terminal.protocol.provisioning.HttpRequest` with the
  :class:`~rcs_terminal.engine.http.HttpClient` (every exchange goes into the trace, secrets
  masked; a refused connection, a TLS failure or a timeout is the flow's ``timeout()``), and
  saves the stored state after every step that changes it;
- gets the OTP: the code given up front (``otp``, used once) if any; else, for lab SIMs,
  from the lab's SMS centre as a phone would; else from ``otp_provider`` (the CLI prompt,
  the TUI dialog);
- answers operator terms with ``accept_terms`` (or ``terms_provider``), and fails with a
  clear message naming the ``--accept-terms/--reject-terms`` flags otherwise;
- sleeps until each :class:`~rcs_terminal.protocol.provisioning.Wait` ends, but never more
  than ``max_wait`` seconds in total: a command gives up with a clear
  :class:`~rcs_terminal.errors.ProvisioningError` instead of hanging;
- publishes :class:`~rcs_terminal.domain.events.ProvisioningChanged`,
  :class:`~rcs_terminal.domain.events.OtpRequested` and
  :class:`~rcs_terminal.domain.events.TermsPresented` on the bus.

Only a usable configuration is a result: a refusal, version 0 (reset), -1/-2 (disabled) and
-3 (dormant) all raise :class:`~rcs_terminal.errors.ProvisioningError` after the state is
saved and the event published.

Time is Unix time (``time.time()``), since stored deadlines outlive the process; ``clock``
and ``sleep`` are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from rcs_terminal.domain.events import (
    OtpRequested,
    ProvisioningChanged,
    ProvisioningState,
    TermsPresented,
)
from rcs_terminal.domain.profile import LAB, Profile, Provisioning, Sim
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.http import HttpClient
from rcs_terminal.engine.identity import device_identity, sim_identity
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.provisioning_result import ProvisioningResult, printable
from rcs_terminal.engine.provisioning_store import ProvisioningStore
from rcs_terminal.engine.sms import SmsReceiver, extract_otp
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import client_tls_context
from rcs_terminal.errors import NetworkError, ProfileError, ProvisioningError, RcsTerminalError
from rcs_terminal.protocol.provisioning import (
    Disabled,
    Done,
    Failed,
    HttpRequest,
    HttpResponse,
    ProvisioningFlow,
    RetryPolicy,
    StoredState,
    TermsMessage,
    Wait,
    WaitForOtp,
    WaitForTerms,
    default_config_urls,
)

__all__ = ["ProvisioningResult", "ProvisioningService"]

DEFAULT_MAX_WAIT = 60.0
"""Longest total wait (Retry-After, back-off, OTP SMS) before a run gives up, in seconds."""
MAX_STEPS = 200
"""Safety bound on the number of flow steps in one run."""

_HINTS = {
    403: "The configuration server does not know this SIM: check the IMSI and MSISDN.",
    401: "The server wants HTTP/GBA authentication, which rcs-terminal does not do.",
    511: "The server keeps refusing the token and MSISDN.",
}


class ProvisioningService:
    """Provisions one SIM.

    Args:
        profile: the handset.
        sim: the SIM to provision.
        trace: where every HTTP exchange (and OTP SMS) is recorded.
        bus: where state changes are published.
        lab: the running lab, for SIMs that provision from it.
        otp: a one-time password given up front (used for the first OTP asked).
        otp_provider: asks the user for the OTP (CLI prompt, TUI dialog).
        force: ignore a valid cached configuration and ask for a full one (``vers=0``).
        accept_terms: the answer to operator terms (None: ask ``terms_provider`` or fail).
        terms_provider: asks the user whether to accept terms.
        max_wait: longest total wait before giving up, in seconds.
        policy: the flow's retry settings.
        store: the SIM's persistence (default: under ``paths.sim_dir(imsi)``).
        clock: Unix time source.
        sleep: how to wait (``asyncio.sleep``).
        request_timeout: seconds for one HTTP exchange.
    """

    def __init__(
        self,
        profile: Profile,
        sim: Sim,
        *,
        trace: TraceRecorder,
        bus: EventBus | None = None,
        lab: LabInfo | None = None,
        otp: str | None = None,
        otp_provider: Callable[[], Awaitable[str]] | None = None,
        force: bool = False,
        accept_terms: bool | None = None,
        terms_provider: Callable[[TermsMessage], Awaitable[bool]] | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
        policy: RetryPolicy | None = None,
        store: ProvisioningStore | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        request_timeout: float = 30.0,
    ) -> None:
        self.profile = profile
        self.sim = sim
        self.trace = trace
        self.bus = bus
        self.lab = lab
        self.store = store or ProvisioningStore(sim.imsi)
        self._otp = otp.strip() if otp else None
        self._otp_provider = otp_provider
        self._force = force
        self._accept_terms = accept_terms
        self._terms_provider = terms_provider
        self._max_wait = max_wait
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._request_timeout = request_timeout
        self._settings = sim.provisioning or Provisioning()
        self._sms: SmsReceiver | None = None
        self._last_problem: str | None = None
        self._requests = 0

    @property
    def uses_lab(self) -> bool:
        """Whether the SIM provisions from the bundled lab."""
        return self._settings.url == LAB

    def endpoints(self) -> tuple[str | None, str]:
        """The cookie-probe URL (None: no probe) and the configuration URL.

        Raises:
            ProfileError: the SIM has static IMS settings, or uses the lab and none runs.
        """
        sim, settings = self.sim, self._settings
        if self.uses_lab or sim.ims is not None:
            sim.provisioning_url(None if self.lab is None else self.lab.http_url)
            assert self.lab is not None
            return self.lab.http_url, self.lab.https_url if settings.https else self.lab.http_url
        if settings.url is not None:
            parts = urlsplit(settings.url)
            if parts.scheme == "http":
                return settings.url, settings.url
            if parts.port is not None:
                return None, settings.url
            return urlunsplit(("http", parts.netloc, parts.path, "", "")), settings.url
        http, https = default_config_urls(sim.operator.mcc, sim.operator.mnc)
        return http, https if settings.https else http

    async def run(self) -> ProvisioningResult:
        """Provision the SIM (or use its valid cached configuration).

        Raises:
            ProfileError: the profile does not allow provisioning this SIM.
            ProvisioningError: the server refused, disabled RCS, never answered, or asked
                for something nobody gave (OTP, terms), or a wait would exceed ``max_wait``.
        """
        probe, config_url = self.endpoints()
        http = HttpClient(
            self.trace,
            sim=self.sim.slot,
            owner="provisioning",
            hosts=self.lab.names if self.uses_lab and self.lab is not None else None,
            allow_dns=not self.uses_lab,
            ssl_context=self._tls_context() if config_url.startswith("https:") else None,
            timeout=self._request_timeout,
        )
        if self.uses_lab and self.lab is not None:
            self._sms = SmsReceiver(
                self.lab.smsc_url,
                self.sim.msisdn,
                trace=self.trace,
                sim=self.sim.slot,
                sms_port=self._settings.sms_port,
            )
        if self.store.server is None:
            self.store.server = config_url
        flow = ProvisioningFlow(
            device_identity(self.profile),
            sim_identity(self.profile, self.sim),
            base_url_http=probe,
            base_url_https=config_url,
            stored=self.store.load() or self._seed(),
            now=self._clock(),
            force=self._force,
            policy=self._policy,
        )
        try:
            return await self._drive(flow, http)
        finally:
            await http.close()
            if self._sms is not None:
                await self._sms.close()

    # ------------------------------------------------------------------ the loop

    async def _drive(self, flow: ProvisioningFlow, http: HttpClient) -> ProvisioningResult:
        saved = flow.stored
        waited = 0.0
        for _ in range(MAX_STEPS):
            action = flow.next_action(self._clock())
            if isinstance(action, HttpRequest):
                await self._exchange(flow, http, action)
            elif isinstance(action, WaitForOtp):
                flow.receive_otp(await self._obtain_otp(action))
            elif isinstance(action, WaitForTerms):
                flow.accept_terms(await self._answer_terms(action.terms))
            elif isinstance(action, Wait):
                waited = await self._wait(action, waited, flow)
            else:
                self._persist(flow, saved)
                return self._finish(action)
            saved = self._persist(flow, saved)
        raise ProvisioningError(f"SIM {self.sim.slot}: provisioning did not settle")

    async def _exchange(self, flow: ProvisioningFlow, http: HttpClient, req: HttpRequest) -> None:
        if self._requests == 0:
            self._publish("provisioning")
            await self._prepare_sms()
        self._requests += 1
        try:
            response = await http.request(req.method, req.url, headers=req.headers)
        except NetworkError as exc:
            self._last_problem = exc.message
            flow.timeout(self._clock())
            return
        except UnicodeError as exc:  # an undecodable status line or header from the server
            self._last_problem = f"unreadable answer from the server: {exc}"
            flow.timeout(self._clock())
            return
        flow.receive_response(
            HttpResponse(response.status, response.headers, response.body), self._clock()
        )

    async def _wait(self, action: Wait, waited: float, flow: ProvisioningFlow) -> float:
        delay = max(0.0, action.until - self._clock())
        if waited + delay > self._max_wait:
            reason = self._with_problem(action.reason)
            self._publish("failed", reason=reason, retry_at=action.until)
            raise ProvisioningError(
                f"SIM {self.sim.slot}: {reason}; the next try would be in {delay:.0f} s, "
                f"beyond the {self._max_wait:g} s this command waits.",
                hint="Try again later, or allow a longer wait (--max-wait).",
            )
        self._publish("provisioning", reason=printable(action.reason), retry_at=action.until)
        await self._sleep(delay)
        return waited + delay

    async def _prepare_sms(self) -> None:
        if self._sms is None:
            return
        try:
            await self._sms.skip_existing()  # a phone only sees SMS that arrive from now on
        except NetworkError:
            await self._sms.close()
            self._sms = None

    async def _obtain_otp(self, action: WaitForOtp) -> str:
        self._publish("waiting-otp")
        if self.bus is not None:
            self.bus.publish(OtpRequested(self.sim.slot, self.sim.msisdn))
        remaining = max(0.0, action.deadline - self._clock())
        if self._otp is not None:
            code, self._otp = self._otp, None
            return code
        if self._sms is not None:
            port = action.sms_port if action.sms_port is not None else self._settings.sms_port
            timeout = min(remaining, self._max_wait)
            sms = await self._sms.wait_for(lambda s: extract_otp(s, port) is not None, timeout)
            found = None if sms is None else extract_otp(sms, port)
            if found is None:
                raise self._fail(f"no OTP SMS arrived within {timeout:.0f} s")
            return found
        if self._otp_provider is not None:
            try:
                return await asyncio.wait_for(self._otp_provider(), remaining)
            except TimeoutError:
                raise self._fail("the one-time password was not entered in time") from None
        raise self._fail(
            "the configuration server sent a one-time password by SMS",
            hint="Give it with --otp CODE, or run in a terminal to be asked for it.",
        )

    async def _answer_terms(self, terms: TermsMessage) -> bool:
        self._publish("waiting-terms")
        if self.bus is not None:
            self.bus.publish(
                TermsPresented(
                    self.sim.slot, terms.title, terms.message, terms.accept_btn, terms.reject_btn
                )
            )
        if self._accept_terms is not None:
            return self._accept_terms
        if self._terms_provider is not None:
            return await self._terms_provider(terms)
        title = printable(terms.title) or "terms and conditions"
        raise self._fail(
            f"the operator asks to accept its terms ({title!r}) before RCS can be used",
            hint="Run again with --accept-terms or --reject-terms.",
        )

    # ------------------------------------------------------------------ outcomes

    def _finish(self, outcome: Done | Failed | Disabled) -> ProvisioningResult:
        if isinstance(outcome, Done):
            config = outcome.config
            cached = self._requests == 0
            self._publish("provisioned", version=config.version)
            return ProvisioningResult(
                sim=self.sim.slot,
                imsi=self.sim.imsi,
                state="provisioned",
                version=config.version,
                validity=config.validity,
                config=config,
                reason="cached configuration" if cached else None,
                from_cache=cached,
                valid_until=outcome.refresh_at,
            )
        if isinstance(outcome, Failed):
            reason = self._with_problem(outcome.reason)
            self._publish("failed", reason=reason, retry_at=outcome.retry_at)
            raise ProvisioningError(
                f"SIM {self.sim.slot}: {reason}", hint=_HINTS.get(outcome.status or 0)
            )
        state: ProvisioningState = "dormant" if outcome.version == -3 else "disabled"
        self._publish(
            state, version=outcome.version, reason=outcome.reason, retry_at=outcome.poll_at
        )
        raise ProvisioningError(
            f"SIM {self.sim.slot}: {outcome.reason}",
            hint="Run with --force to ask the configuration server again.",
        )

    def _fail(self, reason: str, *, hint: str | None = None) -> ProvisioningError:
        self._publish("failed", reason=reason)
        return ProvisioningError(f"SIM {self.sim.slot}: {reason}", hint=hint)

    def _with_problem(self, reason: str) -> str:
        if self._last_problem and "no answer" in reason:
            return f"{reason}; last error: {self._last_problem}"
        return reason

    def _publish(
        self,
        state: ProvisioningState,
        *,
        version: int | None = None,
        reason: str | None = None,
        retry_at: float | None = None,
    ) -> None:
        if self.bus is not None:
            self.bus.publish(ProvisioningChanged(self.sim.slot, state, version, reason, retry_at))

    # ------------------------------------------------------------------ setup helpers

    def _persist(self, flow: ProvisioningFlow, saved: StoredState) -> StoredState:
        current = flow.stored
        if current is not saved:
            try:
                self.store.save(current)
            except OSError as exc:
                raise RcsTerminalError(
                    f"cannot save the provisioning state of SIM {self.sim.slot}: {exc}"
                ) from exc
        return current

    def _seed(self) -> StoredState | None:
        token = self._settings.token
        return StoredState(token=token.reveal()) if token is not None else None

    def _tls_context(self) -> ssl.SSLContext:
        settings = self._settings
        ca_file: str | None = None
        if not settings.verify_tls:
            return client_tls_context(verify=False)
        if settings.ca_file is not None:
            ca_file = str(self.profile.resolve_file(settings.ca_file))
        elif self.uses_lab and self.lab is not None:
            ca_file = self.lab.ca_file
        try:
            return client_tls_context(verify=True, ca_file=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ProfileError(
                f"SIM {self.sim.slot}: cannot use the CA file {ca_file}: {exc}"
            ) from exc
