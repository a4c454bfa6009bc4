"""Large message mode and 1-to-1 chat sessions: CPIM over MSRP, both directions (OMA CPM
standalone large message mode and CPM sessions as GSMA UP 2.4 uses them; formats.md §9;
RFC 4975, RFC 6135).

One :class:`MsrpService` per registered SIM owns everything MSRP: the SIM's
:class:`~rcs_terminal.engine.msrp_listener.MsrpListener`, its calls (one
:class:`~rcs_terminal.engine.msrp_calls.MsrpCall` per INVITE dialog), the endpoint's
handlers for INVITE, BYE and UPDATE, and the two carriers the messaging service chooses
between:

- :class:`LargeMessageCarrier` (``large``): INVITE with the CPM large-message ICSI, SDP
  offer ``a=setup:actpass`` + ``a=sendonly``; the CPIM message goes in one MSRP SEND
  (chunked), and once the last chunk's 200 is back, BYE;
- :class:`SessionCarrier` (``session``): the 1-to-1 chat session with the peer, opened on
  first use (CPM session ICSI for persons; chatbot IARI and botversion for chatbots;
  ``Session-Expires``) and reused while it is open, whoever opened it.

Incoming INVITEs are accepted automatically (Chat AutAccept: the emulator has no manual
accept step): an offer that does not parse or names no usable MSRP stream gets 488 Not
Acceptable Here (with a ``Warning``), an offer whose ``accept-types`` lack
``message/cpim`` 488 too, a body that is not SDP 415. The connection role follows the offer
(RFC 6135: an ``actpass`` offer is answered ``active`` by default, so the callee connects;
``passive`` means we connect; ``active`` or no ``a=setup`` means we listen). Every CPIM
message received goes to ``messaging.receive_cpim(peer, cpim, technology="large" |
"session", sip_headers=<the INVITE's headers>)``, which commits it before the MSRP 200 of
its last chunk (and any success REPORT) leave. Sessions end on BYE (either side), on idle
(TimerIdle, default 180 s, on the connection's timer) and when the MSRP connection is lost.

MSRP connects directly between the handsets: the SDP ``c=`` line and ``a=path`` carry the
listener's address (the SIP flow's local address, 127.0.0.1 on the lab and Kamailio) and
its ephemeral port; the INVITE itself is record-routed by the proxy, and ACK and BYE follow
the route set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from rcs_terminal.domain.message import canonical_peer
from rcs_terminal.engine.carriers import CarrierResult
from rcs_terminal.engine.invite import accept_invite, send_invite
from rcs_terminal.engine.msrp_calls import (
    CallKind,
    CpimReceiver,
    MsrpCall,
    MsrpOptions,
    build_invite,
    call_kind,
    contact_header,
    extract_offer,
    wants_chatbot,
)
from rcs_terminal.engine.msrp_connection import new_session_id
from rcs_terminal.engine.msrp_listener import MsrpListener
from rcs_terminal.engine.registration import Registration
from rcs_terminal.errors import NetworkError, ParseError, RcsTerminalError
from rcs_terminal.protocol.sip.dialog import DialogId
from rcs_terminal.protocol.sip.message import Request, Response, build_response
from rcs_terminal.protocol.sip.sdp import (
    UP_ACCEPT_TYPES,
    UP_WRAPPED_TYPES,
    MsrpMedia,
    build_msrp_answer,
    build_msrp_offer,
    negotiate_setup,
    parse_msrp_media,
)
from rcs_terminal.protocol.sip.transaction import TransactionKey, TransactionState

if TYPE_CHECKING:
    from rcs_terminal.engine.handset import SimStack

__all__ = [
    "LargeMessageCarrier",
    "MsrpOptions",
    "MsrpService",
    "SessionCarrier",
    "close_msrp_carriers",
    "install_msrp_carriers",
]

log = logging.getLogger(__name__)


class LargeMessageCarrier:
    """CPM standalone large message mode: INVITE, one MSRP SEND, BYE (see the module
    docstring)."""

    name = "large"

    def __init__(self, service: MsrpService) -> None:
        self.service = service

    async def deliver(
        self, peer: str, cpim: bytes, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> CarrierResult:
        """Deliver ``cpim`` in a large-message session of its own."""
        opened = await self.service.open_call(peer, "large", headers=headers, chatbot=chatbot)
        if isinstance(opened, CarrierResult):
            return opened
        try:
            outcome = await opened.send(cpim)
        finally:
            await opened.close("message sent")
        return CarrierResult(outcome.ok, outcome.status, outcome.reason)


class SessionCarrier:
    """1-to-1 chat sessions: the open session with the peer (either direction), else a new
    one (see the module docstring)."""

    name = "session"

    def __init__(self, service: MsrpService) -> None:
        self.service = service

    async def deliver(
        self, peer: str, cpim: bytes, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> CarrierResult:
        """Deliver ``cpim`` in the chat session with ``peer``."""
        opened = await self.service.session_with(peer, headers=headers, chatbot=chatbot)
        if isinstance(opened, CarrierResult):
            return opened
        outcome = await opened.send(cpim)
        if not outcome.ok and not opened.usable:
            await opened.close("MSRP failure")
        return CarrierResult(outcome.ok, outcome.status, outcome.reason)


class MsrpService:
    """Everything MSRP of one registered SIM (see the module docstring).

    Args:
        registration: the SIM's registration (identity, routes, endpoint, parameters).
        messaging: where received CPIM messages go (``receive_cpim``).
        options: timers and roles.
        listener: the listener for passive sessions (a new one on the SIP flow's local
            address by default, started on first use).
        connection_options: extra keyword arguments for every
            :class:`~rcs_terminal.engine.msrp_connection.MsrpConnection` (test seams:
            ``clock``, ``timer_factory``).
    """

    def __init__(
        self,
        registration: Registration,
        messaging: CpimReceiver,
        *,
        options: MsrpOptions | None = None,
        listener: MsrpListener | None = None,
        connection_options: dict[str, Any] | None = None,
    ) -> None:
        self.registration = registration
        self.endpoint = registration.endpoint
        self.params = registration.params
        self.messaging = messaging
        self.options = options or MsrpOptions()
        self.listener = listener
        self.connection_options = dict(connection_options or {})
        self.large = LargeMessageCarrier(self)
        self.session = SessionCarrier(self)
        self.calls: dict[DialogId, MsrpCall] = {}
        self.sessions: dict[str, MsrpCall] = {}
        self._opening: dict[str, asyncio.Future[MsrpCall | CarrierResult]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        for method in ("INVITE", "BYE", "UPDATE"):
            self.endpoint.on_request(method, self.on_request)

    # ------------------------------------------------------------------ shared helpers

    async def ready_listener(self) -> MsrpListener:
        """The SIM's listener, started.

        Raises:
            NetworkError: it cannot listen.
        """
        if self.listener is None:
            flow = self.endpoint.flow
            host = flow.local.host if flow is not None else "127.0.0.1"
            if host in ("0.0.0.0", "::", ""):
                host = "127.0.0.1"
            self.listener = MsrpListener(host)
        await self.listener.start()
        return self.listener

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background (errors are logged)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("MSRP task failed", exc_info=task.exception())

    def register(self, call: MsrpCall) -> None:
        """Track a call with a dialog (and, for a chat session, as the peer's session)."""
        if call.dialog is not None:
            self.calls[call.dialog.id] = call
        if call.kind == "session":
            self.sessions[call.key] = call

    def forget(self, call: MsrpCall) -> None:
        """Stop tracking a closed call."""
        if call.dialog is not None and self.calls.get(call.dialog.id) is call:
            del self.calls[call.dialog.id]
        if self.sessions.get(call.key) is call:
            del self.sessions[call.key]

    # ------------------------------------------------------------------ outgoing

    async def session_with(
        self, peer: str, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> MsrpCall | CarrierResult:
        """The open chat session with ``peer``, or a new one (concurrent callers share one
        INVITE)."""
        key = canonical_peer(peer)
        current = self.sessions.get(key)
        if current is not None and current.usable:
            return current
        pending = self._opening.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[MsrpCall | CarrierResult] = (
            asyncio.get_running_loop().create_future()
        )
        self._opening[key] = future
        try:
            result = await self.open_call(peer, "session", headers=headers, chatbot=chatbot)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            self._opening.pop(key, None)
        future.set_result(result)
        return result

    async def open_call(
        self, peer: str, kind: CallKind, *, headers: list[tuple[str, str]], chatbot: bool
    ) -> MsrpCall | CarrierResult:
        """INVITE ``peer`` to a large-message session or a chat session and set up its
        MSRP connection.

        Returns:
            The ready call, or the failure as a :class:`CarrierResult`.
        """
        if self.closed:
            return CarrierResult(False, None, "MSRP service stopped")
        try:
            listener = await self.ready_listener()
        except NetworkError as exc:
            return CarrierResult(False, None, str(exc))
        local_uri = listener.uri(new_session_id())
        offer = build_msrp_offer(
            local_uri,
            accept_types=UP_ACCEPT_TYPES,
            accept_wrapped_types=UP_WRAPPED_TYPES,
            setup="actpass",
            direction="sendonly" if kind == "large" else "sendrecv",
            address=listener.host,
        )
        call = MsrpCall(self, kind=kind, peer=peer, outgoing=True)
        listener.reserve(local_uri)
        ready = False
        try:
            invite = build_invite(self.registration, peer, kind, headers, chatbot, offer)
            outcome = await send_invite(self.endpoint, invite)
            if outcome.dialog is None:
                return CarrierResult(False, outcome.status, outcome.reason or "INVITE failed")
            call.dialog = outcome.dialog
            call.sip_headers = invite.headers
            answer = _answer_media(outcome.response)
            if isinstance(answer, str):
                await call.close(answer)
                return CarrierResult(False, 488, answer)
            connection = call.make_connection(local_uri, answer.path)
            self.register(call)
            if answer.setup == "active":  # the answerer connects to us
                listener.expect(connection)
                await connection.wait_ready(self.options.connect_timeout)
            else:  # passive, or no a=setup (RFC 4975: the offerer connects)
                listener.release(local_uri)
                await call.connect_to(answer)
            ready = True
        except NetworkError as exc:
            await call.close(str(exc))
            return CarrierResult(False, None, f"MSRP: {exc}")
        except RcsTerminalError as exc:  # a value we cannot write (a broken peer URI...)
            await call.close(str(exc))
            return CarrierResult(False, None, str(exc))
        finally:
            listener.release(local_uri)
            if not ready and not call.closed:
                call.shutdown("not set up")  # cancelled half way: hang up in the background
        return call

    # ------------------------------------------------------------------ incoming

    def on_request(self, request: Request, key: TransactionKey) -> Response | None:
        """The endpoint's handler for INVITE, BYE and UPDATE."""
        try:
            in_dialog = DialogId.of_request(request)
        except ParseError as exc:
            return build_response(request, 400, _phrase(exc.reason))
        if in_dialog is not None:
            call = self.calls.get(in_dialog)
            if call is None or call.dialog is None:
                return build_response(request, 481)
            return call.dialog.receive(request)  # a BYE ends the call (on_terminated)
        if request.method != "INVITE":
            return build_response(request, 481, to_tag=self.endpoint.new_id())
        return self._new_invite(request, key)

    def _new_invite(self, request: Request, key: TransactionKey) -> Response | None:
        tag = self.endpoint.new_id()
        if self.closed:
            return build_response(request, 480, to_tag=tag)
        try:
            peer = _sender_of(request)
            sdp, first_message = extract_offer(request)
        except ParseError as exc:
            return build_response(request, exc.status_hint or 400, _phrase(exc.reason), to_tag=tag)
        if sdp is None:
            response = build_response(request, 415, to_tag=tag)
            response.headers.add("Accept", "application/sdp")
            return response
        try:
            offer = parse_msrp_media(sdp)
        except ParseError as exc:
            return _not_acceptable(request, tag, f"SDP: {exc.reason}")
        kind = call_kind(request)
        problem = self._refusal(offer, kind)
        if problem is not None:
            return _not_acceptable(request, tag, problem)
        prefer = "active" if offer.secure else self.options.prefer_setup
        role = negotiate_setup(offer.setup, prefer=prefer)
        if role == "holdconn" or (role == "passive" and offer.secure):
            return _not_acceptable(request, tag, f"cannot take the {role} MSRP role here")
        call = MsrpCall(self, kind=kind, peer=peer, outgoing=False)
        call.sip_headers = request.headers
        self.spawn(self._accept(call, request, key, offer, role, first_message))
        return None

    def _refusal(self, offer: MsrpMedia, kind: CallKind) -> str | None:
        if offer.port == 0 or not offer.path:
            return "the MSRP stream is refused (port 0)"
        accepted = [t.lower() for t in offer.accept_types]
        if "message/cpim" not in accepted and "*" not in accepted:
            return f"accept-types {' '.join(offer.accept_types)[:60]!r} lack message/cpim"
        services = set(self.params.services)
        if kind == "session" and not services & {"chat", "chatbot"}:
            return "chat sessions are not enabled on this SIM"
        if kind == "large" and not services & {"standalone", "chatbot.sa"}:
            return "standalone messaging is not enabled on this SIM"
        return None

    async def _accept(
        self,
        call: MsrpCall,
        request: Request,
        key: TransactionKey,
        offer: MsrpMedia,
        role: str,
        first_message: bytes | None,
    ) -> None:
        try:
            listener = await self.ready_listener()
        except NetworkError as exc:
            log.warning("cannot take an MSRP session: %s", exc)
            self.endpoint.respond(key, build_response(request, 500, to_tag=self.endpoint.new_id()))
            return
        local_uri = listener.uri(new_session_id())
        if offer.secure:  # we connect with TLS (the role is active); our URI says msrps
            local_uri = dataclasses.replace(local_uri, scheme="msrps")
        connection = call.make_connection(local_uri, offer.path)
        if self.endpoint.layer.state_of(key) is not TransactionState.PROCEEDING:
            await call.close("INVITE cancelled")  # CANCEL came first: 487 already sent
            return
        answer = build_msrp_answer(
            offer,
            local_uri,
            accept_types=UP_ACCEPT_TYPES,
            accept_wrapped_types=UP_WRAPPED_TYPES,
            prefer_setup=role if role in ("active", "passive") else "active",
            address=listener.host,
        )
        if role == "passive":
            listener.expect(connection)
        contact = contact_header(self.registration, call.kind, wants_chatbot(request))
        try:
            call.dialog = accept_invite(self.endpoint, request, key, contact=contact, sdp=answer)
        except (ParseError, RcsTerminalError) as exc:
            refusal = build_response(request, 400, _phrase(str(exc)), to_tag=self.endpoint.new_id())
            self.endpoint.respond(key, refusal)
            await call.close("INVITE refused")
            return
        self.register(call)
        if first_message is not None:
            await call.take(first_message)
        try:
            if role == "active":
                await call.connect_to(offer)
            else:
                await connection.wait_ready(self.options.connect_timeout)
        except NetworkError as exc:
            log.info("MSRP session with %s not connected: %s", call.peer, exc)
            await call.close(str(exc))

    # ------------------------------------------------------------------ stopping

    async def close(self) -> None:
        """End every call (BYE), stop listening and stop taking INVITEs."""
        self.closed = True
        calls = {id(call): call for call in [*self.calls.values(), *self.sessions.values()]}
        await asyncio.gather(
            *(call.close("handset stopping") for call in calls.values()), return_exceptions=True
        )
        for method in ("INVITE", "BYE", "UPDATE"):
            self.endpoint.on_request(method, None)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5.0)
        if self.listener is not None:
            await self.listener.close()


def _answer_media(response: Response | None) -> MsrpMedia | str:
    """The MSRP stream of a 2xx's SDP answer, or why it is unusable."""
    if response is None:
        return "no answer"
    media_type = (response.content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/sdp" or not response.body:
        return "the 200 OK carries no SDP answer"
    try:
        media = parse_msrp_media(response.body)
    except ParseError as exc:
        return f"malformed SDP answer: {exc.reason}"
    if media.port == 0 or not media.path:
        return "the peer refused the MSRP stream"
    return media


def _sender_of(request: Request) -> str:
    """The caller: the network-asserted identity, else the From URI."""
    asserted = request.addresses("P-Asserted-Identity")
    return asserted[0].uri if asserted else request.from_.uri


def _not_acceptable(request: Request, tag: str, why: str) -> Response:
    response = build_response(request, 488, to_tag=tag)
    response.headers.add("Warning", f'399 rcs-terminal "{_phrase(why)}"')
    return response


def _phrase(text: str) -> str:
    line = " ".join("".join(c if c.isprintable() and c != '"' else " " for c in text).split())
    return line[:120] or "Bad Request"


# --------------------------------------------------------------------------- wiring


def install_msrp_carriers(
    stack: SimStack, *, options: MsrpOptions | None = None
) -> MsrpService | None:
    """Give a SIM's messaging service the ``large`` and ``session`` carriers and take the
    SIM's INVITEs (the Handset calls this once the SIM's services exist).

    Returns:
        The SIM's MSRP service, or None when the stack has no messaging service.
    """
    registration, messaging = stack.registration, stack.messaging
    if registration is None or messaging is None:
        return None
    chosen = options or MsrpOptions.from_config(messaging.config)
    service = MsrpService(registration, messaging, options=chosen)
    messaging.carriers["large"] = service.large
    messaging.carriers["session"] = service.session
    return service


async def close_msrp_carriers(stack: SimStack) -> None:
    """End the SIM's MSRP calls (BYE) before it de-registers."""
    messaging = stack.messaging
    carrier = messaging.carriers.get("session") if messaging is not None else None
    if isinstance(carrier, SessionCarrier):
        await carrier.service.close()
