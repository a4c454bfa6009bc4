"""The reg event package at the lab's S-CSCF (RFC 3680, TS 24.229 §5.4.2.1).

After registering, an IMS handset subscribes to its own registration state
(``SUBSCRIBE <own IMPU>``, ``Event: reg``). The registrar is the notifier: it answers 200,
sends a NOTIFY with the full state at once, and a NOTIFY each time the subscriber's
bindings change (registered, refreshed, expired, deactivated, shortened, rejected,
unregistered). Every NOTIFY carries the *full* state (RFC 3680 §5.2 allows it), with one
``<registration>`` per public identity of the subscriber (its implicit registration set),
each listing every contact, and the contacts that just went away marked ``terminated`` with
the event that removed them. Documents are written by
:func:`rcs_terminal.protocol.sip.reginfo.build_reginfo`.

When the subscriber's last binding goes, the registration is over and so are the
subscriptions to it (TS 24.229 §5.4.1.4, §5.4.1.5): the NOTIFY says
``Subscription-State: terminated`` with a reason (``deactivated``, ``rejected``,
``noresource``), and a subscription that is not refreshed in time ends with
``reason=timeout`` (RFC 6665 §4.2.2).

This module keeps the subscriptions (each a UAS dialog plus the hop its NOTIFYs go over)
and builds the NOTIFY requests; the registrar sends them through its transaction layer.
Subscription expiry uses a heap with lazy deletion, like the bindings.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from rcs_terminal.lab.bindings import Binding, Hop
from rcs_terminal.lab.subscribers import LabSubscriber
from rcs_terminal.protocol.sip.dialog import Dialog
from rcs_terminal.protocol.sip.message import Request
from rcs_terminal.protocol.sip.reginfo import (
    CONTENT_TYPE,
    ContactEvent,
    ContactInfo,
    ContactState,
    RegInfo,
    RegistrationInfo,
    RegistrationState,
    build_reginfo,
)

__all__ = ["ContactChange", "RegSubscription", "RegSubscriptions", "reginfo_document"]

ContactChange = tuple[Binding, ContactState, ContactEvent]
"""A binding, the state it is now in, and the event that put it there."""

_NOT_CONTACT_INFO = frozenset({"expires", "q"})


@dataclass(eq=False)
class RegSubscription:
    """One subscription to a subscriber's registration state.

    Attributes:
        owner: the subscriber (IMPI, lower case).
        dialog: the subscription's dialog (we are its UAS).
        hop: where its NOTIFYs go (the flow the SUBSCRIBE came over).
        expires_at: when it ends unless refreshed.
        version: the reginfo version of the next NOTIFY.
    """

    owner: str
    dialog: Dialog
    hop: Hop
    expires_at: float
    version: int = 0
    key: tuple[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.key = (self.dialog.call_id, self.dialog.local_tag)

    def remaining(self, now: float) -> int:
        """Whole seconds before the subscription expires."""
        return max(0, int(self.expires_at - now + 0.999))


def reginfo_document(
    subscriber: LabSubscriber,
    bindings: Sequence[Binding],
    changes: Sequence[ContactChange],
    *,
    version: int,
    now: float,
) -> bytes:
    """The full-state reginfo document of ``subscriber``.

    Args:
        subscriber: whose registration it describes.
        bindings: the live bindings.
        changes: what just happened: bindings added, refreshed or shortened (state
            ``active``) and bindings removed (state ``terminated``), with the event.
        version: the document version (per subscription, from 0).
        now: the current time (for ``expires`` and ``duration-registered``).
    """
    events = {binding.id: (state, event) for binding, state, event in changes}
    contacts: list[ContactInfo] = []
    for binding in bindings:
        state, event = events.pop(binding.id, ("active", "registered"))
        contacts.append(_contact_info(binding, state, event, now))
    gone = {binding.id: binding for binding, _, _ in changes if binding.id in events}
    for binding_id, (state, event) in events.items():
        contacts.append(_contact_info(gone[binding_id], state, event, now))
    reg_state: RegistrationState
    if any(contact.state == "active" for contact in contacts):
        reg_state = "active"
    else:
        reg_state = "terminated" if contacts else "init"
    registrations = tuple(
        RegistrationInfo(aor=aor, state=reg_state, id=f"r{index}", contacts=tuple(contacts))
        for index, aor in enumerate(subscriber.impus, start=1)
    )
    return build_reginfo(RegInfo(version=version, state="full", registrations=registrations))


def _contact_info(
    binding: Binding, state: ContactState, event: ContactEvent, now: float
) -> ContactInfo:
    params = tuple(
        (name, value)
        for name, value in binding.contact.params.wire_items()
        if name.lower() not in _NOT_CONTACT_INFO
    )
    return ContactInfo(
        uri=binding.uri,
        state=state,
        event=event,
        id=binding.id,
        expires=binding.remaining(now) if state == "active" else 0,
        duration_registered=max(0, int(now - binding.registered_at)),
        q=binding.contact.params.get("q"),
        callid=binding.call_id,
        cseq=binding.cseq,
        display_name=binding.contact.display_name,
        unknown_params=params,
    )


class RegSubscriptions:
    """The reg-event subscriptions of the registrar."""

    def __init__(self) -> None:
        self._subs: dict[tuple[str, str], RegSubscription] = {}
        self._by_owner: dict[str, dict[tuple[str, str], RegSubscription]] = {}
        self._heap: list[tuple[float, int, tuple[str, str]]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._subs)

    def add(self, sub: RegSubscription) -> RegSubscription:
        """Keep ``sub`` (a new subscription)."""
        self._subs[sub.key] = sub
        self._by_owner.setdefault(sub.owner, {})[sub.key] = sub
        self._push(sub)
        return sub

    def refresh(self, sub: RegSubscription, expires_at: float) -> None:
        """Move the end of ``sub`` to ``expires_at``."""
        sub.expires_at = expires_at
        self._push(sub)

    def find(self, call_id: str, local_tag: str | None) -> RegSubscription | None:
        """The subscription of an in-dialog request (Call-ID and our To tag)."""
        if local_tag is None:
            return None
        return self._subs.get((call_id, local_tag))

    def of(self, owner: str) -> list[RegSubscription]:
        """The subscriptions to ``owner``'s registration."""
        return list(self._by_owner.get(owner, {}).values())

    def remove(self, sub: RegSubscription) -> None:
        """Forget ``sub`` (nothing happens when it is already gone)."""
        if self._subs.get(sub.key) is sub:
            self._forget(sub)

    def over_flow(self, flow_id: int) -> list[RegSubscription]:
        """The subscriptions whose NOTIFYs go over the flow ``flow_id``."""
        return [sub for sub in self._subs.values() if sub.hop.flow_id == flow_id]

    def next_expiry(self) -> float | None:
        """The earliest time a subscription may expire, or None."""
        heap = self._heap
        while heap and not self._current(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def expire(self, now: float) -> list[RegSubscription]:
        """Remove and return the subscriptions whose time is up."""
        expired = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._current(entry):
                sub = self._subs[entry[2]]
                self._forget(sub)
                expired.append(sub)
        return expired

    @staticmethod
    def notify(
        sub: RegSubscription, body: bytes, *, now: float, reason: str | None = None
    ) -> Request:
        """Build the next NOTIFY of ``sub`` (the caller adds the Via and sends it).

        Args:
            sub: the subscription; its version goes up by one.
            body: the reginfo document (built with ``version=sub.version``).
            now: the current time.
            reason: when given, the subscription ends (``Subscription-State: terminated``
                with this reason).
        """
        state = (
            f"terminated;reason={reason}"
            if reason is not None
            else f"active;expires={sub.remaining(now)}"
        )
        sub.version += 1
        return sub.dialog.create_request(
            "NOTIFY",
            body=body,
            content_type=CONTENT_TYPE,
            extra_headers=(("Event", "reg"), ("Subscription-State", state)),
        )

    def _forget(self, sub: RegSubscription) -> None:
        del self._subs[sub.key]
        owned = self._by_owner.get(sub.owner)
        if owned is not None:
            owned.pop(sub.key, None)
            if not owned:
                del self._by_owner[sub.owner]

    def _push(self, sub: RegSubscription) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (sub.expires_at, self._seq, sub.key))
        if len(self._heap) > 64 and len(self._heap) > 4 * len(self._subs):
            self._heap = [entry for entry in self._heap if self._current(entry)]
            heapq.heapify(self._heap)

    def _current(self, entry: tuple[float, int, tuple[str, str]]) -> bool:
        sub = self._subs.get(entry[2])
        return sub is not None and sub.expires_at == entry[0]
