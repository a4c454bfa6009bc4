"""The software USIM's sequence number, kept on disk per SIM (3GPP TS 33.102 §6.3, Annex C).

A real USIM remembers the highest SQN it accepted, so a replayed challenge fails and the
network must resynchronise. The emulated USIM has to do the same across runs, or every start
would look like a replay (or accept one). This module owns that one number: it lives in
``<sim dir>/usim.json`` (``paths.sim_dir(imsi)``, keyed by IMSI like the rest of the SIM's
state), written atomically and readable by the user only. A missing or unreadable file reads
as "nothing stored": the profile's starting SQN applies.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rcs_terminal import paths

__all__ = ["USIM_FILE", "UsimStore"]

USIM_FILE = "usim.json"
_FORMAT = 1
_SQN_MAX = (1 << 48) - 1
_MAX_BYTES = 4096


class UsimStore:
    """Reads and writes one SIM's highest accepted SQN.

    Args:
        imsi: the SIM's IMSI (the key).
        directory: where to keep the file; default ``paths.sim_dir(imsi)``.
    """

    def __init__(self, imsi: str, directory: Path | None = None) -> None:
        self.imsi = imsi
        self._directory = directory

    @property
    def path(self) -> Path:
        """The file holding the SQN."""
        directory = self._directory if self._directory is not None else paths.sim_dir(self.imsi)
        return directory / USIM_FILE

    def load(self) -> int | None:
        """The stored SQN, or None when nothing (readable, for this IMSI) is stored."""
        try:
            with open(self.path, "rb") as stream:
                raw = stream.read(_MAX_BYTES + 1)
            data = json.loads(raw) if len(raw) <= _MAX_BYTES else None
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("imsi") != self.imsi:
            return None
        sqn = data.get("sqn")
        if not isinstance(sqn, str) or len(sqn) != 12:
            return None
        try:
            value = int(sqn, 16)
        except ValueError:
            return None
        return value if 0 <= value <= _SQN_MAX else None

    def save(self, sqn: int) -> None:
        """Store ``sqn`` (atomically: a temporary file renamed over the old one).

        Raises:
            ValueError: ``sqn`` is outside 0..2**48-1.
            OSError: the file cannot be written.
        """
        if not 0 <= sqn <= _SQN_MAX:
            raise ValueError(f"SQN {sqn} is outside 0..2**48-1")
        target = self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{USIM_FILE}.{os.getpid()}.tmp")
        text = json.dumps({"format": _FORMAT, "imsi": self.imsi, "sqn": f"{sqn:012x}"}) + "\n"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
