"""The `rcs-terminal profile` commands, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from rcs_terminal.cli import cli
from rcs_terminal.domain.profile import builtin_profile_names
from rcs_terminal.exit_codes import ExitCode

PROFILES = Path(__file__).resolve().parents[1] / "profiles"
INVALID = PROFILES / "_invalid"
DEMO_K = "465b5ce8b199b49faa5f0a2ee238a6bc"
DEMO_OPC = "cd63cb71954a9f4e48a5994e37a02baf"
REAL_K = "00112233445566778899aabbccddeeff"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["profile", *args], env={"COLUMNS": "200", **(env or {})})
    return result.exit_code, result.output


def test_help_lists_the_profile_commands() -> None:
    code, output = run("--help")
    assert code == 0
    for name in ("validate", "list", "show", "schema"):
        assert name in output


def test_validate_valid_files() -> None:
    code, output = run("validate", str(PROFILES / "demo.yaml"), "lab-bob")
    assert code == ExitCode.OK
    assert f"{PROFILES / 'demo.yaml'}: valid" in output
    assert "lab-bob.yaml: valid" in output
    assert "error" not in output


def test_validate_reports_unset_env_as_warnings() -> None:
    code, output = run("validate", str(PROFILES / "zte-s30-pro.yaml"))
    assert code == ExitCode.OK
    assert "valid (2 warnings)" in output
    assert "warning: " in output
    assert "sims[0].auth.k: environment variable S30PRO_SIM1_K is not set" in output


def test_validate_with_env_set_has_no_warnings() -> None:
    env = {"S30PRO_SIM1_K": REAL_K, "S30PRO_SIM1_OPC": REAL_K}
    code, output = run("validate", str(PROFILES / "zte-s30-pro.yaml"), env=env)
    assert code == ExitCode.OK
    assert "warning" not in output
    assert REAL_K not in output


def test_validate_invalid_file_prints_every_error() -> None:
    path = INVALID / "many-errors.yaml"
    code, output = run("validate", str(path))
    assert code == ExitCode.FAILED
    assert f"{path}: invalid, 8 errors" in output
    assert f"  error: {path}: device.colour: unknown key" in output
    assert f"  error: {path}: sims[0].slot: expected 1 or 2" in output


def test_validate_one_block_per_file() -> None:
    good, bad = PROFILES / "lab-alice.yaml", INVALID / "typo-key.yaml"
    code, output = run("validate", str(good), str(bad), "no-such-profile")
    assert code == ExitCode.FAILED
    blocks = output.strip().split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].startswith(f"{good}: valid")
    assert blocks[1].startswith(f"{bad}: invalid, 1 error")
    assert "sims[0].opertor: unknown key (did you mean 'operator'?)" in blocks[1]
    assert "no-such-profile.yaml: invalid, 1 error" in blocks[2]


def test_validate_needs_a_file() -> None:
    code, _ = run("validate")
    assert code == 2  # click's usage error


def test_list_table() -> None:
    code, output = run("list")
    assert code == ExitCode.OK
    for name in builtin_profile_names():
        assert name in output
    assert "ZTE Axon 30" in output
    assert "China Broadnet 460-15 aka" in output
    assert "China Telecom 460-11 digest" in output


def test_list_json() -> None:
    code, output = run("list", "--json")
    assert code == ExitCode.OK
    data = json.loads(output)
    assert [entry["name"] for entry in data] == builtin_profile_names()
    axon = next(entry for entry in data if entry["name"] == "zte-axon30-dual")
    assert axon["handset"] == "ZTE Axon 30"
    assert [(s["slot"], s["operator"], s["auth"]) for s in axon["sims"]] == [
        (1, "China Mobile", "aka"),
        (2, "China Telecom", "aka"),
    ]


def test_show_masks_inline_secrets() -> None:
    code, output = run("show", "demo")
    assert code == ExitCode.OK
    data = yaml.safe_load(output)
    auth = data["sims"][0]["auth"]
    assert auth["k"] == "***" and auth["opc"] == "***"
    assert data["sims"][1]["auth"]["password"] == "***"
    for secret in (DEMO_K, DEMO_OPC, "demo-slot2-password"):
        assert secret not in output


def test_show_shows_env_references_not_values() -> None:
    env = {"AXON30_SIM1_K": REAL_K, "AXON30_SIM1_OPC": REAL_K}
    code, output = run("show", "zte-axon30-dual", env=env)
    assert code == ExitCode.OK
    assert "k: env:AXON30_SIM1_K" in output
    assert "opc: env:AXON30_SIM2_OPC" in output
    assert REAL_K not in output


def test_show_json() -> None:
    code, output = run("show", "demo", "--json")
    assert code == ExitCode.OK
    data = json.loads(output)
    assert data["sims"][0]["auth"]["k"] == "***"
    assert DEMO_K not in output
    assert data["sims"][0]["imei"] == "860000000000116"


def test_show_derived() -> None:
    code, output = run("show", "demo", "--derived")
    assert code == ExitCode.OK
    profile_text, derived_text = output.split("\n---\n")
    assert yaml.safe_load(profile_text)["schema_version"] == 1
    derived = yaml.safe_load(derived_text)
    assert derived["sims"][0]["sip_instance"] == "<urn:gsma:imei:86000000-000011-0>"
    assert derived["sims"][1]["impi"] == "460111234500002@ims.mnc011.mcc460.3gppnetwork.org"
    assert derived["user_agent"].startswith("CPM-client/OMA2.2 RCS-client/UP_2.4 term-ZTE/")
    code, output = run("show", "demo", "--derived", "--json")
    data = json.loads(output)
    assert data["derived"]["sims"][1]["config_server"] == "lab"
    assert data["profile"]["sims"][1]["auth"]["password"] == "***"


def test_show_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_bytes((PROFILES / "lab-bob.yaml").read_bytes())
    code, output = run("show", str(path))
    assert code == ExitCode.OK
    assert "bob-lab-password" not in output
    assert "password: '***'" in output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "no built-in profile named 'nope'"),
        (str(INVALID / "typo-key.yaml"), "sims[0].opertor: unknown key"),
    ],
)
def test_show_refuses_missing_or_invalid(name: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["profile", "show", name], env={"COLUMNS": "300"})
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in result.output


def test_schema_to_stdout_and_file(tmp_path: Path) -> None:
    code, output = run("schema")
    assert code == ExitCode.OK
    schema = json.loads(output)
    assert schema["title"] == "rcs-terminal device profile"
    target = tmp_path / "profile.schema.json"
    code, _ = run("schema", "-o", str(target))
    assert code == ExitCode.OK
    assert json.loads(target.read_text(encoding="utf-8")) == schema


def test_schema_write_error(tmp_path: Path) -> None:
    code, output = run("schema", "-o", str(tmp_path / "missing" / "s.json"))
    assert code != ExitCode.OK
    assert "missing" in output
