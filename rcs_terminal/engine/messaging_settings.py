"""How one SIM's messaging behaves: sizes, technologies and the user's receipt settings.

:class:`MessagingSettings` gathers what the messaging service reads from the provisioned
configuration (``MESSAGING/StandaloneMsg`` ``MaxSize`` and ``SwitchoverSize``,
``MESSAGING/Chatbot`` ``ChatbotMsgTech``; formats.md §9) and from the profile's
``messaging:`` block (delivery and display receipts, is-composing), with the defaults a UP 2.4
handset uses when nothing is provisioned.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcs_terminal.domain.profile import Profile, Sim
from rcs_terminal.protocol.provisioning.config import RcsConfig

__all__ = ["MessagingSettings"]

SWITCHOVER_SIZE = 1300
"""SwitchoverSize when nothing is provisioned (formats.md §9)."""
CHINA_SWITCHOVER_SIZE = 900
"""SwitchoverSize of the Chinese operators' profiles, used for their SIMs when unprovisioned."""
PAGER_LIMIT_UDP = 1300
"""Largest CPIM body sent in a MESSAGE over UDP (RFC 3428 §7: 1300 bytes without
congestion control)."""
PAGER_LIMIT_STREAM = 60 * 1024
"""Largest CPIM body sent in a MESSAGE over TCP/TLS when large message mode is missing."""


@dataclass(frozen=True, slots=True)
class MessagingSettings:
    """How one SIM sends and receives.

    Attributes:
        switchover_size: CPIM bodies above this many bytes go in large message mode.
        max_size: the largest standalone message the network takes (StandaloneMsg MaxSize).
        pager_limit: the largest CPIM body pager mode carries when large mode is missing.
        chatbot_msg_tech: ChatbotMsgTech (1 sessions, 2 both, 3 standalone; None: unset).
        delivery_notifications: send ``delivered`` receipts.
        displayed_notifications: send ``displayed`` receipts.
        is_composing: send is-composing indications.
        sms_fallback: fall back to SMS for persons who are not on RCS or unreachable.
        request_dispositions: the receipts we ask for on what we send.
    """

    switchover_size: int = SWITCHOVER_SIZE
    max_size: int | None = None
    pager_limit: int = PAGER_LIMIT_UDP
    chatbot_msg_tech: int | None = None
    delivery_notifications: bool = True
    displayed_notifications: bool = True
    is_composing: bool = True
    sms_fallback: bool = True
    request_dispositions: tuple[str, ...] = ("positive-delivery", "display")

    @classmethod
    def for_sim(
        cls, profile: Profile, sim: Sim, config: RcsConfig | None, *, transport: str = "udp"
    ) -> MessagingSettings:
        """The settings of ``sim``: its provisioned configuration, else the defaults (900
        bytes SwitchoverSize for a Chinese operator's SIM), plus the profile's choices."""
        prefs = profile.messaging
        switchover = CHINA_SWITCHOVER_SIZE if sim.known_operator is not None else SWITCHOVER_SIZE
        max_size = tech = None
        if config is not None:
            standalone = config.messaging.standalone
            switchover = standalone.switchover_size or switchover
            max_size = standalone.max_size or None
            tech = config.messaging.chatbot.chatbot_msg_tech
        return cls(
            switchover_size=switchover,
            max_size=max_size,
            pager_limit=PAGER_LIMIT_UDP if transport == "udp" else PAGER_LIMIT_STREAM,
            chatbot_msg_tech=tech,
            delivery_notifications=prefs.delivery_notifications,
            displayed_notifications=prefs.displayed_notifications,
            is_composing=prefs.is_composing,
        )
