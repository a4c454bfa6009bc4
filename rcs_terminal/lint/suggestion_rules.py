"""Lint rules for chips, suggested actions, chip lists and the persistent menu.

GSMA RCC.07 (UP 2.4) suggestions and menu schema, formats.md §2, §3, §6 and §10:

=================================== ========= ==============================================
rule                                severity  checks
=================================== ========= ==============================================
``suggestion.display-text.length``  error     ``displayText`` 1..25 characters
``suggestion.display-text.bytes``   warning   China: over 25 UTF-8 bytes
``suggestion.postback.length``      error     ``postback.data`` at most 2048 characters
``suggestion.postback.empty``       warning   empty ``postback.data``
``chiplist.count``                  error     a chip list holds 1..11 chips
``action.open-url.scheme``          error     ``openUrl.url`` is http/https
``action.open-url.parameters``      error     webview ``parameters`` 1..200 characters
``action.fallback-url.scheme``      error     ``fallbackUrl`` is http/https
``action.phone-number``             error     a plausible telephone number
``action.dial.subject.length``      error     enriched-call ``subject`` 1..60 characters
``action.show-location.location``   error     coordinates XOR query, not both
``action.show-location.coordinates`` error    latitude ±90, longitude ±180
``action.show-location.label``      error     ``label`` 1..100 characters
``action.show-location.query``      error     ``query`` 1..200 characters
``action.calendar.time``            error     RFC 3339 start and end (warning: lenient form)
``action.calendar.order``           error     the end comes after the start
``action.calendar.title``           error     ``title`` 1..100 characters
``action.calendar.description``     error     ``description`` 1..500 characters
``action.compose.text``             error     draft ``text`` 1..100 characters
``action.kind.operator``            warning   China: dialEnrichedCall / settingsAction
``menu.depth``                      error     levels (GSMA 3, China 2)
``menu.entries.count``              error     entries per level (GSMA 1..5; China top 3, sub 5)
``menu.display-text.length``        error     a submenu's ``displayText`` 1..25 characters
=================================== ========= ==============================================
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rcs_terminal.lint.checks import length, parse_time, phone_number, rfc3339, web_url
from rcs_terminal.lint.findings import Finding, error, warning
from rcs_terminal.lint.operators import OperatorLimits
from rcs_terminal.protocol.up.actions import (
    ActionKind,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    OpenUrl,
    ShowLocation,
)
from rcs_terminal.protocol.up.menu import Menu, MenuEntry, Submenu
from rcs_terminal.protocol.up.suggestions import Action, ChipList, Suggestion

DISPLAY_TEXT = (1, 25)
POSTBACK_MAX = 2048
CHIP_LIST = (1, 11)


def check_suggestion(item: Suggestion, path: str, limits: OperatorLimits) -> Iterator[Finding]:
    """Check one chip at ``path`` (the ``{"reply"|"action": ...}`` item)."""
    is_action = isinstance(item, Action)
    inner = f"{path}.action" if is_action else f"{path}.reply"
    label_path = f"{inner}.displayText"
    yield from length(
        label_path,
        "suggestion.display-text.length",
        item.display_text,
        *DISPLAY_TEXT,
        "displayText",
    )
    if limits.display_text_bytes is not None:
        size = len(item.display_text.encode("utf-8"))
        if size > limits.display_text_bytes:
            yield warning(
                label_path,
                "suggestion.display-text.bytes",
                f"displayText is {size} UTF-8 bytes; {limits.name} may count bytes",
                f"{limits.display_text_bytes} bytes",
            )
    data = item.postback_data
    if data is not None:
        data_path = f"{inner}.postback.data"
        if len(data) > POSTBACK_MAX:
            yield error(
                data_path,
                "suggestion.postback.length",
                f"postback data is {len(data)} characters long",
                f"{POSTBACK_MAX} characters",
            )
        elif not data:
            yield warning(data_path, "suggestion.postback.empty", "postback data is empty")
    if isinstance(item, Action):
        kind_path = f"{inner}.{item.category}.{item.name}"
        yield from check_action(item.kind, kind_path, limits)


def check_action(kind: ActionKind, path: str, limits: OperatorLimits) -> Iterator[Finding]:
    """Check one action object at ``path`` (e.g. ``...action.urlAction.openUrl``)."""
    if kind.name in limits.absent_actions:
        yield warning(
            path,
            "action.kind.operator",
            f"{kind.category}.{kind.name} is not among the actions {limits.name} terminals "
            "are specified to render",
        )
    fallback = getattr(kind, "fallback_url", None)
    yield from web_url(f"{path}.fallbackUrl", "action.fallback-url.scheme", fallback, "fallbackUrl")
    if isinstance(kind, OpenUrl):
        yield from web_url(f"{path}.url", "action.open-url.scheme", kind.url, "url")
        yield from length(
            f"{path}.parameters",
            "action.open-url.parameters",
            kind.parameters,
            1,
            200,
            "parameters",
        )
    elif isinstance(kind, DialPhoneNumber | DialVideoCall | DialEnrichedCall):
        yield from phone_number(f"{path}.phoneNumber", "action.phone-number", kind.phone_number)
        if isinstance(kind, DialEnrichedCall):
            yield from length(
                f"{path}.subject", "action.dial.subject.length", kind.subject, 1, 60, "subject"
            )
    elif isinstance(kind, ShowLocation):
        yield from _location(kind, f"{path}.location")
    elif isinstance(kind, CreateCalendarEvent):
        yield from _calendar(kind, path)
    elif isinstance(kind, ComposeTextMessage | ComposeRecordingMessage):
        yield from phone_number(f"{path}.phoneNumber", "action.phone-number", kind.phone_number)
        if isinstance(kind, ComposeTextMessage):
            yield from length(f"{path}.text", "action.compose.text", kind.text, 1, 100, "text")


def _location(kind: ShowLocation, path: str) -> Iterator[Finding]:
    has_coordinates = kind.latitude is not None and kind.longitude is not None
    if has_coordinates and kind.query is not None:
        yield error(
            path,
            "action.show-location.location",
            "location holds both coordinates and a query; the schema allows one of them",
            "latitude/longitude XOR query",
        )
    if kind.latitude is not None and abs(kind.latitude) > 90:
        yield error(
            f"{path}.latitude",
            "action.show-location.coordinates",
            f"latitude {kind.latitude} is out of range",
            "-90..90",
        )
    if kind.longitude is not None and abs(kind.longitude) > 180:
        yield error(
            f"{path}.longitude",
            "action.show-location.coordinates",
            f"longitude {kind.longitude} is out of range",
            "-180..180",
        )
    yield from length(f"{path}.label", "action.show-location.label", kind.label, 1, 100, "label")
    yield from length(f"{path}.query", "action.show-location.query", kind.query, 1, 200, "query")


def _calendar(kind: CreateCalendarEvent, path: str) -> Iterator[Finding]:
    yield from rfc3339(f"{path}.startTime", "action.calendar.time", kind.start_time, "startTime")
    yield from rfc3339(f"{path}.endTime", "action.calendar.time", kind.end_time, "endTime")
    start, end = parse_time(kind.start_time), parse_time(kind.end_time)
    if start is not None and end is not None and end <= start:
        yield error(
            f"{path}.endTime",
            "action.calendar.order",
            "the event ends before it starts" if end < start else "the event ends when it starts",
            "endTime after startTime",
        )
    yield from length(f"{path}.title", "action.calendar.title", kind.title, 1, 100, "title")
    yield from length(
        f"{path}.description",
        "action.calendar.description",
        kind.description,
        1,
        500,
        "description",
    )


def check_chip_list(chips: ChipList, limits: OperatorLimits, base: str = "$") -> Iterator[Finding]:
    """Check a chip list document (``{"suggestions": [...]}``)."""
    count = len(chips.suggestions)
    low, high = CHIP_LIST
    if not low <= count <= high:
        yield error(
            f"{base}.suggestions",
            "chiplist.count",
            f"the chip list holds {count} chips",
            f"{low}..{high} chips",
        )
    for index, item in enumerate(chips.suggestions):
        yield from check_suggestion(item, f"{base}.suggestions[{index}]", limits)


def check_menu(menu: Menu, limits: OperatorLimits, base: str = "$") -> Iterator[Finding]:
    """Check a persistent menu whose ``{"menu": ...}`` wrapper is at ``base``."""
    if menu.depth > limits.menu_levels:
        yield error(
            f"{base}.menu",
            "menu.depth",
            f"the menu has {menu.depth} levels",
            f"{limits.menu_levels} levels ({limits.name})",
        )
    yield from _level(menu.entries, f"{base}.menu", 1, limits)


def _level(
    entries: Sequence[MenuEntry], path: str, level: int, limits: OperatorLimits
) -> Iterator[Finding]:
    high = limits.menu_top_entries if level == 1 else limits.menu_sub_entries
    count = len(entries)
    if not 1 <= count <= high:
        where = "top level" if level == 1 else f"level {level}"
        yield error(
            f"{path}.entries",
            "menu.entries.count",
            f"the {where} holds {count} entries",
            f"1..{high} entries ({limits.name})",
        )
    for index, entry in enumerate(entries):
        entry_path = f"{path}.entries[{index}]"
        if isinstance(entry, Submenu):
            yield from length(
                f"{entry_path}.menu.displayText",
                "menu.display-text.length",
                entry.display_text,
                *DISPLAY_TEXT,
                "submenu displayText",
            )
            yield from _level(entry.entries, f"{entry_path}.menu", level + 1, limits)
        else:
            yield from check_suggestion(entry, entry_path, limits)
