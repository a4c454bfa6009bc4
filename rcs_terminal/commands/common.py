"""What every command shares: the one place errors are shown, and the exit-code contract.

Errors from the project's hierarchy are shown by :func:`_fail` as a panel on stderr and map
to the documented :class:`~rcs_terminal.exit_codes.ExitCode`. Commands import their
machinery inside their bodies, so that ``rcs-terminal --help`` stays fast and the headless
commands never import Textual.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from rcs_terminal import __version__
from rcs_terminal.errors import (
    NetworkError,
    NotBuiltError,
    ParseError,
    ProfileError,
    RcsTerminalError,
    ScenarioError,
)
from rcs_terminal.exit_codes import ExitCode

if TYPE_CHECKING:
    from rcs_terminal.domain.profile import Sim
    from rcs_terminal.engine.labinfo import LabInfo

F = TypeVar("F", bound=Callable[..., Any])


def exit_code_for(error: RcsTerminalError) -> ExitCode:
    """Map an error of the project's hierarchy to the exit-code contract."""
    if isinstance(error, NotBuiltError):
        return ExitCode.NOT_BUILT
    if isinstance(error, ProfileError | ScenarioError | ParseError):
        return ExitCode.INVALID_INPUT
    if isinstance(error, NetworkError):
        return ExitCode.INFRASTRUCTURE
    return ExitCode.FAILED


def _fail(error: RcsTerminalError) -> NoReturn:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    body = Text(error.message)
    if error.hint:
        body.append("\n\n")
        body.append(error.hint, style="dim")
    Console(stderr=True).print(Panel(body, title=error.title, title_align="left", style="red"))
    sys.exit(int(exit_code_for(error)))


def handles_errors(func: F) -> F:
    """Decorate a command so project errors and Ctrl-C end with the contract's exit code."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RcsTerminalError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


def not_built(command: str, issue: str) -> NoReturn:
    """Refuse a command of the contract that is not implemented yet (no fake output)."""
    raise NotBuiltError(
        f"`rcs-terminal {command}` is not implemented in version {__version__}.",
        hint=f"It is planned ({issue}). Nothing was done.",
    )


async def find_lab(lab_url: str | None, sims: Iterable[Sim]) -> LabInfo | None:
    """The lab a command's SIMs use: ``--lab URL`` when given, else a running
    ``rcs-terminal lab`` (its ``lab.json``) when any of the SIMs provisions from the lab."""
    from rcs_terminal.domain.profile import LAB
    from rcs_terminal.engine.labinfo import LabInfo, fetch_lab_info

    if lab_url is not None:
        return await fetch_lab_info(lab_url)
    if any(s.provisioning is not None and s.provisioning.url == LAB for s in sims):
        return LabInfo.load()
    return None


def raise_start_error(error: BaseException | None) -> None:
    """Raise what a SIM's start returned: a refused registration as a SIP refusal (exit 1),
    anything else as it is."""
    from rcs_terminal.engine.registration import RegistrationFailed

    if isinstance(error, RegistrationFailed) and error.refused:
        raise RcsTerminalError(error.message, title="Registration refused", hint=error.hint)
    if error is not None:
        raise error
