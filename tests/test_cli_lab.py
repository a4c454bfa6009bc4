"""`rcs-terminal lab` as a real process: its printed addresses, provisioning against it,
and a clean stop on SIGINT / SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcs_terminal.exit_codes import ExitCode

TIMEOUT = 60


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rcs_terminal", *args]


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "RCS_TERMINAL_HOME": str(home), "COLUMNS": "160"}


class LabProcess:
    """A running ``rcs-terminal lab``; killed after TIMEOUT s whatever happens."""

    def __init__(self, home: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            command("lab", *args),
            env=environment(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.watchdog = threading.Timer(TIMEOUT, self.proc.kill)
        self.watchdog.start()

    def readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the lab printed nothing; stderr: {self.stderr()}"
        return line

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(TIMEOUT)
        self.watchdog.cancel()
        return code

    def stderr(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "rcs-home"


@pytest.fixture
def lab_json(home: Path) -> Iterator[LabProcess]:
    lab = LabProcess(home, "--json")
    yield lab
    if lab.proc.poll() is None:
        lab.proc.kill()
        lab.proc.wait(TIMEOUT)
    lab.watchdog.cancel()


def provision(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command("provision", *args),
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_lab_prints_its_addresses_serves_provisioning_and_stops_on_sigint(
    lab_json: LabProcess, home: Path
) -> None:
    info: dict[str, Any] = json.loads(lab_json.readline())
    assert info["http_url"].startswith("http://127.0.0.1:")
    assert info["https_url"].startswith("https://127.0.0.1:")
    assert info["pid"] == lab_json.proc.pid and Path(info["ca_file"]).is_file()
    assert (home / "lab.json").is_file()

    found = provision(home, "-p", "demo", "--all", "--json")
    assert found.returncode == ExitCode.OK, found.stderr
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    assert [(row["sim"], row["state"]) for row in rows] == [(1, "provisioned"), (2, "provisioned")]
    assert rows[0]["pcscf"] == ([info["sip_tcp"]] if info["sip_tcp"] else [])

    named = provision(home / "elsewhere", "-p", "lab-alice", "--json", "--lab", info["http_url"])
    assert named.returncode == ExitCode.OK, named.stderr
    assert json.loads(named.stdout)["imsi"] == "460001234500011"

    second = subprocess.run(
        command("lab"), env=environment(home), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert second.returncode == ExitCode.INFRASTRUCTURE and "already running" in second.stderr

    assert lab_json.stop(signal.SIGINT) == ExitCode.OK
    assert not (home / "lab.json").exists()
    assert not Path(info["ca_file"]).exists()


def test_lab_table_and_sigterm(home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "lab-trace.jsonl"
    lab = LabProcess(home, "--trace", str(trace))
    try:
        seen = ""
        while "SIP registrar TCP" not in seen:
            seen += lab.readline()
        assert "RCC.14 step 2 (HTTPS)" in seen and "https://127.0.0.1:" in seen
        result = provision(home, "-p", "lab-bob", "--json")
        assert result.returncode == ExitCode.OK, result.stderr
        assert lab.stop(signal.SIGTERM) == ExitCode.OK
    finally:
        if lab.proc.poll() is None:
            lab.proc.kill()
        lab.watchdog.cancel()
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert any(r["first_line"].startswith("GET /?vers=0") for r in records)
    assert all(r["owner"] == "lab" for r in records)


def test_lab_refuses_a_non_loopback_host(home: Path) -> None:
    result = subprocess.run(
        command("lab", "--host", "0.0.0.0"),
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == ExitCode.INFRASTRUCTURE and "loopback" in result.stderr
