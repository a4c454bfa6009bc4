"""Capability queries of a pjsip SIM: OPTIONS with our tags, the answer read as the native
engine reads it (GSMA RCC.07 §2.6.1; provisioning_sip.md §5).

:class:`CapabilityQuery` sends OPTIONS through the SIM's
:class:`~rcs_terminal.engine.pjsip.requests.RequestSender` (which answers Kamailio's 407):
pjsip writes From, To, Call-ID, CSeq, Route and its own ``Accept`` (listing
``application/sdp``) but no Contact, so ours, with ``+sip.instance`` and the feature tags,
is added, with ``Accept-Contact`` stating our preference. :func:`capabilities_from` reads
the outcome into the native engine's :class:`~rcs_terminal.engine.capabilities.Capabilities`,
the peer's tags parsed by :func:`rcs_terminal.protocol.sip.features.feature_tags`:

=============  ================================================================
answer         meaning
=============  ================================================================
200            online; RCS when a chat or standalone tag is present; a chatbot
               with ``+g.gsma.rcs.isbot``; ``automata`` means offline responder
404, 405, 604  not an RCS user
408, 480       an RCS user who is offline
other          unknown
=============  ================================================================

Unlike the native engine it keeps no cache: every query goes to the network. Incoming
OPTIONS are answered by pjsua itself (200 with Allow/Accept, no Contact and therefore no
feature tags); the binding offers no hook to change that.
"""

from __future__ import annotations

from collections.abc import Callable

from rcs_terminal.domain.events import CapabilitiesUpdated
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.capabilities import NOT_RCS, OFFLINE, Capabilities, normalize_target
from rcs_terminal.engine.feature_tags import (
    accept_contact,
    is_automata,
    is_bot,
    is_rcs,
    services_from_tags,
    tag_strings,
)
from rcs_terminal.engine.pjsip.account import PjsipConfig
from rcs_terminal.engine.pjsip.requests import RequestSender
from rcs_terminal.engine.sip_endpoint import RequestOutcome
from rcs_terminal.errors import ParseError
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.message import Response

__all__ = ["CapabilityQuery", "capabilities_from"]


def capabilities_from(
    target: str,
    outcome: RequestOutcome,
    *,
    now: float,
    cap_info_expiry: float = 2592000.0,
    non_rcs_cap_info_expiry: float = 86400.0,
) -> Capabilities:
    """Read an OPTIONS outcome as the native engine does (provisioning_sip.md §5).

    200: online, RCS when a chat or standalone tag is present, a chatbot with
    ``+g.gsma.rcs.isbot``; 404/405/604: not RCS; 408/480: RCS but offline; anything else
    unknown. A Contact that cannot be read is noted in ``reason``, never raised.
    """
    status, response = outcome.status, outcome.response
    if response is not None and 200 <= response.status < 300:
        tags, note = _answer_tags(response)
        services = services_from_tags(tags)
        rcs = is_rcs(services)
        return Capabilities(
            target=target,
            status=status,
            rcs=rcs,
            online=not is_automata(tags),
            chatbot=is_bot(tags),
            services=services,
            tags=tuple(tag_strings(tags)),
            reason=note or response.reason,
            checked_at=now,
            expires_at=now + (cap_info_expiry if rcs else non_rcs_cap_info_expiry),
        )
    if status in NOT_RCS:
        return Capabilities(
            target, status, rcs=False, online=False, chatbot=False, reason=outcome.reason,
            checked_at=now, expires_at=now + non_rcs_cap_info_expiry,
        )  # fmt: skip
    if status in OFFLINE:
        return Capabilities(
            target, status, rcs=True, online=False, chatbot=False, reason=outcome.reason,
            checked_at=now,
        )  # fmt: skip
    return Capabilities(
        target, status, rcs=False, online=False, chatbot=False, reason=outcome.reason,
        checked_at=now,
    )  # fmt: skip


def _answer_tags(response: Response) -> tuple[dict[str, list[str] | None], str | None]:
    tags: dict[str, list[str] | None] = {}
    try:
        contacts = response.contacts
        for contact in contacts:
            for name, values in feature_tags(contact.params).items():
                if name == "+sip.instance":
                    continue
                if name not in tags or tags[name] is None:
                    tags[name] = values
                elif values is not None:
                    merged = tags[name] or []
                    tags[name] = merged + [v for v in values if v not in merged]
    except ParseError as exc:
        return tags, f"unreadable Contact in the answer: {exc.reason}"
    return tags, None


class CapabilityQuery:
    """OPTIONS capability queries of one pjsip SIM.

    Args:
        sender: the SIM's request sender.
        config: the SIM's configuration (our services).
        contact: our Contact value, with ``+sip.instance`` and the feature tags.
        bus: where :class:`CapabilitiesUpdated` events go.
        clock: the time source of ``checked_at``.
    """

    def __init__(
        self,
        sender: RequestSender,
        config: PjsipConfig,
        *,
        contact: str,
        bus: EventBus | None,
        clock: Callable[[], float],
    ) -> None:
        self.sender = sender
        self.config = config
        self.contact = contact
        self.bus = bus
        self.clock = clock

    def headers(self) -> list[tuple[str, str]]:
        """The headers we add to pjsip's OPTIONS.

        pjsip writes From, To, Call-ID, CSeq, Route and its own ``Accept`` (which lists
        ``application/sdp``) but no Contact, so ours, with the tags, is added here.
        """
        headers = [("Contact", self.contact)]
        preference = accept_contact(self.config.services)
        if preference is not None:
            headers.append(("Accept-Contact", preference))
        return headers

    async def query(self, target: str) -> Capabilities:
        """Ask ``target`` for its capabilities; publish and return the answer.

        Raises:
            SipParseError: the target cannot be read.
            NetworkError: pjsip refused to send the request.
        """
        uri = normalize_target(target)
        outcome = await self.sender.send("OPTIONS", uri, headers=self.headers())
        result = capabilities_from(uri, outcome, now=self.clock())
        if self.bus is not None:
            self.bus.publish(
                CapabilitiesUpdated(
                    sim=self.config.slot,
                    target=result.target,
                    rcs=result.rcs,
                    online=result.online,
                    chatbot=result.chatbot,
                    services=result.services,
                    status=result.status,
                )
            )
        return result
