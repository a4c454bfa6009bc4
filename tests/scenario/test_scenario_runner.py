"""The runner against the bundled lab: passing and failing scenarios, isolation, lab errors,
determinism, and the built-in up24 suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rcs_terminal.scenario.command import builtin_suites, suite_dir
from rcs_terminal.scenario.model import load_scenarios, parse_scenarios
from rcs_terminal.scenario.results import ScenarioResult
from rcs_terminal.scenario.runner import Runner, RunOptions

FILE = """
vars: {demo: "sip:demo@botplatform.lab"}
scenarios:
  - id: ok
    name: Alice talks to Bob and the demo bot
    handsets: {alice: lab-alice, bob: lab-bob}
    steps:
      - register: alice
      - register: {handset: bob, expect: {state: registered, associated_uri: "${bob.tel}"}}
      - send: {handset: alice, to: bob, text: "hello", as: m}
      - expect_message: {handset: bob, from: alice, text: hello, as: got}
      - mark_displayed: {handset: bob, message: got}
      - expect_state: {handset: alice, message: m, state: displayed}
      - send: {handset: alice, to: "${demo}", text: hi}
      - expect_message: {handset: alice, from: "${demo}", kind: card, as: card}
      - tap: {handset: alice, message: card, chip: Card layouts}
      - expect_message: {handset: alice, from: "${demo}", text: {contains: orientations}}
      - expect_no_message: {handset: bob, within: 0.3}
  - id: bad
    name: A wrong expectation fails its step and skips the rest
    handsets: {alice: lab-alice}
    steps:
      - register: alice
      - options: {target: "sip:demo@botplatform.lab", expect: {chatbot: false}}
      - deregister: alice
"""


async def run(text: str, tmp_path: Path, **options: object) -> list[ScenarioResult]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return await Runner(RunOptions(**options)).run_all(load_scenarios([path]))  # type: ignore[arg-type]


async def test_passing_and_failing(tmp_path: Path) -> None:
    home = os.environ["RCS_TERMINAL_HOME"]
    ok, bad = await run(FILE, tmp_path, trace_dir=tmp_path / "traces")
    assert ok.status == "passed", ok.step_log()
    assert [s.status for s in bad.steps] == ["passed", "failed", "skipped"]
    step = bad.failed_step
    assert step is not None and step.kind == "options"
    assert step.expected == "chatbot False" and step.actual == "chatbot True"
    assert bad.trace_text and "OPTIONS sip:demo@botplatform.lab" in bad.trace_text
    assert sorted(Path(p).name for p in ok.trace_files) == ["alice.jsonl", "bob.jsonl", "lab.jsonl"]
    assert os.environ["RCS_TERMINAL_HOME"] == home  # the per-scenario home is undone


async def test_the_step_log_is_deterministic(tmp_path: Path) -> None:
    first = await run(FILE, tmp_path)
    second = await run(FILE, tmp_path)
    assert [r.step_log() for r in first] == [r.step_log() for r in second]


async def test_a_lab_that_does_not_start_is_an_infrastructure_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcs_terminal.lab import lab as lab_module

    async def broken(self: object) -> None:
        raise OSError("no ports left")

    monkeypatch.setattr(lab_module.Lab, "start", broken)
    [result] = await run("name: X\nhandsets: {a: lab-alice}\nsteps: [{register: a}]\n", tmp_path)
    assert result.status == "error" and "no ports left" in result.message


async def test_lint_can_fail_a_scenario(tmp_path: Path) -> None:
    text = """
name: Broken card from a bot
lint: {fail_on: error}
handsets: {alice: lab-alice}
steps:
  - register: alice
  - lab:
      push:
        to: alice
        content_type: "application/vnd.gsma.botmessage.v1.0+json"
        json: {message: {generalPurposeCard: {layout: {cardOrientation: SIDEWAYS}, content: {}}}}
  - expect_message: {from: "sip:demo@botplatform.lab"}
"""
    [result] = await run(text, tmp_path)
    assert result.status == "failed" and result.lint
    assert result.steps[-1].kind == "lint"


def test_the_up24_suite_is_shipped() -> None:
    assert "up24" in builtin_suites()
    scenarios = load_scenarios([suite_dir("up24")])
    assert len(scenarios) >= 30
    assert all(s.checks for s in scenarios)  # each names the behaviour it checks


async def test_the_up24_suite_passes() -> None:
    scenarios = load_scenarios([suite_dir("up24")])
    results = await Runner(RunOptions(jobs=2)).run_all(scenarios)
    failed = [r.step_log() for r in results if r.status != "passed"]
    assert not failed, "\n\n".join(failed)
    assert len(results) == len(scenarios)


def test_parse_without_a_file() -> None:
    [scenario] = parse_scenarios("name: X\nhandsets: {a: lab-alice}\nsteps: [{register: a}]\n")
    assert scenario.file == "<scenario>"
