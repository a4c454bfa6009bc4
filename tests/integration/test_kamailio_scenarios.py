"""The Kamailio variant of the registration / OPTIONS / MESSAGE scenarios
(``tests/integration/scenarios/``), run by the scenario runner against a real Kamailio."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.scenario.model import load_scenarios
from rcs_terminal.scenario.runner import Runner, RunOptions
from tests.integration.conftest import Kamailio

pytestmark = pytest.mark.kamailio

SCENARIOS = Path(__file__).parent / "scenarios"
IMEIS = {"alice": "860000000000371", "bob": "860000000000389"}


def profile(user: str, index: int, port: int) -> str:
    return f"""schema_version: 1
device:
  vendor: ZTE
  model: S30
  sw_version: MyOS11
  os: {{name: Android, version: "11"}}
  client: {{vendor: ZTE, version: RCSAndrd-2.4}}
sims:
  - slot: 1
    imei: "{IMEIS[user]}"
    operator: {{name: Test, mcc: "460", mnc: "00"}}
    imsi: "46000123450009{index}"
    msisdn: "+861380000009{index}"
    auth: {{scheme: digest}}
    ims:
      pcscf: ["127.0.0.1:{port}"]
      transport: tcp
      home_domain: rcs.test
      impi: {user}
      impu: ["sip:{user}@rcs.test"]
      auth: {{scheme: digest, username: {user}, password: {user}pw}}
"""


async def test_kamailio_scenarios(kamailio: Kamailio, tmp_path: Path) -> None:
    for index, user in enumerate(IMEIS):
        (tmp_path / f"{user}.yaml").write_text(profile(user, index, kamailio.port))
    scenarios = load_scenarios([SCENARIOS], {"profiles": str(tmp_path)})
    results = await Runner(RunOptions()).run_all(scenarios)
    failed = [r.step_log() for r in results if r.status != "passed"]
    assert not failed, "\n\n".join(failed) + "\n" + kamailio.log()[-3000:]
