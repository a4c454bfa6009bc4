"""The configuration documents the lab hands out, one per subscriber.

What a Chinese operator's RCC.14 server would send a UP 2.4 handset (provisioning_sip.md
§2 and §7), filled in with the lab's own addresses:

- IMS: the subscriber's IMPI, IMPUs (``sip:+86...@<home domain>`` first, then ``tel:``) and
  home domain; one P-CSCF, the lab registrar's ``127.0.0.1:PORT`` (``AddressType`` IPv4),
  signalling over ``SIPoTCP`` (China's internet-APN profile); ``AuthType`` AKA, or Digest
  with ``UserName`` (the IMPI), ``UserPwd`` and ``Realm`` (the home domain); the usual
  ``Timer_T1/T2/T4`` and registration retry times.
- SERVICES: 1-to-1 chat, standalone messaging, file transfer over HTTP and geolocation push
  on; group chat, calls, composer and the rest off. Chatbots are enabled by the
  ``MESSAGING/Chatbot`` settings (RCC.07 has no SERVICES switch for them that we could
  confirm).
- MESSAGING: ``StandaloneMsg`` (``MaxSize``, ``SwitchoverSize`` 900 bytes as in the Chinese
  profiles), ``Chat``, ``FileTransfer`` (``ftHTTPCSURI`` on the lab's HTTP server, ``/ft``,
  with a per-subscriber user and password) and ``Chatbot`` (``ChatbotDirectory`` and
  ``BotinfoFQDNRoot`` under the lab name ``botplatform.lab``).
- CAPDISCOVERY (OPTIONS, expiry times), CLIENTCONTROL and TOKEN.

Lab host names are plain identifiers mapped to the lab's address in ``LabInfo.names``; since
the lab listens on ports chosen at start-up, ``BotinfoFQDNRoot`` carries the port
(``botplatform.lab:PORT``) and bot info is served over plain HTTP there.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcs_terminal.lab.subscribers import LabSubscriber
from rcs_terminal.protocol.provisioning import (
    CapDiscoverySettings,
    ChatbotSettings,
    ChatSettings,
    ClientControlSettings,
    FileTransferSettings,
    ImsSettings,
    MessagingSettings,
    PcscfAddress,
    RcsConfig,
    Services,
    StandaloneMsgSettings,
    TermsMessage,
)
from rcs_terminal.protocol.provisioning.config import Transport

CONFIG_NAME = "config.rcs.lab"
"""Lab name of the configuration server."""
BOTPLATFORM_NAME = "botplatform.lab"
"""Lab name of the chatbot platform (directory and bot info)."""
FT_NAME = "ft.rcs.lab"
"""Lab name of the file-transfer content server."""
LAB_NAMES = (CONFIG_NAME, BOTPLATFORM_NAME, FT_NAME)

SERVICES_ON = ("ChatAuth", "standaloneMsgAuth", "ftAuth", "geolocPushAuth")
SERVICES_OFF = (
    "GroupChatAuth",
    "composerAuth",
    "sharedMapAuth",
    "sharedSketchAuth",
    "postCallAuth",
    "rcsIPVoiceCallAuth",
    "rcsIPVideoCallAuth",
    "presencePrfl",
)
SWITCHOVER_SIZE = 900
"""Largest pager-mode message in bytes (Chinese profiles: ``pager_mode_size_limit``)."""
STANDALONE_MAX_SIZE = 102400


@dataclass(frozen=True)
class LabEndpoints:
    """Where the lab's services listen, as written into documents.

    Attributes:
        http_port: the port of the lab's plain-HTTP server (FT, chatbot directory).
        pcscf: the registrar's ``(address, port)``, or None when the lab runs without one.
        transport: the signalling transport to announce.
    """

    http_port: int
    pcscf: tuple[str, int] | None = None
    transport: Transport = "SIPoTCP"

    @property
    def ft_url(self) -> str:
        """``ftHTTPCSURI``: the file-transfer content server."""
        return f"http://{FT_NAME}:{self.http_port}/ft"

    @property
    def chatbot_directory(self) -> str:
        """``ChatbotDirectory``: the chatbot search endpoint."""
        return f"http://{BOTPLATFORM_NAME}:{self.http_port}/chatbot/directory"

    @property
    def botinfo_root(self) -> str:
        """``BotinfoFQDNRoot``: where bot information is fetched (name and port)."""
        return f"{BOTPLATFORM_NAME}:{self.http_port}"


def _ims(sub: LabSubscriber, endpoints: LabEndpoints) -> ImsSettings:
    pcscf: tuple[PcscfAddress, ...] = ()
    if endpoints.pcscf is not None:
        host, port = endpoints.pcscf
        pcscf = (PcscfAddress(host, port, "IPv6" if ":" in host else "IPv4"),)
    digest = sub.auth_type == "Digest"
    return ImsSettings(
        impi=sub.impi,
        impus=sub.impus,
        home_domain=sub.home_domain,
        pcscf=pcscf,
        transport=endpoints.transport,
        wifi_transport=endpoints.transport,
        media_transport="MSRP",
        auth_type="Digest" if digest else "AKA",
        realm=sub.home_domain if digest else None,
        username=sub.impi if digest else None,
        password=sub.password if digest else None,
        timer_t1=2000,
        timer_t2=16000,
        timer_t4=17000,
        reg_retry_base_time=30,
        reg_retry_max_time=1800,
        keep_alive_enabled=True,
        single_registration=0,
        app_ref="IMS-Settings",
    )


def subscriber_config(
    sub: LabSubscriber,
    endpoints: LabEndpoints,
    *,
    version: int,
    validity: int,
    token: str | None,
    token_validity: int | None,
    ft_password: str,
    terms: TermsMessage | None = None,
) -> RcsConfig:
    """The full configuration of ``sub``.

    Args:
        sub: the subscriber.
        endpoints: the lab's addresses.
        version: ``VERS/version`` (positive).
        validity: ``VERS/validity`` in seconds.
        token: ``TOKEN/token`` to hand out.
        token_validity: ``TOKEN/validity`` in seconds.
        ft_password: ``ftHTTPCSPwd`` of this subscriber.
        terms: ``MSG`` terms to show, if any.
    """
    services = Services(
        values=tuple((name, 1) for name in SERVICES_ON) + tuple((name, 0) for name in SERVICES_OFF),
        text=(("SupportedRCSProfileVersions", "UP_2.4"),),
    )
    messaging = MessagingSettings(
        standalone=StandaloneMsgSettings(
            max_size=STANDALONE_MAX_SIZE, switchover_size=SWITCHOVER_SIZE
        ),
        chat=ChatSettings(
            max_adhoc_group_size=20,
            aut_accept=1,
            aut_accept_group_chat=0,
            timer_idle=180,
            max_size=8192,
            chat_revoke_timer=0,
            reconnect_guard_timer=0,
        ),
        file_transfer=FileTransferSettings(
            ft_warn_size=10240,
            max_size_file_tr=102400,
            ft_aut_accept=0,
            ft_http_cs_uri=endpoints.ft_url,
            ft_http_cs_user=sub.msisdn,
            ft_http_cs_pwd=ft_password,
            ft_http_fallback="",
        ),
        chatbot=ChatbotSettings(
            chatbot_directory=endpoints.chatbot_directory,
            botinfo_fqdn_root=endpoints.botinfo_root,
            identity_in_enriched_search=1,
            privacy_disable=0,
            chatbot_msg_tech=1,
        ),
    )
    return RcsConfig(
        version=version,
        validity=validity,
        token=token,
        token_validity=token_validity,
        msg=terms,
        ims=_ims(sub, endpoints),
        services=services,
        messaging=messaging,
        capdiscovery=CapDiscoverySettings(
            polling_period=0,
            polling_rate=10,
            polling_rate_period=60,
            cap_info_expiry=2592000,
            non_rcs_cap_info_expiry=86400,
            default_disc=0,
            disable_initial_address_book_scan=True,
        ),
        clientcontrol=ClientControlSettings(
            reconnect_guard_timer=0,
            service_availability_info_expiry=60,
            ft_http_cap_always_on=True,
        ),
    )


def status_config(
    version: int, validity: int, token: str | None = None, token_validity: int | None = None
) -> RcsConfig:
    """A document that only states a version: the same version again (keep what you have),
    or 0 / -1 / -2 / -3; with the token when one is handed out."""
    return RcsConfig(version=version, validity=validity, token=token, token_validity=token_validity)
