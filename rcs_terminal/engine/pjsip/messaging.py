"""Pager-mode messaging of one pjsip SIM (CPM standalone messaging; formats.md §9).

Every message is built and read by our protocol core (:mod:`.pager`); pjsip only carries it:

- out: ``pjsua2.Buddy.sendInstantMessage`` sends the CPIM body with the pager headers (pjsip
  answers Kamailio's 407 itself) and ``onInstantMessageStatus`` reports the answer, matched
  back to the waiting send by the ``imdn.Message-ID`` of the body it echoes;
- in: ``Account.onInstantMessage`` hands over the whole request (``rdata.wholeMsg``), read by
  :func:`~.pager.read_incoming`; a message asking for ``positive-delivery`` gets a
  ``delivered`` IMDN back, sent the same way; an IMDN about one of ours moves it on.

:class:`PagerMessaging` stores each message in the
:class:`~rcs_terminal.domain.store.MessageStore` before sending it and publishes the native
engine's events: ``MessageStateChanged`` (sending, sent, failed, delivered...) and
``MessageReceived`` (a retransmission is stored and announced once). pjsua answers every
incoming MESSAGE with 200 before the application sees it, so a malformed one cannot be
refused with 400/415: it is logged and kept in :attr:`PagerMessaging.rejected`.

Bodies over ``SwitchoverSize`` (large message mode) and chat sessions need INVITE and MSRP,
which pjsip does not have: they raise :class:`~rcs_terminal.errors.NativeEngineRequiredError`.
Buddies are deleted explicitly before the account shuts down (pjsua2's required order).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rcs_terminal.domain.events import MessageReceived, MessageStateChanged
from rcs_terminal.domain.message import StateChange, StoredMessage, Technology
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.pjsip.library import dispose, wire_bytes
from rcs_terminal.engine.pjsip.pager import (
    DEFAULT_DISPOSITIONS,
    IncomingReceipt,
    OutgoingPager,
    build_delivery_receipt,
    build_pager,
    looks_like_bot,
    pager_headers,
    read_incoming,
)
from rcs_terminal.errors import CpimParseError, NativeEngineRequiredError, NetworkError, ParseError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.sip.message import Request, parse_message

if TYPE_CHECKING:
    from rcs_terminal.engine.pjsip.account import PjsipConfig
    from rcs_terminal.engine.pjsip.library import PjsipLibrary

__all__ = ["SEND_TIMEOUT", "PagerMessaging"]

log = logging.getLogger(__name__)

SEND_TIMEOUT = 40.0
"""Seconds to wait for the final answer to a MESSAGE (pjsip's Timer F is 32 s)."""
KEEP = 200
"""How many receipt statuses and unreadable messages are kept for diagnostics."""


class PagerMessaging:
    """Pager-mode messaging of one pjsip SIM (see the module docstring).

    Args:
        library: the pjsip library.
        account: the SIM's ``pjsua2.Account`` (its IM callbacks must reach :meth:`incoming`
            and :meth:`status`).
        config: the SIM's configuration.
        store: where messages are kept.
        bus: where message events go.
        clock: wall-clock seconds (store times, CPIM DateTime).
        new_id: the source of message, Conversation and Contribution ids.
    """

    def __init__(
        self,
        library: PjsipLibrary,
        account: Any,
        config: PjsipConfig,
        *,
        store: MessageStore,
        bus: EventBus | None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.library = library
        self.account = account
        self.config = config
        self.store = store
        self.bus = bus
        self.clock = clock
        self.new_id = new_id
        self._buddies: dict[str, Any] = {}
        self._waiting: dict[str, asyncio.Future[tuple[int, str]]] = {}
        self.receipts: dict[str, int] = {}
        """Status of the latest IMDNs we sent, by the IMDN's own message id."""
        self.rejected: list[ParseError] = []
        """The latest incoming MESSAGEs we could not read (pjsua had answered them 200)."""

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        target: str,
        content_type: str,
        body: bytes,
        *,
        chatbot: bool | None = None,
        timeout: float = SEND_TIMEOUT,
    ) -> StoredMessage:
        """Store and send a message in pager mode; return it once the network answered.

        A refusal by the network, no answer within ``timeout`` or pjsip failing to send
        leave the message ``failed`` (with the reason); it is returned all the same.

        Raises:
            NativeEngineRequiredError: the CPIM body exceeds ``SwitchoverSize`` (large
                message mode needs INVITE and MSRP); nothing is stored.
            LocalProtocolError: the target cannot be written in CPIM.
        """
        now = self.clock()
        message_id = self.new_id()
        bot = looks_like_bot(target) if chatbot is None else chatbot
        contribution = self.new_id()
        pager = build_pager(
            sender=self.config.impu,
            target=target,
            content_type=content_type,
            body=body,
            message_id=message_id,
            conversation_id=contribution,  # provisional: the conversation may have its own
            contribution_id=contribution,
            now=dt.datetime.fromtimestamp(now, dt.UTC),
            chatbot=bot,
        )
        if len(pager.cpim) > self.config.switchover_size:
            raise NativeEngineRequiredError(
                f"a {len(pager.cpim)}-byte message exceeds the pager-mode limit of "
                f"{self.config.switchover_size} bytes: large message mode needs the native engine"
            )
        conversation = self.store.conversation_for(self.config.slot, target).conversation_id
        if conversation is None:
            conversation = self.new_id()
        headers = pager_headers(
            chatbot=bot, conversation_id=conversation, contribution_id=contribution
        )
        pager = replace(pager, headers=headers)
        self.store.add_outgoing(
            self.config.slot, target, content_type, body, message_id=message_id, now=now,
            technology=Technology.PAGER, cpim_conversation_id=conversation,
            contribution_id=contribution, disposition_requested=frozenset(DEFAULT_DISPOSITIONS),
        )  # fmt: skip
        self._publish(self.store.mark_sending(message_id, now, technology=Technology.PAGER))
        future: asyncio.Future[tuple[int, str]] = self.library.loop.create_future()
        self._waiting[message_id] = future
        try:
            self._transmit(pager)
            code, reason = await asyncio.wait_for(asyncio.shield(future), timeout)
        except NetworkError as exc:
            code, reason = 503, exc.message
        except TimeoutError:
            code, reason = 408, "no answer"
        finally:
            self._waiting.pop(message_id, None)
        if 200 <= code < 300:
            self._publish(self.store.mark_sent(message_id, self.clock()))
        else:
            self._publish(self.store.mark_failed(message_id, f"{code} {reason}", self.clock()))
        found = self.store.message(message_id)
        assert found is not None
        return found

    def _transmit(self, pager: OutgoingPager) -> None:
        pj = self.library.pj
        prm = pj.SendInstantMessageParam()
        prm.contentType = cpim.CONTENT_TYPE
        prm.content = pager.cpim.decode("utf-8")
        for name, value in pager.headers:
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        buddy = self._buddy(pager.target)
        self.library.call("send a MESSAGE", lambda: buddy.sendInstantMessage(prm))

    def _buddy(self, uri: str) -> Any:
        buddy = self._buddies.get(uri)
        if buddy is None:
            pj = self.library.pj
            config = pj.BuddyConfig()
            config.uri = uri
            config.subscribe = False
            buddy = pj.Buddy()
            self.library.call("add a buddy", lambda: buddy.create(self.account, config))
            self._buddies[uri] = buddy  # referenced until close(): pjsua2 owns the C++ side
        return buddy

    def close(self) -> None:
        """Drop the buddies (before the account shuts down) and end waiting sends."""
        for future in self._waiting.values():
            if not future.done():
                future.set_result((503, "account closed"))
        self._waiting.clear()
        self.library.ensure_thread()
        buddies, self._buddies = self._buddies, {}
        for buddy in buddies.values():
            dispose(buddy)  # before the account's shutdown(), which would delete it too

    # ------------------------------------------------------------------ callbacks

    def status(self, prm: Any) -> None:
        """``onInstantMessageStatus``: the final answer to one of our MESSAGEs."""
        code, reason = int(prm.code), str(prm.reason)
        try:
            message_id = cpim.parse(wire_bytes(str(prm.msgBody))).message_id
        except CpimParseError:
            return
        if message_id is None:
            return
        future = self._waiting.get(message_id)
        if future is not None and not future.done():
            future.set_result((code, reason))
        else:
            self.receipts[message_id] = code
            if len(self.receipts) > KEEP:
                del self.receipts[next(iter(self.receipts))]

    def incoming(self, prm: Any) -> None:
        """``onInstantMessage``: a MESSAGE (or an IMDN) arrived."""
        raw = wire_bytes(str(prm.rdata.wholeMsg))
        try:
            request = parse_message(raw)
            if not isinstance(request, Request):
                return
            item = read_incoming(request)
        except ParseError as exc:
            self.rejected.append(exc)
            del self.rejected[:-KEEP]
            log.warning("SIM %s: unreadable MESSAGE: %s", self.config.slot, exc)
            return
        now = self.clock()
        if isinstance(item, IncomingReceipt):
            note = item.notification
            self._publish(self.store.apply_imdn(note.message_id, note.status, now, kind=note.kind))
            return
        stored, new = self.store.add_incoming(
            self.config.slot, item.sender, item.content_type, item.body,
            message_id=item.message_id, now=now,
            sent_at=item.sent_at.timestamp() if item.sent_at else None,
            technology=Technology.PAGER, traffic_type=item.traffic_type,
            contribution_id=item.contribution_id, cpim_conversation_id=item.conversation_id,
            disposition_requested=item.dispositions,
        )  # fmt: skip
        if new and self.bus is not None:
            self.bus.publish(
                MessageReceived(self.config.slot, stored.message_id, stored.conversation_id)
            )
        if "positive-delivery" in item.dispositions:
            receipt = build_delivery_receipt(
                item,
                sender=self.config.impu,
                now=dt.datetime.fromtimestamp(now, dt.UTC),
                new_message_id=self.new_id(),
            )
            try:
                self._transmit(receipt)
            except NetworkError as exc:
                log.warning("SIM %s: delivery receipt not sent: %s", self.config.slot, exc)

    def _publish(self, change: StateChange | None) -> None:
        if change is None or not change.changed or self.bus is None:
            return
        message = change.message
        self.bus.publish(
            MessageStateChanged(self.config.slot, message.message_id, message.state.value)
        )
