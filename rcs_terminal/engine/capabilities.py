"""Capability exchange with SIP OPTIONS (GSMA RCC.07 §2.6.1; provisioning_sip.md §5).

Before offering chat, a handset asks whether a peer is an RCS user and what it can do:
``OPTIONS <tel:/sip: target>`` through the Service-Route, with our own feature tags in
Contact (and as a preference in ``Accept-Contact``). :class:`CapabilityService` sends the
query, reads the answer into :class:`Capabilities`, caches it per target, and answers the
OPTIONS other handsets send us:

====================  ================================================================
answer                meaning
====================  ================================================================
200                   online; RCS when a chat or standalone tag is present (real
                      non-RCS clients answer with no tag at all, or no Contact)
404, 604, 405         not an RCS user (cached for nonRCScapInfoExpiry)
408, 480              an RCS user who is offline (earlier capabilities kept)
403 "not registered"  *we* are not registered: register again
other / no answer     unknown; nothing is cached
====================  ================================================================

RCS answers are cached for capInfoExpiry. Chatbots are recognised by
``+g.gsma.rcs.isbot``, by a bot-platform host label (``botplatform``, ``rbm``), or by
SpecificChatbotsList. Every result is published as
:class:`~rcs_terminal.domain.events.CapabilitiesUpdated`. Time comes from an injectable
clock, so cache expiry is tested without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rcs_terminal.domain.events import CapabilitiesUpdated
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.feature_tags import (
    accept_contact,
    is_automata,
    is_bot,
    is_rcs,
    services_from_tags,
    tag_strings,
)
from rcs_terminal.engine.registration import ALLOW, Registration
from rcs_terminal.engine.sip_endpoint import RequestOutcome
from rcs_terminal.errors import ParseError, SipParseError
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey
from rcs_terminal.protocol.sip.uri import SipUri, TelUri, parse_uri

__all__ = ["ACCEPT", "Capabilities", "CapabilityService", "normalize_target"]

ACCEPT = (
    "application/sdp, message/cpim, message/imdn+xml, application/im-iscomposing+xml, "
    "application/vnd.gsma.rcs-ft-http+xml, text/plain"
)
"""What we accept, in answers to OPTIONS."""
NOT_RCS = frozenset({404, 405, 604})
OFFLINE = frozenset({408, 480})


@dataclass(frozen=True)
class Capabilities:
    """What one target can do, as far as we know.

    Attributes:
        target: the target URI (normalised, see :func:`normalize_target`).
        status: the status of the answer (408 for no answer), None if unknown.
        rcs: the target is an RCS user.
        online: it answered (and is no offline responder).
        chatbot: it is a chatbot.
        services: the services its tags announce (see :mod:`.feature_tags`).
        tags: its feature tags, flattened (``name`` or ``name=value``).
        reason: the reason phrase, or what went wrong.
        checked_at: when the answer came (clock time).
        expires_at: until when the cached result counts; None when it is not cached.
        from_cache: this result came from the cache, not from the network.
    """

    target: str
    status: int | None
    rcs: bool
    online: bool
    chatbot: bool
    services: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    reason: str | None = None
    checked_at: float = 0.0
    expires_at: float | None = None
    from_cache: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``rcs-terminal options --json`` line."""
        return {
            "target": self.target,
            "status": self.status,
            "rcs": self.rcs,
            "online": self.online,
            "chatbot": self.chatbot,
            "services": list(self.services),
            "tags": list(self.tags),
        }


def normalize_target(target: str) -> str:
    """A target as a URI: ``+86...`` becomes ``tel:+86...``, ``bob@rcs.test`` becomes
    ``sip:bob@rcs.test``; URIs are kept as written.

    Raises:
        SipParseError: the target is not a tel: or sip: URI, a number or ``user@host``.
    """
    text = target.strip()
    if text.startswith("+") and text[1:].replace("-", "").isdigit():
        text = f"tel:{text}"
    elif ":" not in text and "@" in text:
        text = f"sip:{text}"
    uri = parse_uri(text)
    if not isinstance(uri, SipUri | TelUri):
        raise SipParseError(f"{target!r} is not a tel: or sip: target", where="target")
    return text


def _cache_key(target: str) -> str:
    uri = parse_uri(target)
    if isinstance(uri, TelUri):
        return f"tel:{uri.digits}"
    if isinstance(uri, SipUri):
        return uri.aor
    return target


class CapabilityService:
    """Capability queries and answers for one registered SIM.

    Args:
        registration: the SIM's registration (routes, identity, Contact, re-registration).
        bus: where :class:`CapabilitiesUpdated` events go.
        clock: the time source for the cache; default the endpoint's clock.
    """

    def __init__(
        self,
        registration: Registration,
        *,
        bus: EventBus | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.registration = registration
        self.endpoint = registration.endpoint
        self.params = registration.params
        self.bus = bus
        self._clock = clock or self.endpoint.now
        self._cache: dict[str, Capabilities] = {}
        self.endpoint.on_request("OPTIONS", self.answer_options)

    # ------------------------------------------------------------------ queries

    def cached(self, target: str) -> Capabilities | None:
        """The cached, unexpired capabilities of ``target``, or None."""
        entry = self._cache.get(_cache_key(normalize_target(target)))
        if entry is None or entry.expires_at is None or entry.expires_at <= self._clock():
            return None
        return replace(entry, from_cache=True)

    async def query(self, target: str, *, force: bool = False) -> Capabilities:
        """The capabilities of ``target``: from the cache, or by OPTIONS.

        Args:
            target: a tel: or sip: URI, a ``+86...`` number or ``user@host``.
            force: ask the network even when the cache holds an answer.

        Raises:
            SipParseError: the target cannot be read.
        """
        uri = normalize_target(target)
        if not force:
            hit = self.cached(uri)
            if hit is not None:
                self._publish(hit)
                return hit
        outcome = await self.endpoint.send(self._build_options(uri))
        result = self.interpret(uri, outcome)
        self._publish(result)
        return result

    def _build_options(self, target: str) -> Request:
        reg, params = self.registration, self.params
        identity = reg.default_impu
        headers = Headers()
        for route in reg.routes:
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{identity}>;tag={self.endpoint.new_id()}")
        headers.add("To", f"<{target}>")
        headers.add("Call-ID", f"{self.endpoint.new_id()}{self.endpoint.new_id()}")
        headers.add("CSeq", "1 OPTIONS")
        headers.add("Contact", reg.contact())
        preference = accept_contact(params.services)
        if preference is not None:
            headers.add("Accept-Contact", preference)
        headers.add("Accept", "application/sdp")
        headers.add("P-Preferred-Identity", f"<{identity}>")
        headers.add("Allow", ALLOW)
        headers.add("User-Agent", params.user_agent)
        return Request("OPTIONS", target, headers)

    def interpret(self, target: str, outcome: RequestOutcome) -> Capabilities:
        """Read an OPTIONS outcome into :class:`Capabilities` and update the cache."""
        now = self._clock()
        key = _cache_key(target)
        status, response = outcome.status, outcome.response
        by_identity = self._is_bot_identity(target)
        previous = self._cache.get(key)
        if response is not None and 200 <= response.status < 300:
            tags, note = _answer_tags(response)
            services = services_from_tags(tags)
            rcs = is_rcs(services)
            result = Capabilities(
                target=target,
                status=status,
                rcs=rcs,
                online=not is_automata(tags),
                chatbot=by_identity or is_bot(tags),
                services=services,
                tags=tuple(tag_strings(tags)),
                reason=note or response.reason,
                checked_at=now,
                expires_at=now
                + (self.params.cap_info_expiry if rcs else self.params.non_rcs_cap_info_expiry),
            )
        elif status in NOT_RCS:
            result = Capabilities(
                target,
                status,
                rcs=False,
                online=False,
                chatbot=by_identity,
                reason=outcome.reason,
                checked_at=now,
                expires_at=now + self.params.non_rcs_cap_info_expiry,
            )
        elif status in OFFLINE:
            kept = previous if previous is not None and previous.rcs else None
            result = Capabilities(
                target=target,
                status=status,
                rcs=True,
                online=False,
                chatbot=by_identity or (kept.chatbot if kept else False),
                services=kept.services if kept else (),
                tags=kept.tags if kept else (),
                reason=outcome.reason,
                checked_at=now,
                expires_at=kept.expires_at if kept else None,
            )
        else:
            if status == 403 and "not registered" in outcome.reason.lower():
                self.registration.refresh_now()
            result = Capabilities(
                target,
                status,
                rcs=False,
                online=False,
                chatbot=by_identity,
                reason=outcome.reason,
                checked_at=now,
            )
        if result.expires_at is not None:
            self._cache[key] = result
        return result

    def _is_bot_identity(self, target: str) -> bool:
        uri = parse_uri(target)
        if isinstance(uri, SipUri):
            label = uri.host.split(".", 1)[0].lower()
            if label in self.params.chatbot_host_labels:
                return True
        key = _cache_key(target)
        for entry in self.params.specific_chatbots:
            try:
                if _cache_key(normalize_target(entry)) == key:
                    return True
            except ParseError:
                continue
        return False

    def _publish(self, result: Capabilities) -> None:
        if self.bus is not None:
            self.bus.publish(
                CapabilitiesUpdated(
                    sim=self.params.slot,
                    target=result.target,
                    rcs=result.rcs,
                    online=result.online,
                    chatbot=result.chatbot,
                    services=result.services,
                    status=result.status,
                )
            )

    # ------------------------------------------------------------------ answers

    def answer_options(self, request: Request, key: TransactionKey) -> Response:
        """Answer an incoming OPTIONS truthfully: 200 with our current tags (the
        endpoint's OPTIONS handler)."""
        response = build_response(request, 200, to_tag=self.endpoint.new_id())
        if self.endpoint.is_connected:
            response.headers.add("Contact", self.registration.contact())
        response.headers.add("Allow", ALLOW)
        response.headers.add("Accept", ACCEPT)
        response.headers.add("Supported", "path, gruu")
        response.headers.add("User-Agent", self.params.user_agent)
        return response


def _answer_tags(response: Response) -> tuple[dict[str, list[str] | None], str | None]:
    """The feature tags of a 200's Contacts (merged); a broken Contact is noted, not fatal."""
    tags: dict[str, list[str] | None] = {}
    try:
        contacts = response.contacts
    except SipParseError as exc:
        return tags, f"unreadable Contact in the answer: {exc.reason}"
    for contact in contacts:
        try:
            found = feature_tags(contact.params)
        except SipParseError as exc:
            return tags, f"unreadable feature tag in the answer: {exc.reason}"
        for name, values in found.items():
            if name == "+sip.instance":
                continue
            if name not in tags:
                tags[name] = values
            elif values is not None:
                merged = tags[name] or []
                tags[name] = merged + [v for v in values if v not in merged]
    return tags, None
