"""``rcs-terminal send`` and ``listen`` against a tiny SIP core on loopback (a thread built
from the protocol core): results, receipts, SMS fallback, exit codes, and a process that dies
right after storing its message. The real-Kamailio runs are in
tests/integration/test_kamailio_messaging.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rcs_terminal.cli import cli
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import ImdnNotification, build_imdn_cpim
from rcs_terminal.protocol.sip.auth import make_challenge
from rcs_terminal.protocol.sip.message import Headers, Request, build_response, parse_message

ROOT = Path(__file__).resolve().parents[1]
BOB_CONTACT = (
    '<sip:bob@127.0.0.1:5099>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'
)
CARD = ROOT / "tests" / "data" / "payloads" / "botmessage" / "card_vertical_short_image.json"


class FakeCore(threading.Thread):
    """A UDP registrar/proxy stand-in for one handset.

    REGISTER: a digest challenge, then 200. OPTIONS: ``options_status`` (a 200 names bob's
    standalone messaging tag). MESSAGE from the
    handset: 200, then (``receipts``) a ``delivered`` IMDN back to it. ``push`` sends the
    handset a text MESSAGE as soon as it is registered (for ``listen``).
    """

    def __init__(self, *, options_status: int = 200, receipts: bool = True) -> None:
        super().__init__(daemon=True)
        self.options_status = options_status
        self.receipts = receipts
        self.push: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.messages: list[Request] = []
        self.answers: list[int] = []
        self.running = True
        self._branches: set[str] = set()
        self._count = 0

    def run(self) -> None:
        while self.running:
            try:
                data, source = self.sock.recvfrom(65535)
            except OSError:
                continue
            message = parse_message(data)
            if isinstance(message, Request):
                self.handle(message, source)
            else:
                self.answers.append(message.status)

    def handle(self, request: Request, source: tuple[str, int]) -> None:
        branch = request.top_via.branch or ""
        if branch in self._branches:
            return
        self._branches.add(branch)
        if request.method == "REGISTER":
            if request.headers.get("Authorization") is None:
                response = build_response(request, 401, to_tag="core")
                response.headers.add("WWW-Authenticate", make_challenge("rcs.test", "n1"))
                self.sock.sendto(response.to_bytes(), source)
                return
            response = build_response(request, 200, to_tag="core")
            response.headers.add("Contact", f"<{request.contacts[0].uri}>;expires=600")
            self.sock.sendto(response.to_bytes(), source)
            if request.headers.get("Expires") != "0":
                for text in self.push:
                    self.send(self.text_message(text), source)
            return
        status = self.options_status if request.method == "OPTIONS" else 200
        response = build_response(request, status, to_tag="core")
        if request.method == "OPTIONS" and status == 200:
            response.headers.add("Contact", BOB_CONTACT)
        self.sock.sendto(response.to_bytes(), source)
        if request.method == "MESSAGE" and request.headers.get("Content-Type") == "message/cpim":
            self.messages.append(request)
            body = cpim.parse(request.body)
            if self.receipts and not body.is_imdn and body.message_id:
                self.send(self.receipt(body), source)

    def send(self, body: bytes, dest: tuple[str, int], ctype: str = "message/cpim") -> None:
        self._count += 1
        headers = Headers()
        headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bKcore{self._count}")
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<sip:bob@rcs.test>;tag=core{self._count}")
        headers.add("To", "<sip:alice@rcs.test>")
        headers.add("Call-ID", f"core-{self._count}@rcs.test")
        headers.add("CSeq", "1 MESSAGE")
        headers.add("Content-Type", ctype)
        self.sock.sendto(Request("MESSAGE", "sip:alice@rcs.test", headers, body).to_bytes(), dest)

    def receipt(self, original: cpim.CpimMessage) -> bytes:
        assert original.message_id is not None
        notification = ImdnNotification(
            message_id=original.message_id,
            datetime=original.datetime or dt.datetime.now(dt.UTC),
            kind="delivery",
            status="delivered",
        )
        return build_imdn_cpim(
            notification,
            from_="sip:bob@rcs.test",
            to="sip:alice@rcs.test",
            new_message_id=f"rcpt-{self._count}",
            datetime=dt.datetime.now(dt.UTC),
        )

    def text_message(self, text: str) -> bytes:
        return cpim.build(
            from_="sip:bob@rcs.test",
            to="sip:alice@rcs.test",
            datetime=dt.datetime.now(dt.UTC),
            body=text.encode(),
            content_type="text/plain;charset=UTF-8",
            message_id=f"bob-{len(text)}-{self._count}",
            disposition_notification=["positive-delivery"],
        )

    def stop(self) -> None:
        self.running = False
        self.join(timeout=5)
        self.sock.close()


@pytest.fixture
def core() -> Iterator[FakeCore]:
    server = FakeCore()
    server.start()
    yield server
    server.stop()


def write_profile(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "alice.yaml"
    path.write_text(
        "schema_version: 1\n"
        "device:\n  vendor: ZTE\n  model: S30\n  sw_version: MyOS11\n"
        '  os: {name: Android, version: "11"}\n'
        "  client: {vendor: ZTE, version: RCSAndrd-2.4}\n"
        "sims:\n"
        "  - slot: 1\n"
        '    imei: "860000000000371"\n'
        '    operator: {name: Test, mcc: "001", mnc: "01"}\n'
        '    imsi: "001010123450001"\n'
        '    msisdn: "+8613800000001"\n'
        "    auth: {scheme: digest}\n"
        "    ims:\n"
        f'      pcscf: ["127.0.0.1:{port}"]\n'
        "      transport: udp\n"
        "      home_domain: rcs.test\n"
        "      impi: alice\n"
        '      impu: ["sip:alice@rcs.test"]\n'
        "      auth: {scheme: digest, username: alice, password: alicepw}\n",
        encoding="utf-8",
    )
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_send_text_and_wait_for_the_delivery_receipt(core: FakeCore, tmp_path: Path) -> None:
    profile = write_profile(tmp_path, core.port)
    code, out, err = run(
        "send", "-p", str(profile), "sip:bob@rcs.test", "你好", "--wait", "delivered", "--json"
    )
    assert code == 0, err
    line = json.loads(out)
    assert line["technology"] == "pager" and line["status"] == "delivered"
    assert line["reason"] is None
    (request,) = core.messages
    assert cpim.parse(request.body).message_id == line["message_id"]
    assert cpim.parse(request.body).text() == "你好"
    assert 200 in core.answers  # our answer to the receipt


def test_waiting_for_displayed_times_out_with_exit_1(core: FakeCore, tmp_path: Path) -> None:
    profile = write_profile(tmp_path, core.port)
    code, out, _ = run(
        "send", "-p", str(profile), "sip:bob@rcs.test", "hi",
        "--wait", "displayed", "--timeout", "0.3", "--json",
    )  # fmt: skip
    assert code == ExitCode.FAILED
    line = json.loads(out)
    assert line["status"] == "delivered" and "not displayed" in line["reason"]


def test_send_a_card_from_a_body_file(core: FakeCore, tmp_path: Path) -> None:
    profile = write_profile(tmp_path, core.port)
    code, out, err = run(
        "send", "-p", str(profile), "sip:bob@rcs.test", "--body-file", str(CARD), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["status"] in ("sent", "delivered")
    body = cpim.parse(core.messages[0].body)
    assert body.content_type.media_type == "application/vnd.gsma.botmessage.v1.0+json"
    assert body.decoded_body() == CARD.read_bytes()


def test_not_rcs_falls_back_to_sms(tmp_path: Path) -> None:
    server = FakeCore(options_status=404)
    server.start()
    try:
        profile = write_profile(tmp_path, server.port)
        code, out, _ = run("send", "-p", str(profile), "+8613800000002", "x", "--json")
        assert code == 0
        line = json.loads(out)
        assert (line["technology"], line["status"]) == ("sms-fallback", "sms_fallback")
        assert "SMS fallback" in line["reason"]
        code, out, _ = run(
            "send", "-p", str(profile), "+8613800000002", "x", "--wait", "delivered", "--json"
        )
        assert code == ExitCode.FAILED and json.loads(out)["status"] == "sms_fallback"
        assert not server.messages
    finally:
        server.stop()


def test_send_usage_errors(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, 9)
    code, _, _ = run("send", "-p", str(profile), "sip:bob@rcs.test")
    assert code == ExitCode.INVALID_INPUT
    code, _, _ = run("send", "-p", str(profile), "sip:bob@rcs.test", "x", "--body-file", str(CARD))
    assert code == ExitCode.INVALID_INPUT
    code, _, err = run("send", "-p", str(profile), "not a target", "x")
    assert code == ExitCode.INVALID_INPUT and "target" in err


def test_send_file_without_file_transfer_says_so(core: FakeCore, tmp_path: Path) -> None:
    profile = write_profile(tmp_path, core.port)
    code, out, err = run("send", "-p", str(profile), "sip:bob@rcs.test", "--file", str(CARD))
    assert code == ExitCode.INFRASTRUCTURE and out == ""
    assert "not available" in err


def test_listen_prints_json_lines_and_sends_receipts(core: FakeCore, tmp_path: Path) -> None:
    core.push = ["早上好", "second"]
    profile = write_profile(tmp_path, core.port)
    code, out, err = run("listen", "-p", str(profile), "--json", "--for", "1")
    assert code == 0, err
    lines = [json.loads(text) for text in out.splitlines()]
    assert [line["text"] for line in lines] == ["早上好", "second"]
    first = lines[0]
    assert first["sim"] == 1 and first["from"] == "sip:bob@rcs.test"
    assert first["content_type"] == "text/plain;charset=UTF-8"
    assert (first["card"], first["suggestions"], first["traffic_type"]) == (None, [], None)
    assert first["message_id"].startswith("bob-")
    assert core.answers.count(200) >= 2  # the receipts we sent were answered by the core


def test_a_crash_after_storing_is_sent_by_the_next_process_once(
    core: FakeCore, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path, core.port)
    env = {
        **os.environ,
        "RCS_TERMINAL_HOME": os.environ["RCS_TERMINAL_HOME"],
        "RCS_TERMINAL_TEST_CRASH_AFTER_STORE": "1",
    }
    died = subprocess.run(
        [sys.executable, "-m", "rcs_terminal", "send", "-p", str(profile),
         "sip:bob@rcs.test", "before the crash", "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip
    assert died.returncode == 1 and died.stdout == ""
    assert not core.messages
    code, _, err = run("send", "-p", str(profile), "sip:bob@rcs.test", "after", "--json")
    assert code == 0, err
    texts = [cpim.parse(m.body).text() for m in core.messages]
    assert sorted(texts) == ["after", "before the crash"]
    ids = [cpim.parse(m.body).message_id for m in core.messages]
    assert len(set(ids)) == 2
    # a third run sends only its own message
    code, _, _ = run("send", "-p", str(profile), "sip:bob@rcs.test", "third", "--json")
    assert code == 0
    texts = [cpim.parse(m.body).text() for m in core.messages]
    assert texts.count("before the crash") == 1 and len(texts) == 3


def test_human_output_of_send_and_listen(core: FakeCore, tmp_path: Path) -> None:
    profile = write_profile(tmp_path, core.port)
    code, out, err = run("send", "-p", str(profile), "sip:bob@rcs.test", "hi")
    assert code == 0, err
    assert "to sip:bob@rcs.test: sent (pager)" in out
    core.push = ["line one\x1b[31m"]
    code, out, err = run("listen", "-p", str(profile), "--for", "0.5")
    assert code == 0, err
    assert "SIM 1 sip:bob@rcs.test: line one" in out and "\x1b[31m" not in out
    assert "listening on SIM 1 as sip:alice@rcs.test" in err
