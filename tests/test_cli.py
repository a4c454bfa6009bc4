from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from rcs_terminal.cli import cli
from rcs_terminal.exit_codes import ExitCode


def test_help_lists_command_groups() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("tui", "demo", "lab", "provision", "register", "options", "send", "listen",
                 "run", "render", "lint", "profile"):
        assert name in result.output


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "rcs_terminal", "--version"],
                         capture_output=True, text=True, check=True)
    assert "rcs-terminal" in out.stdout


def test_error_kinds_map_to_the_exit_code_contract() -> None:
    from rcs_terminal.commands.common import exit_code_for
    from rcs_terminal.errors import NetworkError, NotBuiltError, ProfileError, RcsTerminalError

    assert exit_code_for(NotBuiltError("x")) == ExitCode.NOT_BUILT
    assert exit_code_for(ProfileError("x")) == ExitCode.INVALID_INPUT
    assert exit_code_for(NetworkError("x")) == ExitCode.INFRASTRUCTURE
    assert exit_code_for(RcsTerminalError("x")) == ExitCode.FAILED
