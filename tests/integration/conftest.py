"""Real SIP servers for the integration tests.

The ``kamailio`` fixture starts the loopback Kamailio of ``scripts/kamailio/`` on a free port
through ``scripts/kamailio.sh`` (which waits until Kamailio answers a SIP OPTIONS) and stops
it afterwards. Where Kamailio or SIPp is not installed, the tests that need them skip with the
reason; under CI (``CI=true``) a missing server is a failure instead, because
``scripts/test.sh`` installs them there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KAMAILIO_SH = ROOT / "scripts" / "kamailio.sh"
SIPP_DIR = Path(__file__).parent / "sipp"

USERS = {"alice": "alicepw", "bob": "bobpw", "carol": "carolpw", "dave": "davepw"}


def require_binary(name: str, package: str) -> str:
    """Return the path of ``name`` or skip (fail under CI) with the reason."""
    path = shutil.which(name)
    if path:
        return path
    reason = (f"{name} is not installed (Debian package {package}; scripts/test.sh installs it "
              "with apt-get when run as root)")
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real-server tests: {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Kamailio:
    """A running Kamailio on loopback."""

    port: int
    run_dir: Path
    realm: str = "rcs.test"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kamcmd(self, *args: str) -> str:
        out = subprocess.run(
            ["kamcmd", "-s", f"unix:{self.run_dir}/kamailio_ctl", *args],
            capture_output=True, text=True, check=True, timeout=10,
        )
        return out.stdout

    def log(self) -> str:
        return (self.run_dir / "kamailio.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    """A fresh Kamailio (digest auth, users alice/bob/carol/dave) for one test module."""
    require_binary("kamailio", "kamailio")
    run_dir = tmp_path_factory.mktemp("kamailio")
    users = [f"{u}:{p}" for u, p in USERS.items()]
    out = subprocess.run(
        [str(KAMAILIO_SH), "start", str(run_dir), "0", *users],
        capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        pytest.fail(f"Kamailio did not start: {out.stderr}")
    port = int(out.stdout.split()[-1])
    try:
        yield Kamailio(port=port, run_dir=run_dir)
    finally:
        subprocess.run([str(KAMAILIO_SH), "stop", str(run_dir)], capture_output=True, timeout=30)
