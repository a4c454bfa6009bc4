"""The lab registrar's failure modes, switched on from Python or over the lab's HTTP API.

A handset's registration code has to meet the answers a real S-CSCF gives when things go
wrong (provisioning_sip.md §3, "Errors"), so the registrar can be told to misbehave on
REGISTER, for every subscriber or for one, until cleared or for the next ``once`` requests:

========  ====================================================================================
kind      the registrar...
========  ====================================================================================
``503``   is overloaded: ``503 Service Unavailable`` with ``Retry-After: <retry_after>``
``403``   refuses the subscriber: ``403 Forbidden``
``drop``  swallows the REGISTER and its retransmissions: the handset's transaction times out
========  ====================================================================================

A fault's ``target`` names the subscriber by IMPI, IMSI, MSISDN or one of its IMPUs; a
subscriber's own fault is found before a global one. Faults are checked once the REGISTER's
subscriber is known and before it is challenged, as a P-CSCF or I-CSCF in trouble would
answer. Over HTTP a fault is the JSON object of :meth:`SipFault.to_json`;
:func:`sip_fault_from_json` checks one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

SipFaultKind = Literal["503", "403", "drop"]
SIP_FAULT_KINDS: tuple[SipFaultKind, ...] = ("503", "403", "drop")

_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "target": (str, type(None)),
    "once": (int, type(None)),
    "retry_after": int,
}


@dataclass(frozen=True)
class SipFault:
    """One failure mode of the registrar.

    Attributes:
        kind: what the registrar does (see the module table).
        target: the subscriber it applies to (IMPI, IMSI, MSISDN or IMPU), or None for all.
        once: how many more REGISTER requests it applies to, or None until cleared.
        retry_after: the ``Retry-After`` seconds of a ``503``.
    """

    kind: SipFaultKind
    target: str | None = None
    once: int | None = None
    retry_after: int = 1

    def to_json(self) -> dict[str, Any]:
        """The JSON form (what the lab's faults API lists)."""
        data: dict[str, Any] = {"kind": self.kind, "target": self.target, "once": self.once}
        if self.kind == "503":
            data["retry_after"] = self.retry_after
        return data


def make_sip_fault(
    kind: str, *, target: str | None = None, once: int | None = None, retry_after: int = 1
) -> SipFault:
    """Build a checked :class:`SipFault`.

    Raises:
        ValueError: an unknown kind, ``once`` below 1, ``retry_after`` outside 0..86400, or a
            target with control characters or spaces.
    """
    if kind not in SIP_FAULT_KINDS:
        raise ValueError(f"unknown SIP fault {kind!r}; known: {', '.join(SIP_FAULT_KINDS)}")
    if once is not None and once < 1:
        raise ValueError("once must be at least 1")
    if not 0 <= retry_after <= 86400:
        raise ValueError("retry_after must be 0 to 86400 seconds")
    if target is not None and (not target or not target.isprintable() or " " in target):
        raise ValueError("target must be an IMPI, IMSI, MSISDN or IMPU")
    return SipFault(kind, target, once, retry_after)


def sip_fault_from_json(data: object) -> SipFault:
    """Read a fault from its JSON form, e.g. ``{"kind": "503", "retry_after": 5}``.

    Raises:
        ValueError: not an object, an unknown or wrongly typed field, or what
            :func:`make_sip_fault` refuses.
    """
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object such as {"kind": "503", "retry_after": 1}')
    options: dict[str, Any] = {}
    for name, value in data.items():
        expected = _OPTIONS.get(name)
        if expected is None:
            raise ValueError(f"unknown SIP fault option {name!r}")
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ValueError(f"{name} has the wrong type")
        options[name] = value
    kind = options.pop("kind", None)
    if kind is None:
        raise ValueError("kind is required")
    return make_sip_fault(kind, **options)


@dataclass
class SipFaultSwitch:
    """The faults in force, in the order they were switched on."""

    _faults: list[SipFault] = field(default_factory=list)

    def add(self, fault: SipFault) -> SipFault:
        """Switch ``fault`` on (after those already set)."""
        self._faults.append(fault)
        return fault

    def clear(self, target: str | None = None) -> int:
        """Switch off the faults of ``target``, or all when None; returns how many."""
        before = len(self._faults)
        if target is None:
            self._faults.clear()
        else:
            self._faults = [f for f in self._faults if f.target != target]
        return before - len(self._faults)

    def __iter__(self) -> Iterator[SipFault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def peek(self, names: Iterable[str], kinds: Iterable[str] = SIP_FAULT_KINDS) -> SipFault | None:
        """The fault of one of ``kinds`` that applies to a subscriber known by ``names``
        (its own faults first, then the global ones).

        Args:
            names: the subscriber's identifiers (IMPI, IMSI, MSISDN, IMPUs); compared
                without case.
            kinds: the kinds of fault wanted.
        """
        keys = {name.lower() for name in names}
        wanted = frozenset(kinds)
        faults = [f for f in self._faults if f.kind in wanted]
        own = (f for f in faults if f.target is not None and f.target.lower() in keys)
        shared = (f for f in faults if f.target is None)
        return next(own, None) or next(shared, None)

    def take(self, names: Iterable[str], kinds: Iterable[str] = SIP_FAULT_KINDS) -> SipFault | None:
        """:meth:`peek`, counting one use: a ``once`` fault goes away when used up."""
        fault = self.peek(names, kinds)
        if fault is None or fault.once is None:
            return fault
        for index, current in enumerate(self._faults):
            if current is fault:
                if fault.once <= 1:
                    del self._faults[index]
                else:
                    self._faults[index] = replace(fault, once=fault.once - 1)
                break
        return fault
