"""What provisioning one SIM produced, and its summary for people and scripts.

:class:`ProvisioningResult` is the value :meth:`ProvisioningService.run()
<rcs_terminal.engine.provisioning.ProvisioningService.run>` returns. Its :meth:`~
ProvisioningResult.to_json` is the line ``rcs-terminal provision --json`` prints per SIM
(identities, P-CSCFs as ``host:port`` in order, auth type, the SERVICES switches that are on,
the chatbot, standalone-messaging and file-transfer settings); no secret is ever part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcs_terminal.protocol.provisioning import PcscfAddress, RcsConfig

_DEFAULT_PORTS = {"SIPoTLS": 5061}


@dataclass(frozen=True)
class ProvisioningResult:
    """The outcome of provisioning one SIM.

    Attributes:
        sim: the SIM slot.
        imsi: the SIM's IMSI.
        state: ``provisioned`` (failures raise instead).
        version: ``VERS/version`` of the configuration in use.
        validity: ``VERS/validity`` of that configuration, in seconds.
        config: the configuration in use.
        reason: a note (``cached configuration``), or None.
        from_cache: True when no request was needed (a valid stored configuration).
        valid_until: Unix time when the configuration should be refreshed, or None.
    """

    sim: int
    imsi: str
    state: str
    version: int | None
    validity: int | None
    config: RcsConfig | None
    reason: str | None
    from_cache: bool = False
    valid_until: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``provision --json`` line for this SIM (no secrets)."""
        data: dict[str, Any] = {
            "sim": self.sim,
            "imsi": self.imsi,
            "state": self.state,
            "version": self.version,
            "validity": self.validity,
            "valid_until": self.valid_until,
            "from_cache": self.from_cache,
        }
        config = self.config
        ims = config.ims if config is not None else None
        data.update(
            impi=ims.impi if ims else None,
            impu=list(ims.impus) if ims else [],
            home_domain=ims.home_domain if ims else None,
            pcscf=[pcscf_text(p, ims.transport) for p in ims.pcscf] if ims else [],
            transport=ims.transport if ims else None,
            auth_type=ims.auth_type if ims else None,
        )
        if config is not None:
            messaging = config.messaging
            data.update(
                services=config.services.enabled_services(),
                chatbot={
                    "ChatbotDirectory": messaging.chatbot.chatbot_directory,
                    "BotinfoFQDNRoot": messaging.chatbot.botinfo_fqdn_root,
                },
                standalone={
                    "MaxSize": messaging.standalone.max_size,
                    "SwitchoverSize": messaging.standalone.switchover_size,
                },
                ft={"ftHTTPCSURI": messaging.file_transfer.ft_http_cs_uri},
            )
        data["reason"] = self.reason
        return data


def pcscf_text(address: PcscfAddress, transport: str | None = None) -> str:
    """``host:port`` of a P-CSCF (``[v6]:port``); the transport's default port when the
    document gives none (5060, or 5061 for SIPoTLS)."""
    port = address.port if address.port is not None else _DEFAULT_PORTS.get(transport or "", 5060)
    host = f"[{address.host}]" if ":" in address.host else address.host
    return f"{host}:{port}"


def printable(text: str, limit: int = 200) -> str:
    """``text`` from a server with anything that could steer a terminal replaced by ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
