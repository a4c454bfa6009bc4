"""The optional pjsip engine: registration, OPTIONS and pager messaging through pjsua2.

A second SIP engine beside the native one, used as a cross-check of our own stack: the same
SIM (a :class:`~rcs_terminal.engine.pjsip.account.PjsipConfig`) registers, exchanges
capabilities and sends and receives CPIM pager messages through pjsip's transaction layer,
transports and digest client, while every payload (CPIM, IMDN, feature tags, challenges)
is still built and read by our protocol core. It publishes the same domain events as the
native engine (:mod:`rcs_terminal.domain.events`).

The engine needs the ``pjsua2-python`` wheel, which exists for CPython 3.10-3.12 on x86-64
Linux only (``pip install rcs-terminal[pjsip]``; the ``pjsua2`` package on PyPI is an sdist
that cannot build outside a pjproject tree). Importing this package works everywhere: the
wheel is loaded on first use by :func:`load_pjsua2`, which raises
:class:`~rcs_terminal.errors.PjsipUnavailableError` naming the platform limits and the
install command. :func:`pjsip_available` answers without raising.

Modules: :mod:`.library` (the process's one pjsua2 Endpoint, polled from asyncio),
:mod:`.account` (configuration and registration), :mod:`.requests` (out-of-dialog requests
with our own 401/407 handling), :mod:`.capabilities` (OPTIONS queries), :mod:`.pager` (the
pager MESSAGE with CPIM and IMDN, pure) and :mod:`.messaging` (sending and receiving it),
:mod:`.log` (pjsip's log into our trace) and :mod:`.sim` (:class:`PjsipSim`, the per-SIM
facade).
"""

from __future__ import annotations

import platform
import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from rcs_terminal.errors import PjsipUnavailableError

if TYPE_CHECKING:
    from rcs_terminal.engine.pjsip.account import PjsipConfig
    from rcs_terminal.engine.pjsip.sim import PjsipSim

__all__ = [
    "INSTALL_COMMAND",
    "SUPPORTED_PLATFORMS",
    "PjsipConfig",
    "PjsipSim",
    "load_pjsua2",
    "pjsip_available",
    "platform_problem",
]

SUPPORTED_PLATFORMS = "CPython 3.10-3.12 on x86-64 Linux"
"""Where the ``pjsua2-python`` wheel exists (2.15.1.post1)."""
INSTALL_COMMAND = "pip install rcs-terminal[pjsip]"
"""How to install the optional engine."""

_SUPPORTED_VERSIONS = ((3, 10), (3, 11), (3, 12))
_loaded: ModuleType | None = None


def platform_problem(
    *,
    implementation: str | None = None,
    version: tuple[int, int] | None = None,
    system: str | None = None,
    machine: str | None = None,
) -> str | None:
    """Say why the pjsua2 wheel cannot exist on this platform, or None when it can.

    The arguments default to the running interpreter and machine (tests pass others).
    """
    impl = implementation or platform.python_implementation()
    ver = version or (sys.version_info.major, sys.version_info.minor)
    osname = system or platform.system()
    arch = (machine or platform.machine()).lower()
    if impl != "CPython":
        return f"{impl} is not CPython"
    if ver not in _SUPPORTED_VERSIONS:
        return f"Python {ver[0]}.{ver[1]} has no pjsua2-python wheel"
    if osname != "Linux":
        return f"{osname} is not Linux"
    if arch not in ("x86_64", "amd64"):
        return f"{arch} is not x86-64"
    return None


def _unavailable(reason: str) -> PjsipUnavailableError:
    return PjsipUnavailableError(
        f"the pjsip engine cannot run here: {reason}",
        hint=f"The pjsua2-python wheel exists for {SUPPORTED_PLATFORMS} only; install it "
        f"with `{INSTALL_COMMAND}`, or use the native engine.",
    )


def load_pjsua2() -> ModuleType:
    """Import and return the ``pjsua2`` module (once per process).

    Raises:
        PjsipUnavailableError: the platform has no wheel, or the wheel is not installed or
            does not load; the message names the platform limits and the install command.
    """
    global _loaded
    if _loaded is not None:
        return _loaded
    problem = platform_problem()
    if problem is not None:
        raise _unavailable(problem)
    try:
        module = import_module("pjsua2")
    except ImportError as exc:
        raise _unavailable(f"pjsua2-python is not installed ({exc})") from exc
    if not hasattr(module, "Endpoint"):
        raise _unavailable("the installed pjsua2 module has no Endpoint (not pjsua2-python?)")
    _loaded = module
    return module


def pjsip_available() -> bool:
    """True when the pjsip engine can run here (the wheel imports)."""
    try:
        load_pjsua2()
    except PjsipUnavailableError:
        return False
    return True


def __getattr__(name: str) -> Any:
    # The facade classes are loaded on first use, so that importing the package never
    # imports pjsua2 (their modules load it only when an engine starts).
    if name == "PjsipSim":
        return import_module("rcs_terminal.engine.pjsip.sim").PjsipSim
    if name == "PjsipConfig":
        return import_module("rcs_terminal.engine.pjsip.account").PjsipConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
