"""The ``tui`` command: ``--fake`` starts the app on the fake handset; a real profile needs
the messaging engine, which this version lacks, and says so (exit code 4, no fake output)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rcs_terminal.cli import cli
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset


def test_tui_on_a_lab_profile_without_a_lab_says_how_to_start_one() -> None:
    result = CliRunner().invoke(cli, ["tui", "--profile", "demo"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "no lab is running" in result.output
    assert "rcs-terminal demo" in result.output


def test_tui_fake_runs_the_app_on_the_fake_handset(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[RcsTerminalApp] = []
    monkeypatch.setattr(RcsTerminalApp, "run", lambda self, *a, **k: started.append(self))
    result = CliRunner().invoke(cli, ["tui", "--fake", "--profile", "lab-alice"])
    assert result.exit_code == 0, result.output
    (app,) = started
    assert isinstance(app.handset, FakeHandset)
    assert app.handset.profile.name == "lab-alice"


def test_tui_fake_with_a_broken_profile_is_a_profile_error() -> None:
    result = CliRunner().invoke(cli, ["tui", "--fake", "--profile", "no-such-profile"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "no built-in profile" in result.output
