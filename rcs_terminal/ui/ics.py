"""Calendar events from chatbots, written as iCalendar files (RFC 5545).

A ``createCalendarEvent`` action (formats.md §2) asks the handset to add an event to the
user's calendar. A terminal has no calendar, so the emulator writes a one-event ``.ics``
file into the profile's folder (``paths.profile_dir(name) / "calendar"``), which any
calendar program can import, and shows it.

The chatbot's times are RFC 3339 date-times; they become UTC ``DTSTART``/``DTEND``
(``19970714T173000Z`` form, RFC 5545 §3.3.5). Text values are escaped (backslash,
semicolon, comma, line breaks: §3.3.11) after control characters are removed, and lines
are folded at 75 octets (§3.1), never inside a UTF-8 sequence.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.protocol.cpim import parse_rfc3339
from rcs_terminal.protocol.up import CreateCalendarEvent

PRODID = "-//rcs-terminal//5G Message handset emulator//EN"
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _utc(text: str, what: str) -> str:
    when = parse_rfc3339(text.strip())
    if when is None:
        raise RcsTerminalError(
            f"The chatbot's {what} {text[:40]!r} is not an RFC 3339 date-time.",
            title="Calendar event not created",
            hint="The event needs a start and end like 2024-06-01T08:00:00+08:00.",
        )
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    pieces: list[str] = []
    start, limit = 0, 75
    while start < len(data):
        end = min(len(data), start + limit)
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a UTF-8 sequence
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines start with a space
    return "\r\n ".join(pieces)


def build_ics(event: CreateCalendarEvent, *, uid: str, now: float) -> str:
    """The iCalendar text of ``event``.

    Args:
        event: the chatbot's calendar action.
        uid: a unique id for the event.
        now: epoch seconds (``DTSTAMP``).

    Raises:
        RcsTerminalError: a time is not an RFC 3339 date-time.
    """
    start = _utc(event.start_time, "start time")
    end = _utc(event.end_time, "end time")
    stamp = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "BEGIN:VEVENT",
        f"UID:{_escape(uid)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{_escape(event.title)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{_escape(event.description)}")
    if event.fallback_url:
        lines.append(f"URL:{_escape(event.fallback_url)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)


def write_ics(event: CreateCalendarEvent, directory: Path, *, uid: str, now: float) -> Path:
    """Write ``event`` as ``<directory>/<uid>.ics`` and return the path.

    Raises:
        RcsTerminalError: a time is not an RFC 3339 date-time, or the file cannot be written.
    """
    text = build_ics(event, uid=uid, now=now)
    path = directory / f"{_UNSAFE_NAME.sub('_', uid)}.ics"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise RcsTerminalError(
            f"Cannot write {path}: {exc.strerror or exc}", title="Calendar event not created"
        ) from exc
    return path
