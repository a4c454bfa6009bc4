"""Helpers shared by the SIP transaction and dialog tests (no tests here).

:class:`UacUasPair` is the in-memory network of the transaction tests (h11's
``ConnectionPair`` idea): two :class:`TransactionLayer` objects, one clock, and explicit
message transfer in each direction. Every transferred message goes through its wire form
(``to_bytes()`` then ``parse_message()``), so the tests exercise what the engine would see.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rcs_terminal.clock import FakeClock
from rcs_terminal.protocol.sip.events import TransactionEvent
from rcs_terminal.protocol.sip.message import Request, Response, parse_message
from rcs_terminal.protocol.sip.timers import TimerConfig
from rcs_terminal.protocol.sip.transaction import TransactionKey
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

_M = TypeVar("_M", Request, Response)
_E = TypeVar("_E")

WIRE = Path(__file__).resolve().parents[1] / "data" / "wire" / "sip_transaction"

START = 1000.0


def load(name: str) -> Request | Response:
    """Parse one capture of the corpus."""
    return parse_message((WIRE / name).read_bytes())


def load_request(name: str) -> Request:
    message = load(name)
    assert isinstance(message, Request)
    return message


def load_response(name: str) -> Response:
    message = load(name)
    assert isinstance(message, Response)
    return message


def counter(prefix: str) -> Callable[[], str]:
    """A deterministic branch id source: ``prefix1``, ``prefix2``..."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


def over_wire(message: _M) -> _M:
    """The message as the peer parses it."""
    parsed = parse_message(message.to_bytes())
    assert type(parsed) is type(message)
    return parsed


def only(events: list[TransactionEvent], kind: type[_E]) -> _E:
    """The single event of ``events``, checked to be a ``kind``."""
    [event] = events
    assert isinstance(event, kind), event
    return event


def make_request(
    method: str,
    *,
    branch: str | None = None,
    cseq: int = 1,
    call_id: str = "call-1@rcs.test",
    from_tag: str = "from-1",
    to_tag: str | None = None,
    via: str | None = None,
    uri: str = "sip:+8613800000002@rcs.test",
) -> Request:
    """A minimal, valid request; ``via=None`` leaves the Via to the transaction layer."""
    lines = [f"{method} {uri} SIP/2.0"]
    if via is not None:
        lines.append(f"Via: {via}" + ("" if branch is None else f";branch={branch}"))
    to = "<sip:+8613800000002@rcs.test>" + ("" if to_tag is None else f";tag={to_tag}")
    lines += [
        "Max-Forwards: 70",
        f"From: <sip:+8613800000001@rcs.test>;tag={from_tag}",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        "Content-Length: 0",
    ]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


class UacUasPair:
    """A UAC layer and a UAS layer joined by an in-memory network and a shared clock.

    Args:
        reliable: whether the "transport" is reliable (TCP/TLS semantics).
        config: timer values for both sides.
    """

    def __init__(self, *, reliable: bool = False, config: TimerConfig | None = None) -> None:
        self.reliable = reliable
        self.clock = FakeClock(START)
        transport = "TCP" if reliable else "UDP"
        self.uac = TransactionLayer(
            config,
            new_branch_id=counter("uac"),
            local_via=f"SIP/2.0/{transport} 192.0.2.10:5060;rport",
        )
        self.uas = TransactionLayer(
            config,
            new_branch_id=counter("uas"),
            local_via=f"SIP/2.0/{transport} 192.0.2.20:5060",
        )

    @property
    def now(self) -> float:
        return self.clock.now()

    def send_request(self, request: Request) -> TransactionKey:
        return self.uac.send_request(request, self.now, reliable=self.reliable)

    def to_uas(self, *, drop: bool = False) -> list[TransactionEvent]:
        """Deliver everything the UAC queued to the UAS (or lose it if ``drop``)."""
        return _transfer(self.uac, self.uas, self.now, self.reliable, drop)

    def to_uac(self, *, drop: bool = False) -> list[TransactionEvent]:
        """Deliver everything the UAS queued to the UAC (or lose it if ``drop``)."""
        return _transfer(self.uas, self.uac, self.now, self.reliable, drop)

    def advance(self, seconds: float) -> tuple[list[TransactionEvent], list[TransactionEvent]]:
        """Move the clock and fire both sides' timers; returns (uac events, uas events)."""
        now = self.clock.advance(seconds)
        return self.uac.handle_timer(now), self.uas.handle_timer(now)


def _transfer(
    source: TransactionLayer,
    target: TransactionLayer,
    now: float,
    reliable: bool,
    drop: bool,
) -> list[TransactionEvent]:
    events: list[TransactionEvent] = []
    for message in source.messages_to_send():
        if not drop:
            events += target.receive(parse_message(message.to_bytes()), now, reliable=reliable)
    return events


def run_timers(layer: TransactionLayer, until: float) -> list[tuple[float, list[object]]]:
    """Fire ``layer``'s timers one deadline at a time up to ``until``.

    Returns:
        ``(time, sent messages + events)`` for every deadline reached.
    """
    steps: list[tuple[float, list[object]]] = []
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        events: list[object] = list(layer.handle_timer(deadline))
        steps.append((deadline, [*layer.messages_to_send(), *events]))
    return steps
