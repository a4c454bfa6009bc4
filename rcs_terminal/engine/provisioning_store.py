"""The per-SIM provisioning cache on disk, keyed by IMSI.

A handset keeps its RCC.14 state per subscription across reboots (provisioning_sip.md §6:
AOSP stores it per subId, rust-rcs-client under ``<root>/<IMSI>``): the version and when the
configuration expires, the token and when it expires, the last positive version (sent while
dormant), and the configuration document in use. This module owns that record: the
protocol's :class:`~rcs_terminal.protocol.provisioning.StoredState` is written to
``<sim dir>/provisioning.json`` plus ``<sim dir>/config.xml`` (the document as received, so
a later run parses exactly what the server sent).

Both files are written atomically (a temporary file renamed over the old one) and readable
by the user only: the token is a credential. A missing, unreadable or foreign file reads as
"never provisioned" rather than failing, as a phone would start over.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from rcs_terminal import paths
from rcs_terminal.protocol.provisioning import StoredState

STATE_FILE = "provisioning.json"
CONFIG_FILE = "config.xml"
_FORMAT = 1
_MAX_STATE_BYTES = 64 * 1024
_MAX_CONFIG_BYTES = 1024 * 1024


class ProvisioningStore:
    """Reads and writes one SIM's provisioning state.

    Args:
        imsi: the SIM's IMSI (the key).
        directory: where to keep the files; default ``paths.sim_dir(imsi)``.
    """

    def __init__(
        self, imsi: str, directory: Path | None = None, *, server: str | None = None
    ) -> None:
        self.imsi = imsi
        self._directory = directory
        self.server = server
        """The configuration server the state belongs to. A record written for another
        server (the lab restarted on other ports, or the profile now points elsewhere) is
        not this server's configuration or token, so :meth:`load` ignores it."""

    @property
    def directory(self) -> Path:
        """The SIM's folder (created on demand)."""
        if self._directory is None:
            return paths.sim_dir(self.imsi)
        self._directory.mkdir(parents=True, exist_ok=True)
        return self._directory

    def load(self) -> StoredState | None:
        """Return the stored state, or None when there is none (or it is unreadable)."""
        folder = self.directory
        try:
            raw = _read_limited(folder / STATE_FILE, _MAX_STATE_BYTES)
            data = json.loads(raw)
            state = _state_from_json(data, self.imsi)
        except (OSError, ValueError, TypeError):
            return None
        if self.server is not None and data.get("server") != self.server:
            return None
        if data.get("has_config"):
            try:
                config_xml: bytes | None = _read_limited(folder / CONFIG_FILE, _MAX_CONFIG_BYTES)
            except (OSError, ValueError):
                config_xml = None  # the flow then asks for the whole configuration again
            return _with_config(state, config_xml)
        return state

    def save(self, state: StoredState) -> None:
        """Write ``state`` (the document first, then the record that refers to it)."""
        folder = self.directory
        if state.config_xml is not None:
            _write_atomic(folder / CONFIG_FILE, state.config_xml)
        data = _state_to_json(state, self.imsi)
        if self.server is not None:
            data["server"] = self.server
        _write_atomic(folder / STATE_FILE, (json.dumps(data, indent=2) + "\n").encode())
        if state.config_xml is None:
            (folder / CONFIG_FILE).unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget everything (as after a SIM change)."""
        folder = self.directory
        for name in (STATE_FILE, CONFIG_FILE):
            (folder / name).unlink(missing_ok=True)


def _state_to_json(state: StoredState, imsi: str) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "imsi": imsi,
        "version": state.version,
        "validity_until": state.validity_until,
        "token": state.token,
        "token_until": state.token_until,
        "last_positive_version": state.last_positive_version,
        "has_config": state.config_xml is not None,
    }


def _state_from_json(data: Any, imsi: str) -> StoredState:
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError("not a provisioning record of this version")
    if data.get("imsi") != imsi:
        raise ValueError("the record belongs to another SIM")
    return StoredState(
        version=_int(data.get("version", 0)),
        validity_until=_time(data.get("validity_until")),
        token=_token(data.get("token")),
        token_until=_time(data.get("token_until")),
        config_xml=None,
        last_positive_version=_int(data.get("last_positive_version", 0)),
    )


def _with_config(state: StoredState, config_xml: bytes | None) -> StoredState:
    return replace(state, config_xml=config_xml)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


def _time(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a time")
    if not math.isfinite(value):
        raise ValueError("expected a finite time")
    return float(value)


def _token(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expected a token string")
    return value or None


def _read_limited(path: Path, limit: int) -> bytes:
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
