"""End-to-end fixtures: the real ``rcs-terminal`` command in a real terminal (tmux).

:class:`Tmux` drives one private tmux server (its own socket, no user configuration), so a
test never touches the user's tmux sessions: start a command in a detached session of a
fixed size, read the screen (``capture-pane``), type (``send-keys``), and wait on what the
screen shows with a bounded deadline. The server is killed after the test.

Without tmux the tests are skipped, except under ``CI=true``, where a missing tmux fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping

import pytest

SESSION = "e2e"


class Tmux:
    """One private tmux server with one session (see the module docstring).

    Args:
        binary: the tmux executable.
    """

    def __init__(self, binary: str) -> None:
        self.socket = f"rcs-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._base = [binary, "-L", self.socket, "-f", os.devnull]
        # the server's environment is ours minus a fixed terminal size: programs in the pane
        # must see the pane's size (COLUMNS/LINES would override it)
        self._env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

    def run(self, *args: str, check: bool = True) -> str:
        """Run a tmux command on the private server; returns its output."""
        done = subprocess.run(
            [*self._base, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env=self._env,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(
        self, command: str, *, width: int, height: int, env: Mapping[str, str] | None = None
    ) -> None:
        """Run ``command`` (a shell command line) in a detached ``width`` x ``height``
        session; the pane stays after the command ends (its last screen can be read).

        tmux does not always reap a finished pane's process at once (``pane_dead_status``
        may stay empty for a while), so a command whose exit status matters should write
        it somewhere itself (``cmd; echo $? > file``)."""
        extra = [arg for name, value in (env or {}).items() for arg in ("-e", f"{name}={value}")]
        self.run(
            "new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height),
            *extra, command, ";", "set-option", "-g", "remain-on-exit", "on",
        )  # fmt: skip

    def screen(self) -> str:
        """What the pane shows now, as plain text lines."""
        return self.run("capture-pane", "-p", "-t", SESSION, check=False)

    def keys(self, *keys: str, literal: bool = False) -> None:
        """Type ``keys`` (tmux key names such as ``Enter`` and ``C-q``, or literal text)."""
        self.run("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys)

    def pane(self, field: str) -> str:
        """A pane variable (``pane_dead``, ``pane_dead_status``...)."""
        return self.run("display-message", "-p", "-t", SESSION, f"#{{{field}}}").strip()

    def pane_dead(self) -> bool:
        """Whether the command in the pane has ended (the pane stays: remain-on-exit)."""
        return self.run("display-message", "-p", "-t", SESSION, "#{pane_dead}").strip() == "1"

    def wait_for(self, what: str, seen: Callable[[str], bool], *, deadline: float) -> str:
        """Read the screen until ``seen(screen)`` holds; returns that screen.

        Raises:
            AssertionError: ``deadline`` (a ``time.monotonic()`` value) passed first; the
                message holds the last screen.
        """
        found: list[str] = []

        def check() -> bool:
            found[:] = [self.screen()]
            return seen(found[0])

        poll(what, check, deadline=deadline, screen=lambda: found[0] if found else "")
        return found[0]

    def kill(self) -> None:
        """Stop the private server and everything in it."""
        self.run("kill-server", check=False)


def poll(
    what: str,
    done: Callable[[], bool],
    *,
    deadline: float,
    screen: Callable[[], str] | None = None,
    interval: float = 0.1,
) -> None:
    """Look at ``done()`` until it holds (a look at the thing itself, every ``interval``).

    Raises:
        AssertionError: ``deadline`` (a ``time.monotonic()`` value) passed first; the message
            holds the last screen when ``screen`` gives it.
    """
    while not done():
        if time.monotonic() > deadline:
            shown = f"; the screen was:\n{screen()}" if screen is not None else ""
            raise AssertionError(f"timed out waiting for {what}{shown}")
        time.sleep(interval)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server, killed after the test."""
    binary = shutil.which("tmux")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("tmux is required for the end-to-end tests under CI (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    server = Tmux(binary)
    try:
        yield server
    finally:
        server.kill()
