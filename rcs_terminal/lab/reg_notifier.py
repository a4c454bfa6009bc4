"""The notifier of the reg event package at the lab's S-CSCF (RFC 3680 §4, RFC 6665).

:class:`RegEventNotifier` answers reg-event SUBSCRIBEs and sends the NOTIFYs, through the
registrar's :class:`~rcs_terminal.lab.sip_element.SipElement`:

- an initial ``SUBSCRIBE <own IMPU>`` with ``Event: reg`` from a registered subscriber gets
  200 (with a Contact naming the registrar's literal address and the granted ``Expires``,
  at most 600000 s, 3761 s when none is asked, RFC 3680 §4.2) and at once a NOTIFY with the
  full state; a SUBSCRIBE to someone else's registration gets 403;
- a re-SUBSCRIBE inside the dialog refreshes it; ``Expires: 0`` ends it (a last NOTIFY
  with ``Subscription-State: terminated;reason=timeout``);
- :meth:`RegEventNotifier.report` sends every subscription to a subscriber a NOTIFY about
  changed bindings, and ends the subscriptions when no binding is left;
- a NOTIFY answered with an error, timed out or unsendable ends its subscription.

The documents and the subscription bookkeeping live in :mod:`.reg_event`.
"""

from __future__ import annotations

from rcs_terminal.errors import SipParseError
from rcs_terminal.lab.bindings import BindingTable, Hop
from rcs_terminal.lab.reg_event import (
    ContactChange,
    RegSubscription,
    RegSubscriptions,
    reginfo_document,
)
from rcs_terminal.lab.routing import LabRouting
from rcs_terminal.lab.sip_element import SipElement
from rcs_terminal.lab.subscribers import LabSubscriber
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.message import Request, Response, build_response
from rcs_terminal.protocol.sip.transaction import TransactionKey

__all__ = [
    "DEFAULT_SUBSCRIPTION_EXPIRES",
    "MAX_SUBSCRIPTION_EXPIRES",
    "RegEventNotifier",
    "is_reg_subscribe",
]

MAX_SUBSCRIPTION_EXPIRES = 600000
"""The longest subscription granted (what TS 24.229 handsets ask for)."""

DEFAULT_SUBSCRIPTION_EXPIRES = 3761
"""The expiry of a SUBSCRIBE without Expires (RFC 3680 §4.2)."""


def is_reg_subscribe(request: Request) -> bool:
    """Whether ``request`` is a SUBSCRIBE for the reg event package."""
    value = request.headers.get("Event")
    return (
        request.method == "SUBSCRIBE"
        and value is not None
        and value.split(";", 1)[0].strip().lower() == "reg"
    )


class RegEventNotifier:
    """Subscriptions to registration state and their NOTIFYs.

    Args:
        element: the registrar (sends and answers).
        bindings: the location table (the state reported).
        routing: the lab's naming rules.
    """

    def __init__(self, element: SipElement, bindings: BindingTable, routing: LabRouting) -> None:
        self._element = element
        self._bindings = bindings
        self._routing = routing
        self.subscriptions = RegSubscriptions()
        self._notifies: dict[TransactionKey, RegSubscription] = {}

    # ------------------------------------------------------------------ SUBSCRIBE

    def subscribe(
        self, key: TransactionKey, request: Request, sender: LabSubscriber, hop: Hop, now: float
    ) -> None:
        """Answer an initial reg-event SUBSCRIBE from the registered ``sender``.

        Raises:
            SipParseError: (``status_hint=400``) a header is malformed.
        """
        element = self._element
        owner = self._routing.owner_of(request.uri)
        if owner is None:
            element.respond(key, request, 404, None, now)
            return
        if owner != sender.impi.lower():
            element.respond(key, request, 403, "Not Your Registration", now)
            return
        expires = _expires(request)
        tag = element.new_tag()
        contact = f"<sip:{element.own_address};transport={hop.transport.lower()}>"
        response = build_response(request, 200, to_tag=tag)
        response.headers.add("Contact", contact)
        response.headers.add("Expires", str(expires))
        element.send_response(response, now)
        dialog = Dialog.from_uas(request, tag, local_contact=contact)
        subscription = RegSubscription(owner, dialog, hop, now + expires)
        if expires == 0:
            self._notify(subscription, sender, [], now, reason="timeout")
            return
        self.subscriptions.add(subscription)
        self._notify(subscription, sender, [], now)

    def in_dialog(self, key: TransactionKey, request: Request, hop: Hop, now: float) -> bool:
        """Handle a request inside one of our subscriptions; False when it is not one.

        Raises:
            SipParseError: (``status_hint=400``) a header is malformed.
        """
        sub = self.subscriptions.find(request.call_id, request.to.tag)
        if sub is None:
            return False
        element = self._element
        status = sub.dialog.receive_request(request)
        if status is not None or request.method != "SUBSCRIBE":
            element.respond(key, request, status or 405, None, now, (("Allow", "SUBSCRIBE"),))
            return True
        expires = _expires(request)
        sub.hop = hop
        contact = sub.dialog.local_contact or f"<sip:{element.own_address}>"
        element.respond(
            key, request, 200, None, now, (("Contact", contact), ("Expires", str(expires)))
        )
        subscriber = self._routing.subscriber(sub.owner)
        if subscriber is None:
            return True
        if expires == 0:
            self.subscriptions.remove(sub)
            self._notify(sub, subscriber, [], now, reason="timeout")
        else:
            self.subscriptions.refresh(sub, now + expires)
            self._notify(sub, subscriber, [], now)
        return True

    # ------------------------------------------------------------------ NOTIFY

    def report(
        self,
        sub: LabSubscriber,
        changes: list[ContactChange],
        now: float,
        *,
        reason: str | None = None,
    ) -> None:
        """NOTIFY every subscription to ``sub``'s registration about ``changes``.

        Args:
            sub: the subscriber.
            changes: what happened to its bindings.
            now: the current time.
            reason: the ``Subscription-State`` reason when the registration ends
                (``noresource`` by default).
        """
        if not changes:
            return
        owner = sub.impi.lower()
        ending = None if self._bindings.of(owner, now) else (reason or "noresource")
        for subscription in self.subscriptions.of(owner):
            self._notify(subscription, sub, changes, now, reason=ending)
            if ending is not None:
                self.subscriptions.remove(subscription)

    def _notify(
        self,
        subscription: RegSubscription,
        sub: LabSubscriber,
        changes: list[ContactChange],
        now: float,
        *,
        reason: str | None = None,
    ) -> None:
        body = reginfo_document(
            sub,
            self._bindings.of(subscription.owner, now),
            changes,
            version=subscription.version,
            now=now,
        )
        request = RegSubscriptions.notify(subscription, body, now=now, reason=reason)
        request.headers.add("Via", self._element.via(subscription.hop))
        key = self._element.send_request(request, subscription.hop, now)
        self._notifies[key] = subscription

    # ------------------------------------------------------------------ outcomes and time

    def on_response(self, key: TransactionKey, response: Response) -> bool:
        """A response to one of our NOTIFYs: an error ends the subscription. False when
        ``key`` is not a NOTIFY of ours."""
        subscription = self._notifies.get(key)
        if subscription is None:
            return False
        if response.status >= 300:
            self.subscriptions.remove(subscription)
        return True

    def on_failure(self, key: TransactionKey) -> bool:
        """A NOTIFY timed out or could not be sent: the subscription ends."""
        subscription = self._notifies.get(key)
        if subscription is None:
            return False
        self.subscriptions.remove(subscription)
        return True

    def on_retired(self, key: TransactionKey) -> None:
        """Forget a finished NOTIFY transaction."""
        self._notifies.pop(key, None)

    def flow_closed(self, flow_id: int) -> None:
        """Drop the subscriptions whose NOTIFYs went over a closed connection."""
        for subscription in self.subscriptions.over_flow(flow_id):
            self.subscriptions.remove(subscription)

    def next_deadline(self) -> float | None:
        """When the next subscription may expire."""
        return self.subscriptions.next_expiry()

    def expire(self, now: float) -> None:
        """End the subscriptions whose time is up (last NOTIFY: ``reason=timeout``)."""
        for subscription in self.subscriptions.expire(now):
            subscriber = self._routing.subscriber(subscription.owner)
            if subscriber is not None:
                self._notify(subscription, subscriber, [], now, reason="timeout")


def _expires(request: Request) -> int:
    raw = request.headers.get("Expires")
    if raw is None:
        return DEFAULT_SUBSCRIPTION_EXPIRES
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise SipParseError("Expires is not a number", where="header Expires", status_hint=400)
    return min(int(raw), MAX_SUBSCRIPTION_EXPIRES)
