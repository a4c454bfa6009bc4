"""The lab SMS centre and the handset's receiver over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from rcs_terminal.engine.sms import ReceivedSms, SmsReceiver, extract_otp
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.lab.smsc import Smsc


@pytest.fixture
async def smsc() -> AsyncIterator[tuple[Smsc, str]]:
    centre = Smsc()
    app = web.Application()
    app.add_routes(centre.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield centre, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_long_poll_wakes_on_delivery_and_otp_is_masked(smsc: tuple[Smsc, str]) -> None:
    centre, url = smsc
    centre.deliver("+8613800000001", "old message")
    trace = TraceRecorder()
    rx = SmsReceiver(url, "+8613800000001", trace=trace, sim=1, sms_port=37273)
    await rx.skip_existing()
    waiter = asyncio.create_task(rx.wait_for(lambda s: s.port == 37273, timeout=10))
    await asyncio.sleep(0)
    centre.deliver("+86 138 0000 0002", "not mine", port=37273)
    centre.deliver("+8613800000001", "493817", port=37273)
    sms = await waiter
    await rx.close()
    assert sms is not None and extract_otp(sms, 37273) == "493817"
    assert [r.text.endswith("***") for r in trace.records(protocol="SMS")] == [True]


async def test_wait_times_out_with_none(smsc: tuple[Smsc, str]) -> None:
    _, url = smsc
    rx = SmsReceiver(url, "+8613800000009")
    assert await rx.wait_for(lambda s: True, timeout=0.05) is None
    await rx.close()


def test_extract_otp_plain_text() -> None:
    assert extract_otp(ReceivedSms(1, "10086", "Your code is 123456.", 0), 0) == "123456"
    assert extract_otp(ReceivedSms(1, "10086", "no code", 0), 0) is None
    assert extract_otp(ReceivedSms(1, "10086", "999999", 1234), 37273) is None
