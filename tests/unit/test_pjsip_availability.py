"""The pjsip engine imports everywhere and explains itself where the wheel cannot run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rcs_terminal.engine.pjsip as engine
from rcs_terminal.errors import NetworkError, PjsipUnavailableError, RcsTerminalError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({}, None),
        ({"version": (3, 10)}, None),
        ({"version": (3, 12)}, None),
        ({"machine": "AMD64"}, None),
        ({"version": (3, 13)}, "Python 3.13 has no pjsua2-python wheel"),
        ({"implementation": "PyPy"}, "PyPy is not CPython"),
        ({"system": "Darwin"}, "Darwin is not Linux"),
        ({"machine": "aarch64"}, "aarch64 is not x86-64"),
    ],
)
def test_platform_problem(kwargs: dict[str, object], problem: str | None) -> None:
    base: dict[str, object] = {
        "implementation": "CPython",
        "version": (3, 11),
        "system": "Linux",
        "machine": "x86_64",
    }
    assert engine.platform_problem(**{**base, **kwargs}) == problem  # type: ignore[arg-type]


def test_unsupported_platform_names_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_loaded", None)
    monkeypatch.setattr(engine, "platform_problem", lambda: "aarch64 is not x86-64")
    with pytest.raises(PjsipUnavailableError) as error:
        engine.load_pjsua2()
    assert isinstance(error.value, NetworkError | RcsTerminalError)
    assert "aarch64 is not x86-64" in error.value.message
    assert error.value.hint is not None
    assert "CPython 3.10-3.12 on x86-64 Linux" in error.value.hint
    assert "pip install rcs-terminal[pjsip]" in error.value.hint
    assert not engine.pjsip_available()


def test_missing_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> object:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(engine, "_loaded", None)
    monkeypatch.setattr(engine, "platform_problem", lambda: None)
    monkeypatch.setattr(engine, "import_module", refuse)
    with pytest.raises(PjsipUnavailableError, match="pjsua2-python is not installed"):
        engine.load_pjsua2()


def test_lazy_attributes() -> None:
    from rcs_terminal.engine.pjsip.account import PjsipConfig
    from rcs_terminal.engine.pjsip.sim import PjsipSim

    assert engine.PjsipConfig is PjsipConfig and engine.PjsipSim is PjsipSim
    with pytest.raises(AttributeError):
        engine.Nothing  # noqa: B018


def test_everything_imports_without_the_wheel() -> None:
    """Without pjsua2 every module imports, a SIM can be configured, and starting it says
    what is missing (run in a fresh interpreter where ``import pjsua2`` fails)."""
    code = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["pjsua2"] = None  # import pjsua2 -> ImportError
        import rcs_terminal.engine.pjsip as engine
        from rcs_terminal.engine.pjsip import account, library, log, messaging, requests, sim
        from rcs_terminal.engine.transport import Address
        from rcs_terminal.errors import PjsipUnavailableError
        assert not engine.pjsip_available()
        config = engine.PjsipConfig(
            pcscf=Address("127.0.0.1", 5060), home_domain="rcs.test", impi="a",
            impu="sip:a@rcs.test", username="a", password="p",
            sip_instance="<urn:gsma:imei:86000000-000037-0>",
        )
        try:
            asyncio.run(engine.PjsipSim(config).start())
        except PjsipUnavailableError as exc:
            print(exc.message)
            print(exc.hint)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    message, hint = done.stdout.splitlines()[-2:]
    if engine.platform_problem() is None:
        assert "pjsua2-python is not installed" in message
    assert "pip install rcs-terminal[pjsip]" in hint and "x86-64 Linux" in hint
