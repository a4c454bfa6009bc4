"""Where a running lab can be reached: the handset's view of the bundled network.

``rcs-terminal lab`` (and ``demo``, and tests) start a :class:`~rcs_terminal.lab.lab.Lab` on
loopback with ports chosen by the system. The handset side needs to know those addresses
without importing the lab (the engine never imports ``rcs_terminal.lab``), so the lab
describes itself with a :class:`LabInfo`:

- in a file, ``<rcs home>/lab.json``, written by a running ``rcs-terminal lab`` together with
  its process id, so that any later ``rcs-terminal`` command finds it (:meth:`LabInfo.load`
  ignores the file when that process is gone);
- over HTTP, ``GET <lab http url>/lab/info`` (:func:`fetch_lab_info`), for
  ``--lab URL`` and for labs in other homes.

The lab's host names (``config.rcs.lab``, ``botplatform.lab``...) are never looked up in
DNS: :attr:`LabInfo.names` maps each to a literal address, and the handset's HTTP client
takes that map (``HttpClient(hosts=info.names, allow_dns=False)``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcs_terminal import paths
from rcs_terminal.errors import NetworkError

LAB_FILE = "lab.json"
"""Name of the file a running lab writes in the rcs home."""

_FORMAT = 1


@dataclass(frozen=True)
class LabInfo:
    """The addresses of a running lab.

    Attributes:
        http_url: base URL of the plain-HTTP server: RCC.14 step 1 (cookie probe), the SMS
            centre, ``/lab/info`` and ``/lab/faults`` (``http://127.0.0.1:PORT``).
        https_url: base URL of the HTTPS server: RCC.14 step 2 (``https://127.0.0.1:PORT``).
        ca_file: PEM file of the lab's throw-away CA (verifies ``https_url``), if any.
        smsc_url: base URL of the SMS centre (OTP SMS are read there).
        sip_udp: ``host:port`` of the lab registrar over UDP, or None without a registrar.
        sip_tcp: ``host:port`` of the lab registrar over TCP, or None without a registrar.
        names: the lab's host names and the literal addresses they stand for.
        domains: the home domains the lab serves (its subscribers').
    """

    http_url: str
    https_url: str
    ca_file: str | None
    smsc_url: str
    sip_udp: str | None
    sip_tcp: str | None
    names: dict[str, str] = field(default_factory=dict)
    domains: tuple[str, ...] = ()

    # ------------------------------------------------------------------ JSON

    def to_json(self, *, pid: int | None = None) -> dict[str, Any]:
        """The JSON form (``lab.json``, ``/lab/info``, ``rcs-terminal lab --json``).

        Args:
            pid: the id of the process serving the lab, recorded when given.
        """
        data: dict[str, Any] = {
            "format": _FORMAT,
            "http_url": self.http_url,
            "https_url": self.https_url,
            "ca_file": self.ca_file,
            "smsc_url": self.smsc_url,
            "sip_udp": self.sip_udp,
            "sip_tcp": self.sip_tcp,
            "names": dict(self.names),
            "domains": list(self.domains),
        }
        if pid is not None:
            data["pid"] = pid
        return data

    @classmethod
    def from_json(cls, data: object) -> LabInfo:
        """Read the JSON form back.

        Raises:
            ValueError: ``data`` is not a lab description (missing or mistyped fields).
        """
        if not isinstance(data, dict):
            raise ValueError("a lab description is a JSON object")
        names = data.get("names", {})
        domains = data.get("domains", [])
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in names.items()
        ):
            raise ValueError("names must map host names to addresses")
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise ValueError("domains must be a list of names")
        return cls(
            http_url=_text(data, "http_url"),
            https_url=_text(data, "https_url"),
            ca_file=_optional_text(data, "ca_file"),
            smsc_url=_text(data, "smsc_url"),
            sip_udp=_optional_text(data, "sip_udp"),
            sip_tcp=_optional_text(data, "sip_tcp"),
            names=dict(names),
            domains=tuple(domains),
        )

    # ------------------------------------------------------------------ lab.json

    @staticmethod
    def path() -> Path:
        """Where a running lab describes itself: ``<rcs home>/lab.json``."""
        return paths.home() / LAB_FILE

    @classmethod
    def load(cls) -> LabInfo | None:
        """Return the running lab written in ``lab.json``, or None.

        None when there is no file, when it cannot be read, or when the process that wrote
        it is no longer alive (a lab killed without cleaning up).
        """
        try:
            data = json.loads(cls.path().read_text(encoding="utf-8"))
            info = cls.from_json(data)
        except (OSError, ValueError):
            return None
        pid = data.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool) or not _alive(pid):
            return None
        return info

    def save(self) -> Path:
        """Write ``lab.json`` for this process (atomically; readable by the user only)."""
        target = self.path()
        temporary = target.with_name(f".{LAB_FILE}.{os.getpid()}.tmp")
        text = json.dumps(self.to_json(pid=os.getpid()), indent=2) + "\n"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
        return target

    def remove(self) -> None:
        """Delete ``lab.json`` if this process wrote it (another lab's file is left alone)."""
        target = self.path()
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("pid") == os.getpid():
            target.unlink(missing_ok=True)


async def fetch_lab_info(url: str, *, timeout: float = 10.0) -> LabInfo:
    """Ask a running lab for its addresses (``GET <url>/lab/info``).

    Args:
        url: the lab's HTTP base URL (``http://127.0.0.1:PORT``, as printed by
            ``rcs-terminal lab``).
        timeout: seconds to wait for the answer.

    Raises:
        NetworkError: nothing answers at ``url``, or the answer is not a lab description.
    """
    from rcs_terminal.engine.http import HttpClient

    client = HttpClient(hosts={"localhost": "127.0.0.1"}, allow_dns=False, timeout=timeout)
    base = url.rstrip("/")
    hint = "Give the http URL printed by `rcs-terminal lab`, e.g. http://127.0.0.1:PORT."
    try:
        response = await client.request("GET", f"{base}/lab/info")
    except NetworkError as exc:
        raise NetworkError(f"no lab answers at {base}: {exc.message}", hint=hint) from exc
    finally:
        await client.close()
    if response.status != 200:
        raise NetworkError(
            f"{base} is not a running lab (GET /lab/info answered {response.status})", hint=hint
        )
    try:
        return LabInfo.from_json(json.loads(response.body))
    except ValueError as exc:
        raise NetworkError(f"{base} sent an unreadable lab description: {exc}") from exc


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null")
    return value


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True
