"""SIP dialogs (RFC 3261 §12): the state two user agents share between requests.

A dialog is a peer-to-peer relationship created by a 2xx (or, as an *early* dialog, a 1xx
with a To tag) to an INVITE, or by a 2xx to SUBSCRIBE or REFER. It fixes what every later
request inside it carries (§12.2.1.1): the Call-ID, both tags, both URIs, the route set learned
from Record-Route and the remote target learned from Contact; and it orders requests with
CSeq: our own counter goes up by one per request, and the peer's must never go down
(§12.2.2, a lower one is answered with 500).

Here the dialog is a plain mutable object owned by the TU (a chat session, a subscription);
it builds requests and checks incoming ones but sends nothing: the TU hands what it builds
to the :class:`~rcs_terminal.protocol.sip.transaction_layer.TransactionLayer`, which adds the
Via. Routing follows §12.2.1.1: with a loose router (``;lr``) first in the route set, the
Request-URI is the remote target and the route set becomes the Route header; with a strict
router first (RFC 2543), the Request-URI is that router (stripped of parameters a
Request-URI may not carry) and the remote target goes last in Route.

Networks sometimes leave out what the RFC requires: a missing Contact keeps the previous
remote target (or falls back to the peer's URI), and a missing remote tag (RFC 2543 peers)
is kept as None, per §12.1.2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from rcs_terminal.errors import LocalProtocolError, SipParseError
from rcs_terminal.protocol.sip.headers import NameAddr, Params
from rcs_terminal.protocol.sip.message import Headers, Request, Response
from rcs_terminal.protocol.sip.uri import SipUri, parse_uri

__all__ = ["TARGET_REFRESH_METHODS", "Dialog", "DialogId"]

TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})
"""Methods whose Contact replaces the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665)."""

_MAX_CSEQ = 2**31 - 1
"""CSeq numbers must stay below 2**31 (RFC 3261 §8.1.1.5)."""

_CONTACT_NAMES = frozenset({"contact", "m"})
_CONTENT_TYPE_NAMES = frozenset({"content-type", "c"})


@dataclass(frozen=True, slots=True)
class DialogId:
    """The identity of a dialog, seen from our side (RFC 3261 §12).

    Attributes:
        call_id: the Call-ID.
        local_tag: our tag.
        remote_tag: the peer's tag (None for an RFC 2543 peer that sent none).
    """

    call_id: str
    local_tag: str
    remote_tag: str | None

    @classmethod
    def of_request(cls, request: Request) -> DialogId | None:
        """The dialog a received request claims to belong to.

        Returns:
            The id (local tag from To, remote tag from From), or None for a request outside
            any dialog (no To tag).

        Raises:
            SipParseError: Call-ID, From or To is missing or malformed.
        """
        local_tag = request.to.tag
        if local_tag is None:
            return None
        return cls(request.call_id, local_tag, request.from_.tag)

    @classmethod
    def of_response(cls, response: Response) -> DialogId | None:
        """The dialog a response to one of our requests belongs to.

        Returns:
            The id (local tag from From, remote tag from To), or None when From has no tag.

        Raises:
            SipParseError: Call-ID, From or To is missing or malformed.
        """
        local_tag = response.from_.tag
        if local_tag is None:
            return None
        return cls(response.call_id, local_tag, response.to.tag)


def _route_uris(entries: Iterable[NameAddr]) -> tuple[str, ...]:
    """The URIs of Record-Route entries (header parameters dropped, §12.1.1)."""
    return tuple(entry.uri for entry in entries)


def _contact_uri(message: Request | Response) -> str | None:
    """The URI of the first Contact (a wildcard ``*`` is no target)."""
    contacts = message.contacts
    return contacts[0].uri if contacts and not contacts[0].is_wildcard else None


def _name_addr(display: str | None, uri: str, tag: str | None) -> str:
    params = Params() if tag is None else Params([("tag", tag)])
    return str(NameAddr(uri, display or None, params))


def _is_loose_router(uri_text: str) -> bool:
    try:
        uri = parse_uri(uri_text)
    except SipParseError as exc:
        raise LocalProtocolError(f"the route set holds a malformed URI: {uri_text}") from exc
    return not isinstance(uri, SipUri) or "lr" in uri.params


def _strip_for_request_uri(uri_text: str) -> str:
    """Drop what a Request-URI may not carry: the method parameter and headers (§19.1.1)."""
    uri = parse_uri(uri_text)
    if not isinstance(uri, SipUri) or (not uri.headers and "method" not in uri.params):
        return uri_text
    return str(dataclasses.replace(uri, params=uri.params.without("method"), headers=()))


@dataclass(slots=True)
class Dialog:
    """The state of one dialog (RFC 3261 §12.1) and the rules for using it (§12.2).

    Attributes:
        call_id: the Call-ID of every request in the dialog.
        local_tag: our tag (From of our requests, To of theirs).
        remote_tag: the peer's tag; None for an RFC 2543 peer.
        local_uri: our URI (From of our requests).
        remote_uri: the peer's URI (To of our requests).
        remote_target: where requests go: the peer's latest Contact.
        route_set: the URIs of the Route headers our requests carry, in order.
        local_seq: the CSeq number of our latest request; None until we send one.
        remote_seq: the CSeq number of the peer's latest request; None until one arrives.
        secure: whether the dialog was set up with a SIPS Request-URI.
        early: created by a provisional response and not yet confirmed by a 2xx.
        local_contact: the Contact header value our target refresh requests carry.
        local_display: the display name for our From, if any.
        remote_display: the display name for our To, if any.
    """

    call_id: str
    local_tag: str
    remote_tag: str | None
    local_uri: str
    remote_uri: str
    remote_target: str
    route_set: tuple[str, ...] = ()
    local_seq: int | None = None
    remote_seq: int | None = None
    secure: bool = False
    early: bool = False
    local_contact: str | None = None
    local_display: str | None = None
    remote_display: str | None = None

    # ------------------------------------------------------------------ creation

    @classmethod
    def from_uac(cls, request: Request, response: Response) -> Dialog:
        """Create the dialog a response to our request establishes (RFC 3261 §12.1.2).

        Args:
            request: the INVITE (or SUBSCRIBE, REFER) we sent.
            response: a 2xx, or a 101-199 with a To tag (an early dialog).

        Returns:
            The dialog: route set from the response's Record-Route, reversed; remote target
            from its Contact; local CSeq from the request.

        Raises:
            LocalProtocolError: the response creates no dialog (100, a final failure, a
                provisional without To tag), does not answer ``request``, or the request
                has no From tag.
            SipParseError: a header of the response is malformed.
        """
        status = response.status
        if not 101 <= status <= 299:
            raise LocalProtocolError(f"a {status} response creates no dialog")
        remote_tag = response.to.tag
        if status < 200 and remote_tag is None:
            raise LocalProtocolError("a provisional response without To tag creates no dialog")
        local = request.from_
        if local.tag is None:
            raise LocalProtocolError("our request has no From tag")
        if response.call_id != request.call_id or response.cseq != request.cseq:
            raise LocalProtocolError("the response does not answer this request")
        remote = request.to
        return cls(
            call_id=request.call_id,
            local_tag=local.tag,
            remote_tag=remote_tag,
            local_uri=local.uri,
            remote_uri=remote.uri,
            remote_target=_contact_uri(response) or request.uri,
            route_set=_route_uris(reversed(response.addresses("Record-Route"))),
            local_seq=request.cseq.seq,
            secure=request.uri.lower().startswith("sips:"),
            early=status < 200,
            local_contact=request.headers.get("Contact"),
            local_display=local.display_name,
            remote_display=remote.display_name,
        )

    @classmethod
    def from_uas(
        cls,
        request: Request,
        local_tag: str,
        *,
        local_contact: str | None = None,
        early: bool = False,
    ) -> Dialog:
        """Create the dialog we establish by answering ``request`` (RFC 3261 §12.1.1).

        Args:
            request: the INVITE (or SUBSCRIBE, REFER) we received.
            local_tag: the To tag our responses carry.
            local_contact: the Contact value of our response (also used in our target
                refresh requests).
            early: True when answering with a provisional response; :meth:`confirm` once
                the 2xx is sent.

        Returns:
            The dialog: route set from the request's Record-Route, in order; remote target
            from its Contact; remote CSeq from the request.

        Raises:
            SipParseError: a header of the request is malformed.
        """
        remote = request.from_
        local = request.to
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=remote.tag,
            local_uri=local.uri,
            remote_uri=remote.uri,
            remote_target=_contact_uri(request) or remote.uri,
            route_set=_route_uris(request.addresses("Record-Route")),
            remote_seq=request.cseq.seq,
            secure=request.uri.lower().startswith("sips:"),
            early=early,
            local_contact=local_contact,
            local_display=local.display_name,
            remote_display=remote.display_name,
        )

    @property
    def id(self) -> DialogId:
        """The dialog id (Call-ID and both tags)."""
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    def confirm(self) -> None:
        """Mark an early UAS dialog confirmed (we sent the 2xx)."""
        self.early = False

    # ------------------------------------------------------------------ sending

    def create_request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """Build the next request inside the dialog (RFC 3261 §12.2.1.1).

        The local CSeq goes up by one (starting at 1). Target refresh requests carry
        :attr:`local_contact`. The Via is left to the transaction layer.

        Args:
            method: any method but ACK (:meth:`create_ack`) and CANCEL (built from the
                INVITE by the transaction layer).
            body: the body.
            content_type: its type; required when ``body`` is not empty.
            extra_headers: more ``(name, value)`` headers, appended in order.

        Returns:
            The request.

        Raises:
            LocalProtocolError: ACK or CANCEL, a body without type, or CSeq exhausted.
        """
        if method in ("ACK", "CANCEL"):
            raise LocalProtocolError(f"{method} is not built with create_request()")
        seq = 1 if self.local_seq is None else self.local_seq + 1
        if seq > _MAX_CSEQ:
            raise LocalProtocolError("the dialog's CSeq numbers are exhausted")
        request = self._build(method, seq, body, content_type, tuple(extra_headers))
        self.local_seq = seq
        return request

    def create_ack(
        self,
        invite_response: Response,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """Build the ACK for a 2xx to an INVITE of this dialog (RFC 3261 §13.2.2.4).

        The response is applied first (:meth:`receive_response`, harmless if it already
        was), so an early dialog is confirmed and routed by the 2xx. The ACK carries the
        INVITE's CSeq number; authentication headers, if the INVITE had them, go in
        ``extra_headers``.

        Args:
            invite_response: the 2xx.
            body: the SDP answer, when the 2xx carried the offer.
            content_type: the body's type.
            extra_headers: more headers (e.g. Authorization copied from the INVITE).

        Returns:
            The ACK, to be sent with ``TransactionLayer.send_ack()``.

        Raises:
            LocalProtocolError: not a 2xx to an INVITE of this dialog.
        """
        cseq = invite_response.cseq
        if cseq.method != "INVITE" or not 200 <= invite_response.status <= 299:
            raise LocalProtocolError("an ACK is built for a 2xx response to an INVITE")
        self.receive_response(invite_response)
        return self._build("ACK", cseq.seq, body, content_type, tuple(extra_headers))

    def _build(
        self,
        method: str,
        seq: int,
        body: bytes,
        content_type: str | None,
        extra_headers: tuple[tuple[str, str], ...],
    ) -> Request:
        extra_names = {name.lower() for name, _ in extra_headers}
        if body and content_type is None and not extra_names & _CONTENT_TYPE_NAMES:
            raise LocalProtocolError("a request with a body needs a Content-Type")
        uri, routes = self._target_and_routes()
        headers = Headers()
        for route in routes:
            headers.add("Route", f"<{route}>")
        headers.add("Max-Forwards", "70")
        headers.add("From", _name_addr(self.local_display, self.local_uri, self.local_tag))
        headers.add("To", _name_addr(self.remote_display, self.remote_uri, self.remote_tag))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{seq} {method}")
        if (
            method in TARGET_REFRESH_METHODS
            and self.local_contact is not None
            and not extra_names & _CONTACT_NAMES
        ):
            headers.add("Contact", self.local_contact)
        if content_type is not None:
            headers.add("Content-Type", content_type)
        for name, value in extra_headers:
            headers.add(name, value)
        return Request(method, uri, headers, body)

    def _target_and_routes(self) -> tuple[str, tuple[str, ...]]:
        """The Request-URI and Route URIs of the next request (§12.2.1.1)."""
        routes = self.route_set
        if not routes or _is_loose_router(routes[0]):
            return self.remote_target, routes
        return _strip_for_request_uri(routes[0]), (*routes[1:], self.remote_target)

    # ------------------------------------------------------------------ receiving

    def receive_request(self, request: Request) -> int | None:
        """Check a request the peer sent inside this dialog and update the state (§12.2.2).

        Args:
            request: the request.

        Returns:
            None when the request is accepted in the dialog; otherwise the status to answer
            with: 481 when it names another dialog, 500 when its CSeq is lower than the
            peer's last one (out of order). ACK and CANCEL keep their INVITE's CSeq and are
            not ordered. Target refresh requests with a Contact update the remote target.

        Raises:
            SipParseError: a header needed for the check is missing or malformed.
        """
        if (
            request.call_id != self.call_id
            or request.to.tag != self.local_tag
            or request.from_.tag != self.remote_tag
        ):
            return 481
        if request.method not in ("ACK", "CANCEL"):
            seq = request.cseq.seq
            if self.remote_seq is not None and seq < self.remote_seq:
                return 500
            self.remote_seq = seq
        if request.method in TARGET_REFRESH_METHODS:
            self.remote_target = _contact_uri(request) or self.remote_target
        return None

    def receive_response(self, response: Response) -> None:
        """Apply a response to one of our requests in this dialog (§12.2.1.2, §13.2.2.4).

        A 2xx to the INVITE of an early dialog confirms it and recomputes the route set; a
        2xx to a target refresh request replaces the remote target with its Contact.

        Args:
            response: the response.

        Raises:
            LocalProtocolError: the response belongs to another dialog.
            SipParseError: a header of the response is malformed.
        """
        if response.call_id != self.call_id or response.from_.tag != self.local_tag:
            raise LocalProtocolError("the response belongs to another dialog")
        if response.to.tag != self.remote_tag:
            raise LocalProtocolError("the response comes from another dialog (To tag)")
        if not 200 <= response.status <= 299:
            return
        method = response.cseq.method
        if method == "INVITE" and self.early:
            self.early = False
            self.route_set = _route_uris(reversed(response.addresses("Record-Route")))
        if method in TARGET_REFRESH_METHODS:
            self.remote_target = _contact_uri(response) or self.remote_target
