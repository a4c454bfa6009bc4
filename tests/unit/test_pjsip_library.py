"""The process's pjsip endpoint: created for the first user, polled from the loop, destroyed
after the last one; pjlib calls from a new thread are registered first. Needs the wheel."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from rcs_terminal.engine.pjsip import pjsip_available
from rcs_terminal.engine.pjsip.library import PjsipLibrary, pj_error_text
from rcs_terminal.errors import NetworkError

pytestmark = pytest.mark.skipif(not pjsip_available(), reason="pjsua2-python is not installed")


async def test_one_endpoint_shared_then_destroyed(capfd: pytest.CaptureFixture[str]) -> None:
    first = PjsipLibrary.acquire(user_agent="test-ua")
    second = PjsipLibrary.acquire()
    try:
        assert first is second and first.users == 2 and PjsipLibrary.current() is first
        assert first.endpoint.libVersion().full.startswith("2.")
        assert first._handle is not None  # the poller runs while there are users
        await asyncio.sleep(0)
        assert first.router.lines  # pjsip's start-up log came through our writer
    finally:
        second.release()
        assert PjsipLibrary.current() is first and first.endpoint is not None
        first.release()
    assert PjsipLibrary.current() is None and first.endpoint is None and first._handle is None
    out = capfd.readouterr().out
    assert "pjlib" not in out and out == ""  # nothing on stdout (``--json`` stays clean)

    again = PjsipLibrary.acquire()
    try:
        assert again is not first and again.endpoint is not None
    finally:
        again.release()


async def test_transports_bind_on_loopback() -> None:
    library = PjsipLibrary.acquire()
    try:
        udp = library.open_transport("udp")
        tcp = library.open_transport("tcp")
        assert (udp.kind, tcp.kind) == ("udp", "tcp")
        assert udp.local.host == tcp.local.host == "127.0.0.1"
        assert udp.local.port > 0 and tcp.local.port > 0 and udp.id != tcp.id
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, pytest.raises(OSError):
            probe.bind(("127.0.0.1", udp.local.port))  # pjsip holds it
        library.close_transport(udp)
        library.close_transport(tcp)
    finally:
        library.release()


async def test_errors_are_contained() -> None:
    library = PjsipLibrary.acquire()
    try:

        def broken() -> None:
            raise ZeroDivisionError("in a callback")

        library.guard(broken)
        assert isinstance(library.errors[-1], ZeroDivisionError)
        pj = library.pj
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", 0))
            config = pj.TransportConfig()
            config.port, config.boundAddress = taken.getsockname()[1], "127.0.0.1"
            with pytest.raises(NetworkError, match="pjsip could not bind") as error:
                library.call(
                    "bind", lambda: library.endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, config)
                )
        assert "Address already in use" in error.value.message
        assert error.value.__cause__ is None  # no pjsua2 frames kept alive
        assert pj_error_text(ValueError("plain")) == "plain"
    finally:
        library.release()


async def test_a_new_thread_is_registered_before_calling_pjlib() -> None:
    library = PjsipLibrary.acquire()
    handled: list[int] = []

    def worker() -> None:
        library.ensure_thread()  # without this pjlib aborts the whole process
        handled.append(library.endpoint.libHandleEvents(0))

    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=10)
        assert handled and handled[0] >= 0
    finally:
        library.release()


async def test_a_silent_pcscf_ends_in_a_timeout_and_releases_everything() -> None:
    """No answer to REGISTER: the SIM reports 408 (not refused), and the library, its
    transport and the account are gone; the REGISTER that went out carries our Contact."""
    from rcs_terminal.engine.pjsip import PjsipConfig, PjsipSim
    from rcs_terminal.engine.registration import RegistrationFailed
    from rcs_terminal.engine.transport import Address

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        config = PjsipConfig(
            pcscf=Address("127.0.0.1", silent.getsockname()[1]),
            home_domain="rcs.test",
            impi="alice",
            impu="sip:alice@rcs.test",
            username="alice",
            password="alicepw",
            sip_instance="<urn:gsma:imei:86000000-000037-0>",
        )
        sim = PjsipSim(config)
        with pytest.raises(RegistrationFailed) as failure:
            await sim.start(timeout=0.05)
        assert (failure.value.status, failure.value.refused) == (408, False)
        assert sim.library is None and sim.account is None and PjsipLibrary.current() is None
        register = silent.recv(65535)
    assert register.startswith(b"REGISTER sip:rcs.test SIP/2.0\r\n")
    assert b';+sip.instance="<urn:gsma:imei:86000000-000037-0>"' in register
    assert b'Authorization: Digest username="alice", realm="rcs.test", nonce=""' in register
