"""Sending one message: store it, pick its way, deliver it, fall back to SMS if needed.

The order of the steps is the promise the handset makes to its user (DESIGN.md, "Rules that
keep it real"):

1. **Commit.** :meth:`OutgoingSender.submit` writes the message to the store (state
   ``queued``, a fresh imdn.Message-ID) before anything leaves. A process that dies after
   this point sends it at its next start, under the same id (:meth:`transmit` rebuilds the
   CPIM message from the stored row, so the copies are identical).
2. **Is the peer on RCS?** Before the first message to a person whose capabilities are not
   cached, an OPTIONS query asks (provisioning_sip.md §5). A non-RCS answer (404, 405, 604,
   or a 200 without a messaging tag) sends the message by SMS instead (§8): it is marked
   ``sms_fallback``. Chatbots are not queried: they are RCS by definition.
3. **Which carrier?** A chatbot is messaged in a chat session when ChatbotMsgTech asks for
   it (1: sessions only; 2: both, when the bot announced sessions; the values of Samsung's
   ``ChatbotMsgTechConfig``: 0 disabled, 1 session only, 2 both, 3 standalone only); if the
   session is refused, the message goes standalone instead (Samsung's "fall back to SLM").
   Standalone, a CPIM body above SwitchoverSize goes in large message mode and everything
   else in pager mode (formats.md §9). When large mode is missing or refused (a peer that
   takes no INVITE), a body that fits a MESSAGE goes in pager mode; one that does not fails
   clearly.
4. **Deliver**, retrying once after a timeout, a transport failure or a 500/503/504. A
   final failure to a person with a phone number falls back to SMS (Samsung's UP default:
   at most one retry, then SMS; §8); to anyone else it is ``failed`` with the reason.

There is no real SMS path in this emulator: "SMS fallback" is a state the user sees
(``sent by SMS fallback`` in the result and in the store), as a phone would show it.

``RCS_TERMINAL_TEST_CRASH_AFTER_STORE=1`` in the environment ends the process right after
step 1 (``os._exit(1)``): the kill-and-restart test uses it to die at the worst moment.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rcs_terminal.domain.message import StoredMessage, Technology, canonical_peer
from rcs_terminal.engine.capabilities import NOT_RCS, Capabilities
from rcs_terminal.engine.carriers import (
    Carrier,
    CarrierResult,
    PagerCarrier,
    fthttp_accept_contact,
)
from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.iscomposing import IsComposing, build_iscomposing
from rcs_terminal.protocol.up import contenttypes as ct

if TYPE_CHECKING:
    from rcs_terminal.engine.messaging import MessagingService

__all__ = ["CRASH_AFTER_STORE", "OutgoingResult", "OutgoingSender"]

log = logging.getLogger(__name__)

CRASH_AFTER_STORE = "RCS_TERMINAL_TEST_CRASH_AFTER_STORE"
"""Environment switch for the kill-and-restart test (see the module docstring)."""

RETRY_STATUSES = frozenset({408, 500, 503, 504})
"""Final answers after which a standalone send is tried once more (None counts too)."""

DISPOSITION_ORDER = ("positive-delivery", "negative-delivery", "display")
SMS_FALLBACK_NOTE = "sent by SMS fallback"
COMPOSING_REFRESH = 60
"""The ``refresh`` of our ``active`` is-composing indications, in seconds."""

ResultTechnology = Literal["pager", "large", "session", "sms-fallback"]


@dataclass(frozen=True, slots=True)
class OutgoingResult:
    """What became of a message we sent.

    Attributes:
        message_id: its imdn.Message-ID.
        technology: ``pager``, ``large``, ``session`` or ``sms-fallback``.
        state: its delivery state now (a :class:`~rcs_terminal.domain.message.DeliveryState`
            value: ``sent``, ``failed``, ``sms_fallback``...).
        status: the network's final status (SIP, or MSRP), when there was one.
        reason: the reason phrase, or why it failed or fell back.
    """

    message_id: str
    technology: ResultTechnology
    state: str
    status: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        """Whether the message left (by RCS or by SMS fallback)."""
        return self.state not in ("failed", "queued", "sending")

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-compatible dict."""
        return {
            "message_id": self.message_id,
            "technology": self.technology,
            "state": self.state,
            "status": self.status,
            "reason": self.reason,
        }


class OutgoingSender:
    """Sends messages for one SIM (see the module docstring).

    Args:
        service: the SIM's messaging service.
    """

    def __init__(self, service: MessagingService) -> None:
        self.service = service

    async def submit(
        self,
        peer: str,
        content_type: str,
        body: bytes,
        *,
        technology: str | None = None,
        preview: str | None = None,
        file_path: str | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> OutgoingResult:
        """Store a new message (committed), then :meth:`transmit` it.

        Raises:
            ParseError: ``peer`` is not a tel:/sip: URI, a number or ``user@host``.
            StoreError: the store refused the message (too large).
        """
        service = self.service
        target = service.normalize(peer)
        chatbot = service.is_chatbot(target)
        store = service.store
        message_id = service.new_message_id()
        conversation = store.conversation_for(service.slot, target)
        conversation_id = conversation.conversation_id or service.new_uuid()
        stored = store.add_outgoing(
            service.slot,
            target,
            content_type,
            body,
            message_id=message_id,
            now=service.now(),
            preview=preview,
            file_path=file_path,
            contribution_id=service.new_uuid(),
            cpim_conversation_id=conversation_id,
            disposition_requested=frozenset(service.settings.request_dispositions),
            extra=extra,
            is_chatbot=chatbot or None,
        )
        service.publish_state(stored)
        if os.environ.get(CRASH_AFTER_STORE) == "1":
            os._exit(1)  # the kill-and-restart test: die with the message only in the store
        return await self.transmit(stored, technology=technology)

    async def transmit(
        self, message: StoredMessage, *, technology: str | None = None
    ) -> OutgoingResult:
        """Send a stored outgoing message (new, or pending since a restart).

        Args:
            message: the message as stored.
            technology: force a carrier (``pager``, ``large``, ``session``).
        """
        service = self.service
        peer = message.peer_uri
        chatbot = service.is_chatbot(peer)
        if not chatbot and technology is None:
            caps = await self._capabilities(peer)
            if caps is not None and _not_rcs(caps):
                answer = f"{caps.status} {caps.reason or ''}".strip()
                why = f"{peer} is not an RCS user (OPTIONS {answer})"
                return self._give_up(message, chatbot, caps.status, why)
        try:
            body = self.cpim_for(message)
        except LocalProtocolError as exc:
            return self._finish_failed(message, None, f"cannot build the message: {exc}")
        plan = self._plan(peer, len(body), chatbot, technology)
        if isinstance(plan, str):
            return self._finish_failed(message, None, plan)
        headers = service.cpm_headers(message.cpim_conversation_id, message.contribution_id)
        if ct.base_type(message.content_type) == ct.FTHTTP:
            headers.append(("Accept-Contact", fthttp_accept_contact()))
        change = service.store.mark_sending(message.message_id, service.now())
        if change is not None and change.changed:
            service.publish_state(change.message)
        result = CarrierResult(False, None, "no carrier")
        for carrier in plan:
            result = await self._deliver(carrier, peer, body, headers, chatbot)
            if result.ok:
                break
            log.info("%s delivery to %s failed: %s", carrier.name, peer, result)
        if result.ok:
            kind = Technology(carrier.name)
            change = service.store.mark_sent(message.message_id, service.now(), technology=kind)
            state = message.state.value
            if change is not None:
                state = change.message.state.value
                if change.changed:
                    service.publish_state(change.message)
            name: ResultTechnology = carrier.name  # type: ignore[assignment]
            return OutgoingResult(message.message_id, name, state, result.status, result.reason)
        why = f"{result.status or 'no answer'} {result.reason or ''}".strip()
        return self._give_up(message, chatbot, result.status, f"RCS delivery failed: {why}")

    def cpim_for(self, message: StoredMessage) -> bytes:
        """The CPIM message of a stored outgoing message (the same bytes on every attempt).

        Raises:
            LocalProtocolError: a value cannot be written (a broken peer URI).
        """
        service = self.service
        wanted = [d for d in DISPOSITION_ORDER if d in message.disposition_requested]
        return cpim.build(
            from_=service.identity,
            to=message.peer_uri,
            datetime=dt.datetime.fromtimestamp(message.created_at, dt.UTC),
            body=message.body,
            content_type=message.content_type,
            message_id=message.message_id,
            disposition_notification=wanted,
        )

    async def send_composing(self, peer: str, active: bool) -> None:
        """Send an is-composing indication (RFC 3994): bare in a MESSAGE in pager mode, in
        CPIM through any other carrier. Not stored; a refusal is only logged."""
        service = self.service
        when = dt.datetime.fromtimestamp(service.now(), dt.UTC).replace(microsecond=0)
        indication = (
            IsComposing("active", contenttype="text/plain", refresh=COMPOSING_REFRESH)
            if active
            else IsComposing("idle", lastactive=when, contenttype="text/plain")
        )
        body = build_iscomposing(indication)
        chatbot = service.is_chatbot(peer)
        pager = service.carriers["pager"]
        if isinstance(pager, PagerCarrier):
            result = await pager.deliver_body(peer, body, ct.ISCOMPOSING, chatbot=chatbot)
        else:
            wrapped = cpim.build(
                from_=service.identity,
                to=peer,
                datetime=when,
                body=body,
                content_type=ct.ISCOMPOSING,
            )
            result = await pager.deliver(peer, wrapped, headers=[], chatbot=chatbot)
        if not result.ok:
            log.info("is-composing to %s not accepted: %s %s", peer, result.status, result.reason)

    def file_transfer_client(self) -> Any:
        """An FT-HTTP client from the SIM's provisioned ``MESSAGING/FileTransfer`` (through
        the trace, the lab's names, no DNS), or None when FT is not provisioned."""
        service = self.service
        config = service.config
        if config is None or not config.messaging.file_transfer.ft_http_cs_uri:
            return None
        from rcs_terminal.engine.filetransfer import FileTransferClient, profile_files_dir
        from rcs_terminal.engine.http import HttpClient
        from rcs_terminal.engine.transport import client_tls_context

        params = service.params
        http = HttpClient(
            service.endpoint.trace,
            sim=service.slot,
            owner=service.profile.name,
            hosts=service.lab.names if service.lab is not None else None,
            allow_dns=False,
            ssl_context=client_tls_context(verify=params.verify_tls, ca_file=params.ca_file),
        )
        return FileTransferClient.from_config(
            http,
            config,
            identity=service.identity,
            files_dir=profile_files_dir(service.profile.name or "default"),
        )

    # ------------------------------------------------------------------ steps

    async def _capabilities(self, peer: str) -> Capabilities | None:
        service = self.service.capabilities
        if service is None:
            return None
        cached = service.cached(peer)
        if cached is not None:
            return cached
        return await service.query(peer)

    def _plan(
        self, peer: str, size: int, chatbot: bool, technology: str | None
    ) -> list[Carrier] | str:
        """The carriers to try, in order, for a CPIM body of ``size`` bytes (see the module
        docstring, step 3), or why there is none."""
        service = self.service
        settings, carriers = service.settings, service.carriers
        plan: list[Carrier] = []
        if technology is None and chatbot and self._session_with_bot(peer):
            technology = "session"
        if technology == "session" and "session" in carriers:
            plan.append(carriers["session"])
            technology = None  # refused: standalone instead (Samsung's "fall back to SLM")
        if settings.max_size is not None and size > settings.max_size:
            return plan or (
                f"the message is {size} bytes; the network allows standalone messages "
                f"up to {settings.max_size} bytes (MaxSize)"
            )
        wanted = technology or ("large" if size > settings.switchover_size else "pager")
        if wanted in carriers:
            plan.append(carriers[wanted])
        pager = carriers.get("pager")
        if pager is not None and pager not in plan and size <= settings.pager_limit:
            plan.append(pager)  # large mode missing or refused: a MESSAGE still carries it
        return plan or (
            f"{wanted} messaging is not available here and the message ({size} bytes) is "
            f"too large for pager mode (up to {settings.pager_limit} bytes)"
        )

    def _session_with_bot(self, peer: str) -> bool:
        """Whether a chatbot is messaged in a chat session (ChatbotMsgTech, formats.md §9):
        1 (sessions only) always; 2 (both) when the bot announced sessions; otherwise
        (3, or not provisioned: China's platforms) never."""
        service = self.service
        tech = service.settings.chatbot_msg_tech
        if tech == 1:
            return True
        if tech == 2 and service.capabilities is not None:
            cached = service.capabilities.cached(peer)
            return cached is not None and "chatbot" in cached.services
        return False

    async def _deliver(
        self,
        carrier: Carrier,
        peer: str,
        body: bytes,
        headers: list[tuple[str, str]],
        chatbot: bool,
    ) -> CarrierResult:
        result = await carrier.deliver(peer, body, headers=list(headers), chatbot=chatbot)
        if not result.ok and (result.status is None or result.status in RETRY_STATUSES):
            log.info("%s delivery to %s failed (%s); retrying once", carrier.name, peer, result)
            result = await carrier.deliver(peer, body, headers=list(headers), chatbot=chatbot)
        return result

    def _give_up(
        self, message: StoredMessage, chatbot: bool, status: int | None, why: str
    ) -> OutgoingResult:
        """SMS fallback when the peer is a person with a number and the user allows it;
        otherwise ``failed``."""
        service = self.service
        if chatbot or not service.settings.sms_fallback or not _has_number(message.peer_uri):
            return self._finish_failed(message, status, why)
        reason = f"{why}; {SMS_FALLBACK_NOTE}"
        change = service.store.mark_sms_fallback(message.message_id, service.now(), reason=reason)
        state = message.state.value
        if change is not None:
            state = change.message.state.value
            if change.changed:
                service.publish_state(change.message)
        return OutgoingResult(message.message_id, "sms-fallback", state, status, reason)

    def _finish_failed(
        self, message: StoredMessage, status: int | None, why: str
    ) -> OutgoingResult:
        service = self.service
        change = service.store.mark_failed(message.message_id, why, service.now())
        state = message.state.value
        technology: ResultTechnology = "pager"
        if change is not None:
            state = change.message.state.value
            if change.changed:
                service.publish_state(change.message)
            if change.message.technology.value in ("large", "session"):
                technology = change.message.technology.value  # type: ignore[assignment]
        return OutgoingResult(message.message_id, technology, state, status, why)


def _not_rcs(caps: Capabilities) -> bool:
    """A definite "not an RCS user": 404/405/604, or an answer without a messaging tag."""
    if caps.status in NOT_RCS:
        return True
    return caps.status is not None and 200 <= caps.status < 300 and not caps.rcs


def _has_number(peer: str) -> bool:
    """Whether an SMS could reach ``peer``: its canonical form is a ``tel:`` number."""
    return canonical_peer(peer).startswith("tel:")
