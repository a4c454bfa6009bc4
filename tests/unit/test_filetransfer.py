"""FT over HTTP: the handset's client against the lab content server on loopback (port 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from rcs_terminal.engine.filetransfer import FileTransferClient, profile_files_dir
from rcs_terminal.engine.http import HttpClient
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import (
    AuthenticationError,
    FileTooLargeError,
    FileTransferError,
)
from rcs_terminal.lab.ft_server import FtServer
from rcs_terminal.protocol.provisioning import (
    FileTransferSettings,
    MessagingSettings,
    RcsConfig,
)
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo, parse_fthttp

USER, PASSWORD = "+8613800000001", "s3cret-FT-pw"
PEER, PEER_PASSWORD = "+8613800000002", "other-pw-42"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x02\x01\x8a"
    b"\x1c\x0bo\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Network:
    server: FtServer
    port: int
    clock: Clock

    @property
    def cs_uri(self) -> str:
        return f"http://ft.rcs.lab:{self.port}/ft"


@pytest.fixture
async def network() -> AsyncIterator[Network]:
    clock = Clock()
    server = FtServer({USER: PASSWORD, PEER: PEER_PASSWORD}.get, clock=clock)
    app = web.Application()
    app.add_routes(server.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.public_url = f"http://ft.rcs.lab:{port}/ft"
    yield Network(server, port, clock)
    await runner.cleanup()


@pytest.fixture
async def trace() -> TraceRecorder:
    return TraceRecorder()


@pytest.fixture
async def http(trace: TraceRecorder) -> AsyncIterator[HttpClient]:
    client = HttpClient(trace, hosts={"ft.rcs.lab": "127.0.0.1"}, allow_dns=False, sim=1)
    yield client
    await client.close()


def make_client(
    http: HttpClient, network: Network, tmp_path: Path, **options: object
) -> FileTransferClient:
    settings: dict[str, object] = {
        "cs_uri": network.cs_uri,
        "user": USER,
        "password": PASSWORD,
        "files_dir": tmp_path / "received",
        "clock": network.clock,
    }
    settings.update(options)
    return FileTransferClient(http, **settings)  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- round trip


async def test_upload_answers_the_digest_challenge_and_download_returns_the_same_bytes(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 40
    client = make_client(http, network, tmp_path, tid_factory=lambda: "tid-0001")
    info = await client.upload(write(tmp_path, "report.bin", data))
    assert info.file.size == len(data) and info.file.name == "report.bin"
    assert info.file.content_type == "application/octet-stream"
    assert info.file.url.startswith(f"http://ft.rcs.lab:{network.port}/ft/files/")
    assert info.file.until == "2023-11-21T22:13:20Z"  # now + 7 days
    assert parse_fthttp(info.to_xml()) == info

    lines = [r.first_line for r in trace.records(protocol="HTTP")]
    assert lines[:4] == [
        "POST /ft HTTP/1.1",  # the empty first POST
        "HTTP/1.1 401 Unauthorized",
        "POST /ft HTTP/1.1",  # the multipart POST with credentials
        "HTTP/1.1 200 OK",
    ]
    upload = trace.records(protocol="HTTP")[2].text
    assert 'Authorization: Digest username="+8613800000001"' in upload
    assert "algorithm=SHA-256" in upload and 'response="***"' in upload
    assert 'name="tid"' in upload and "tid-0001" in upload
    assert upload.index('name="tid"') < upload.index('name="File"; filename="report.bin"')

    receiver = make_client(http, network, tmp_path, user=PEER, password=PEER_PASSWORD)
    path = await receiver.download(info, message_id="msg-1")
    assert path.read_bytes() == data
    assert path == (tmp_path / "received" / "report.bin").resolve()
    texts = "".join(r.text for r in trace)
    assert PASSWORD not in texts and PEER_PASSWORD not in texts


async def test_thumbnail_goes_up_before_the_file_and_comes_down_first(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path)
    photo = write(tmp_path, "photo.png", PNG + b"\x00" * 500)
    info = await client.upload(photo, thumbnail=PNG)
    assert info.thumbnail is not None and info.thumbnail.size == len(PNG)
    assert info.thumbnail.content_type == "image/png" and info.file.content_type == "image/png"
    assert info.thumbnail.url == info.file.url + "/thumbnail"
    body = trace.records(protocol="HTTP")[2].data
    assert body.index(b'name="Thumbnail"; filename="thumb_photo.png"') < body.index(b'name="File"')

    seen: list[Path] = []
    before = len(trace)
    path = await client.download(info, on_thumbnail=seen.append)
    gets = [r.first_line for r in list(trace)[before:] if r.direction == "out"]
    assert gets[0].startswith("GET /ft/files/") and gets[0].split()[1].endswith("/thumbnail")
    assert not gets[-1].split()[1].endswith("/thumbnail")
    assert seen and seen[0].read_bytes() == PNG and seen[0].parent.name == "thumbnails"
    assert path.read_bytes() == PNG + b"\x00" * 500


async def test_later_requests_reuse_the_challenge_with_a_growing_nonce_count(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path)
    await client.upload(write(tmp_path, "a.txt", b"one"))
    before = len(trace)
    await client.upload(write(tmp_path, "b.txt", b"two"))
    second = list(trace)[before:]
    assert [r.first_line for r in second] == ["POST /ft HTTP/1.1", "HTTP/1.1 200 OK"]
    assert "nc=00000002" in second[0].text


async def test_a_stale_nonce_is_answered_again_without_failing(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path)
    info = await client.upload(write(tmp_path, "a.txt", b"one"))
    network.clock.now += 600  # past the server's nonce lifetime
    path = await client.download(info)
    assert path.read_bytes() == b"one"
    assert any("stale=true" in r.text for r in trace if r.first_line.startswith("HTTP/1.1 401"))


async def test_a_server_without_authentication_answers_204_to_the_first_post(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    network.server.require_auth = False
    client = make_client(http, network, tmp_path, user=None, password=None)
    info = await client.upload(write(tmp_path, "a.txt", b"free"))
    assert [r.first_line for r in trace][:2] == ["POST /ft HTTP/1.1", "HTTP/1.1 204 No Content"]
    assert "Authorization" not in trace.records()[2].text
    assert (await client.download(info)).read_bytes() == b"free"


async def test_basic_is_used_when_it_is_all_the_server_offers(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    network.server.auth_scheme = "Basic"
    client = make_client(http, network, tmp_path)
    info = await client.upload(write(tmp_path, "a.txt", b"basic"))
    assert (await client.download(info)).read_bytes() == b"basic"
    sent = [r.text for r in trace if r.direction == "out"]
    assert any("Authorization: Basic ***" in text for text in sent)
    assert all("s3cret" not in text for text in sent)


async def test_a_retried_tid_gets_the_same_descriptor(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path)
    first = await client.upload_bytes(b"same", "x.txt", "text/plain", tid="tid-retry")
    again = await client.upload_bytes(b"same", "x.txt", "text/plain", tid="tid-retry")
    assert first == again and len(network.server) == 1


# --------------------------------------------------------------------------- failures


async def test_wrong_password_is_an_authentication_error(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path, password="wrong")
    with pytest.raises(AuthenticationError, match="refused the credentials"):
        await client.upload(write(tmp_path, "a.txt", b"x"))
    assert len(network.server) == 0


async def test_missing_credentials_are_an_authentication_error(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path, user=None, password=None)
    with pytest.raises(AuthenticationError, match="none are configured"):
        await client.upload(write(tmp_path, "a.txt", b"x"))


async def test_download_by_an_unknown_user_is_refused(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    info = await make_client(http, network, tmp_path).upload(write(tmp_path, "a.txt", b"x"))
    stranger = make_client(http, network, tmp_path, user="+8613899999999", password="pw")
    with pytest.raises(AuthenticationError):
        await stranger.download(info)


async def test_oversized_files_are_refused_before_anything_is_sent(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path, max_size=1000, warn_size=500)
    assert client.needs_warning(600) and not client.needs_warning(500)
    with pytest.raises(FileTooLargeError) as caught:
        await client.upload(write(tmp_path, "big.bin", b"x" * 1001))
    assert (caught.value.size, caught.value.limit) == (1001, 1000)
    assert len(trace) == 0


async def test_the_servers_413_is_a_file_too_large_error(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    network.server.max_size = 100
    client = make_client(http, network, tmp_path)
    with pytest.raises(FileTooLargeError, match="413"):
        await client.upload(write(tmp_path, "big.bin", b"x" * 101))


async def test_oversized_downloads_are_refused_without_a_request(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    info = network.server.publish(b"y" * 2000, "big.bin", "application/octet-stream")
    client = make_client(http, network, tmp_path, max_size=1999)
    with pytest.raises(FileTooLargeError):
        await client.download(info)
    assert len(trace) == 0 and not (tmp_path / "received").exists()


async def test_a_size_that_differs_from_the_descriptor_is_refused(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    info = network.server.publish(b"z" * 100, "z.txt", "text/plain")
    client = make_client(http, network, tmp_path)
    shorter = replace(info, file=replace(info.file, size=99))
    with pytest.raises(FileTransferError, match="100 bytes; 99 were announced"):
        await client.download(shorter)
    longer = replace(info, file=replace(info.file, size=101))
    with pytest.raises(FileTransferError, match="100 bytes; 101 were announced"):
        await client.download(longer)
    assert not list((tmp_path / "received").glob("*"))


async def test_an_expired_link_is_not_fetched(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    info = network.server.publish(b"old", "old.txt", "text/plain")
    client = make_client(http, network, tmp_path)
    network.clock.now += 8 * 86400
    with pytest.raises(FileTransferError, match="expired"):
        await client.download(info)
    assert len(trace) == 0


async def test_a_file_gone_from_the_server_is_reported(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    info = network.server.publish(b"gone", "gone.txt", "text/plain")
    client = make_client(http, network, tmp_path, clock=lambda: 0.0)  # client thinks it is early
    network.clock.now += 8 * 86400
    with pytest.raises(FileTransferError, match="no longer on the content server"):
        await client.download(info)


async def test_unreadable_files_are_a_clear_error(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    with pytest.raises(FileTransferError, match="cannot read"):
        await make_client(http, network, tmp_path).upload(tmp_path / "missing.txt")


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("/absolute/path.txt", "path.txt"),
        ("..", "file.txt"),
        ("", "file.txt"),
        (".bashrc", "bashrc"),
        ("CON.txt", "_CON.txt"),
        ("evil\u202egnp.exe", "evil_gnp.exe"),
        ('a<b>:"c"|d?*.txt', "a_b___c__d__.txt"),
        ("bell\x07\r\nname.txt", "bell___name.txt"),
    ],
)
async def test_names_from_the_network_are_sanitised_and_stay_in_the_folder(
    network: Network, http: HttpClient, tmp_path: Path, sent: str, stored: str
) -> None:
    info = network.server.publish(b"payload", "x", "text/plain")
    crafted = replace(info, file=replace(info.file, name=sent))
    path = await make_client(http, network, tmp_path).download(crafted)
    folder = (tmp_path / "received").resolve()
    assert path.parent == folder and path.name == stored
    assert path.read_bytes() == b"payload"


async def test_existing_files_are_never_overwritten(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    info = network.server.publish(b"new", "same.txt", "text/plain")
    folder = tmp_path / "received"
    folder.mkdir()
    (folder / "same.txt").write_bytes(b"old")
    client = make_client(http, network, tmp_path)
    first = await client.download(info, thumbnail_first=False)
    second = await client.download(info)
    assert (folder / "same.txt").read_bytes() == b"old"
    assert (first.name, second.name) == ("same (1).txt", "same (2).txt")


async def test_a_symlink_in_place_of_the_name_is_not_followed(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    folder = tmp_path / "received"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    (folder / "link.txt").symlink_to(outside)
    info = network.server.publish(b"attack", "link.txt", "text/plain")
    path = await make_client(http, network, tmp_path).download(info)
    assert outside.read_bytes() == b"keep" and path.name == "link (1).txt"


# --------------------------------------------------------------------------- configuration


async def test_from_config_reads_the_file_transfer_settings_in_kilobytes(http: HttpClient) -> None:
    config = RcsConfig(
        version=1,
        validity=3600,
        messaging=MessagingSettings(
            file_transfer=FileTransferSettings(
                ft_warn_size=10,
                max_size_file_tr=100,
                ft_http_cs_uri="https://ft.example.test/cs",
                ft_http_dl_uri="https://dl.example.test/get?x=1",
                ft_http_cs_user="+8613800000001",
                ft_http_cs_pwd="pw",
            )
        ),
    )
    client = FileTransferClient.from_config(http, config, identity="tel:+8613800000001")
    assert (client.max_size, client.warn_size) == (102400, 10240)
    assert client.cs_uri == "https://ft.example.test/cs" and "pw" not in repr(client)
    with pytest.raises(FileTransferError, match="ftHTTPCSURI"):
        FileTransferClient.from_config(http, RcsConfig(version=1, validity=1))


async def test_downloads_go_through_ft_http_dl_uri_when_configured(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    seen: list[dict[str, str]] = []

    async def relay(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        return web.Response(body=b"via relay")

    app = web.Application()
    app.router.add_get("/dl", relay)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        client = make_client(
            http,
            network,
            tmp_path,
            dl_uri=f"http://127.0.0.1:{port}/dl",
            identity="tel:+8613800000001",
        )
        info = FileTransferInfo(
            file=FileInfo(
                size=9, content_type="text/plain", url="http://ft.rcs.lab/f/1?a=b", name="r.txt"
            )
        )
        path = await client.download(info, message_id="m-7")
    finally:
        await runner.cleanup()
    assert path.read_bytes() == b"via relay"
    assert seen == [{"url": "http://ft.rcs.lab/f/1?a=b", "id": "m-7", "op": "download"}]
    sent = next(r.text for r in trace if r.direction == "out")
    assert 'X-3GPP-Intended-Identity: "tel:+8613800000001"' in sent


def test_profile_files_dir_is_under_the_profile() -> None:
    path = profile_files_dir("demo")
    assert path.parts[-3:] == ("profiles", "demo", "files")


async def test_large_upload_bodies_stay_out_of_the_trace(
    network: Network, http: HttpClient, trace: TraceRecorder, tmp_path: Path
) -> None:
    client = make_client(http, network, tmp_path, trace_body_limit=100)
    info = await client.upload(write(tmp_path, "big.txt", b"B" * 500))
    assert info.file.size == 500
    upload = trace.records(protocol="HTTP")[2]
    assert upload.first_line == "POST /ft HTTP/1.1" and b"BBBB" not in upload.data
    assert "Content-Type: multipart/form-data; boundary=" in upload.text


async def test_an_unwritable_folder_is_a_file_transfer_error(
    network: Network, http: HttpClient, tmp_path: Path
) -> None:
    info = network.server.publish(b"data", "d.txt", "text/plain")
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(FileTransferError, match="cannot store"):
        await make_client(http, network, tmp_path).download(info, blocker / "sub")
