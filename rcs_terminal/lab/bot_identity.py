"""A lab chatbot's identity on the network: its subscriber record, registration parameters
and the Contact it registers.

A bot is a lab subscriber of home domain ``botplatform.lab`` (:func:`bot_subscriber`: IMPI
``<id>@botplatform.lab``, public identities ``sip:<id>@botplatform.lab`` and the ``tel:``
URI of its service number, a digest password), registered through the engine's
:class:`~rcs_terminal.engine.registration.Registration` with parameters built by hand
(:func:`bot_params`: a bot has no profile and no SIM). :class:`BotRegistration` writes the
chatbot feature tags in its Contact instead of a handset's (GSMA RCC.07; formats.md §9):
the CPM standalone ICSI, the ``rcs.chatbot.sa`` IARI (with FT-HTTP and geolocation push),
``+g.gsma.rcs.botversion="#=1,#=2"`` and ``+g.gsma.rcs.isbot``. Large-message mode and chat
sessions are not announced: the lab's bots speak CPM standalone (pager) mode only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rcs_terminal.engine.feature_tags import BOT_VERSIONS, BOTVERSION, IARI, ICSI, ISBOT
from rcs_terminal.engine.ims_params import DigestCredentials, ImsParams, PcscfTarget
from rcs_terminal.engine.registration import Registration
from rcs_terminal.lab.config_documents import BOTPLATFORM_NAME
from rcs_terminal.lab.subscribers import LabSubscriber
from rcs_terminal.protocol.sip.features import format_feature_tags

__all__ = [
    "BOT_TAGS",
    "CPM_MSG",
    "USER_AGENT",
    "BotRegistration",
    "BotSubscriber",
    "bot_params",
    "bot_subscriber",
]

CPM_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
IARI_PREFIX = "urn:urn-7:3gpp-application.ims.iari."
BOT_TAGS: dict[str, list[str] | None] = {
    ICSI: [CPM_MSG],
    IARI: [IARI_PREFIX + "rcs.chatbot.sa", IARI_PREFIX + "rcs.fthttp", IARI_PREFIX + "rcs.geopush"],
    BOTVERSION: list(BOT_VERSIONS),
    ISBOT: None,
}
"""The feature tags of a lab chatbot's Contact (REGISTER and answers to OPTIONS)."""
USER_AGENT = "rcs-terminal-lab-chatbot/1.0"
"""The User-Agent of the lab's bots."""


@dataclass
class BotSubscriber(LabSubscriber):
    """A chatbot as the lab's subscriber directory knows it: its public identities are
    its service id and the ``tel:`` URI of its service number (no IMSI, no SIM)."""

    service_id: str = ""

    @property
    def sip_impu(self) -> str:
        """The bot's service id, ``sip:<id>@botplatform.lab``."""
        return self.service_id

    @property
    def tel_impu(self) -> str:
        """The ``tel:`` URI of the bot's service number."""
        return f"tel:{self.msisdn}"


def bot_subscriber(bot_id: str, number: str, password: str) -> BotSubscriber:
    """The lab subscriber of bot ``bot_id`` (digest credentials, home ``botplatform.lab``).

    Args:
        bot_id: the bot's id (the SIP user part).
        number: its service number, digits only (``1065800000``); its MSISDN is
            ``+86<number>``.
        password: its digest password.
    """
    return BotSubscriber(
        profile="chatbot-platform",
        slot=0,
        imsi=f"bot:{bot_id}",
        msisdn=f"+86{number}",
        imei="",
        home_domain=BOTPLATFORM_NAME,
        impi=f"{bot_id}@{BOTPLATFORM_NAME}",
        auth_type="Digest",
        password=password,
        display_name=f"chatbot {bot_id}",
        service_id=f"sip:{bot_id}@{BOTPLATFORM_NAME}",
    )


def bot_params(sub: BotSubscriber, target: PcscfTarget) -> ImsParams:
    """The registration parameters of a bot (built by hand: a bot has no profile)."""
    assert sub.password is not None
    instance = uuid.uuid5(uuid.NAMESPACE_URL, sub.service_id)
    return ImsParams(
        slot=0,
        imsi=sub.imsi,
        home_domain=sub.home_domain,
        impi=sub.impi,
        impus=sub.impus,
        pcscfs=(target,),
        auth=DigestCredentials(sub.impi, sub.password, sub.home_domain),
        user_agent=USER_AGENT,
        sip_instance=f"<urn:uuid:{instance}>",
        services=("standalone", "chatbot.sa", "fthttp", "geopush"),
        register_expires=3600,
        subscribe_reg_event=False,
        verify_tls=False,
    )


class BotRegistration(Registration):
    """A registration whose Contact carries the chatbot tags instead of a handset's."""

    def contact(self, *, expires: int | None = None, register: bool = False) -> str:
        tags: dict[str, list[str] | None] = {"+sip.instance": [self.params.sip_instance]}
        tags.update(BOT_TAGS)
        value = f"<{self.contact_uri}>{format_feature_tags(tags)}"
        target = self.endpoint.target
        if register and self.params.outbound and target is not None and target.transport != "udp":
            value += ";reg-id=1"
        if expires is not None:
            value += f";expires={expires}"
        return value
