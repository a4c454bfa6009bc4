"""Small pieces of presentation shared by the TUI's widgets: times, delivery states, SIMs.

Kept apart from the widgets so that every screen says "delivered" and "10:42" the same way,
and so that the time zone and the clock stay injectable (snapshot tests fix both).
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from rcs_terminal.domain.message import DeliveryState
from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.port import SimStatus

STATE_BADGES: dict[str, tuple[str, str]] = {
    DeliveryState.QUEUED: ("\u2026 queued", "dim"),
    DeliveryState.SENDING: ("\u2026 sending", "dim"),
    DeliveryState.SENT: ("\u2713 sent", "dim"),
    DeliveryState.DELIVERED: ("\u2713\u2713 delivered", "dim"),
    DeliveryState.DISPLAYED: ("\u2713\u2713 read", "bold green"),
    DeliveryState.FAILED: ("\u2717 failed", "bold red"),
    DeliveryState.SMS_FALLBACK: ("\u2709 SMS", "bold yellow"),
}
"""The label and style of each outgoing delivery state, as bubbles show it."""

REGISTRATION_STYLES: dict[str, tuple[str, str]] = {
    "registered": ("\u25cf", "green"),
    "registering": ("\u25cc", "yellow"),
    "provisioning": ("\u25cc", "yellow"),
    "waiting-otp": ("\u25cc", "yellow"),
    "waiting-terms": ("\u25cc", "yellow"),
    "failed": ("\u2717", "bold red"),
    "disabled": ("\u2717", "red"),
}
"""The mark and style of each SIM state in the status bar (others: a dim circle)."""

AD_BADGE = "\u5e7f\u544a AD"
"""The badge of advertisement traffic (``maap.Traffic-Type: advertisement``)."""


def local_time(timestamp: float, tz: dt.tzinfo | None) -> dt.datetime:
    """``timestamp`` (epoch seconds) as an aware datetime in ``tz`` (local when ``None``)."""
    return dt.datetime.fromtimestamp(timestamp, tz or dt.UTC).astimezone(tz)


def short_time(timestamp: float, now: float, tz: dt.tzinfo | None) -> str:
    """``HH:MM`` for today, ``MM-DD HH:MM`` for another day."""
    when, today = local_time(timestamp, tz), local_time(now, tz)
    if when.date() == today.date():
        return when.strftime("%H:%M")
    return when.strftime("%m-%d %H:%M")


def trace_time(timestamp: float, tz: dt.tzinfo | None) -> str:
    """``HH:MM:SS.mmm`` for trace records."""
    when = local_time(timestamp, tz)
    return when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def state_badge(state: str) -> Text:
    """The delivery-state label of an outgoing message."""
    label, style = STATE_BADGES.get(state, (state, "dim"))
    return Text(label, style=style)


def sim_name(status: SimStatus) -> str:
    """``SIM1 China Mobile`` (sanitised: the operator name comes from a profile)."""
    return f"SIM{status.slot} {sanitize(status.operator, max_length=24)}"


def sim_state(status: SimStatus) -> Text:
    """The SIM's state with its mark, and the failure reason when there is one."""
    state = status.state
    mark, style = REGISTRATION_STYLES.get(state, ("\u25cb", "dim"))
    text = Text(f"{mark} {state}", style=style)
    if status.reason and state in ("failed", "disabled"):
        text.append(f": {sanitize(status.reason, max_length=60)}", style=style)
    return text
