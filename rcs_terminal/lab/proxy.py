"""The stateful proxy half of the lab's IMS core (RFC 3261 §16), without I/O.

The registrar forwards requests between registered handsets as Kamailio does in
sip_peers.md §2 (and as the P-CSCF / S-CSCF pair of an IMS core would). This module owns the
pieces of that job that need no sockets:

- :func:`forward_copy` builds the request sent on one branch (§16.6): the new Request-URI,
  the proxy's Via on top, Max-Forwards decremented, a Record-Route on top for
  dialog-creating requests (so in-dialog requests come back through the proxy: TCP handsets
  have no listener), the remaining Route set, and P-Asserted-Identity in place of anything
  the handset asserted or preferred (TS 24.229 §5.2.6.3.3);
- :func:`pop_top_via` removes the proxy's own Via from a response before it is relayed
  (§16.7 step 3);
- :class:`ResponseContext` is the response context of one forwarded request (§16.7): it
  relays provisional responses and every 2xx at once, cancels the other branches of an
  INVITE once one answers 2xx (or 6xx), and, for the rest, waits for every branch to finish
  and then relays the best final response (6xx first, else the lowest class; 503 becomes
  500 on the way, step 6). Branches that time out or cannot be reached count as the
  408 / 480 the proxy makes up for them.

The registrar drives a context with the events of its transaction layer and carries out the
:class:`ContextAction` it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.message import Headers, Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey

__all__ = [
    "DEFAULT_MAX_FORWARDS",
    "RECORD_ROUTE_METHODS",
    "ContextAction",
    "ResponseContext",
    "forward_copy",
    "max_forwards",
    "pop_top_via",
]

RECORD_ROUTE_METHODS = frozenset({"INVITE", "SUBSCRIBE", "REFER"})
"""Dialog-creating methods the proxy record-routes."""

DEFAULT_MAX_FORWARDS = 70
"""Max-Forwards a request without one is given (RFC 3261 §8.1.1.6)."""

_IDENTITY_HEADERS = frozenset({"p-asserted-identity", "p-preferred-identity"})
_PREFERRED_4XX = frozenset({401, 407, 415, 420, 484})


def max_forwards(request: Request) -> int | None:
    """The request's Max-Forwards, or None when it has none.

    Raises:
        SipParseError: (``status_hint=400``) the value is not a number.
    """
    raw = request.headers.get("Max-Forwards")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise SipParseError(
            "Max-Forwards is not a number", where="header Max-Forwards", status_hint=400
        )
    return int(raw)


def forward_copy(
    request: Request,
    *,
    uri: str,
    via: str,
    routes: Sequence[str] = (),
    record_route: str | None = None,
    asserted_identity: str | None = None,
) -> Request:
    """The copy of ``request`` sent on one branch (RFC 3261 §16.6).

    Args:
        request: the request as received (left unchanged).
        uri: the branch's Request-URI (the registered contact, or the original one).
        via: the proxy's Via value, without branch (the transaction layer adds it).
        routes: the Route header values the copy carries, in order (the received ones
            minus those naming the proxy).
        record_route: a Record-Route value to put on top, if any.
        asserted_identity: when given, replaces any P-Asserted-Identity and
            P-Preferred-Identity.

    Raises:
        SipParseError: (``status_hint=400``) Max-Forwards is not a number.
    """
    hops = max_forwards(request)
    headers = Headers()
    headers.add("Via", via)
    if record_route is not None:
        headers.add("Record-Route", record_route)
    for route in routes:
        headers.add("Route", route)
    for name, value in request.headers:
        lower = name.lower()
        if lower == "route" or (asserted_identity is not None and lower in _IDENTITY_HEADERS):
            continue
        if lower == "max-forwards":
            value = str(max(0, (hops or 0) - 1))
        headers.add(name, value)
    if hops is None:
        headers.add("Max-Forwards", str(DEFAULT_MAX_FORWARDS - 1))
    if asserted_identity is not None:
        headers.add("P-Asserted-Identity", asserted_identity)
    return Request(request.method, uri, headers, request.body)


def pop_top_via(response: Response) -> Response | None:
    """``response`` without its top Via (the proxy's own), or None when no Via is left.

    Raises:
        SipParseError: a Via header cannot be split.
    """
    vias = response.headers.get_all("Via")
    if len(vias) < 2:
        return None
    headers = Headers()
    placed = False
    for name, value in response.headers:
        if name.lower() == "via":
            if not placed:
                for rest in vias[1:]:
                    headers.add("Via", rest)
                placed = True
            continue
        headers.add(name, value)
    return Response(response.status, response.reason, headers, response.body)


@dataclass
class ContextAction:
    """What the registrar must do after a context saw a response or a failure.

    Attributes:
        forward: responses to relay upstream through the server transaction, in order.
        cancel: INVITE client transactions to cancel.
    """

    forward: list[Response] = field(default_factory=list)
    cancel: list[TransactionKey] = field(default_factory=list)


class ResponseContext:
    """The response context of one request forwarded on one or more branches (§16.7).

    Args:
        server_key: the server transaction of the request.
        request: the request as received.
        to_tag: the To tag of responses the proxy makes up (timeouts, failures).
    """

    def __init__(self, server_key: TransactionKey, request: Request, *, to_tag: str) -> None:
        self.server_key = server_key
        self.request = request
        self.invite = request.method == "INVITE"
        self.final_sent = False
        self._to_tag = to_tag
        self._finals: dict[TransactionKey, bool] = {}
        self._candidates: list[tuple[tuple[int, int, int], int, Response]] = []

    @property
    def branches(self) -> list[TransactionKey]:
        """The client transactions of the branches."""
        return list(self._finals)

    @property
    def done(self) -> bool:
        """True once a final response went upstream and every branch has finished."""
        return self.final_sent and all(self._finals.values())

    def add_branch(self, key: TransactionKey) -> None:
        """Count a new branch (its client transaction ``key``)."""
        self._finals[key] = False

    def pending(self) -> list[TransactionKey]:
        """The branches still without a final response."""
        return [key for key, final in self._finals.items() if not final]

    def on_response(self, key: TransactionKey, response: Response) -> ContextAction:
        """Take a response of branch ``key`` (still carrying the proxy's Via).

        Raises:
            SipParseError: the response's Via headers cannot be read.
        """
        if key not in self._finals or self._finals[key] or response.status == 100:
            return ContextAction()
        relay = pop_top_via(response)
        if relay is None:
            return ContextAction()
        status = relay.status
        if status < 200:
            return ContextAction([] if self.final_sent else [relay])
        self._finals[key] = True
        if status < 300:
            forward = [relay] if self.invite or not self.final_sent else []
            self.final_sent = True
            return ContextAction(forward, self.pending() if self.invite else [])
        self._keep(relay, synthetic=False)
        cancel = self.pending() if self.invite and status >= 600 else []
        return ContextAction(self._best_when_done(), cancel)

    def on_failure(self, key: TransactionKey, status: int) -> ContextAction:
        """Branch ``key`` ended without a final response: count it as ``status``."""
        if key not in self._finals or self._finals[key]:
            return ContextAction()
        self._finals[key] = True
        self._keep(build_response(self.request, status, to_tag=self._to_tag), synthetic=True)
        return ContextAction(self._best_when_done())

    def _keep(self, response: Response, *, synthetic: bool) -> None:
        status = response.status
        klass = status // 100
        rank = (
            0 if klass == 6 else klass,
            1 if synthetic else 0,
            0 if status in _PREFERRED_4XX else 1,
        )
        self._candidates.append((rank, len(self._candidates), response))

    def _best_when_done(self) -> list[Response]:
        if self.final_sent or not all(self._finals.values()) or not self._candidates:
            return []
        self.final_sent = True
        best = min(self._candidates, key=lambda item: (item[0], item[1]))[2]
        if best.status == 503:
            best = Response(500, "Server Internal Error", best.headers, best.body)
        return [best]
