"""Reports of a run: JUnit XML for CI, JSON for scripts.

**JUnit XML** (the format Jenkins, GitLab and GitHub Actions read): one ``<testsuite>`` per
suite (a file's ``suite:``, else its name), one ``<testcase>`` per scenario
(``classname`` = suite, ``name`` = scenario id and title). A failed scenario has a
``<failure>`` whose ``message`` names the failing step and what was expected and seen, with
the step log as its text; an infrastructure error is an ``<error>``. ``<system-out>`` holds
the step log and either references to the trace files (``[[ATTACHMENT|path]]``, with
``--trace-dir``) or, for a scenario that did not pass, the trace itself (start lines and the
last messages, bounded). Text is stripped of characters XML 1.0 cannot carry.

**JSON** (``format: 1``): ``{"format", "summary": {total, passed, failed, errors, skipped,
duration, exit_code}, "scenarios": [ScenarioResult.to_json() ...]}``.

Both writers take ``-`` for standard output (the only thing the ``run`` command ever writes
there).
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rcs_terminal.scenario.results import ScenarioResult, exit_code

__all__ = ["json_report", "junit_xml", "summary", "write_json", "write_junit"]

REPORT_FORMAT = 1
_XML_BAD = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _XML_BAD.sub("?", text)


def summary(results: Sequence[ScenarioResult], *, interrupted: bool = False) -> dict[str, Any]:
    """Counts of a run."""
    count = {
        s: sum(1 for r in results if r.status == s)
        for s in ("passed", "failed", "error", "skipped")
    }
    return {
        "total": len(results),
        "passed": count["passed"],
        "failed": count["failed"],
        "errors": count["error"],
        "skipped": count["skipped"],
        "duration": round(sum(r.duration for r in results), 3),
        "interrupted": interrupted,
        "exit_code": exit_code(results, interrupted=interrupted),
    }


def json_report(results: Sequence[ScenarioResult], *, interrupted: bool = False) -> dict[str, Any]:
    """The JSON report as a dict."""
    return {
        "format": REPORT_FORMAT,
        "summary": summary(results, interrupted=interrupted),
        "scenarios": [r.to_json() for r in results],
    }


def _failure_message(result: ScenarioResult) -> str:
    step = result.failed_step
    if step is None:
        return result.message or result.status
    text = f"step {step.index} ({step.kind}) {step.title}: {step.message}"
    if step.expected:
        text += f" | expected: {step.expected}"
    if step.actual:
        text += f" | actual: {step.actual}"
    return text


def junit_xml(results: Sequence[ScenarioResult]) -> bytes:
    """The JUnit XML report."""
    root = ET.Element("testsuites", name="rcs-terminal")
    suites: dict[str, list[ScenarioResult]] = {}
    for result in results:
        suites.setdefault(result.suite, []).append(result)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for suite_name, members in suites.items():
        failures = sum(1 for r in members if r.status == "failed")
        errors = sum(1 for r in members if r.status == "error")
        skipped = sum(1 for r in members if r.status == "skipped")
        duration = sum(r.duration for r in members)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_clean(suite_name),
            tests=str(len(members)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time=f"{duration:.3f}",
        )
        for key, value in (
            ("tests", len(members)),
            ("failures", failures),
            ("errors", errors),
            ("skipped", skipped),
        ):
            totals[key] += value
        total_time += duration
        for result in members:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_clean(suite_name),
                name=_clean(f"{result.id}: {result.name}"),
                file=_clean(result.file),
                time=f"{result.duration:.3f}",
            )
            if result.checks:
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="checks", value=_clean(result.checks))
            if result.status in ("failed", "error"):
                tag = "failure" if result.status == "failed" else "error"
                element = ET.SubElement(
                    case,
                    tag,
                    message=_clean(_failure_message(result)[:2000]),
                    type="ExpectationFailed" if tag == "failure" else "InfrastructureError",
                )
                element.text = _clean(result.step_log())
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=_clean(result.message or "skipped"))
            out = [result.step_log()]
            if result.lint:
                out.append("lint findings:\n" + "\n".join(result.lint))
            if result.trace_files:
                out.extend(f"[[ATTACHMENT|{path}]]" for path in result.trace_files)
            elif result.trace_text:
                out.append(result.trace_text)
            ET.SubElement(case, "system-out").text = _clean("\n".join(out))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _write(target: str | Path, data: bytes) -> None:
    if str(target) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_junit(target: str | Path, results: Sequence[ScenarioResult]) -> None:
    """Write the JUnit XML report to ``target`` (``-``: standard output)."""
    _write(target, junit_xml(results))


def write_json(
    target: str | Path, results: Sequence[ScenarioResult], *, interrupted: bool = False
) -> None:
    """Write the JSON report to ``target`` (``-``: standard output)."""
    text = json.dumps(json_report(results, interrupted=interrupted), ensure_ascii=False, indent=2)
    _write(target, (text + "\n").encode("utf-8"))
