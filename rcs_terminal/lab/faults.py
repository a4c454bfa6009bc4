"""The lab config server's failure modes, switched on from Python or over HTTP.

A conformance run has to see every answer a real RCC.14 server gives (provisioning_sip.md
§1, §2), not only the happy one. Each :class:`Fault` makes the config server answer
differently, for every subscriber or one IMSI, until cleared or for the next ``once``
requests only:

=============  =================================================================================
kind           the config server...
=============  =================================================================================
``403``        refuses the subscriber (403 Forbidden)
``511``        refuses the identity (511 Network Authentication Required: "drop your token")
``503``        is overloaded (503 with ``Retry-After: <retry_after>``, default 1 s)
``500``        fails (500 Internal Server Error)
``406``        accepts only ``provisioning_version`` ``accept_version`` (default ``4.0``): other
               requests get 406 with ``Supported-Versions``
``drop``       closes the connection without answering (the client sees no answer)
``version``    answers with ``VERS/version`` = ``version`` (0 reset, -1 reset and disable,
               -2 disable, -3 dormant with ``VERS/validity`` = ``validity``)
``terms``      adds ``MSG`` terms (``title``, ``message``, Accept/Reject buttons) to the
               configuration
``otp``        asks for an OTP by SMS even when the cookie or token identifies the subscriber
=============  =================================================================================

Faults are checked in the order the server meets them (status faults before identification,
``otp`` at identification, ``terms`` when the configuration is written); a per-IMSI fault is
found before a global one. Over HTTP (``POST /lab/faults``) a fault is the JSON object of
:meth:`Fault.to_json`; :func:`fault_from_json` checks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

FaultKind = Literal["403", "511", "503", "500", "406", "drop", "version", "terms", "otp"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "403",
    "511",
    "503",
    "500",
    "406",
    "drop",
    "version",
    "terms",
    "otp",
)
STATUS_KINDS: frozenset[str] = frozenset({"403", "511", "503", "500", "406", "drop", "version"})
"""Faults decided before the subscriber is identified."""
VERSION_VALUES = (0, -1, -2, -3)


@dataclass(frozen=True)
class Fault:
    """One failure mode.

    Attributes:
        kind: what the server does (see the module table).
        imsi: the subscriber it applies to, or None for everyone.
        once: how many more requests it applies to, or None until cleared.
        retry_after: ``Retry-After`` seconds of a ``503``.
        version: the ``VERS/version`` of a ``version`` fault (0, -1, -2, -3).
        validity: the ``VERS/validity`` of a ``version`` fault (the dormant poll for -3).
        accept_version: the only ``provisioning_version`` a ``406`` fault accepts.
        title: the terms' title (``terms``).
        message: the terms' text (``terms``).
        accept_btn: show an Accept button (``terms``).
        reject_btn: show a Reject button (``terms``).
    """

    kind: FaultKind
    imsi: str | None = None
    once: int | None = None
    retry_after: int = 1
    version: int = 0
    validity: int = 3600
    accept_version: str = "4.0"
    title: str = "5G Message terms of service"
    message: str = "By using 5G Messages you accept the operator's terms of service."
    accept_btn: bool = True
    reject_btn: bool = True

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``GET /lab/faults``)."""
        # Every field, whatever the kind: what GET /lab/faults shows can be POSTed back as is.
        data: dict[str, Any] = {
            "kind": self.kind,
            "imsi": self.imsi,
            "once": self.once,
            "retry_after": self.retry_after,
            "version": self.version,
            "validity": self.validity,
            "accept_version": self.accept_version,
            "title": self.title,
            "message": self.message,
            "accept_btn": self.accept_btn,
            "reject_btn": self.reject_btn,
        }
        return data


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "imsi": (str, type(None)),
    "once": (int, type(None)),
    "retry_after": int,
    "version": int,
    "validity": int,
    "accept_version": str,
    "title": str,
    "message": str,
    "accept_btn": bool,
    "reject_btn": bool,
}


def make_fault(kind: str, **options: Any) -> Fault:
    """Build a checked :class:`Fault`.

    Raises:
        ValueError: unknown kind or option, or a value out of range.
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
    unknown = sorted(set(options) - set(_FIELDS))
    if unknown:
        raise ValueError(f"unknown fault option {unknown[0]!r}")
    fault = Fault(kind, **options)
    if fault.once is not None and fault.once < 1:
        raise ValueError("once must be at least 1")
    if not 0 <= fault.retry_after <= 86400:
        raise ValueError("retry_after must be 0 to 86400 seconds")
    if fault.kind == "version" and fault.version not in VERSION_VALUES:
        raise ValueError("version must be 0, -1, -2 or -3")
    if not 0 <= fault.validity <= 10**9:
        raise ValueError("validity must be 0 to 10^9 seconds")
    if fault.imsi is not None and not (fault.imsi.isascii() and fault.imsi.isdigit()):
        raise ValueError("imsi must be digits")
    if any(ord(ch) < 32 for ch in fault.title + fault.message + fault.accept_version):
        raise ValueError("control characters are not allowed")
    return fault


def fault_from_json(data: object) -> Fault:
    """Read a fault from its JSON form (``POST /lab/faults``).

    Raises:
        ValueError: not an object, a wrongly typed field, or what :func:`make_fault` refuses.
    """
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object such as {"kind": "503", "retry_after": 1}')
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ValueError("kind is required")
    options: dict[str, Any] = {}
    for name, value in data.items():
        expected = _FIELDS.get(name)
        if expected is None:
            raise ValueError(f"unknown fault option {name!r}")
        if name == "kind":
            continue
        if isinstance(value, bool) and expected is not bool:
            raise ValueError(f"{name} has the wrong type")
        if not isinstance(value, expected):
            raise ValueError(f"{name} has the wrong type")
        options[name] = value
    return make_fault(kind, **options)


@dataclass
class FaultSwitch:
    """The faults in force, in the order they were set."""

    _faults: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> Fault:
        """Switch ``fault`` on (after those already set)."""
        self._faults.append(fault)
        return fault

    def clear(self, imsi: str | None = None) -> int:
        """Switch faults off: those of ``imsi``, or all when None. Returns how many."""
        before = len(self._faults)
        if imsi is None:
            self._faults.clear()
        else:
            self._faults = [f for f in self._faults if f.imsi != imsi]
        return before - len(self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def peek(self, imsi: str, kinds: Iterable[str]) -> Fault | None:
        """The fault of one of ``kinds`` that applies to ``imsi`` (its own first)."""
        wanted = frozenset(kinds)
        own = (f for f in self._faults if f.imsi == imsi and f.kind in wanted)
        shared = (f for f in self._faults if f.imsi is None and f.kind in wanted)
        return next(own, None) or next(shared, None)

    def consume(self, fault: Fault) -> None:
        """Count one use of ``fault``; a ``once`` fault goes away when used up."""
        if fault.once is None:
            return
        for index, current in enumerate(self._faults):
            if current is fault:
                if fault.once <= 1:
                    del self._faults[index]
                else:
                    self._faults[index] = replace(fault, once=fault.once - 1)
                return

    def take(self, imsi: str, kinds: Iterable[str]) -> Fault | None:
        """:meth:`peek` and :meth:`consume` in one step."""
        fault = self.peek(imsi, kinds)
        if fault is not None:
            self.consume(fault)
        return fault
