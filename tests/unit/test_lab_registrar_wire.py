"""The registrar against its wire corpus (tests/data/wire/lab_registrar), and garbage.

Each capture is sent as one UDP datagram from a raw socket; the answer (or the lack of
one) is checked without waiting on silence: after each capture a keep-alive OPTIONS is
sent, and since the registrar handles datagrams in order, whatever the capture caused
arrives before the keep-alive's 200. Broken captures must be answered with the status the
parser hints (400, 505...) when readable, else dropped; the registrar keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_lab_registrar_ua import directory

from rcs_terminal.engine.transport import Address, Flow, UdpFlow, open_stream, open_udp
from rcs_terminal.lab.registrar import Registrar
from rcs_terminal.protocol.sip.message import Response, StreamFramer, parse_message

WIRE = Path(__file__).parent.parent / "data" / "wire" / "lab_registrar"
WAIT = 5.0

EXPECTED: dict[str, int | None] = {
    "01_register_initial.sip": 401,
    "02_options_keepalive.sip": 200,
    "03_message_unregistered.sip": 403,
    "04_subscribe_reg_unregistered.sip": 403,
    "05_register_compact.sip": 401,
    "06_register_unknown_subscriber.sip": 403,
    "07_options_foreign_domain.sip": 403,
    "broken/01_missing_call_id.sip": 400,
    "broken/02_bad_cseq.sip": 400,
    "broken/03_content_length_too_long.sip": 400,
    "broken/04_bad_request_line.sip": None,
    "broken/05_garbage.bin": None,
    "broken/06_bad_authorization.sip": 400,
    "broken/07_sip_version_3.sip": 505,
    "broken/08_stray_response.sip": None,
    "broken/09_cseq_method_mismatch.sip": 400,
    "broken/10_bad_contact_register.sip": 401,  # authentication comes first (§10.3)
    "broken/11_bad_via.sip": 400,  # answered to the source address all the same
}

KEEPALIVE = (
    "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKkeepalive{n}\r\n"
    "From: <sip:probe@127.0.0.1>;tag=k\r\nTo: <sip:127.0.0.1>\r\n"
    "Call-ID: keepalive-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


@pytest.fixture
async def registrar() -> AsyncIterator[Registrar]:
    reg = Registrar(directory())
    await reg.start()
    yield reg
    await reg.stop()


class RawClient:
    """A UDP socket that sends bytes and collects parsed responses."""

    def __init__(self, registrar: Registrar) -> None:
        self.registrar = registrar
        self.got: asyncio.Queue[Response] = asyncio.Queue()
        self.count = 0

    async def open(self) -> RawClient:
        def sink(message: Any, source: Address, flow: Flow[Any]) -> None:
            if isinstance(message, Response):
                self.got.put_nowait(message)

        self.flow: UdpFlow[Any] = await open_udp(
            parser=parse_message, sink=sink, on_error=lambda *a: None, trace=None
        )
        return self

    async def exchange(self, data: bytes) -> list[Response]:
        """Send ``data`` then a keep-alive; return what came back before the keep-alive."""
        self.count += 1
        self.flow.send(data, self.registrar.udp_address)
        self.flow.send(KEEPALIVE.format(n=self.count).encode(), self.registrar.udp_address)
        answers: list[Response] = []
        while True:
            response = await asyncio.wait_for(self.got.get(), WAIT)
            if response.headers.get("Call-ID") == f"keepalive-{self.count}":
                assert response.status == 200
                return answers
            answers.append(response)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_wire_corpus(registrar: Registrar, name: str) -> None:
    client = await RawClient(registrar).open()
    answers = await client.exchange((WIRE / name).read_bytes())
    expected = EXPECTED[name]
    assert [r.status for r in answers] == ([] if expected is None else [expected])
    client.flow.close()


def test_corpus_is_complete() -> None:
    files = {str(p.relative_to(WIRE)) for p in WIRE.rglob("*") if p.is_file()}
    assert files - {".gitattributes"} == set(EXPECTED)


async def test_retransmitted_request_gets_the_same_answer(registrar: Registrar) -> None:
    client = await RawClient(registrar).open()
    data = (WIRE / "01_register_initial.sip").read_bytes()
    first = await client.exchange(data)
    again = await client.exchange(data)  # same branch: the server transaction re-sends
    assert [r.status for r in first] == [r.status for r in again] == [401]
    assert first[0].to.tag == again[0].to.tag
    assert first[0].headers.get("WWW-Authenticate") == again[0].headers.get("WWW-Authenticate")
    client.flow.close()


async def test_tcp_garbage_closes_only_that_connection(registrar: Registrar) -> None:
    assert registrar.tcp_address is not None
    kwargs: dict[str, Any] = {
        "framer_factory": StreamFramer,
        "parser": parse_message,
        "sink": lambda *a: None,
        "on_error": lambda *a: None,
        "trace": None,
    }
    bad = await open_stream(registrar.tcp_address, **kwargs)
    bad.send(b"GARBAGE\r\nwithout any framing at all\r\n\r\n")
    await asyncio.wait_for(bad.closed, WAIT)  # the registrar gave up on that stream
    got: asyncio.Queue[Response] = asyncio.Queue()
    kwargs["sink"] = lambda message, source, flow: got.put_nowait(message)
    good = await open_stream(registrar.tcp_address, **kwargs)
    good.send(KEEPALIVE.replace("UDP", "TCP").format(n=99).encode())
    response = await asyncio.wait_for(got.get(), WAIT)
    assert response.status == 200 and response.call_id == "keepalive-99"
    good.send(b"\r\n\r\n")  # an RFC 5626 ping is not an error
    good.send(KEEPALIVE.replace("UDP", "TCP").format(n=100).encode())
    assert (await asyncio.wait_for(got.get(), WAIT)).call_id == "keepalive-100"
    good.close()


async def test_udp_noise_does_not_stop_the_registrar(registrar: Registrar) -> None:
    client = await RawClient(registrar).open()
    for noise in (b"\x00", b"SIP/2.0", b"INVITE sip:x SIP/2.0\r\n\r\n", b"\r\n\r\n", bytes(2000)):
        assert await client.exchange(noise) == []
    client.flow.close()
