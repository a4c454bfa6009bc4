"""The load benchmarks run end to end with tiny counts.

``scripts/bench_register.py`` and ``scripts/bench_messaging.py`` are run as a user would run
them (a subprocess), against the in-process lab and against the loopback Kamailio fixture
(skipped where Kamailio or SIPp is not installed; under ``CI=true`` that is a failure, as in
tests/integration). Only the exit code and the printed labels are checked: benchmarks print
numbers, and tests never judge times or rates.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"

REGISTER_LABELS = (
    "target:",
    "registered:",
    "failures:",
    "registrations per second:",
    "cpu seconds (registration):",
    "rss per registered sim:",
    "still registered after hold:",
    "deregistrations per second:",
)
MESSAGING_LABELS = (
    "target:",
    "messages:",
    "failures:",
    "messages per second:",
    "latency ms send->delivered:",
    "cpu seconds (send phase):",
)


def need(binary: str, package: str) -> None:
    """Skip (fail under CI) when ``binary`` is not installed."""
    if shutil.which(binary):
        return
    reason = f"{binary} is not installed (Debian package {package})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the benchmark smoke tests: {reason}")
    pytest.skip(reason)


def run_script(name: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "RCS_TERMINAL_HOME": str(home)},
    )


def assert_labels(done: subprocess.CompletedProcess[str], labels: tuple[str, ...]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    for label in labels:
        assert label in done.stdout, f"{label!r} missing from:\n{done.stdout}"


def test_register_against_the_lab(tmp_path: Path) -> None:
    done = run_script(
        "bench_register.py", "--sims", "5", "--target", "lab", "--concurrency", "3",
        "--hold", "0.2", home=tmp_path,
    )  # fmt: skip
    assert_labels(done, REGISTER_LABELS)


def test_messaging_through_the_lab_untraced(tmp_path: Path) -> None:
    done = run_script(
        "bench_messaging.py", "--pairs", "2", "--count", "5", "--target", "lab",
        "--transport", "tcp", "--auth", "digest", "--no-trace", home=tmp_path,
    )  # fmt: skip
    assert_labels(done, MESSAGING_LABELS)
    assert "sipp baseline" not in done.stdout  # only for Kamailio


@pytest.mark.kamailio
def test_register_against_kamailio(tmp_path: Path) -> None:
    need("kamailio", "kamailio")
    done = run_script(
        "bench_register.py", "--sims", "5", "--target", "kamailio", "--transport", "tcp",
        home=tmp_path,
    )  # fmt: skip
    assert_labels(done, (*REGISTER_LABELS, "kamailio cpu seconds:"))


@pytest.mark.kamailio
def test_messaging_through_kamailio_with_the_sipp_baseline(tmp_path: Path) -> None:
    need("kamailio", "kamailio")
    need("sipp", "sip-tester")
    done = run_script(
        "bench_messaging.py", "--pairs", "2", "--count", "5", "--run-sipp", home=tmp_path
    )
    assert_labels(
        done,
        (*MESSAGING_LABELS, "kamailio cpu seconds:", "sipp calls:", "sipp MESSAGE per second:"),
    )
    commands = [text.strip() for text in done.stdout.splitlines() if "sipp -sf" in text]
    assert [c.split(" -sf ")[1].split()[0].rsplit("/", 1)[-1] for c in commands] == [
        "message_uas.xml",
        "register_uas.xml",
        "message_uac.xml",
    ]
    assert " -r " in commands[2] and " -m 10 " in commands[2]


@pytest.mark.parametrize(
    ("script", "argv"),
    [
        ("bench_register", ["--sims", "0"]),
        ("bench_register", ["--target", "lab", "--kamailio", "127.0.0.1:5060"]),
        ("bench_messaging", ["--target", "lab", "--run-sipp"]),
        ("bench_messaging", ["--window", "0"]),
    ],
)
def test_bad_arguments_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    script: str,
    argv: list[str],
) -> None:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    module = importlib.import_module(script)
    with pytest.raises(SystemExit) as exit_info:
        module.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
