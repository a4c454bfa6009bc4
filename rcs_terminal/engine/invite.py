"""INVITE dialogs of the MSRP services: the three-way handshake on both sides, BYE, and
session timers (RFC 3261 §13-§15, RFC 4028), on top of
:class:`~rcs_terminal.engine.sip_endpoint.SipEndpoint` and
:class:`~rcs_terminal.protocol.sip.dialog.Dialog`.

- :func:`send_invite` (UAC): sends an INVITE through the endpoint (which answers a 401/407
  once), builds the dialog from the 2xx (route set from its Record-Route, reversed; remote
  target from its Contact) and ACKs it along that route, with the INVITE's credentials
  (§13.2.2.4). Provisional responses are not needed by anyone here and are ignored.
- :func:`accept_invite` (UAS): answers an INVITE 200 with our Contact and SDP and the
  session timer settled below, and returns the dialog (route set from the INVITE's
  Record-Route, in order).
- :class:`InviteDialog` is one such dialog, whichever side created it: it sends BYE once,
  answers the peer's BYE, UPDATE and re-INVITE (with 481 / 500 for requests that do not
  belong or come out of order), and runs the session timer on the endpoint's single timer.

Session timers (RFC 4028): our INVITE asks for ``Session-Expires: 1800`` with ``Supported:
timer``. Answering, we leave the refreshing to the caller when it supports the extension
(``refresher=uac`` with ``Require: timer``) and do it ourselves otherwise. The refresher
sends a body-less UPDATE at half the interval; the other side sends BYE when no refresh came
by the end of the interval (minus the smaller of 32 s and a third of it, §10).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rcs_terminal.engine.sip_endpoint import RequestOutcome, Scheduled, SipEndpoint
from rcs_terminal.errors import LocalProtocolError, ParseError
from rcs_terminal.protocol.sip.dialog import Dialog, DialogId
from rcs_terminal.protocol.sip.message import Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey

__all__ = [
    "MIN_SESSION_EXPIRES",
    "SESSION_EXPIRES",
    "InviteDialog",
    "InviteOutcome",
    "SessionTimer",
    "accept_invite",
    "parse_session_expires",
    "send_invite",
    "session_timer_headers",
]

log = logging.getLogger(__name__)

SESSION_EXPIRES = 1800
"""The Session-Expires we ask for, in seconds (the RFC 4028 recommendation)."""
MIN_SESSION_EXPIRES = 90
"""The smallest session interval RFC 4028 allows (Min-SE floor)."""

Role = Literal["uac", "uas"]


@dataclass(frozen=True, slots=True)
class SessionTimer:
    """A negotiated session timer (RFC 4028).

    Attributes:
        interval: the session interval in seconds.
        refresher: who refreshes: ``uac`` or ``uas``; None when not said.
    """

    interval: int
    refresher: str | None = None

    def header(self) -> str:
        """The Session-Expires value."""
        suffix = f";refresher={self.refresher}" if self.refresher else ""
        return f"{self.interval}{suffix}"


def parse_session_expires(value: str | None) -> SessionTimer | None:
    """Read a Session-Expires value; None when absent or unreadable
    (a broken session timer is ignored rather than failing the call)."""
    if not value:
        return None
    first, *params = (part.strip() for part in value.split(";"))
    if not (first.isascii() and first.isdigit()) or len(first) > 10:
        return None
    refresher = None
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "refresher" and val.strip().lower() in ("uac", "uas"):
            refresher = val.strip().lower()
    return SessionTimer(max(int(first), MIN_SESSION_EXPIRES), refresher)


def session_timer_headers(interval: int = SESSION_EXPIRES) -> list[tuple[str, str]]:
    """The headers of an INVITE asking for a session timer."""
    return [("Session-Expires", str(interval)), ("Supported", "timer")]


def _supports_timer(request: Request) -> bool:
    values = request.headers.get_all("Supported")
    return any(item.strip().lower() == "timer" for v in values for item in v.split(","))


@dataclass(frozen=True, slots=True)
class InviteOutcome:
    """How an INVITE we sent ended.

    Attributes:
        dialog: the confirmed dialog for a 2xx, else None.
        response: the final response, if one came.
        status: the final status (408 for a timeout, 503 for a transport failure).
        reason: the reason phrase or what went wrong.
    """

    dialog: InviteDialog | None
    response: Response | None
    status: int | None
    reason: str

    @property
    def ok(self) -> bool:
        """Whether the INVITE was accepted (a dialog exists)."""
        return self.dialog is not None


async def send_invite(endpoint: SipEndpoint, request: Request) -> InviteOutcome:
    """Send ``request`` (an INVITE outside any dialog, without Via) and ACK its 2xx.

    Returns:
        The outcome; a 2xx that creates no usable dialog is answered with ACK and BYE when
        possible and reported as a failure.
    """
    outcome: RequestOutcome = await endpoint.send(request)
    response = outcome.response
    status = outcome.status
    if response is None or not 200 <= response.status < 300:
        return InviteOutcome(None, response, status, outcome.reason)
    invite = outcome.request
    try:
        dialog = Dialog.from_uac(invite, response)
        credentials = [
            (name, value)
            for name, value in invite.headers
            if name.lower() in ("authorization", "proxy-authorization")
        ]
        ack = dialog.create_ack(response, extra_headers=credentials)
    except (ParseError, LocalProtocolError) as exc:
        return InviteOutcome(None, response, None, f"unusable 2xx to INVITE: {exc}")
    endpoint.send_ack(ack)
    timer = parse_session_expires(response.headers.get("Session-Expires") or None)
    usage = InviteDialog(endpoint, dialog, role="uac", timer=timer)
    return InviteOutcome(usage, response, response.status, response.reason)


def accept_invite(
    endpoint: SipEndpoint,
    request: Request,
    key: TransactionKey,
    *,
    contact: str,
    sdp: bytes,
    extra_headers: list[tuple[str, str]] | None = None,
) -> InviteDialog:
    """Answer ``request`` 200 with our Contact and SDP answer; returns the dialog.

    Raises:
        SipParseError: a header the dialog needs is malformed (answer 400).
    """
    tag = endpoint.new_id()
    dialog = Dialog.from_uas(request, tag, local_contact=contact)
    response = build_response(request, 200, to_tag=tag)
    response.headers.add("Contact", contact)
    offered = parse_session_expires(request.headers.get("Session-Expires") or None)
    timer: SessionTimer | None = None
    if offered is not None:
        if _supports_timer(request):
            timer = SessionTimer(offered.interval, offered.refresher or "uac")
            response.headers.add("Require", "timer")
        else:
            timer = SessionTimer(offered.interval, "uas")
        response.headers.add("Session-Expires", timer.header())
    response.headers.add("Supported", "timer")
    for name, value in extra_headers or ():
        response.headers.add(name, value)
    response.headers.add("User-Agent", endpoint.params.user_agent)
    response.headers.add("Content-Type", "application/sdp")
    response.body = sdp
    usage = InviteDialog(endpoint, dialog, role="uas", timer=timer, local_sdp=sdp)
    endpoint.respond(key, response)
    return usage


class InviteDialog:
    """One INVITE dialog of ours (see the module docstring).

    Args:
        endpoint: the SIM's endpoint.
        dialog: the dialog state.
        role: whether we sent (``uac``) or answered (``uas``) the INVITE.
        timer: the negotiated session timer, if any.
        local_sdp: our SDP, repeated in the answer to a re-INVITE.
    """

    def __init__(
        self,
        endpoint: SipEndpoint,
        dialog: Dialog,
        *,
        role: Role,
        timer: SessionTimer | None = None,
        local_sdp: bytes = b"",
    ) -> None:
        self.endpoint = endpoint
        self.dialog = dialog
        self.role = role
        self.timer = timer
        self.local_sdp = local_sdp
        self.terminated = False
        self.on_terminated: Callable[[str], None] | None = None
        """Called once when the peer ends the dialog (BYE, session expiry)."""
        self._scheduled: Scheduled | None = None
        self._schedule_timer()

    @property
    def id(self) -> DialogId:
        """The dialog id."""
        return self.dialog.id

    @property
    def refreshing(self) -> bool:
        """Whether we are the ones who refresh the session."""
        return self.timer is not None and self.timer.refresher == self.role

    # ------------------------------------------------------------------ ending

    async def bye(self) -> int | None:
        """End the dialog with BYE (once; later calls do nothing).

        Returns:
            The BYE's final status (408/503 for no answer), None if not sent.
        """
        if self.terminated:
            return None
        self._end()
        try:
            request = self.dialog.create_request("BYE", extra_headers=self._agent())
        except LocalProtocolError as exc:
            log.warning("cannot build a BYE: %s", exc)
            return None
        outcome = await self.endpoint.send(request)
        return outcome.status

    def _end(self) -> None:
        self.terminated = True
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None

    def _agent(self) -> list[tuple[str, str]]:
        return [("User-Agent", self.endpoint.params.user_agent)]

    # ------------------------------------------------------------------ requests from the peer

    def receive(self, request: Request) -> Response:
        """Answer a request the peer sent inside this dialog (BYE, UPDATE, re-INVITE)."""
        if self.terminated:
            return build_response(request, 481)
        try:
            verdict = self.dialog.receive_request(request)
        except ParseError:
            return build_response(request, 400)
        if verdict is not None:
            return build_response(request, verdict)
        if request.method == "BYE":
            self._end()
            if self.on_terminated is not None:
                self.on_terminated("BYE from the peer")
            return build_response(request, 200)
        if request.method in ("UPDATE", "INVITE"):
            return self._refreshed(request)
        response = build_response(request, 405)
        response.headers.add("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE")
        return response

    def _refreshed(self, request: Request) -> Response:
        """A session refresh (or any re-INVITE): keep the session, restart the timer."""
        response = build_response(request, 200)
        if self.dialog.local_contact:
            response.headers.add("Contact", self.dialog.local_contact)
        asked = parse_session_expires(request.headers.get("Session-Expires") or None)
        if asked is not None:
            peer_role = "uas" if self.role == "uac" else "uac"
            refresher = asked.refresher or peer_role
            self.timer = SessionTimer(asked.interval, refresher)
            response.headers.add("Session-Expires", self.timer.header())
            if _supports_timer(request):
                response.headers.add("Require", "timer")
        self._schedule_timer()
        if request.method == "INVITE" and self.local_sdp:
            response.headers.add("Content-Type", "application/sdp")
            response.body = self.local_sdp
        return response

    # ------------------------------------------------------------------ session timer

    def _schedule_timer(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if self.timer is None or self.terminated:
            return
        interval = self.timer.interval
        now = self.endpoint.now()
        if self.refreshing:
            self._scheduled = self.endpoint.call_at(now + interval / 2, self._refresh)
        else:
            grace = min(32.0, interval / 3)
            self._scheduled = self.endpoint.call_at(now + interval - grace, self._expired)

    def _refresh(self) -> None:
        self._scheduled = None
        if self.terminated or self.timer is None:
            return
        headers = [
            ("Session-Expires", SessionTimer(self.timer.interval, self.role).header()),
            ("Supported", "timer"),
            *self._agent(),
        ]
        try:
            request = self.dialog.create_request("UPDATE", extra_headers=headers)
        except LocalProtocolError as exc:
            log.warning("cannot refresh the session: %s", exc)
            return
        self.endpoint.request(request, self._refresh_answered)

    def _refresh_answered(self, outcome: RequestOutcome) -> None:
        if self.terminated:
            return
        response = outcome.response
        if response is not None and 200 <= response.status < 300:
            granted = parse_session_expires(response.headers.get("Session-Expires") or None)
            if granted is not None and self.timer is not None:
                self.timer = SessionTimer(granted.interval, granted.refresher or self.role)
            self._schedule_timer()
            return
        if outcome.status in (408, 481):
            self._expired()  # the dialog is gone (RFC 4028 §10)
            return
        self._schedule_timer()  # try again at the next half interval

    def _expired(self) -> None:
        self._scheduled = None
        if self.terminated:
            return
        log.info("session %s expired without refresh", self.dialog.call_id)
        if self.on_terminated is not None:
            self.on_terminated("session expired")

    def close(self) -> None:
        """Stop the session timer (the owner is done with the dialog)."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
