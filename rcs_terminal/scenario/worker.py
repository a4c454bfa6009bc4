"""Worker processes: scenarios run concurrently, each process with its own loop and home.

``rcs-terminal run --jobs N`` starts N workers (``python -m rcs_terminal.scenario.worker``).
Processes, not tasks, because a scenario's state lives in ``RCS_TERMINAL_HOME`` (a process
environment variable) and because two cores do twice the work. The protocol is JSON lines:

- the parent writes one job per line on the worker's stdin: ``{"file": path, "position": n,
  "variables": {...}, "options": {...}}``; it writes the next job when the previous one is
  done, so a slow scenario never holds a queue of others behind it;
- the worker answers on stdout with ``{"event": "step", "scenario": id, "step": {...}}`` for
  each finished step and ``{"event": "done", "result": {...}}`` at the end of a scenario
  (``{"event": "done", "error": "..."}`` if the file could not be read again);
- end of stdin ends the worker. Diagnostics go to the worker's stderr, which is the
  parent's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rcs_terminal.scenario.model import ScenarioDef, load_file
from rcs_terminal.scenario.results import ScenarioResult, StepResult
from rcs_terminal.scenario.runner import Listener, Runner, RunOptions, python

__all__ = ["main", "run_in_workers"]


class _Forward(Listener):
    """Sends progress to the parent."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def step_finished(self, scenario: ScenarioDef, step: StepResult) -> None:
        line = {"event": "step", "scenario": scenario.id, "step": step.to_json()}
        self.stream.write(json.dumps(line) + "\n")
        self.stream.flush()


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    out = sys.stdout
    runner: Runner | None = None
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        job = json.loads(line)
        options = RunOptions(
            trace_dir=Path(job["options"]["trace_dir"])
            if job["options"].get("trace_dir")
            else None,
            keep_homes=bool(job["options"].get("keep_homes")),
        )
        if runner is None or runner.options != options:
            if runner is not None:
                await runner.close()
            runner = Runner(options, _Forward(out))
        try:
            scenario = load_file(job["file"], job.get("variables") or {})[job["position"]]
        except Exception as exc:
            out.write(json.dumps({"event": "done", "error": str(exc)}) + "\n")
            out.flush()
            continue
        result = await runner.run_one(scenario)
        out.write(json.dumps({"event": "done", "result": result.to_json()}) + "\n")
        out.flush()
    if runner is not None:
        await runner.close()


def main() -> None:
    """Entry point of a worker process."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())


async def run_in_workers(
    scenarios: Sequence[ScenarioDef], options: RunOptions, listener: Listener
) -> list[ScenarioResult]:
    """Run ``scenarios`` in ``options.jobs`` worker processes; results in the given order."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(scenarios)):
        queue.put_nowait(index)
    results: dict[int, ScenarioResult] = {}
    stop = asyncio.Event()
    by_id = {s.id: s for s in scenarios}

    async def worker() -> None:
        process = await asyncio.create_subprocess_exec(
            python(),
            "-m",
            "rcs_terminal.scenario.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            while not stop.is_set():
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                scenario = scenarios[index]
                listener.scenario_started(scenario)
                job = {
                    "file": str(Path(scenario.file).resolve()),
                    "position": scenario.position,
                    "variables": dict(scenario.variables),
                    "options": options.to_json(),
                }
                process.stdin.write((json.dumps(job) + "\n").encode())
                await process.stdin.drain()
                result = await _collect(process.stdout, scenario, by_id, listener)
                results[index] = result
                listener.scenario_finished(result)
                if options.fail_fast and result.status != "passed":
                    stop.set()
        finally:
            if process.returncode is None:
                process.stdin.close()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()

    count = max(1, min(options.jobs, len(scenarios)))
    await asyncio.gather(*(worker() for _ in range(count)))
    return [results[i] for i in sorted(results)]


async def _collect(
    stream: asyncio.StreamReader,
    scenario: ScenarioDef,
    by_id: dict[str, ScenarioDef],
    listener: Listener,
) -> ScenarioResult:
    while True:
        line = await stream.readline()
        if not line:
            return _lost(scenario, "the worker process ended unexpectedly")
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("event") == "step":
            owner = by_id.get(message.get("scenario"), scenario)
            listener.step_finished(owner, StepResult.from_json(message["step"]))
        elif message.get("event") == "done":
            if "result" in message:
                return ScenarioResult.from_json(message["result"])
            return _lost(
                scenario, f"the worker could not load the scenario: {message.get('error')}"
            )


def _lost(scenario: ScenarioDef, why: str) -> ScenarioResult:
    return ScenarioResult(
        id=scenario.id,
        name=scenario.name,
        file=scenario.file,
        suite=scenario.suite,
        checks=scenario.checks,
        status="error",
        message=why,
    )


if __name__ == "__main__":
    main()
