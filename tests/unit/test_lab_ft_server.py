"""The lab's FT content server: form parsing over a wire corpus, ranges, auth, the lab."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.filetransfer import FileTransferClient
from rcs_terminal.engine.http import HttpClient
from rcs_terminal.errors import AuthenticationError, MultipartParseError, NetworkError
from rcs_terminal.lab.ft_server import FtServer, byte_range, parse_form
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.subscribers import SubscriberDirectory, default_directory
from rcs_terminal.protocol.sip.auth import build_authorization, parse_challenges
from rcs_terminal.protocol.up.fthttp import parse_fthttp

WIRE = Path(__file__).parents[1] / "data" / "wire" / "fthttp"
VALID = sorted((WIRE / "valid").glob("*.http"))
BROKEN = sorted((WIRE / "broken").glob("*.http"))
USER, PASSWORD = "+8613800000001", "lab-ft-pw"


def split_request(path: Path) -> tuple[str, bytes]:
    """The Content-Type and body of a captured request."""
    head, _, body = path.read_bytes().partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    return fields[b"Content-Type"].decode(), body


# --------------------------------------------------------------------------- wire corpus

EXPECTED = {
    "file_only.http": ("note.txt", "text/plain; charset=utf-8"),
    "with_thumbnail.http": ("照片.png", "image/png"),
    "filename_star.http": ("报告.pdf", "application/pdf"),
    "bare_lf.http": ("a.bin", None),
    "traversal_name.http": ("..\\..\\..\\etc\\passwd", "text/plain"),
    "unterminated.http": ("cut.txt", "text/plain"),
}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_uploads_give_their_fields(path: Path) -> None:
    content_type, body = split_request(path)
    fields = parse_form(body, content_type)
    name, file_type = EXPECTED[path.name]
    assert fields["tid"].data == b"5ad4c4b6-8f4e-4c33-9b1d-6f2b7c0e9a11"
    assert (fields["file"].filename, fields["file"].content_type) == (name, file_type)
    assert fields["file"].name == "File"
    if path.name == "with_thumbnail.http":
        assert fields["thumbnail"].data.startswith(b"\x89PNG")
        assert fields["file"].data.endswith(b"\x00" * 40)
    if path.name == "bare_lf.http":
        assert fields["file"].data == bytes(range(256))


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_uploads_are_refused_or_have_no_file(path: Path) -> None:
    content_type, body = split_request(path)
    try:
        fields = parse_form(body, content_type)
    except MultipartParseError:
        return
    assert "file" not in fields


@given(st.binary(max_size=600), st.sampled_from(["multipart/form-data; boundary=b", "x", ""]))
def test_arbitrary_bodies_give_fields_or_a_parse_error(body: bytes, content_type: str) -> None:
    try:
        fields = parse_form(body, content_type)
    except MultipartParseError:
        return
    assert all(isinstance(f.data, bytes) for f in fields.values())


@cache
def corpus() -> list[tuple[str, bytes]]:
    return [split_request(p) for p in VALID + BROKEN]


@given(st.integers(0, 10_000), st.integers(1, 8), st.randoms(use_true_random=False))
def test_mutated_uploads_give_fields_or_a_parse_error(
    index: int, flips: int, rnd: random.Random
) -> None:
    content_type, body = corpus()[index % len(corpus())]
    data = bytearray(body)
    for _ in range(flips):
        if data and rnd.random() < 0.7:
            data[rnd.randrange(len(data))] = rnd.choice(b'\r\n-"=;:\x00\xff' + b"abc")
        else:
            del data[rnd.randrange(len(data) + 1) :]
    try:
        fields = parse_form(bytes(data), content_type)
    except MultipartParseError:
        return
    assert all(isinstance(f.data, bytes) for f in fields.values())


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-3", 10, (0, 3)),
        ("bytes=5-", 10, (5, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=8-99", 10, (8, 9)),
        ("bytes=10-", 10, (-1, -1)),
        ("bytes=-0", 10, (-1, -1)),
        ("bytes=4-2", 10, None),
        ("bytes=0-1,4-5", 10, None),
        ("items=0-1", 10, None),
        ("bytes=-", 10, None),
    ],
)
def test_byte_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == expected


@given(st.text(max_size=40), st.integers(0, 10**6))
def test_byte_ranges_stay_inside_the_content(header: str, size: int) -> None:
    found = byte_range(header, size)
    assert found is None or found == (-1, -1) or 0 <= found[0] <= found[1] < size


# --------------------------------------------------------------------------- over HTTP


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def served() -> AsyncIterator[tuple[FtServer, str, Clock]]:
    clock = Clock()
    server = FtServer({USER: PASSWORD}.get, clock=clock, max_size=4096, max_total=10_000)
    app = web.Application()
    app.add_routes(server.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    server.public_url = base + "/ft"
    yield server, base, clock
    await runner.cleanup()


def answer(challenge_header: str, method: str, uri: str, *, nc: int = 1, pw: str = PASSWORD) -> str:
    challenge = parse_challenges(challenge_header)[0]
    return build_authorization(
        challenge, method=method, uri=uri, username=USER, password=pw, cnonce="c0ffee", nc=nc
    )


async def test_ranges_and_missing_files_over_http(served: tuple[FtServer, str, Clock]) -> None:
    server, base, clock = served
    server.require_auth = False
    info = server.publish(b"0123456789", "digits.txt", "text/plain;charset=utf-8")
    async with aiohttp.ClientSession() as http:
        async with http.get(info.file.url, headers={"Range": "bytes=2-4"}) as resp:
            assert resp.status == 206 and await resp.read() == b"234"
            assert resp.headers["Content-Range"] == "bytes 2-4/10"
        async with http.get(info.file.url, headers={"Range": "bytes=-2"}) as resp:
            assert resp.status == 206 and await resp.read() == b"89"
        async with http.get(info.file.url, headers={"Range": "bytes=20-"}) as resp:
            assert resp.status == 416 and resp.headers["Content-Range"] == "bytes */10"
        async with http.get(info.file.url) as resp:
            assert resp.status == 200 and await resp.read() == b"0123456789"
            assert resp.headers["Content-Type"] == "text/plain;charset=utf-8"
            assert resp.headers["Accept-Ranges"] == "bytes"
        async with http.get(info.file.url + "/thumbnail") as resp:
            assert resp.status == 404
        async with http.get(base + "/ft/files/unknown") as resp:
            assert resp.status == 404
        clock.now += 8 * 86400
        async with http.get(info.file.url) as resp:
            assert resp.status == 410


async def test_uploads_from_the_wire_corpus(served: tuple[FtServer, str, Clock]) -> None:
    server, base, _ = served
    server.require_auth = False
    async with aiohttp.ClientSession() as http:
        for number, path in enumerate(VALID):
            content_type, body = split_request(path)
            body = body.replace(b"6f2b7c0e9a11", f"{number:012d}".encode())  # one tid each
            async with http.post(
                base + "/ft", data=body, headers={"Content-Type": content_type}
            ) as r:
                assert r.status == 200, path.name
                assert r.headers["Content-Type"] == "application/vnd.gsma.rcs-ft-http+xml"
                info = parse_fthttp(await r.read())
                assert info.file.name == EXPECTED[path.name][0]  # kept as sent
        for path in BROKEN:
            content_type, body = split_request(path)
            async with http.post(
                base + "/ft", data=body, headers={"Content-Type": content_type}
            ) as r:
                assert r.status == 400, path.name
        async with http.post(
            base + "/ft",
            data=b"--b\r\nContent-Disposition: form-data; name=File\r\n\r\n"
            + b"x" * 5000
            + b"\r\n--b--\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        ) as r:
            assert r.status == 413
        async with http.get(
            base + "/ft?tid=5ad4c4b6-8f4e-4c33-9b1d-000000000001&get_download_info"
        ) as r:
            assert r.status == 200 and parse_fthttp(await r.read()).file.size > 0
        async with http.get(base + "/ft?tid=nope&get_download_info") as r:
            assert r.status == 404


async def test_digest_checks(served: tuple[FtServer, str, Clock]) -> None:
    server, base, _ = served
    info = server.publish(b"secret file", "s.txt", "text/plain")
    uri = info.file.url.removeprefix(base)
    async with aiohttp.ClientSession() as http:
        async with http.get(info.file.url) as resp:
            assert resp.status == 401
            offered = resp.headers.getall("WWW-Authenticate")
        assert [h.split("algorithm=")[1].split(",")[0] for h in offered] == ["SHA-256", "MD5"]
        good = answer(offered[0], "GET", uri)
        async with http.get(info.file.url, headers={"Authorization": good}) as resp:
            assert resp.status == 200 and await resp.read() == b"secret file"
        async with http.get(info.file.url, headers={"Authorization": good}) as resp:
            assert resp.status == 401  # the same nc again is a replay
        wrong_uri = answer(offered[1], "GET", "/ft/files/other")
        async with http.get(info.file.url, headers={"Authorization": wrong_uri}) as resp:
            assert resp.status == 400
        bad_pw = answer(offered[1], "GET", uri, pw="guess")
        async with http.get(info.file.url, headers={"Authorization": bad_pw}) as resp:
            assert resp.status == 401
        async with http.get(info.file.url, headers={"Authorization": 'Digest realm="x'}) as resp:
            assert resp.status == 400
        async with http.post(
            base + "/ft", headers={"Authorization": answer(offered[1], "POST", "/ft", nc=2)}
        ) as resp:
            assert resp.status == 204  # the authenticated empty first POST


def test_publish_needs_an_address_and_respects_the_limits() -> None:
    server = FtServer(lambda user: None, max_size=10, max_total=25)
    with pytest.raises(NetworkError, match="no address"):
        server.publish(b"x", "x", "text/plain")
    server.public_url = "http://ft.rcs.lab:1/ft"
    with pytest.raises(ValueError, match="exceed"):
        server.publish(b"x" * 11, "x", "text/plain")
    first = server.publish(b"a" * 10, "a", "text/plain")
    server.publish(b"b" * 10, "b", "text/plain", thumbnail=b"t" * 5)
    assert server.lookup(first.file.url) is not None and len(server) == 2
    server.publish(b"c" * 10, "c", "text/plain")  # the oldest goes
    assert server.lookup(first.file.url) is None and len(server) == 2


# --------------------------------------------------------------------------- in the lab


@cache
def directory() -> SubscriberDirectory:
    return default_directory()


async def test_the_lab_serves_ft_with_the_credentials_its_config_server_issues(
    tmp_path: Path,
) -> None:
    async with Lab(directory=directory()) as lab:
        sub = next(iter(lab.directory))
        endpoints = lab.config_server.endpoints
        assert endpoints is not None and lab.ft_server.public_url == endpoints.ft_url
        http = HttpClient(lab.trace, hosts=lab.info.names, allow_dns=False)
        try:
            client = FileTransferClient(
                http,
                cs_uri=endpoints.ft_url,
                user=sub.msisdn,
                password=lab.config_server.ft_password(sub.imsi),
                files_dir=tmp_path,
            )
            info = await client.upload_bytes(b"hello lab", "hi.txt", "text/plain")
            assert info.file.url.startswith(endpoints.ft_url + "/files/")
            assert (await client.download(info)).read_bytes() == b"hello lab"
            published = lab.ft_server.publish(b"from a bot", "bot.txt", "text/plain")
            assert (await client.download(published)).read_bytes() == b"from a bot"
            wrong = FileTransferClient(
                http, cs_uri=endpoints.ft_url, user=sub.msisdn, password="nope"
            )
            with pytest.raises(AuthenticationError, match="refused the credentials"):
                await wrong.upload_bytes(b"x", "x.txt", "text/plain")
        finally:
            await http.close()
        password = lab.config_server.ft_password(sub.imsi)
        assert all(password not in record.text for record in lab.trace)
        assert any(r.first_line.startswith("POST /ft ") for r in lab.trace if r.owner == "lab")
