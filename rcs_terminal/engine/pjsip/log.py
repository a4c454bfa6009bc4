"""pjsip's log, routed into our protocol trace and Python logging.

pjsip has no hook that hands an application the bytes it sends and receives, but with
message logging on (``LogConfig.msgLogging``, level 4) its core writes every SIP message
it transmits or receives to the log, one entry per message, in this form (``decor=0``, so
no time stamp or indentation is added):

.. code-block:: text

    TX 499 bytes Request msg REGISTER/cseq=17449 (tdta0x5646b08394f8) to UDP 127.0.0.1:5060:
    REGISTER sip:rcs.test SIP/2.0
    ...
    --end msg--

(``RX ... from UDP 127.0.0.1:5060:`` for received ones). The byte count is the exact length
of the message that follows, so :func:`parse_log_entry` cuts the exact wire bytes out of
the entry. :class:`LogRouter` sends each message to the trace of the SIM it belongs to
(:func:`our_identity`: the From of what we send and of the answers we get, the To of what
we receive and of our answers; many SIMs share the one process-wide pjsip log), and every
other line to Python :mod:`logging` (level 1 error, 2 warning, 3 info, 4 and up debug) and
to a short ring buffer (:attr:`LogRouter.lines`) for diagnostics.

pjsua2 decodes log text as UTF-8 with ``surrogateescape``, so encoding it back the same way
gives the original bytes even when a body is not UTF-8.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from rcs_terminal.domain.message import canonical_peer
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import ParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.sip.message import Request, parse_message

__all__ = ["LOG_LEVEL", "LogRouter", "LoggedSipMessage", "TraceSink", "parse_log_entry"]

LOG_LEVEL = 4
"""The pjsip log level that carries SIP messages (and the least noise besides them)."""

Direction = Literal["in", "out"]

_HEAD = re.compile(
    r"(?P<dir>TX|RX) (?P<size>[0-9]{1,9}) bytes [^\n]*? (?:to|from) "
    r"(?P<transport>[A-Za-z][A-Za-z0-9]{1,9}) (?P<remote>[^\s]+):\n"
)
_TRAILER = "\n--end msg--"
_PY_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}

log = logging.getLogger("rcs_terminal.engine.pjsip")


@dataclass(frozen=True, slots=True)
class LoggedSipMessage:
    """One SIP message as pjsip logged it.

    Attributes:
        direction: ``out`` for what pjsip transmitted, ``in`` for what it received.
        transport: ``udp``, ``tcp`` or ``tls`` (pjsip's type name, lower case, without the
            ``6`` of its IPv6 transports).
        remote: the peer's address as pjsip printed it (``127.0.0.1:5060``).
        data: the message bytes.
    """

    direction: Direction
    transport: str
    remote: str
    data: bytes


def parse_log_entry(text: str) -> LoggedSipMessage | None:
    """Read one log entry: the SIP message it carries, or None for any other line.

    Never raises: an entry that only looks like a message log (a count larger than the text
    that follows, or over ``limits.MAX_SIP_MESSAGE``) is treated as an ordinary line.

    Args:
        text: the entry as the log writer received it (``decor=0``).
    """
    match = _HEAD.match(text)
    if match is None:
        return None
    size = int(match.group("size"))
    if size > limits.MAX_SIP_MESSAGE:
        return None
    rest = text[match.end() :]
    try:
        raw = rest.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = rest.encode("utf-8", "replace")
    if len(raw) < size:
        return None
    transport = match.group("transport").lower().removesuffix("6")
    direction: Direction = "out" if match.group("dir") == "TX" else "in"
    return LoggedSipMessage(direction, transport, match.group("remote"), raw[:size])


def our_identity(message: LoggedSipMessage) -> str | None:
    """The canonical URI of our side of a logged message, or None if it cannot be read.

    Requests we send and responses we receive carry us in From; requests we receive and
    the responses we send carry us in To (RFC 3261 §8.1.1.2-3).
    """
    try:
        parsed = parse_message(message.data)
        ours_in_from = isinstance(parsed, Request) == (message.direction == "out")
        address = parsed.from_ if ours_in_from else parsed.to
    except ParseError:
        return None
    return canonical_peer(address.uri)


@dataclass(frozen=True, slots=True)
class TraceSink:
    """Where one SIM's messages go.

    Attributes:
        trace: the SIM's trace recorder.
        sim: the SIM slot written in the records.
        owner: the owner written in the records (a profile name), if any.
        local: our local address for the records (the SIM's pjsip transport).
    """

    trace: TraceRecorder
    sim: int | None
    owner: str | None
    local: str


class LogRouter:
    """Sends pjsip's log entries to the SIMs' traces and to Python logging.

    Args:
        keep: how many non-message lines :attr:`lines` keeps.
    """

    def __init__(self, keep: int = 200) -> None:
        self._sinks: dict[str, TraceSink] = {}
        self.lines: deque[tuple[int, str]] = deque(maxlen=keep)
        self.unattributed = 0

    def attach(self, identity: str, sink: TraceSink) -> Callable[[], None]:
        """Route the messages of ``identity`` (our IMPU) to ``sink``; returns the detach
        function."""
        key = canonical_peer(identity)
        self._sinks[key] = sink

        def detach() -> None:
            if self._sinks.get(key) is sink:
                del self._sinks[key]

        return detach

    def handle(self, level: int, text: str) -> None:
        """Take one log entry (called by the pjsua2 log writer on the event-loop thread)."""
        message = parse_log_entry(text)
        if message is None:
            line = text.rstrip("\n")
            self.lines.append((level, line))
            log.log(_PY_LEVELS.get(level, logging.DEBUG), "pjsip: %s", line)
            return
        self.record(message)

    def record(self, message: LoggedSipMessage) -> None:
        """Write ``message`` into the trace of the SIM it belongs to.

        A message no SIM claims (a keep-alive, a request to an unknown user) goes to every
        attached trace once, without a SIM.
        """
        identity = our_identity(message)
        sink = self._sinks.get(identity) if identity is not None else None
        if sink is not None:
            self._write(sink, message, sink.sim)
            return
        self.unattributed += 1
        seen: set[int] = set()
        for other in list(self._sinks.values()):
            if id(other.trace) not in seen:
                seen.add(id(other.trace))
                self._write(other, message, None)

    @staticmethod
    def _write(sink: TraceSink, message: LoggedSipMessage, sim: int | None) -> None:
        sink.trace.record(
            message.direction,
            "SIP",
            message.data,
            transport=message.transport,
            local=sink.local,
            remote=message.remote,
            sim=sim,
            owner=sink.owner,
        )

    def make_writer(self, pj: Any, guard: Callable[[Callable[[], None]], None]) -> Any:
        """Build the ``pj.LogWriter`` that feeds this router.

        Args:
            pj: the pjsua2 module.
            guard: runs a callback body, keeping Python exceptions out of pjsip's C++ stack
                (see :meth:`~rcs_terminal.engine.pjsip.library.PjsipLibrary.guard`).
        """
        router = self

        class _Writer(pj.LogWriter):  # type: ignore[misc]
            def write(self, entry: Any) -> None:
                level, text = int(entry.level), str(entry.msg)
                guard(lambda: router.handle(level, text))

        return _Writer()
