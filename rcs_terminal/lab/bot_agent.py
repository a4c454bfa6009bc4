"""A lab chatbot's SIP side: a user agent that registers like any UA and talks CPM pager mode.

Each bot of the platform runs the engine's own SIP stack: a
:class:`~rcs_terminal.engine.sip_endpoint.SipEndpoint` over TCP to the lab registrar and a
:class:`~.bot_identity.BotRegistration` whose Contact carries the chatbot tags (its identity
and tags: :mod:`.bot_identity`). OPTIONS are answered with the same tags.

Receiving (CPM standalone pager mode, OMA CPM / RCC.07; what Chinese platforms use): a
``MESSAGE`` with a ``message/cpim`` body is answered 200 as soon as it is recorded in the
platform's inbox; then, in order, the bot sends a *delivered* and a *displayed* IMDN when
the sender asked for them (RFC 5438), and its replies from the script interpreter. IMDNs
the handset sends about the bot's own messages are recorded and not answered. A malformed
CPIM body gets 400. Large-message mode and chat sessions (INVITE + MSRP) are not offered:
the bot does not announce them and answers an INVITE 405, so a handset uses pager mode.

Sending: each reply (and each MaaP push) is a ``MESSAGE`` to the user's public identity
(the P-Asserted-Identity the registrar gave the user's request), routed through the
registrar by the Service-Route, with ``P-Preferred-Identity`` the bot, ``Accept-Contact``
and ``P-Preferred-Service`` for CPM standalone, ``Conversation-ID``/``Contribution-ID``,
and a CPIM body from the bot URI with a fresh ``imdn.Message-ID``, ``positive-delivery,
display`` requested and the script's ``maap.Traffic-Type``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rcs_terminal.engine.feature_tags import ICSI
from rcs_terminal.engine.ims_params import PcscfTarget
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.sip_endpoint import SipEndpoint, random_id
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import ParseError
from rcs_terminal.lab.bot_identity import (
    CPM_MSG,
    USER_AGENT,
    BotRegistration,
    BotSubscriber,
    bot_params,
)
from rcs_terminal.lab.bot_inbox import BotInbox
from rcs_terminal.lab.bots.engine import BotEngine
from rcs_terminal.lab.bots.payloads import OutgoingMessage
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import (
    ImdnKind,
    ImdnNotification,
    ImdnStatus,
    build_imdn_cpim,
    parse_imdn,
)
from rcs_terminal.protocol.sip.features import format_feature_tags
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey

__all__ = ["BotAgent", "SendOutcome"]

log = logging.getLogger(__name__)

ALLOW = "MESSAGE, OPTIONS"
ACCEPT = (
    "message/cpim, message/imdn+xml, text/plain, "
    "application/vnd.gsma.botsuggestion.response.v1.0+json, "
    "application/vnd.gsma.botsharedclientdata.v1.0+json, "
    "application/vnd.gsma.rcs-ft-http+xml, application/vnd.gsma.rcspushlocation+xml"
)
MAX_SEEN = 4096
"""Message ids remembered per bot to ignore a message received twice."""


# --------------------------------------------------------------------------- the agent


@dataclass(frozen=True)
class SendOutcome:
    """How a message the bot sent ended.

    Attributes:
        message_id: its ``imdn.Message-ID``.
        status: the SIP status (408 timeout, 503 transport failure), None if unreadable.
        reason: the reason phrase or what went wrong.
    """

    message_id: str
    status: int | None
    reason: str

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class BotAgent:
    """One chatbot on the lab network (see the module docstring).

    Args:
        engine: the bot's script interpreter.
        subscriber: the bot's lab subscriber.
        inbox: where received messages are recorded.
        trace: the lab trace.
        clock: wall-clock time (CPIM ``DateTime``).
        new_id: fresh identifiers (message ids, tags, Call-IDs).
        endpoint_options: extra keyword arguments for the :class:`SipEndpoint`.
    """

    def __init__(
        self,
        engine: BotEngine,
        subscriber: BotSubscriber,
        *,
        inbox: BotInbox,
        trace: TraceRecorder | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = random_id,
        endpoint_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.subscriber = subscriber
        self.inbox = inbox
        self.trace = trace
        self.clock = clock
        self.new_id = new_id
        self._endpoint_options = dict(endpoint_options or {})
        self.endpoint: SipEndpoint | None = None
        self.registration: Registration | None = None
        self._conversations: dict[str, str] = {}
        self._seen: dict[str, None] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # user -> (lock, tasks using it)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def id(self) -> str:
        """The bot's id."""
        return self.engine.script.id

    @property
    def uri(self) -> str:
        """The bot's service id."""
        return self.subscriber.service_id

    @property
    def is_registered(self) -> bool:
        """True while the bot's registration holds."""
        return self.registration is not None and self.registration.is_registered

    # ------------------------------------------------------------------ life

    async def start(self, target: PcscfTarget) -> None:
        """Register with the registrar at ``target``.

        Raises:
            RegistrationFailed: the registrar refused or could not be reached.
        """
        params = bot_params(self.subscriber, target)
        endpoint = SipEndpoint(
            params,
            trace=self.trace,
            owner="lab",
            new_id=self.new_id,
            **self._endpoint_options,
        )
        self.endpoint = endpoint
        self.registration = BotRegistration(endpoint, max_attempts=2)
        endpoint.on_request("MESSAGE", self._on_message)
        endpoint.on_request("OPTIONS", self._on_options)
        await self.registration.start()

    async def stop(self) -> None:
        """Finish sending, de-register and close the connection."""
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        for task in self._tasks:
            task.cancel()
        if self.registration is not None:
            await self.registration.stop(timeout=2.0)
        if self.endpoint is not None:
            self.endpoint.close()

    async def idle(self) -> None:
        """Wait until every reply being sent has been sent (tests, orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        to: str,
        content_type: str,
        body: bytes,
        *,
        traffic_type: str | None = None,
        message_id: str | None = None,
        conversation_id: str | None = None,
        disposition: Iterable[str] = ("positive-delivery", "display"),
        content_disposition: str | None = None,
    ) -> SendOutcome:
        """Send one CPM standalone message (``content_type`` + ``body`` inside CPIM) to the
        user ``to`` (a ``tel:`` or ``sip:`` URI)."""
        message_id = message_id or self.new_id()
        if self.endpoint is None:
            return SendOutcome(message_id, 503, "the bot is not started")
        wrapped = cpim.build(
            from_=self.uri,
            to=to,
            datetime=self._now(),
            body=body,
            content_type=content_type,
            message_id=message_id,
            disposition_notification=disposition,
            traffic_type=traffic_type,
            content_disposition=content_disposition,
        )
        request = self._message(to, wrapped, conversation_id or self._conversation(to))
        outcome = await self.endpoint.send(request)
        return SendOutcome(message_id, outcome.status, outcome.reason)

    async def send_reply(self, to: str, reply: OutgoingMessage) -> SendOutcome:
        """Send one message the interpreter built."""
        return await self.send(to, reply.content_type, reply.body, traffic_type=reply.traffic_type)

    def _message(self, to: str, body: bytes, conversation_id: str) -> Request:
        assert self.registration is not None
        headers = Headers()
        for route in self.registration.routes:
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{self.uri}>;tag={self.new_id()}")
        headers.add("To", f"<{to}>")
        headers.add("Call-ID", f"{self.new_id()}{self.new_id()}")
        headers.add("CSeq", "1 MESSAGE")
        headers.add("P-Preferred-Identity", f"<{self.uri}>")
        headers.add("P-Preferred-Service", CPM_MSG)
        headers.add("Accept-Contact", f"*{format_feature_tags({ICSI: [CPM_MSG]})}")
        headers.add("Conversation-ID", conversation_id)
        headers.add("Contribution-ID", str(uuid.uuid4()))
        headers.add("User-Agent", USER_AGENT)
        headers.add("Content-Type", cpim.CONTENT_TYPE)
        return Request("MESSAGE", to, headers, body)

    def _conversation(self, user: str) -> str:
        found = self._conversations.get(user)
        if found is None:
            found = str(uuid.uuid4())
            self._conversations[user] = found
        return found

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    # ------------------------------------------------------------------ receiving

    def _on_options(self, request: Request, key: TransactionKey) -> Response:
        response = build_response(request, 200, to_tag=self.new_id())
        endpoint, registration = self.endpoint, self.registration
        if registration is not None and endpoint is not None and endpoint.is_connected:
            response.headers.add("Contact", registration.contact())
        response.headers.add("Allow", ALLOW)
        response.headers.add("Accept", ACCEPT)
        response.headers.add("User-Agent", USER_AGENT)
        return response

    def _on_message(self, request: Request, key: TransactionKey) -> Response:
        try:
            user = _asserted_user(request)
            conversation = request.headers.get("Conversation-ID")
            if conversation:
                self._conversations[user] = conversation
            if (request.content_type or "").split(";", 1)[0].strip().lower() == cpim.CONTENT_TYPE:
                message = cpim.parse(request.body)
                self._received(user, message)
            elif not _is_composing(request.content_type or ""):
                content_type = request.content_type or "text/plain"
                self.inbox.add(self.id, user, content_type, request.body)
                self._answer(user, content_type, request.body)
        except ParseError as exc:
            status = exc.status_hint if exc.status_hint and exc.status_hint >= 400 else 400
            reason = "".join(ch if ch.isprintable() else " " for ch in exc.reason)[:80]
            return build_response(request, status, f"Bad Request ({reason})", to_tag=self.new_id())
        return build_response(request, 200, to_tag=self.new_id())

    def _received(self, user: str, message: cpim.CpimMessage) -> None:
        content_type = message.content_headers.get("Content-Type") or "text/plain"
        body = message.decoded_body()
        message_id = message.message_id
        if message.is_imdn:
            notification = parse_imdn(body)
            report = {
                "messageId": notification.message_id,
                "kind": notification.kind,
                "status": notification.status,
            }
            self.inbox.add(
                self.id, user, content_type, body, message_id=message_id, kind="imdn", imdn=report
            )
            return
        if _is_composing(content_type):
            return  # RFC 3994 typing indication: not a message, nothing to answer
        self.inbox.add(
            self.id,
            user,
            content_type,
            body,
            message_id=message_id,
            traffic_type=message.traffic_type,
        )
        if message_id is not None:
            if message_id in self._seen:
                return  # the same message again: answered already
            self._seen[message_id] = None
            while len(self._seen) > MAX_SEEN:
                self._seen.pop(next(iter(self._seen)))
        receipts: list[tuple[ImdnKind, ImdnStatus]] = []
        wanted = message.disposition_notification
        if message_id is not None and "positive-delivery" in wanted:
            receipts.append(("delivery", "delivered"))
        if message_id is not None and "display" in wanted:
            receipts.append(("display", "displayed"))
        original = message.datetime or self._now()
        notes = [
            ImdnNotification(message_id or "", original, kind, status) for kind, status in receipts
        ]
        self._answer(user, content_type, body, notes)

    def _answer(
        self,
        user: str,
        content_type: str,
        body: bytes,
        receipts: list[ImdnNotification] | None = None,
    ) -> None:
        try:
            replies = self.engine.handle(user, content_type, body)
        except Exception:  # a script problem must not take the bot down
            log.exception("bot %s failed to answer", self.id)
            replies = []
        task = asyncio.get_running_loop().create_task(self._deliver(user, receipts or [], replies))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, user: str, receipts: list[ImdnNotification], replies: list[OutgoingMessage]
    ) -> None:
        lock, users = self._locks.get(user) or (asyncio.Lock(), 0)
        self._locks[user] = (lock, users + 1)
        try:
            async with lock:
                for note in receipts:
                    await self._send_receipt(user, note)
                for reply in replies:
                    outcome = await self.send_reply(user, reply)
                    if not outcome.ok:
                        log.info(
                            "bot %s: reply to %s failed: %s %s",
                            self.id,
                            user,
                            outcome.status,
                            outcome.reason,
                        )
                        break
        finally:
            lock, users = self._locks[user]
            if users <= 1:
                del self._locks[user]
            else:
                self._locks[user] = (lock, users - 1)

    async def _send_receipt(self, user: str, note: ImdnNotification) -> None:
        if self.endpoint is None:
            return
        body = build_imdn_cpim(
            note, from_=self.uri, to=user, new_message_id=self.new_id(), datetime=self._now()
        )
        await self.endpoint.send(self._message(user, body, self._conversation(user)))


def _asserted_user(request: Request) -> str:
    """Who sent a request: the network-asserted identity, else the From URI.

    Raises:
        SipParseError: the header is malformed (answered 400).
    """
    asserted = request.addresses("P-Asserted-Identity")
    if asserted:
        sip = [a.uri for a in asserted if a.uri.lower().startswith(("sip:", "sips:"))]
        return sip[0] if sip else asserted[0].uri
    return request.from_.uri


def _is_composing(content_type: str) -> bool:
    """An RFC 3994 typing indication (bare or inside CPIM): not a message to answer."""
    return content_type.split(";", 1)[0].strip().lower() == "application/im-iscomposing+xml"
