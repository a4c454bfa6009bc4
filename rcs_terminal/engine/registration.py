"""IMS registration of one SIM: REGISTER, credentials, refresh, reg event, de-registration.

:class:`Registration` drives one SIM's binding with the IMS core over its
:class:`~rcs_terminal.engine.sip_endpoint.SipEndpoint` (TS 24.229 §5.1.1, RFC 3261 §10;
provisioning_sip.md §3):

- REGISTER ``sip:<home domain>`` with From/To the IMPU, one Call-ID for the SIM's life and
  CSeq + 1 per request, a Contact with ``+sip.instance`` (the slot's IMEI), ``reg-id`` on
  TCP/TLS (RFC 5626 outbound) and the UP 2.4 feature tags of the enabled services;
- credentials: IMS AKA answered by the software USIM (Milenage; AUTS when SQN is out of
  range; the accepted SQN persisted per SIM), or digest (MD5, SHA-256); one challenge per
  attempt is answered, a second 401 is a refusal;
- the 200 OK: Service-Route (the Route of every later request), Path, P-Associated-URI
  (its first sip: URI is the default IMPU) and the granted expiry, refreshed at half of it up
  to 1200 s, else 600 s before the end (:mod:`.registration_policy`);
- errors: 403 stops (and may ask for provisioning again), 423 retries with Min-Expires,
  timeouts, transport failures, 3xx, 5xx and a malformed 200 back off
  (``Retry-After``, else RegRetryBaseTime doubling up to RegRetryMaxTime) and move to the
  next P-CSCF;
- the reg event (RFC 3680): SUBSCRIBE to our IMPU once registered; NOTIFYs that deactivate
  our contact make us register again, *rejected* stops us, *shortened* refreshes early;
- de-registration (Contact ``expires=0``) on :meth:`Registration.stop`.

Every state change is published as
:class:`~rcs_terminal.domain.events.RegistrationChanged`. No task lives while the SIM is
idle: refreshes and back-offs are callbacks on the endpoint's one timer; a short task exists
only while a connection is being opened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from rcs_terminal.domain.events import RegistrationChanged, RegistrationState
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.feature_tags import contact_tags
from rcs_terminal.engine.ims_params import AkaCredentials, DigestCredentials, PcscfTarget
from rcs_terminal.engine.registration_policy import (
    RegEventAction,
    Verdict,
    classify,
    granted_expires,
    min_expires,
    refresh_delay,
    reginfo_action,
    retry_after,
    retry_delay,
)
from rcs_terminal.engine.sip_endpoint import RequestOutcome, Scheduled, SipEndpoint
from rcs_terminal.engine.usim_store import UsimStore
from rcs_terminal.errors import (
    AuthenticationError,
    LocalProtocolError,
    NetworkError,
    ParseError,
    RegistrationError,
)
from rcs_terminal.protocol.sip.aka import AkaOutcome, Usim, answer_aka_challenge
from rcs_terminal.protocol.sip.auth import (
    Challenge,
    NonceCounter,
    build_authorization,
    build_initial_authorization,
    parse_challenges,
)
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.features import format_feature_tags
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.reginfo import CONTENT_TYPE as REGINFO
from rcs_terminal.protocol.sip.reginfo import RegInfo, parse_reginfo
from rcs_terminal.protocol.sip.uri import SipUri, TelUri, cached_parse_uri

__all__ = ["ALLOW", "RegEventSubscription", "Registration", "RegistrationFailed"]

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, NOTIFY, OPTIONS"
"""The methods a UP client allows (provisioning_sip.md §3)."""
MAX_AUTH_ROUNDS = 3
"""Challenges answered in one attempt at most (one, plus an AKA resync or a stale nonce)."""
_DIGEST_PREFERENCE = ("SHA-256", "SHA-256-SESS", "MD5", "MD5-SESS")


class RegistrationFailed(RegistrationError):
    """Registration ended without a binding.

    Attributes:
        status: the SIP status that ended it (408 for a timeout), or None.
        refused: True when the network refused (a 4xx/6xx answer), False when it could
            not be reached (timeouts, transport failures, 5xx).
    """

    def __init__(self, message: str, *, status: int | None, refused: bool, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status
        self.refused = refused


class Registration:
    """The registration of one SIM (see the module docstring).

    Args:
        endpoint: the SIM's SIP endpoint (its ``params`` describe the SIM).
        bus: where :class:`RegistrationChanged` events go.
        usim_store: where the USIM's SQN is persisted (AKA SIMs); default under
            ``paths.sim_dir(imsi)``.
        on_reprovision: called after a 403 when the SIM was provisioned
            (``params.reprovision_on_403``): the hook that provisions again.
        max_attempts: failed attempts in a row before giving up (None: never give up).
    """

    def __init__(
        self,
        endpoint: SipEndpoint,
        *,
        bus: EventBus | None = None,
        usim_store: UsimStore | None = None,
        on_reprovision: Callable[[Registration], None] | None = None,
        max_attempts: int | None = 4,
    ) -> None:
        self.endpoint = endpoint
        self.params = params = endpoint.params
        self.bus = bus
        self.on_reprovision = on_reprovision
        self.max_attempts = max_attempts
        self._store = usim_store or (UsimStore(params.imsi) if params.is_aka else None)
        self.call_id = f"{endpoint.new_id()}{endpoint.new_id()}"
        self._from_tag = endpoint.new_id()
        self._cseq = 0
        self.state: RegistrationState = "unregistered"
        self.status: int | None = None
        self.reason: str | None = None
        self.expires: int | None = None
        self.expires_at: float | None = None
        self.service_route: tuple[str, ...] = ()
        self.path: tuple[str, ...] = ()
        self.associated_uris: tuple[str, ...] = ()
        self.pcscf_index = 0
        self._requested = params.register_expires
        self._failures = 0
        self._attempts = 0
        self._rounds = 0
        self._answered = 0
        self._resync_sent = False
        self._authorization: tuple[str, str] | None = None
        self._challenge: Challenge | None = None
        self._nonces = NonceCounter()
        self._usim: Usim | None = None
        self._timer: Scheduled | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._deregistered: asyncio.Future[None] | None = None
        self._active = False
        self._stopping = False
        self._in_flight = False
        self.reg_event = RegEventSubscription(self)
        endpoint.authorizer = self.authorize
        endpoint.on_flow_lost = self._flow_lost

    # ------------------------------------------------------------------ public view

    @property
    def default_impu(self) -> str:
        """The default public identity: the first sip: URI of P-Associated-URI, else ours."""
        for uri in self.associated_uris:
            if uri.lower().startswith(("sip:", "sips:")):
                return uri
        return self.params.impu

    @property
    def routes(self) -> tuple[str, ...]:
        """The Route header values of requests outside dialogs (the Service-Route)."""
        return tuple(f"<{uri}>" for uri in self.service_route)

    @property
    def next_register_at(self) -> float | None:
        """When the next REGISTER (refresh or retry) is due, on the endpoint clock."""
        return self._timer.when if self._timer is not None else None

    @property
    def is_registered(self) -> bool:
        """True while the binding exists."""
        return self.state == "registered"

    def contact(self, *, expires: int | None = None, register: bool = False) -> str:
        """Our Contact header value with ``+sip.instance`` and the feature tags.

        Args:
            expires: an ``expires`` parameter to add (REGISTER).
            register: add ``reg-id`` (outbound on TCP/TLS), for REGISTER.
        """
        tags: dict[str, list[str] | None] = {"+sip.instance": [self.params.sip_instance]}
        tags.update(contact_tags(self.params.services))
        value = f"<{self.contact_uri}>{format_feature_tags(tags)}"
        if register and self._outbound:
            value += ";reg-id=1"
        if expires is not None:
            value += f";expires={expires}"
        return value

    @property
    def contact_uri(self) -> str:
        """Our Contact URI on the current flow."""
        return self.endpoint.contact_uri(_user_part(self.params.impu))

    @property
    def _outbound(self) -> bool:
        target = self.endpoint.target
        return self.params.outbound and target is not None and target.transport != "udp"

    # ------------------------------------------------------------------ start / stop

    async def start(self) -> None:
        """Register and wait for the outcome.

        Raises:
            RegistrationFailed: the registration was refused or could not be made.
        """
        if self.state == "registered":
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        if not self._active:
            self._active, self._stopping = True, False
            self._failures = self._attempts = 0
            self._set_state("registering")
            self._attempt()
        await future

    def refresh_now(self) -> None:
        """Send a REGISTER at once (e.g. after a 403 "not registered" to another request)."""
        if self._active and not self._in_flight and not self._stopping:
            self._cancel_timer()
            self._attempt()

    async def stop(self, timeout: float = 5.0) -> None:
        """De-register (REGISTER with ``expires=0``) and wait up to ``timeout`` seconds."""
        was_bound = self.state == "registered" or self._in_flight
        self._stopping, self._active = True, False
        self._cancel_timer()
        self.reg_event.unsubscribe()
        if was_bound and self.endpoint.is_connected:
            self._set_state("deregistering")
            self._deregistered = asyncio.get_running_loop().create_future()
            self._rounds = 0
            self._send_register(0)
            try:
                await asyncio.wait_for(asyncio.shield(self._deregistered), timeout)
            except TimeoutError:
                log.info("SIM %s: no answer to the de-registration", self.params.slot)
        if self._task is not None:
            self._task.cancel()
        self.expires = self.expires_at = None
        self._set_state("deregistered")
        self._wake(RegistrationFailed("registration stopped", status=None, refused=False))

    # ------------------------------------------------------------------ attempts

    def _attempt(self) -> None:
        self._timer = None
        self._rounds = self._answered = 0
        self._resync_sent = False
        target = self.params.pcscfs[self.pcscf_index % len(self.params.pcscfs)]
        if self.endpoint.is_connected and self.endpoint.target == target:
            self._send_register(self._requested)
            return
        self._in_flight = True
        self._task = asyncio.get_running_loop().create_task(self._connect_and_register(target))

    async def _connect_and_register(self, target: PcscfTarget) -> None:
        try:
            await self.endpoint.connect(target)
        except NetworkError as exc:
            self._in_flight = False
            self._failed(None, f"cannot reach the P-CSCF {target}: {exc.message}", None)
            return
        finally:
            self._task = None
        if self._active:
            self._send_register(self._requested)
        else:
            self._in_flight = False

    def _send_register(self, expires: int, authorization: tuple[str, str] | None = None) -> None:
        credentials = authorization or self._refresh_credentials()
        try:
            request = self._build_register(expires, credentials)
        except NetworkError as exc:  # the flow went away
            self._in_flight = False
            self._failed(None, exc.message, None)
            return
        self._in_flight = True
        self.endpoint.request(
            request, lambda outcome: self._on_outcome(outcome, expires), authenticate=False
        )

    def _build_register(self, expires: int, credentials: tuple[str, str] | None) -> Request:
        params = self.params
        self._cseq += 1
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{params.impu}>;tag={self._from_tag}")
        headers.add("To", f"<{params.impu}>")
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{self._cseq} REGISTER")
        headers.add("Contact", self.contact(expires=expires, register=True))
        headers.add("Expires", str(expires))
        headers.add("Supported", "path, gruu, outbound" if self._outbound else "path, gruu")
        headers.add("Allow", ALLOW)
        headers.add("User-Agent", params.user_agent)
        if credentials is not None:
            headers.add(*credentials)
        return Request("REGISTER", f"sip:{params.home_domain}", headers)

    # ------------------------------------------------------------------ outcomes

    def _on_outcome(self, outcome: RequestOutcome, expires: int) -> None:
        self._in_flight = False
        if expires == 0:
            self._on_deregister_outcome(outcome)
            return
        if not self._active:
            return
        verdict = classify(outcome.status)
        response = outcome.response
        if response is None or verdict is Verdict.RETRY:
            self._failed(outcome.status, outcome.reason or "no answer", response)
        elif verdict is Verdict.REGISTERED:
            self._registered(response, expires)
        elif verdict is Verdict.CHALLENGED:
            self._challenged(response, expires)
        elif verdict is Verdict.INTERVAL_TOO_BRIEF:
            self._too_brief(response, expires)
        else:
            self._give_up(response.status, response.reason or "refused", refused=True)

    def _registered(self, response: Response, expires: int) -> None:
        try:
            granted = granted_expires(response, self.contact_uri, self.params.sip_instance, expires)
            service_route = tuple(a.uri for a in response.addresses("Service-Route"))
            path = tuple(a.uri for a in response.addresses("Path"))
            associated = tuple(a.uri for a in response.addresses("P-Associated-URI"))
        except (ParseError, NetworkError) as exc:
            self._failed(None, f"malformed {response.status} to REGISTER: {exc}", None)
            return
        if granted <= 0:
            self._failed(response.status, "the registrar granted no time", None)
            return
        now = self.endpoint.now()
        self.expires, self.expires_at = granted, now + granted
        self.service_route, self.path, self.associated_uris = service_route, path, associated
        self._failures = self._attempts = 0
        self._schedule(now + refresh_delay(granted), self._attempt)
        self._set_state("registered", response.status, response.reason)
        self._wake(None)
        if self.params.subscribe_reg_event and not self.reg_event.active:
            self.reg_event.subscribe()

    def _challenged(self, response: Response, expires: int) -> None:
        stale = False
        try:
            challenges = [c for raw in _challenge_values(response) for c in parse_challenges(raw)]
            stale = any(c.stale for c in challenges)
        except ParseError as exc:
            self._give_up(response.status, f"unreadable challenge: {exc}", refused=True)
            return
        if (self._answered and not (stale or self._resync_sent)) or self._rounds >= MAX_AUTH_ROUNDS:
            self._give_up(
                response.status,
                f"credentials refused ({response.status} {response.reason} again)",
                refused=True,
            )
            return
        header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        try:
            value = self._answer(challenges)
        except (ParseError, AuthenticationError, LocalProtocolError) as exc:
            self._give_up(response.status, f"cannot answer the challenge: {exc}", refused=True)
            return
        if value is None:
            self._give_up(response.status, "no credentials fit the challenge", refused=True)
            return
        self._rounds += 1
        self._answered += 1
        self._send_register(expires, (header, value))

    def _too_brief(self, response: Response, expires: int) -> None:
        minimum = min_expires(response)
        if minimum is None or minimum <= expires or self._rounds >= MAX_AUTH_ROUNDS:
            self._give_up(423, "Interval Too Brief without a usable Min-Expires", refused=True)
            return
        self._requested = minimum
        self._rounds += 1
        self._send_register(minimum, self._authorization)

    def _failed(self, status: int | None, reason: str, response: Response | None) -> None:
        """An attempt failed in a way worth retrying: back off, then the next P-CSCF."""
        if not self._active:
            return
        self._failures += 1
        self._attempts += 1
        if self.max_attempts is not None and self._attempts >= self.max_attempts:
            self._give_up(status, reason, refused=False)
            return
        delay = retry_delay(
            self._failures,
            base=self.params.reg_retry_base_time,
            maximum=self.params.reg_retry_max_time,
            retry_after=retry_after(response),
        )
        self.pcscf_index = (self.pcscf_index + 1) % len(self.params.pcscfs)
        self._schedule(self.endpoint.now() + delay, self._attempt)
        self._set_state("registering", status, f"{reason}; retrying in {delay:g} s")

    def _give_up(self, status: int | None, reason: str, *, refused: bool) -> None:
        self._active = False
        self._cancel_timer()
        self.reg_event.reset()
        self.expires = self.expires_at = None
        self._set_state("failed", status, reason)
        hint = None
        if status == 403 and self.params.reprovision_on_403:
            hint = "The network refused this SIM; its configuration is provisioned again."
        self._wake(
            RegistrationFailed(
                f"SIM {self.params.slot}: registration failed: "
                + (f"{status} {reason}" if status is not None else reason),
                status=status,
                refused=refused,
                hint=hint,
            )
        )
        self.endpoint.disconnect()
        if status == 403 and self.params.reprovision_on_403 and self.on_reprovision is not None:
            self.on_reprovision(self)

    def _on_deregister_outcome(self, outcome: RequestOutcome) -> None:
        response = outcome.response
        if response is not None and response.status in (401, 407) and self._rounds == 0:
            try:
                challenges = [
                    c for raw in _challenge_values(response) for c in parse_challenges(raw)
                ]
                value = self._answer(challenges)
            except (ParseError, AuthenticationError, LocalProtocolError):
                value = None
            if value is not None:
                self._rounds += 1
                header = "Authorization" if response.status == 401 else "Proxy-Authorization"
                self._send_register(0, (header, value))
                return
        if self._deregistered is not None and not self._deregistered.done():
            self._deregistered.set_result(None)

    # ------------------------------------------------------------------ reg event, flow

    def apply_reg_event(self, action: RegEventAction) -> None:
        """Act on what a reg-event NOTIFY said about our binding (RFC 3680 §5.1.2)."""
        if not self._active or action.kind == "none":
            return
        now = self.endpoint.now()
        if action.kind in ("expires", "refresh") and action.expires is not None:
            changed = action.expires != self.expires
            self.expires, self.expires_at = action.expires, now + action.expires
            if changed or action.kind == "refresh":
                self._schedule(now + refresh_delay(action.expires), self._attempt)
                self._set_state("registered", reason=f"reg event: {action.event}")
        elif action.kind == "refresh":
            self._schedule(now, self._attempt)
        elif action.kind == "reregister":
            self.expires = self.expires_at = None
            self._failures = 0
            self._schedule(now + action.delay, self._attempt)
            self._set_state("registering", reason=f"reg event: contact {action.event}")
        elif action.kind == "stop":
            self._give_up(403, "the network rejected the registration (reg event)", refused=True)

    def _flow_lost(self) -> None:
        if self._active and not self._in_flight and self.state == "registered":
            self._failed(None, "connection to the P-CSCF lost", None)

    # ------------------------------------------------------------------ credentials

    def authorize(self, challenge: Challenge, request: Request, status: int) -> str | None:
        """Answer a digest challenge to a request other than REGISTER (the endpoint's
        authorizer); AKA challenges are answered only for REGISTER."""
        auth = self.params.auth
        if not isinstance(auth, DigestCredentials) or not challenge.is_digest or challenge.is_aka:
            return None
        if auth.realm is not None and challenge.realm not in (None, auth.realm):
            return None
        try:
            return build_authorization(
                challenge,
                method=request.method,
                uri=request.uri,
                username=auth.username,
                password=auth.password,
                cnonce=self.endpoint.new_id(),
                nc=self._nonces.next(challenge.nonce or ""),
                body=request.body,
            )
        except (ParseError, LocalProtocolError):
            return None

    def _answer(self, challenges: list[Challenge]) -> str | None:
        params, uri = self.params, f"sip:{self.params.home_domain}"
        auth = params.auth
        if isinstance(auth, AkaCredentials):
            challenge = next((c for c in challenges if c.is_digest and c.is_aka), None)
            if challenge is None:
                return None
            answer = answer_aka_challenge(
                challenge,
                self._usim_for(auth),
                method="REGISTER",
                uri=uri,
                username=params.impi,
                cnonce=self.endpoint.new_id(),
                nc=self._nonces.next(challenge.nonce or ""),
            )
            self._resync_sent = answer.outcome is AkaOutcome.SYNC_FAILURE
            if answer.outcome is AkaOutcome.AUTHENTICATED and self._store is not None:
                self._save_sqn()
            return answer.authorization
        challenge = _best_digest(challenges, auth.realm)
        if challenge is None:
            return None
        self._challenge = challenge
        self._resync_sent = False
        return self._digest_answer(auth, challenge)

    def _digest_answer(self, auth: DigestCredentials, challenge: Challenge) -> str:
        value = build_authorization(
            challenge,
            method="REGISTER",
            uri=f"sip:{self.params.home_domain}",
            username=auth.username,
            password=auth.password,
            cnonce=self.endpoint.new_id(),
            nc=self._nonces.next(challenge.nonce or ""),
        )
        self._authorization = ("Authorization", value)
        return value

    def _refresh_credentials(self) -> tuple[str, str] | None:
        """Credentials for a REGISTER that answers no challenge (first one, refreshes)."""
        params, auth = self.params, self.params.auth
        if isinstance(auth, AkaCredentials):
            value = build_initial_authorization(
                params.impi, params.home_domain, algorithm="AKAv1-MD5"
            )
            return ("Authorization", value)
        if self._challenge is not None:
            try:
                return ("Authorization", self._digest_answer(auth, self._challenge))
            except (ParseError, LocalProtocolError):
                self._challenge = None
        return None

    def _usim_for(self, auth: AkaCredentials) -> Usim:
        if self._usim is None:
            stored = self._store.load() if self._store is not None else None
            sqn = auth.sqn if stored is None else max(stored, auth.sqn)
            self._usim = Usim(auth.k, auth.opc, sqn, amf=auth.amf)
        return self._usim

    def _save_sqn(self) -> None:
        if self._store is not None and self._usim is not None:
            try:
                self._store.save(self._usim.sqn)
            except OSError as exc:
                log.warning("SIM %s: cannot save the USIM SQN: %s", self.params.slot, exc)

    # ------------------------------------------------------------------ helpers

    def _schedule(self, when: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self._timer = self.endpoint.call_at(when, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self, error: RegistrationFailed | None) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    def _set_state(
        self, state: RegistrationState, status: int | None = None, reason: str | None = None
    ) -> None:
        self.state, self.status, self.reason = state, status, reason
        if self.bus is not None:
            self.bus.publish(
                RegistrationChanged(
                    sim=self.params.slot,
                    state=state,
                    impu=self.default_impu,
                    expires=self.expires,
                    service_route=self.service_route,
                    associated_uris=self.associated_uris,
                    status=status,
                    reason=reason,
                )
            )


def _challenge_values(response: Response) -> list[str]:
    name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
    return response.headers.get_all(name)


def _best_digest(challenges: list[Challenge], realm: str | None) -> Challenge | None:
    usable = [
        c
        for c in challenges
        if c.is_digest and not c.is_aka and (realm is None or c.realm in (None, realm))
    ]

    def rank(challenge: Challenge) -> int:
        name = (challenge.algorithm or "MD5").upper()
        return _DIGEST_PREFERENCE.index(name) if name in _DIGEST_PREFERENCE else 99

    usable.sort(key=rank)
    return usable[0] if usable and rank(usable[0]) < 99 else None


def _user_part(impu: str) -> str | None:
    try:
        uri = cached_parse_uri(impu)
    except ParseError:
        return None
    if isinstance(uri, SipUri):
        return uri.user
    if isinstance(uri, TelUri):
        return uri.number
    return None


class RegEventSubscription:
    """The subscription of one registration to its own state (RFC 3680, RFC 6665).

    Once registered, ``SUBSCRIBE <IMPU>`` with ``Event: reg`` goes out through the
    Service-Route; the 2xx makes a dialog that is refreshed like the registration and ended
    with ``Expires: 0`` on de-registration. Each NOTIFY is answered (200, 400 for an
    unreadable body, 481 for another dialog) and what it says about our contact goes to
    :meth:`Registration.apply_reg_event`. A network that refuses the subscription (489, 403,
    405...) leaves the registration as it is: the event is only an addition.

    Attributes:
        state: ``none``, ``pending``, ``active``, ``terminated`` or ``failed``.
        reason: why it is terminated or failed.
        last: the last reginfo document received.
    """

    def __init__(self, registration: Registration) -> None:
        self.registration = registration
        self.endpoint = registration.endpoint
        self.dialog: Dialog | None = None
        self.call_id: str | None = None
        self.state = "none"
        self.reason: str | None = None
        self.last: RegInfo | None = None
        self._timer: Scheduled | None = None
        self.endpoint.on_request("NOTIFY", self.on_notify)

    @property
    def active(self) -> bool:
        """True while a subscription is being made or is up."""
        return self.state in ("pending", "active")

    def subscribe(self) -> None:
        """Send the initial SUBSCRIBE (a fresh dialog)."""
        reg, params = self.registration, self.registration.params
        self.reset()
        self.call_id = f"{self.endpoint.new_id()}{self.endpoint.new_id()}"
        headers = Headers()
        for route in reg.routes:
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{params.impu}>;tag={self.endpoint.new_id()}")
        headers.add("To", f"<{params.impu}>")
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", "1 SUBSCRIBE")
        headers.add("Contact", reg.contact())
        headers.add("Event", "reg")
        headers.add("Accept", REGINFO)
        headers.add("Expires", str(params.subscribe_expires))
        headers.add("User-Agent", params.user_agent)
        self.state = "pending"
        self.endpoint.request(Request("SUBSCRIBE", params.impu, headers), self._on_answer)

    def unsubscribe(self) -> None:
        """End the subscription (``Expires: 0``), without waiting for the answer."""
        if self.dialog is not None and self.state == "active" and self.endpoint.is_connected:
            self._send_in_dialog(0)
        self.reset()

    def reset(self) -> None:
        """Forget the subscription (no message is sent)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.dialog, self.call_id = None, None
        if self.active:
            self.state = "none"

    def _send_in_dialog(self, expires: int) -> None:
        assert self.dialog is not None
        request = self.dialog.create_request(
            "SUBSCRIBE",
            extra_headers=[
                ("Event", "reg"),
                ("Accept", REGINFO),
                ("Expires", str(expires)),
                ("User-Agent", self.registration.params.user_agent),
            ],
        )
        self.endpoint.request(request, self._on_answer if expires else _ignore)

    def _refresh(self) -> None:
        self._timer = None
        if self.dialog is not None and self.endpoint.is_connected:
            self._send_in_dialog(self.registration.params.subscribe_expires)

    def _on_answer(self, outcome: RequestOutcome) -> None:
        response = outcome.response
        if outcome.request.call_id != self.call_id:
            return
        if response is None or not 200 <= response.status < 300:
            self.state, self.reason = "failed", f"{outcome.status} {outcome.reason}".strip()
            log.info(
                "SIM %s: reg event not available: %s", self.registration.params.slot, self.reason
            )
            return
        try:
            if self.dialog is None:
                self.dialog = Dialog.from_uac(outcome.request, response)
            else:
                self.dialog.receive_response(response)
            raw = (response.headers.get("Expires") or "").strip()
            expires = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
        except (ParseError, LocalProtocolError) as exc:
            self.state, self.reason = "failed", f"malformed answer: {exc}"
            return
        granted = self.registration.params.subscribe_expires if expires is None else expires
        if granted <= 0:
            self.state = "terminated"
            return
        self.state = "active"
        if self._timer is not None:
            self._timer.cancel()
        when = self.endpoint.now() + refresh_delay(granted)
        self._timer = self.endpoint.call_at(when, self._refresh)

    def on_notify(self, request: Request, key: object) -> Response:
        """Answer a NOTIFY and act on its reginfo (the endpoint's NOTIFY handler)."""
        event = (request.headers.get("Event") or "").split(";", 1)[0].strip().lower()
        if self.call_id is None or request.call_id != self.call_id or event != "reg":
            return build_response(request, 481)
        if self.dialog is not None:
            status = self.dialog.receive_request(request)
            if status is not None:
                return build_response(request, status)
        info: RegInfo | None = None
        if request.body:
            try:
                info = parse_reginfo(request.body)
            except ParseError as exc:
                reason = "".join(c if c.isprintable() else " " for c in exc.reason)[:60]
                return build_response(request, 400, f"Bad reginfo ({reason})")
        ended = self._subscription_state(request.headers.get("Subscription-State") or "")
        reg = self.registration
        action = RegEventAction("none")
        if info is not None:
            self.last = info
            aors = (reg.params.impu, *reg.params.impus, *reg.associated_uris)
            action = reginfo_action(info, aors, reg.contact_uri, reg.params.sip_instance)
            reg.apply_reg_event(action)
        if ended in ("deactivated", "timeout") and reg.is_registered and action.kind == "none":
            # the binding stays but the subscription ended: subscribe again (a binding that
            # goes is subscribed again once it is registered again)
            self._timer = self.endpoint.call_at(self.endpoint.now(), self.subscribe)
        return build_response(request, 200)

    def _subscription_state(self, value: str) -> str | None:
        """Apply Subscription-State; returns the reason when it says ``terminated``."""
        state, _, params = value.partition(";")
        state = state.strip().lower()
        if state != "terminated":
            if state == "active":
                self.state = "active"
            return None
        reason = ""
        for item in params.split(";"):
            name, _, text = item.partition("=")
            if name.strip().lower() == "reason":
                reason = text.strip().lower()
        self.reset()
        self.state, self.reason = "terminated", reason or None
        return reason


def _ignore(outcome: RequestOutcome) -> None:
    """A callback for requests whose answer does not matter (an unsubscribe)."""
