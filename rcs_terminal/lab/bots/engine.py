"""The bot script interpreter: what a lab chatbot answers to each message, without I/O.

:class:`BotEngine` runs one :class:`~.model.BotScript`. For every message a user sends
(content type and body, as taken out of the CPIM wrapper) :meth:`BotEngine.handle` returns
the messages to send back, built by :mod:`.payloads`. Per user it keeps a small
:class:`Conversation`: whether the welcome was sent, the state a rule set, the last
work-order number. The order of decisions:

1. what arrived is classified (:func:`classify`): text; a suggestion response (a tapped
   chip or menu entry: its postback data); a shared location (geolocation push, or a
   ``geo:`` text); a file (FT-HTTP descriptor); device specifics; anything else;
2. the first message of a conversation gets the ``welcome`` reply;
3. the first rule that matches gives its reply and the conversation's next state: rules
   tied to the current state first, then the others, in file order. A suggestion response
   matches by postback data, else by its label as text. Keywords match case-insensitively;
   ASCII words as whole words ("hi" does not match "this"), Chinese anywhere in the text;
   ``patterns`` are regular expressions searched in the text;
4. otherwise a location, file or device specifics gets ``on_location`` / ``on_file`` /
   ``on_device_specifics``; a tapped *action* (dial, open URL...) gets no answer; anything
   else gets ``default`` (unless the welcome was just sent).

Conversations are bounded (the least recently active are forgotten first), so a load test
cannot grow the lab without limit. Time comes from an injectable clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rcs_terminal.errors import ParseError
from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.media import MediaFile, MediaLibrary
from rcs_terminal.lab.bots.payloads import (
    CHINA_TIME,
    FilePublisher,
    OutgoingMessage,
    RenderContext,
    build_message,
)
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.up import contenttypes
from rcs_terminal.protocol.up.fthttp import FileTransferInfo, parse_fthttp
from rcs_terminal.protocol.up.geopush import parse_geo_uri, parse_geopush
from rcs_terminal.protocol.up.sharedclientdata import parse_shared_client_data
from rcs_terminal.protocol.up.suggestions import parse_suggestion_response

__all__ = ["BotEngine", "Conversation", "Incoming", "IncomingKind", "classify"]

MAX_CONVERSATIONS = 10_000
"""Conversations kept per bot (the least recently active are forgotten first)."""

IncomingKind = Literal["text", "response", "location", "file", "device", "other"]
_ASCII_WORD = re.compile(r"[A-Za-z0-9 _.-]+\Z")


@dataclass(frozen=True)
class Incoming:
    """What a user sent, classified.

    Attributes:
        kind: text, a suggestion response, a location, a file, device specifics, other.
        text: the text (for a response: the chip's label).
        postback: a suggestion response's postback data.
        action: True when the response is to a suggested action (not a reply).
        values: placeholder values taken from it (``latitude``, ``file_name``...).
    """

    kind: IncomingKind
    text: str = ""
    postback: str | None = None
    action: bool = False
    values: dict[str, str] = field(default_factory=dict)


def _location(latitude: float, longitude: float, label: str | None) -> Incoming:
    values = {"latitude": f"{latitude:.5f}", "longitude": f"{longitude:.5f}"}
    if label:
        values["label"] = label
    return Incoming("location", values=values)


def _file(info: FileTransferInfo) -> Incoming:
    values = {
        "file_name": info.file.name or "",
        "file_size": str(info.file.size),
        "file_type": info.file.content_type,
    }
    return Incoming("file", values=values)


def classify(content_type: str, body: bytes) -> Incoming:
    """Classify a received payload (never raises: what cannot be read is ``other``)."""
    base = contenttypes.base_type(content_type)
    try:
        if base == contenttypes.TEXT_PLAIN:
            text = body.decode("utf-8", "replace").strip()
            if text[:4].lower() == "geo:":
                push = parse_geo_uri(text)
                return _location(push.latitude, push.longitude, push.label)
            return Incoming("text", text=text)
        if base == contenttypes.BOTSUGGESTION_RESPONSE:
            response = parse_suggestion_response(body)
            return Incoming(
                "response",
                text=response.display_text,
                postback=response.postback_data,
                action=response.response_type == "action",
            )
        if base == contenttypes.GEOPUSH:
            push = parse_geopush(body)
            return _location(push.latitude, push.longitude, push.label)
        if base == contenttypes.FTHTTP:
            return _file(parse_fthttp(body))
        if base == contenttypes.BOTSHAREDCLIENTDATA:
            device = parse_shared_client_data(body)
            values = {
                "device_model": device.device_model or "",
                "platform_version": device.platform_version or "",
                "client_vendor": device.client_vendor or "",
                "client_version": device.client_version or "",
            }
            return Incoming("device", values=values)
        if base == contenttypes.MULTIPART_MIXED:
            for part in parse_multipart(body, content_type):
                inner = str(part.content_type)
                if contenttypes.base_type(inner) != contenttypes.BOTSUGGESTION:
                    return classify(inner, part.body)
    except ParseError:
        pass
    return Incoming("other")


@dataclass
class Conversation:
    """What a bot remembers about one user.

    Attributes:
        user: the user's URI.
        welcomed: the welcome reply was sent.
        state: the state the last rule set (for the next message only).
        ticket: the last work-order number issued (``{new_ticket}``).
        received: messages received from the user.
    """

    user: str
    welcomed: bool = False
    state: str | None = None
    ticket: str | None = None
    received: int = 0


class BotEngine:
    """Runs one bot script (see the module docstring).

    Args:
        script: the bot.
        media: the sample media (file names to URLs).
        publish: publishes the sample file of a file message (default: a descriptor
            pointing at the media route, see :meth:`MediaLibrary.descriptor`).
        clock: the time source (seconds since the epoch).
        new_id: fresh identifiers (geolocation push ids).
        max_conversations: conversations kept.
    """

    def __init__(
        self,
        script: model.BotScript,
        media: MediaLibrary,
        *,
        publish: FilePublisher | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        max_conversations: int = MAX_CONVERSATIONS,
    ) -> None:
        self.script = script
        self.media = media
        self.publish = publish or self._descriptor
        self.clock = clock
        self.new_id = new_id
        self.max_conversations = max_conversations
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()
        self._tickets = itertools.count(1)

    # ------------------------------------------------------------------ conversations

    def conversation(self, user: str) -> Conversation:
        """The conversation with ``user`` (created when new)."""
        key = user.lower()
        found = self._conversations.get(key)
        if found is None:
            found = Conversation(user)
            self._conversations[key] = found
            while len(self._conversations) > self.max_conversations:
                self._conversations.popitem(last=False)
        else:
            self._conversations.move_to_end(key)
        return found

    def reset(self, user: str | None = None) -> None:
        """Forget the conversation with ``user`` (any URI of the same number; all when None):
        the welcome is sent again."""
        if user is None:
            self._conversations.clear()
            return
        number = _number(user).lower()
        for key in [
            key
            for key, conversation in self._conversations.items()
            if key == user.lower() or _number(conversation.user).lower() == number
        ]:
            del self._conversations[key]

    # ------------------------------------------------------------------ handling

    def handle(self, user: str, content_type: str, body: bytes) -> list[OutgoingMessage]:
        """The messages to send back for what ``user`` sent."""
        conversation = self.conversation(user)
        conversation.received += 1
        incoming = classify(content_type, body)
        replies: list[model.ReplyRef] = []
        first = not conversation.welcomed
        conversation.welcomed = True
        if first and self.script.welcome is not None:
            replies.append(self.script.welcome)
        rule = self._match(incoming, conversation.state)
        conversation.state = rule.set_state if rule is not None else None
        if rule is not None:
            replies.append(rule.reply)
        else:
            fallback = self._fallback(incoming)
            if fallback is not None and not (first and replies):
                replies.append(fallback)
        return self.render(_unique(replies), conversation, incoming)

    def render(
        self,
        replies: list[model.ReplyRef],
        conversation: Conversation | None = None,
        incoming: Incoming | None = None,
    ) -> list[OutgoingMessage]:
        """Build the messages of ``replies`` (names, messages or lists of messages)."""
        now = dt.datetime.fromtimestamp(self.clock(), CHINA_TIME)
        ctx = RenderContext(
            media=self.media,
            now=now,
            lookup=self._lookup(conversation, incoming, now),
            publish=self.publish,
            entity=self.script.uri,
            new_id=self.new_id,
        )
        out: list[OutgoingMessage] = []
        for reply in replies:
            out.extend(build_message(message, ctx) for message in self.messages_of(reply))
        return out

    def messages_of(self, reply: model.ReplyRef) -> list[model.Message]:
        """The messages a reply stands for."""
        if isinstance(reply, str):
            return self.script.replies[reply]
        if isinstance(reply, model.Message):
            return [reply]
        return reply

    # ------------------------------------------------------------------ matching

    def _match(self, incoming: Incoming, state: str | None) -> model.Rule | None:
        rules = self.script.rules
        ordered = [r for r in rules if state is not None and r.state == state]
        ordered += [r for r in rules if r.state is None]
        if incoming.kind == "response" and incoming.postback is not None:
            for rule in ordered:
                if incoming.postback in rule.postbacks:
                    return rule
        if incoming.kind not in ("text", "response"):
            return None
        for rule in ordered:
            if any(_contains(incoming.text, word) for word in rule.keywords):
                return rule
            if any(re.search(pattern, incoming.text) for pattern in rule.patterns):
                return rule
            if incoming.kind == "text" and rule.catches_all:
                return rule
        return None

    def _fallback(self, incoming: Incoming) -> model.ReplyRef | None:
        script = self.script
        if incoming.kind == "location":
            return script.on_location or script.default
        if incoming.kind == "file":
            return script.on_file or script.default
        if incoming.kind == "device":
            return script.on_device_specifics or script.default
        if incoming.kind == "response" and incoming.action:
            return None  # the user dialled, opened a link...: nothing to say
        return script.default

    # ------------------------------------------------------------------ placeholders

    def _lookup(
        self, conversation: Conversation | None, incoming: Incoming | None, now: dt.datetime
    ) -> Callable[[str], str | None]:
        def lookup(name: str) -> str | None:
            if incoming is not None and name in incoming.values:
                return incoming.values[name]
            if name == "text" and incoming is not None:
                return incoming.text
            if name == "postback" and incoming is not None:
                return incoming.postback
            if name == "bot":
                return self.script.name
            if conversation is None:
                return None
            if name == "user":
                return _number(conversation.user)
            if name == "new_ticket":
                stamp = now.astimezone(CHINA_TIME).strftime("%Y%m%d")
                conversation.ticket = f"{stamp}{next(self._tickets):04d}"
                return conversation.ticket
            if name == "ticket":
                return conversation.ticket or "暂无"
            return None

        return lookup

    def _descriptor(self, file: MediaFile, thumbnail: MediaFile | None) -> FileTransferInfo:
        now = dt.datetime.fromtimestamp(self.clock(), CHINA_TIME)
        return self.media.descriptor(file, thumbnail, now)


def _contains(text: str, keyword: str) -> bool:
    if _ASCII_WORD.match(keyword):
        pattern = rf"(?<![A-Za-z0-9]){re.escape(keyword)}(?![A-Za-z0-9])"
        return re.search(pattern, text, re.IGNORECASE) is not None
    return keyword.casefold() in text.casefold()


def _number(uri: str) -> str:
    """The user part of a URI (``+8613800000001``), or the URI."""
    rest = uri.split(":", 1)[-1]
    return rest.split("@", 1)[0].split(";", 1)[0] or uri


def _unique(replies: list[model.ReplyRef]) -> list[model.ReplyRef]:
    out: list[model.ReplyRef] = []
    for reply in replies:
        if not any(reply is seen or reply == seen for seen in out):
            out.append(reply)
    return out
