"""``rcs-terminal register`` and ``options`` against a tiny SIP core on loopback (a thread
built from the protocol core), and their exit codes. The real-Kamailio runs are in
tests/integration/test_kamailio_register.py."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rcs_terminal.cli import cli
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.protocol.sip.auth import make_challenge, parse_credentials, verify_authorization
from rcs_terminal.protocol.sip.message import Request, build_response, parse_message


class FakeCore(threading.Thread):
    """A UDP registrar/proxy stand-in: digest-challenges REGISTER once, then answers it with
    ``register_status``; answers OPTIONS with ``options_status``."""

    def __init__(self, register_status: int = 200, options_status: int = 404) -> None:
        super().__init__(daemon=True)
        self.register_status = register_status
        self.options_status = options_status
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.requests: list[Request] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                data, source = self.sock.recvfrom(65535)
            except OSError:
                continue
            message = parse_message(data)
            if not isinstance(message, Request):
                continue
            self.requests.append(message)
            self.sock.sendto(self.answer(message), source)

    def answer(self, request: Request) -> bytes:
        if request.method == "REGISTER":
            raw = request.headers.get("Authorization")
            if raw is None:
                response = build_response(request, 401, to_tag="core")
                response.headers.add("WWW-Authenticate", make_challenge("rcs.test", "n1"))
                return response.to_bytes()
            ok = verify_authorization(parse_credentials(raw), method="REGISTER", password="alicepw")
            status = self.register_status if ok else 403
            response = build_response(request, status, to_tag="core")
            if status == 200:
                expires = request.headers.get("Expires") or "600"
                granted = min(int(expires), 600)
                contact = request.contacts[0]
                response.headers.add("Contact", f"<{contact.uri}>;expires={granted}")
                response.headers.add("Service-Route", "<sip:orig@core.rcs.test;lr>")
                response.headers.add(
                    "P-Associated-URI", "<sip:alice@rcs.test>, <tel:+8613800000011>"
                )
            return response.to_bytes()
        status = self.options_status if request.method == "OPTIONS" else 200
        return build_response(request, status, to_tag="core").to_bytes()

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


def profile(tmp_path: Path, port: int, transport: str = "udp") -> str:
    path = tmp_path / "alice.yaml"
    path.write_text(
        f"""schema_version: 1
device:
  vendor: ZTE
  model: S30
  sw_version: MyOS11
  os: {{name: Android, version: "11"}}
  client: {{vendor: ZTE, version: RCSAndrd-2.4}}
sims:
  - slot: 1
    imei: "860000000000371"
    operator: {{name: China Mobile, mcc: "460", mnc: "00"}}
    imsi: "460001234500011"
    msisdn: "+8613800000011"
    auth: {{scheme: digest}}
    ims:
      pcscf: ["127.0.0.1:{port}"]
      transport: {transport}
      home_domain: rcs.test
      impi: alice
      impu: ["sip:alice@rcs.test"]
      auth: {{scheme: digest, username: alice, password: alicepw}}
""",
        encoding="utf-8",
    )
    return str(path)


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def test_register_json_registers_and_deregisters(core: FakeCore, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    result = CliRunner().invoke(
        cli, ["register", "-p", profile(tmp_path, core.port), "--json", "--trace", str(trace)]
    )
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.splitlines()[0])
    assert line == {
        "sim": 1,
        "status": "registered",
        "impu": "sip:alice@rcs.test",
        "expires": 600,
        "service_route": ["sip:orig@core.rcs.test;lr"],
        "associated_uris": ["sip:alice@rcs.test", "tel:+8613800000011"],
    }
    registers = [r for r in core.requests if r.method == "REGISTER"]
    assert registers[-1].headers.get("Expires") == "0"
    records = [json.loads(text) for text in trace.read_text().splitlines()]
    assert records and all(record["protocol"] == "SIP" for record in records)
    assert all("alicepw" not in record["data"] for record in records)
    assert any('response="***"' in record["data"] for record in records)


def test_register_table(core: FakeCore, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["register", "-p", profile(tmp_path, core.port)])
    assert result.exit_code == 0, result.output
    assert "registered" in result.output and "IMS registration" in result.output


def test_register_hold_stays_registered(core: FakeCore, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["register", "-p", profile(tmp_path, core.port), "--json", "--hold", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert core.requests[-1].headers.get("Expires") == "0"


def test_register_refused_exits_1(tmp_path: Path) -> None:
    server = FakeCore(register_status=403)
    server.start()
    try:
        result = CliRunner().invoke(
            cli, ["register", "-p", profile(tmp_path, server.port), "--json"]
        )
    finally:
        server.stop()
    assert result.exit_code == ExitCode.FAILED
    line = json.loads(result.output.splitlines()[0])
    assert line["status"] == "failed" and line["sip_status"] == 403
    assert "403" in result.output


def test_register_unreachable_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["register", "-p", profile(tmp_path, closed_port(), "tcp"), "--json"]
    )
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "cannot reach the P-CSCF" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["register", "-p", "lab-alice", "--sim", "1", "--all"],
        ["register", "-p", "no-such-profile"],
        ["register", "-p", "lab-alice", "--sim", "2"],
        ["options", "-p", "lab-alice", "not a target"],
        ["options", "-p", "no-such-profile", "sip:bob@rcs.test"],
    ],
)
def test_usage_and_profile_errors_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(cli, args).exit_code == ExitCode.INVALID_INPUT


def test_options_json(core: FakeCore, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["options", "-p", profile(tmp_path, core.port), "+8613800000099", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "target": "tel:+8613800000099",
        "status": 404,
        "rcs": False,
        "online": False,
        "chatbot": False,
        "services": [],
        "tags": [],
    }
    (options,) = [r for r in core.requests if r.method == "OPTIONS"]
    assert options.headers.get("Route") == "<sip:orig@core.rcs.test;lr>"


def test_options_table(core: FakeCore, tmp_path: Path) -> None:
    core.options_status = 200
    result = CliRunner().invoke(
        cli, ["options", "-p", profile(tmp_path, core.port), "bob@rcs.test"]
    )
    assert result.exit_code == 0, result.output
    assert "sip:bob@rcs.test" in result.output and "200" in result.output


def test_options_needs_a_registration(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["options", "-p", profile(tmp_path, closed_port(), "tcp"), "sip:bob@rcs.test"]
    )
    assert result.exit_code == ExitCode.INFRASTRUCTURE
