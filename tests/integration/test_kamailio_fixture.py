"""The Kamailio fixture itself, checked with SIPp: a digest REGISTER succeeds, a wrong
password does not. If these fail, every other real-server test is meaningless."""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.conftest import SIPP_DIR, Kamailio, require_binary

pytestmark = pytest.mark.kamailio


def _sipp_register(kamailio: Kamailio, user: str, password: str, transport: str) -> int:
    sipp = require_binary("sipp", "sip-tester")
    out = subprocess.run(
        [sipp, "-sf", str(SIPP_DIR / "register_digest.xml"), "-s", user, "-au", user,
         "-ap", password, "-i", "127.0.0.1", "-p", "0", "-m", "1", "-t", transport,
         "-nostdin", "-timeout", "10", kamailio.address],
        capture_output=True, text=True, timeout=30,
    )
    return out.returncode


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_sipp_registers_with_digest(kamailio: Kamailio, transport: str) -> None:
    assert _sipp_register(kamailio, "carol", "carolpw", transport) == 0
    assert "carol" in kamailio.kamcmd("ul.dump", "brief")


def test_wrong_password_is_refused(kamailio: Kamailio) -> None:
    assert _sipp_register(kamailio, "dave", "not-the-password", "u1") != 0
