"""Loading profiles: built-in set, broken examples, env: secrets, strict YAML."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import pytest
import yaml

from rcs_terminal.domain import profile as profiles
from rcs_terminal.domain.profile import (
    MAX_PROFILE_BYTES,
    AkaAuth,
    DigestAuth,
    Profile,
    builtin_profile_dir,
    builtin_profile_names,
    builtin_profiles,
    check_profile,
    check_profile_data,
    dump_profile,
    load_profile,
)
from rcs_terminal.domain.secrets import iter_secrets
from rcs_terminal.errors import ProfileError

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"
INVALID = sorted((PROFILES / "_invalid").glob("*.yaml"))
ENV_REF = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")
K = "465b5ce8b199b49faa5f0a2ee238a6bc"

MINIMAL = """\
schema_version: 1
device:
  vendor: ZTE
  model: Axon 30
  sw_version: MyOS11.0.9
  os: {name: Android, version: "11"}
  client: {vendor: ZTE, version: RCSAndrd-2.4}
sims:
  - slot: 1
    imei: "860000000000116"
    operator: {name: China Mobile, mcc: "460", mnc: "00"}
    imsi: "460001234500001"
    msisdn: "+8613800000001"
    auth: {scheme: aka, k: env:T_K, opc: env:T_OPC}
"""


def env_for(text: str) -> dict[str, str]:
    """Values for every env: variable a profile names (hex keys fit passwords too)."""
    return {name: K for name in ENV_REF.findall(text)}


# ----------------------------------------------------------------------------- built-ins


def test_builtins_come_from_the_repository_folder() -> None:
    assert Path(str(builtin_profile_dir())) == PROFILES
    names = builtin_profile_names()
    assert "demo" in names
    assert not any(name.startswith("_") for name in names)


@pytest.mark.parametrize("name", builtin_profile_names())
def test_every_builtin_loads(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (PROFILES / f"{name}.yaml").read_text(encoding="utf-8")
    for variable, value in env_for(text).items():
        monkeypatch.setenv(variable, value)
    check = check_profile(name)
    assert check.ok, check.errors
    assert check.warnings == ()
    loaded = check.profile
    assert loaded is not None
    assert loaded.name == name
    assert all(secret.is_resolved for _, secret in iter_secrets(loaded))
    by_path = load_profile(str(PROFILES / f"{name}.yaml"))
    assert by_path.source == str(PROFILES / f"{name}.yaml")
    reveal = {"reveal_secrets": True}
    assert by_path.model_dump(context=reveal) == loaded.model_dump(context=reveal)


def test_builtin_set_covers_the_brief() -> None:
    loaded = {name: load_profile(name, resolve_env=False) for name in builtin_profile_names()}
    handsets = {n: p for n, p in loaded.items() if n != "demo" and not n.startswith("lab-")}
    assert len(handsets) >= 8
    codes = {
        sim.known_operator.code for p in handsets.values() for sim in p.sims if sim.known_operator
    }
    assert codes == {"CMCC", "CU", "CT", "CBN"}
    shapes = set()
    for p in handsets.values():
        if len(p.sims) == 1:
            shapes.add("single")
        elif p.sims[0].operator.name == p.sims[1].operator.name:
            shapes.add("dual, one operator")
        else:
            shapes.add("dual, two operators")
        # Real operators' SIMs never carry inline secrets.
        assert all(secret.env is not None for _, secret in iter_secrets(p))
    assert shapes == {"single", "dual, one operator", "dual, two operators"}
    schemes = {sim.auth.scheme for p in handsets.values() for sim in p.sims}
    assert schemes == {"aka", "digest"}
    assert any(_ for p in handsets.values() for _ in iter_secrets(p))


def test_demo_profile() -> None:
    demo = load_profile("demo")
    assert [sim.slot for sim in demo.sims] == [1, 2]
    assert all(s.provisioning and s.provisioning.url == "lab" for s in demo.sims)
    first, second = demo.sims
    assert isinstance(first.auth, AkaAuth) and first.auth.opc is not None
    assert first.auth.k.reveal() == K and first.auth.k.env is None
    assert isinstance(second.auth, DigestAuth)
    assert demo.default_sim is first
    assert first.provisioning_url("http://127.0.0.1:4000") == "http://127.0.0.1:4000"
    with pytest.raises(ProfileError, match="no lab is running"):
        first.provisioning_url()


def test_lab_people_are_single_sim_and_distinct() -> None:
    lab = [n for n in builtin_profile_names() if n.startswith("lab-")]
    assert len(lab) >= 2
    seen: set[str] = set()
    for name in [*lab, "demo"]:
        loaded = load_profile(name)
        if name != "demo":
            assert len(loaded.sims) == 1
        for sim in loaded.sims:
            assert sim.provisioning is not None and sim.provisioning.url == "lab"
            for identity in (sim.imsi, sim.msisdn, sim.imei):
                assert identity not in seen, (name, identity)
                seen.add(identity)


def test_builtin_summaries() -> None:
    summaries = {s.name: s for s in builtin_profiles()}
    axon = summaries["zte-axon30-dual"]
    assert axon.handset == "ZTE Axon 30"
    assert [(s.slot, s.operator, s.mnc, s.auth) for s in axon.sims] == [
        (1, "China Mobile", "00", "aka"),
        (2, "China Telecom", "11", "aka"),
    ]
    assert axon.sims[0].provisioning == "config.rcs.mnc000.mcc460.pub.3gppnetwork.org"
    assert summaries["demo"].to_json()["sims"][1]["provisioning"] == "lab"


def test_packaged_profiles_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_profiles").mkdir()
    (tmp_path / "_profiles" / "packaged.yaml").write_text(MINIMAL, encoding="utf-8")
    monkeypatch.setattr(importlib.resources, "files", lambda package: tmp_path)
    assert builtin_profile_names() == ["packaged"]
    assert load_profile("packaged", environ={"T_K": K, "T_OPC": K}).name == "packaged"


def test_unknown_builtin_suggests_a_name() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile("zte-axon30-dul")
    assert "no built-in profile named 'zte-axon30-dul' (did you mean 'zte-axon30-dual'?)" in str(
        info.value
    )
    assert info.value.hint is not None and "demo" in info.value.hint


def test_missing_file() -> None:
    with pytest.raises(ProfileError, match=r"nowhere\.yaml: file not found"):
        load_profile("nowhere.yaml")


def test_derived_values_of_a_sim() -> None:
    axon = load_profile("zte-axon30-dual", resolve_env=False)
    sim = axon.sim(2)
    assert sim.home_domain == "ims.mnc011.mcc460.3gppnetwork.org"
    assert sim.impi == "460111234560002@ims.mnc011.mcc460.3gppnetwork.org"
    assert sim.impu == "sip:460111234560002@ims.mnc011.mcc460.3gppnetwork.org"
    assert sim.sip_instance == "<urn:gsma:imei:86543205-123464-0>"
    assert sim.provisioning_url() == "https://config.rcs.mnc011.mcc460.pub.3gppnetwork.org"
    assert axon.user_agent.startswith("CPM-client/OMA2.2 RCS-client/UP_2.4 term-ZTE/Axon 30-")
    with pytest.raises(ProfileError, match="slot 3"):
        axon.sim(3)
    derived = profiles.derived_identities(axon)
    assert derived["sims"][1]["operator"] == "CT"
    xiaomi = load_profile("xiaomi-mi10-dual", resolve_env=False)
    assert xiaomi.user_agent.endswith("Channel-client-000001")


# ----------------------------------------------------------------------------- broken files


def expectations(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect:").strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect:")
    ]


def test_there_are_broken_examples() -> None:
    assert len(INVALID) >= 15


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_broken_example_fails_as_documented(path: Path) -> None:
    wanted = expectations(path)
    assert wanted, f"{path.name} has no '# expect:' line"
    check = check_profile(str(path), resolve_env=False)
    assert not check.ok
    lines = [str(issue) for issue in check.errors]
    for expected in wanted:
        assert any(f"{path}: {expected}" in line for line in lines), (expected, lines)
    with pytest.raises(ProfileError) as info:
        load_profile(str(path), resolve_env=False)
    assert info.value.message == "\n".join(lines)


def test_typo_suggestion_example_from_the_brief() -> None:
    text = MINIMAL.replace("operator:", "opertor:")
    check = check_profile_data(text, file="zte.yaml", resolve_env=False)
    assert [str(i) for i in check.errors] == [
        "zte.yaml: sims[0].opertor: unknown key (did you mean 'operator'?)"
    ]


def test_case_only_typo_is_suggested() -> None:
    check = check_profile_data(MINIMAL.replace("imsi:", "IMSI:"), resolve_env=False)
    assert "did you mean 'imsi'?" in check.errors[0].message


def test_unrelated_unknown_key_has_no_suggestion() -> None:
    check = check_profile_data(MINIMAL + "wallpaper: blue\n", resolve_env=False)
    assert [(i.path, i.message) for i in check.errors] == [("wallpaper", "unknown key")]


def test_errors_never_quote_secret_values() -> None:
    secret = "465b5ce8b199b49faa5f0a2ee238a6bQ"
    text = MINIMAL.replace("env:T_K", secret)
    check = check_profile_data(text, file="x.yaml", environ={"T_OPC": K})
    assert [str(i) for i in check.errors] == [
        "x.yaml: sims[0].auth.k: expected 32 hex digits or env:NAME"
    ]


# ----------------------------------------------------------------------------- env secrets


def test_env_secrets_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_K", K)
    monkeypatch.setenv("T_OPC", K.upper())
    direct = Profile.model_validate(yaml.safe_load(MINIMAL))  # no context: os.environ
    assert isinstance(direct.sims[0].auth, AkaAuth)
    assert direct.sims[0].auth.k.reveal() == K
    result = check_profile_data(MINIMAL)
    assert result.ok and result.profile is not None
    auth = result.profile.sims[0].auth
    assert isinstance(auth, AkaAuth) and auth.opc is not None
    assert auth.k.reveal() == K and auth.opc.reveal() == K.upper()
    assert K not in repr(result.profile) and K not in dump_profile(result.profile)


def test_missing_env_is_an_error_naming_key_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_K", K)
    monkeypatch.delenv("T_OPC", raising=False)
    with pytest.raises(ProfileError) as info:
        load_profile("zte-axon30-dual", environ={"AXON30_SIM1_K": K})
    message = info.value.message
    assert (
        "zte-axon30-dual.yaml: sims[1].auth.opc: environment variable AXON30_SIM2_OPC is not set"
        in message
    )
    assert message.count("is not set") == 3
    check = check_profile_data(MINIMAL, file="m.yaml")
    assert [str(i) for i in check.errors] == [
        "m.yaml: sims[0].auth.opc: environment variable T_OPC is not set"
    ]


def test_validate_without_env_gives_warnings() -> None:
    check = check_profile_data(MINIMAL, file="m.yaml", resolve_env=False, environ={"T_K": K})
    assert check.ok
    assert [str(w) for w in check.warnings] == [
        "m.yaml: sims[0].auth.opc: environment variable T_OPC is not set "
        "(needed to use this profile)"
    ]
    assert check.profile is not None
    auth = check.profile.sims[0].auth
    assert isinstance(auth, AkaAuth) and auth.opc is not None
    assert auth.k.reveal() == K
    with pytest.raises(ProfileError, match="T_OPC"):
        auth.opc.reveal()


def test_env_value_is_checked_even_without_env_resolution() -> None:
    check = check_profile_data(MINIMAL, resolve_env=False, environ={"T_K": "nothex", "T_OPC": K})
    assert [(i.path, i.message) for i in check.errors] == [
        ("sims[0].auth.k", "environment variable T_K does not hold 32 hex digits")
    ]


def test_operator_name_mismatch_is_a_warning() -> None:
    text = MINIMAL.replace("name: China Mobile", "name: China Telecom")
    check = check_profile_data(text, environ={"T_K": K, "T_OPC": K})
    assert check.ok
    assert [(w.path, w.message) for w in check.warnings] == [
        ("sims[0].operator.name", "460-00 belongs to China Mobile")
    ]


# ----------------------------------------------------------------------------- strict YAML


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("# nothing\n", "the file is empty"),
        ("just text", "expected a mapping of keys to values at the top, got a string"),
        ("a: 1\n---\nb: 2\n", "YAML syntax error at line 2"),
        ("base: &b {x: 1}\nother: *b\n", "line 1: anchors (&name) are not allowed"),
        ("other: *b\n", "line 1: aliases (*name) are not allowed"),
        ("<<: {schema_version: 1}\n", "line 1: merge keys (<<) are not allowed"),
        ("schema_version: 1\n1: x\n", "line 2: keys must be strings"),
        ("yes: 1\n", "line 1: keys must be strings"),
        ("? [a]\n: 1\n", "line 1: keys must be strings"),
        ("a: !!python/object:os.system x\n", "YAML syntax error at line 1"),
        ("a: \x07\n", "YAML error"),
        ("a: [" * 20 + "]" * 20, "the document is nested too deeply"),
    ],
)
def test_yaml_is_read_strictly(text: str, message: str) -> None:
    check = check_profile_data(text, file="f.yaml")
    assert not check.ok
    assert message in str(check.errors[0]), check.errors


def test_billion_laughs_is_refused_before_expansion() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    check = check_profile_data("\n".join(lines))
    assert "anchors (&name) are not allowed" in check.errors[0].message


def test_size_and_encoding_limits() -> None:
    big = MINIMAL.encode() + b"#" * MAX_PROFILE_BYTES
    assert "larger than 64 KiB" in check_profile_data(big).errors[0].message
    assert "larger than 64 KiB" in check_profile_data(big.decode()).errors[0].message
    assert "not UTF-8" in check_profile_data(b"a: \xff\xfe\n").errors[0].message
    bom = b"\xef\xbb\xbf" + MINIMAL.encode()
    assert check_profile_data(bom, environ={"T_K": K, "T_OPC": K}).ok


def test_big_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_PROFILE_BYTES + 10))
    with pytest.raises(ProfileError, match="larger than"):
        load_profile(str(path))


def test_a_directory_is_not_a_profile(tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    check = check_profile(str(folder))
    assert check.errors[0].message == "file not found"


def test_profile_records_its_origin(tmp_path: Path) -> None:
    path = tmp_path / "phone.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    loaded = load_profile(str(path), environ={"T_K": K, "T_OPC": K})
    assert loaded.name == "phone"
    assert loaded.source == str(path)


def test_relative_files_resolve_against_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "phone.yaml"
    text = MINIMAL.replace("    auth:", "    provisioning: {ca_file: certs/ca.pem}\n    auth:")
    path.write_text(text, encoding="utf-8")
    loaded = load_profile(str(path), environ={"T_K": K, "T_OPC": K})
    provisioning = loaded.sims[0].provisioning
    assert provisioning is not None and provisioning.ca_file == "certs/ca.pem"
    assert loaded.resolve_file(provisioning.ca_file) == tmp_path / "certs" / "ca.pem"
    assert loaded.resolve_file("/etc/ssl/ca.pem") == Path("/etc/ssl/ca.pem")
    assert load_profile("demo").source == str(PROFILES / "demo.yaml")
