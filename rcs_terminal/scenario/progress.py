"""Live progress and the closing summary of a run, with Rich, on standard error.

Standard output belongs to the reports (``--json -``); everything a person watches goes to
stderr: one line per finished scenario (``PASS``/``FAIL``/``ERROR`` with its id, title and
time), the failing step with what was expected and seen right under a failed one, a spinner
with the counts while a terminal is attached, and a summary table at the end. Text from the
network (messages, reasons) is shown as plain :class:`rich.text.Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rcs_terminal.scenario.model import ScenarioDef
from rcs_terminal.scenario.results import ScenarioResult, StepResult
from rcs_terminal.scenario.runner import Listener

__all__ = ["RichProgress"]

_STYLE = {"passed": "green", "failed": "red", "error": "magenta", "skipped": "yellow"}
_WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


class RichProgress(Listener):
    """Shows a run's progress on stderr.

    Args:
        total: how many scenarios will run.
        console: where to write (stderr by default).
        verbose: also show every step as it finishes.
    """

    def __init__(
        self, total: int, *, console: Console | None = None, verbose: bool = False
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.total = total
        self.verbose = verbose
        self.done = 0
        self.counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
        self._status: Any = None
        if self.console.is_terminal:
            self._status = self.console.status(self._status_text())
            self._status.start()

    def _status_text(self) -> str:
        return (
            f"{self.done}/{self.total} scenarios: {self.counts['passed']} passed, "
            f"{self.counts['failed']} failed, {self.counts['error']} errors"
        )

    def scenario_started(self, scenario: ScenarioDef) -> None:
        if self._status is not None:
            self._status.update(f"{self._status_text()} | running {scenario.id}")

    def step_finished(self, scenario: ScenarioDef, step: StepResult) -> None:
        if self.verbose:
            line = Text(f"    {scenario.id} ")
            line.append(f"{step.index}. {step.title}")
            line.append(f"  [{step.status}]", style=_STYLE.get(step.status, ""))
            self.console.print(line)

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.done += 1
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        line = Text()
        line.append(f"{_WORD[result.status]:<5} ", style=f"bold {_STYLE[result.status]}")
        line.append(f"{result.id} ", style="bold")
        line.append(result.name)
        line.append(f"  ({result.duration:.1f} s)", style="dim")
        self.console.print(line)
        if result.status in ("failed", "error"):
            step = result.failed_step
            detail = Text("      ")
            if step is not None:
                detail.append(f"step {step.index} ({step.kind}) {step.title}: ", style="bold")
                detail.append(step.message)
                if step.expected:
                    detail.append(f"\n      expected: {step.expected}")
                if step.actual:
                    detail.append(f"\n      actual:   {step.actual}")
            else:
                detail.append(result.message)
            self.console.print(detail)
        if self._status is not None:
            self._status.update(self._status_text())

    def finish(self, results: Sequence[ScenarioResult], *, interrupted: bool = False) -> None:
        """Stop the spinner and print the summary."""
        if self._status is not None:
            self._status.stop()
            self._status = None
        table = Table(title="Scenario run", title_justify="left", show_edge=False)
        for column in ("passed", "failed", "errors", "skipped", "total", "time"):
            table.add_column(column, justify="right")
        counts = {s: sum(1 for r in results if r.status == s) for s in _WORD}
        table.add_row(
            Text(str(counts["passed"]), style="green"),
            Text(str(counts["failed"]), style="red" if counts["failed"] else ""),
            Text(str(counts["error"]), style="magenta" if counts["error"] else ""),
            str(counts["skipped"]),
            str(len(results)),
            f"{sum(r.duration for r in results):.1f} s",
        )
        self.console.print(table)
        if interrupted:
            self.console.print(
                Text("interrupted: the reports hold the scenarios that finished", style="yellow")
            )
