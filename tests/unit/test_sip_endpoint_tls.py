"""Registration over real loopback sockets: TLS with certificate verification (a throw-away
lab CA), verification failures, and UDP through the default flow opener."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_sip_endpoint_support import MiniRegistrar, digest_params

from rcs_terminal.engine.ims_params import PcscfTarget
from rcs_terminal.engine.registration import Registration, RegistrationFailed
from rcs_terminal.engine.sip_endpoint import SipEndpoint
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address, Flow, open_udp, serve_stream
from rcs_terminal.lab.certs import make_lab_certificates
from rcs_terminal.protocol.sip.message import Request, StreamFramer, parse_message


async def serve_registrar(tls: Any | None) -> tuple[asyncio.Server, int, MiniRegistrar]:
    registrar = MiniRegistrar()

    def sink(message: Any, source: Address, flow: Flow[Any]) -> None:
        if isinstance(message, Request):
            answer = registrar(message, flow)  # type: ignore[arg-type]
            for data in [answer] if isinstance(answer, bytes) else answer or []:
                flow.send(data)

    server = await serve_stream(
        "127.0.0.1",
        0,
        tls=tls,
        flow_kwargs=lambda: dict(
            parser=parse_message,
            framer_factory=StreamFramer,
            sink=sink,
            on_error=lambda *a: None,
            trace=None,
        ),
    )
    port = server.sockets[0].getsockname()[1]
    return server, port, registrar


async def test_tls_with_a_verified_certificate(tmp_path: Path) -> None:
    certs = make_lab_certificates(["pcscf.rcs.lab", "127.0.0.1"], tmp_path)
    server, port, registrar = await serve_registrar(certs.server_context())
    target = PcscfTarget(Address("127.0.0.1", port), "tls", "pcscf.rcs.lab")
    params = digest_params(pcscfs=(target,), ca_file=str(certs.ca_file))
    trace = TraceRecorder()
    endpoint = SipEndpoint(params, trace=trace)
    registration = Registration(endpoint)
    try:
        await registration.start()
        assert registration.state == "registered"
        contact = registrar.registers[-1].contacts[0]
        assert contact.uri.endswith(";transport=tls") and contact.params.get("reg-id") == "1"
        assert {r.transport for r in trace.records()} == {"tls"}
        await registration.stop()
        assert registrar.bindings == {}
    finally:
        endpoint.close()
        server.close()
        await server.wait_closed()


async def test_tls_refuses_an_unknown_certificate(tmp_path: Path) -> None:
    certs = make_lab_certificates(["127.0.0.1"], tmp_path)
    server, port, _ = await serve_registrar(certs.server_context())
    target = PcscfTarget(Address("127.0.0.1", port), "tls")
    endpoint = SipEndpoint(digest_params(pcscfs=(target,)))  # no CA: verification fails
    registration = Registration(endpoint, max_attempts=1)
    try:
        with pytest.raises(RegistrationFailed) as caught:
            await registration.start()
        assert "cannot reach the P-CSCF" in caught.value.message and not caught.value.refused
        lab = SipEndpoint(digest_params(pcscfs=(target,), verify_tls=False))
        unverified = Registration(lab)
        await unverified.start()  # a lab may explicitly turn verification off
        await unverified.stop()
        lab.close()
    finally:
        endpoint.close()
        server.close()
        await server.wait_closed()


async def test_udp_over_real_sockets() -> None:
    registrar = MiniRegistrar()

    def sink(message: Any, source: Address, flow: Flow[Any]) -> None:
        if isinstance(message, Request):
            answer = registrar(message, flow)  # type: ignore[arg-type]
            if isinstance(answer, bytes):
                flow.send(answer, source)

    server = await open_udp("127.0.0.1", 0, parser=parse_message, sink=sink,
                            on_error=lambda *a: None, trace=None)  # fmt: skip
    target = PcscfTarget(server.local, "udp")
    endpoint = SipEndpoint(replace(digest_params(), pcscfs=(target,)))
    registration = Registration(endpoint)
    try:
        await registration.start()
        assert endpoint.layer.local_via is not None
        assert endpoint.layer.local_via.startswith("SIP/2.0/UDP 127.0.0.1:")
        await registration.stop()
    finally:
        endpoint.close()
        server.close()
