"""Unit tests of the TUI's non-widget pieces: iCalendar files, peer normalisation,
formatting, the port's SIM summary, and the fake handset itself."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uihelpers import NOW, make_handset

from rcs_terminal.domain.events import MessageReceived, MessageStateChanged
from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.protocol.up import CreateCalendarEvent, Reply
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.format import short_time, sim_state, state_badge
from rcs_terminal.ui.ics import build_ics, write_ics
from rcs_terminal.ui.port import HandsetPort, SimStatus
from rcs_terminal.ui.screens.new_conversation import normalize_peer

# ----------------------------------------------------------------------------- iCalendar

EVENT = CreateCalendarEvent(
    start_time="2024-06-01T08:00:00+08:00",
    end_time="2024-06-01T12:18:00+08:00",
    title="G2; 上海, 北京\\南",
    description="line one\nline two " + "长" * 40,
)


def test_ics_is_utc_escaped_and_folded() -> None:
    text = build_ics(EVENT, uid="u1", now=NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert "DTSTART:20240601T000000Z\r\n" in text
    assert "DTEND:20240601T041800Z\r\n" in text
    assert "DTSTAMP:20240529T162640Z\r\n" in text
    assert "SUMMARY:G2\\; 上海\\, 北京\\\\南\r\n" in text
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "DESCRIPTION:line one\\nline two " + "长" * 40 + "\r\n" in unfolded


def test_ics_refuses_bad_times(tmp_path: Path) -> None:
    bad = CreateCalendarEvent(start_time="tomorrow", end_time="later", title="x")
    with pytest.raises(RcsTerminalError, match="RFC 3339"):
        write_ics(bad, tmp_path, uid="u", now=NOW)
    assert list(tmp_path.iterdir()) == []


def test_ics_file_name_is_safe(tmp_path: Path) -> None:
    path = write_ics(EVENT, tmp_path, uid="../../etc/passwd", now=NOW)
    assert path.parent == tmp_path and path.name == ".._.._etc_passwd.ics"


@given(st.text(max_size=300))
def test_ics_lines_never_exceed_75_octets(title: str) -> None:
    event = CreateCalendarEvent("2024-06-01T08:00:00Z", "2024-06-01T09:00:00Z", title or "t")
    text = build_ics(event, uid="u", now=NOW)
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    assert text.count("BEGIN:VEVENT") == 1  # no line break smuggled in


# ----------------------------------------------------------------------------- small helpers


@pytest.mark.parametrize(
    ("typed", "peer"),
    [
        ("+8613900000003", "tel:+8613900000003"),
        ("139 0000-0003", "tel:13900000003"),
        ("tel:+86-139", "tel:+86-139"),
        ("sip:bot@botplatform.lab", "sip:bot@botplatform.lab"),
        ("bot@botplatform.lab", "sip:bot@botplatform.lab"),
        ("hello there", None),
        ("sip:", None),
        ("12", None),
    ],
)
def test_normalize_peer(typed: str, peer: str | None) -> None:
    assert normalize_peer(typed) == peer


def test_times_and_states() -> None:
    assert short_time(NOW - 60, NOW, dt.UTC) == "16:25"
    assert short_time(NOW - 86_400, NOW, dt.UTC) == "05-28 16:26"
    assert state_badge("displayed").plain == "✓✓ read"
    assert state_badge("sms_fallback").plain == "✉ SMS"
    status = SimStatus(1, "CM", None, "+86", "provisioned", "failed", "408 \x1b[2J")
    assert sim_state(status).plain == "✗ failed: 408 ␛[2J"


@pytest.mark.parametrize(
    ("provisioning", "registration", "state"),
    [
        ("idle", "unregistered", "unregistered"),
        ("provisioning", "unregistered", "provisioning"),
        ("provisioned", "registering", "registering"),
        ("waiting-otp", "registered", "waiting-otp"),
        ("failed", "unregistered", "failed"),
        ("provisioned", "failed", "failed"),
    ],
)
def test_sim_status_state(provisioning: str, registration: str, state: str) -> None:
    assert SimStatus(1, "CM", None, "+86", provisioning, registration).state == state


# ----------------------------------------------------------------------------- fake handset


def test_fake_handset_is_a_handset_port() -> None:
    handset = make_handset(dataset=False)
    assert isinstance(handset, HandsetPort)
    assert handset.store.conversations() == []
    handset.close()


def test_fake_handset_stores_first_then_announces() -> None:
    handset = make_handset(dataset=False)
    events: list[object] = []
    handset.bus.subscribe(events.append)
    mid = asyncio.run(
        handset.send_suggestion_response(1, data.TRAVEL_BOT, Reply("更多车次 More", "more"))
    )
    sent = handset.store.message(mid)
    assert sent is not None and sent.content_type == ct.BOTSUGGESTION_RESPONSE
    assert sent.text_preview == "更多车次 More" and sent.state == "delivered"
    assert isinstance(events[0], MessageStateChanged) and events[0].message_id == mid
    received = [e for e in events if isinstance(e, MessageReceived)]
    assert len(received) == 1  # the carousel reply
    reply = handset.store.message(received[0].message_id)
    assert reply is not None and reply.content_type.startswith("multipart/mixed")
    assert len(handset.trace) == 4  # MESSAGE + 202 out, MESSAGE + 200 in
    handset.close()
