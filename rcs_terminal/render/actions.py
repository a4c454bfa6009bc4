"""What a suggested action does, told at a glance: an icon, a plain label and its target.

Each UP action kind (GSMA RCC.07 suggested actions, formats.md §2) gets an emoji icon for
terminals and a bracketed text label for ``--plain`` output (logs, diffs, screen readers):
open URL 🔗 ``[url]``, dial 📞 ``[dial]``, video call 📹 ``[video call]``, map 📍 ``[map]``...
Icons that are text-presentation characters by default (✉, 🎙, ⚙) carry the emoji
variation selector U+FE0F, so that terminals and Rich's cell measurement agree that they
take two cells.

:func:`action_target` spells out where the action goes (the URL, the number, the place,
the event), sanitised, for the persistent-menu tree and for ``--full`` renderings.
"""

from __future__ import annotations

from rcs_terminal.protocol.up.actions import (
    ActionKind,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    DisableAnonymization,
    EnableDisplayedNotifications,
    OpenUrl,
    RecordingType,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    UrlApplication,
)
from rcs_terminal.render.sanitize import sanitize, sanitize_url

_VS16 = "\ufe0f"

_BADGES: dict[str, tuple[str, str]] = {
    "openUrl": ("\U0001f517", "[url]"),
    "dialPhoneNumber": ("\U0001f4de", "[dial]"),
    "dialEnrichedCall": ("\U0001f4de", "[enriched call]"),
    "dialVideoCall": ("\U0001f4f9", "[video call]"),
    "showLocation": ("\U0001f4cd", "[map]"),
    "requestLocationPush": ("\U0001f4e1", "[share location]"),
    "createCalendarEvent": ("\U0001f4c5", "[calendar]"),
    "composeTextMessage": ("\u2709" + _VS16, "[compose]"),
    "composeRecordingMessage": ("\U0001f399" + _VS16, "[record]"),
    "requestDeviceSpecifics": ("\U0001f4f1", "[device]"),
    "disableAnonymization": ("\u2699" + _VS16, "[settings]"),
    "enableDisplayedNotifications": ("\u2699" + _VS16, "[settings]"),
}

_TARGET_CELLS = 60


def action_badge(kind: ActionKind, *, plain: bool = False) -> str:
    """The icon (or, when ``plain``, the bracketed label) of an action kind."""
    icon, label = _BADGES.get(kind.name, ("\u2022", "[action]"))
    if isinstance(kind, OpenUrl) and kind.application is UrlApplication.WEBVIEW and plain:
        return "[webview]"
    if isinstance(kind, ComposeRecordingMessage) and plain:
        return "[record video]" if kind.type is RecordingType.VIDEO else "[record audio]"
    return label if plain else icon


def _coordinates(kind: ShowLocation) -> str:
    if kind.latitude is None or kind.longitude is None:
        return ""
    return f"{_degrees(kind.latitude)}, {_degrees(kind.longitude)}"


def _degrees(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def action_target(kind: ActionKind) -> str:
    """A one-line, sanitised description of what the action opens or sends."""
    text: str
    if isinstance(kind, OpenUrl):
        mode = f" ({kind.application.value}"
        mode += f", {kind.view_mode.value})" if kind.view_mode else ")"
        text = sanitize_url(kind.url, max_length=_TARGET_CELLS) + mode
    elif isinstance(kind, DialPhoneNumber | DialVideoCall):
        text = "tel " + sanitize(kind.phone_number, max_length=32)
    elif isinstance(kind, DialEnrichedCall):
        subject = f" \u201c{sanitize(kind.subject, max_length=40)}\u201d" if kind.subject else ""
        text = "tel " + sanitize(kind.phone_number, max_length=32) + subject
    elif isinstance(kind, ShowLocation):
        place = sanitize(kind.label or kind.query or "", max_length=40)
        coordinates = _coordinates(kind)
        text = " ".join(part for part in (place, f"({coordinates})" if coordinates else "") if part)
        if kind.looks_swapped:
            text += " [coordinates look swapped]"
    elif isinstance(kind, RequestLocationPush):
        text = "asks for your location"
    elif isinstance(kind, CreateCalendarEvent):
        title = sanitize(kind.title, max_length=40)
        text = f"{title}: {sanitize(kind.start_time, max_length=32)} \u2192 "
        text += sanitize(kind.end_time, max_length=32)
    elif isinstance(kind, ComposeTextMessage):
        text = f"to {sanitize(kind.phone_number, max_length=32)}: "
        text += f"\u201c{sanitize(kind.text, max_length=40)}\u201d"
    elif isinstance(kind, ComposeRecordingMessage):
        text = f"{kind.type.value.lower()} to {sanitize(kind.phone_number, max_length=32)}"
    elif isinstance(kind, RequestDeviceSpecifics):
        text = "asks for device model, OS and client version"
    elif isinstance(kind, DisableAnonymization):
        text = "asks to reveal your number"
    elif isinstance(kind, EnableDisplayedNotifications):
        text = "asks to send read receipts"
    else:  # pragma: no cover - every kind is listed above
        text = kind.name
    return text
