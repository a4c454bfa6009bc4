"""``rcs-terminal run``: load, select, run, report, and the exit code.

The command is a contract for CI (:mod:`rcs_terminal.exit_codes`):

====  ===========================================================================
code  meaning
====  ===========================================================================
0     every selected scenario passed
1     at least one scenario failed (an expectation did not hold)
2     a scenario or profile file is invalid, an option is wrong, nothing selected
3     infrastructure: the lab did not start, the network could not be reached
130   interrupted (Ctrl-C); the reports hold the scenarios that finished
====  ===========================================================================

Standard output carries nothing but a report asked for with ``-`` (``--json -``); progress,
the summary and errors go to standard error.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from rcs_terminal.errors import ScenarioError
from rcs_terminal.scenario.model import ScenarioDef, load_scenarios
from rcs_terminal.scenario.results import ScenarioResult, exit_code
from rcs_terminal.scenario.variables import parse_assignments

__all__ = ["builtin_suites", "run_command", "select", "suite_dir"]


def suite_dir(name: str) -> Path:
    """The folder of a built-in suite.

    Raises:
        ScenarioError: there is no such suite.
    """
    root = Path(str(resources.files("rcs_terminal.scenario") / "suites"))
    folder = root / name
    if not name or "/" in name or not folder.is_dir():
        known = ", ".join(builtin_suites()) or "none"
        raise ScenarioError(f"there is no built-in suite {name!r} (built-in: {known})")
    return folder


def builtin_suites() -> list[str]:
    """The names of the built-in suites."""
    root = Path(str(resources.files("rcs_terminal.scenario") / "suites"))
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def select(scenarios: Sequence[ScenarioDef], pattern: str | None) -> list[ScenarioDef]:
    """The scenarios ``-k PATTERN`` selects: a glob on the id (``reg-*``), or else a
    case-insensitive part of the id, the title, a tag or the suite; ``not X`` inverts."""
    if not pattern:
        return list(scenarios)
    text = pattern.strip()
    negate = text.lower().startswith("not ")
    if negate:
        text = text[4:].strip()
    lowered = text.lower()

    def hit(s: ScenarioDef) -> bool:
        if any(ch in text for ch in "*?["):
            return fnmatch.fnmatchcase(s.id, text)
        fields = [s.id, s.name, s.suite, *s.tags]
        return any(lowered in f.lower() for f in fields)

    return [s for s in scenarios if hit(s) != negate]


def run_command(
    paths: Sequence[str],
    *,
    suites: Sequence[str] = (),
    junit: str | None = None,
    json_out: str | None = None,
    trace_dir: str | None = None,
    variables: Sequence[str] = (),
    pattern: str | None = None,
    fail_fast: bool = False,
    jobs: int = 1,
    verbose: bool = False,
    list_only: bool = False,
) -> int:
    """Run scenarios as the ``run`` command does and return the exit code.

    Raises:
        ScenarioError: invalid files, options, or nothing to run (exit code 2).
    """
    from rcs_terminal.scenario.progress import RichProgress
    from rcs_terminal.scenario.report import write_json, write_junit
    from rcs_terminal.scenario.runner import Runner, RunOptions

    try:
        assigned = parse_assignments(list(variables))
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    sources: list[str | Path] = [*paths, *(suite_dir(name) for name in suites)]
    if not sources:
        raise ScenarioError(
            "no scenarios given",
            hint="Name scenario files or folders, or a built-in suite with --suite up24.",
        )
    chosen = select(load_scenarios(sources, assigned), pattern)
    if not chosen:
        raise ScenarioError(f"no scenario matches -k {pattern!r}")
    if list_only:
        from rich.console import Console
        from rich.text import Text

        console = Console(stderr=True, highlight=False)
        for scenario in chosen:
            console.print(Text(f"{scenario.id}  {scenario.name}  [{scenario.file}]"))
        return 0
    progress = RichProgress(len(chosen), verbose=verbose)
    options = RunOptions(
        trace_dir=Path(trace_dir) if trace_dir else None,
        fail_fast=fail_fast,
        jobs=max(1, jobs),
    )
    collected: list[ScenarioResult] = []

    original = progress.scenario_finished

    def finished(result: ScenarioResult) -> None:
        collected.append(result)
        original(result)

    progress.scenario_finished = finished  # type: ignore[method-assign]
    runner = Runner(options, progress)
    interrupted = False
    try:
        results = asyncio.run(runner.run_all(chosen))
    except KeyboardInterrupt:
        interrupted = True
        order = {s.id: i for i, s in enumerate(chosen)}
        results = sorted(collected, key=lambda r: order.get(r.id, 0))
    progress.finish(results, interrupted=interrupted)
    if junit:
        write_junit(junit, results)
    if json_out:
        write_json(json_out, results, interrupted=interrupted)
    return exit_code(results, interrupted=interrupted)
