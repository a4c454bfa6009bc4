"""Running scenarios: the lab, the handsets, the steps, isolation and concurrency.

One scenario runs like this (:meth:`Runner.run_one`):

1. **Isolation.** The scenario gets a fresh rcs-terminal home (``RCS_TERMINAL_HOME``: the
   message store, provisioning caches, USIM sequence numbers, bot-info cache), deleted
   afterwards, so nothing one scenario did can make another pass or fail.
2. **The lab**, unless ``lab: false``: its own :class:`~rcs_terminal.lab.lab.Lab` on loopback
   (or the worker's shared one for ``lab: {share: true}``), serving the lab SIMs of the
   built-in profiles and of the scenario's profile files, with the scenario's faults on. A
   lab that does not start is an infrastructure error (exit code 3), not a failure.
3. **The handsets** (:class:`~rcs_terminal.scenario.api.ScenarioHandset`), not started: the
   steps decide when to provision and register.
4. **The steps**, in order (:mod:`.steps`). The first failing step fails the scenario; the
   rest are skipped. Every step is bounded (its own waits, and a guard of
   ``max(60, 3 * timeout)`` seconds around it) so a run always ends.
5. **Lint**: every received payload was linted (:mod:`.observe`); ``lint.fail_on`` decides
   whether findings fail the scenario (an extra ``lint`` step in the log).
6. **Teardown**: handsets stopped (de-registered), traces written (``--trace-dir``), lab
   stopped, home deleted.

The step log is deterministic (titles from the file, never times or generated ids).

Concurrency: with ``jobs > 1`` scenarios run in worker processes (:mod:`.worker`), each with
its own event loop and home, fed one scenario at a time (the slow ones don't hold up a
queue); results come back as JSON lines and are reported in the files' order whatever
order they finish in. With ``jobs == 1`` they run one after the other in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcs_terminal.errors import NetworkError, RcsTerminalError
from rcs_terminal.scenario.api import ScenarioHandset
from rcs_terminal.scenario.lab_control import apply_fault
from rcs_terminal.scenario.model import ScenarioDef, StepDef
from rcs_terminal.scenario.results import (
    ExpectationFailed,
    ScenarioResult,
    StepResult,
    worst,
)
from rcs_terminal.scenario.steps import EXECUTORS, StepContext, step_title

__all__ = ["Listener", "RunOptions", "Runner", "isolated_home"]

TRACE_TEXT_LIMIT = 64 * 1024
"""Most characters of trace kept in a failed scenario's report (JUnit system-out)."""


@dataclass
class RunOptions:
    """How a run goes.

    Attributes:
        trace_dir: write each scenario's traces (JSON lines) under this folder.
        fail_fast: stop after the first scenario that does not pass.
        jobs: scenarios at once (worker processes when above 1).
        keep_homes: keep each scenario's data folder (for debugging).
    """

    trace_dir: Path | None = None
    fail_fast: bool = False
    jobs: int = 1
    keep_homes: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_dir": str(self.trace_dir) if self.trace_dir else None,
            "keep_homes": self.keep_homes,
        }


class Listener:
    """Progress callbacks (the default does nothing)."""

    def scenario_started(self, scenario: ScenarioDef) -> None:
        """A scenario begins."""

    def step_finished(self, scenario: ScenarioDef, step: StepResult) -> None:
        """A step ended."""

    def scenario_finished(self, result: ScenarioResult) -> None:
        """A scenario ended."""


@contextlib.contextmanager
def isolated_home(prefix: str, *, keep: bool = False) -> Iterator[Path]:
    """Point ``RCS_TERMINAL_HOME`` at a fresh folder for the duration (one scenario at a
    time per process)."""
    home = Path(tempfile.mkdtemp(prefix=f"rcs-scenario-{prefix[:40]}-"))
    before = os.environ.get("RCS_TERMINAL_HOME")
    os.environ["RCS_TERMINAL_HOME"] = str(home)
    try:
        yield home
    finally:
        if before is None:
            os.environ.pop("RCS_TERMINAL_HOME", None)
        else:
            os.environ["RCS_TERMINAL_HOME"] = before
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


@dataclass
class _Shared:
    lab: Any = None
    profiles: tuple[str, ...] = ()


@dataclass
class Runner:
    """Runs scenarios (see the module docstring).

    Attributes:
        options: how the run goes.
        listener: progress callbacks.
    """

    options: RunOptions = field(default_factory=RunOptions)
    listener: Listener = field(default_factory=Listener)
    _shared: _Shared = field(default_factory=_Shared)

    # ------------------------------------------------------------------ many

    async def run_all(self, scenarios: Sequence[ScenarioDef]) -> list[ScenarioResult]:
        """Run ``scenarios`` and return their results in the given order."""
        try:
            if (
                self.options.jobs > 1
                and len(scenarios) > 1
                and all(Path(s.file).is_file() for s in scenarios)
            ):
                from rcs_terminal.scenario.worker import run_in_workers

                return await run_in_workers(scenarios, self.options, self.listener)
            results: list[ScenarioResult] = []
            for scenario in scenarios:
                result = await self.run_one(scenario)
                results.append(result)
                if self.options.fail_fast and result.status != "passed":
                    break
            return results
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop the shared lab, if one was started."""
        if self._shared.lab is not None:
            with contextlib.suppress(Exception):
                await self._shared.lab.stop()
            self._shared.lab = None

    # ------------------------------------------------------------------ one

    async def run_one(self, scenario: ScenarioDef) -> ScenarioResult:
        """Run one scenario in a fresh home (see the module docstring)."""
        self.listener.scenario_started(scenario)
        started = time.perf_counter()
        with isolated_home(scenario.id, keep=self.options.keep_homes):
            result = await self._run(scenario)
        result = _with_duration(result, time.perf_counter() - started)
        self.listener.scenario_finished(result)
        return result

    async def _run(self, scenario: ScenarioDef) -> ScenarioResult:
        lab = None
        try:
            lab = await self._lab_for(scenario)
        except Exception as exc:  # the lab is infrastructure: any failure is exit 3
            return _result(scenario, "error", message=f"the lab did not start: {_text(exc)}")
        ctx = StepContext(scenario, {}, lab=lab)
        steps: list[StepResult] = []
        try:
            for fault in scenario.lab.faults:
                apply_fault(ctx, fault)
            for name, handset in scenario.handsets.items():
                spec = handset.spec
                ctx.handsets[name] = ScenarioHandset(
                    handset.profile,
                    name=name,
                    lab=lab,
                    otp=spec.otp,
                    accept_terms=spec.accept_terms,
                    max_attempts=spec.max_attempts,
                    displayed=spec.displayed,
                    displayed_delay=spec.displayed_delay,
                    lint=scenario.lint.operator,
                )
            failed = False
            for step in scenario.steps:
                if failed:
                    steps.append(StepResult(step.index, step.kind, step_title(step), "skipped"))
                    continue
                outcome = await self._step(ctx, step)
                steps.append(outcome)
                self.listener.step_finished(scenario, outcome)
                failed = outcome.status in ("failed", "error")
            lint_lines, lint_step = _lint(ctx, len(scenario.steps) + 1)
            if lint_step is not None and not failed:
                steps.append(lint_step)
                self.listener.step_finished(scenario, lint_step)
        except ExpectationFailed as exc:
            return _result(scenario, "failed", steps, message=str(exc))
        finally:
            await _stop_handsets(ctx)
            trace_files = self._write_traces(ctx)
            if lab is not None and lab is not self._shared.lab:
                with contextlib.suppress(Exception):
                    await lab.stop()
            elif lab is not None:
                _reset_shared(lab)
        status = worst([s.status for s in steps if s.status != "skipped"])
        first = next((s for s in steps if s.status in ("failed", "error")), None)
        return ScenarioResult(
            id=scenario.id,
            name=scenario.name,
            file=scenario.file,
            suite=scenario.suite,
            checks=scenario.checks,
            status=status,
            steps=tuple(steps),
            message=f"step {first.index} ({first.kind}): {first.message}" if first else "",
            lint=tuple(lint_lines),
            trace_files=tuple(trace_files),
            trace_text=_trace_text(ctx) if status != "passed" else "",
        )

    async def _step(self, ctx: StepContext, step: StepDef) -> StepResult:
        title = step_title(step)
        for name, handset in ctx.handsets.items():
            ctx.event_marks[name] = handset.mark()
            records = handset.trace.records()
            ctx.trace_marks[name] = records[-1].seq if records else 0
        if ctx.lab is not None:
            lab_records = ctx.lab.trace.records()
            ctx.trace_marks["lab"] = lab_records[-1].seq if lab_records else 0
        guard = max(60.0, 3 * ctx.scenario.timeout)
        started = time.perf_counter()
        status: str = "passed"
        message = expected = actual = ""
        try:
            await asyncio.wait_for(EXECUTORS[step.kind](ctx, step.args), guard)
        except ExpectationFailed as exc:
            status, message, expected, actual = "failed", exc.message, exc.expected, exc.actual
        except TimeoutError:
            status, message = "failed", f"the step did not finish within {guard:g} s"
        except NetworkError as exc:
            status, message = "error", f"network: {exc.message}"
        except RcsTerminalError as exc:
            status, message = "failed", exc.message
        except Exception as exc:  # an engine bug: reported, and the run goes on
            status = "failed"
            message = f"internal error: {_text(exc)}"
            actual = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return StepResult(
            step.index,
            step.kind,
            title,
            status,  # type: ignore[arg-type]
            message,
            expected,
            actual,
            time.perf_counter() - started,
        )

    async def _lab_for(self, scenario: ScenarioDef) -> Any:
        if not scenario.lab.enabled:
            return None
        from rcs_terminal.lab.lab import Lab
        from rcs_terminal.lab.subscribers import default_directory

        files = tuple(
            sorted(
                h.profile_ref for h in scenario.handsets.values() if Path(h.profile_ref).is_file()
            )
        )
        if scenario.lab.share:
            shared = self._shared
            if shared.lab is not None and set(files) <= set(shared.profiles):
                return shared.lab
            if shared.lab is not None:
                await shared.lab.stop()
            shared.profiles = tuple(sorted(set(files) | set(shared.profiles)))
            shared.lab = Lab(directory=default_directory(list(shared.profiles)))
            await shared.lab.start()
            return shared.lab
        options: dict[str, Any] = {}
        if scenario.lab.validity is not None:
            options["validity"] = scenario.lab.validity
        lab = Lab(directory=default_directory(list(files)), **options)
        await lab.start()
        return lab

    def _write_traces(self, ctx: StepContext) -> list[str]:
        folder = self.options.trace_dir
        if folder is None:
            return []
        target = Path(folder) / ctx.scenario.id
        target.mkdir(parents=True, exist_ok=True)
        written = []
        sources = {name: h.trace for name, h in ctx.handsets.items()}
        if ctx.lab is not None:
            sources["lab"] = ctx.lab.trace
        for name, recorder in sources.items():
            path = target / f"{name}.jsonl"
            with open(path, "w", encoding="utf-8") as stream:
                for record in recorder:
                    stream.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            written.append(str(path))
        return written


# ----------------------------------------------------------------------------- helpers


def _text(exc: BaseException) -> str:
    if isinstance(exc, RcsTerminalError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _result(
    scenario: ScenarioDef,
    status: Any,
    steps: Sequence[StepResult] = (),
    *,
    message: str = "",
) -> ScenarioResult:
    return ScenarioResult(
        id=scenario.id,
        name=scenario.name,
        file=scenario.file,
        suite=scenario.suite,
        checks=scenario.checks,
        status=status,
        steps=tuple(steps),
        message=message,
    )


def _with_duration(result: ScenarioResult, duration: float) -> ScenarioResult:
    from dataclasses import replace

    return replace(result, duration=duration)


def _lint(ctx: StepContext, index: int) -> tuple[list[str], StepResult | None]:
    lines: list[str] = []
    errors = warnings = 0
    for name, handset in ctx.handsets.items():
        for _, message_id in handset.arrivals:
            seen = handset._observe(message_id)
            if seen is None:
                continue
            for finding in seen.findings:
                lines.append(f"{name}: {message_id} from {seen.sender}: {finding}")
            errors += seen.lint_errors
            warnings += len(seen.findings) - seen.lint_errors
    fail_on = ctx.scenario.lint.fail_on
    bad = errors if fail_on == "error" else errors + warnings if fail_on == "warning" else 0
    if fail_on == "never" or not lines:
        return lines, None
    status = "failed" if bad else "passed"
    return (
        lines,
        StepResult(
            index,
            "lint",
            f"lint every received payload (fail on {fail_on})",
            status,  # type: ignore[arg-type]
            f"{bad} lint finding(s)" if bad else "",
            f"no {fail_on}s" if bad else "",
            "; ".join(lines[:5]) if bad else "",
        ),
    )


async def _stop_handsets(ctx: StepContext) -> None:
    async def stop(handset: ScenarioHandset) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(handset.stop(), 10)

    await asyncio.gather(*(stop(h) for h in ctx.handsets.values()))


def _reset_shared(lab: Any) -> None:
    with contextlib.suppress(Exception):
        lab.config_server.clear_faults()
        if lab.registrar is not None:
            lab.registrar.clear_faults()


def _trace_text(ctx: StepContext) -> str:
    """The scenario's traces as text (start lines, then the last messages in full)."""
    parts: list[str] = []
    size = 0
    for name, handset in ctx.handsets.items():
        records = handset.trace.records()
        header = f"===== trace of {name} ({len(records)} records)"
        lines = [header] + [f"{r.direction:>3} {r.protocol} {r.first_line}" for r in records]
        block = "\n".join(lines)
        tail = "\n".join(f"----- {r.direction} {r.protocol}\n{r.text}" for r in records[-6:])
        for piece in (block, tail):
            if size + len(piece) > TRACE_TEXT_LIMIT:
                parts.append("[trace cut: use --trace-dir for the whole trace]")
                return "\n".join(parts)
            parts.append(piece)
            size += len(piece)
    return "\n".join(parts)


ListenerFactory = Callable[[], Listener]


def default_jobs() -> int:
    """A sensible number of worker processes: the CPUs, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def python() -> str:
    """The interpreter workers run with."""
    return sys.executable
