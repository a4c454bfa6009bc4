"""Property tests: profiles round-trip through YAML; any input gives a profile or errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain import sim as ids
from rcs_terminal.domain.profile import (
    Profile,
    ProfileCheck,
    check_profile_data,
    dump_profile,
    load_profile,
)
from rcs_terminal.errors import ProfileError

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
DEMO = (PROFILES / "demo.yaml").read_bytes()
HEX = "0123456789abcdefABCDEF"
KNOWN_MCC_MNC = [(op.mcc, mnc) for op in ids.KNOWN_OPERATORS for mnc in op.mncs]

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30
).filter(str.strip)
token = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12
)
hex32 = st.text(alphabet=HEX, min_size=32, max_size=32)


@st.composite
def sims(draw: st.DrawFn, slot: int) -> dict[str, Any]:
    mcc, mnc = draw(
        st.sampled_from(KNOWN_MCC_MNC)
        | st.tuples(
            st.text(alphabet="0123456789", min_size=3, max_size=3),
            st.text(alphabet="0123456789", min_size=2, max_size=3),
        )
    )
    msin = draw(
        st.text(alphabet="0123456789", min_size=15 - 3 - len(mnc), max_size=15 - 3 - len(mnc))
    )
    body = draw(st.text(alphabet="0123456789", min_size=13, max_size=13)) + str(slot)
    auth: dict[str, Any]
    if draw(st.booleans()):
        auth = {
            "scheme": "aka",
            "k": draw(hex32),
            draw(st.sampled_from(["op", "opc"])): draw(hex32),
        }
        if draw(st.booleans()):
            auth["sqn"] = draw(st.text(alphabet=HEX, min_size=12, max_size=12))
    else:
        auth = {"scheme": "digest"}
        if draw(st.booleans()):
            auth["username"] = draw(text)
        if draw(st.booleans()):
            auth["password"] = draw(text.filter(lambda s: not s.startswith("env:")))
    entry: dict[str, Any] = {
        "slot": slot,
        "imei": body + ids.luhn_check_digit(body),
        "operator": {"name": draw(text), "mcc": mcc, "mnc": mnc},
        "imsi": mcc + mnc + msin,
        "msisdn": "+86" + draw(st.text(alphabet="0123456789", min_size=11, max_size=11)),
        "auth": auth,
        "enabled": draw(st.booleans()),
    }
    choice = draw(st.sampled_from(["none", "lab", "url", "ims"]))
    if choice == "lab":
        entry["provisioning"] = {"url": "lab", "https": draw(st.booleans())}
    elif choice == "url":
        entry["provisioning"] = {
            "url": f"https://config.rcs.test:{draw(st.integers(1, 65535))}/",
            "sms_port": draw(st.integers(0, 65535)),
        }
    elif choice == "ims":
        entry["ims"] = {
            "pcscf": ["127.0.0.1:5060", "[::1]:5061", "pcscf.rcs.test"][: draw(st.integers(1, 3))],
            "transport": draw(st.sampled_from(["udp", "tcp", "tls"])),
            "home_domain": "rcs.test",
            "impi": "alice@rcs.test",
            "impu": ["sip:alice@rcs.test", "tel:+8613800000001"],
        }
    return entry


@st.composite
def profile_data(draw: st.DrawFn) -> dict[str, Any]:
    slots = draw(st.sampled_from([[1], [2], [1, 2], [2, 1]]))
    sim_list = [draw(sims(slot)) for slot in slots]
    default = draw(st.sampled_from(slots))
    for entry in sim_list:
        if entry["slot"] == default:
            entry["enabled"] = True
    data: dict[str, Any] = {
        "schema_version": 1,
        "device": {
            "vendor": draw(text),
            "model": draw(text),
            "sw_version": draw(text),
            "os": {"version": draw(token)},
            "client": {"vendor": draw(token), "version": draw(token)},
        },
        "sims": sim_list,
        "messaging": {"default_sim": default, "is_composing": draw(st.booleans())},
    }
    if draw(st.booleans()):
        data["device"]["battery_minutes"] = draw(st.integers(0, 100_000))
    if draw(st.booleans()):
        data["description"] = draw(text)
    return data


@given(profile_data())
def test_round_trip_through_yaml(data: dict[str, Any]) -> None:
    first = Profile.model_validate(data)
    written = dump_profile(first, reveal_secrets=True)
    check = check_profile_data(written.encode())
    assert check.ok, check.errors
    assert check.profile == first
    # Written again, the text is identical (a fixed point).
    assert dump_profile(check.profile, reveal_secrets=True) == written
    # Masked, no inline secret is shown.
    masked = yaml.safe_load(dump_profile(first))
    for entry in masked["sims"]:
        for key in ("k", "op", "opc", "password"):
            assert entry["auth"].get(key, "***") == "***"


def assert_result(result: ProfileCheck) -> None:
    assert isinstance(result, ProfileCheck)
    assert (result.profile is None) == bool(result.errors)
    for issue in (*result.errors, *result.warnings):
        assert issue.message


@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    assert_result(check_profile_data(data, resolve_env=False))


@given(st.text(alphabet="abc:-[]{}&*!|>'\" \n\t#?,0123456789", max_size=200))
def test_yaml_shaped_text(data: str) -> None:
    assert_result(check_profile_data(data, resolve_env=False))


@given(
    st.lists(
        st.tuples(st.integers(0, len(DEMO)), st.integers(0, 8), st.binary(max_size=6)),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_valid_file(edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(DEMO)
    for position, length, insert in edits:
        data[position : position + length] = insert
    assert_result(check_profile_data(bytes(data), resolve_env=False))


leaf_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["env:X", "env:", "lab", "aka", "digest", "00", "460", "+86", "sip:a@b"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        found = [path]
        for key, value in node.items():
            found.extend(_leaves(value, (*path, key)))
        return found
    if isinstance(node, list):
        found = [path]
        for index, value in enumerate(node):
            found.extend(_leaves(value, (*path, index)))
        return found
    return [path]


DEMO_DATA = yaml.safe_load(DEMO)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
DEMO_PATHS = [p for p in _leaves(DEMO_DATA) if p]


@given(st.sampled_from(DEMO_PATHS), leaf_values, st.booleans())
def test_mutated_valid_structure(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    data = copy.deepcopy(DEMO_DATA)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    result = check_profile_data(yaml.dump(data, Dumper=DUMPER), resolve_env=False)
    assert_result(result)
    for issue in result.errors:
        # The key path of each error is a real path into the document (or a line number).
        assert issue.path == "" or issue.path.startswith(
            ("line ", "schema_version", "description", "device", "sims", "messaging")
        )


def test_load_profile_raises_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    for data in (b"\x00\x01", b"sims: [", b"- 1", DEMO.replace(b"slot: 2", b"slot: 1")):
        path.write_bytes(data)
        with pytest.raises(ProfileError):
            load_profile(str(path))
