"""The handset HTTP client against a real aiohttp server on loopback (port 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from rcs_terminal.engine.http import HttpClient
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import NetworkError


@pytest.fixture
async def server() -> AsyncIterator[int]:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hi {request.query.get('IMSI')}", headers={"X-Seen": "1"})

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/big", big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield port
    await runner.cleanup()


async def test_lab_names_map_to_literal_addresses_and_trace_is_masked(server: int) -> None:
    trace = TraceRecorder()
    client = HttpClient(trace, hosts={"config.rcs.lab": "127.0.0.1"}, allow_dns=False, sim=2)
    resp = await client.request("GET", f"http://config.rcs.lab:{server}/?IMSI=460&token=SECRET")
    await client.close()
    assert resp.status == 200 and resp.body == b"hi 460" and resp.header("x-seen") == "1"
    out, inp = trace.records(protocol="HTTP", sim=2)
    assert out.first_line.startswith("GET /?IMSI=460&token=***")
    assert b"SECRET" not in out.data and inp.first_line == "HTTP/1.1 200 OK"


async def test_unknown_names_are_not_resolved_when_dns_is_off() -> None:
    client = HttpClient(allow_dns=False)
    with pytest.raises(NetworkError, match="DNS is off"):
        await client.request("GET", "http://config.rcs.mnc000.mcc460.pub.3gppnetwork.org/")
    await client.close()


async def test_oversized_body_is_refused(server: int) -> None:
    client = HttpClient(max_body=1000)
    with pytest.raises(NetworkError, match="exceeds"):
        await client.request("GET", f"http://127.0.0.1:{server}/big")
    await client.close()


async def test_connection_refused_is_a_network_error(server: int) -> None:
    client = HttpClient()
    with pytest.raises(NetworkError):
        await client.request("GET", "http://127.0.0.1:1/")
    await client.close()
