"""``rcs-terminal demo`` end to end, in a real terminal: tmux at 120x40.

The installed command (the virtualenv's ``rcs-terminal``, next to ``sys.executable``) runs in
a detached tmux session with its own data directory. The test reads the screen as a user
would: both SIMs registered in the status bar; Enter opens the demo chatbot's conversation
(first in the list); "hi" and Enter; the welcome card's title (read from the bot's script)
on screen; Ctrl+Q. The process then ends with status 0, and its protocol trace (``--trace``)
holds the de-registration of both SIMs. Every wait looks at the screen until what it waits
for is there, within one overall deadline.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from .conftest import poll

if TYPE_CHECKING:
    from .conftest import Tmux

WIDTH, HEIGHT = 120, 40
BUDGET = 60.0
"""Seconds the whole run may take, start to exit."""

_BOX = re.compile(r"[\s\u2500-\u257f\u2580-\u259f]+")
"""Whitespace and box-drawing/block characters: what wraps and frames text on screen."""


def squash(text: str) -> str:
    """``text`` without whitespace and frame characters, so wrapped text still matches."""
    return _BOX.sub("", text)


def welcome_title() -> str:
    """The title of the demo bot's welcome card, from its script."""
    script = yaml.safe_load((files("rcs_terminal.lab.bots") / "demo.yaml").read_text("utf-8"))
    return str(script["replies"]["welcome"][0]["card"]["title"])


def both_registered(screen: str) -> bool:
    status_bar = screen.splitlines()[0] if screen else ""
    return status_bar.count("registered") == 2 and "SIM1" in status_bar and "SIM2" in status_bar


def deregistered_sims(trace: Path) -> set[int]:
    """The SIMs whose REGISTER with expiry 0 (de-registration) is in the trace."""
    found: set[int] = set()
    for line in trace.read_text("utf-8").splitlines():
        record = json.loads(line)
        data = str(record.get("data", ""))
        if record.get("direction") == "out" and data.startswith("REGISTER "):
            head = data.split("\r\n\r\n", 1)[0].lower()
            if re.search(r"^expires:\s*0\s*$", head, re.M) or ";expires=0" in head:
                found.add(int(record["sim"]))
    return found


def replied_after_hi(title: str) -> Callable[[str], bool]:
    """Whether the screen shows our "hi" bubble with ``title`` below it (the reply)."""

    def seen(screen: str) -> bool:
        lines = screen.splitlines()
        mine = [i for i, line in enumerate(lines) if line.strip() == "hi"]
        return bool(mine) and squash(title) in squash("\n".join(lines[mine[-1] + 1 :]))

    return seen


def test_demo_chats_with_the_demo_bot_and_quits_cleanly(tmux: Tmux, tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("rcs-terminal")
    if not command.exists():
        pytest.fail(f"{command} is missing: install the project (pip install -e .)")
    trace = tmp_path / "trace.jsonl"
    home = tmp_path / "home"
    status = tmp_path / "status"
    deadline = time.monotonic() + BUDGET
    demo = shlex.join([str(command), "demo", "--trace", str(trace)])
    tmux.start(
        f"{demo}; echo $? > {shlex.quote(str(status))}",
        width=WIDTH,
        height=HEIGHT,
        env={"RCS_TERMINAL_HOME": str(home), "TERM": "xterm-256color"},
    )

    tmux.wait_for("both SIMs registered", both_registered, deadline=deadline)
    tmux.wait_for("the demo bot's conversation", lambda s: "BOT" in s, deadline=deadline)
    tmux.keys("Enter")
    tmux.wait_for("the chat screen", lambda s: "Message via SIM1" in s, deadline=deadline)
    tmux.keys("hi", literal=True)
    tmux.keys("Enter")
    tmux.wait_for("the welcome card", replied_after_hi(welcome_title()), deadline=deadline)

    tmux.keys("C-q")
    poll("the demo to end", lambda: status.exists() and status.read_text().strip() != "",
         deadline=deadline, screen=tmux.screen)  # fmt: skip
    assert status.read_text().strip() == "0", tmux.screen()
    poll("the pane to close", tmux.pane_dead, deadline=deadline, screen=tmux.screen)
    assert deregistered_sims(trace) == {1, 2}
    assert not (home / "lab.json").exists(), "the demo withdraws its lab.json"
