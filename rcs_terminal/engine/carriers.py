"""How a CPIM message travels: the carrier interface, and CPM standalone pager mode.

The messaging service decides *what* to send (the CPIM message, its imdn.Message-ID, the
CPM Conversation-ID and Contribution-ID); a :class:`Carrier` decides *how*. UP 2.4 has three
ways (formats.md §9), each a carrier named after the store's technology:

- ``pager``: CPM standalone pager mode, one SIP MESSAGE per message (OMA CPM 2.2 §7.1.1.1,
  RFC 3428), for bodies up to SwitchoverSize: :class:`PagerCarrier`, here;
- ``large``: standalone large message mode, INVITE + MSRP SEND + BYE;
- ``session``: a 1-to-1 chat session (INVITE + MSRP, kept open and reused).

The MSRP carriers live in :mod:`rcs_terminal.engine.msrp_carriers`; every carrier delivers
the same CPIM bytes and answers with a :class:`CarrierResult`.

Pager mode on the wire (formats.md §9): ``MESSAGE <peer>`` through the Service-Route, From
and ``P-Preferred-Identity`` our default IMPU, ``P-Preferred-Service`` the CPM standalone
ICSI, ``Accept-Contact`` with the same ICSI, plus, for a chatbot, the chatbot standalone
IARI with ``+g.gsma.rcs.botversion``, ``require`` and ``explicit``; ``Content-Type:
message/cpim``. The service's CPM headers (``Conversation-ID``, ``Contribution-ID``, an
FT-HTTP ``Accept-Contact``...) are added as given. Each MESSAGE has its own Call-ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from rcs_terminal.engine.feature_tags import BOT_VERSIONS, BOTVERSION, IARI, ICSI
from rcs_terminal.engine.registration import Registration
from rcs_terminal.protocol.sip.features import format_feature_tags
from rcs_terminal.protocol.sip.message import Headers, Request

__all__ = [
    "CHATBOT_SA_IARI",
    "CPM_MSG_ICSI",
    "FTHTTP_IARI",
    "Carrier",
    "CarrierResult",
    "PagerCarrier",
    "chatbot_accept_contact",
    "cpm_accept_contact",
    "fthttp_accept_contact",
]

CPM_MSG_ICSI = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
"""The CPM standalone messaging service (ICSI), pager and large mode alike."""
CHATBOT_SA_IARI = "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa"
"""Standalone messaging with a chatbot (IARI)."""
FTHTTP_IARI = "urn:urn-7:3gpp-application.ims.iari.rcs.fthttp"
"""File transfer via HTTP (IARI)."""


@dataclass(frozen=True, slots=True)
class CarrierResult:
    """How a delivery ended.

    Attributes:
        ok: the network accepted the message (2xx, MSRP 200).
        status: the final status (SIP or MSRP), 408 for a timeout, 503 for a transport
            failure, None when there was no usable answer.
        reason: the reason phrase, or what went wrong.
    """

    ok: bool
    status: int | None
    reason: str | None


class Carrier(Protocol):
    """One way of carrying CPIM messages to a peer (see the module docstring).

    Attributes:
        name: the technology: ``pager``, ``large`` or ``session``.
    """

    name: str

    async def deliver(
        self, peer: str, cpim: bytes, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> CarrierResult:
        """Deliver one CPIM message.

        Args:
            peer: the recipient's URI (``tel:`` or ``sip:``).
            cpim: the complete ``message/cpim`` body.
            headers: SIP headers the service adds (``Conversation-ID``, ``Contribution-ID``,
                a service ``Accept-Contact``...), written as given.
            chatbot: the peer is a chatbot (chatbot feature tags, formats.md §9).

        Returns:
            The outcome; a carrier never raises for a network failure.
        """
        ...


def _accept(tags: dict[str, list[str] | None], *, explicit: bool) -> str:
    return "*" + format_feature_tags(tags) + (";require;explicit" if explicit else "")


def cpm_accept_contact() -> str:
    """``Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"``."""
    return _accept({ICSI: [CPM_MSG_ICSI]}, explicit=False)


def chatbot_accept_contact() -> str:
    """The chatbot standalone ``Accept-Contact``: IARI, botversion, require, explicit."""
    return _accept({IARI: [CHATBOT_SA_IARI], BOTVERSION: list(BOT_VERSIONS)}, explicit=True)


def fthttp_accept_contact() -> str:
    """The ``Accept-Contact`` of a message carrying an FT-HTTP descriptor."""
    return _accept({IARI: [FTHTTP_IARI]}, explicit=True)


class PagerCarrier:
    """CPM standalone pager mode: one SIP MESSAGE per message (see the module docstring).

    Args:
        registration: the SIM's registration (identity, Service-Route, endpoint).
    """

    name = "pager"

    def __init__(self, registration: Registration) -> None:
        self.registration = registration
        self.endpoint = registration.endpoint

    async def deliver(
        self, peer: str, cpim: bytes, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> CarrierResult:
        """Send ``cpim`` in a SIP MESSAGE (see :meth:`Carrier.deliver`)."""
        return await self.deliver_body(peer, cpim, "message/cpim", headers=headers, chatbot=chatbot)

    async def deliver_body(
        self,
        peer: str,
        body: bytes,
        content_type: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        chatbot: bool = False,
    ) -> CarrierResult:
        """Send any body in a SIP MESSAGE (a bare is-composing document, for one).

        Returns:
            The outcome: ``ok`` for a 2xx (the network may answer 202 Accepted).
        """
        request = self.build(peer, body, content_type, headers=headers, chatbot=chatbot)
        outcome = await self.endpoint.send(request)
        status = outcome.status
        ok = status is not None and 200 <= status < 300
        return CarrierResult(ok, status, outcome.reason or None)

    def build(
        self,
        peer: str,
        body: bytes,
        content_type: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        chatbot: bool = False,
    ) -> Request:
        """The MESSAGE request (without Via: the endpoint adds it)."""
        reg, endpoint = self.registration, self.endpoint
        identity = reg.default_impu
        fields = Headers()
        for route in reg.routes:
            fields.add("Route", route)
        fields.add("Max-Forwards", "70")
        fields.add("From", f"<{identity}>;tag={endpoint.new_id()}")
        fields.add("To", f"<{peer}>")
        fields.add("Call-ID", f"{endpoint.new_id()}{endpoint.new_id()}")
        fields.add("CSeq", "1 MESSAGE")
        fields.add("P-Preferred-Identity", f"<{identity}>")
        fields.add("P-Preferred-Service", CPM_MSG_ICSI)
        fields.add("Accept-Contact", cpm_accept_contact())
        if chatbot:
            fields.add("Accept-Contact", chatbot_accept_contact())
        for name, value in headers:
            fields.add(name, value)
        fields.add("User-Agent", reg.params.user_agent)
        fields.add("Content-Type", content_type)
        return Request("MESSAGE", peer, fields, body)
