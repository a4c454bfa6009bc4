"""One MSRP call: an INVITE dialog and its MSRP connection, and the SIP pieces the MSRP
services write and read (the INVITE and its feature tags, the offer in an INVITE body).

A :class:`MsrpCall` is a large-message session or a 1-to-1 chat session, opened by us or
by the peer (:mod:`rcs_terminal.engine.msrp_carriers` decides which and sets it up). It
sends CPIM messages (:meth:`MsrpCall.send`), hands the ones it receives to the messaging
service (``receive_cpim``), and tears itself down exactly once, whatever ends it: our BYE,
the peer's BYE, the idle timer of its connection, the session timer or a lost connection.

Feature tags (formats.md §9; RCC.07 as UP 2.4 uses it):

- large message mode: the CPM large-message ICSI in Contact, Accept-Contact and
  P-Preferred-Service; for a chatbot also the chatbot standalone IARI with botversion
  (``require;explicit``), as in pager mode;
- chat session with a person: the CPM session ICSI in all three;
- chat session with a chatbot: Contact with the session ICSI, the chatbot IARI and
  botversion; ``Accept-Contact: *;+g.3gpp.iari-ref="...rcs.chatbot";+g.gsma.rcs.botversion=
  "#=1,#=2";require;explicit``; P-Preferred-Service the session ICSI.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

from rcs_terminal.domain.message import canonical_peer
from rcs_terminal.engine.carriers import CHATBOT_SA_IARI
from rcs_terminal.engine.feature_tags import BOT_VERSIONS, BOTVERSION, IARI, ICSI
from rcs_terminal.engine.invite import InviteDialog, session_timer_headers
from rcs_terminal.engine.msrp_connection import MsrpConnection, SendOutcome
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.transport import Address, client_tls_context
from rcs_terminal.errors import NetworkError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.msrp import MessageReceived, MsrpSession, MsrpUri
from rcs_terminal.protocol.msrp.media import UP_SESSION_ACCEPT_TYPES, MsrpMedia
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.provisioning.config import RcsConfig
from rcs_terminal.protocol.sip.features import format_feature_tags
from rcs_terminal.protocol.sip.message import Headers, Request

if TYPE_CHECKING:
    from rcs_terminal.engine.msrp_carriers import MsrpService

__all__ = [
    "CHATBOT_IARI",
    "LARGE_MSG_ICSI",
    "SESSION_ICSI",
    "CallKind",
    "CpimReceiver",
    "MsrpCall",
    "MsrpOptions",
    "build_invite",
    "call_kind",
    "contact_header",
    "extract_offer",
    "wants_chatbot",
]

log = logging.getLogger(__name__)

LARGE_MSG_ICSI = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
"""CPM standalone messaging, large message mode (ICSI)."""
SESSION_ICSI = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session"
"""CPM 1-to-1 chat sessions (ICSI)."""
CHATBOT_IARI = "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot"
"""Chat sessions with a chatbot (IARI)."""
TIMER_IDLE = 180.0
"""Seconds without a message after which a chat session ends, when TimerIdle is not
provisioned (the UP default)."""
CONNECT_TIMEOUT = 30.0
"""Seconds to wait for the MSRP connection once the INVITE is answered."""
ISCOMPOSING = "application/im-iscomposing+xml"

CallKind = Literal["large", "session"]


class CpimReceiver(Protocol):
    """What a call needs from the messaging service: the entry point of every carrier."""

    async def receive_cpim(
        self, peer: str, cpim_data: bytes, *, technology: str, sip_headers: Headers | None
    ) -> int: ...


class MsrpOptions:
    """How a SIM's MSRP calls behave.

    Args:
        idle_timeout: TimerIdle, seconds without a message before a session ends (None:
            never).
        prefer_setup: the role we take when an offer says ``actpass``: ``active`` (we
            connect, RFC 6135's default) or ``passive``.
        connect_timeout: seconds to wait for the MSRP connection to be bound.
        success_report: ask for a success REPORT (``Success-Report: yes``) on what we send
            and count a message as taken only when that REPORT says 200.
    """

    __slots__ = ("connect_timeout", "idle_timeout", "prefer_setup", "success_report")

    def __init__(
        self,
        *,
        idle_timeout: float | None = TIMER_IDLE,
        prefer_setup: str = "active",
        connect_timeout: float = CONNECT_TIMEOUT,
        success_report: bool = False,
    ) -> None:
        if prefer_setup not in ("active", "passive"):
            raise ValueError(f"prefer_setup must be active or passive, not {prefer_setup!r}")
        self.idle_timeout = idle_timeout
        self.prefer_setup = prefer_setup
        self.connect_timeout = connect_timeout
        self.success_report = success_report

    @classmethod
    def from_config(cls, config: RcsConfig | None) -> MsrpOptions:
        """The options of a provisioned SIM: ``MESSAGING/Chat/TimerIdle`` (0 turns the idle
        timer off; absent means 180 s). ``AutAccept`` is not read: incoming sessions are
        always accepted, as the emulator has no manual accept step."""
        idle: float | None = TIMER_IDLE
        if config is not None:
            value = config.messaging.chat.timer_idle
            if value is not None:
                idle = float(value) if value > 0 else None
        return cls(idle_timeout=idle)


# --------------------------------------------------------------------------- SIP pieces


def _tags(kind: CallKind, chatbot: bool, instance: str | None) -> dict[str, list[str] | None]:
    tags: dict[str, list[str] | None] = {}
    if instance:
        tags["+sip.instance"] = [instance]
    if kind == "large":
        tags[ICSI] = [LARGE_MSG_ICSI]
        if chatbot:
            tags[IARI] = [CHATBOT_SA_IARI]
    else:
        tags[ICSI] = [SESSION_ICSI]
        if chatbot:
            tags[IARI] = [CHATBOT_IARI]
    if chatbot:
        tags[BOTVERSION] = list(BOT_VERSIONS)
    return tags


def contact_header(registration: Registration, kind: CallKind, chatbot: bool) -> str:
    """Our Contact for an INVITE or its 200: the flow's URI, ``+sip.instance`` and the
    tags of the service."""
    tags = _tags(kind, chatbot, registration.params.sip_instance)
    return f"<{registration.contact_uri}>{format_feature_tags(tags)}"


def _accept_contacts(kind: CallKind, chatbot: bool) -> list[str]:
    if kind == "session" and chatbot:
        bot = {IARI: [CHATBOT_IARI], BOTVERSION: list(BOT_VERSIONS)}
        return ["*" + format_feature_tags(bot) + ";require;explicit"]
    icsi = LARGE_MSG_ICSI if kind == "large" else SESSION_ICSI
    values = ["*" + format_feature_tags({ICSI: [icsi]})]
    if chatbot:
        bot = {IARI: [CHATBOT_SA_IARI], BOTVERSION: list(BOT_VERSIONS)}
        values.append("*" + format_feature_tags(bot) + ";require;explicit")
    return values


def build_invite(
    registration: Registration,
    peer: str,
    kind: CallKind,
    headers: Sequence[tuple[str, str]],
    chatbot: bool,
    sdp: bytes,
) -> Request:
    """The INVITE opening a large-message or chat session with ``peer`` (no Via: the
    endpoint adds it). ``headers`` (Conversation-ID, Contribution-ID...) are added as given."""
    endpoint = registration.endpoint
    identity = registration.default_impu
    fields = Headers()
    for route in registration.routes:
        fields.add("Route", route)
    fields.add("Max-Forwards", "70")
    fields.add("From", f"<{identity}>;tag={endpoint.new_id()}")
    fields.add("To", f"<{peer}>")
    fields.add("Call-ID", f"{endpoint.new_id()}{endpoint.new_id()}")
    fields.add("CSeq", "1 INVITE")
    fields.add("Contact", contact_header(registration, kind, chatbot))
    fields.add("P-Preferred-Identity", f"<{identity}>")
    fields.add("P-Preferred-Service", LARGE_MSG_ICSI if kind == "large" else SESSION_ICSI)
    for value in _accept_contacts(kind, chatbot):
        fields.add("Accept-Contact", value)
    if kind == "session":
        for name, value in session_timer_headers():
            fields.add(name, value)
    else:
        fields.add("Supported", "timer")
    for name, value in headers:
        if name.lower() != "accept-contact" or kind == "large":
            fields.add(name, value)
    fields.add("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, OPTIONS")
    fields.add("User-Agent", registration.params.user_agent)
    fields.add("Content-Type", "application/sdp")
    return Request("INVITE", peer, fields, sdp)


def _service_values(request: Request) -> str:
    names = ("Accept-Contact", "Contact", "P-Asserted-Service", "P-Preferred-Service")
    return " ".join(value for name in names for value in request.headers.raw_values(name)).lower()


def call_kind(request: Request) -> CallKind:
    """Large message mode when the INVITE names the large-message ICSI, else a chat
    session."""
    return "large" if "cpm.largemsg" in _service_values(request) else "session"


def wants_chatbot(request: Request) -> bool:
    """Whether an incoming INVITE is a chatbot session (the chatbot IARI in its tags)."""
    return "iari.rcs.chatbot" in _service_values(request)


def extract_offer(request: Request) -> tuple[bytes | None, bytes | None]:
    """The SDP offer of an INVITE and, for a multipart/mixed body, a CPIM message carried
    next to it (some clients put the first message there).

    Returns:
        ``(sdp, cpim)``; ``sdp`` is None when the body holds no SDP.

    Raises:
        MultipartParseError: a multipart body that does not parse (``status_hint`` 400).
    """
    raw_type = request.content_type or ""
    media = raw_type.split(";", 1)[0].strip().lower()
    if media == "application/sdp":
        return request.body, None
    if media != "multipart/mixed":
        return None, None
    sdp = message = None
    for part in parse_multipart(request.body, raw_type):
        part_type = part.content_type.media_type
        if part_type == "application/sdp" and sdp is None:
            sdp = part.body
        elif part_type == "message/cpim" and message is None:
            message = part.body
    return sdp, message


# --------------------------------------------------------------------------- calls


class MsrpCall:
    """One INVITE dialog with its MSRP connection (see the module docstring).

    Args:
        service: the SIM's MSRP service.
        kind: ``large`` or ``session``.
        peer: the other party's URI.
        outgoing: whether we sent the INVITE.
    """

    def __init__(self, service: MsrpService, *, kind: CallKind, peer: str, outgoing: bool) -> None:
        self.service = service
        self.kind: CallKind = kind
        self.peer = peer
        self.key = canonical_peer(peer)
        self.outgoing = outgoing
        self.sip_headers: Headers | None = None
        self._dialog: InviteDialog | None = None
        self.connection: MsrpConnection | None = None
        self.closed = False
        self.close_reason: str | None = None
        self._teardown: asyncio.Task[None] | None = None

    @property
    def dialog(self) -> InviteDialog | None:
        """The INVITE dialog, once the INVITE is answered."""
        return self._dialog

    @dialog.setter
    def dialog(self, dialog: InviteDialog | None) -> None:
        self._dialog = dialog
        if dialog is not None:
            dialog.on_terminated = self.end

    @property
    def usable(self) -> bool:
        """Whether messages can still be sent in this call."""
        connection = self.connection
        return (
            not self.closed
            and connection is not None
            and connection.is_connected
            and connection.ready.done()
            and not connection.ready.exception()
            and self._dialog is not None
            and not self._dialog.terminated
        )

    def make_connection(self, local_uri: MsrpUri, remote_path: Sequence[MsrpUri]) -> MsrpConnection:
        """Create the call's MSRP session and connection (not connected yet)."""
        service = self.service
        endpoint = service.endpoint
        session = MsrpSession(
            local_uri,
            tuple(remote_path),
            accept_types=UP_SESSION_ACCEPT_TYPES,
        )
        self.connection = MsrpConnection(
            session,
            trace=endpoint.trace,
            sim=service.params.slot,
            owner=endpoint.owner,
            on_message=self._on_message,
            on_closed=self._connection_closed,
            idle_timeout=service.options.idle_timeout,
            on_idle=lambda: self.end("idle"),
            **service.connection_options,
        )
        return self.connection

    async def connect_to(self, media: MsrpMedia) -> None:
        """Connect to the peer's first hop (our role is active).

        Raises:
            NetworkError: the address is not literal, or the connection failed.
        """
        connection = self.connection
        if connection is None:
            raise NetworkError("no MSRP session to connect")
        hop = media.first_hop
        host = hop.host.strip("[]")
        if not _is_ip(host):
            if media.connection_address is not None and _is_ip(media.connection_address):
                host = media.connection_address
            else:
                raise NetworkError(f"MSRP peer {hop.host!r} is not an IP address (no DNS here)")
        params = self.service.params
        tls = None
        if hop.secure:
            tls = client_tls_context(verify=params.verify_tls, ca_file=params.ca_file)
        await connection.connect(
            Address(host, hop.effective_port),
            tls=tls,
            timeout=self.service.options.connect_timeout,
        )

    # ------------------------------------------------------------------ messages

    async def send(self, cpim_data: bytes) -> SendOutcome:
        """Send one CPIM message and wait for its last chunk's 200 (and the success
        REPORT, when the options ask for one)."""
        connection = self.connection
        if connection is None or not self.usable:
            return SendOutcome("", 408, f"the {self.kind} session is closed")
        return await connection.send(
            "message/cpim", cpim_data, success_report=self.service.options.success_report
        )

    def _on_message(self, event: MessageReceived) -> Awaitable[None] | None:
        media = (event.content_type or "").split(";", 1)[0].strip().lower()
        if media == "message/cpim":
            return self.take(event.body)
        if media == ISCOMPOSING:  # sent without CPIM: wrap it, the messaging service reads CPIM
            identity = self.service.registration.default_impu
            wrapped = cpim.build(
                from_=self.peer, to=identity, datetime=None, body=event.body, content_type=media
            )
            return self.take(wrapped)
        log.info("ignored a %s message in an MSRP session", media or "typeless")
        return None

    async def take(self, cpim_data: bytes) -> None:
        """Hand a received CPIM message to the messaging service (it commits it)."""
        status = await self.service.messaging.receive_cpim(
            self.peer, cpim_data, technology=self.kind, sip_headers=self.sip_headers
        )
        if status >= 300:
            log.info("message from %s in a %s session refused: %s", self.peer, self.kind, status)

    # ------------------------------------------------------------------ ending

    def shutdown(self, reason: str) -> asyncio.Task[None]:
        """End the call (once): BYE unless the peer ended it, then close the connection."""
        if self._teardown is None:
            self.closed = True
            self.close_reason = reason
            self.service.forget(self)
            self._teardown = asyncio.get_running_loop().create_task(self._end(reason))
        return self._teardown

    def end(self, reason: str) -> None:
        """:meth:`shutdown` from a callback (the teardown runs in the background)."""
        self.shutdown(reason)

    async def close(self, reason: str) -> None:
        """:meth:`shutdown`, awaited."""
        await asyncio.shield(self.shutdown(reason))

    async def _end(self, reason: str) -> None:
        dialog = self._dialog
        try:
            if dialog is not None:
                await dialog.bye()
                dialog.close()
        finally:
            connection = self.connection
            if connection is not None:
                if self.service.listener is not None:
                    self.service.listener.forget(connection)
                connection.close(reason)

    def _connection_closed(self, reason: str) -> None:
        if not self.closed:
            log.info("MSRP connection to %s (%s) lost: %s", self.peer, self.kind, reason)
            self.shutdown(f"MSRP connection lost: {reason}")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
