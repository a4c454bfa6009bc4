"""Out-of-dialog requests through pjsip, with our own 401/407 handling.

``pjsua2.Account.sendRequest`` sends any request outside a dialog (RFC 3261 §8.1) and
reports the final response in ``Account.onSendRequest``, but it does **not** answer a
challenge: Kamailio's 407 to an OPTIONS from a local user comes straight back (measured,
sip_peers.md §4). :class:`RequestSender` therefore answers one 401/407 itself: it reads the
challenge with our parser, computes the credentials with
:func:`rcs_terminal.protocol.sip.auth.build_authorization` (:func:`answer_challenge`) and
sends the request again with ``Authorization`` / ``Proxy-Authorization`` among its headers
(RFC 3261 §22.2-22.3). A second challenge ends the request with that answer.

pjsua2 cannot carry a correlation value through ``sendRequest`` (``userData`` is a
``void*`` Python cannot set), so answers are matched to waiters by what the transaction
still holds: the request pjsip sent (``tsx.lastTx``), read back with our parser, gives the
method and Request-URI; waiters for the same method and target are served in order, which
is correct because such requests are interchangeable. The outcome is the native engine's
:class:`~rcs_terminal.engine.sip_endpoint.RequestOutcome`
(:func:`outcome_from_transaction`), so capability code reads both engines alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcs_terminal.engine.pjsip.library import wire_bytes
from rcs_terminal.engine.sip_endpoint import RequestOutcome, random_id
from rcs_terminal.errors import AuthChallengeError, LocalProtocolError, ParseError
from rcs_terminal.protocol.sip.auth import (
    Challenge,
    NonceCounter,
    build_authorization,
    parse_challenges,
)
from rcs_terminal.protocol.sip.message import Headers, Request, Response, parse_message
from rcs_terminal.protocol.sip.uri import uri_equal

if TYPE_CHECKING:
    from rcs_terminal.engine.pjsip.account import PjsipConfig
    from rcs_terminal.engine.pjsip.library import PjsipLibrary

__all__ = [
    "REQUEST_TIMEOUT",
    "RequestSender",
    "answer_challenge",
    "outcome_from_transaction",
]

REQUEST_TIMEOUT = 40.0
"""Seconds to wait for pjsip's final answer (its Timer F is 32 s)."""


# --------------------------------------------------------------------------- pure parts


def answer_challenge(
    response: Response,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    realm: str | None,
    cnonce: str,
    counter: NonceCounter,
    body: bytes = b"",
) -> tuple[str, str] | None:
    """The credentials header answering a 401/407, or None when it cannot be answered.

    The Digest challenge for ``realm`` is preferred (any realm when None); AKA and schemes
    or algorithms we cannot compute are not answered.

    Args:
        response: the 401 or 407.
        method: the challenged request's method.
        uri: its Request-URI (the digest-uri).
        username: the digest user name.
        password: the password.
        realm: the realm the credentials are for, or None.
        cnonce: a fresh client nonce.
        counter: counts the uses of each nonce (``nc``).
        body: the request body, for ``qop=auth-int``.

    Returns:
        ``("Proxy-Authorization", value)`` for a 407, ``("Authorization", value)`` for a 401.
    """
    header, answer = (
        ("Proxy-Authenticate", "Proxy-Authorization")
        if response.status == 407
        else ("WWW-Authenticate", "Authorization")
    )
    candidates: list[Challenge] = []
    for value in response.headers.get_all(header):
        try:
            candidates.extend(parse_challenges(value))
        except AuthChallengeError:
            continue
    usable = [c for c in candidates if c.is_digest and not c.is_aka]
    if realm is not None:
        usable.sort(key=lambda c: c.realm != realm)
    for challenge in usable:
        try:
            value = build_authorization(
                challenge,
                method=method,
                uri=uri,
                username=username,
                password=password,
                cnonce=cnonce,
                nc=counter.next(challenge.nonce or ""),
                body=body,
            )
        except (AuthChallengeError, LocalProtocolError):
            continue
        return answer, value
    return None


def outcome_from_transaction(
    request_data: bytes, response_data: bytes, status: int, reason: str, fallback: Request
) -> RequestOutcome:
    """Rebuild a :class:`RequestOutcome` from what pjsip's transaction holds.

    Args:
        request_data: the request pjsip sent (``tsx.lastTx.wholeMsg``), maybe empty.
        response_data: the final response received (``rdata.wholeMsg``), empty when the
            transaction ended without one (timeout, transport failure).
        status: the transaction's status code (408 for a timeout, 503 for a transport
            failure when pjsip has no response).
        reason: its reason text.
        fallback: the request to report when ``request_data`` cannot be read.
    """
    request = fallback
    if request_data:
        try:
            parsed = parse_message(request_data)
            if isinstance(parsed, Request):
                request = parsed
        except ParseError:
            pass
    if response_data:
        try:
            answer = parse_message(response_data)
        except ParseError as exc:
            return RequestOutcome(request, None, f"malformed response: {exc.reason}")
        if isinstance(answer, Response):
            return RequestOutcome(request, answer)
    if status == 408:
        return RequestOutcome(request, None, "timeout")
    return RequestOutcome(request, None, f"transport: {status} {reason}".rstrip())


# --------------------------------------------------------------------------- sending


@dataclass
class _Pending:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    future: asyncio.Future[RequestOutcome]
    challenged: bool = False
    extra: tuple[tuple[str, str], ...] = field(default=())


class RequestSender:
    """Sends out-of-dialog requests through one account (see the module docstring).

    Args:
        library: the pjsip library.
        account: the SIM's ``pjsua2.Account`` (its ``onSendRequest`` must reach
            :meth:`transaction_done`).
        config: the SIM's configuration (credentials).
        new_id: the source of client nonces.
    """

    def __init__(
        self,
        library: PjsipLibrary,
        account: Any,
        config: PjsipConfig,
        *,
        new_id: Callable[[], str] = random_id,
    ) -> None:
        self.library = library
        self.account = account
        self.config = config
        self.new_id = new_id
        self._pending: list[_Pending] = []
        self._nonces = NonceCounter()

    async def send(
        self,
        method: str,
        target: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        timeout: float = REQUEST_TIMEOUT,
    ) -> RequestOutcome:
        """Send ``method`` to ``target`` and wait for the final outcome.

        Raises:
            NetworkError: pjsip refused to send it.
        """
        future: asyncio.Future[RequestOutcome] = self.library.loop.create_future()
        pending = _Pending(method, target, tuple(headers), future)
        self._pending.append(pending)
        try:
            self._transmit(pending)
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return RequestOutcome(self._fallback(pending), None, "timeout")
        finally:
            if pending in self._pending:
                self._pending.remove(pending)

    def cancel_all(self) -> None:
        """End every waiting request (the account is going away)."""
        for pending in self._pending:
            if not pending.future.done():
                pending.future.set_result(
                    RequestOutcome(self._fallback(pending), None, "transport: account closed")
                )
        self._pending.clear()

    def _transmit(self, pending: _Pending) -> None:
        pj = self.library.pj
        prm = pj.SendRequestParam()
        prm.method = pending.method
        prm.txOption.targetUri = pending.target
        for name, value in (*pending.headers, *pending.extra):
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        self.library.call(f"send {pending.method}", lambda: self.account.sendRequest(prm))

    @staticmethod
    def _fallback(pending: _Pending) -> Request:
        return Request(pending.method, pending.target, Headers())

    def transaction_done(self, prm: Any) -> None:
        """``Account.onSendRequest``: match the answer to its waiter, answer a challenge."""
        state = prm.e.body.tsxState
        tsx = state.tsx
        request_data = wire_bytes(str(tsx.lastTx.wholeMsg))
        response_data = wire_bytes(str(state.src.rdata.wholeMsg))
        status, reason = int(tsx.statusCode), str(tsx.statusText)
        pending = self._match(request_data)
        if pending is None:
            return
        outcome = outcome_from_transaction(
            request_data, response_data, status, reason, self._fallback(pending)
        )
        response = outcome.response
        if response is not None and response.status in (401, 407) and not pending.challenged:
            credentials = answer_challenge(
                response,
                method=pending.method,
                uri=pending.target,
                username=self.config.username,
                password=self.config.password,
                realm=self.config.realm,
                cnonce=self.new_id(),
                counter=self._nonces,
            )
            if credentials is not None:
                pending.challenged = True
                pending.extra = (credentials,)
                self._transmit(pending)
                return
        self._pending.remove(pending)
        if not pending.future.done():
            pending.future.set_result(outcome)

    def _match(self, request_data: bytes) -> _Pending | None:
        if not self._pending:
            return None
        try:
            request = parse_message(request_data)
        except ParseError:
            return self._pending[0]
        if not isinstance(request, Request):
            return self._pending[0]
        for pending in self._pending:
            if pending.method == request.method and _same_uri(pending.target, request.uri):
                return pending
        return None


def _same_uri(a: str, b: str) -> bool:
    try:
        return uri_equal(a, b)
    except ParseError:
        return a == b
