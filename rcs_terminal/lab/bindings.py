"""The lab registrar's location table: who is registered, and over which flow to reach them.

A *binding* ties one registered Contact to a subscriber (RFC 3261 §10.3). All public
identities of a subscriber (its ``sip:`` and ``tel:`` IMPUs, TS 23.228 implicit registration
set) share one set of bindings, so the table is keyed by the subscriber (its IMPI, the
*owner*), not by each IMPU.

Within an owner a binding is identified as RFC 5626 §6 and RFC 5627 do: by ``+sip.instance``
and ``reg-id`` when the Contact carries an instance id (a handset that re-registers from a
new port or a new TCP connection replaces its old contact instead of adding a stale one, the
trap sip_peers.md §9 describes), else by the Contact URI.

Each binding remembers the *hop* it arrived over: the UDP socket and the address to send to,
or the TCP connection itself. Requests for the subscriber go back that way (Kamailio's
``fix_nated_register`` behaviour; TCP handsets have no listener). When a connection closes,
its bindings go with it (RFC 5626 §5.4: the flow has failed).

Expiry runs on one heap of deadlines with lazy deletion: refreshing a binding pushes a new
entry and the stale one is skipped when it surfaces, so the registrar needs a single timer
for every binding (:meth:`BindingTable.next_expiry`). The table holds no clock; callers pass
``now`` (the registrar's loop time).
"""

from __future__ import annotations

import heapq
import ipaddress
import math
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.headers import NameAddr
from rcs_terminal.protocol.sip.uri import SipUri, Uri

__all__ = [
    "Binding",
    "BindingKey",
    "BindingTable",
    "FlowLike",
    "Hop",
    "binding_key",
    "contact_key",
    "is_loopback_literal",
]

BindingKey = tuple[str, str]
"""``("instance", "<+sip.instance>|<reg-id>")`` or ``("uri", <normalised contact URI>)``."""

RegisterEvent = Literal["registered", "refreshed"]


class FlowLike(Protocol):
    """What the registrar needs of a transport flow (``engine.transport.Flow``)."""

    transport: str

    def send(self, data: bytes, dest: Address | None = None) -> None: ...

    @property
    def is_closed(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Hop:
    """Where a message goes: a flow and, for UDP, the peer's address.

    Attributes:
        flow: the UDP socket or the TCP connection.
        address: the peer (for a stream, its remote address; for the trace only).
    """

    flow: FlowLike = field(compare=False)
    address: Address
    flow_id: int = field(default=0, repr=False)

    @classmethod
    def of(cls, flow: FlowLike, address: Address) -> Hop:
        """The hop for ``address`` over ``flow`` (compared by flow identity and address)."""
        return cls(flow, address, id(flow))

    @property
    def reliable(self) -> bool:
        """True over TCP/TLS (no retransmissions)."""
        return self.flow.transport != "udp"

    @property
    def transport(self) -> str:
        """``UDP``, ``TCP`` or ``TLS``, as Via writes it."""
        return self.flow.transport.upper()

    def send(self, data: bytes) -> None:
        """Send ``data`` along this hop.

        Raises:
            NetworkError: the socket or connection is closed.
        """
        self.flow.send(data, self.address)


def is_loopback_literal(host: str) -> bool:
    """True when ``host`` is a literal loopback address (``127.0.0.0/8``, ``::1``)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def contact_key(uri: Uri) -> str | None:
    """A comparison key for a SIP URI: user, host (lower case) and port (default filled in).

    Parameters are ignored, so ``sip:u@127.0.0.1:5080;transport=udp`` and
    ``sip:u@127.0.0.1:5080`` meet. Returns None for tel: and other URIs.
    """
    if not isinstance(uri, SipUri):
        return None
    port = uri.port if uri.port is not None else (5061 if uri.scheme == "sips" else 5060)
    return f"{uri.user or ''}@{uri.host.lower()}:{port}"


def binding_key(contact: NameAddr) -> BindingKey:
    """The key of ``contact`` within its owner's bindings (see the module docstring).

    Raises:
        SipParseError: the Contact URI is malformed (only read without an instance id).
    """
    instance = contact.params.get("+sip.instance")
    if instance:
        return ("instance", f"{instance}|{contact.params.get('reg-id') or ''}")
    return ("uri", contact_key(contact.parsed_uri) or contact.uri)


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact.

    Attributes:
        owner: the subscriber (its IMPI, lower case).
        key: the binding's key within the owner.
        contact: the Contact as registered (URI, ``+sip.instance``, feature tags...).
        hop: how to reach it.
        source: the address the REGISTER came from (the sender check compares it).
        expires_at: when it expires (registrar time).
        registered_at: when it was first registered.
        call_id: the Call-ID of the REGISTER that made or last refreshed it.
        cseq: that REGISTER's CSeq number.
        id: a stable identifier (reginfo ``contact id``).
        path: the Path URIs the REGISTER carried, in order.
    """

    owner: str
    key: BindingKey
    contact: NameAddr
    hop: Hop
    source: Address
    expires_at: float
    registered_at: float
    call_id: str
    cseq: int
    id: str
    path: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        """The Contact URI, as registered."""
        return self.contact.uri

    @property
    def instance(self) -> str | None:
        """The ``+sip.instance`` value, if any."""
        return self.contact.params.get("+sip.instance")

    @property
    def tags(self) -> dict[str, list[str] | None]:
        """The Contact's RFC 3840 feature tags (checked when the binding was made)."""
        return feature_tags(self.contact.params)

    def remaining(self, now: float) -> int:
        """Whole seconds left before expiry (0 once expired)."""
        return max(0, math.ceil(self.expires_at - now - 1e-6))

    def contact_value(self, now: float) -> str:
        """The Contact header value with ``expires`` set to the time left."""
        params = self.contact.params.with_param("expires", str(self.remaining(now)))
        return str(NameAddr(self.contact.uri, self.contact.display_name, params))


class BindingTable:
    """All bindings of the registrar.

    Args:
        max_per_owner: the most bindings one subscriber may hold; registering one more
            evicts the oldest.
    """

    def __init__(self, max_per_owner: int = 8) -> None:
        self.max_per_owner = max_per_owner
        self._owners: dict[str, dict[BindingKey, Binding]] = {}
        self._contacts: dict[str, Binding] = {}
        self._streams: dict[int, set[tuple[str, BindingKey]]] = {}
        self._heap: list[tuple[float, int, str, BindingKey]] = []
        self._seq = 0
        self._ids = 0

    def __len__(self) -> int:
        return sum(len(bindings) for bindings in self._owners.values())

    def owners(self) -> list[str]:
        """The owners with at least one binding."""
        return list(self._owners)

    def of(self, owner: str, now: float | None = None) -> list[Binding]:
        """The owner's bindings, oldest first; with ``now``, only those not yet expired."""
        bindings = self._owners.get(owner)
        if not bindings:
            return []
        found = sorted(bindings.values(), key=lambda b: (b.registered_at, b.id))
        return found if now is None else [b for b in found if b.expires_at > now]

    def get(self, owner: str, key: BindingKey) -> Binding | None:
        """The owner's binding with ``key``, if any."""
        return self._owners.get(owner, {}).get(key)

    def new_id(self) -> str:
        """A fresh binding id (``c1``, ``c2``...)."""
        self._ids += 1
        return f"c{self._ids}"

    def put(self, binding: Binding) -> tuple[RegisterEvent, list[Binding]]:
        """Add or replace a binding (same owner and key).

        Returns:
            ``"registered"`` for a new binding or ``"refreshed"`` for a replaced one, and
            the bindings evicted to stay within :attr:`max_per_owner`.
        """
        bindings = self._owners.setdefault(binding.owner, {})
        previous = bindings.get(binding.key)
        if previous is not None:
            self._unindex(previous)
        bindings[binding.key] = binding
        self._index(binding)
        evicted: list[Binding] = []
        while len(bindings) > self.max_per_owner:
            oldest = min(bindings.values(), key=lambda b: (b.registered_at, b.id))
            removed = self.remove(oldest.owner, oldest.key)
            if removed is not None:
                evicted.append(removed)
        return ("registered" if previous is None else "refreshed"), evicted

    def set_expiry(self, binding: Binding, expires_at: float) -> Binding:
        """Change when ``binding`` expires (network-initiated shortening)."""
        updated = replace(binding, expires_at=expires_at)
        self._unindex(binding)
        self._owners[binding.owner][binding.key] = updated
        self._index(updated)
        return updated

    def remove(self, owner: str, key: BindingKey) -> Binding | None:
        """Remove one binding; returns it, or None when there was none."""
        bindings = self._owners.get(owner)
        if not bindings or key not in bindings:
            return None
        binding = bindings.pop(key)
        self._unindex(binding)
        if not bindings:
            del self._owners[owner]
        return binding

    def remove_owner(self, owner: str) -> list[Binding]:
        """Remove every binding of ``owner``."""
        return [
            removed
            for binding in self.of(owner)
            if (removed := self.remove(owner, binding.key)) is not None
        ]

    def remove_flow(self, flow: FlowLike) -> list[Binding]:
        """Remove the bindings reached over the connection ``flow`` (it closed)."""
        entries = self._streams.pop(id(flow), set())
        return [
            removed
            for owner, key in sorted(entries)
            if (removed := self.remove(owner, key)) is not None
        ]

    def find_contact(self, uri: Uri) -> Binding | None:
        """The binding whose Contact URI matches ``uri`` (user, host and port), if any."""
        key = contact_key(uri)
        return None if key is None else self._contacts.get(key)

    def registered_over(self, owner: str, hop: Hop, now: float) -> bool:
        """Whether ``owner`` has a live binding that was registered over ``hop``.

        Over TCP the connection must be the same; over UDP also the source address.
        """
        for binding in self._owners.get(owner, {}).values():
            if binding.expires_at <= now or binding.hop.flow_id != hop.flow_id:
                continue
            if hop.reliable or binding.source == hop.address:
                return True
        return False

    def next_expiry(self) -> float | None:
        """The earliest time a binding may expire, or None when there are none."""
        heap = self._heap
        while heap and not self._current(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def expire(self, now: float) -> list[Binding]:
        """Remove and return every binding whose time is up at ``now``."""
        expired: list[Binding] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._current(entry):
                removed = self.remove(entry[2], entry[3])
                if removed is not None:
                    expired.append(removed)
        return expired

    # ------------------------------------------------------------------ internals

    def _current(self, entry: tuple[float, int, str, BindingKey]) -> bool:
        binding = self._owners.get(entry[2], {}).get(entry[3])
        return binding is not None and binding.expires_at == entry[0]

    def _index(self, binding: Binding) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (binding.expires_at, self._seq, binding.owner, binding.key))
        key = _contact_key_of(binding)
        if key is not None:
            self._contacts[key] = binding
        if binding.hop.reliable:
            self._streams.setdefault(binding.hop.flow_id, set()).add((binding.owner, binding.key))

    def _unindex(self, binding: Binding) -> None:
        key = _contact_key_of(binding)
        if key is not None and self._contacts.get(key) is binding:
            del self._contacts[key]
        entries = self._streams.get(binding.hop.flow_id) if binding.hop.reliable else None
        if entries is not None:
            entries.discard((binding.owner, binding.key))
            if not entries:
                del self._streams[binding.hop.flow_id]
        if len(self._heap) > 64 and len(self._heap) > 4 * (len(self._contacts) + 1):
            self._heap = [entry for entry in self._heap if self._current(entry)]
            heapq.heapify(self._heap)


def _contact_key_of(binding: Binding) -> str | None:
    try:
        return contact_key(binding.contact.parsed_uri)
    except SipParseError:  # validated on registration; stay safe all the same
        return None
