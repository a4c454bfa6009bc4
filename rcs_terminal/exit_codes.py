"""Exit codes: the contract every headless command keeps.

Scripts and CI pipelines branch on these, so they never change meaning.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of ``rcs-terminal``."""

    OK = 0
    """Everything passed / the command did what was asked."""
    FAILED = 1
    """The command ran but the outcome is negative (a scenario failed, lint findings,
    a SIP request was refused)."""
    INVALID_INPUT = 2
    """A profile, scenario, payload file or command-line argument is invalid."""
    INFRASTRUCTURE = 3
    """The network or a server could not be used (unreachable, refused, lab failed)."""
    NOT_BUILT = 4
    """The command is part of the contract but not implemented in this version."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C / SIGINT."""
