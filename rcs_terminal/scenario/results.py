"""What a run produced: step and scenario results, and the failure that carries the diff.

A step either passes, fails (an expectation did not hold: :class:`ExpectationFailed`, with
what was expected and what was seen), errors (the infrastructure broke: the lab did not
start, the network could not be reached) or is skipped (an earlier step failed). A scenario's
status is the worst of its steps'. Results are plain frozen dataclasses with ``to_json`` so
worker processes can send them to the parent and the reports can write them; nothing in them
depends on timing except the ``duration`` fields, which the deterministic step log leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ExpectationFailed",
    "InfrastructureError",
    "ScenarioResult",
    "Status",
    "StepResult",
    "exit_code",
]

Status = Literal["passed", "failed", "error", "skipped"]
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


class ExpectationFailed(AssertionError):
    """An expectation of a scenario (or of a Python API call) did not hold.

    Attributes:
        message: what failed, in one sentence.
        expected: what was expected, in words.
        actual: what happened instead, in words.
    """

    def __init__(self, message: str, *, expected: str = "", actual: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual

    def __str__(self) -> str:
        text = self.message
        if self.expected:
            text += f"\n  expected: {self.expected}"
        if self.actual:
            text += f"\n  actual:   {self.actual}"
        return text


class InfrastructureError(Exception):
    """The run could not be carried out (lab failed to start, network unreachable)."""


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step.

    Attributes:
        index: the step number, from 1.
        kind: the step kind.
        title: the step in words (deterministic: no times, ports or random ids).
        status: passed, failed, error or skipped.
        message: why it failed (empty when it passed).
        expected: what was expected, when it failed.
        actual: what was seen, when it failed.
        duration: seconds it took.
    """

    index: int
    kind: str
    title: str
    status: Status
    message: str = ""
    expected: str = ""
    actual: str = ""
    duration: float = 0.0

    def log_line(self) -> str:
        """The step's line in the deterministic step log."""
        line = f"{self.index:>3}. [{self.status}] {self.title}"
        if self.status in ("failed", "error"):
            line += f"\n       {self.message}"
            if self.expected:
                line += f"\n       expected: {self.expected}"
            if self.actual:
                line += f"\n       actual:   {self.actual}"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "duration": round(self.duration, 3),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class ScenarioResult:
    """The outcome of one scenario.

    Attributes:
        id: the scenario's id.
        name: its title.
        file: its file.
        suite: its suite.
        checks: the behaviour it checks.
        status: the worst status of its steps (error if it could not start).
        steps: the step results, in order.
        message: the first failure's message, or why it could not run.
        duration: seconds it took.
        lint: lint findings of received payloads (``message id: finding``).
        trace_files: trace files written for it (``--trace-dir``).
        trace_text: the trace's first lines (kept for failed scenarios' reports).
    """

    id: str
    name: str
    file: str
    suite: str
    checks: str | None
    status: Status
    steps: Sequence[StepResult] = ()
    message: str = ""
    duration: float = 0.0
    lint: Sequence[str] = ()
    trace_files: Sequence[str] = ()
    trace_text: str = field(default="", repr=False)

    @property
    def failed_step(self) -> StepResult | None:
        """The first step that failed or errored."""
        return next((s for s in self.steps if s.status in ("failed", "error")), None)

    def step_log(self) -> str:
        """The deterministic step log: the same run gives the same text."""
        head = f"{self.id}: {self.name} [{self.status}]"
        lines = [head] + [step.log_line() for step in self.steps]
        if self.message and not self.failed_step:
            lines.append(f"     {self.message}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "file": self.file,
            "suite": self.suite,
            "checks": self.checks,
            "status": self.status,
            "message": self.message,
            "duration": round(self.duration, 3),
            "steps": [s.to_json() for s in self.steps],
            "lint": list(self.lint),
            "trace_files": list(self.trace_files),
            "trace_text": self.trace_text,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScenarioResult:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["steps"] = tuple(StepResult.from_json(s) for s in data.get("steps", ()))
        values["lint"] = tuple(data.get("lint", ()))
        values["trace_files"] = tuple(data.get("trace_files", ()))
        return cls(**values)


def worst(statuses: Sequence[Status]) -> Status:
    """The worst of some statuses (``passed`` for none)."""
    return max(statuses, key=_RANK.__getitem__, default="passed")


def exit_code(results: Sequence[ScenarioResult], *, interrupted: bool = False) -> int:
    """The ``run`` command's exit code for these results (see :mod:`rcs_terminal.exit_codes`):
    130 when interrupted, 3 when any scenario hit an infrastructure error, 1 when any
    failed, else 0."""
    from rcs_terminal.exit_codes import ExitCode

    if interrupted:
        return int(ExitCode.INTERRUPTED)
    statuses = {r.status for r in results}
    if "error" in statuses:
        return int(ExitCode.INFRASTRUCTURE)
    if "failed" in statuses:
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)
