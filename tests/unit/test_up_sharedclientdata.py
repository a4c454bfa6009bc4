"""Shared client data (device specifics): builder bytes and lenient parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"


def test_builder_writes_the_ua_body() -> None:
    body = up.build_device_specifics(
        "Axon 30", "Android 12", "ZTE", "RCSAndrd/2.4", battery_minutes=318
    )
    assert body == (
        b'{"sharedData":{"deviceSpecifics":{"deviceModel":"Axon 30","platformVersion":"Android 12",'
        b'"clientVendor":"ZTE","clientVersion":"RCSAndrd/2.4","batteryRemainingMinutes":318}}}'
    )
    no_battery = up.build_device_specifics("Mi 13", "MIUI 14", "XMI", "UP_2.4")
    assert b"battery" not in no_battery


def test_lengths_are_not_enforced() -> None:
    long = up.parse_shared_client_data(
        (CORPUS / "shared" / "device_specifics_long_model.json").read_bytes()
    )
    assert long.device_model == "HUAWEI Mate 60 Pro+" and long.client_vendor == "HUAWEI"
    assert long.battery_remaining_minutes == 0 and long.warnings == ()


def test_string_battery_is_accepted_with_a_warning() -> None:
    specifics = up.parse_shared_client_data(
        (CORPUS / "noisy" / "shared__battery_as_string.json").read_bytes()
    )
    assert specifics.battery_remaining_minutes == 95
    assert {w.path for w in specifics.warnings} == {
        "$.sharedData.deviceSpecifics.batteryRemainingMinutes",
        "$.sharedData.locale",
    }


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({}, "$"),
        ({"sharedData": {}}, "$.sharedData"),
        (
            {"sharedData": {"deviceSpecifics": {"deviceModel": ["x"]}}},
            "$.sharedData.deviceSpecifics.deviceModel",
        ),
        (
            {"sharedData": {"deviceSpecifics": {"batteryRemainingMinutes": 1.5}}},
            "$.sharedData.deviceSpecifics.batteryRemainingMinutes",
        ),
    ],
)
def test_wrong_shapes_name_the_path(doc: dict[str, object], where: str) -> None:
    with pytest.raises(PayloadParseError) as caught:
        up.parse_shared_client_data(doc)
    assert caught.value.where == where
