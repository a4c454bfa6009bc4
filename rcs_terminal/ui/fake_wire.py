"""What the fake handset writes to the protocol trace: plausible, fixed wire records.

The fake handset has no network, yet the trace pane should show what a real handset's
trace holds, so that it can be tried and tested: an RCC.14 configuration request and its
answer, a REGISTER and its 200 OK per SIM, and for every message a SIP ``MESSAGE`` carrying
the CPIM wrapper (RFC 3862, built by :func:`rcs_terminal.protocol.cpim.build`) with its
202/200 answer. Credentials appear masked, as the real recorder masks them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from rcs_terminal.domain.profile import Sim
from rcs_terminal.engine.trace import Direction, Protocol, TraceRecorder
from rcs_terminal.protocol import cpim

DISPOSITIONS = frozenset({"positive-delivery", "display"})
"""The notifications every fake message asks for."""
LOCAL = "127.0.0.1:5062"
PCSCF = "127.0.0.1:5060"


class FakeWire:
    """Writes fake wire records into a :class:`~rcs_terminal.engine.trace.TraceRecorder`.

    Args:
        trace: the recorder.
        clock: epoch seconds (CPIM ``DateTime``).
    """

    def __init__(self, trace: TraceRecorder, clock: Callable[[], float]) -> None:
        self.trace = trace
        self.clock = clock

    def record(self, direction: Direction, protocol: Protocol, raw: bytes, sim: int | None) -> None:
        """One record, over TCP between the handset and the P-CSCF."""
        self.trace.record(
            direction, protocol, raw, transport="TCP", local=LOCAL, remote=PCSCF, sim=sim
        )

    def provision_and_register(self, sim: Sim) -> None:
        """The configuration request and answer, then REGISTER and 200 OK."""
        host = f"config.rcs.mnc{int(sim.operator.mnc):03d}.mcc{sim.operator.mcc}.lab"
        get = f"GET https://{host}/?vers=0&IMSI={sim.imsi}&rcs_profile=UP_2.4 HTTP/1.1\r\n"
        self.record("out", "HTTP", f"{get}Host: {host}\r\n\r\n".encode(), sim.slot)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n"
        self.record("in", "HTTP", head + b'<wap-provisioningdoc version="1.1"/>', sim.slot)
        register = (
            f"REGISTER sip:{sim.home_domain} SIP/2.0\r\nFrom: <{sim.impu}>\r\n"
            f"To: <{sim.impu}>\r\nCSeq: 1 REGISTER\r\nExpires: 600000\r\n"
            'Authorization: Digest username="***", response="***"\r\n\r\n'
        )
        self.record("out", "SIP", register.encode(), sim.slot)
        self.record("in", "SIP", b"SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n", sim.slot)

    def message(
        self,
        direction: Direction,
        sim: Sim,
        peer: str,
        content_type: str,
        body: bytes,
        message_id: str,
    ) -> None:
        """A pager-mode ``MESSAGE`` with its CPIM body, and the answer to it."""
        own = sim.tel_uri
        sender, target = (own, peer) if direction == "out" else (peer, own)
        wrapped = cpim.build(
            from_=sender,
            to=target,
            datetime=dt.datetime.fromtimestamp(self.clock(), dt.UTC),
            body=body,
            content_type=content_type,
            message_id=message_id,
            disposition_notification=sorted(DISPOSITIONS),
        )
        head = (
            f"MESSAGE {target} SIP/2.0\r\nFrom: <{sender}>\r\nTo: <{target}>\r\n"
            f"Call-ID: {message_id}\r\nCSeq: 1 MESSAGE\r\nContent-Type: message/cpim\r\n"
            f"Content-Length: {len(wrapped)}\r\n\r\n"
        )
        self.record(direction, "SIP", head.encode() + wrapped, sim.slot)
        answer = "202 Accepted" if direction == "out" else "200 OK"
        reply = f"SIP/2.0 {answer}\r\nCall-ID: {message_id}\r\nCSeq: 1 MESSAGE\r\n\r\n"
        self.record("in" if direction == "out" else "out", "SIP", reply.encode(), sim.slot)

    def displayed(self, sim: int, peer: str, message_id: str) -> None:
        """Our display notification for ``message_id`` (abridged)."""
        raw = (
            f"MESSAGE {peer} SIP/2.0\r\nContent-Type: message/cpim\r\n\r\n<displayed/> {message_id}"
        )
        self.record("out", "SIP", raw.encode(), sim)
