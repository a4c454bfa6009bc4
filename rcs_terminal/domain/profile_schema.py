"""The device profile schema: the emulated handset and its one or two SIMs.

A profile is a YAML file (``schema_version: 1``) that says which handset the emulator plays
(vendor, model, firmware, RCS client, the values sent in RCC.14 configuration requests and
in the User-Agent) and which SIMs sit in its slots (identities, USIM credentials, where to
provision, or static IMS settings instead). The models here are the schema: unknown keys are
refused, every field is documented (attribute docstrings become the JSON Schema's
descriptions), values are not coerced (YAML's unquoted ``00`` is a number, not an MNC).

Identities follow 3GPP TS 23.003 (IMSI, IMEI, derived IMS identities, see
:mod:`rcs_terminal.domain.sim`) and the dual-SIM model of the design: each SIM provisions and
registers on its own, with its slot's IMEI. The value types are in
:mod:`rcs_terminal.domain.profile_types`; loading, built-in profiles and error reporting live
in :mod:`rcs_terminal.domain.profile`, which re-exports these models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rcs_terminal.domain import sim as ids
from rcs_terminal.domain.profile_types import (
    LAB,
    Domain,
    Hex4,
    Hex12,
    HostPort,
    Imei,
    Imsi,
    Language,
    Mcc,
    Minutes,
    Mnc,
    Msisdn,
    Port,
    ProvisioningUrl,
    PublicUri,
    Text,
    Token,
    count_items,
)
from rcs_terminal.domain.secrets import Key128, Secret
from rcs_terminal.errors import ProfileError

SCHEMA_VERSION = 1
"""The profile schema version this code reads."""


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True
    )


# ----------------------------------------------------------------------------- device


class OsInfo(_Model):
    """The handset's operating system."""

    name: Token = "Android"
    """OS name, sent in the User-Agent (``OS-<name>/<version>``)."""
    version: Token
    """OS version, e.g. ``"11"``."""


class ClientInfo(_Model):
    """The RCS client (messaging app) on the handset, as named in RCC.14 requests."""

    vendor: Token
    """Short client vendor code (``client_vendor``), e.g. ``"ZTE"`` or ``"SEC"``."""
    version: Token
    """Client version (``client_version``), ``<platform>-<major>.<minor>``, e.g.
    ``"RCSAndrd-2.4"``."""


class RcsInfo(_Model):
    """The RCS specification level the client announces when provisioning."""

    version: Token = "11.0"
    """``rcs_version``: ``"11.0"`` for UP 2.4 (RCC.07 v11.0)."""
    profile: Token = "UP_2.4"
    """``rcs_profile`` and the ``RCS-client/`` part of the User-Agent."""
    provisioning_version: Token = "5.0"
    """``provisioning_version``: ``"5.0"`` for UP 2.3/2.4."""


class Device(_Model):
    """The emulated handset."""

    vendor: Text
    """Terminal vendor (``terminal_vendor``), e.g. ``"ZTE"``."""
    model: Text
    """Terminal model (``terminal_model``), e.g. ``"Axon 30"``."""
    sw_version: Text
    """Terminal firmware version (``terminal_sw_version``), e.g. ``"MyOS11.0.7"``."""
    os: OsInfo
    """Operating system name and version."""
    client: ClientInfo
    """The RCS client's vendor code and version."""
    rcs: RcsInfo = RcsInfo()
    """RCS version, profile and provisioning version announced to the network."""
    user_agent: Text | None = None
    """Overrides the User-Agent derived from the fields above (UP pattern)."""
    language: Language = "zh-CN"
    """Language of the user interface, sent as ``Accept-Language``."""
    battery_minutes: Minutes | None = None
    """Battery time left, in minutes, reported to chatbots that ask for device specifics;
    unset means "not reported"."""


# ----------------------------------------------------------------------------- SIM


class Operator(_Model):
    """The SIM's home operator."""

    name: Text
    """Display name, e.g. ``"China Mobile"``."""
    mcc: Mcc
    """Mobile country code, 3 digits in quotes (``"460"``)."""
    mnc: Mnc
    """Mobile network code, 2 or 3 digits in quotes (``"00"``); keeps its leading zeros."""


class AkaAuth(_Model):
    """USIM credentials for IMS AKA (3GPP TS 33.203), computed with Milenage (TS 35.206)."""

    scheme: Literal["aka"]
    """``aka``: answer the network's AKAv1-MD5 challenges with the software USIM."""
    k: Key128
    """Subscriber key K: 32 hex digits, inline (lab) or ``env:NAME``."""
    opc: Key128 | None = None
    """Derived operator key OPc (give either ``opc`` or ``op``)."""
    op: Key128 | None = None
    """Operator key OP, from which OPc is computed (give either ``opc`` or ``op``)."""
    amf: Hex4 = "8000"
    """Authentication management field, 4 hex digits; the lab's authentication centre puts
    it in the challenges it issues for this SIM."""
    sqn: Hex12 = "000000000000"
    """Starting sequence number, 12 hex digits: the highest SQN the USIM has accepted, and
    the one the lab's authentication centre counts up from."""

    @model_validator(mode="after")
    def _one_operator_key(self) -> AkaAuth:
        if (self.opc is None) == (self.op is None):
            raise PydanticCustomError("aka_keys", "give exactly one of opc and op")
        return self


class DigestAuth(_Model):
    """Credentials for SIP digest (RFC 3261 §22, RFC 7616)."""

    scheme: Literal["digest"]
    """``digest``: answer challenges with a user name and password."""
    username: Text | None = None
    """User name; by default the one from the configuration (``UserName``), else the IMPI."""
    password: Secret | None = None
    """Password; normally delivered by the configuration (``UserPwd``). When given, the lab
    uses it for its subscriber and the client uses it if the configuration has none."""


class Provisioning(_Model):
    """Where and how the SIM fetches its configuration (GSMA RCC.14)."""

    url: ProvisioningUrl | None = None
    """Configuration server: a full ``http(s)://`` URL, or ``lab`` for the bundled lab
    (its address is given at run time). Default: derived from MCC/MNC."""
    https: bool = True
    """Use HTTPS for the configuration request when the server is derived from MCC/MNC."""
    sms_port: Port = 37273
    """``SMS_port`` sent in requests: where the OTP SMS is expected; 0 means plain SMS."""
    verify_tls: bool = True
    """Check the server's TLS certificate."""
    ca_file: Text | None = None
    """PEM file of extra trusted CAs (a path, relative to the profile file)."""
    token: Secret | None = None
    """A ``token`` from an earlier configuration, sent on the first request."""


class ImsAuth(_Model):
    """Static SIP digest credentials for the IMS core."""

    scheme: Literal["digest"]
    """Only ``digest`` is supported for static settings."""
    username: Text
    """Digest user name (often the IMPI)."""
    password: Secret
    """Digest password, inline (lab) or ``env:NAME``."""
    realm: Text | None = None
    """Expected realm; by default the one the challenge names."""


class ImsSettings(_Model):
    """Static IMS settings used instead of provisioning (labs, test cores)."""

    pcscf: tuple[HostPort, ...] = Field(strict=False, json_schema_extra={"minItems": 1})
    """P-CSCF addresses ``host:port``, tried in order (port defaults to 5060, 5061 for tls)."""
    transport: Literal["udp", "tcp", "tls"] = "tcp"
    """SIP transport to the P-CSCF."""
    home_domain: Domain
    """Home network domain (the REGISTER Request-URI)."""
    impi: Text
    """Private user identity, e.g. ``460001234500001@ims.mnc000.mcc460.3gppnetwork.org``."""
    impu: tuple[PublicUri, ...] = Field(strict=False, json_schema_extra={"minItems": 1})
    """Public user identities; the first is registered."""
    auth: ImsAuth | None = None
    """Digest credentials; without them the SIM's own ``auth`` is used."""

    @field_validator("pcscf", "impu", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        return count_items(value, 1, 16, "entries")


class Sim(_Model):
    """One SIM in one slot of the handset."""

    slot: Literal[1, 2]
    """Slot number, 1 or 2."""
    label: Text | None = None
    """Name shown in the UI, e.g. ``"工作"``; default: the operator name."""
    enabled: bool = True
    """Whether the SIM provisions and registers at start-up."""
    imei: Imei
    """IMEI of this slot (a dual-SIM handset has one per slot), 15 digits with a valid Luhn
    check digit; sent as ``IMEI`` and in ``+sip.instance``."""
    operator: Operator
    """Home operator of the SIM."""
    imsi: Imsi
    """IMSI: 15 digits starting with the operator's MCC and MNC."""
    msisdn: Msisdn
    """Phone number in E.164 form (``+86...``)."""
    auth: AkaAuth | DigestAuth = Field(discriminator="scheme")
    """How the SIM authenticates: ``{scheme: aka, ...}`` or ``{scheme: digest, ...}``."""
    provisioning: Provisioning | None = None
    """Provisioning settings; default: the RCC.14 server derived from MCC/MNC."""
    ims: ImsSettings | None = None
    """Static IMS settings that replace provisioning (then ``provisioning`` is not allowed)."""
    engine: Literal["native", "pjsip"] = "native"
    """SIP engine: the built-in one, or pjsip (optional extra) as a cross-check."""

    @field_validator("imsi")
    @classmethod
    def _imsi_matches_operator(cls, value: str, info: ValidationInfo) -> str:
        operator = info.data.get("operator")
        if isinstance(operator, Operator):
            prefix = operator.mcc + operator.mnc
            if not value.startswith(prefix):
                raise PydanticCustomError(
                    "imsi_prefix",
                    "the IMSI must start with the operator's MCC and MNC ({prefix})",
                    {"prefix": prefix},
                )
        return value

    @model_validator(mode="after")
    def _provisioning_or_ims(self) -> Sim:
        if self.provisioning is not None and self.ims is not None:
            raise PydanticCustomError(
                "provisioning_and_ims", "give either provisioning or static ims, not both"
            )
        return self

    # ------------------------------------------------------------------ derived identities

    @property
    def display_name(self) -> str:
        """The label, or the operator name."""
        return self.label or self.operator.name

    @property
    def known_operator(self) -> ids.KnownOperator | None:
        """The Chinese operator that owns the MCC/MNC, if known."""
        return ids.operator_for(self.operator.mcc, self.operator.mnc)

    @property
    def home_domain(self) -> str:
        """The static home domain, or the one derived from MCC/MNC (TS 23.003 §13)."""
        if self.ims is not None:
            return self.ims.home_domain
        return ids.home_network_domain(self.operator.mcc, self.operator.mnc)

    @property
    def impi(self) -> str:
        """The static IMPI, or ``<IMSI>@<home domain>`` until provisioning names one."""
        if self.ims is not None:
            return self.ims.impi
        return ids.default_impi(self.imsi, self.operator.mcc, self.operator.mnc)

    @property
    def impu(self) -> str:
        """The static IMPU, or the temporary ``sip:<IMSI>@<home domain>``."""
        if self.ims is not None:
            return self.ims.impu[0]
        return ids.temporary_impu(self.imsi, self.operator.mcc, self.operator.mnc)

    @property
    def tel_uri(self) -> str:
        """The MSISDN as a ``tel:`` URI."""
        return ids.tel_uri(self.msisdn)

    @property
    def sip_instance(self) -> str:
        """The ``+sip.instance`` value from this slot's IMEI (RFC 7255)."""
        return ids.sip_instance(self.imei)

    @property
    def config_server_fqdn(self) -> str:
        """The default RCC.14 configuration server for the MCC/MNC."""
        return ids.config_server_fqdn(self.operator.mcc, self.operator.mnc)

    def provisioning_url(self, lab_url: str | None = None) -> str:
        """Return the configuration server's base URL for this SIM.

        Args:
            lab_url: the running lab's config server URL, for ``provisioning.url: lab``.

        Raises:
            ProfileError: the SIM uses static IMS settings, or asks for the lab while no
                lab URL was given.
        """
        if self.ims is not None:
            raise ProfileError(f"SIM {self.slot} uses static IMS settings; it is not provisioned.")
        settings = self.provisioning or Provisioning()
        if settings.url == LAB:
            if lab_url is None:
                raise ProfileError(
                    f"SIM {self.slot} provisions from the lab, but no lab is running.",
                    hint="Use `rcs-terminal demo`, or start `rcs-terminal lab` first.",
                )
            return lab_url
        if settings.url is not None:
            return settings.url
        scheme = "https" if settings.https else "http"
        return f"{scheme}://{self.config_server_fqdn}"


# ----------------------------------------------------------------------------- profile


class Messaging(_Model):
    """Messaging preferences of the handset."""

    default_sim: Literal[1, 2] = 1
    """Slot of the SIM that sends new messages by default."""
    dual_rcs: Literal["both", "default_only"] = "both"
    """Which SIMs register for 5G Messages: both, or only the default SIM."""
    delivery_notifications: bool = True
    """Request and send IMDN delivery notifications (RFC 5438)."""
    displayed_notifications: bool = True
    """Send IMDN "displayed" notifications (read receipts) when a message is shown."""
    is_composing: bool = True
    """Send is-composing indications (RFC 3994) while typing."""
    default_sms_app: bool = True
    """Whether this client is the default SMS app (``default_sms_app`` 1 or 2)."""


class Profile(_Model):
    """A device profile: one handset and its SIMs."""

    schema_version: Literal[1]
    """Version of this schema; must be 1."""
    description: Text | None = None
    """One line shown by ``profile list``."""
    device: Device
    """The handset."""
    sims: tuple[Sim, ...] = Field(strict=False, json_schema_extra={"minItems": 1, "maxItems": 2})
    """One or two SIMs, in distinct slots."""
    messaging: Messaging = Messaging()
    """Messaging preferences."""

    _name: str | None = PrivateAttr(default=None)
    _source: str | None = PrivateAttr(default=None)

    @field_validator("schema_version", mode="before")
    @classmethod
    def _known_version(cls, value: Any) -> Any:
        if value != SCHEMA_VERSION or isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError(
                "schema_version",
                "unsupported schema_version {value}: this version of rcs-terminal reads "
                "schema_version 1",
                {"value": repr(value)[:20]},
            )
        return value

    @field_validator("sims", mode="before")
    @classmethod
    def _one_or_two(cls, value: Any) -> Any:
        return count_items(value, 1, 2, "SIMs")

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        issues: list[tuple[str, str]] = []
        seen_slots: set[int] = set()
        seen_imeis: dict[str, int] = {}
        for index, sim in enumerate(self.sims):
            if sim.slot in seen_slots:
                issues.append((f"sims[{index}].slot", f"slot {sim.slot} is used twice"))
            seen_slots.add(sim.slot)
            if sim.imei in seen_imeis:
                issues.append(
                    (
                        f"sims[{index}].imei",
                        f"same IMEI as sims[{seen_imeis[sim.imei]}]: each slot has its own IMEI",
                    )
                )
            seen_imeis.setdefault(sim.imei, index)
        default = next((s for s in self.sims if s.slot == self.messaging.default_sim), None)
        if default is None:
            issues.append(
                ("messaging.default_sim", f"there is no SIM in slot {self.messaging.default_sim}")
            )
        elif not default.enabled:
            issues.append(
                ("messaging.default_sim", f"the SIM in slot {default.slot} is not enabled")
            )
        if issues:
            raise PydanticCustomError(
                "profile_consistency", "{summary}", {"summary": issues[0][1], "issues": issues}
            )
        return self

    # ------------------------------------------------------------------ conveniences

    @property
    def name(self) -> str | None:
        """The profile's name (file name without ``.yaml``), when loaded from a file."""
        return self._name

    @property
    def source(self) -> str | None:
        """Where the profile was loaded from (a path), when loaded from a file."""
        return self._source

    @property
    def user_agent(self) -> str:
        """The User-Agent: ``device.user_agent`` or the UP string derived from the device."""
        device = self.device
        if device.user_agent is not None:
            return device.user_agent
        return ids.up_user_agent(
            terminal_vendor=device.vendor,
            terminal_model=device.model,
            terminal_sw_version=device.sw_version,
            client_vendor=device.client.vendor,
            client_version=device.client.version,
            os_name=device.os.name,
            os_version=device.os.version,
            rcs_profile=device.rcs.profile,
        )

    @property
    def enabled_sims(self) -> tuple[Sim, ...]:
        """The SIMs that start with the handset."""
        return tuple(s for s in self.sims if s.enabled)

    @property
    def default_sim(self) -> Sim:
        """The SIM that sends new messages by default."""
        return self.sim(self.messaging.default_sim)

    def sim(self, slot: int) -> Sim:
        """Return the SIM in ``slot``.

        Raises:
            ProfileError: the slot is empty.
        """
        for candidate in self.sims:
            if candidate.slot == slot:
                return candidate
        raise ProfileError(f"The profile has no SIM in slot {slot}.")

    def resolve_file(self, path: str) -> Path:
        """Resolve a path written in the profile (``ca_file``) against the profile's folder."""
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self._source is None:
            return candidate
        return Path(self._source).parent / candidate

    def with_origin(self, name: str | None, source: str | None) -> Profile:
        """Record the profile's name and file (used by the loader); returns ``self``."""
        self._name = name
        self._source = source
        return self
