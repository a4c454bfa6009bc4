"""The UP suggested-action kinds: one typed class per action object, and their parsers.

GSMA RCC.07 (UP 2.4) chatbot schema, formats.md §2: an action holds exactly one category
(``urlAction``, ``dialerAction``, ``mapAction``, ``calendarAction``, ``composeAction``,
``deviceAction``, ``settingsAction``), which holds exactly one action object. Each object
maps to a frozen dataclass here with ``category``/``name`` class attributes and a
``to_dict`` giving the object back; :data:`ACTION_PARSERS` maps category and name to the
parser. The suggestion wrapper (display text, postback) lives in :mod:`.suggestions`.

Variants accepted: ``viewMode`` or ``webviewViewMode`` in any case (emitted as the RCC.07
``viewMode``), a missing ``application`` meaning ``browser``, coordinates given as strings
or swapped (kept as given, flagged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from rcs_terminal.protocol.up._json import (
    COORDINATES_SWAPPED,
    MISSING_FIELD,
    VARIANT_SPELLING,
    JsonObject,
    put,
)

# --------------------------------------------------------------------------- enums


class UrlApplication(StrEnum):
    """Where ``openUrl`` opens its URL."""

    BROWSER = "browser"
    WEBVIEW = "webview"


class ViewMode(StrEnum):
    """How much of the screen a webview takes (``viewMode``/``webviewViewMode``)."""

    FULL = "full"
    HALF = "half"
    TALL = "tall"


class RecordingType(StrEnum):
    """What ``composeRecordingMessage`` records."""

    AUDIO = "AUDIO"
    VIDEO = "VIDEO"


# --------------------------------------------------------------------------- action kinds


@dataclass(frozen=True)
class OpenUrl:
    """``urlAction.openUrl``: open a web page in the browser or a webview.

    Attributes:
        url: the page.
        application: browser (the default when absent) or webview.
        view_mode: webview size, from ``viewMode`` or ``webviewViewMode``.
        parameters: webview parameters (RCC.07 ``parameters``).
        description: accessibility text (the ``webviewViewMode`` variant's companion).
    """

    category: ClassVar[str] = "urlAction"
    name: ClassVar[str] = "openUrl"

    url: str
    application: UrlApplication = UrlApplication.BROWSER
    view_mode: ViewMode | None = None
    parameters: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action object (``viewMode`` spelling, as in the RCC.07 schema)."""
        out: dict[str, Any] = {"url": self.url, "application": self.application.value}
        put(out, "viewMode", self.view_mode.value if self.view_mode else None)
        put(out, "parameters", self.parameters)
        put(out, "description", self.description)
        return out


@dataclass(frozen=True)
class DialPhoneNumber:
    """``dialerAction.dialPhoneNumber``: place a voice call."""

    category: ClassVar[str] = "dialerAction"
    name: ClassVar[str] = "dialPhoneNumber"

    phone_number: str
    fallback_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        out: dict[str, Any] = {"phoneNumber": self.phone_number}
        put(out, "fallbackUrl", self.fallback_url)
        return out


@dataclass(frozen=True)
class DialEnrichedCall:
    """``dialerAction.dialEnrichedCall``: place a call with a subject."""

    category: ClassVar[str] = "dialerAction"
    name: ClassVar[str] = "dialEnrichedCall"

    phone_number: str
    subject: str | None = None
    fallback_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        out: dict[str, Any] = {"phoneNumber": self.phone_number}
        put(out, "subject", self.subject)
        put(out, "fallbackUrl", self.fallback_url)
        return out


@dataclass(frozen=True)
class DialVideoCall:
    """``dialerAction.dialVideoCall``: place a video call."""

    category: ClassVar[str] = "dialerAction"
    name: ClassVar[str] = "dialVideoCall"

    phone_number: str
    fallback_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        out: dict[str, Any] = {"phoneNumber": self.phone_number}
        put(out, "fallbackUrl", self.fallback_url)
        return out


@dataclass(frozen=True)
class ShowLocation:
    """``mapAction.showLocation``: show a place (coordinates and label, or a query).

    Coordinates are kept as given, even when they look swapped (a parse warning says so,
    and :attr:`looks_swapped` tells the renderer).
    """

    category: ClassVar[str] = "mapAction"
    name: ClassVar[str] = "showLocation"

    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    query: str | None = None
    fallback_url: str | None = None

    @property
    def looks_swapped(self) -> bool:
        """True when latitude and longitude seem to have been exchanged."""
        return coordinates_look_swapped(self.latitude, self.longitude)

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        location: dict[str, Any] = {}
        put(location, "latitude", self.latitude)
        put(location, "longitude", self.longitude)
        put(location, "label", self.label)
        put(location, "query", self.query)
        out: dict[str, Any] = {"location": location}
        put(out, "fallbackUrl", self.fallback_url)
        return out


@dataclass(frozen=True)
class RequestLocationPush:
    """``mapAction.requestLocationPush``: ask the user to share their location."""

    category: ClassVar[str] = "mapAction"
    name: ClassVar[str] = "requestLocationPush"

    def to_dict(self) -> dict[str, Any]:
        """The (empty) action object."""
        return {}


@dataclass(frozen=True)
class CreateCalendarEvent:
    """``calendarAction.createCalendarEvent``; times are RFC 3339 strings, kept as given."""

    category: ClassVar[str] = "calendarAction"
    name: ClassVar[str] = "createCalendarEvent"

    start_time: str
    end_time: str
    title: str
    description: str | None = None
    fallback_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        out: dict[str, Any] = {
            "startTime": self.start_time,
            "endTime": self.end_time,
            "title": self.title,
        }
        put(out, "description", self.description)
        put(out, "fallbackUrl", self.fallback_url)
        return out


@dataclass(frozen=True)
class ComposeTextMessage:
    """``composeAction.composeTextMessage``: open the composer with a draft."""

    category: ClassVar[str] = "composeAction"
    name: ClassVar[str] = "composeTextMessage"

    phone_number: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        return {"phoneNumber": self.phone_number, "text": self.text}


@dataclass(frozen=True)
class ComposeRecordingMessage:
    """``composeAction.composeRecordingMessage``: record audio or video for a number."""

    category: ClassVar[str] = "composeAction"
    name: ClassVar[str] = "composeRecordingMessage"

    phone_number: str
    type: RecordingType

    def to_dict(self) -> dict[str, Any]:
        """The action object."""
        return {"phoneNumber": self.phone_number, "type": self.type.value}


@dataclass(frozen=True)
class RequestDeviceSpecifics:
    """``deviceAction.requestDeviceSpecifics``: ask to share device data (§5)."""

    category: ClassVar[str] = "deviceAction"
    name: ClassVar[str] = "requestDeviceSpecifics"

    def to_dict(self) -> dict[str, Any]:
        """The (empty) action object."""
        return {}


@dataclass(frozen=True)
class DisableAnonymization:
    """``settingsAction.disableAnonymization``: ask to reveal the user's number."""

    category: ClassVar[str] = "settingsAction"
    name: ClassVar[str] = "disableAnonymization"

    def to_dict(self) -> dict[str, Any]:
        """The (empty) action object."""
        return {}


@dataclass(frozen=True)
class EnableDisplayedNotifications:
    """``settingsAction.enableDisplayedNotifications``: ask to send "displayed" IMDNs."""

    category: ClassVar[str] = "settingsAction"
    name: ClassVar[str] = "enableDisplayedNotifications"

    def to_dict(self) -> dict[str, Any]:
        """The (empty) action object."""
        return {}


ActionKind = (
    OpenUrl
    | DialPhoneNumber
    | DialEnrichedCall
    | DialVideoCall
    | ShowLocation
    | RequestLocationPush
    | CreateCalendarEvent
    | ComposeTextMessage
    | ComposeRecordingMessage
    | RequestDeviceSpecifics
    | DisableAnonymization
    | EnableDisplayedNotifications
)
"""One typed class per UP action object."""


# --------------------------------------------------------------------------- parsing


def coordinates_look_swapped(latitude: float | None, longitude: float | None) -> bool:
    """True when a latitude/longitude pair looks exchanged.

    Either the latitude is impossible (beyond ±90) while the longitude would be a valid
    latitude, or the pair reads as a point in China once swapped (China spans roughly
    73-136°E and 3-54°N, so a "latitude" of 116 with a "longitude" of 40 is Beijing).
    """
    if latitude is None or longitude is None:
        return False
    if abs(latitude) > 90 >= abs(longitude):
        return True
    return 73 <= latitude <= 136 and 3 <= longitude <= 54


def _phone(o: JsonObject) -> str:
    return o.require_text("phoneNumber")


def _open_url(o: JsonObject) -> OpenUrl:
    o.check_keys(("url", "application", "viewMode", "webviewViewMode", "parameters", "description"))
    key = "viewMode"
    if "viewMode" not in o and "webviewViewMode" in o:
        key = "webviewViewMode"
        o.ctx.warn(o.at(key), VARIANT_SPELLING, "'webviewViewMode' read as 'viewMode'")
    application = o.enum("application", UrlApplication)
    if application is None:
        o.ctx.warn(o.path, MISSING_FIELD, "no 'application'; browser assumed")
    return OpenUrl(
        url=o.require_text("url"),
        application=application or UrlApplication.BROWSER,
        view_mode=o.enum(key, ViewMode),
        parameters=o.text("parameters"),
        description=o.text("description"),
    )


def _dial(o: JsonObject) -> DialPhoneNumber:
    o.check_keys(("phoneNumber", "fallbackUrl"))
    return DialPhoneNumber(_phone(o), o.text("fallbackUrl"))


def _dial_enriched(o: JsonObject) -> DialEnrichedCall:
    o.check_keys(("phoneNumber", "subject", "fallbackUrl"))
    return DialEnrichedCall(_phone(o), o.text("subject"), o.text("fallbackUrl"))


def _dial_video(o: JsonObject) -> DialVideoCall:
    o.check_keys(("phoneNumber", "fallbackUrl"))
    return DialVideoCall(_phone(o), o.text("fallbackUrl"))


def _show_location(o: JsonObject) -> ShowLocation:
    o.check_keys(("location", "fallbackUrl"))
    loc = o.require_obj("location")
    loc.check_keys(("latitude", "longitude", "label", "query"))
    lat, lon = loc.number("latitude"), loc.number("longitude")
    query = loc.text("query")
    if (lat is None) != (lon is None):
        raise loc.error("latitude and longitude must be given together")
    if lat is None and query is None:
        raise loc.error("location needs latitude/longitude or a query")
    if coordinates_look_swapped(lat, lon):
        loc.ctx.warn(
            loc.path, COORDINATES_SWAPPED, f"latitude {lat} / longitude {lon} look swapped"
        )
    return ShowLocation(lat, lon, loc.text("label"), query, o.text("fallbackUrl"))


def _calendar(o: JsonObject) -> CreateCalendarEvent:
    o.check_keys(("startTime", "endTime", "title", "description", "fallbackUrl"))
    return CreateCalendarEvent(
        start_time=o.require_text("startTime"),
        end_time=o.require_text("endTime"),
        title=o.require_text("title"),
        description=o.text("description"),
        fallback_url=o.text("fallbackUrl"),
    )


def _compose_text(o: JsonObject) -> ComposeTextMessage:
    o.check_keys(("phoneNumber", "text"))
    return ComposeTextMessage(_phone(o), o.require_text("text"))


def _compose_recording(o: JsonObject) -> ComposeRecordingMessage:
    o.check_keys(("phoneNumber", "type"))
    kind = o.enum("type", RecordingType)
    if kind is None:
        raise o.error("missing required member 'type'")
    return ComposeRecordingMessage(_phone(o), kind)


def _empty(cls: Callable[[], ActionKind]) -> Callable[[JsonObject], ActionKind]:
    def parse(o: JsonObject) -> ActionKind:
        o.check_keys(())
        return cls()

    return parse


ACTION_PARSERS: dict[str, dict[str, Callable[[JsonObject], ActionKind]]] = {
    "urlAction": {"openUrl": _open_url},
    "dialerAction": {
        "dialPhoneNumber": _dial,
        "dialEnrichedCall": _dial_enriched,
        "dialVideoCall": _dial_video,
    },
    "mapAction": {
        "showLocation": _show_location,
        "requestLocationPush": _empty(RequestLocationPush),
    },
    "calendarAction": {"createCalendarEvent": _calendar},
    "composeAction": {
        "composeTextMessage": _compose_text,
        "composeRecordingMessage": _compose_recording,
    },
    "deviceAction": {"requestDeviceSpecifics": _empty(RequestDeviceSpecifics)},
    "settingsAction": {
        "disableAnonymization": _empty(DisableAnonymization),
        "enableDisplayedNotifications": _empty(EnableDisplayedNotifications),
    },
}
"""Category key -> action object key -> parser of that object."""
