"""The chatbot info / directory client against a small bot-info server on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from rcs_terminal.engine.botinfo import (
    BotInfoClient,
    BotSummary,
    botinfo_base_url,
    botinfo_cache_dir,
)
from rcs_terminal.engine.http import HttpClient
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import AuthenticationError, NetworkError, PayloadParseError
from rcs_terminal.protocol.provisioning import ChatbotSettings, MessagingSettings, RcsConfig
from rcs_terminal.protocol.sip.auth import make_challenge, parse_credentials, verify_authorization

WIRE = Path(__file__).parents[1] / "data" / "wire" / "botinfo"
DEMO = "sip:demo@botplatform.lab"
IDENTITY = "tel:+8613800000001"
BOT_PASSWORD = "bot-info-pw"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class BotServer:
    """A bot-info server whose answers each test adjusts."""

    port: int = 0
    etag: str = '"v1"'
    cache_control: str | None = "max-age=60"
    status: int = 200
    body: bytes = field(default_factory=lambda: (WIRE / "demo_botinfo.json").read_bytes())
    directory: bytes = field(
        default_factory=lambda: (WIRE / "directory/plain_list.json").read_bytes()
    )
    require_auth: bool = False
    seen: list[web.Request] = field(default_factory=list)

    @property
    def root(self) -> str:
        return f"botplatform.lab:{self.port}"

    async def bot(self, request: web.Request) -> web.Response:
        self.seen.append(request)
        if self.require_auth:
            header = request.headers.get("Authorization")
            creds = parse_credentials(header) if header else None
            if (
                creds is None
                or creds.uri != request.raw_path
                or not verify_authorization(creds, method="GET", password=BOT_PASSWORD)
            ):
                challenge = make_challenge("botplatform.lab", "n0nce", algorithm="MD5")
                return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        headers = {"ETag": self.etag}
        if self.cache_control is not None:
            headers["Cache-Control"] = self.cache_control
        if self.status != 200:
            return web.Response(status=self.status, headers=headers)
        if request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.body, content_type="application/json", headers=headers)

    async def search(self, request: web.Request) -> web.Response:
        self.seen.append(request)
        return web.Response(body=self.directory, content_type="application/json")


@pytest.fixture
async def server() -> AsyncIterator[BotServer]:
    bots = BotServer()
    app = web.Application()
    app.router.add_get("/bot", bots.bot)
    app.router.add_get("/chatbot/directory", bots.search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bots.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield bots
    await runner.cleanup()


@pytest.fixture
async def trace() -> TraceRecorder:
    return TraceRecorder()


@pytest.fixture
async def http(trace: TraceRecorder) -> AsyncIterator[HttpClient]:
    client = HttpClient(trace, hosts={"botplatform.lab": "127.0.0.1"}, allow_dns=False)
    yield client
    await client.close()


def make_client(
    http: HttpClient, server: BotServer, clock: Clock, cache_dir: Path | None, **options: object
) -> BotInfoClient:
    return BotInfoClient(
        http,
        fqdn_root=server.root,
        directory_url=f"http://botplatform.lab:{server.port}/chatbot/directory",
        identity=IDENTITY,
        cache_dir=cache_dir,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- bot info


async def test_request_shape(server: BotServer, http: HttpClient, tmp_path: Path) -> None:
    client = make_client(http, server, Clock(), None, home_operator="CMCC")
    info = await client.get(DEMO)
    assert info is not None and info.name == "演示机器人" and info.service_id == DEMO
    request = server.seen[0]
    assert request.raw_path == "/bot?id=sip%3Ademo%40botplatform.lab&hl=zh-CN&ho=CMCC&v=3"
    assert dict(request.query) == {"id": DEMO, "hl": "zh-CN", "ho": "CMCC", "v": "3"}
    assert request.headers["X-3GPP-Intended-Identity"] == f'"{IDENTITY}"'
    assert "If-None-Match" not in request.headers


async def test_etag_max_age_and_304_with_an_injected_clock(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    client = make_client(http, server, clock, tmp_path)
    first = await client.get(DEMO)
    clock.now += 59
    assert await client.get(DEMO) == first and len(server.seen) == 1  # fresh: no request
    clock.now += 2
    assert await client.get(DEMO) == first and len(server.seen) == 2  # revalidated
    assert server.seen[1].headers["If-None-Match"] == '"v1"'
    clock.now += 59
    assert await client.get(DEMO) == first and len(server.seen) == 2  # 304 restarted max-age
    menu = await client.persistent_menu(DEMO)
    assert menu is not None and len(menu.entries) == 2


async def test_a_changed_bot_replaces_the_cached_copy(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    client = make_client(http, server, clock, tmp_path)
    await client.get(DEMO)
    document = json.loads(server.body)
    document["botinfo"]["pcc"]["org-details"]["org-description"] = "新版本"
    server.body, server.etag = json.dumps(document).encode(), '"v2"'
    clock.now += 120
    info = await client.get(DEMO)
    assert info is not None and info.description == "新版本"
    clock.now += 120
    await client.get(DEMO)
    assert server.seen[-1].headers["If-None-Match"] == '"v2"'


async def test_the_cache_survives_a_new_client(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    await make_client(http, server, clock, tmp_path).get(DEMO)
    again = make_client(http, server, clock, tmp_path)
    assert again.cached(DEMO) is not None
    info = await again.get(DEMO)
    assert info is not None and info.name == "演示机器人" and len(server.seen) == 1
    clock.now += 61
    third = make_client(http, server, clock, tmp_path)
    assert await third.get(DEMO) == info
    assert server.seen[-1].headers["If-None-Match"] == '"v1"'
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and "sip:" not in files[0].name


async def test_no_store_and_no_cache(server: BotServer, http: HttpClient, tmp_path: Path) -> None:
    server.cache_control = "no-store"
    client = make_client(http, server, Clock(), tmp_path)
    await client.get(DEMO)
    await client.get(DEMO)
    assert len(server.seen) == 2 and not list(tmp_path.glob("*.json"))
    assert client.cached(DEMO) is None
    server.cache_control = "no-cache, max-age=600"
    await client.get(DEMO)
    await client.get(DEMO)
    assert len(server.seen) == 4 and server.seen[-1].headers["If-None-Match"] == '"v1"'


async def test_unknown_bots_and_failures(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    client = make_client(http, server, clock, tmp_path)
    cached = await client.get(DEMO)
    clock.now += 61
    server.status = 503
    assert await client.get(DEMO) == cached  # a failing server: the stale copy
    server.status = 404
    assert await client.get(DEMO) is None and client.cached(DEMO) is None
    server.status = 503
    with pytest.raises(NetworkError, match="503"):
        await client.get(DEMO)


async def test_an_unreachable_server_returns_the_stale_copy(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    await make_client(http, server, clock, tmp_path).get(DEMO)
    clock.now += 3600
    gone = BotInfoClient(http, fqdn_root="127.0.0.1:1", cache_dir=tmp_path, clock=clock)
    assert (await gone.get(DEMO)) is not None
    with pytest.raises(NetworkError):
        await gone.get("sip:never@botplatform.lab")


async def test_malformed_bot_info_is_a_parse_error_and_not_cached(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    server.body = b'{"something": "else"}'
    client = make_client(http, server, Clock(), tmp_path)
    with pytest.raises(PayloadParseError):
        await client.get(DEMO)
    assert client.cached(DEMO) is None


async def test_corrupt_cache_files_are_ignored(
    server: BotServer, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    await make_client(http, server, clock, tmp_path).get(DEMO)
    (cache_file,) = tmp_path.glob("*.json")
    for junk in (b"{not json", b"[]", json.dumps({"format": 1, "service_id": "other"}).encode()):
        cache_file.write_bytes(junk)
        fresh = make_client(http, server, clock, tmp_path)
        assert fresh.cached(DEMO) is None
        assert (await fresh.get(DEMO)) is not None


async def test_digest_on_401_keeps_the_password_out_of_the_trace(
    server: BotServer, http: HttpClient, trace: TraceRecorder
) -> None:
    server.require_auth = True
    client = make_client(http, server, Clock(), None, user="+8613800000001", password=BOT_PASSWORD)
    assert await client.get(DEMO) is not None
    assert [r.first_line for r in trace][:2] == [
        "GET " + server.seen[0].raw_path + " HTTP/1.1",
        "HTTP/1.1 401 Unauthorized",
    ]
    assert all(BOT_PASSWORD not in r.text for r in trace)
    anonymous = make_client(http, server, Clock(), None)
    with pytest.raises(AuthenticationError):
        await anonymous.get(DEMO)


# --------------------------------------------------------------------------- directory


async def test_search_sends_the_directory_parameters(server: BotServer, http: HttpClient) -> None:
    client = make_client(
        http, server, Clock(), None, client_vendor="ZTE", client_version="RCSAndrd/2.4"
    )
    found = await client.search("快递 查询", start=20, num=10)
    assert found[0] == BotSummary(
        service_id=DEMO,
        name="演示机器人",
        description="卡片演示",
        logo_url="http://botplatform.lab/media/demo.png",
        verified=True,
    )
    assert [b.service_id for b in found] == [DEMO, "sip:12345@botplatform.lab"]
    assert dict(server.seen[0].query) == {
        "q": "快递 查询",
        "start": "20",
        "num": "10",
        "chatbot_version": "1_2",
        "client_vendor": "ZTE",
        "client_version": "RCSAndrd/2.4",
    }
    assert server.seen[0].headers["X-3GPP-Intended-Identity"] == f'"{IDENTITY}"'


async def test_missing_configuration_is_a_clear_error(http: HttpClient) -> None:
    client = BotInfoClient(http, fqdn_root=None)
    with pytest.raises(NetworkError, match="BotinfoFQDNRoot"):
        await client.get(DEMO)
    with pytest.raises(NetworkError, match="ChatbotDirectory"):
        await client.search("x")


def test_from_config_and_urls(tmp_path: Path) -> None:
    config = RcsConfig(
        version=1,
        validity=60,
        messaging=MessagingSettings(
            chatbot=ChatbotSettings(
                chatbot_directory="https://dir.example.test/search",
                botinfo_fqdn_root="botinfo.example.test",
            )
        ),
    )
    client = BotInfoClient.from_config(HttpClient(), config, identity=IDENTITY, language="en")
    assert client.directory_url == "https://dir.example.test/search"
    assert client.url(DEMO) == (
        "https://botinfo.example.test/bot?id=sip%3Ademo%40botplatform.lab&hl=en&v=3"
    )
    assert botinfo_base_url("botplatform.lab:8080") == "http://botplatform.lab:8080"
    assert botinfo_base_url("bots.example.test:443") == "https://bots.example.test:443"
    assert botinfo_base_url("http://10.0.0.1:81/info/") == "http://10.0.0.1:81/info"
    assert botinfo_base_url("[::1]:8080") == "http://[::1]:8080"
    assert botinfo_base_url("[::1]") == "https://[::1]"
    assert botinfo_base_url("host:notaport") == "https://host:notaport"
    assert botinfo_cache_dir("demo").parts[-3:] == ("profiles", "demo", "botinfo")
