"""What a message says: a body and its content type decoded into one typed value.

Every front end needs the same answer to "what is this message?": ``rcs-terminal listen``
prints it as JSON, the scenario runner matches cards and chips in it, the TUI draws it.
:func:`describe` gives that answer for the body the store keeps (the content inside CPIM,
formats.md §1-§8), using only the protocol core's parsers (:mod:`~rcs_terminal.protocol.mime`,
:mod:`~rcs_terminal.protocol.multipart`, :mod:`~rcs_terminal.protocol.up`).

Kinds
-----

==============  ===============================================================
kind            content
==============  ===============================================================
``text``        ``text/plain`` (in its charset; undecodable bytes are replaced)
``card``        ``botmessage`` holding one ``generalPurposeCard`` (§1)
``carousel``    ``botmessage`` holding a ``generalPurposeCardCarousel`` (§1)
``file``        an FT-HTTP descriptor, ``rcs-ft-http+xml`` (§8)
``location``    a geolocation push, ``rcspushlocation+xml`` (§8)
``response``    our (or someone's) answer to a chip, ``botsuggestion.response`` (§4)
``shared-data`` device specifics, ``botsharedclientdata`` (§5)
``unknown``     anything else, and anything that does not parse
==============  ===============================================================

A ``multipart/mixed`` body is a content part followed by the chatbot's chip list
(``botsuggestion``, §3): the chips become :attr:`MessageContent.suggestions` and the first
other part decides the kind. Chips inside a card stay in the card.

Nothing is ever dropped. An unknown content type is described as ``unknown`` with its type
(and its text, when it is ``text/*``); a body that does not parse is ``unknown`` too, with the
parser's message in :attr:`MessageContent.error`: the store still holds the raw bytes, so the
message is shown as unreadable rather than lost. Tolerated irregularities (lenient parsing,
an extra part) are listed in :attr:`MessageContent.warnings`. :func:`describe` never raises.
:func:`message_record` is a received message as ``rcs-terminal listen --json`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rcs_terminal.domain.message import StoredMessage
from rcs_terminal.errors import ParseError
from rcs_terminal.protocol.mime import ContentType, parse_content_type
from rcs_terminal.protocol.multipart import Part, parse_multipart
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.protocol.up.botmessage import (
    BotMessage,
    Carousel,
    GeneralPurposeCard,
    parse_botmessage,
)
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo, parse_fthttp
from rcs_terminal.protocol.up.geopush import LocationPush, parse_geopush
from rcs_terminal.protocol.up.sharedclientdata import DeviceSpecifics, parse_shared_client_data
from rcs_terminal.protocol.up.suggestions import (
    Suggestion,
    SuggestionResponse,
    parse_chip_list,
    parse_suggestion_response,
)

__all__ = ["ContentKind", "MessageContent", "describe", "message_record"]

ContentKind = Literal[
    "text", "card", "carousel", "file", "location", "response", "shared-data", "unknown"
]

SUMMARY_LENGTH = 120
"""Characters kept by :attr:`MessageContent.summary`."""
CHIPS_ALONE = "a chip list without content"


@dataclass(frozen=True)
class MessageContent:
    """A message body, decoded (see the module docstring).

    Attributes:
        kind: what the body is.
        content_type: the media type of the part that decided the kind, without
            parameters (``text/plain``, ``application/vnd.gsma.botmessage.v1.0+json``...).
        text: the text of a ``text`` message, the display text of a ``response``, the text
            of an ``unknown`` ``text/*`` body; None otherwise.
        card: the card of a ``card`` message.
        carousel: the carousel of a ``carousel`` message.
        botmessage: the whole botmessage of a ``card`` or ``carousel`` message.
        suggestions: the chip list the sender attached (multipart), in order.
        file: the descriptor of a ``file`` message.
        location: the place of a ``location`` message.
        response: the chip response of a ``response`` message.
        shared_data: the device specifics of a ``shared-data`` message.
        warnings: what was tolerated while decoding, for people to read.
        error: why the body could not be read, for an unreadable ``unknown`` message.
    """

    kind: ContentKind
    content_type: str
    text: str | None = None
    card: GeneralPurposeCard | None = None
    carousel: Carousel | None = None
    botmessage: BotMessage | None = None
    suggestions: tuple[Suggestion, ...] = ()
    file: FileTransferInfo | None = None
    location: LocationPush | None = None
    response: SuggestionResponse | None = None
    shared_data: DeviceSpecifics | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def is_readable(self) -> bool:
        """False when the body did not parse (``error`` says why)."""
        return self.error is None

    @property
    def suggestion_texts(self) -> list[str]:
        """The display texts of the attached chips, in order."""
        return [s.display_text for s in self.suggestions]

    @property
    def summary(self) -> str:
        """One line for lists and logs: the text, a card's title, a file's name..."""
        line = self._summary_text()
        line = " ".join(line.split())
        return line if len(line) <= SUMMARY_LENGTH else line[: SUMMARY_LENGTH - 1] + "…"

    def _summary_text(self) -> str:
        if self.kind in ("text", "response") and self.text is not None:
            return self.text
        if self.botmessage is not None:
            cards = self.botmessage.cards
            first = next((c.title or c.description or "" for c in cards), "")
            if self.carousel is not None:
                return f"[carousel of {len(cards)}] {first}".strip()
            return first or "[card]"
        if self.file is not None:
            return f"[file] {self.file.file.name or self.file.file.content_type}"
        if self.location is not None:
            place = self.location.label or f"{self.location.latitude},{self.location.longitude}"
            return f"[location] {place}"
        if self.shared_data is not None:
            return "[device specifics]"
        if self.error is not None:
            return f"[unreadable {self.content_type}]"
        if self.text is not None:
            return self.text
        return f"[{self.content_type}]"

    def card_dict(self) -> dict[str, Any] | None:
        """The card or carousel as its wire object (``{"generalPurposeCard": {...}}`` or
        ``{"generalPurposeCardCarousel": {...}}``), or None."""
        if self.botmessage is None:
            return None
        message: dict[str, Any] = self.botmessage.to_dict()["message"]
        return message

    def to_json(self) -> dict[str, Any]:
        """The content as a JSON-compatible dict (what ``listen --json`` builds on)."""
        return {
            "kind": self.kind,
            "content_type": self.content_type,
            "text": self.text,
            "card": self.card_dict(),
            "suggestions": [s.to_dict() for s in self.suggestions],
            "file": _file_json(self.file),
            "location": _location_json(self.location),
            "response": None if self.response is None else self.response.to_dict()["response"],
            "shared_data": None
            if self.shared_data is None
            else self.shared_data.to_dict()["sharedData"],
            "summary": self.summary,
            "warnings": list(self.warnings),
            "error": self.error,
        }


def _entry_json(entry: FileInfo | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "name": entry.name,
        "size": entry.size,
        "content_type": entry.content_type,
        "url": entry.url,
        "until": entry.until,
    }


def _file_json(info: FileTransferInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    out = _entry_json(info.file) or {}
    out["thumbnail"] = _entry_json(info.thumbnail)
    out["disposition"] = info.disposition
    out["playing_length"] = info.playing_length
    return out


def _location_json(place: LocationPush | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {
        "latitude": place.latitude,
        "longitude": place.longitude,
        "label": place.label,
        "radius": place.radius,
        "crs": place.crs,
        "timestamp": place.timestamp,
    }


# ----------------------------------------------------------------------------- decoding


def describe(content_type: str, body: bytes) -> MessageContent:
    """Decode a message body (see the module docstring); never raises.

    Args:
        content_type: the body's Content-Type, parameters allowed.
        body: the body as carried inside CPIM (transfer encoding already undone).

    Returns:
        The decoded content; ``kind`` ``unknown`` with ``error`` set when it does not parse.
    """
    try:
        ctype = parse_content_type(content_type or "text/plain", error=ParseError)
    except ParseError as exc:
        return MessageContent("unknown", content_type.strip(), error=str(exc))
    if not ctype.is_multipart:
        return _single(ctype, body, ())
    try:
        parts = parse_multipart(body, ctype)
    except ParseError as exc:
        return MessageContent("unknown", ctype.media_type, error=str(exc))
    return _mixed(ctype, parts)


def _mixed(ctype: ContentType, parts: list[Part]) -> MessageContent:
    warnings: list[str] = []
    chips: tuple[Suggestion, ...] = ()
    content: list[tuple[ContentType, bytes]] = []
    for index, part in enumerate(parts, 1):
        try:
            part_type = part.content_type
        except ParseError as exc:
            return MessageContent("unknown", ctype.media_type, error=str(exc))
        if part_type.media_type == ct.BOTSUGGESTION:
            if chips:
                warnings.append(f"part {index}: a second chip list was ignored")
                continue
            try:
                chip_list = parse_chip_list(part.body)
            except ParseError as exc:
                return MessageContent("unknown", ctype.media_type, error=f"chip list: {exc!s}")
            chips = chip_list.suggestions
            warnings += (f"chip list: {w}" for w in chip_list.warnings)
        else:
            content.append((part_type, part.body))
    if not content:
        warnings.append(CHIPS_ALONE)
        return MessageContent("text", ct.BOTSUGGESTION, suggestions=chips, warnings=tuple(warnings))
    if len(content) > 1:
        extra = ", ".join(t.media_type for t, _ in content[1:])
        warnings.append(f"only the first content part is shown; also sent: {extra}")
    first_type, first_body = content[0]
    return _single(first_type, first_body, chips, tuple(warnings))


def _single(
    ctype: ContentType,
    body: bytes,
    chips: tuple[Suggestion, ...],
    warnings: tuple[str, ...] = (),
) -> MessageContent:
    media = ctype.media_type
    try:
        if media == ct.TEXT_PLAIN:
            text, note = _decode_text(body, ctype)
            found = MessageContent("text", media, text=text, warnings=note)
        elif media == ct.BOTMESSAGE:
            message = parse_botmessage(body)
            found = MessageContent(
                "card" if message.card is not None else "carousel",
                media,
                card=message.card,
                carousel=message.carousel,
                botmessage=message,
                warnings=tuple(str(w) for w in message.warnings),
            )
        elif media == ct.FTHTTP:
            found = MessageContent("file", media, file=parse_fthttp(body))
        elif media == ct.GEOPUSH:
            found = MessageContent("location", media, location=parse_geopush(body))
        elif media == ct.BOTSUGGESTION_RESPONSE:
            answer = parse_suggestion_response(body)
            found = MessageContent(
                "response",
                media,
                text=answer.display_text,
                response=answer,
                warnings=tuple(str(w) for w in answer.warnings),
            )
        elif media == ct.BOTSUGGESTION:
            chip_list = parse_chip_list(body)
            notes = (CHIPS_ALONE, *(f"chip list: {w}" for w in chip_list.warnings))
            found = MessageContent("text", media, warnings=notes)
            chips = chip_list.suggestions
        elif media == ct.BOTSHAREDCLIENTDATA:
            shared = parse_shared_client_data(body)
            found = MessageContent(
                "shared-data",
                media,
                shared_data=shared,
                warnings=tuple(str(w) for w in shared.warnings),
            )
        else:
            found = _unknown(ctype, body)
    except ParseError as exc:
        return MessageContent(
            "unknown", media, suggestions=chips, warnings=warnings, error=str(exc)
        )
    if chips or warnings:
        return _with(found, chips, warnings)
    return found


def _with(
    found: MessageContent, chips: tuple[Suggestion, ...], warnings: tuple[str, ...]
) -> MessageContent:
    return MessageContent(
        found.kind,
        found.content_type,
        text=found.text,
        card=found.card,
        carousel=found.carousel,
        botmessage=found.botmessage,
        suggestions=chips,
        file=found.file,
        location=found.location,
        response=found.response,
        shared_data=found.shared_data,
        warnings=warnings + found.warnings,
        error=found.error,
    )


def _unknown(ctype: ContentType, body: bytes) -> MessageContent:
    note = f"content type {ctype.media_type} is not one this client shows"
    if ctype.type == "text":
        text, more = _decode_text(body, ctype)
        return MessageContent("unknown", ctype.media_type, text=text, warnings=(note, *more))
    return MessageContent("unknown", ctype.media_type, warnings=(note,))


def _decode_text(body: bytes, ctype: ContentType) -> tuple[str, tuple[str, ...]]:
    """The text of a body in its charset; bytes that do not decode are replaced."""
    charset = ctype.charset or "utf-8"
    try:
        return body.decode(charset), ()
    except (LookupError, ValueError):  # unknown charset, or bytes not valid in it
        pass
    try:
        text = body.decode(charset, errors="replace")
    except (LookupError, ValueError):
        text = body.decode("utf-8", errors="replace")
        return text, (f"unknown charset {charset!r}; read as UTF-8",)
    return text, (f"the text is not valid {charset}; bad bytes were replaced",)


def message_record(message: StoredMessage) -> dict[str, Any]:
    """One received message as ``rcs-terminal listen --json`` prints it.

    Keys: ``sim``, ``from``, ``content_type``, ``kind``, ``text``, ``card`` (the card or
    carousel object, or None), ``suggestions`` (the attached chips' display texts),
    ``message_id``, ``traffic_type``, ``technology``, and ``error`` for an unreadable body.
    """
    content = describe(message.content_type, message.body)
    return {
        "sim": message.sim,
        "from": message.peer_uri,
        "content_type": message.content_type,
        "kind": content.kind,
        "text": content.text,
        "card": content.card_dict(),
        "suggestions": content.suggestion_texts,
        "message_id": message.message_id,
        "traffic_type": message.traffic_type,
        "technology": message.technology.value,
        "error": content.error,
    }
