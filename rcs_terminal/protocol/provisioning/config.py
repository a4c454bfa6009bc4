"""The typed RCS configuration: what a handset needs from an RCC.14 document.

:class:`RcsConfig` is a read-only view of one configuration (GSMA RCC.14 / RCC.07 UP 2.4
parameter set, as laid out in provisioning_sip.md §2): the IMS identities and P-CSCFs that
registration needs, the service switches, the messaging limits (pager-mode switchover size,
file-transfer server, chatbot directory), capability-discovery timers and so on. Anything
the typed view does not name stays reachable through the generic tree
(:meth:`~.document.ProvisioningDocument.get`).

Each plain field declares where it lives (its parm path relative to its section) and how it
is read (``int``, ``str``, ``bool`` or one of a fixed set of words) in its dataclass field
metadata. The reader (:mod:`.reader`) and the builder (:mod:`.builder`) both walk that
metadata, so what the lab writes is exactly what the handset reads.

Secrets (the IMS password, the FT-HTTP password, the token) are excluded from ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

INT = "int"
STR = "str"
BOOL = "bool"
WORDS = "words"
LIST = "list"

Transport = Literal["SIPoUDP", "SIPoTCP", "SIPoTLS"]
AuthType = Literal["AKA", "Digest", "EarlyIMS"]
AddressType = Literal["FQDN", "IPv4", "IPv6"]

TRANSPORTS: tuple[Transport, ...] = ("SIPoUDP", "SIPoTCP", "SIPoTLS")
AUTH_TYPES: tuple[AuthType, ...] = ("AKA", "Digest", "EarlyIMS")
ADDRESS_TYPES: tuple[AddressType, ...] = ("FQDN", "IPv4", "IPv6")
WORD_SETS: dict[str, tuple[str, ...]] = {"transport": TRANSPORTS, "auth": AUTH_TYPES}
"""The canonical spellings of ``WORDS`` fields (read in any case)."""


def parm(kind: str, *paths: str, default: Any = None, secret: bool = False, words: str = "") -> Any:
    """Declare a field read from a parm (nested sections are declared with
    ``field(default_factory=cls, metadata={"section": path})``).

    Args:
        kind: ``INT``, ``STR``, ``BOOL``, ``WORDS`` (one of ``words``) or ``LIST``.
        paths: parm paths relative to the section, tried in order; the builder writes the
            first.
        default: the value when no path is present.
        secret: keep the value out of ``repr``.
        words: for ``WORDS`` fields, the key of their word set in :data:`WORD_SETS`.
    """
    return field(
        default=default,
        repr=not secret,
        metadata={"kind": kind, "paths": paths, "words": words},
    )


# --------------------------------------------------------------------------- small parts


@dataclass(frozen=True, slots=True)
class PcscfAddress:
    """One P-CSCF from ``LBO_P-CSCF_Address``.

    Attributes:
        host: FQDN or IP address (IPv6 without brackets).
        port: the port given with the address, or None (use the transport's default).
        address_type: ``FQDN``, ``IPv4`` or ``IPv6`` (inferred when the document omits it).
    """

    host: str
    port: int | None = None
    address_type: AddressType = "FQDN"


@dataclass(frozen=True, slots=True)
class TermsMessage:
    """The ``MSG`` characteristic: terms and conditions to show the user.

    Attributes:
        title: pop-up title.
        message: pop-up text.
        accept_btn: show an Accept button (the user must answer).
        reject_btn: show a Reject button (the user must answer; rejecting disables RCS).
    """

    title: str = parm(STR, "title", default="")
    message: str = parm(STR, "message", default="")
    accept_btn: bool = parm(BOOL, "Accept_btn", default=False)
    reject_btn: bool = parm(BOOL, "Reject_btn", default=False)

    @property
    def needs_answer(self) -> bool:
        """True when the client must wait for the user (either button is shown)."""
        return self.accept_btn or self.reject_btn


@dataclass(frozen=True, slots=True)
class AdditionalServer:
    """A configuration server named in ``ACCESS-CONTROL`` (provision with it too).

    Attributes:
        fqdn: the server's host name.
        id_provider: this server provides the identity (contact it first).
        app_ids: the applications it configures (empty: all).
        is_default: it came from the ``DEFAULT`` entry rather than a ``SERVER`` entry.
    """

    fqdn: str
    id_provider: bool = False
    app_ids: tuple[str, ...] = ()
    is_default: bool = False


# --------------------------------------------------------------------------- IMS


@dataclass(frozen=True, slots=True)
class ImsSettings:
    """The IMS application (``3GPP_IMS`` in UP 2.x, flat ``ap2001`` in older documents).

    Timers are in milliseconds as sent (``Timer_T1`` 2000 means 2 s); ``None`` means
    "not provisioned, keep the stack's defaults". Retry times are in seconds.
    """

    impi: str | None = parm(STR, "Private_User_Identity")
    impus: tuple[str, ...] = ()
    """Public user identities (sip: and tel:), in document order."""
    home_domain: str | None = parm(STR, "Home_network_domain_name")
    pcscf: tuple[PcscfAddress, ...] = ()
    """P-CSCFs in the order to try them."""
    # (RUF009 does not know these Literal aliases are immutable.)
    transport: Transport | None = parm(  # noqa: RUF009
        WORDS, "Ext/GSMA/transportProto/psSignalling", words="transport"
    )
    wifi_transport: Transport | None = parm(  # noqa: RUF009
        WORDS, "Ext/GSMA/transportProto/wifiSignalling", words="transport"
    )
    media_transport: str | None = parm(STR, "Ext/GSMA/transportProto/psMedia")
    auth_type: AuthType | None = parm(  # noqa: RUF009
        WORDS, "Ext/GSMA/AuthType", "APPAUTH/AuthType", words="auth"
    )
    realm: str | None = parm(STR, "Ext/GSMA/Realm", "APPAUTH/Realm")
    username: str | None = parm(STR, "Ext/GSMA/UserName", "APPAUTH/UserName")
    password: str | None = parm(STR, "Ext/GSMA/UserPwd", "APPAUTH/UserPwd", secret=True)
    timer_t1: int | None = parm(INT, "Timer_T1")
    timer_t2: int | None = parm(INT, "Timer_T2")
    timer_t4: int | None = parm(INT, "Timer_T4")
    reg_retry_base_time: int | None = parm(INT, "RegRetryBaseTime", "Ext/GSMA/RegRetryBaseTime")
    reg_retry_max_time: int | None = parm(INT, "RegRetryMaxTime", "Ext/GSMA/RegRetryMaxTime")
    keep_alive_enabled: bool | None = parm(BOOL, "Keep_Alive_Enabled")
    single_registration: int | None = parm(INT, "Ext/GSMA/rcsVolteSingleRegistration")
    app_ref: str | None = parm(STR, "Ext/GSMA/AppRef")
    uuid_value: str | None = parm(STR, "Ext/GSMA/uuid_Value")


# --------------------------------------------------------------------------- RCS


NOT_A_SERVICE = frozenset({"rcsdisabledstate", "supportedrcsprofileversions"})


@dataclass(frozen=True, slots=True)
class Services:
    """The ``SERVICES`` switches, every parm kept (0 = off).

    Attributes:
        values: ``(name, value)`` for every numeric SERVICES parm, in document order.
        text: parms whose value is not a number (e.g. ``SupportedRCSProfileVersions``).
        data_off: the ``Ext/DataOff`` switches (``rcsMessagingDataOff``...).
    """

    values: tuple[tuple[str, int], ...] = ()
    text: tuple[tuple[str, str], ...] = ()
    data_off: tuple[tuple[str, int], ...] = ()

    def get(self, name: str, default: int | None = None) -> int | None:
        """Return the value of the switch ``name`` (any case), or ``default``."""
        key = name.casefold()
        for parm_name, value in self.values:
            if parm_name.casefold() == key:
                return value
        return default

    def enabled_services(self) -> list[str]:
        """Return the names of the switches that are on (non-zero), in document order.

        ``rcsDisabledState`` is a state, not a service, and is never listed.
        """
        return [
            name for name, value in self.values if value and name.casefold() not in NOT_A_SERVICE
        ]

    @property
    def rcs_disabled_state(self) -> int | None:
        """``rcsDisabledState`` if sent (the value to report as ``rcs_state``)."""
        return self.get("rcsDisabledState")


@dataclass(frozen=True, slots=True)
class StandaloneMsgSettings:
    """``MESSAGING/StandaloneMsg``: CPM pager/large mode limits (bytes)."""

    max_size: int | None = parm(INT, "MaxSize")
    switchover_size: int = parm(INT, "SwitchoverSize", default=1300)
    """Largest payload sent in pager mode; larger goes in large-message mode."""
    exploder_uri: str | None = parm(STR, "exploder-uri")


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """``MESSAGING/Chat``: session chat settings."""

    max_adhoc_group_size: int | None = parm(INT, "max_adhoc_group_size")
    conf_fcty_uri: str | None = parm(STR, "conf-fcty-uri")
    aut_accept: int | None = parm(INT, "AutAccept")
    aut_accept_group_chat: int | None = parm(INT, "AutAcceptGroupChat")
    timer_idle: int | None = parm(INT, "TimerIdle")
    max_size: int | None = parm(INT, "MaxSize")
    chat_revoke_timer: int | None = parm(INT, "ChatRevokeTimer")
    reconnect_guard_timer: int | None = parm(INT, "reconnectGuardTimer")
    cfs_trigger: int | None = parm(INT, "cfsTrigger")


@dataclass(frozen=True, slots=True)
class FileTransferSettings:
    """``MESSAGING/FileTransfer``: file transfer over HTTP."""

    ft_warn_size: int | None = parm(INT, "ftWarnSize")
    max_size_file_tr: int | None = parm(INT, "MaxSizeFileTr")
    ft_aut_accept: int | None = parm(INT, "ftAutAccept")
    ft_http_cs_uri: str | None = parm(STR, "ftHTTPCSURI")
    ft_http_dl_uri: str | None = parm(STR, "ftHTTPDLURI")
    ft_http_cs_user: str | None = parm(STR, "ftHTTPCSUser")
    ft_http_cs_pwd: str | None = parm(STR, "ftHTTPCSPwd", secret=True)
    ft_http_fallback: str | None = parm(STR, "ftHTTPFallback")


@dataclass(frozen=True, slots=True)
class ChatbotSettings:
    """``MESSAGING/Chatbot``: chatbot directory, bot info and chatbot recognition."""

    chatbot_directory: str | None = parm(STR, "ChatbotDirectory")
    botinfo_fqdn_root: str | None = parm(STR, "BotinfoFQDNRoot")
    specific_chatbots_list: str | None = parm(STR, "SpecificChatbotsList")
    identity_in_enriched_search: int | None = parm(INT, "IdentityInEnrichedSearch")
    privacy_disable: int | None = parm(INT, "PrivacyDisable")
    chatbot_msg_tech: int | None = parm(INT, "ChatbotMsgTech")


@dataclass(frozen=True, slots=True)
class MessagingSettings:
    """``MESSAGING``: standalone, chat, file transfer and chatbot settings."""

    standalone: StandaloneMsgSettings = field(
        default_factory=StandaloneMsgSettings, metadata={"section": "StandaloneMsg"}
    )
    chat: ChatSettings = field(default_factory=ChatSettings, metadata={"section": "Chat"})
    file_transfer: FileTransferSettings = field(
        default_factory=FileTransferSettings, metadata={"section": "FileTransfer"}
    )
    chatbot: ChatbotSettings = field(
        default_factory=ChatbotSettings, metadata={"section": "Chatbot"}
    )
    max1_to_many_recipients: int | None = parm(INT, "max1ToManyRecipients")
    message_store_url: str | None = parm(STR, "MessageStore/MsgStoreUrl")


@dataclass(frozen=True, slots=True)
class CapDiscoverySettings:
    """``CAPDISCOVERY``: OPTIONS/presence capability discovery (times in seconds)."""

    polling_period: int | None = parm(INT, "pollingPeriod")
    polling_rate: int | None = parm(INT, "pollingRate")
    polling_rate_period: int | None = parm(INT, "pollingRatePeriod")
    cap_info_expiry: int | None = parm(INT, "capInfoExpiry")
    non_rcs_cap_info_expiry: int | None = parm(INT, "nonRCScapInfoExpiry")
    default_disc: int | None = parm(INT, "defaultDisc")
    """0 = OPTIONS, 1 = presence, 2 = none."""
    disable_initial_address_book_scan: bool | None = parm(BOOL, "disableInitialAddressBookScan")
    allowed_prefixes: tuple[str, ...] = parm(LIST, "CapDiscoveryAllowedPrefixes", default=())


@dataclass(frozen=True, slots=True)
class ClientControlSettings:
    """``CLIENTCONTROL``: client behaviour timers and switches."""

    reconnect_guard_timer: int | None = parm(INT, "reconnectGuardTimer")
    cfs_trigger: int | None = parm(INT, "cfsTrigger")
    service_availability_info_expiry: int | None = parm(INT, "serviceAvailabilityInfoExpiry")
    ft_http_cap_always_on: bool | None = parm(BOOL, "ftHTTPCapAlwaysOn")
    im_cap_always_on: bool | None = parm(BOOL, "imCapAlwaysOn")
    msg_cap_validity: int | None = parm(INT, "msgCapValidity")


@dataclass(frozen=True, slots=True)
class UxSettings:
    """``UX``: user-experience switches (fallback defaults, messaging UX)."""

    messaging_ux: int | None = parm(INT, "messagingUX")
    msg_fb_default: int | None = parm(INT, "msgFBDefault")
    ft_fb_default: int | None = parm(INT, "ftFBDefault")
    user_alias_auth: int | None = parm(INT, "userAliasAuth")


# --------------------------------------------------------------------------- the whole


@dataclass(frozen=True, slots=True)
class RcsConfig:
    """One configuration as the handset uses it.

    Attributes:
        version: ``VERS/version`` (>0 valid, 0 reset, -1 reset+disabled, -2 disabled,
            -3 dormant).
        validity: ``VERS/validity`` in seconds.
        token: ``TOKEN/token`` if sent (a secret: not in ``repr``).
        token_validity: ``TOKEN/validity`` in seconds, if sent.
        msg: the ``MSG`` terms and conditions, if sent.
        policy_sms_port: ``POLICY/SMS_port`` (the OTP port), if sent.
        msisdn: ``User/msisdn`` (from an identity-provider server), if sent.
        ims: the IMS application, or None when the document has none.
        services: the SERVICES switches.
        messaging: the MESSAGING settings.
        capdiscovery: the CAPDISCOVERY settings.
        clientcontrol: the CLIENTCONTROL settings.
        ux: the UX settings.
        access_control: additional configuration servers (``ACCESS-CONTROL``).
    """

    version: int
    validity: int
    token: str | None = field(default=None, repr=False)
    token_validity: int | None = None
    msg: TermsMessage | None = None
    policy_sms_port: int | None = None
    msisdn: str | None = None
    ims: ImsSettings | None = None
    services: Services = field(default_factory=Services)
    messaging: MessagingSettings = field(default_factory=MessagingSettings)
    capdiscovery: CapDiscoverySettings = field(default_factory=CapDiscoverySettings)
    clientcontrol: ClientControlSettings = field(default_factory=ClientControlSettings)
    ux: UxSettings = field(default_factory=UxSettings)
    access_control: tuple[AdditionalServer, ...] = ()

    @property
    def is_active(self) -> bool:
        """True for a usable configuration (positive version)."""
        return self.version > 0


RCS_SECTIONS: tuple[tuple[str, str, type[Any]], ...] = (
    ("messaging", "MESSAGING", MessagingSettings),
    ("capdiscovery", "CAPDISCOVERY", CapDiscoverySettings),
    ("clientcontrol", "CLIENTCONTROL", ClientControlSettings),
    ("ux", "UX", UxSettings),
)
"""(attribute, characteristic under the RCS application, class) of the table-driven parts."""
