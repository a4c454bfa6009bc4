"""The RCC.14 provisioning flow for one SIM, as a sans-I/O state machine.

Theory of operation (GSMA RCC.14 §2, as real clients and servers behave; see
provisioning_sip.md §1):

A *run* is one attempt to get a configuration. It starts with the cookie probe, a plain
``HTTP GET`` with no query: a 200 with ``Set-Cookie`` means the network recognised the
subscriber by the bearer (header enrichment, "on cellular"); anything else (511, 408, no
answer, no cookie) means it did not, and the run goes on with the ``msisdn``. The
configuration request is then an ``HTTPS GET`` with every parameter
(:func:`~.request.build_query`) and the cookies. Its answer decides what happens next:

=========================  ===============================================================
answer                     next
=========================  ===============================================================
200, a configuration       apply it by its ``VERS/version`` (see :mod:`.versions`)
200, no VERS version       OTP step: wait for the code, then repeat the request + ``OTP=``
403                        fail; on cellular also reset to version 0
406 Supported-Versions     repeat with another ``provisioning_version``
503 Retry-After            wait as told, repeat
511                        drop the token, wait 5 s, repeat with the MSISDN (bounded)
401                        fail (HTTP/GBA authentication is not supported)
no answer, 5xx, other      exponential back-off, bounded
=========================  ===============================================================

Every loop is bounded per run (:class:`~.state.RetryPolicy`), so a run always ends in
:class:`~.events.Done`, :class:`~.events.Failed` or :class:`~.events.Disabled` (only the
user's answer to terms is waited for without a deadline); a finished run starts again by
itself at ``refresh_at`` / ``retry_at`` / ``poll_at``.

The engine drives it the h11 way: call :meth:`next_action` with ``now``; perform what it
returns (send the :class:`~.events.HttpRequest`, then call :meth:`receive_response` or
:meth:`timeout`; deliver an OTP with :meth:`receive_otp`; wait until the given time; ask
the user with :meth:`accept_terms`); persist :attr:`stored` after each step; repeat.
Nothing here reads a clock: ``now`` is always passed in. Because :class:`StoredState`
outlives the process, its deadlines are on the caller's clock: pass Unix time (e.g.
``time.time()``) when the state is persisted across runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rcs_terminal.errors import LocalProtocolError, ProvisioningDocumentError
from rcs_terminal.protocol.provisioning.config import RcsConfig, TermsMessage
from rcs_terminal.protocol.provisioning.document import parse_config
from rcs_terminal.protocol.provisioning.events import (
    Action,
    Disabled,
    Done,
    Failed,
    HttpRequest,
    HttpResponse,
    Step,
    Wait,
    WaitForOtp,
    WaitForTerms,
)
from rcs_terminal.protocol.provisioning.httpfields import (
    cookie_header,
    merge_set_cookies,
    retry_after_delay,
    supported_versions,
    version_key,
)
from rcs_terminal.protocol.provisioning.request import (
    DeviceIdentity,
    SimIdentity,
    build_headers,
    build_query,
    join_url,
)
from rcs_terminal.protocol.provisioning.state import Phase, RetryPolicy, StoredState
from rcs_terminal.protocol.provisioning.versions import DISABLED_REASONS, apply_config

__all__ = ["Phase", "ProvisioningFlow", "RetryPolicy", "StoredState"]


_ACCEPTS: dict[str, frozenset[Phase]] = {
    "receive_response": frozenset({Phase.AWAIT_RESPONSE}),
    "timeout": frozenset({Phase.AWAIT_RESPONSE}),
    "accept_terms": frozenset({Phase.AWAIT_TERMS}),
}
"""The inputs that are valid only in some phases; anything else is a caller bug."""


class ProvisioningFlow:
    """The provisioning state machine of one SIM.

    Args:
        device: the handset and client.
        sim: the SIM (IMSI, slot IMEI, MSISDN...).
        base_url_http: the cookie-probe URL (``http://<fqdn>``); None skips the probe
            (Wi-Fi: the MSISDN is sent straight away).
        base_url_https: the configuration URL (``https://<fqdn>``, or the lab's URL).
        stored: what the engine persisted for this SIM, or None the first time.
        now: the current time.
        force: ignore a still-valid cached configuration and ask with ``vers=0``.
        policy: retry and timing settings.
        rcs_state: the ``rcs_state`` parameter to send, if any.
    """

    def __init__(
        self,
        device: DeviceIdentity,
        sim: SimIdentity,
        *,
        base_url_http: str | None,
        base_url_https: str,
        stored: StoredState | None,
        now: float,
        force: bool = False,
        policy: RetryPolicy | None = None,
        rcs_state: int | None = None,
    ) -> None:
        self._device = device
        self._sim = sim
        self._http = base_url_http
        self._https = base_url_https
        self._policy = policy or RetryPolicy()
        self._rcs_state = rcs_state
        self._stored = stored or StoredState()
        self._config: RcsConfig | None = self._load(self._stored.config_xml)
        self._phase = Phase.IDLE
        self._force = force
        self._result: Done | Failed | Disabled | None = None
        self._terms: TermsMessage | None = None
        self._pending: tuple[RcsConfig, StoredState] | None = None
        self._prov_version: str | None = None
        # Per-run state, reset by _reset_run().
        self._cookies: dict[str, str] = {}
        self._cellular = False
        self._msisdn_included = False
        self._step: Step = "config"
        self._otp: str | None = None
        self._otp_deadline = 0.0
        self._sms_port: int | None = None
        self._wake_at = 0.0
        self._wait_reason = ""
        self._after_wait: Step = "config"
        self._retries = 0
        self._unauthorized = 0
        self._otp_rounds = 0
        self._tried_versions: set[str] = set()
        self._full_refresh = False
        self._reset_run(force)

    # ------------------------------------------------------------------ public state

    @property
    def phase(self) -> Phase:
        """Where the flow stands."""
        return self._phase

    @property
    def stored(self) -> StoredState:
        """What to persist for this SIM (changes after responses and answers)."""
        return self._stored

    @property
    def config(self) -> RcsConfig | None:
        """The configuration in use (kept through failures and refreshes), or None."""
        return self._config

    @property
    def terms(self) -> TermsMessage | None:
        """The ``MSG`` of the last configuration received, for the UI to show."""
        return self._terms

    @property
    def on_cellular(self) -> bool:
        """True when the cookie probe of this run identified the subscriber."""
        return self._cellular

    # ------------------------------------------------------------------ driving

    def next_action(self, now: float) -> Action:
        """Return what the engine should do next.

        Raises:
            LocalProtocolError: a request is outstanding (answer it first).
        """
        if self._phase is Phase.IDLE:
            self._start(now)
        while True:
            phase = self._phase
            if phase is Phase.AWAIT_RESPONSE:
                raise LocalProtocolError("a request is outstanding: call receive_response()")
            if phase is Phase.SEND:
                self._phase = Phase.AWAIT_RESPONSE
                return self._request(now)
            if phase is Phase.AWAIT_OTP:
                if now < self._otp_deadline:
                    return WaitForOtp(self._sms_port, self._otp_deadline)
                self._retry(now, "no OTP arrived in time", None, "config")
                continue
            if phase is Phase.AWAIT_TERMS:
                assert self._terms is not None
                return WaitForTerms(self._terms)
            if phase is Phase.BACKOFF:
                if now < self._wake_at:
                    return Wait(self._wake_at, self._wait_reason)
                self._phase, self._step = Phase.SEND, self._after_wait
                continue
            result = self._result
            assert result is not None
            due = result_due(result)
            if due is not None and now >= due:
                self._begin_run(force=False)
                continue
            return result

    def receive_response(self, response: HttpResponse, now: float) -> None:
        """Take the answer to the last :class:`~.events.HttpRequest`.

        Raises:
            LocalProtocolError: no request is outstanding.
        """
        self._require("receive_response")
        merge_set_cookies(self._cookies, response.header_values("Set-Cookie"))
        if self._step == "cookie":
            got_cookie = response.status == 200 and bool(self._cookies)
            self._after_probe(cellular=got_cookie)
            return
        handler = _ON_STATUS.get(response.status, ProvisioningFlow._on_other)
        handler(self, response, now)

    def timeout(self, now: float) -> None:
        """The last request got no answer (timeout, refused connection, TLS failure).

        Raises:
            LocalProtocolError: no request is outstanding.
        """
        self._require("timeout")
        if self._step == "cookie":
            self._after_probe(cellular=False)
        else:
            self._retry(now, "no answer from the configuration server", None, "config")

    def receive_otp(self, code: str) -> bool:
        """Deliver the OTP from the SMS (or typed by the user).

        Returns:
            True if the flow was waiting for it; False if it arrived too late or the
            flow never asked (it is then ignored).
        """
        if self._phase is not Phase.AWAIT_OTP or not code.strip():
            return False
        self._otp = code.strip()
        self._phase, self._step = Phase.SEND, "otp"
        return True

    def accept_terms(self, accepted: bool) -> None:
        """Answer the terms shown by :class:`~.events.WaitForTerms`.

        Rejecting them disables RCS for this SIM like version -1 (the configuration is
        dropped and nothing is asked until :meth:`restart` with ``force=True``).

        Raises:
            LocalProtocolError: no terms are waiting for an answer.
        """
        self._require("accept_terms")
        assert self._pending is not None
        config, stored = self._pending
        self._pending = None
        if accepted:
            self._commit(config, stored)
            return
        self._config = None
        self._stored = replace(stored, version=-1, validity_until=None, config_xml=None)
        self._finish(Disabled("the user rejected the terms and conditions", -1))

    def restart(self, now: float, *, force: bool = False) -> None:
        """A new trigger (boot, user opt-in, settings change): decide afresh.

        Any outstanding request is forgotten. Without ``force`` a valid cached
        configuration or a disabled state is honoured; with it, a full ``vers=0`` run
        starts.
        """
        self._pending = None
        self._force = force
        self._phase = Phase.IDLE

    def reset(self, now: float) -> None:
        """Network-initiated reconfiguration: drop the configuration, keep the token, and
        provision again from version 0."""
        self._config = None
        self._stored = replace(self._stored, version=0, validity_until=None, config_xml=None)
        self.restart(now, force=True)

    # ------------------------------------------------------------------ run bookkeeping

    def _reset_run(self, force: bool) -> None:
        self._cookies = {}
        self._cellular = False
        self._msisdn_included = self._http is None
        self._step = "cookie" if self._http is not None else "config"
        self._otp = None
        self._otp_deadline = 0.0
        self._sms_port = None
        self._wake_at = 0.0
        self._wait_reason = ""
        self._after_wait = "config"
        self._retries = 0
        self._unauthorized = 0
        self._otp_rounds = 0
        self._tried_versions = set()
        self._full_refresh = force

    def _begin_run(self, *, force: bool) -> None:
        self._reset_run(force)
        self._result = None
        self._phase = Phase.SEND

    def _start(self, now: float) -> None:
        stored, force = self._stored, self._force
        self._force = False
        if stored.version > 0 and self._config is None:
            force = True  # the stored document is gone or unreadable: ask for all of it
        if not force:
            if stored.version in (-1, -2):
                kept = self._config if stored.version == -2 else None
                reason = DISABLED_REASONS[stored.version]
                self._finish(Disabled(reason, stored.version, None, kept))
                return
            poll_at = stored.validity_until
            if stored.version == -3 and poll_at is not None and now < poll_at:
                self._finish(Disabled(DISABLED_REASONS[-3], -3, poll_at, self._config))
                return
            if stored.version > 0 and self._config is not None:
                until = stored.validity_until
                if until is None or now < until:
                    self._finish(Done(self._config, until))
                    return
        self._begin_run(force=force)

    def _require(self, what: str) -> None:
        if self._phase not in _ACCEPTS[what]:
            raise LocalProtocolError(f"{what}() is not expected now (phase {self._phase.value})")

    def _finish(self, result: Done | Failed | Disabled) -> None:
        self._result = result
        self._phase = {Done: Phase.DONE, Failed: Phase.FAILED, Disabled: Phase.DISABLED}[
            type(result)
        ]

    def _backoff(self, until: float, reason: str, step: Step) -> None:
        self._phase, self._wake_at, self._wait_reason, self._after_wait = (
            Phase.BACKOFF,
            until,
            reason,
            step,
        )

    def _retry(self, now: float, reason: str, status: int | None, step: Step) -> None:
        """Back off exponentially and repeat ``step``, or fail when retries run out."""
        self._retries += 1
        if self._retries > self._policy.max_retries:
            self._finish(Failed(f"{reason} (gave up after {self._retries} tries)", None, status))
            return
        self._backoff(now + self._policy.backoff(self._retries), reason, step)

    def _after_probe(self, *, cellular: bool) -> None:
        self._cellular = cellular
        self._msisdn_included = not cellular
        self._phase, self._step = Phase.SEND, "config"

    # ------------------------------------------------------------------ requests

    def _vers(self) -> int:
        stored = self._stored
        if self._full_refresh:
            return 0
        if stored.version > 0:
            return stored.version
        if stored.version == -3:
            return stored.last_positive_version
        return 0

    def _request(self, now: float) -> HttpRequest:
        if self._step == "cookie":
            assert self._http is not None
            headers = build_headers(self._device)
            return HttpRequest("GET", join_url(self._http, []), tuple(headers), "cookie")
        stored = self._stored
        query = build_query(
            self._device,
            self._sim,
            vers=self._vers(),
            token=stored.token_at(now),
            otp=self._otp if self._step == "otp" else None,
            msisdn_included=self._msisdn_included,
            rcs_state=self._rcs_state,
            provisioning_version=self._prov_version,
        )
        headers = build_headers(
            self._device, msisdn=self._sim.msisdn, cookie=cookie_header(self._cookies)
        )
        return HttpRequest("GET", join_url(self._https, query), tuple(headers), self._step)

    # ------------------------------------------------------------------ responses

    def _on_ok(self, response: HttpResponse, now: float) -> None:
        body = response.body
        if not body.strip():
            if response.header("Set-Cookie") is not None:
                self._await_otp(now, None)
            else:
                self._retry(now, "empty answer from the configuration server", 200, "config")
            return
        try:
            document = parse_config(body)
            if not document.is_config:
                self._await_otp(now, document.sms_port)
                return
            config = document.config
        except ProvisioningDocumentError as exc:
            self._retry(now, f"unreadable configuration: {exc}", 200, "config")
            return
        self._apply(config, body, now)

    def _await_otp(self, now: float, sms_port: int | None) -> None:
        self._otp_rounds += 1
        if self._otp_rounds > self._policy.max_otp_rounds:
            self._finish(Failed("the server keeps asking for an OTP", None, 200))
            return
        self._phase, self._otp, self._sms_port = Phase.AWAIT_OTP, None, sms_port
        self._otp_deadline = now + self._policy.otp_timeout

    def _apply(self, config: RcsConfig, body: bytes, now: float) -> None:
        applied = apply_config(self._stored, self._config, config, body, now, self._policy)
        self._stored, self._config = applied.stored, applied.config
        if applied.pending is not None or applied.config is config:
            self._terms = config.msg  # a newly received configuration, not a same-version one
        if applied.pending is not None:
            self._pending = (config, applied.pending)
            self._phase = Phase.AWAIT_TERMS
        elif applied.result is not None:
            self._finish(applied.result)
        else:
            self._retry(now, f"unknown configuration version {config.version}", 200, "config")

    def _commit(self, config: RcsConfig, stored: StoredState) -> None:
        self._config, self._stored = config, stored
        self._finish(Done(config, stored.validity_until))

    def _on_forbidden(self, response: HttpResponse, now: float) -> None:
        if self._cellular:
            self._config = None
            self._stored = replace(self._stored, version=0, validity_until=None, config_xml=None)
            reason = "the configuration server refused this subscriber (403); reset to version 0"
        else:
            reason = "the configuration server refused this subscriber (403); check the MSISDN"
        self._finish(Failed(reason, None, 403))

    def _on_not_acceptable(self, response: HttpResponse, now: float) -> None:
        self._tried_versions.add(self._prov_version or self._device.provisioning_version)
        offered = [
            v
            for v in supported_versions(response.header("Supported-Versions"))
            if v not in self._tried_versions
        ]
        self._retries += 1
        if not offered or self._retries > self._policy.max_retries:
            self._finish(Failed("no provisioning_version the server accepts (406)", None, 406))
            return
        self._prov_version = max(offered, key=version_key)
        self._phase, self._step = Phase.SEND, "config"

    def _on_unavailable(self, response: HttpResponse, now: float) -> None:
        delay = retry_after_delay(response.header("Retry-After"), response.header("Date"), now)
        if delay is None:
            self._retry(now, "service unavailable (503)", 503, self._step)
            return
        self._retries += 1
        if self._retries > self._policy.max_retries:
            self._finish(Failed("service unavailable (503), retries exhausted", None, 503))
            return
        wait = min(delay, self._policy.max_retry_after)
        self._backoff(now + wait, "service unavailable (503): Retry-After", self._step)

    def _on_network_auth(self, response: HttpResponse, now: float) -> None:
        self._stored = replace(self._stored, token=None, token_until=None)
        self._unauthorized += 1
        if self._unauthorized > self._policy.max_511:
            self._finish(Failed("the server keeps refusing our identity (511)", None, 511))
            return
        self._msisdn_included, self._otp = True, None
        until = now + self._policy.retry_511_delay
        self._backoff(until, "511: token refused, asking again with the MSISDN", "config")

    def _on_unauthorized(self, response: HttpResponse, now: float) -> None:
        self._finish(
            Failed(
                "the server asks for HTTP/GBA authentication (401), which this "
                "client does not support",
                None,
                401,
            )
        )

    def _on_other(self, response: HttpResponse, now: float) -> None:
        self._retry(
            now, f"HTTP {response.status} from the configuration server", response.status, "config"
        )

    @staticmethod
    def _load(xml: bytes | None) -> RcsConfig | None:
        if xml is None:
            return None
        try:
            document = parse_config(xml)
            return document.config if document.is_config else None
        except ProvisioningDocumentError:
            return None


def result_due(result: Done | Failed | Disabled) -> float | None:
    """When a finished run should start again by itself (None: only on a new trigger)."""
    if isinstance(result, Done):
        return result.refresh_at
    if isinstance(result, Failed):
        return result.retry_at
    return result.poll_at


_Handler = Callable[[ProvisioningFlow, HttpResponse, float], None]

_ON_STATUS: dict[int, _Handler] = {
    200: ProvisioningFlow._on_ok,
    401: ProvisioningFlow._on_unauthorized,
    403: ProvisioningFlow._on_forbidden,
    406: ProvisioningFlow._on_not_acceptable,
    503: ProvisioningFlow._on_unavailable,
    511: ProvisioningFlow._on_network_auth,
}
"""Status code -> handler for the configuration and OTP requests; others back off."""
