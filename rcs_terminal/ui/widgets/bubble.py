"""One message in a conversation: its content and a line with time and delivery state.

Ours sit on the right, theirs on the left, as on a phone. The content comes from
:func:`rcs_terminal.domain.content.describe` (decoded once per bubble): text (sanitised,
shown as ``rich.text.Text``, never as markup), a rich card or carousel (:mod:`.card`), a
file (the render layer's :class:`~rcs_terminal.render.media.FileCard`), a location, our own
chip response (its display text, formats.md §4), shared device specifics, or a visible note
when the body could not be read. The meta line tells the time, the delivery state of ours
(sent / delivered / read / failed with its reason / SMS fallback) and an ad badge for
advertisement traffic (``maap.Traffic-Type``, formats.md §7).
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from rcs_terminal.domain.content import MessageContent, describe
from rcs_terminal.domain.message import DeliveryState, StoredMessage
from rcs_terminal.render.media import FileCard
from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.format import AD_BADGE, short_time, state_badge
from rcs_terminal.ui.widgets.card import card_widget
from rcs_terminal.ui.widgets.chips import Chip


def map_link(latitude: float, longitude: float) -> str:
    """A map link for a point (OpenStreetMap: works without an account or a key)."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
        f"#map=17/{latitude:.6f}/{longitude:.6f}"
    )


def _content_text(content: MessageContent) -> Text:
    if content.error is not None:
        return Text(f"\u26a0 Unreadable message: {sanitize(content.error)}", style="red")
    if content.kind == "text":
        return Text(sanitize(content.text or "", multiline=True))
    if content.kind == "response":
        return Text(sanitize(content.text or ""))
    if content.kind == "location" and content.location is not None:
        place = content.location
        text = Text("\U0001f4cd ")
        text.append(sanitize(place.label or "Location", max_length=100), style="bold")
        text.append(f"\n{place.latitude:.6f}, {place.longitude:.6f} ({place.crs})")
        text.append("\n" + map_link(place.latitude, place.longitude), style="dim underline")
        return text
    if content.kind == "shared-data" and content.shared_data is not None:
        shared = content.shared_data
        facts = (shared.device_model, shared.platform_version, shared.client_vendor)
        text = Text("\U0001f4f1 Device specifics shared\n", style="bold")
        text.append(sanitize(" · ".join(f for f in facts if f), max_length=120))
        return text
    if content.text is not None:  # text of a type this client does not know
        return Text(sanitize(content.text, multiline=True))
    return Text(f"[{sanitize(content.content_type or 'unknown content')}]", style="dim italic")


class MessageBubble(Vertical):
    """A message bubble (see the module docstring).

    Args:
        message: the stored message.
        now: the current time (epoch seconds), to write "HH:MM" or a date.
        tz: the time zone of the times shown (local when ``None``).
        available: the width the conversation has, in cells.
    """

    DEFAULT_CSS = """
    MessageBubble {
        height: auto;
        width: 1fr;
        padding: 0 1;
        margin-bottom: 1;
    }
    MessageBubble.-ours {
        align-horizontal: right;
    }
    MessageBubble > .bubble--text {
        width: auto;
        max-width: 80%;
        padding: 0 1;
        background: $panel;
    }
    MessageBubble.-ours > .bubble--text {
        background: $primary-muted;
    }
    MessageBubble.-error > .bubble--text {
        background: $error-muted;
    }
    MessageBubble > .bubble--meta {
        width: auto;
        max-width: 100%;
        color: $text-muted;
    }
    """

    def __init__(
        self, message: StoredMessage, *, now: float, tz: dt.tzinfo | None, available: int
    ) -> None:
        super().__init__(classes="-ours" if message.is_outgoing else "-theirs")
        self.message = message
        self.content = describe(message.content_type, message.body)
        self._now = now
        self._tz = tz
        self._available = available
        if self.content.error is not None:
            self.add_class("-error")

    @property
    def message_id(self) -> str:
        """The message's imdn.Message-ID."""
        return self.message.message_id

    def compose(self) -> ComposeResult:
        """The content, then the meta line."""
        content = self.content
        if content.botmessage is not None:
            yield card_widget(content.botmessage, max(20, self._available - 4))
        elif content.kind == "file" and content.file is not None:
            yield Static(FileCard(content.file), classes="bubble--text")
        else:
            yield Static(_content_text(content), classes="bubble--text")
        yield Static(self._meta(), classes="bubble--meta")

    def _meta(self) -> Text:
        message = self.message
        stamp = (
            message.created_at if message.is_outgoing else (message.sent_at or message.created_at)
        )
        meta = Text(short_time(stamp, self._now, self._tz), end="")
        if message.traffic_type:
            kind = message.traffic_type.strip().lower()
            label = AD_BADGE if kind == "advertisement" else sanitize(kind, max_length=24)
            meta.append("  ")
            meta.append(f" {label} ", style="bold black on yellow")
        if message.is_outgoing:
            meta.append("  ")
            meta.append_text(state_badge(message.state))
            if message.state in (DeliveryState.FAILED, DeliveryState.SMS_FALLBACK):
                reason = message.failure_reason
                if reason:
                    meta.append(f" ({sanitize(reason, max_length=60)})", style="dim")
        return meta

    def update_message(self, message: StoredMessage) -> None:
        """Show a new state of the same message (delivery receipts)."""
        if message == self.message:
            return
        self.message = message
        if self.is_mounted:
            self.query_one(".bubble--meta", Static).update(self._meta())

    @property
    def unread(self) -> bool:
        """An incoming message the user has not seen yet."""
        return self.message.state is DeliveryState.RECEIVED

    def chip_grid(self) -> Widget | None:
        """The card or carousel of this bubble, when it has chips."""
        for child in self.children:
            if hasattr(child, "chip_columns") and child.query(Chip):
                return child
        return None
