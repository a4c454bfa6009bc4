"""The scrolling list of a conversation's bubbles, which also notices what the user saw.

:meth:`MessageList.show` takes the conversation's messages as the store returns them and
updates the bubbles in place: new messages are appended, known ones only get their new
delivery state, so a receipt does not redraw the conversation. After every layout change
and scroll the list checks which unread incoming bubbles are on screen and posts
:class:`MessageList.Seen` for them once: that is when a handset marks a message displayed
(and sends the display notification it asked for, RFC 5438 §7.1.3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Static

from rcs_terminal.domain.message import StoredMessage
from rcs_terminal.ui.widgets.bubble import MessageBubble
from rcs_terminal.ui.widgets.card import CarouselWidget


class MessageList(VerticalScroll):
    """A conversation's messages, oldest at the top.

    Args:
        clock: epoch seconds now (for "HH:MM" against a date).
        tz: the time zone of the times shown (local when ``None``).
    """

    DEFAULT_CSS = """
    MessageList {
        height: 1fr;
        padding-top: 1;
        scrollbar-size-vertical: 1;
    }
    MessageList > #empty-note {
        width: 1fr;
        content-align: center middle;
    }
    """

    class Seen(Message):
        """Unread incoming messages came on screen.

        Attributes:
            message_ids: their imdn.Message-IDs.
        """

        def __init__(self, message_ids: tuple[str, ...]) -> None:
            super().__init__()
            self.message_ids = message_ids

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        tz: dt.tzinfo | None,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._tz = tz
        self._bubbles: dict[int, MessageBubble] = {}
        self._reported: set[str] = set()

    def compose(self) -> ComposeResult:
        """A note for the empty conversation (removed with the first message)."""
        yield Static(Text("No messages yet.", style="dim italic"), id="empty-note")

    def on_mount(self) -> None:
        """Stay at the newest message while the user has not scrolled away (a chat)."""
        self.anchor()

    @property
    def bubbles(self) -> list[MessageBubble]:
        """The bubbles, oldest first."""
        return list(self._bubbles.values())

    async def show(self, messages: Sequence[StoredMessage]) -> list[MessageBubble]:
        """Bring the bubbles up to date with ``messages`` (oldest first).

        Returns:
            The bubbles that were added.
        """
        at_end = self.is_vertical_scroll_end or not self._bubbles
        added: list[MessageBubble] = []
        now = self._clock()
        available = max(24, self.size.width or self.app.size.width)
        for message in messages:
            bubble = self._bubbles.get(message.id)
            if bubble is None:
                bubble = MessageBubble(message, now=now, tz=self._tz, available=available)
                self._bubbles[message.id] = bubble
                added.append(bubble)
            else:
                bubble.update_message(message)
        if added:
            await self.query("#empty-note").remove()
            await self.mount_all(added)
        if added and at_end:
            self.call_after_refresh(self._follow)
        else:
            self.call_after_refresh(self.check_seen)
        return added

    def _follow(self) -> None:
        """Scroll to the newest message, then see what is on screen."""
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self.check_seen)

    def check_seen(self) -> None:
        """Post :class:`Seen` for unread incoming bubbles now on screen (once each)."""
        if not self.is_mounted or not self.screen.is_current:
            return
        # Virtual geometry follows the scroll offset at once; screen regions lag a frame.
        size = self.scrollable_content_region.size
        window = Region(int(self.scroll_x), int(self.scroll_y), size.width, size.height)
        seen = tuple(
            bubble.message_id
            for bubble in self._bubbles.values()
            if bubble.unread
            and bubble.message_id not in self._reported
            and bubble.virtual_region.overlaps(window)
        )
        if seen:
            self._reported.update(seen)
            self.post_message(self.Seen(seen))

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling may bring unread messages on screen."""
        super().watch_scroll_y(old, new)
        self.call_after_refresh(self.check_seen)

    def on_resize(self, event: Resize) -> None:
        """Refit the carousels; a bigger list may show unread messages."""
        for carousel in self.query(CarouselWidget):
            carousel.fit(max(20, event.size.width - 4))
        self.call_after_refresh(self.check_seen)
