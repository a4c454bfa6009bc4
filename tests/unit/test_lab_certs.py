"""The lab CA: a client that trusts it verifies the lab's HTTPS; one that does not, fails."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from aiohttp import web

from rcs_terminal.engine.http import HttpClient
from rcs_terminal.errors import NetworkError
from rcs_terminal.lab.certs import make_lab_certificates


async def test_https_verifies_against_the_lab_ca(tmp_path: Path) -> None:
    certs = make_lab_certificates(["config.rcs.lab"], tmp_path)
    async def secure(request: web.Request) -> web.Response:
        return web.Response(text="secure")

    app = web.Application()
    app.router.add_get("/", secure)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certs.server_context())
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        good = HttpClient(ssl_context=certs.client_context(),
                          hosts={"config.rcs.lab": "127.0.0.1"}, allow_dns=False)
        assert (await good.request("GET", f"https://config.rcs.lab:{port}/")).body == b"secure"
        await good.close()
        bad = HttpClient(ssl_context=ssl.create_default_context())
        with pytest.raises(NetworkError):
            await bad.request("GET", f"https://127.0.0.1:{port}/")
        await bad.close()
    finally:
        await runner.cleanup()
