"""Shared client data: ``application/vnd.gsma.botsharedclientdata.v1.0+json``.

After the user accepts a ``requestDeviceSpecifics`` action the client sends
``{"sharedData": {"deviceSpecifics": {...}}}`` (formats.md §5). The schema's lengths
(deviceModel 1..10, platformVersion 1..20, clientVendor 1..4, clientVersion 1..15) are
broken even by the operators' own examples, so they are not enforced here: parsing is
lenient on lengths, strict on types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rcs_terminal.protocol.up._json import (
    Context,
    JsonInput,
    JsonObject,
    PayloadWarning,
    dump_json,
    load_object,
    put,
)


@dataclass(frozen=True, kw_only=True)
class DeviceSpecifics:
    """The device data a user agreed to share with a chatbot.

    Attributes:
        device_model: ``deviceModel``.
        platform_version: ``platformVersion`` (OS version).
        client_vendor: ``clientVendor`` (the autoconfig vendor code).
        client_version: ``clientVersion``.
        battery_remaining_minutes: ``batteryRemainingMinutes``, when known.
        warnings: what was tolerated while parsing (not part of equality).
    """

    device_model: str | None = None
    platform_version: str | None = None
    client_vendor: str | None = None
    client_version: str | None = None
    battery_remaining_minutes: int | None = None
    warnings: tuple[PayloadWarning, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The shared-data document."""
        specifics: dict[str, Any] = {}
        put(specifics, "deviceModel", self.device_model)
        put(specifics, "platformVersion", self.platform_version)
        put(specifics, "clientVendor", self.client_vendor)
        put(specifics, "clientVersion", self.client_version)
        put(specifics, "batteryRemainingMinutes", self.battery_remaining_minutes)
        return {"sharedData": {"deviceSpecifics": specifics}}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised (the wire body)."""
        return dump_json(self.to_dict())


def build_device_specifics(
    device_model: str,
    platform_version: str,
    client_vendor: str,
    client_version: str,
    battery_minutes: int | None = None,
) -> bytes:
    """The body the client sends after the user accepts ``requestDeviceSpecifics``."""
    return DeviceSpecifics(
        device_model=device_model,
        platform_version=platform_version,
        client_vendor=client_vendor,
        client_version=client_version,
        battery_remaining_minutes=battery_minutes,
    ).to_json()


_FIELDS = (
    "deviceModel",
    "platformVersion",
    "clientVendor",
    "clientVersion",
    "batteryRemainingMinutes",
)


def parse_shared_client_data(data: JsonInput) -> DeviceSpecifics:
    """Parse a shared-client-data body.

    Raises:
        PayloadParseError: when it is not ``{"sharedData": {"deviceSpecifics": {...}}}`` or
            a member has the wrong type.
    """
    ctx = Context()
    root = JsonObject(load_object(data), "$", ctx)
    root.check_keys(("sharedData",))
    shared = root.require_obj("sharedData")
    shared.check_keys(("deviceSpecifics",))
    o = shared.require_obj("deviceSpecifics")
    o.check_keys(_FIELDS)
    return DeviceSpecifics(
        device_model=o.text("deviceModel"),
        platform_version=o.text("platformVersion"),
        client_vendor=o.text("clientVendor"),
        client_version=o.text("clientVersion"),
        battery_remaining_minutes=o.integer("batteryRemainingMinutes"),
        warnings=tuple(ctx.warnings),
    )
