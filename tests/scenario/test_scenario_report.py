"""Reports: JUnit XML, JSON, the step log and the exit-code contract."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.scenario.report import json_report, junit_xml, write_json, write_junit
from rcs_terminal.scenario.results import ScenarioResult, StepResult, exit_code

PASSED = ScenarioResult(
    "a",
    "Passes",
    "s.yaml",
    "up24",
    "checks A",
    "passed",
    (StepResult(1, "register", "alice: register", "passed"),),
    duration=0.5,
)
FAILED = ScenarioResult(
    "b",
    "Fails",
    "s.yaml",
    "up24",
    None,
    "failed",
    (
        StepResult(1, "register", "register", "passed"),
        StepResult(
            2,
            "expect_message",
            "expect a message",
            "failed",
            "no matching message",
            "kind='card'",
            "text from bot\x01",
        ),
        StepResult(3, "tap", "tap chip 'Buy'", "skipped"),
    ),
    message="step 2 (expect_message): no matching message",
    trace_text="out SIP MESSAGE sip:demo@botplatform.lab SIP/2.0",
)
ERROR = ScenarioResult(
    "c", "Errs", "t.yaml", "other", None, "error", message="the lab did not start"
)


def test_exit_codes() -> None:
    assert exit_code([PASSED]) == ExitCode.OK
    assert exit_code([PASSED, FAILED]) == ExitCode.FAILED
    assert exit_code([FAILED, ERROR]) == ExitCode.INFRASTRUCTURE
    assert exit_code([PASSED], interrupted=True) == ExitCode.INTERRUPTED


def test_junit() -> None:
    root = ET.fromstring(junit_xml([PASSED, FAILED, ERROR]))
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("errors") == "1"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"up24", "other"}
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failure = cases["b: Fails"].find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert "step 2 (expect_message)" in message and "expected: kind='card'" in message
    assert "text from bot?" in message  # control characters cannot go into XML
    assert "3. [skipped] tap chip 'Buy'" in (failure.text or "")
    assert "MESSAGE sip:demo" in (cases["b: Fails"].findtext("system-out") or "")
    assert cases["c: Errs"].find("error") is not None
    passed = cases["a: Passes"]
    assert passed.find("failure") is None
    assert passed.find("properties/property").get("value") == "checks A"  # type: ignore[union-attr]


def test_trace_files_are_attachments(tmp_path: Path) -> None:
    result = ScenarioResult(
        "a", "A", "s.yaml", "s", None, "passed", trace_files=("/t/a/alice.jsonl",)
    )
    write_junit(tmp_path / "r.xml", [result])
    assert "[[ATTACHMENT|/t/a/alice.jsonl]]" in (tmp_path / "r.xml").read_text()


def test_json_round_trip(tmp_path: Path) -> None:
    write_json(tmp_path / "r.json", [PASSED, FAILED])
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["format"] == 1
    assert data["summary"] == json_report([PASSED, FAILED])["summary"]
    assert data["summary"]["failed"] == 1 and data["summary"]["exit_code"] == 1
    assert ScenarioResult.from_json(data["scenarios"][1]) == FAILED


def test_step_log_is_deterministic() -> None:
    log = FAILED.step_log()
    assert log.splitlines()[0] == "b: Fails [failed]"
    assert "expected: kind='card'" in log and "duration" not in log
