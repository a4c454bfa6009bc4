"""One SIM's messaging service: what the user sends and receives, in the store, in the loop.

:class:`MessagingService` is the one object front ends (``send``/``listen``, the scenario
runner, the TUI) and carriers talk to for messages of one registered SIM. It is composed of:

- :class:`~rcs_terminal.engine.messaging_outgoing.OutgoingSender`: commit, choose the
  carrier (pager, large, session), deliver, fall back to SMS (OMA CPM standalone messaging;
  formats.md §9; provisioning_sip.md §8);
- :class:`~rcs_terminal.engine.messaging_incoming.IncomingHandler`: the SIP MESSAGE handler
  and :meth:`MessagingService.receive_cpim`, the entry point of every carrier, which commits
  before answering;
- :class:`~rcs_terminal.engine.imdn_tracker.ImdnTracker`: delivery and display receipts
  (RFC 5438) both ways.

:class:`~rcs_terminal.engine.messaging_settings.MessagingSettings` says how the SIM sends.
The store (:class:`~rcs_terminal.domain.store.MessageStore`) is the source of truth for
every message and its state; the service publishes what changes
(:class:`~rcs_terminal.domain.events.MessageReceived`,
:class:`~rcs_terminal.domain.events.MessageStateChanged`,
:class:`~rcs_terminal.domain.events.IsComposingChanged`) on the handset's bus. Its settings
come from the provisioned configuration when there is one (StandaloneMsg ``MaxSize`` and
``SwitchoverSize``, ``ChatbotMsgTech``) and from the profile's ``messaging:`` block
(notifications, is-composing). Times in the store are epoch seconds from an injectable clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

from rcs_terminal.domain.events import MessageStateChanged
from rcs_terminal.domain.message import StoredMessage, canonical_peer
from rcs_terminal.domain.profile import Profile
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.capabilities import CapabilityService, normalize_target
from rcs_terminal.engine.carriers import Carrier, PagerCarrier
from rcs_terminal.engine.imdn_tracker import ImdnTracker
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.messaging_incoming import IncomingHandler, Verdict
from rcs_terminal.engine.messaging_outgoing import OutgoingResult, OutgoingSender
from rcs_terminal.engine.messaging_settings import MessagingSettings
from rcs_terminal.engine.registration import Registration
from rcs_terminal.errors import FileTransferError, ParseError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.provisioning.config import RcsConfig
from rcs_terminal.protocol.sip.message import Headers
from rcs_terminal.protocol.sip.uri import SipUri, parse_uri
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.protocol.up.geopush import build_geopush
from rcs_terminal.protocol.up.sharedclientdata import build_device_specifics
from rcs_terminal.protocol.up.suggestions import Suggestion, build_suggestion_response

__all__ = ["MessagingService", "MessagingSettings", "OutgoingResult", "Verdict"]

log = logging.getLogger(__name__)

GIVE_UP_STATES = frozenset({"failed", "sms_fallback"})
"""States after which :meth:`MessagingService.wait_for_state` stops waiting."""
TEXT_PLAIN = "text/plain;charset=UTF-8"
_SHARED_DATA_LIMITS = {"model": 10, "platform": 20, "vendor": 4, "version": 15}
"""deviceSpecifics string lengths of the UP schema (formats.md §5)."""


FileTransferSource = Callable[[], Any]
"""Builds the SIM's :class:`~rcs_terminal.engine.filetransfer.FileTransferClient` on demand
(a test seam; by default it is built from the provisioned ``MESSAGING/FileTransfer``)."""


class MessagingService:
    """Messaging for one registered SIM (see the module docstring).

    Args:
        registration: the SIM's registration (identity, routes, endpoint).
        store: the profile's message store.
        profile: the device profile (device data, messaging preferences).
        capabilities: the SIM's capability service (SMS fallback, chatbot recognition).
        bus: where message events go.
        carriers: the carriers by technology; pager mode is always there.
        settings: how the SIM sends; by default from ``config`` and the profile.
        config: the SIM's provisioned configuration, if any.
        file_transfer: builds the FT-HTTP client for :meth:`send_file` (default: from
            ``config``).
        lab: the running lab, whose host names the FT-HTTP client may use.
        clock: epoch seconds for the store (``time.time``).
        new_id: makes imdn.Message-IDs and CPM ids (UUIDs by default).
    """

    def __init__(
        self,
        registration: Registration,
        *,
        store: MessageStore,
        profile: Profile,
        capabilities: CapabilityService | None = None,
        bus: EventBus | None = None,
        carriers: dict[str, Carrier] | None = None,
        settings: MessagingSettings | None = None,
        config: RcsConfig | None = None,
        file_transfer: FileTransferSource | None = None,
        lab: LabInfo | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.registration = registration
        self.endpoint = registration.endpoint
        self.params = registration.params
        self.slot = self.params.slot
        self.store = store
        self.profile = profile
        self.sim = profile.sim(self.slot)
        self.capabilities = capabilities
        self.bus = bus if bus is not None else EventBus()
        self.config = config
        transport = self.params.pcscfs[0].transport
        self.settings = settings or MessagingSettings.for_sim(
            profile, self.sim, config, transport=transport
        )
        self.carriers: dict[str, Carrier] = {"pager": PagerCarrier(registration)}
        self.carriers.update(carriers or {})
        self._file_transfer = file_transfer
        self._ft_client: Any = None
        self.lab = lab
        self._clock = clock
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.outgoing = OutgoingSender(self)
        self.incoming = IncomingHandler(self)
        self.imdn = ImdnTracker(self)
        self.endpoint.on_request("MESSAGE", self.incoming.on_message)

    # ------------------------------------------------------------------ shared helpers

    @property
    def identity(self) -> str:
        """Our address in messages: the default IMPU."""
        return self.registration.default_impu

    @property
    def sim_msisdn(self) -> str:
        """The SIM's number."""
        return self.sim.msisdn

    def now(self) -> float:
        """Epoch seconds, for the store."""
        return self._clock()

    def new_message_id(self) -> str:
        """A fresh imdn.Message-ID."""
        return self._new_id()

    def new_uuid(self) -> str:
        """A fresh CPM Conversation-ID / Contribution-ID (a UUID, formats.md §9)."""
        value = self._new_id()
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value

    def normalize(self, peer: str) -> str:
        """``peer`` as a URI (``+86...`` -> ``tel:+86...``).

        Raises:
            SipParseError: it is not a tel:/sip: URI, a number or ``user@host``.
        """
        return normalize_target(peer)

    def is_chatbot(self, peer: str) -> bool:
        """Whether ``peer`` is a chatbot: by its capabilities (``+g.gsma.rcs.isbot``), a
        bot-platform host label, or SpecificChatbotsList (provisioning_sip.md §5)."""
        try:
            target = normalize_target(peer)
            uri = parse_uri(target)
        except ParseError:
            return False
        if self.capabilities is not None:
            cached = self.capabilities.cached(target)
            if cached is not None and cached.chatbot:
                return True
        if isinstance(uri, SipUri):
            label = uri.host.split(".", 1)[0].lower()
            if label in self.params.chatbot_host_labels:
                return True
        key = canonical_peer(target)
        for entry in self.params.specific_chatbots:
            try:
                if canonical_peer(normalize_target(entry)) == key:
                    return True
            except ParseError:
                continue
        return False

    def cpm_headers(
        self, conversation_id: str | None, contribution_id: str | None
    ) -> list[tuple[str, str]]:
        """The CPM SIP headers of a message (formats.md §9)."""
        headers: list[tuple[str, str]] = []
        if conversation_id:
            headers.append(("Conversation-ID", conversation_id))
        if contribution_id:
            headers.append(("Contribution-ID", contribution_id))
        return headers

    def carrier_for_receipt(self, technology: str) -> Carrier:
        """The carrier of a receipt: the chat session for session messages, else pager."""
        if technology == "session" and "session" in self.carriers:
            return self.carriers["session"]
        return self.carriers["pager"]

    def publish_state(self, message: StoredMessage) -> None:
        """Announce a message's state."""
        self.bus.publish(MessageStateChanged(self.slot, message.message_id, message.state.value))

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background; :meth:`close` waits for it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("messaging task failed", exc_info=task.exception())

    async def close(self, timeout: float = 5.0) -> None:
        """Finish what is in flight (receipts, answers) for up to ``timeout`` seconds, then
        stop taking messages."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
        self.endpoint.on_request("MESSAGE", None)
        client, self._ft_client = self._ft_client, None
        if client is not None:
            await client.http.close()

    # ------------------------------------------------------------------ sending

    async def send_text(self, peer: str, text: str) -> OutgoingResult:
        """Send a text message."""
        return await self.outgoing.submit(peer, TEXT_PLAIN, text.encode("utf-8"))

    async def send_content(
        self,
        peer: str,
        content_type: str,
        body: bytes,
        *,
        technology: str | None = None,
        preview: str | None = None,
        file_path: str | None = None,
    ) -> OutgoingResult:
        """Send any content (a card, a chip response, a location...).

        Args:
            peer: the recipient (tel:/sip: URI, ``+86...`` number or ``user@host``).
            content_type: the content's type.
            body: the content.
            technology: force ``pager``, ``large`` or ``session``.
            preview: the list preview for content that is not text.
            file_path: a local file the message refers to.

        Raises:
            ParseError: ``peer`` cannot be read.
            StoreError: the store refused the message.
        """
        return await self.outgoing.submit(
            peer,
            content_type,
            body,
            technology=technology,
            preview=preview,
            file_path=file_path,
        )

    async def send_suggestion_response(self, peer: str, suggestion: Suggestion) -> OutgoingResult:
        """Answer a tapped chip: its displayText and postback, copied exactly (formats.md §4)."""
        return await self.send_content(
            peer,
            ct.BOTSUGGESTION_RESPONSE,
            build_suggestion_response(suggestion),
            preview=suggestion.display_text,
        )

    async def send_device_specifics(self, peer: str) -> OutgoingResult:
        """Share the device specifics the user agreed to share (formats.md §5)."""
        device = self.profile.device
        limits = _SHARED_DATA_LIMITS
        body = build_device_specifics(
            device.model[: limits["model"]],
            device.os.version[: limits["platform"]],
            device.client.vendor[: limits["vendor"]],
            device.client.version[: limits["version"]],
            device.battery_minutes,
        )
        return await self.send_content(
            peer, ct.BOTSHAREDCLIENTDATA, body, preview="[device specifics]"
        )

    async def send_location(
        self,
        peer: str,
        latitude: float,
        longitude: float,
        label: str | None = None,
        *,
        radius: float = 10.0,
    ) -> OutgoingResult:
        """Push a location (``rcspushlocation+xml``, formats.md §8)."""
        when = dt.datetime.fromtimestamp(self.now(), dt.UTC)
        body = build_geopush(
            latitude,
            longitude,
            radius=radius,
            label=label,
            entity=self.identity,
            id=self.new_message_id()[:16],
            timestamp=cpim.format_rfc3339(when.replace(microsecond=0)),
        )
        return await self.send_content(
            peer, ct.GEOPUSH, body, preview=f"[location] {label or f'{latitude},{longitude}'}"
        )

    async def send_file(self, peer: str, path: str | Path) -> OutgoingResult:
        """Upload a file to the content server, then send its descriptor (FT via HTTP).

        Raises:
            FileTransferError: file transfer is not provisioned, or the upload failed.
        """
        source = self._file_transfer_client()
        if source is None:
            raise FileTransferError(
                "file transfer is not available on this SIM (no ftHTTPCSURI provisioned)",
                hint="Provision the SIM from a network that offers FT over HTTP.",
            )
        info = await source.upload(path)
        name = info.file.name or Path(path).name
        return await self.send_content(
            peer, ct.FTHTTP, info.to_xml(), preview=f"[file] {name}", file_path=str(path)
        )

    def _file_transfer_client(self) -> Any:
        """The SIM's FT-HTTP client, built on first use; None when not provisioned."""
        if self._ft_client is None:
            if self._file_transfer is not None:
                self._ft_client = self._file_transfer()
            else:
                self._ft_client = self.outgoing.file_transfer_client()
        return self._ft_client

    async def resend_pending(self) -> int:
        """Send what was queued or in flight when the process last stopped (same
        imdn.Message-IDs), and the display receipts that did not go out.

        Returns:
            How many messages were sent again.
        """
        pending = self.store.pending_outgoing(self.slot)
        for message in pending:
            log.info("sending %s again after a restart", message.message_id)
            await self.outgoing.transmit(message)
        for message in self.store.display_reports_due(self.slot):
            if self.imdn.may_report_display(message):
                await self.imdn.send_displayed(message)
        return len(pending)

    # ------------------------------------------------------------------ receipts, typing

    async def mark_displayed(self, message_id: str) -> None:
        """The user has seen an incoming message: record it, and send the ``displayed``
        receipt when the sender asked for one and the user's settings allow it."""
        change = self.store.mark_displayed_by_us(message_id, now=self.now(), sim=self.slot)
        if change is None:
            return
        if change.changed:
            self.publish_state(change.message)
        if self.imdn.may_report_display(change.message):
            await self.imdn.send_displayed(change.message)

    def enable_displayed_notifications(self, peer: str) -> None:
        """Send display receipts to ``peer`` even when they are off in the settings (the
        chatbot's ``enableDisplayedNotifications`` action, accepted by the user)."""
        self.imdn.allow_display_reports(peer)

    async def set_composing(self, peer: str, active: bool) -> None:
        """Tell ``peer`` that the user is typing (or stopped), RFC 3994; a no-op when the
        user turned is-composing off."""
        if not self.settings.is_composing:
            return
        await self.outgoing.send_composing(self.normalize(peer), active)

    async def wait_for_state(
        self,
        message_id: str,
        states: Iterable[str],
        timeout: float | None,
        *,
        give_up: Iterable[str] = GIVE_UP_STATES,
    ) -> StoredMessage:
        """Wait until one of our messages reaches one of ``states`` (or a ``give_up``
        state: failed, SMS fallback), and return it as stored.

        Raises:
            TimeoutError: ``timeout`` seconds passed first.
            KeyError: there is no such message.
        """
        wanted = {str(s) for s in states} | {str(s) for s in give_up}
        future: asyncio.Future[StoredMessage] = asyncio.get_running_loop().create_future()

        def check(event: object) -> None:
            if (
                isinstance(event, MessageStateChanged)
                and event.sim == self.slot
                and event.message_id == message_id
                and event.state in wanted
                and not future.done()
            ):
                found = self.store.message(message_id)
                if found is not None:
                    future.set_result(found)

        unsubscribe = self.bus.subscribe(check)
        try:
            current = self.store.message(message_id)
            if current is None:
                raise KeyError(message_id)
            if current.state.value in wanted:
                return current
            return await asyncio.wait_for(future, timeout)
        finally:
            unsubscribe()

    # ------------------------------------------------------------------ receiving

    async def receive_cpim(
        self, peer: str, cpim_data: bytes, *, technology: str, sip_headers: Headers | None
    ) -> int:
        """Take one received CPIM message (every carrier's entry point): IMDNs update our
        messages, is-composing is announced, other content is committed to the store before
        this returns.

        Returns:
            The status to answer: 200, or 400/413 when the message could not be used (the
            reason is in :meth:`receive`'s verdict).
        """
        return (
            await self.receive(peer, cpim_data, technology=technology, sip_headers=sip_headers)
        ).status

    async def receive(
        self, peer: str, cpim_data: bytes, *, technology: str, sip_headers: Headers | None
    ) -> Verdict:
        """:meth:`receive_cpim` with the reason phrase of an error answer."""
        return await self.incoming.receive(peer, cpim_data, technology, sip_headers)

    def receive_sms(self, sender: str, text: str, *, seq: int | None = None) -> bool:
        """Store a plain SMS the radio received (technology ``sms``)."""
        return self.incoming.receive_sms(sender, text, seq=seq)

    async def run_sms_inbox(self, smsc_url: str) -> None:
        """Read the SIM's SMS from the lab's SMS centre until cancelled."""
        await self.incoming.run_sms_inbox(smsc_url)
