"""One SIM's pjsip account: its configuration and its IMS registration.

:class:`PjsipConfig` is everything a pjsip SIM needs, built by hand or from the native
engine's :class:`~rcs_terminal.engine.ims_params.ImsParams` (:meth:`PjsipConfig.from_ims_params`).
:func:`account_config` turns it into a ``pjsua2.AccountConfig`` that registers like the
native engine does (TS 24.229 §5.1.1; provisioning_sip.md §3): REGISTER ``sip:<home
domain>`` through the P-CSCF as outbound proxy (a literal address, never resolved), From/To
the IMPU, a first REGISTER with empty credentials, digest on the 401, and a Contact carrying
``+sip.instance`` and the UP 2.4 feature tags (:mod:`rcs_terminal.engine.feature_tags`).
pjsip refreshes the binding itself before it expires.

Differences from the native engine, all forced by the binding:

- **no IMS AKA**: the wheel is built without ``PJSIP_HAS_DIGEST_AKA_AUTH`` (handing it AKA
  credentials aborts the process in an assertion, measured with 2.15.1.post1), and pjsip's
  Milenage takes OP where our SIM profile may hold only OPc. AKA SIMs get
  :class:`~rcs_terminal.errors.NativeEngineRequiredError`;
- no P-CSCF failover (the first P-CSCF is used), no RFC 5626 ``reg-id``, no reg-event
  subscription, and no automatic retry after a failure (``retryIntervalSec = 0``): a failure
  is reported as :class:`~rcs_terminal.engine.registration.RegistrationFailed`;
- the User-Agent is per process (one pjsip endpoint), the first SIM's.

:class:`RegistrationTracker` turns pjsua's ``onRegStarted``/``onRegState`` callbacks into
:class:`~rcs_terminal.domain.events.RegistrationChanged` events; it is pure, so it is tested
without pjsip. :func:`make_account` builds the ``pjsua2.Account`` subclass whose callbacks
feed a SIM's handlers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from rcs_terminal.domain.events import RegistrationChanged, RegistrationState
from rcs_terminal.engine.feature_tags import DEFAULT_SERVICES, contact_tags
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import NativeEngineRequiredError, ParseError, ProfileError
from rcs_terminal.protocol.sip.features import format_feature_tags
from rcs_terminal.protocol.sip.message import Response, parse_message
from rcs_terminal.protocol.sip.params import Params
from rcs_terminal.protocol.sip.uri import SipUri, TelUri, cached_parse_uri

if TYPE_CHECKING:
    from rcs_terminal.engine.ims_params import ImsParams
    from rcs_terminal.engine.pjsip.library import PjsipLibrary, TransportHandle

__all__ = [
    "AccountHandlers",
    "PjsipConfig",
    "RegistrationTracker",
    "account_config",
    "contact",
    "make_account",
    "proxy_uri",
]

Transport = Literal["udp", "tcp", "tls"]
DEFAULT_USER_AGENT = "rcs-terminal (pjsip engine)"


@dataclass(frozen=True)
class PjsipConfig:
    """What one pjsip SIM needs.

    Attributes:
        pcscf: the P-CSCF (outbound proxy): a literal address and port.
        home_domain: the home network domain (REGISTER ``sip:<domain>``; the realm unless
            ``realm`` says otherwise).
        impi: the private user identity.
        impu: the public user identity to register (``sip:`` or ``tel:``).
        username: the digest user name (often the IMPI).
        password: the digest password.
        sip_instance: the ``+sip.instance`` value, ``<urn:gsma:imei:...>``.
        transport: ``udp``, ``tcp`` or ``tls`` (TLS through pjsip uses OpenSSL 1.0.2k).
        realm: the realm the credentials are for; None answers any realm.
        services: the enabled services whose feature tags go in Contact.
        user_agent: the User-Agent (pjsip has one per process: the first SIM's wins).
        slot: the SIM slot written in events and traces.
        register_expires: the expiry asked for in REGISTER.
        local_host: the address pjsip binds the SIM's transport on.
        verify_tls: check the P-CSCF's certificate (TLS).
        ca_file: trusted CAs (PEM) for TLS, if any.
        switchover_size: the largest CPIM body sent in pager mode (``SwitchoverSize``).
    """

    pcscf: Address
    home_domain: str
    impi: str
    impu: str
    username: str
    password: str = field(repr=False)
    sip_instance: str
    transport: Transport = "udp"
    realm: str | None = None
    services: tuple[str, ...] = DEFAULT_SERVICES
    user_agent: str = DEFAULT_USER_AGENT
    slot: int = 1
    register_expires: int = 600000
    local_host: str = "127.0.0.1"
    verify_tls: bool = True
    ca_file: str | None = None
    switchover_size: int = 1300

    def __post_init__(self) -> None:
        if self.transport not in ("udp", "tcp", "tls"):
            raise ProfileError(f"pjsip SIM {self.slot}: unknown transport {self.transport!r}")
        if not (self.impu.startswith(("sip:", "sips:", "tel:"))):
            raise ProfileError(f"pjsip SIM {self.slot}: IMPU {self.impu!r} is not a URI")
        if not (self.sip_instance.startswith("<") and self.sip_instance.endswith(">")):
            raise ProfileError(
                f"pjsip SIM {self.slot}: +sip.instance must be written <urn:...>",
                hint='e.g. "<urn:gsma:imei:86000000-000001-0>"',
            )

    @property
    def contact_params(self) -> str:
        """The Contact parameters: ``;+sip.instance="<...>"`` and our feature tags."""
        tags: dict[str, list[str] | None] = {"+sip.instance": [self.sip_instance]}
        tags.update(contact_tags(self.services))
        return format_feature_tags(tags)

    @property
    def registrar_uri(self) -> str:
        """The REGISTER Request-URI, ``sip:<home domain>``."""
        return f"sip:{self.home_domain}"

    @classmethod
    def from_ims_params(cls, params: ImsParams, *, switchover_size: int = 1300) -> PjsipConfig:
        """Build the configuration from the native engine's registration parameters.

        Raises:
            NativeEngineRequiredError: the SIM authenticates with IMS AKA.
        """
        from rcs_terminal.engine.ims_params import DigestCredentials

        auth = params.auth
        if not isinstance(auth, DigestCredentials):
            raise NativeEngineRequiredError(
                f"SIM {params.slot} authenticates with IMS AKA: AKA needs the native engine",
                hint="The pjsua2 wheel is built without AKA; use the native engine for "
                "this SIM, or digest credentials.",
            )
        target = params.pcscfs[0]
        return cls(
            pcscf=target.address,
            home_domain=params.home_domain,
            impi=params.impi,
            impu=params.impu,
            username=auth.username,
            password=auth.password,
            sip_instance=params.sip_instance,
            transport=target.transport,
            realm=auth.realm,
            services=params.services,
            user_agent=params.user_agent,
            slot=params.slot,
            register_expires=params.register_expires,
            local_host=local_host_for(target.address),
            verify_tls=params.verify_tls,
            ca_file=params.ca_file,
            switchover_size=switchover_size,
        )


def local_host_for(remote: Address) -> str:
    """Where to bind for ``remote``: its own loopback address, else every interface."""
    try:
        address = ipaddress.ip_address(remote.host)
    except ValueError:
        return "0.0.0.0"
    if address.is_loopback:
        return str(address)
    return "::" if address.version == 6 else "0.0.0.0"


def proxy_uri(config: PjsipConfig) -> str:
    """The outbound proxy route: ``sip:<P-CSCF>[;transport=tcp|tls];lr`` (loose routing)."""
    host = config.pcscf.host
    shown = f"[{host}]" if ":" in host else host
    transport = "" if config.transport == "udp" else f";transport={config.transport}"
    return f"sip:{shown}:{config.pcscf.port}{transport};lr"


def contact(config: PjsipConfig, local: Address) -> str:
    """Our whole Contact value: ``<sip:user@host:port[;transport=tcp]>`` and the parameters.

    pjsua builds Contacts in a 256-byte buffer, too small for the UP feature tags (it
    fails with ``PJ_ETOOSMALL``), so the value is given whole (``contactForced``).
    """
    host = f"[{local.host}]" if ":" in local.host else local.host
    params = (
        Params()
        if config.transport == "udp"
        else Params.from_wire([("transport", config.transport)])
    )
    uri = SipUri("sip", _user_part(config.impu), host, local.port, params=params)
    return f"<{uri}>{config.contact_params}"


def _user_part(impu: str) -> str | None:
    try:
        uri = cached_parse_uri(impu)
    except ParseError:
        return None
    if isinstance(uri, TelUri):
        return uri.digits
    if isinstance(uri, SipUri):
        return uri.user
    return None


def account_config(pj: Any, config: PjsipConfig, transport: TransportHandle) -> Any:
    """The ``pjsua2.AccountConfig`` of a SIM (see the module docstring).

    Args:
        pj: the pjsua2 module.
        config: the SIM's configuration.
        transport: the SIM's own pjsip transport.
    """
    account = pj.AccountConfig()
    account.idUri = config.impu
    account.regConfig.registrarUri = config.registrar_uri
    account.regConfig.timeoutSec = config.register_expires
    account.regConfig.retryIntervalSec = 0
    account.regConfig.registerOnAdd = True
    account.sipConfig.proxies.append(proxy_uri(config))
    account.sipConfig.authCreds.append(
        pj.AuthCredInfo(
            "Digest", config.realm or config.home_domain, config.username, 0, config.password
        )
    )
    account.sipConfig.authInitialEmpty = True
    account.sipConfig.contactForced = contact(config, transport.local)
    account.sipConfig.transportId = transport.id
    nat = account.natConfig
    nat.iceEnabled = False
    nat.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
    nat.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
    nat.sipOutboundUse = 0
    nat.contactRewriteUse = 0
    nat.viaRewriteUse = 0
    return account


# --------------------------------------------------------------------------- registration


@dataclass
class RegistrationTracker:
    """Follows pjsua's registration callbacks and says which event to publish.

    Args:
        slot: the SIM slot of the events.
        impu: the registered identity.
    """

    slot: int
    impu: str
    state: RegistrationState = "unregistered"
    status: int | None = None
    reason: str | None = None
    expires: int | None = None

    def started(self, renew: bool) -> RegistrationChanged | None:
        """``onRegStarted``: a REGISTER (``renew``) or an un-REGISTER goes out."""
        if renew:
            if self.state == "registered":
                return None  # a refresh: nothing changes for the user
            return self._move("registering")
        return self._move("deregistering")

    def finished(
        self, code: int, reason: str, expiration: int, response: bytes = b""
    ) -> RegistrationChanged | None:
        """``onRegState``: the final answer to the last REGISTER.

        Args:
            code: its status (pjsua reports 408/503 for timeouts and transport failures).
            reason: its reason phrase.
            expiration: the granted expiry (0 after an un-REGISTER).
            response: the response bytes, for Service-Route and P-Associated-URI.
        """
        self.status, self.reason = code, reason
        if self.state == "deregistering" or (200 <= code < 300 and expiration <= 0):
            self.expires = None
            return self._move("deregistered", force=True)
        if 200 <= code < 300:
            routes, associated = _route_headers(response)
            changed = self.state != "registered" or self.expires != expiration
            self.expires = expiration
            self.state = "registered"
            if not changed:
                return None
            return RegistrationChanged(
                sim=self.slot,
                state="registered",
                impu=self.impu,
                expires=expiration,
                service_route=routes,
                associated_uris=associated,
                status=code,
                reason=reason,
            )
        self.expires = None
        return self._move("failed", force=True)

    @property
    def is_registered(self) -> bool:
        """True while the binding exists."""
        return self.state == "registered"

    def _move(self, state: RegistrationState, *, force: bool = False) -> RegistrationChanged | None:
        if state == self.state and not force:
            return None
        self.state = state
        return RegistrationChanged(
            sim=self.slot,
            state=state,
            impu=self.impu,
            expires=self.expires,
            status=self.status,
            reason=self.reason,
        )


def _route_headers(data: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Service-Route and P-Associated-URI URIs of a 200 to REGISTER (unreadable: empty)."""
    if not data:
        return (), ()
    try:
        message = parse_message(data)
        if not isinstance(message, Response):
            return (), ()
        routes = tuple(a.uri for a in message.addresses("Service-Route"))
        associated = tuple(a.uri for a in message.addresses("P-Associated-URI"))
    except ParseError:
        return (), ()
    return routes, associated


# --------------------------------------------------------------------------- the account


class AccountHandlers(Protocol):
    """What a SIM does with its account's callbacks (each gets the SWIG parameter object,
    valid only during the call)."""

    def reg_started(self, prm: Any) -> None: ...

    def reg_state(self, prm: Any) -> None: ...

    def instant_message(self, prm: Any) -> None: ...

    def instant_message_status(self, prm: Any) -> None: ...

    def send_request_done(self, prm: Any) -> None: ...


def make_account(library: PjsipLibrary, handlers: AccountHandlers) -> Any:
    """A ``pjsua2.Account`` whose callbacks run ``handlers`` under the library's guard.

    Keep the returned object referenced until after ``shutdown()``: pjsua2 calls back into
    the Python object for as long as the account exists.
    """
    return _account_class(library.pj)(library, handlers)


@cache
def _account_class(pj: Any) -> type:
    class SimAccount(pj.Account):  # type: ignore[misc]
        def __init__(self, library: PjsipLibrary, handlers: AccountHandlers) -> None:
            super().__init__()
            self._library = library
            self._handlers = handlers

        def onRegStarted(self, prm: Any) -> None:
            self._library.guard(lambda: self._handlers.reg_started(prm))

        def onRegState(self, prm: Any) -> None:
            self._library.guard(lambda: self._handlers.reg_state(prm))

        def onInstantMessage(self, prm: Any) -> None:
            self._library.guard(lambda: self._handlers.instant_message(prm))

        def onInstantMessageStatus(self, prm: Any) -> None:
            self._library.guard(lambda: self._handlers.instant_message_status(prm))

        def onSendRequest(self, prm: Any) -> None:
            self._library.guard(lambda: self._handlers.send_request_done(prm))

    return SimAccount
