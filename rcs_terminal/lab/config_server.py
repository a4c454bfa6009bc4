"""The lab's RCC.14 configuration server (GSMA RCC.14 §2; provisioning_sip.md §1, §2).

It serves the lab's subscribers (:class:`~rcs_terminal.lab.subscribers.SubscriberDirectory`)
the way an operator's server serves handsets, on the lab's HTTP and HTTPS ports:

1. **Cookie probe** (``GET /`` without a query). The lab plays "on cellular, identified by
   the network": it answers 200 with ``Set-Cookie``; the cookie then stands for the bearer
   and is bound to the first IMSI that uses it.
2. **Configuration request** (``GET /?vers=...&IMSI=...``). An unknown IMSI gets 403, an
   ``msisdn`` that is not the subscriber's gets 403, a request without IMSI 400. The
   subscriber is identified by the probe cookie, or by a valid ``token`` from an earlier
   configuration (so a handset that skipped the probe reuses its token without an OTP).
   An unknown token without a cookie gets 511 (drop the token, start again).
3. **OTP** otherwise (or always, with the ``otp`` fault): a fresh 6-digit code goes to the
   subscriber's MSISDN through the lab SMS centre, as a data SMS to ``SMS_port`` (default
   37273) or as a text SMS when ``SMS_port`` is 0; the answer is 200 with a cookie and a
   document without ``VERS`` values (``POLICY/SMS_port``). The repeated request carries
   ``OTP=`` and that cookie. **A wrong or late OTP gets 403** and the code is discarded:
   one guess per code, then the client starts over.
4. **The answer**: the subscriber's configuration (:mod:`.config_documents`) with its
   version (1 unless :meth:`ConfigServer.set_version` says otherwise), ``validity``, the
   subscriber's token (issued once, reused until it expires) and the FT-HTTP credentials.
   A request whose ``vers`` equals the current version gets only ``VERS`` and ``TOKEN``
   ("keep what you have").

Failure modes (:mod:`.faults`) are switched on with :meth:`ConfigServer.set_fault`, or over
HTTP: ``GET /lab/faults`` lists them, ``POST /lab/faults`` with a fault's JSON adds one
(``{"kind": "503", "retry_after": 1, "imsi": "...", "once": 1}``) or with
``{"clear": true}`` (optionally ``"imsi"``) clears them, ``DELETE /lab/faults`` clears all.

Cookies, tokens, OTPs and FT passwords come from :mod:`secrets`; none is logged: the lab
trace masks them like the handset's.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.lab.config_documents import LabEndpoints, status_config, subscriber_config
from rcs_terminal.lab.faults import Fault, FaultSwitch, fault_from_json, make_fault
from rcs_terminal.lab.smsc import Smsc
from rcs_terminal.lab.subscribers import LabSubscriber, SubscriberDirectory
from rcs_terminal.protocol.provisioning import TermsMessage, build_config, build_otp_reply

COOKIE_NAME = "RCSLAB"
CONTENT_TYPE = "text/vnd.wap.connectivity-xml"
DEFAULT_SMS_PORT = 37273
OTP_SENDER = "10658"
MAX_SESSIONS = 10_000
"""Most live cookies kept; the oldest go first (a script hammering the probe cannot grow
the server without bound)."""
_EARLY_FAULTS = frozenset({"403", "511", "503", "500", "drop"})


@dataclass
class _Session:
    """What a cookie stands for: the probe's bearer, or a pending OTP."""

    kind: Literal["bearer", "otp"]
    expires: float
    imsi: str | None
    otp: str = ""


@dataclass
class _Account:
    """The server's per-subscriber state."""

    version: int = 1
    token: str | None = None
    token_until: float = 0.0
    ft_password: str = ""


class ConfigServer:
    """The RCC.14 configuration server of the lab.

    Args:
        directory: the subscribers it knows.
        smsc: where OTP SMS are sent.
        trace: the lab trace (OTP SMS are recorded there, masked).
        validity: ``VERS/validity`` of the configurations, in seconds.
        token_validity: ``TOKEN/validity``, in seconds.
        otp_lifetime: how long an OTP may be answered, in seconds.
        cookie_lifetime: how long a probe cookie identifies the bearer, in seconds.
        clock: Unix time source.
    """

    def __init__(
        self,
        directory: SubscriberDirectory,
        smsc: Smsc,
        *,
        trace: TraceRecorder | None = None,
        validity: int = 86400,
        token_validity: int = 30 * 86400,
        otp_lifetime: float = 300.0,
        cookie_lifetime: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.smsc = smsc
        self.trace = trace
        self.validity = validity
        self.token_validity = token_validity
        self.otp_lifetime = otp_lifetime
        self.cookie_lifetime = cookie_lifetime
        self.endpoints: LabEndpoints | None = None
        """The lab's addresses written into documents (set by the lab once it listens)."""
        self._clock = clock
        self._faults = FaultSwitch()
        self._sessions: dict[str, _Session] = {}
        self._accounts: dict[str, _Account] = {}

    # ------------------------------------------------------------------ switches

    def set_fault(self, kind: str, *, imsi: str | None = None, **options: Any) -> Fault:
        """Switch a failure mode on (see :mod:`rcs_terminal.lab.faults`).

        Args:
            kind: ``403``, ``511``, ``503``, ``500``, ``406``, ``drop``, ``version``,
                ``terms`` or ``otp``.
            imsi: only for this subscriber (default: everyone).
            options: ``once``, ``retry_after``, ``version``, ``validity``,
                ``accept_version``, ``title``, ``message``, ``accept_btn``, ``reject_btn``.

        Raises:
            ValueError: an unknown kind or option, or a value out of range.
        """
        return self._faults.add(make_fault(kind, imsi=imsi, **options))

    def clear_faults(self, imsi: str | None = None) -> int:
        """Switch off the faults of ``imsi`` (all when None); returns how many."""
        return self._faults.clear(imsi)

    @property
    def faults(self) -> list[Fault]:
        """The faults in force."""
        return list(self._faults)

    def set_version(self, imsi: str, version: int) -> None:
        """Make ``version`` (positive) the subscriber's current configuration version."""
        if version < 1:
            raise ValueError("use a version fault for 0, -1, -2 and -3")
        self._account(imsi).version = version

    def version_of(self, imsi: str) -> int:
        """The subscriber's current configuration version."""
        return self._account(imsi).version

    def ft_password(self, imsi: str) -> str:
        """The subscriber's FT-HTTP password (for the lab's file-transfer server)."""
        return self._account(imsi).ft_password

    def routes(self) -> list[web.RouteDef]:
        """aiohttp routes: ``GET /`` (RCC.14) and ``/lab/faults`` (GET, POST, DELETE)."""
        return [
            web.get("/", self._handle),
            web.get("/lab/faults", self._faults_get),
            web.post("/lab/faults", self._faults_post),
            web.delete("/lab/faults", self._faults_delete),
        ]

    # ------------------------------------------------------------------ RCC.14

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not request.query_string:
            return self._probe()
        query = request.query
        imsi = query.get("IMSI", "")
        if not imsi:
            return _text(400, "IMSI is required")
        sub = self.directory.by_imsi(imsi)
        if sub is None:
            return _text(403, "unknown subscriber")
        early = self._early_fault(imsi, query.get("provisioning_version", ""))
        if early is not None:
            return self._fault_response(early, request)
        now = self._clock()
        cookie = request.cookies.get(COOKIE_NAME, "")
        session = self._live_session(cookie, now)
        otp = query.get("OTP")
        if otp is not None:
            if (
                session is None
                or session.kind != "otp"
                or session.imsi != imsi
                or not secrets.compare_digest(session.otp.encode(), otp.encode())
            ):
                self._sessions.pop(cookie, None)
                return _text(403, "wrong or expired one-time password")
            self._sessions.pop(cookie, None)
            return self._configuration(sub, query, now)
        msisdn = query.get("msisdn", "")
        if msisdn and _digits(msisdn) != _digits(sub.msisdn):
            return _text(403, "the MSISDN does not belong to this IMSI")
        by_cookie = (
            session is not None and session.kind == "bearer" and session.imsi in (None, imsi)
        )
        if by_cookie and session is not None:
            session.imsi = imsi
        token = query.get("token", "")
        by_token = bool(token) and self._token_ok(imsi, token, now)
        if self._faults.take(imsi, ("otp",)) is not None or not (by_cookie or by_token):
            if token and not by_token and not by_cookie:
                return _text(511, "unknown or expired token")
            return self._send_otp(sub, query.get("SMS_port", ""), now)
        return self._configuration(sub, query, now)

    def _probe(self) -> web.Response:
        now = self._clock()
        cookie = self._new_session(_Session("bearer", now + self.cookie_lifetime, None), now)
        response = web.Response(status=200)
        response.headers["Set-Cookie"] = self._set_cookie(cookie, self.cookie_lifetime)
        return response

    def _send_otp(self, sub: LabSubscriber, port_text: str, now: float) -> web.Response:
        port = int(port_text) if port_text.isascii() and port_text.isdigit() else DEFAULT_SMS_PORT
        if port > 65535:
            port = DEFAULT_SMS_PORT
        code = f"{secrets.randbelow(1_000_000):06d}"
        cookie = self._new_session(_Session("otp", now + self.otp_lifetime, sub.imsi, code), now)
        if port:
            text = code
        else:
            minutes = max(1, round(self.otp_lifetime / 60))
            text = f"Your 5G Message verification code is {code}. It expires in {minutes} min."
        self.smsc.deliver(sub.msisdn, text, sender=OTP_SENDER, port=port)
        if self.trace is not None:
            note = f"SMS from {OTP_SENDER} to {sub.msisdn} port {port}\r\n\r\n***"
            self.trace.record(
                "out",
                "SMS",
                note.encode(),
                transport="radio",
                local=OTP_SENDER,
                remote=sub.msisdn,
                owner="lab",
            )
        response = web.Response(status=200, body=build_otp_reply(port), content_type=CONTENT_TYPE)
        response.headers["Set-Cookie"] = self._set_cookie(cookie, self.otp_lifetime)
        return response

    def _configuration(self, sub: LabSubscriber, query: Any, now: float) -> web.Response:
        account = self._account(sub.imsi)
        if not account.token or now >= account.token_until:
            account.token = secrets.token_urlsafe(24)
            account.token_until = now + self.token_validity
        token, token_validity = account.token, self.token_validity
        status = self._faults.take(sub.imsi, ("version",))
        if status is not None:
            config = status_config(status.version, status.validity, token, token_validity)
            return _document(build_config(config))
        terms = self._faults.take(sub.imsi, ("terms",))
        if terms is None and query.get("vers", "") == str(account.version):
            config = status_config(account.version, self.validity, token, token_validity)
            return _document(build_config(config))
        endpoints = self.endpoints or LabEndpoints(http_port=80)
        message = None
        if terms is not None:
            message = TermsMessage(terms.title, terms.message, terms.accept_btn, terms.reject_btn)
        config = subscriber_config(
            sub,
            endpoints,
            version=account.version,
            validity=self.validity,
            token=token,
            token_validity=token_validity,
            ft_password=account.ft_password,
            terms=message,
        )
        return _document(build_config(config))

    # ------------------------------------------------------------------ faults

    def _early_fault(self, imsi: str, provisioning_version: str) -> Fault | None:
        fault = self._faults.take(imsi, _EARLY_FAULTS)
        if fault is not None:
            return fault
        version_fault = self._faults.peek(imsi, ("406",))
        if version_fault is not None and provisioning_version != version_fault.accept_version:
            self._faults.consume(version_fault)
            return version_fault
        return None

    @staticmethod
    def _fault_response(fault: Fault, request: web.Request) -> web.Response:
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault.kind == "503":
            response = _text(503, "service unavailable")
            response.headers["Retry-After"] = str(fault.retry_after)
            return response
        if fault.kind == "406":
            response = _text(406, "provisioning_version not supported")
            response.headers["Supported-Versions"] = fault.accept_version
            return response
        reasons = {"403": "forbidden", "511": "network authentication required"}
        return _text(int(fault.kind), reasons.get(fault.kind, "internal error"))

    async def _faults_get(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": [fault.to_json() for fault in self._faults]})

    async def _faults_post(self, request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.read())
        except ValueError:
            return _text(400, "expected a JSON body")
        if isinstance(data, dict) and data.get("clear") is True:
            imsi = data.get("imsi")
            if imsi is not None and not isinstance(imsi, str):
                return _text(400, "imsi must be a string")
            return web.json_response({"cleared": self.clear_faults(imsi)})
        try:
            fault = self._faults.add(fault_from_json(data))
        except ValueError as exc:
            return _text(400, str(exc))
        return web.json_response({"fault": fault.to_json()}, status=201)

    async def _faults_delete(self, request: web.Request) -> web.Response:
        return web.json_response({"cleared": self.clear_faults(request.query.get("imsi"))})

    # ------------------------------------------------------------------ state

    def _account(self, imsi: str) -> _Account:
        account = self._accounts.get(imsi)
        if account is None:
            account = _Account(ft_password=secrets.token_urlsafe(12))
            self._accounts[imsi] = account
        return account

    def _token_ok(self, imsi: str, token: str, now: float) -> bool:
        account = self._accounts.get(imsi)
        if account is None or not account.token or now >= account.token_until:
            return False
        return secrets.compare_digest(account.token.encode(), token.encode())

    def _live_session(self, cookie: str, now: float) -> _Session | None:
        session = self._sessions.get(cookie) if cookie else None
        if session is not None and now >= session.expires:
            del self._sessions[cookie]
            return None
        return session

    def _new_session(self, session: _Session, now: float) -> str:
        if len(self._sessions) >= MAX_SESSIONS:
            for key in [k for k, s in self._sessions.items() if now >= s.expires]:
                del self._sessions[key]
            while len(self._sessions) >= MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
        cookie = secrets.token_urlsafe(24)
        self._sessions[cookie] = session
        return cookie

    @staticmethod
    def _set_cookie(cookie: str, lifetime: float) -> str:
        return f"{COOKIE_NAME}={cookie}; Path=/; Max-Age={int(lifetime)}; HttpOnly"


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n")


def _document(body: bytes) -> web.Response:
    return web.Response(status=200, body=body, content_type=CONTENT_TYPE)


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())
