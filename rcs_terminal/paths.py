"""Where rcs-terminal keeps its state on disk.

Everything lives under one home directory: ``$RCS_TERMINAL_HOME`` when set (tests set it to a
temporary directory), else the platform's user data directory. Per profile there is a folder
holding the message store and, per SIM (keyed by IMSI, as handsets key their provisioning data
by subscription), the provisioning cache and the USIM's sequence number.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs


def home() -> Path:
    """The root of rcs-terminal's on-disk state (created on demand)."""
    env = os.environ.get("RCS_TERMINAL_HOME")
    root = Path(env) if env else Path(platformdirs.user_data_dir("rcs-terminal", appauthor=False))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


def profile_dir(profile_name: str) -> Path:
    """The folder of one profile's state (message store, per-SIM caches)."""
    path = home() / "profiles" / _safe(profile_name)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sim_dir(imsi: str) -> Path:
    """The folder of one SIM's state, keyed by IMSI (provisioning cache, USIM SQN)."""
    path = home() / "sims" / _safe(imsi)
    path.mkdir(parents=True, exist_ok=True)
    return path
