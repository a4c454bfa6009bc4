"""What the lab's chatbots received: a bounded log per bot, read with a long poll.

Every message a bot receives (the user's texts, tapped chips, shared locations, files,
device specifics, and the delivery and display notifications of what the bot sent) is
kept here as an :class:`InboxEntry`, so a chatbot developer can read the handset's answers
with ``GET /maap/inbox?bot=<id>&after=<seq>&wait=<seconds>`` (:mod:`.maap`) and a test can
wait for them without sleeping. Sequence numbers are global and increase by one per entry;
each bot keeps its last :data:`MAX_ENTRIES` entries.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_ENTRIES", "BotInbox", "InboxEntry"]

MAX_ENTRIES = 1000
"""Entries kept per bot (the oldest go first)."""
_TEXTUAL = ("text/", "application/xml", "message/")


@dataclass(frozen=True)
class InboxEntry:
    """One message a bot received.

    Attributes:
        seq: the global sequence number.
        bot: the bot's id.
        sender: the user's URI (the network-asserted identity).
        message_id: the CPIM ``imdn.Message-ID``, if any.
        content_type: the payload's content type (inside CPIM).
        body: the payload.
        time: when it arrived (seconds since the epoch).
        kind: ``message`` or ``imdn``.
        imdn: for an IMDN: ``{"messageId": ..., "kind": ..., "status": ...}`` of the
            message of the bot it reports on.
        traffic_type: the CPIM ``maap.Traffic-Type``, if any.
    """

    seq: int
    bot: str
    sender: str
    message_id: str | None
    content_type: str
    body: bytes = field(repr=False)
    time: float
    kind: str = "message"
    imdn: dict[str, str] | None = None
    traffic_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as the inbox API returns it (a textual body as text, else base64)."""
        text: str | None = None
        lowered = self.content_type.lower()
        if lowered.startswith(_TEXTUAL) or "json" in lowered or "+xml" in lowered:
            try:
                text = self.body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        out: dict[str, Any] = {
            "seq": self.seq,
            "bot": self.bot,
            "from": self.sender,
            "messageId": self.message_id,
            "kind": self.kind,
            "contentType": self.content_type,
            "body": text if text is not None else base64.b64encode(self.body).decode("ascii"),
            "bodyEncoding": "utf8" if text is not None else "base64",
            "time": round(self.time, 3),
        }
        if self.imdn is not None:
            out["imdn"] = self.imdn
        if self.traffic_type is not None:
            out["trafficType"] = self.traffic_type
        return out


class BotInbox:
    """The received messages of every bot, with long-poll reads.

    Args:
        max_entries: entries kept per bot.
        clock: the time source for the entries' times.
    """

    def __init__(
        self, *, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._seq = 0
        self._entries: dict[str, deque[InboxEntry]] = {}
        self._changed: dict[str, asyncio.Event] = {}

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest entry (0 when there is none)."""
        return self._seq

    def add(
        self,
        bot: str,
        sender: str,
        content_type: str,
        body: bytes,
        *,
        message_id: str | None = None,
        kind: str = "message",
        imdn: dict[str, str] | None = None,
        traffic_type: str | None = None,
    ) -> InboxEntry:
        """Record a received message and wake the readers waiting for ``bot``."""
        self._seq += 1
        entry = InboxEntry(
            self._seq,
            bot,
            sender,
            message_id,
            content_type,
            body,
            self.clock(),
            kind,
            imdn,
            traffic_type,
        )
        self._entries.setdefault(bot, deque(maxlen=self.max_entries)).append(entry)
        for key in (bot, "*"):
            event = self._changed.pop(key, None)
            if event is not None:
                event.set()
        return entry

    def entries(self, bot: str | None = None, after: int = 0) -> list[InboxEntry]:
        """Entries of ``bot`` (all bots when None) newer than sequence number ``after``."""
        if bot is None:
            found = [e for queue in self._entries.values() for e in queue if e.seq > after]
            return sorted(found, key=lambda entry: entry.seq)
        return [entry for entry in self._entries.get(bot, ()) if entry.seq > after]

    async def wait(self, bot: str | None, after: int, timeout: float) -> list[InboxEntry]:
        """Entries newer than ``after``, waiting up to ``timeout`` seconds for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            found = self.entries(bot, after)
            remaining = deadline - loop.time()
            if found or remaining <= 0:
                return found
            event = self._changed.setdefault(bot or "*", asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return self.entries(bot, after)
