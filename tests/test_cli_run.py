"""``rcs-terminal run``: the exit-code contract, reports, selection, stdout discipline."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rcs_terminal.cli import cli

GOOD = "name: Registers\nhandsets: {a: lab-alice}\nsteps: [{register: a}]\n"
BAD = (
    "name: Wrong expiry\nhandsets: {a: lab-alice}\n"
    "steps: [{register: {handset: a, expect: {expires: 1}}}]\n"
)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["run", *args])


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_all_passed_is_0_and_json_goes_to_stdout_only(tmp_path: Path) -> None:
    result = invoke(write(tmp_path, "good.yaml", GOOD), "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["passed"] == 1 and data["scenarios"][0]["id"] == "registers"
    assert "PASS" in result.stderr


def test_a_failure_is_1_with_junit(tmp_path: Path) -> None:
    folder = tmp_path / "scn"
    folder.mkdir()
    write(folder, "a.yaml", GOOD)
    write(folder, "b.yaml", BAD)
    junit = tmp_path / "out" / "r.xml"
    result = invoke(str(folder), "--junit", str(junit))
    assert result.exit_code == 1
    assert result.stdout == ""
    text = junit.read_text()
    assert 'failures="1"' in text and "expected: sim1.expires 1" in text


def test_invalid_scenario_is_2(tmp_path: Path) -> None:
    result = invoke(
        write(tmp_path, "x.yaml", "name: X\nhandsets: {a: lab-alice}\nsteps: [{sned: {}}]\n")
    )
    assert result.exit_code == 2
    assert "did you mean 'send'" in result.stderr


def test_bad_options_are_2(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    assert invoke(path, "-k", "nothing-like-this").exit_code == 2
    assert invoke("--suite", "no-such-suite").exit_code == 2
    assert invoke(path, "--var", "novalue").exit_code == 2
    assert invoke().exit_code == 2


def test_infrastructure_is_3(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from rcs_terminal.lab import lab as lab_module

    async def broken(self: object) -> None:
        raise OSError("cannot bind")

    monkeypatch.setattr(lab_module.Lab, "start", broken)
    result = invoke(write(tmp_path, "good.yaml", GOOD))
    assert result.exit_code == 3
    assert "cannot bind" in result.stderr


def test_list_and_select(tmp_path: Path) -> None:
    result = invoke("--suite", "up24", "-k", "up24-reg-*", "--list")
    assert result.exit_code == 0
    assert "up24-reg-aka" in result.stderr and "up24-prov-first" not in result.stderr


def test_variables_and_jobs(tmp_path: Path) -> None:
    text = "name: V${n}\nhandsets: {a: '${profile}'}\nsteps: [{register: a}]\n"
    path = write(tmp_path, "v.yaml", text)
    other = write(tmp_path, "w.yaml", GOOD.replace("Registers", "Second"))
    out = tmp_path / "r.json"
    result = invoke(
        path, other, "--var", "n=7", "--var", "profile=lab-bob", "-j", "2", "--json", str(out)
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert [s["name"] for s in data["scenarios"]] == ["V7", "Second"]
