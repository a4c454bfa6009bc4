"""The native engine against a real Kamailio on loopback, over UDP and TCP.

Emulated handsets register with digest (Kamailio's 401), query each other's capabilities
with OPTIONS (Kamailio challenges them with 407 and forwards them to the other handset,
which answers with its UP 2.4 tags), register two SIMs of one profile at once, and
de-register (checked with ``kamcmd ul.dump``). The CLI is run in a subprocess:
``register --json --hold 0`` until SIGINT, and ``options``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcs_terminal.domain.profile import Profile, load_profile
from rcs_terminal.engine.handset import Handset
from rcs_terminal.engine.registration import RegistrationFailed
from rcs_terminal.engine.trace import TraceRecorder
from tests.integration.conftest import Kamailio

pytestmark = pytest.mark.kamailio

IMEIS = {"alice": "860000000000371", "bob": "860000000000389", "carol": "860000000000397"}
ROOT = Path(__file__).resolve().parents[2]


def sim_yaml(slot: int, user: str, port: int, transport: str, password: str | None = None) -> str:
    return f"""
  - slot: {slot}
    imei: "{IMEIS[user]}"
    operator: {{name: Test, mcc: "460", mnc: "00"}}
    imsi: "46000123450001{slot}"
    msisdn: "+861380000001{slot}"
    auth: {{scheme: digest}}
    ims:
      pcscf: ["127.0.0.1:{port}"]
      transport: {transport}
      home_domain: rcs.test
      impi: {user}
      impu: ["sip:{user}@rcs.test"]
      auth: {{scheme: digest, username: {user}, password: {password or user + "pw"}}}
"""


def write_profile(path: Path, *sims: str) -> Path:
    path.write_text(
        "schema_version: 1\n"
        "device:\n"
        "  vendor: ZTE\n  model: S30\n  sw_version: MyOS11\n"
        '  os: {name: Android, version: "11"}\n'
        "  client: {vendor: ZTE, version: RCSAndrd-2.4}\n"
        "sims:" + "".join(sims),
        encoding="utf-8",
    )
    return path


def handset_profile(tmp_path: Path, kamailio: Kamailio, transport: str, user: str) -> Profile:
    path = write_profile(tmp_path / f"{user}.yaml", sim_yaml(1, user, kamailio.port, transport))
    return load_profile(str(path))


def registered_users(kamailio: Kamailio) -> str:
    return kamailio.kamcmd("ul.dump", "brief")


@pytest.fixture(autouse=True)
def _clean_location(kamailio: Kamailio) -> Iterator[None]:
    yield
    for user in ("alice", "bob", "carol"):
        subprocess.run(
            ["kamcmd", "-s", f"unix:{kamailio.run_dir}/kamailio_ctl", "ul.rm", "location", user],
            capture_output=True,
            timeout=10,
        )


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_two_handsets_register_and_exchange_options(
    kamailio: Kamailio, tmp_path: Path, transport: str
) -> None:
    trace = TraceRecorder()
    alice = Handset(handset_profile(tmp_path, kamailio, transport, "alice"), trace=trace)
    bob = Handset(handset_profile(tmp_path, kamailio, transport, "bob"), trace=trace)
    try:
        assert await alice.start() == {1: None}
        assert await bob.start() == {1: None}
        dump = registered_users(kamailio)
        assert "AoR: alice" in dump and "AoR: bob" in dump
        reg = alice.stack().registration
        assert reg is not None and reg.expires == 3600  # Kamailio's max_expires
        assert reg.endpoint.target is not None and reg.endpoint.target.transport == transport

        service = alice.stack().capabilities
        assert service is not None
        result = await service.query("sip:bob@rcs.test")
        assert (result.status, result.rcs, result.online, result.chatbot) == (
            200,
            True,
            True,
            False,
        )
        assert {"chat", "standalone", "fthttp", "geopush", "chatbot", "chatbot.sa"} <= set(
            result.services
        )
        assert "+g.gsma.rcs.botversion=#=2" in result.tags
        incoming = [r for r in trace.records(sim=1) if r.direction == "in"]
        assert any(r.first_line.startswith("OPTIONS sip:bob@") for r in incoming)
        assert any(r.first_line.startswith("SIP/2.0 407") for r in incoming)

        back = bob.stack().capabilities
        assert back is not None
        answer = await back.query("sip:alice@rcs.test")
        assert answer.rcs and "standalone" in answer.services

        offline = await service.query("sip:carol@rcs.test")
        assert (offline.status, offline.rcs, offline.online) == (480, True, False)
        unknown = await service.query("sip:nobody@rcs.test")
        assert (unknown.status, unknown.rcs) == (404, False)
    finally:
        await alice.stop()
        await bob.stop()
    dump = registered_users(kamailio)
    assert "AoR: alice" not in dump and "AoR: bob" not in dump


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_dual_sim_registers_both_at_once(
    kamailio: Kamailio, tmp_path: Path, transport: str
) -> None:
    path = write_profile(
        tmp_path / "dual.yaml",
        sim_yaml(1, "alice", kamailio.port, transport),
        sim_yaml(2, "bob", kamailio.port, transport),
    )
    handset = Handset(load_profile(str(path)))
    try:
        assert await handset.start() == {1: None, 2: None}
        one, two = handset.sims[1], handset.sims[2]
        assert one.registration is not None and two.registration is not None
        assert one.endpoint is not None and two.endpoint is not None
        assert one.registration.call_id != two.registration.call_id
        assert one.endpoint.flow is not None and two.endpoint.flow is not None
        assert one.endpoint.flow.local != two.endpoint.flow.local
        assert one.params is not None and two.params is not None
        assert one.params.sip_instance != two.params.sip_instance
        alice = kamailio.kamcmd("ul.lookup", "location", "alice")
        bob = kamailio.kamcmd("ul.lookup", "location", "bob")
        assert "86000000-000037-0" in alice and "86000000-000038-0" in bob
    finally:
        await handset.stop()
    dump = registered_users(kamailio)
    assert "AoR: alice" not in dump and "AoR: bob" not in dump


async def test_one_sim_failing_leaves_the_other_registered(
    kamailio: Kamailio, tmp_path: Path
) -> None:
    path = write_profile(
        tmp_path / "dual.yaml",
        sim_yaml(1, "alice", kamailio.port, "udp"),
        sim_yaml(2, "bob", kamailio.port, "tcp", password="wrong"),
    )
    handset = Handset(load_profile(str(path)))
    try:
        results = await handset.start()
        assert results[1] is None
        failure = results[2]
        assert isinstance(failure, RegistrationFailed) and failure.status == 401
        assert handset.sims[1].is_registered and not handset.sims[2].is_registered
        assert "AoR: alice" in registered_users(kamailio)
    finally:
        await handset.stop()


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcs_terminal", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "RCS_TERMINAL_HOME": str(home)},
    )


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_cli_register_hold_and_options(kamailio: Kamailio, tmp_path: Path, transport: str) -> None:
    bob = write_profile(tmp_path / "bob.yaml", sim_yaml(1, "bob", kamailio.port, transport))
    alice = write_profile(tmp_path / "alice.yaml", sim_yaml(1, "alice", kamailio.port, transport))
    trace = tmp_path / "bob-trace.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-m", "rcs_terminal", "register", "-p", str(bob), "--json", "--hold",
         "0", "--trace", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "RCS_TERMINAL_HOME": str(tmp_path / "home-bob")},
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        line = json.loads(holder.stdout.readline())
        assert line == {
            "sim": 1,
            "status": "registered",
            "impu": "sip:bob@rcs.test",
            "expires": 3600,
            "service_route": [],
            "associated_uris": [],
        }
        assert "AoR: bob" in registered_users(kamailio)
        done = run_cli("options", "-p", str(alice), "sip:bob@rcs.test", "--json", home=tmp_path)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert (result["status"], result["rcs"], result["online"]) == (200, True, True)
        assert "+g.gsma.rcs.cpm.pager-large" in result["tags"] and "chat" in result["services"]
    finally:
        holder.send_signal(signal.SIGINT)
        code = holder.wait(timeout=30)
    assert code == 0, holder.stderr.read() if holder.stderr else ""
    assert "AoR: bob" not in registered_users(kamailio)
    records = [json.loads(text) for text in trace.read_text().splitlines()]
    lines = [r["first_line"] for r in records]
    assert any(first.startswith("OPTIONS ") for first in lines)  # answered while holding
    assert sum(first.startswith("REGISTER ") for first in lines) >= 3  # incl. de-registration
    assert all("bobpw" not in r["data"] for r in records)


def test_cli_register_refused_exits_1(kamailio: Kamailio, tmp_path: Path) -> None:
    bad = write_profile(
        tmp_path / "bad.yaml", sim_yaml(1, "carol", kamailio.port, "udp", password="nope")
    )
    done = run_cli("register", "-p", str(bad), "--json", home=tmp_path)
    assert done.returncode == 1
    line = json.loads(done.stdout.splitlines()[0])
    assert line["status"] == "failed" and line["sip_status"] == 401
    assert "401" in done.stderr
