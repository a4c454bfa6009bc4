"""Receiving messages: the SIP MESSAGE handler, CPIM from every carrier, and lab SMS.

Every received CPIM message goes through :meth:`IncomingHandler.receive`, whichever way it
came (a pager-mode MESSAGE here; large message mode or a chat session from the MSRP
carriers, through ``MessagingService.receive_cpim``):

- an IMDN (``Content-Disposition: notification`` or ``message/imdn+xml``) updates the state
  of one of our messages and is not stored;
- an is-composing document (RFC 3994) publishes
  :class:`~rcs_terminal.domain.events.IsComposingChanged` and is not stored;
- anything else is **committed to the store before the answer goes back**, whatever its
  content type (unknown types and payloads that do not parse are kept with their raw body
  and shown as unreadable, :mod:`rcs_terminal.domain.content`). A message already stored
  (same sender and imdn.Message-ID: the sender did not see our 200) is answered again and
  not stored twice. A ``delivered`` receipt follows the answer when the sender asked for one.

Answers (RFC 3428 §7): 200 for a message taken (as recipient we answer 200 like handsets
do; the 202 that CMCC's network sends back to a *sender* is the network's store-and-forward
answer, which :class:`~rcs_terminal.engine.carriers.PagerCarrier` accepts as success),
400 with the parser's reason for a CPIM wrapper, IMDN or is-composing document that does not
parse, 413 for a body the store refuses, 415 (with ``Accept``) for a MESSAGE body that is
none of CPIM, a bare IMDN, a bare is-composing document or plain text.

Plain SMS (the lab's SMS centre, :mod:`rcs_terminal.engine.sms`) are stored as text messages
with the technology ``sms`` by :meth:`IncomingHandler.run_sms_inbox`, while a front end runs it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcs_terminal.domain.content import describe
from rcs_terminal.domain.events import IsComposingChanged, MessageReceived
from rcs_terminal.domain.message import Technology, canonical_peer
from rcs_terminal.engine.sip_endpoint import Scheduled
from rcs_terminal.errors import NetworkError, ParseError, StoreError
from rcs_terminal.protocol import cpim as cpim_format
from rcs_terminal.protocol.imdn import parse_imdn
from rcs_terminal.protocol.iscomposing import IsComposing, parse_iscomposing
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey
from rcs_terminal.protocol.up import contenttypes as ct

if TYPE_CHECKING:
    from rcs_terminal.engine.messaging import MessagingService

__all__ = ["ACCEPTED_TYPES", "IncomingHandler", "Verdict"]

log = logging.getLogger(__name__)

ACCEPTED_TYPES = (ct.CPIM, ct.IMDN, ct.ISCOMPOSING, ct.TEXT_PLAIN)
"""What a MESSAGE body may be (the ``Accept`` of a 415)."""

COMPOSING_TIMEOUT = 120
"""Seconds an ``active`` indication without ``refresh`` lasts (RFC 3994 §4.2)."""

_TECHNOLOGIES = {t.value: t for t in Technology}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a received message.

    Attributes:
        status: the status to answer (200, 400, 413, 415).
        reason: the reason phrase for an error, None for the default one.
    """

    status: int
    reason: str | None = None


class IncomingHandler:
    """Receives messages for one SIM (see the module docstring).

    Args:
        service: the SIM's messaging service.
    """

    def __init__(self, service: MessagingService) -> None:
        self.service = service
        self._composing: dict[str, Scheduled] = {}

    # ------------------------------------------------------------------ SIP MESSAGE

    def on_message(self, request: Request, key: TransactionKey) -> Response | None:
        """The endpoint's MESSAGE handler: answers once the message is handled."""
        try:
            peer = sender_of(request)
        except ParseError as exc:
            return build_response(request, 400, _phrase(exc.reason))
        self.service.spawn(self._answer(request, key, peer))
        return None

    async def _answer(self, request: Request, key: TransactionKey, peer: str) -> None:
        raw_type = request.content_type or ""
        media = ct.base_type(raw_type)
        if media == ct.CPIM:
            verdict = await self.receive(peer, request.body, "pager", request.headers)
        elif media == ct.IMDN:
            verdict = self._bare_imdn(request.body)
        elif media == ct.ISCOMPOSING:
            verdict = self._composing_document(peer, request.body)
        elif media == ct.TEXT_PLAIN:
            verdict = self._bare_text(peer, request, raw_type)
        else:
            verdict = Verdict(415, "Unsupported Media Type")
        service = self.service
        response = build_response(
            request, verdict.status, verdict.reason, to_tag=service.endpoint.new_id()
        )
        if verdict.status == 415:
            response.headers.add("Accept", ", ".join(ACCEPTED_TYPES))
        service.endpoint.respond(key, response)

    # ------------------------------------------------------------------ CPIM

    async def receive(
        self, peer: str, data: bytes, technology: str, sip_headers: Headers | None
    ) -> Verdict:
        """Handle one received CPIM message (see the module docstring)."""
        try:
            message = cpim_format.parse(data)
            if message.is_imdn:
                self.service.imdn.apply(parse_imdn(message.decoded_body()))
                return Verdict(200)
            body = message.decoded_body()
        except ParseError as exc:
            log.info("unreadable message from %s: %s", peer, exc)
            return Verdict(exc.status_hint or 400, _phrase(exc.reason))
        content_type = message.content_headers.get("Content-Type") or "text/plain"
        if ct.base_type(content_type) == ct.ISCOMPOSING:
            return self._composing_document(peer, body)
        sent = message.datetime
        message_id = message.message_id or _fallback_id(sip_headers, self.service)
        return self._store(
            peer,
            content_type,
            body,
            message_id=message_id,
            technology=technology,
            sent_at=None if sent is None else sent.timestamp(),
            traffic_type=message.traffic_type,
            dispositions=message.disposition_notification,
            sip_headers=sip_headers,
        )

    def _store(
        self,
        peer: str,
        content_type: str,
        body: bytes,
        *,
        message_id: str,
        technology: str,
        sent_at: float | None,
        traffic_type: str | None,
        dispositions: frozenset[str],
        sip_headers: Headers | None,
    ) -> Verdict:
        service = self.service
        content = describe(content_type, body)
        extra: dict[str, object] = {}
        if content.error is not None:
            extra["unreadable"] = content.error
        conversation_id = contribution_id = None
        if sip_headers is not None:
            conversation_id = sip_headers.get("Conversation-ID")
            contribution_id = sip_headers.get("Contribution-ID")
        try:
            stored, is_new = service.store.add_incoming(
                service.slot,
                peer,
                content_type,
                body,
                message_id=message_id,
                now=service.now(),
                sent_at=sent_at,
                technology=_TECHNOLOGIES.get(technology, Technology.UNKNOWN),
                preview=None if content.kind == "text" else content.summary,
                traffic_type=traffic_type,
                contribution_id=contribution_id,
                cpim_conversation_id=conversation_id,
                disposition_requested=dispositions,
                extra=extra or None,
                is_chatbot=service.is_chatbot(peer) or None,
            )
        except StoreError as exc:
            log.warning("message from %s not stored: %s", peer, exc)
            return Verdict(413, "Message Too Large")
        self._stop_composing(peer)
        if is_new:
            service.bus.publish(
                MessageReceived(service.slot, stored.message_id, stored.conversation_id)
            )
        if service.imdn.wants_delivery_report(stored):
            service.spawn(service.imdn.send_delivered(stored))
        return Verdict(200)

    # ------------------------------------------------------------------ bare bodies

    def _bare_imdn(self, data: bytes) -> Verdict:
        try:
            self.service.imdn.apply(parse_imdn(data))
        except ParseError as exc:
            return Verdict(400, _phrase(exc.reason))
        return Verdict(200)

    def _bare_text(self, peer: str, request: Request, content_type: str) -> Verdict:
        """A MESSAGE with plain text and no CPIM (interworking, simple SIP clients)."""
        return self._store(
            peer,
            content_type,
            request.body,
            message_id=_fallback_id(request.headers, self.service),
            technology="pager",
            sent_at=None,
            traffic_type=None,
            dispositions=frozenset(),
            sip_headers=request.headers,
        )

    # ------------------------------------------------------------------ is-composing

    def _composing_document(self, peer: str, data: bytes) -> Verdict:
        try:
            indication = parse_iscomposing(data)
        except ParseError as exc:
            return Verdict(400, _phrase(exc.reason))
        self._composing_changed(peer, indication)
        return Verdict(200)

    def _composing_changed(self, peer: str, indication: IsComposing) -> None:
        service = self.service
        key = canonical_peer(peer)
        previous = self._composing.pop(key, None)
        if previous is not None:
            previous.cancel()
        active = indication.state == "active"
        if active:
            lasts = indication.refresh or COMPOSING_TIMEOUT
            when = service.endpoint.now() + lasts
            self._composing[key] = service.endpoint.call_at(when, lambda: self._expire(peer))
        service.bus.publish(IsComposingChanged(service.slot, peer, active))

    def _expire(self, peer: str) -> None:
        self._composing.pop(canonical_peer(peer), None)
        self.service.bus.publish(IsComposingChanged(self.service.slot, peer, False))

    def _stop_composing(self, peer: str) -> None:
        """A message from a typing peer ends its indication (RFC 3994 §4.2)."""
        scheduled = self._composing.pop(canonical_peer(peer), None)
        if scheduled is not None:
            scheduled.cancel()
            self.service.bus.publish(IsComposingChanged(self.service.slot, peer, False))

    # ------------------------------------------------------------------ SMS

    def receive_sms(self, sender: str, text: str, *, seq: int | None = None) -> bool:
        """Store a plain SMS (technology ``sms``); returns whether it was new."""
        service = self.service
        peer = canonical_peer(sender)
        message_id = f"sms-{peer}-{seq}" if seq is not None else service.new_message_id()
        try:
            stored, is_new = service.store.add_incoming(
                service.slot,
                peer,
                "text/plain;charset=UTF-8",
                text.encode("utf-8", errors="replace"),
                message_id=message_id,
                now=service.now(),
                technology=Technology.SMS,
            )
        except StoreError as exc:
            log.warning("SMS from %s not stored: %s", sender, exc)
            return False
        if is_new:
            service.bus.publish(
                MessageReceived(service.slot, stored.message_id, stored.conversation_id)
            )
        return is_new

    async def run_sms_inbox(self, smsc_url: str, *, retry_delay: float = 5.0) -> None:
        """Read the SIM's SMS from the lab SMS centre until cancelled (a long poll, so an
        idle inbox costs one pending request). Data SMS (to an application port, such as
        the RCC.14 OTP) are not messages and are skipped."""
        from rcs_terminal.engine.sms import SmsReceiver

        service = self.service
        receiver = SmsReceiver(
            smsc_url, service.sim_msisdn, trace=service.endpoint.trace, sim=service.slot
        )
        try:
            await receiver.skip_existing()
            while True:
                try:
                    sms = await receiver.wait_for(lambda s: s.port == 0, 3600.0)
                except NetworkError as exc:
                    log.info("SMS centre not reachable (%s); trying again", exc)
                    await asyncio.sleep(retry_delay)
                    continue
                if sms is not None:
                    self.receive_sms(sms.sender, sms.text, seq=sms.seq)
        finally:
            await receiver.close()


def sender_of(request: Request) -> str:
    """The sender of a request: the network-asserted identity, else the From URI.

    Raises:
        SipParseError: the header is malformed.
    """
    asserted = request.addresses("P-Asserted-Identity")
    if asserted:
        return asserted[0].uri
    return request.from_.uri


def _fallback_id(headers: Headers | None, service: MessagingService) -> str:
    """An id for a message without imdn.Message-ID: its SIP Call-ID (a retransmission
    has the same one), else a fresh one."""
    call_id = headers.get("Call-ID") if headers is not None else None
    return f"sip-{call_id}" if call_id else service.new_message_id()


def _phrase(text: str) -> str:
    """A reason phrase: one line, printable, not too long."""
    line = "".join(ch if ch.isprintable() else " " for ch in text)
    line = " ".join(line.split())[:120]
    return line or "Bad Request"
