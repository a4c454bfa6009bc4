"""From a bot script's message to the bytes a chatbot sends: content type and body.

Every payload is built with the UP payload models of :mod:`rcs_terminal.protocol.up`
(cards and carousels, chips of every action kind, FT-HTTP descriptors, geolocation pushes),
so what the lab's bots send is valid UP by construction (formats.md §1-§8). A message with
``chips`` becomes a ``multipart/mixed`` body: the content part, then the
``botsuggestion`` chip list (formats.md §3, boundary ``next`` as on Chinese platforms).

Texts, titles and descriptions may hold placeholders, expanded at send time:
``{user}`` (the user's number), ``{text}`` (what the user sent), ``{postback}``, ``{bot}``,
``{date}`` / ``{date+N}`` / ``{date-N}`` (today or N days away, China Standard Time),
``{time}``, ``{ticket}`` / ``{new_ticket}`` (a work-order number), and what a shared
location, file or device gave (``{latitude}``, ``{longitude}``, ``{label}``,
``{file_name}``, ``{file_size}``, ``{device_model}``...). ``{name|text}`` gives ``text``
when there is no value; unknown placeholders stay as written. Values coming from the user
are cut to 100 characters and their control characters replaced, and an expanded text is
cut to its field's limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.media import MediaFile, MediaLibrary
from rcs_terminal.protocol.cpim import format_rfc3339
from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.up import contenttypes
from rcs_terminal.protocol.up.botmessage import (
    BotMessage,
    CardContent,
    CardLayout,
    CardOrientation,
    CardWidth,
    Carousel,
    CarouselLayout,
    FontStyle,
    GeneralPurposeCard,
    ImageAlignment,
    Media,
    MediaHeight,
)
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo
from rcs_terminal.protocol.up.geopush import build_geopush
from rcs_terminal.protocol.up.suggestions import (
    Action,
    ActionKind,
    ChipList,
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
    Reply,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    Suggestion,
    UrlApplication,
    ViewMode,
)

__all__ = [
    "CHINA_TIME",
    "FilePublisher",
    "OutgoingMessage",
    "RenderContext",
    "build_chip",
    "build_message",
    "expand",
]

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
"""The lab bots' time zone (China Standard Time)."""
TEXT_PLAIN = "text/plain;charset=UTF-8"
MAX_VALUE = 100
"""Longest placeholder value taken from what the user sent."""
LOCATION_VALIDITY = dt.timedelta(hours=1)

FilePublisher = Callable[[MediaFile, MediaFile | None], FileTransferInfo]
"""Publishes a sample file (and its thumbnail) and returns the descriptor to send."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+)([+-][0-9]{1,4})?(?:\|([^{}]{0,100}))?\}")


@dataclass(frozen=True)
class OutgoingMessage:
    """One message a bot sends.

    Attributes:
        content_type: the payload's content type (inside the CPIM wrapper).
        body: the payload.
        kind: what it is (``text``, ``card``, ``carousel``, ``file``, ``location``,
            ``payload``), for logs and tests.
        traffic_type: the CPIM ``maap.Traffic-Type``, if any.
    """

    content_type: str
    body: bytes = field(repr=False)
    kind: str
    traffic_type: str | None = None


@dataclass
class RenderContext:
    """What building a message needs besides the message.

    Attributes:
        media: the sample media (file names to URLs).
        now: the current time (aware).
        lookup: the value of a placeholder, or None when it has none.
        publish: publishes a sample file for a file message.
        entity: the bot's URI (a geolocation push's ``entity``).
        new_id: a fresh identifier (geolocation push ids).
    """

    media: MediaLibrary
    now: dt.datetime
    lookup: Callable[[str], str | None]
    publish: FilePublisher
    entity: str
    new_id: Callable[[], str]


def _clean(value: str) -> str:
    value = value[:MAX_VALUE]
    return "".join(ch if ch.isprintable() else " " for ch in value)


def expand(text: str, ctx: RenderContext, limit: int | None = None) -> str:
    """Expand the placeholders of ``text`` (see the module docstring), cut to ``limit``."""
    if "{" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        name, offset = match.group(1), match.group(2)
        if name == "date":
            day = ctx.now.astimezone(CHINA_TIME).date() + dt.timedelta(days=int(offset or 0))
            return day.isoformat()
        if name == "time":
            return ctx.now.astimezone(CHINA_TIME).strftime("%H:%M")
        found = ctx.lookup(name)
        if found:
            return _clean(found)
        if match.group(3) is not None:
            return match.group(3)
        return match.group(0) if found is None else ""

    expanded = _PLACEHOLDER.sub(value, text)
    return expanded[:limit] if limit is not None else expanded


# --------------------------------------------------------------------------- chips


def _action_kind(chip: model.Chip, ctx: RenderContext) -> ActionKind | None:
    if chip.open_url is not None:
        webview = chip.webview is not None
        return OpenUrl(
            chip.open_url,
            UrlApplication.WEBVIEW if webview else UrlApplication.BROWSER,
            ViewMode(chip.webview) if chip.webview is not None else None,
        )
    if chip.dial is not None:
        return DialPhoneNumber(chip.dial)
    if chip.dial_video is not None:
        return DialVideoCall(chip.dial_video)
    if chip.dial_enriched is not None:
        return DialEnrichedCall(chip.dial_enriched.number, chip.dial_enriched.subject)
    if chip.show_location is not None:
        where = chip.show_location
        return ShowLocation(where.latitude, where.longitude, where.label, where.query)
    if chip.request_location is not None:
        return RequestLocationPush()
    if chip.calendar is not None:
        event = chip.calendar
        return CreateCalendarEvent(
            start_time=expand(event.start, ctx),
            end_time=expand(event.end, ctx),
            title=expand(event.title, ctx, 100),
            description=expand(event.description, ctx, 500) if event.description else None,
        )
    if chip.compose_text is not None:
        return ComposeTextMessage(chip.compose_text.number, chip.compose_text.text)
    if chip.compose_recording is not None:
        kind = RecordingType(chip.compose_recording.type.upper())
        return ComposeRecordingMessage(chip.compose_recording.number, kind)
    if chip.request_device_specifics is not None:
        return RequestDeviceSpecifics()
    if chip.disable_anonymization is not None:
        return DisableAnonymization()
    if chip.enable_displayed_notifications is not None:
        return EnableDisplayedNotifications()
    return None


def build_chip(chip: model.Chip, ctx: RenderContext) -> Suggestion:
    """The UP suggestion (reply or action) of a script chip."""
    kind = _action_kind(chip, ctx)
    if kind is None:
        return Reply(chip.text, chip.postback_data)
    return Action(chip.text, chip.postback_data, kind)


def _chips(chips: list[model.Chip], ctx: RenderContext) -> tuple[Suggestion, ...]:
    return tuple(build_chip(chip, ctx) for chip in chips)


# --------------------------------------------------------------------------- cards


def _media(spec: model.MediaSpec, ctx: RenderContext) -> Media:
    thumb = ctx.media.get(spec.thumbnail) if spec.thumbnail is not None else None
    size: int | None
    if spec.file is not None:
        file = ctx.media.get(spec.file)
        url, content_type, size = ctx.media.url(file.name), file.content_type, file.size
    else:
        assert spec.url is not None and spec.content_type is not None
        url, content_type, size = spec.url, spec.content_type, spec.size
    return Media(
        url=url,
        content_type=spec.content_type or content_type,
        file_size=size,
        thumbnail_url=ctx.media.url(thumb.name) if thumb is not None else None,
        thumbnail_content_type=thumb.content_type if thumb is not None else None,
        thumbnail_file_size=thumb.size if thumb is not None else None,
        height=MediaHeight(f"{spec.height.upper()}_HEIGHT"),
        content_description=spec.description,
    )


def _content(card: model.CarouselCard, ctx: RenderContext) -> CardContent:
    return CardContent(
        media=_media(card.media, ctx) if card.media is not None else None,
        title=expand(card.title, ctx, 200) if card.title is not None else None,
        description=expand(card.description, ctx, 2000) if card.description else None,
        suggestions=_chips(card.chips, ctx),
    )


def _styles(names: list[model.FontStyle]) -> tuple[FontStyle, ...]:
    return tuple(FontStyle(name) for name in names)


def _card(spec: model.CardSpec, ctx: RenderContext) -> BotMessage:
    layout = CardLayout(
        orientation=CardOrientation(spec.orientation.upper()),
        image_alignment=ImageAlignment(spec.image.upper()) if spec.image else None,
        title_font_style=_styles(spec.title_style),
        description_font_style=_styles(spec.description_style),
        style=spec.style,
    )
    return BotMessage(card=GeneralPurposeCard(layout, _content(spec, ctx)))


def _carousel(spec: model.CarouselSpec, ctx: RenderContext) -> BotMessage:
    layout = CarouselLayout(
        card_width=CardWidth(f"{spec.width.upper()}_WIDTH"),
        title_font_style=_styles(spec.title_style),
        description_font_style=_styles(spec.description_style),
    )
    return BotMessage(carousel=Carousel(layout, tuple(_content(c, ctx) for c in spec.cards)))


# --------------------------------------------------------------------------- files, places


def _file(spec: model.FileSpec, ctx: RenderContext) -> bytes:
    if spec.file is not None:
        thumb = ctx.media.get(spec.thumbnail) if spec.thumbnail is not None else None
        info = ctx.publish(ctx.media.get(spec.file), thumb)
        if spec.name is not None:
            info = dataclasses.replace(info, file=dataclasses.replace(info.file, name=spec.name))
        return info.to_xml()
    assert spec.url is not None and spec.content_type is not None and spec.size is not None
    name = spec.name or spec.url.rstrip("/").rsplit("/", 1)[-1] or "file"
    until = format_rfc3339(ctx.now + dt.timedelta(days=30))
    entry = FileInfo(
        size=spec.size, content_type=spec.content_type, url=spec.url, until=until, name=name
    )
    return FileTransferInfo(file=entry).to_xml()


def _location(spec: model.LocationSpec, ctx: RenderContext) -> bytes:
    return build_geopush(
        spec.latitude,
        spec.longitude,
        radius=spec.radius,
        label=expand(spec.label, ctx, 200) if spec.label is not None else None,
        entity=ctx.entity,
        id=ctx.new_id(),
        until=format_rfc3339(ctx.now + LOCATION_VALIDITY),
        timestamp=format_rfc3339(ctx.now),
    )


# --------------------------------------------------------------------------- messages


def _content_of(message: model.Message, ctx: RenderContext) -> tuple[str, bytes]:
    if message.text is not None:
        return TEXT_PLAIN, expand(message.text, ctx, 2000).encode("utf-8")
    if message.card is not None:
        return contenttypes.BOTMESSAGE, _card(message.card, ctx).to_json()
    if message.carousel is not None:
        return contenttypes.BOTMESSAGE, _carousel(message.carousel, ctx).to_json()
    if message.file is not None:
        return contenttypes.FTHTTP, _file(message.file, ctx)
    if message.location is not None:
        return contenttypes.GEOPUSH, _location(message.location, ctx)
    assert message.payload is not None
    return message.payload.content_type, message.payload.body.encode("utf-8")


def build_message(message: model.Message, ctx: RenderContext) -> OutgoingMessage:
    """The payload of one script message (multipart when it carries chips).

    Raises:
        KeyError: the message names a sample file the library does not have (scripts are
            checked for this when the platform loads them).
    """
    content_type, body = _content_of(message, ctx)
    if message.chips:
        chips = ChipList(_chips(message.chips, ctx)).to_json()
        parts = [Part.create(content_type, body), Part.create(contenttypes.BOTSUGGESTION, chips)]
        content_type, body = build_multipart(parts, _boundary(body))
    return OutgoingMessage(content_type, body, message.kind, message.traffic_type)


def _boundary(body: bytes) -> str:
    """``next`` (what Chinese platforms use), unless the content happens to contain it."""
    boundary, counter = "next", 0
    while b"--" + boundary.encode() in body:
        counter += 1
        boundary = f"next-{counter}"
    return boundary
