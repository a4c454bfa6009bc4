"""``rcs-terminal demo``: the bundled lab, the dual-SIM demo handset and the TUI, in one process.

:func:`run_demo` is the whole demo, start to end:

1. unless ``keep``, a fresh data directory (``RCS_TERMINAL_HOME`` points at a temporary
   folder for the run and is deleted afterwards), so every demo starts from an empty
   message store and unprovisioned SIMs; with ``keep``, the usual home is used and the
   conversations stay;
2. the lab (:class:`~rcs_terminal.lab.lab.Lab`: config server, SMS centre, registrar, chatbot
   platform with the ``demo`` bot) on loopback ports the system chooses. Its ``lab.json``
   goes into the user's usual home while it runs (unless another lab already runs there),
   so other ``rcs-terminal`` commands in other terminals can reach the demo handset;
3. the ``demo`` profile on the real engine behind the TUI's port
   (:class:`~rcs_terminal.ui.engine_port.EngineHandset`): both SIMs provision and register
   in the background while the app is already up, OTP and terms through its dialogs;
4. the conversation with the demo chatbot (:data:`DEMO_BOT`) ready at the top of the list
   on the default SIM, and a notice telling the user to open it and say hi;
5. on quit: de-registration, the lab stopped, the temporary folder removed.

The lab is a client of the engine and a sibling of the TUI; it is imported here, inside the
function, because the demo is exactly the place where the two meet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from rcs_terminal.domain.message import Conversation
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.engine_port import EngineHandset

__all__ = [
    "DEMO_BOT",
    "DEMO_PROFILE",
    "DemoApp",
    "RunnableApp",
    "fresh_home",
    "prepare_demo",
    "run_demo",
]

DEMO_PROFILE = "demo"
"""The built-in profile the demo runs: a dual-SIM handset provisioned by the lab."""
DEMO_BOT = "sip:demo@botplatform.lab"
"""The lab's demo chatbot (a contract of the chatbot platform)."""
HOME_VARIABLE = "RCS_TERMINAL_HOME"


class RunnableApp(Protocol):
    """What :func:`run_demo` needs from the app: to run it until the user quits."""

    def run_async(self) -> Awaitable[object]:
        """Run the app in the current event loop."""
        ...


class DemoApp(RcsTerminalApp):
    """The TUI as the demo opens it: a notice on how to start, once the app is up.

    Args:
        handset: the handset behind the port.
        notice: what to tell the user first (nothing when None).
        options: the other :class:`RcsTerminalApp` arguments.
    """

    def __init__(self, handset: EngineHandset, *, notice: str | None = None, **options: Any):
        super().__init__(handset, **options)
        self.notice = notice

    def on_mount(self) -> None:
        """Mount as usual, then show the notice."""
        super().on_mount()
        if self.notice:
            self.notify(self.notice, title="rcs-terminal demo", timeout=15, markup=False)

    def open_chat(self, conversation: Conversation, *, prefill: str | None = None) -> None:
        """Open a chat; the notice has done its job (it would cover the chips)."""
        self.clear_notifications()
        super().open_chat(conversation, prefill=prefill)


@contextmanager
def fresh_home(keep: bool) -> Iterator[Path | None]:
    """Point ``RCS_TERMINAL_HOME`` at a new temporary folder for the block, then delete it.

    Args:
        keep: do nothing (the usual home stays in use); yields None.
    """
    if keep:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="rcs-terminal-demo-"))
    before = os.environ.get(HOME_VARIABLE)
    os.environ[HOME_VARIABLE] = str(folder)
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop(HOME_VARIABLE, None)
        else:
            os.environ[HOME_VARIABLE] = before
        shutil.rmtree(folder, ignore_errors=True)


def prepare_demo(handset: EngineHandset, bot_name: str | None) -> str:
    """Put the demo chatbot's conversation in the store (on the default SIM), and return the
    notice that tells the user what to do."""
    slot = handset.profile.messaging.default_sim
    handset.store.conversation_for(slot, DEMO_BOT, display_name=bot_name, is_chatbot=True)
    name = bot_name or "the demo chatbot"
    return (
        f"Both SIMs register with the bundled lab (status bar, top). Press Enter to open "
        f'{name}, type "hi" and press Enter. F1 help, F2 protocol trace, Ctrl+Q quit.'
    )


async def run_demo(
    *,
    keep: bool = False,
    trace_file: str | None = None,
    app_factory: Callable[..., RunnableApp] = DemoApp,
) -> None:
    """Run the demo until the user quits (see the module docstring).

    Args:
        keep: use the usual data directory instead of a fresh one.
        trace_file: also write the handset's protocol trace there, as JSON lines.
        app_factory: builds the app from the port and ``notice=`` (tests pass their own).

    Raises:
        RcsTerminalError: the lab or the profile could not be set up.
    """
    from rcs_terminal.lab.lab import Lab

    advertise = LabInfo.load() is None
    lab = Lab()  # reads the user's own bot scripts from the usual home
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)
    try:
        info = await lab.start()
        if advertise:  # a convenience for other terminals: the demo runs without it
            with suppress(OSError):
                info.save()
        try:
            with fresh_home(keep):
                handset = EngineHandset(load_profile(DEMO_PROFILE), lab=info, trace=trace)
                try:
                    notice = prepare_demo(handset, _bot_name(lab))
                    await app_factory(handset, notice=notice).run_async()
                finally:
                    await handset.stop()  # de-registers, closes the store before the cleanup
        finally:
            if advertise:
                info.remove()
    finally:
        await lab.stop()
        trace.close()


def _bot_name(lab: Any) -> str | None:
    """The demo chatbot's display name from the lab's script, if the lab has it."""
    platform = getattr(lab, "chatbots", None)
    agent = platform.agent(DEMO_BOT) if platform is not None else None
    name = getattr(getattr(getattr(agent, "engine", None), "script", None), "name", None)
    return name if isinstance(name, str) and name else None
