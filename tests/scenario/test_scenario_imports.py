"""The headless front end never imports Textual (DESIGN.md: scenario/ is headless)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = """
import asyncio, sys
import rcs_terminal.scenario
from rcs_terminal.scenario import api, command, model, pytest_plugin, report, runner, steps
from rcs_terminal.scenario.model import parse_scenarios
from rcs_terminal.scenario.runner import Runner
TEXT = (
    "name: X\\nhandsets: {a: lab-alice}\\n"
    "steps: [{register: a}, {options: {target: 'sip:demo@botplatform.lab'}}]\\n"
)
[s] = parse_scenarios(TEXT)
[r] = asyncio.run(Runner().run_all([s]))
assert r.status == "passed", r.step_log()
bad = sorted(
    m for m in sys.modules if m == "textual" or m.startswith(("textual.", "rcs_terminal.ui"))
)
print("LEAKED" if bad else "CLEAN", bad)
"""


def test_scenario_never_imports_textual(tmp_path: Path) -> None:
    env = {"RCS_TERMINAL_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("CLEAN"), out.stdout
