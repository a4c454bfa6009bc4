"""The lab's IMS core on loopback: a SIP registrar and stateful proxy on one UDP+TCP port.

:class:`Registrar` plays the P-CSCF, S-CSCF and HSS front of a small IMS network for the
lab's subscribers (:mod:`.subscribers`), imitating the Kamailio set-up of sip_peers.md §2.
Started from :class:`~rcs_terminal.lab.lab.Lab` as ``Registrar(directory, trace=...)`` and
``await registrar.start(host, 0)``; its TCP address is the P-CSCF of every configuration the
lab hands out.

- **REGISTER** (:mod:`.registration`, :mod:`.reg_auth`): Digest or IMS AKA challenges,
  bindings per subscriber keyed by ``+sip.instance``/``reg-id`` and tied to the flow they
  came over (:mod:`.bindings`), a 200 with Service-Route, P-Associated-URI and Path.
- **reg event** (:mod:`.reg_notifier`, RFC 3680): ``SUBSCRIBE`` to one's own IMPU with
  ``Event: reg`` gets a full-state NOTIFY at once and one on every change; tests and demos
  make network-initiated changes with :meth:`Registrar.deactivate`,
  :meth:`Registrar.reject` and :meth:`Registrar.shorten`.
- **proxy** (:mod:`.proxy`, :mod:`.routing`, RFC 3261 §16): OPTIONS, MESSAGE, INVITE, BYE,
  ACK, CANCEL, NOTIFY, SUBSCRIBE... from a registered handset to a lab identity
  (``sip:+86...@<domain>``, ``tel:+86...``, ``sip:<user>@<lab domain>``) fork to every
  contact of the target over its own flow, with Via, Max-Forwards, Record-Route (INVITE,
  SUBSCRIBE) and P-Asserted-Identity; in-dialog requests are loose-routed back to the
  contact they name; OPTIONS is forwarded, never answered for the user. Unknown users get
  404, known ones without a contact 480, other domains 403, and a request whose From (or
  P-Preferred-Identity) is not a subscriber registered over that very flow gets
  ``403 Not Registered``: only REGISTER is challenged, as in IMS. OPTIONS to the registrar
  itself gets 200.
- **faults** (:mod:`.sip_faults`): 503 with Retry-After, 403, or dropped REGISTERs.

The sockets, the single transaction layer and the single timer are
:class:`~rcs_terminal.lab.sip_element.SipElement`'s; the timer also follows the bindings'
and the subscriptions' expiry.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address, StreamFlow
from rcs_terminal.errors import ParseError, SipParseError
from rcs_terminal.lab.bindings import Binding, BindingTable, Hop
from rcs_terminal.lab.proxy import (
    RECORD_ROUTE_METHODS,
    ContextAction,
    ResponseContext,
    forward_copy,
    max_forwards,
)
from rcs_terminal.lab.reg_auth import RegAuthenticator
from rcs_terminal.lab.reg_event import ContactChange
from rcs_terminal.lab.reg_notifier import RegEventNotifier, is_reg_subscribe
from rcs_terminal.lab.registration import RegisterProcessor, subscriber_names
from rcs_terminal.lab.routing import LabRouting
from rcs_terminal.lab.sip_element import SipElement
from rcs_terminal.lab.sip_faults import SipFault, SipFaultSwitch, make_sip_fault
from rcs_terminal.lab.subscribers import SubscriberDirectory
from rcs_terminal.protocol.sip.events import CancelReceived
from rcs_terminal.protocol.sip.headers import NameAddr
from rcs_terminal.protocol.sip.message import Request, Response
from rcs_terminal.protocol.sip.timers import TimerConfig
from rcs_terminal.protocol.sip.transaction import TransactionKey
from rcs_terminal.protocol.sip.uri import SipUri, cached_parse_uri

__all__ = ["ALLOW", "Registrar"]

ALLOW = "REGISTER, SUBSCRIBE, NOTIFY, OPTIONS, MESSAGE, INVITE, ACK, CANCEL, BYE, UPDATE, REFER"
"""The methods the registrar handles or relays."""

_DROP_MEMORY = 4096


class Registrar(SipElement):
    """The lab's registrar + stateful proxy (see the module docstring).

    Args:
        directory: the lab's subscribers.
        trace: the lab-wide trace (a new one by default); every message is recorded with
            owner ``lab``.
        domains: domains to serve besides the subscribers' home domains and
            ``botplatform.lab``.
        min_expires: shortest registration accepted (shorter ones get 423).
        max_expires: longest registration granted.
        default_expires: the expiry of a Contact that asks for none.
        digest_algorithms: the Digest algorithms offered, preferred first (``MD5``,
            ``SHA-256``).
        max_auth_failures: wrong answers in a row before 403.
        max_bindings: contacts kept per subscriber (the oldest go first).
        timer_config: SIP timer values (T1, T2, T4).
        random_bytes: the randomness source (tags, branches, nonces, RAND).
    """

    def __init__(
        self,
        directory: SubscriberDirectory,
        *,
        trace: TraceRecorder | None = None,
        domains: Iterable[str] = (),
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        digest_algorithms: Iterable[str] = ("MD5",),
        max_auth_failures: int = 2,
        max_bindings: int = 8,
        timer_config: TimerConfig | None = None,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        super().__init__(trace=trace, timer_config=timer_config, random_bytes=random_bytes)
        self.directory = directory
        self.routing = LabRouting(directory, domains)
        self.bindings = BindingTable(max_bindings)
        self.fault_switch = SipFaultSwitch()
        self.auth = RegAuthenticator(
            random_bytes=random_bytes,
            digest_algorithms=tuple(digest_algorithms),
            max_failures=max_auth_failures,
        )
        self.register = RegisterProcessor(
            directory,
            self.bindings,
            self.auth,
            self.fault_switch,
            serves=self.routing.serves,
            new_tag=self.new_tag,
            min_expires=min_expires,
            max_expires=max_expires,
            default_expires=default_expires,
        )
        self.notifier = RegEventNotifier(self, self.bindings, self.routing)
        self._contexts: dict[TransactionKey, ResponseContext] = {}
        self._branch_of: dict[TransactionKey, ResponseContext] = {}
        self._dropped: OrderedDict[tuple[str, int, str], None] = OrderedDict()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[Address, Address]:
        """Listen for SIP over UDP and TCP on ``host`` (one port; 0 picks a free one).

        Returns:
            The UDP and TCP :class:`~rcs_terminal.engine.transport.Address`.

        Raises:
            NetworkError: ``host`` is not a loopback address, or no port can be bound.
        """
        addresses = await super().start(host, port)
        self.routing.bind(self.host, self.port)
        return addresses

    # ------------------------------------------------------------------ public API

    @property
    def faults(self) -> list[SipFault]:
        """The faults in force."""
        return list(self.fault_switch)

    def set_fault(
        self, kind: str, *, target: str | None = None, once: int | None = None, retry_after: int = 1
    ) -> SipFault:
        """Switch a REGISTER failure mode on (``503``, ``403`` or ``drop``; see
        :mod:`.sip_faults`) for ``target`` (IMPI, IMSI, MSISDN, IMPU) or everyone.

        Raises:
            ValueError: an unknown kind or a bad option.
        """
        fault = make_sip_fault(kind, target=target, once=once, retry_after=retry_after)
        return self.fault_switch.add(fault)

    def add_fault(self, fault: SipFault) -> SipFault:
        """Switch on a fault built elsewhere (e.g. by ``sip_fault_from_json``)."""
        return self.fault_switch.add(fault)

    def clear_faults(self, target: str | None = None) -> int:
        """Switch off the faults of ``target`` (all when None); returns how many."""
        return self.fault_switch.clear(target)

    def bindings_of(self, identity: str) -> list[Binding]:
        """The live bindings of the subscriber ``identity`` (IMPI, IMSI, IMPU) names."""
        owner = self._owner(identity)
        return [] if owner is None else self.bindings.of(owner, self.now())

    def route_domain(self, domain: str, identity: str | None) -> None:
        """Route every unknown ``sip:<user>@<domain>`` to the subscriber ``identity`` names
        (the chatbot platform, for ``botplatform.lab``); None stops it.

        Raises:
            KeyError: ``identity`` names no lab subscriber.
        """
        owner = None if identity is None else self._owner(identity)
        if identity is not None and owner is None:
            raise KeyError(f"no lab subscriber {identity!r}")
        self.routing.route_domain(domain, owner)

    def deactivate(self, identity: str) -> int:
        """Remove the subscriber's bindings and NOTIFY ``deactivated`` (register again).

        Returns:
            How many bindings were removed.
        """
        return self._network_removal(identity, "deactivated")

    def reject(self, identity: str) -> int:
        """Remove the subscriber's bindings and NOTIFY ``rejected`` (stop registering).

        Returns:
            How many bindings were removed.
        """
        return self._network_removal(identity, "rejected")

    def shorten(self, identity: str, seconds: int) -> int:
        """Cut the subscriber's bindings to ``seconds`` and NOTIFY ``shortened``.

        Returns:
            How many bindings were shortened.
        """
        owner = self._owner(identity)
        sub = None if owner is None else self.routing.subscriber(owner)
        if owner is None or sub is None:
            return 0
        now = self.now()
        changes: list[ContactChange] = []
        for binding in self.bindings.of(owner, now):
            if binding.expires_at > now + seconds:
                changed = self.bindings.set_expiry(binding, now + max(0, seconds))
                changes.append((changed, "active", "shortened"))
        self.notifier.report(sub, changes, now)
        self._flush()
        return len(changes)

    # ------------------------------------------------------------------ requests

    def accept(self, message: Request | Response, hop: Hop) -> bool:
        """Swallow REGISTERs a ``drop`` fault applies to (and their retransmissions)."""
        if not isinstance(message, Request) or message.method != "REGISTER":
            return True
        try:
            ident = (message.call_id, message.cseq.seq, message.top_via.branch or "")
            if ident in self._dropped:
                return False
            if not any(fault.kind == "drop" for fault in self.fault_switch):
                return True
            sub, _ = self.register.identify(message)
        except ParseError:
            return True
        if sub is None or self.fault_switch.take(subscriber_names(sub), ("drop",)) is None:
            return True
        self._dropped[ident] = None
        while len(self._dropped) > _DROP_MEMORY:
            self._dropped.popitem(last=False)
        return False

    def on_request(self, key: TransactionKey, request: Request, hop: Hop, now: float) -> None:
        """REGISTER goes to the registrar, the rest to the proxy (or the reg notifier)."""
        if request.method == "REGISTER":
            outcome = self.register.process(request, hop, now)
            self.send_response(outcome.response, now)
            if outcome.subscriber is not None:
                self.notifier.report(outcome.subscriber, outcome.changes, now)
            return
        if self.notifier.in_dialog(key, request, hop, now):
            return
        uri, routes = self.routing.strip_own_routes(request)
        target = cached_parse_uri(uri)
        in_dialog = request.to.tag is not None
        if (
            not routes
            and isinstance(target, SipUri)
            and target.user is None
            and self.routing.is_own_node(target)
        ):
            self._for_us(key, request, in_dialog, now)
            return
        sender = self.routing.sender(request, hop, self.bindings, now)
        if sender is None:
            self.respond(key, request, 403, "Not Registered", now)
            return
        if max_forwards(request) == 0:
            self.respond(key, request, 483, None, now)
            return
        if not in_dialog and is_reg_subscribe(request):
            self.notifier.subscribe(key, request, sender[0], hop, now)
            return
        branches = self.routing.branches(
            uri,
            routes,
            in_dialog=in_dialog,
            bindings=self.bindings,
            udp=self.udp_flow,
            now=now,
            accept=request.addresses("Accept-Contact"),
        )
        if isinstance(branches, tuple):
            self.respond(key, request, branches[0], branches[1], now)
            return
        self._forward(key, request, branches, routes, sender[1], now)

    def _for_us(self, key: TransactionKey, request: Request, in_dialog: bool, now: float) -> None:
        if request.method == "OPTIONS":
            self.respond(key, request, 200, None, now, (("Allow", ALLOW),))
        else:
            self.respond(key, request, 481 if in_dialog else 405, None, now, (("Allow", ALLOW),))

    def _forward(
        self,
        key: TransactionKey,
        request: Request,
        branches: list[tuple[str, Hop]],
        routes: list[NameAddr],
        asserted: str,
        now: float,
    ) -> None:
        ctx = ResponseContext(key, request, to_tag=self.new_tag())
        record_route = None
        if request.method in RECORD_ROUTE_METHODS and request.to.tag is None:
            record_route = f"<sip:{self.own_address};lr>"
        if request.method == "INVITE":
            self.respond(key, request, 100, None, now)
        route_values = [str(route) for route in routes]
        for uri, hop in branches:
            copy = forward_copy(
                request,
                uri=uri,
                via=self.via(hop),
                routes=route_values,
                record_route=record_route,
                asserted_identity=asserted,
            )
            branch = self.send_request(copy, hop, now)
            self._branch_of[branch] = ctx
            ctx.add_branch(branch)
        self._contexts[key] = ctx

    def on_cancel(self, event: CancelReceived, now: float) -> None:
        """Answer the CANCEL and cancel the INVITE's pending branches (RFC 3261 §16.10)."""
        self.respond(event.key, event.request, 200 if event.invite_key else 481, None, now)
        ctx = None if event.invite_key is None else self._contexts.get(event.invite_key)
        if ctx is not None:
            self._apply(ctx, ContextAction(cancel=ctx.pending()), now)

    def on_ack(self, ack: Request, hop: Hop, now: float) -> None:
        """Relay the ACK of a 2xx to the contact it names (loose routing)."""
        uri, routes = self.routing.strip_own_routes(ack)
        branches = self.routing.branches(
            uri, routes, in_dialog=True, bindings=self.bindings, udp=self.udp_flow, now=now
        )
        if isinstance(branches, tuple) or len(branches) != 1:
            return
        out = branches[0][1]
        copy = forward_copy(ack, uri=uri, via=self.via(out), routes=[str(r) for r in routes])
        self.send_ack(copy, out, now)

    # ------------------------------------------------------------------ responses and time

    def on_response(self, key: TransactionKey, response: Response, now: float) -> None:
        """Relay a branch's response through its context, or note a NOTIFY's outcome."""
        ctx = self._branch_of.get(key)
        if ctx is None:
            self.notifier.on_response(key, response)
            return
        try:
            action = ctx.on_response(key, response)
        except SipParseError:
            return
        self._apply(ctx, action, now)

    def on_failure(self, key: TransactionKey, status: int, now: float) -> None:
        """A branch (or a NOTIFY) ended without a response."""
        ctx = self._branch_of.get(key)
        if ctx is not None:
            self._apply(ctx, ctx.on_failure(key, status), now)
        else:
            self.notifier.on_failure(key)

    def on_retired(self, key: TransactionKey) -> None:
        """Forget a finished transaction's context once all its branches are gone."""
        self.notifier.on_retired(key)
        ctx = self._branch_of.pop(key, None)
        if ctx is not None and not any(branch in self._branch_of for branch in ctx.branches):
            self._contexts.pop(ctx.server_key, None)

    def on_flow_closed(self, flow: StreamFlow[Any]) -> None:
        """A handset's connection closed: its bindings and subscriptions go with it."""
        now = self.now()
        self.notifier.flow_closed(id(flow))
        by_owner: dict[str, list[ContactChange]] = defaultdict(list)
        for binding in self.bindings.remove_flow(flow):
            by_owner[binding.owner].append((binding, "terminated", "deactivated"))
        self._report_all(by_owner, now, "deactivated")

    def extra_deadline(self) -> float | None:
        """The earliest binding or subscription expiry."""
        deadlines = [
            d for d in (self.bindings.next_expiry(), self.notifier.next_deadline()) if d is not None
        ]
        return min(deadlines) if deadlines else None

    def on_timer(self, now: float) -> None:
        """Expire bindings (NOTIFY ``expired``) and subscriptions."""
        by_owner: dict[str, list[ContactChange]] = defaultdict(list)
        for binding in self.bindings.expire(now):
            by_owner[binding.owner].append((binding, "terminated", "expired"))
        self._report_all(by_owner, now, None)
        self.notifier.expire(now)

    # ------------------------------------------------------------------ helpers

    def _apply(self, ctx: ResponseContext, action: ContextAction, now: float) -> None:
        for response in action.forward:
            self.send_response(response, now)
        for branch in action.cancel:
            self.cancel(branch, now)

    def _network_removal(self, identity: str, event: str) -> int:
        owner = self._owner(identity)
        sub = None if owner is None else self.routing.subscriber(owner)
        if owner is None or sub is None:
            return 0
        now = self.now()
        removed = self.bindings.remove_owner(owner)
        changes: list[ContactChange] = [
            (binding, "terminated", "rejected" if event == "rejected" else "deactivated")
            for binding in removed
        ]
        self.notifier.report(sub, changes, now, reason=event)
        self._flush()
        return len(removed)

    def _report_all(
        self, by_owner: dict[str, list[ContactChange]], now: float, reason: str | None
    ) -> None:
        for owner, changes in by_owner.items():
            sub = self.routing.subscriber(owner)
            if sub is not None:
                self.notifier.report(sub, changes, now, reason=reason)

    def _owner(self, identity: str) -> str | None:
        sub = (
            self.directory.by_impi(identity)
            or self.directory.by_imsi(identity)
            or self.directory.by_uri(identity)
        )
        if sub is not None:
            return sub.impi.lower()
        return self.routing.owner_of(identity) if ":" in identity else None
