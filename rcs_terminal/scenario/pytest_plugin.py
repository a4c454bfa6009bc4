"""pytest fixtures for writing conformance tests in Python against the bundled lab.

Enable the plugin in a ``conftest.py``
(``pytest_plugins = ["rcs_terminal.scenario.pytest_plugin"]``) or on the command line
(``-p rcs_terminal.scenario.pytest_plugin``). It needs pytest-asyncio (the fixtures are
async; with ``asyncio_mode = "auto"`` tests need no marker).

Fixtures:

``rcs_home``
    A fresh ``RCS_TERMINAL_HOME`` for the test (message stores, provisioning caches, USIM
    sequence numbers), so tests never see each other's state.
``lab``
    A started :class:`~rcs_terminal.scenario.api.ScenarioLab` (the bundled network: config
    server, registrar, chatbot platform with ``sip:demo@botplatform.lab``), stopped after the
    test. ``lab.lab`` is the :class:`~rcs_terminal.lab.lab.Lab` with its fault switches.
``handset_factory``
    ``await handset_factory("lab-alice", register=True, **options)`` returns a
    :class:`~rcs_terminal.scenario.api.ScenarioHandset` on the lab (registered unless
    ``register=False``); every handset made is stopped (de-registered) after the test.

Example::

    async def test_demo_bot_welcomes(handset_factory):
        alice = await handset_factory("lab-alice")
        await alice.send("sip:demo@botplatform.lab", "hi")
        card = await alice.expect_message(sender="sip:demo@botplatform.lab", kind="card")
        await card.tap("Card layouts")
        await alice.expect_message(text={"contains": "orientations"})
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from rcs_terminal.scenario.api import ScenarioHandset, ScenarioLab

__all__ = ["handset_factory", "lab", "rcs_home"]

HandsetFactory = Callable[..., Awaitable[ScenarioHandset]]


@pytest.fixture
def rcs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh rcs-terminal home for the test."""
    home = tmp_path / "rcs-home"
    monkeypatch.setenv("RCS_TERMINAL_HOME", str(home))
    yield home


@pytest_asyncio.fixture
async def lab(rcs_home: Path) -> AsyncIterator[ScenarioLab]:
    """The bundled lab on loopback, for one test."""
    network = ScenarioLab()
    await network.start()
    try:
        yield network
    finally:
        await network.stop()


@pytest_asyncio.fixture
async def handset_factory(lab: ScenarioLab) -> AsyncIterator[HandsetFactory]:
    """Makes handsets on the lab; stops them all after the test."""
    made: list[ScenarioHandset] = []

    async def make(profile: str, *, register: bool = True, **options: Any) -> ScenarioHandset:
        handset = ScenarioHandset(profile, lab=lab, **options)
        made.append(handset)
        if register:
            results = await handset.register()
            failed = {slot: err for slot, err in results.items() if err is not None}
            if failed:
                raise AssertionError(f"{profile} did not register: {failed}")
        return handset

    try:
        yield make
    finally:
        for handset in made:
            await handset.stop()
