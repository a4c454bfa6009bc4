"""The pytest plugin's fixtures and the Python API, used the way a test team would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TEST = """
import pytest
from rcs_terminal.scenario.results import ExpectationFailed

DEMO = "sip:demo@botplatform.lab"


async def test_demo_bot(handset_factory):
    alice = await handset_factory("lab-alice")
    sent = await alice.send(DEMO, "hi")
    card = await alice.expect_message(sender=DEMO, kind="card", within=10)
    assert card.observed.card.content.title.startswith("Welcome")
    await card.tap("Card layouts")
    await alice.expect_message(sender=DEMO, text={"contains": "orientations"})
    await sent.wait_for("delivered", "displayed")
    with pytest.raises(ExpectationFailed):
        await alice.expect_message(sender=DEMO, kind="carousel", within=0.3)


async def test_two_people(handset_factory, lab):
    alice = await handset_factory("lab-alice")
    bob = await handset_factory("lab-bob", displayed="auto")
    sent = await alice.send(bob.sim().tel_uri, "hello")
    await bob.expect_message(sender=alice.sim().tel_uri, text="hello")
    await sent.wait_for("displayed")
    assert lab.lab.registrar is not None
"""


def test_plugin_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_team.py").write_text(TEST, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "rcs_terminal.scenario.pytest_plugin",
            "-o",
            "asyncio_mode=auto",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_team.py"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "RCS_TERMINAL_HOME": str(tmp_path / "home"),
            "PYTHONPATH": str(root),
        },
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout
