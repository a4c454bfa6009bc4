"""Everything one SIM needs to register with the IMS core, in one value.

Registration, capability exchange and the SIP endpoint never read profiles or provisioning
documents: they read an :class:`ImsParams`, built either from the profile's static ``ims:``
block (:meth:`ImsParams.from_static`, labs and test cores) or from a provisioned RCC.14
configuration (:meth:`ImsParams.from_config`; provisioning_sip.md §2 for the parameter
names, §3 for how registration uses them).

P-CSCF addresses are never looked up in DNS (DESIGN.md, "Rules that keep it real"): an
address must be a literal IP, ``localhost``, or one of the running lab's host names, which
:attr:`LabInfo.names <rcs_terminal.engine.labinfo.LabInfo.names>` maps to literal addresses.
Secrets (the USIM keys, the digest password) stay out of ``repr``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from rcs_terminal.domain.profile import AkaAuth, DigestAuth, Profile, Sim
from rcs_terminal.engine.feature_tags import DEFAULT_SERVICES, services_from_config
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import ProfileError, ProvisioningError
from rcs_terminal.protocol.provisioning.config import RcsConfig
from rcs_terminal.protocol.sip.milenage import compute_opc
from rcs_terminal.protocol.sip.timers import TimerConfig

__all__ = [
    "AkaCredentials",
    "DigestCredentials",
    "ImsParams",
    "PcscfTarget",
    "Transport",
]

Transport = Literal["udp", "tcp", "tls"]

REG_RETRY_BASE_TIME = 30.0
"""RegRetryBaseTime when not provisioned (RFC 5626 §4.5 base time, flows failed)."""
REG_RETRY_MAX_TIME = 1800.0
"""RegRetryMaxTime when not provisioned (RFC 5626 §4.5 upper bound)."""
CAP_INFO_EXPIRY = 2592000.0
"""capInfoExpiry when not provisioned: 30 days, the UP default seen in handsets."""
NON_RCS_CAP_INFO_EXPIRY = 86400.0
"""nonRCScapInfoExpiry when not provisioned: one day (UNSURE: no source gives one)."""
DEFAULT_PORTS: dict[str, int] = {"udp": 5060, "tcp": 5060, "tls": 5061}
_TRANSPORT_WORDS: dict[str, Transport] = {
    "SIPoUDP": "udp",
    "SIPoTCP": "tcp",
    "SIPoTLS": "tls",
}
_LOCAL_NAMES = {"localhost": "127.0.0.1"}
_SPECIFIC_BOT_SEPARATORS = str.maketrans({",": " ", ";": " ", "|": " "})


@dataclass(frozen=True, slots=True)
class PcscfTarget:
    """One P-CSCF to try: where to connect and how.

    Attributes:
        address: the literal address and port.
        transport: ``udp``, ``tcp`` or ``tls``.
        name: the host name it was configured by (the TLS server name), None for a literal.
    """

    address: Address
    transport: Transport
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.transport}:{self.address}"


@dataclass(frozen=True, slots=True)
class AkaCredentials:
    """The software USIM's keys for IMS AKA (Milenage).

    Attributes:
        k: the subscriber key K.
        opc: OPc (computed from OP when the profile gives OP).
        amf: the AMF the USIM is provisioned with.
        sqn: the profile's starting SQN (the persisted one wins, see ``usim_store``).
    """

    k: bytes = field(repr=False)
    opc: bytes = field(repr=False)
    amf: bytes = b"\x80\x00"
    sqn: int = 0


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """SIP digest credentials.

    Attributes:
        username: the user name sent in Authorization (often the IMPI).
        password: the password.
        realm: the realm they are for; None answers any realm the server names.
    """

    username: str
    password: str = field(repr=False)
    realm: str | None = None


@dataclass(frozen=True)
class ImsParams:
    """The registration parameters of one SIM.

    Attributes:
        slot: the SIM slot (1 or 2).
        imsi: the SIM's IMSI (keys the persisted USIM state).
        home_domain: the home network domain (REGISTER Request-URI ``sip:<domain>``).
        impi: the private user identity (the authentication user name).
        impus: the public user identities; the first is registered.
        pcscfs: the P-CSCFs, in the order to try them.
        auth: AKA keys or digest credentials.
        user_agent: the User-Agent header (UP form, ``profile.user_agent``).
        sip_instance: the ``+sip.instance`` value, ``<urn:gsma:imei:...>`` from the slot IMEI.
        services: the enabled services (feature tags), see :mod:`.feature_tags`.
        timers: T1, T2, T4 for the transactions.
        reg_retry_base_time: RegRetryBaseTime: the first back-off after a failure (s).
        reg_retry_max_time: RegRetryMaxTime: the longest back-off (s).
        register_expires: the expiry asked for in REGISTER (the registrar may lower it).
        subscribe_reg_event: subscribe to the reg event (RFC 3680) once registered.
        subscribe_expires: the expiry asked for in the reg-event SUBSCRIBE.
        outbound: use RFC 5626 outbound (``reg-id``, ``Supported: outbound``) on TCP/TLS.
        cap_info_expiry: how long an RCS peer's capabilities stay cached (capInfoExpiry).
        non_rcs_cap_info_expiry: the same for non-RCS peers (nonRCScapInfoExpiry).
        specific_chatbots: SpecificChatbotsList entries (numbers or URIs that are bots).
        chatbot_host_labels: host labels that mark a chatbot platform (``botplatform``).
        verify_tls: check the P-CSCF's TLS certificate.
        ca_file: extra trusted CAs (PEM) for TLS, if any.
        reprovision_on_403: a 403 to REGISTER means "provision again" (provisioned SIMs).
    """

    slot: int
    imsi: str
    home_domain: str
    impi: str
    impus: tuple[str, ...]
    pcscfs: tuple[PcscfTarget, ...]
    auth: AkaCredentials | DigestCredentials = field(repr=False)
    user_agent: str
    sip_instance: str
    services: tuple[str, ...] = DEFAULT_SERVICES
    timers: TimerConfig = field(default_factory=TimerConfig)
    reg_retry_base_time: float = REG_RETRY_BASE_TIME
    reg_retry_max_time: float = REG_RETRY_MAX_TIME
    register_expires: int = 600000
    subscribe_reg_event: bool = True
    subscribe_expires: int = 600000
    outbound: bool = True
    cap_info_expiry: float = CAP_INFO_EXPIRY
    non_rcs_cap_info_expiry: float = NON_RCS_CAP_INFO_EXPIRY
    specific_chatbots: tuple[str, ...] = ()
    chatbot_host_labels: tuple[str, ...] = ("botplatform", "rbm")
    verify_tls: bool = True
    ca_file: str | None = None
    reprovision_on_403: bool = False

    def __post_init__(self) -> None:
        if not self.impus:
            raise ProfileError(f"SIM {self.slot} has no public user identity to register")
        if not self.pcscfs:
            raise ProfileError(f"SIM {self.slot} has no P-CSCF to register with")

    @property
    def impu(self) -> str:
        """The public identity that is registered (the first one)."""
        return self.impus[0]

    @property
    def is_aka(self) -> bool:
        """True when the SIM authenticates with IMS AKA."""
        return isinstance(self.auth, AkaCredentials)

    # ------------------------------------------------------------------ builders

    @classmethod
    def from_static(cls, profile: Profile, sim: Sim) -> ImsParams:
        """Build the parameters from the SIM's static ``ims:`` block (no provisioning).

        Credentials come from ``ims.auth`` when given, else from the SIM's own ``auth``.

        Raises:
            ProfileError: the SIM has no ``ims:`` block, a P-CSCF is a host name (names
                are not resolved), or the credentials are incomplete.
        """
        ims = sim.ims
        if ims is None:
            raise ProfileError(f"SIM {sim.slot} has no static ims: settings; provision it")
        auth: AkaCredentials | DigestCredentials
        if ims.auth is not None:
            auth = DigestCredentials(ims.auth.username, ims.auth.password.reveal(), ims.auth.realm)
        else:
            auth = _sim_credentials(sim, ims.impi, None)
        targets = tuple(
            _target(text, ims.transport, None, where=f"sims[{sim.slot}].ims.pcscf")
            for text in ims.pcscf
        )
        return cls(
            slot=sim.slot,
            imsi=sim.imsi,
            home_domain=ims.home_domain,
            impi=ims.impi,
            impus=tuple(ims.impu),
            pcscfs=targets,
            auth=auth,
            user_agent=profile.user_agent,
            sip_instance=sim.sip_instance,
        )

    @classmethod
    def from_config(
        cls, profile: Profile, sim: Sim, config: RcsConfig, *, lab: LabInfo | None = None
    ) -> ImsParams:
        """Build the parameters from a provisioned configuration.

        Identities fall back to the SIM's derived ones (``<IMSI>@<home domain>``) when the
        document leaves them out. P-CSCF host names map through ``lab.names``; a lab
        P-CSCF without a port uses the lab registrar's port for the transport.

        Raises:
            ProvisioningError: the configuration has no IMS settings or no P-CSCF.
            ProfileError: the SIM's credentials do not fit the configured AuthType, or a
                P-CSCF is a host name no one maps to an address.
        """
        ims = config.ims
        if ims is None:
            raise ProvisioningError(f"SIM {sim.slot}: the configuration has no IMS settings")
        if not ims.pcscf:
            raise ProvisioningError(f"SIM {sim.slot}: the configuration names no P-CSCF")
        transport = _TRANSPORT_WORDS.get(ims.transport or "", "tcp")
        home_domain = ims.home_domain or sim.home_domain
        impi = ims.impi or sim.impi
        impus = tuple(ims.impus) or (sim.impu,)
        targets = tuple(
            _target(
                f"[{p.host}]" if ":" in p.host else p.host,
                transport,
                p.port,
                where=f"SIM {sim.slot} P-CSCF",
                lab=lab,
            )
            for p in ims.pcscf
        )
        auth = _config_credentials(sim, ims.auth_type, impi, ims.username, ims.password, ims.realm)
        timers = TimerConfig.from_milliseconds(ims.timer_t1, ims.timer_t2, ims.timer_t4)
        capdisc = config.capdiscovery
        specific = config.messaging.chatbot.specific_chatbots_list or ""
        settings = sim.provisioning
        ca_file = None
        if settings is not None and settings.ca_file is not None:
            ca_file = str(profile.resolve_file(settings.ca_file))
        elif lab is not None:
            ca_file = lab.ca_file
        return cls(
            slot=sim.slot,
            imsi=sim.imsi,
            home_domain=home_domain,
            impi=impi,
            impus=impus,
            pcscfs=targets,
            auth=auth,
            user_agent=profile.user_agent,
            sip_instance=sim.sip_instance,
            services=services_from_config(config),
            timers=timers,
            reg_retry_base_time=float(ims.reg_retry_base_time or REG_RETRY_BASE_TIME),
            reg_retry_max_time=float(ims.reg_retry_max_time or REG_RETRY_MAX_TIME),
            cap_info_expiry=float(capdisc.cap_info_expiry or CAP_INFO_EXPIRY),
            non_rcs_cap_info_expiry=float(
                capdisc.non_rcs_cap_info_expiry or NON_RCS_CAP_INFO_EXPIRY
            ),
            specific_chatbots=tuple(specific.translate(_SPECIFIC_BOT_SEPARATORS).split()),
            verify_tls=settings.verify_tls if settings is not None else True,
            ca_file=ca_file,
            reprovision_on_403=True,
        )


# --------------------------------------------------------------------------- helpers


def _target(
    text: str,
    transport: Transport,
    port: int | None,
    *,
    where: str,
    lab: LabInfo | None = None,
) -> PcscfTarget:
    parsed = Address.parse(text, default_port=0)
    host = parsed.host
    chosen_port = port or parsed.port or 0
    name: str | None = None
    literal = _literal(host)
    if literal is None:
        name = host
        mapped = _LOCAL_NAMES.get(host.lower())
        if lab is not None:
            mapped = lab.names.get(host) or lab.names.get(host.lower()) or mapped
            if not chosen_port:
                lab_address = lab.sip_udp if transport == "udp" else lab.sip_tcp
                if lab_address:
                    chosen_port = Address.parse(lab_address).port
        if mapped is None:
            raise ProfileError(
                f"{where} {host!r} is a host name; rcs-terminal never looks names up in DNS",
                hint="Give the P-CSCF as a literal IP address (or use the lab, which maps "
                "its own names).",
            )
        host = Address.parse(mapped, default_port=0).host
    return PcscfTarget(Address(host, chosen_port or DEFAULT_PORTS[transport]), transport, name)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _aka(auth: AkaAuth) -> AkaCredentials:
    k = auth.k.reveal_bytes()
    if auth.opc is not None:
        opc = auth.opc.reveal_bytes()
    elif auth.op is not None:
        opc = compute_opc(k, auth.op.reveal_bytes())
    else:  # pragma: no cover - the profile schema requires one of them
        raise ProfileError("AKA credentials need opc or op")
    return AkaCredentials(k=k, opc=opc, amf=bytes.fromhex(auth.amf), sqn=int(auth.sqn, 16))


def _sim_credentials(sim: Sim, impi: str, realm: str | None) -> AkaCredentials | DigestCredentials:
    auth = sim.auth
    if isinstance(auth, AkaAuth):
        return _aka(auth)
    return _digest(sim, auth, impi, None, None, realm)


def _digest(
    sim: Sim,
    auth: DigestAuth | AkaAuth,
    impi: str,
    username: str | None,
    password: str | None,
    realm: str | None,
) -> DigestCredentials:
    profile_user = auth.username if isinstance(auth, DigestAuth) else None
    profile_password = auth.password if isinstance(auth, DigestAuth) else None
    secret = password or (profile_password.reveal() if profile_password is not None else None)
    if not secret:
        raise ProfileError(
            f"SIM {sim.slot} uses digest authentication but no password is known",
            hint="Give sims[].auth.password, or provision a configuration with UserPwd.",
        )
    return DigestCredentials(username or profile_user or impi, secret, realm)


def _config_credentials(
    sim: Sim,
    auth_type: str | None,
    impi: str,
    username: str | None,
    password: str | None,
    realm: str | None,
) -> AkaCredentials | DigestCredentials:
    if auth_type == "AKA" or (auth_type is None and isinstance(sim.auth, AkaAuth)):
        if not isinstance(sim.auth, AkaAuth):
            raise ProfileError(
                f"SIM {sim.slot}: the network asks for IMS AKA but the profile has digest "
                "credentials",
                hint="Give the SIM `auth: {scheme: aka, k: ..., opc: ...}`.",
            )
        return _aka(sim.auth)
    return _digest(sim, sim.auth, impi, username, password, realm)
