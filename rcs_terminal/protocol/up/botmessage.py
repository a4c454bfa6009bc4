"""Rich cards and carousels: ``application/vnd.gsma.botmessage.v1.0+json``.

GSMA RCC.07 (UP 2.4) chatbot message schema, formats.md §1: the body is
``{"message": {...}}`` holding exactly one of ``generalPurposeCard`` (``layout`` +
``content``) or ``generalPurposeCardCarousel`` (``layout`` + ``content[]``). A card's
content has optional media, title, description and suggestions (chips, see
:mod:`.suggestions`).

Parsing is strict on structure (neither or both of card and carousel, wrong types, media
without URL or content type) and lenient on the noise real platforms send (unknown and
placeholder keys, missing file sizes and heights, lowercase enum values), which is kept as
:class:`~rcs_terminal.protocol.up._json.PayloadWarning` entries on :class:`BotMessage`.
Limits (title length, chips per card, cards per carousel, TALL media in small carousels)
are left to the linter. Text is kept exactly, escape sequences included: sanitising is the
renderer's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rcs_terminal.protocol.up._json import (
    MISSING_FIELD,
    Context,
    JsonInput,
    JsonObject,
    PayloadWarning,
    as_object,
    dump_json,
    load_object,
    parse_enum,
    put,
)
from rcs_terminal.protocol.up.suggestions import Suggestion, suggestions_from_json


class CardOrientation(StrEnum):
    """``layout.cardOrientation`` of a single card."""

    VERTICAL = "VERTICAL"
    HORIZONTAL = "HORIZONTAL"


class ImageAlignment(StrEnum):
    """``layout.imageAlignment`` of a horizontal card."""

    LEFT = "LEFT"
    RIGHT = "RIGHT"


class CardWidth(StrEnum):
    """``layout.cardWidth`` of a carousel."""

    SMALL_WIDTH = "SMALL_WIDTH"
    MEDIUM_WIDTH = "MEDIUM_WIDTH"


class MediaHeight(StrEnum):
    """``media.height``."""

    SHORT_HEIGHT = "SHORT_HEIGHT"
    MEDIUM_HEIGHT = "MEDIUM_HEIGHT"
    TALL_HEIGHT = "TALL_HEIGHT"


class FontStyle(StrEnum):
    """An entry of ``titleFontStyle`` / ``descriptionFontStyle``."""

    ITALICS = "italics"
    BOLD = "bold"
    UNDERLINE = "underline"


@dataclass(frozen=True, kw_only=True)
class Media:
    """A card's image, GIF or video, with an optional thumbnail.

    Attributes:
        url: ``mediaUrl``.
        content_type: ``mediaContentType`` (``image/jpeg``, ``video/mp4``...).
        file_size: ``mediaFileSize`` in bytes; often missing in real traffic.
        thumbnail_url: ``thumbnailUrl``.
        thumbnail_content_type: ``thumbnailContentType``.
        thumbnail_file_size: ``thumbnailFileSize``.
        height: ``height``; ``None`` when the sender left it out.
        content_description: accessibility text, not displayed.
    """

    url: str
    content_type: str
    file_size: int | None = None
    thumbnail_url: str | None = None
    thumbnail_content_type: str | None = None
    thumbnail_file_size: int | None = None
    height: MediaHeight | None = None
    content_description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``media`` object."""
        out: dict[str, Any] = {"mediaUrl": self.url, "mediaContentType": self.content_type}
        put(out, "mediaFileSize", self.file_size)
        put(out, "thumbnailUrl", self.thumbnail_url)
        put(out, "thumbnailContentType", self.thumbnail_content_type)
        put(out, "thumbnailFileSize", self.thumbnail_file_size)
        put(out, "height", self.height.value if self.height else None)
        put(out, "contentDescription", self.content_description)
        return out

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


@dataclass(frozen=True)
class CardContent:
    """What one card shows, in rendering order: media, title, description, chips."""

    media: Media | None = None
    title: str | None = None
    description: str | None = None
    suggestions: tuple[Suggestion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``content`` object."""
        out: dict[str, Any] = {}
        put(out, "media", self.media.to_dict() if self.media else None)
        put(out, "title", self.title)
        put(out, "description", self.description)
        if self.suggestions:
            out["suggestions"] = [s.to_dict() for s in self.suggestions]
        return out

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


def _styles(out: dict[str, Any], title: tuple[FontStyle, ...], desc: tuple[FontStyle, ...]) -> None:
    if title:
        out["titleFontStyle"] = [s.value for s in title]
    if desc:
        out["descriptionFontStyle"] = [s.value for s in desc]


@dataclass(frozen=True)
class CardLayout:
    """A single card's ``layout``.

    Attributes:
        orientation: vertical (media above text) or horizontal (media beside text).
        image_alignment: media on the left or right of a horizontal card.
        title_font_style: styles applied to the title.
        description_font_style: styles applied to the description.
        style: URL of a CSS file (China: formats.md §10).
    """

    orientation: CardOrientation = CardOrientation.VERTICAL
    image_alignment: ImageAlignment | None = None
    title_font_style: tuple[FontStyle, ...] = ()
    description_font_style: tuple[FontStyle, ...] = ()
    style: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``layout`` object."""
        out: dict[str, Any] = {"cardOrientation": self.orientation.value}
        put(out, "imageAlignment", self.image_alignment.value if self.image_alignment else None)
        _styles(out, self.title_font_style, self.description_font_style)
        put(out, "style", self.style)
        return out


@dataclass(frozen=True)
class CarouselLayout:
    """A carousel's ``layout`` (cards in a carousel are always vertical)."""

    card_width: CardWidth = CardWidth.SMALL_WIDTH
    title_font_style: tuple[FontStyle, ...] = ()
    description_font_style: tuple[FontStyle, ...] = ()
    style: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``layout`` object."""
        out: dict[str, Any] = {"cardWidth": self.card_width.value}
        _styles(out, self.title_font_style, self.description_font_style)
        put(out, "style", self.style)
        return out


@dataclass(frozen=True)
class GeneralPurposeCard:
    """A single rich card."""

    layout: CardLayout
    content: CardContent

    def to_dict(self) -> dict[str, Any]:
        """The ``generalPurposeCard`` object."""
        return {"layout": self.layout.to_dict(), "content": self.content.to_dict()}


@dataclass(frozen=True)
class Carousel:
    """A carousel of cards (``generalPurposeCardCarousel``)."""

    layout: CarouselLayout
    content: tuple[CardContent, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``generalPurposeCardCarousel`` object."""
        return {"layout": self.layout.to_dict(), "content": [c.to_dict() for c in self.content]}


@dataclass(frozen=True)
class BotMessage:
    """A botmessage body: exactly one of :attr:`card` and :attr:`carousel`.

    Attributes:
        card: the single card, or ``None``.
        carousel: the carousel, or ``None``.
        warnings: what was tolerated while parsing (not part of equality).
    """

    card: GeneralPurposeCard | None = None
    carousel: Carousel | None = None
    warnings: tuple[PayloadWarning, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.card is None) == (self.carousel is None):
            raise ValueError("a BotMessage holds exactly one of card and carousel")

    @property
    def cards(self) -> tuple[CardContent, ...]:
        """The content of every card, in order (one for a single card)."""
        if self.card is not None:
            return (self.card.content,)
        assert self.carousel is not None
        return self.carousel.content

    def to_dict(self) -> dict[str, Any]:
        """The botmessage document."""
        if self.card is not None:
            return {"message": {"generalPurposeCard": self.card.to_dict()}}
        assert self.carousel is not None
        return {"message": {"generalPurposeCardCarousel": self.carousel.to_dict()}}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised (the wire body)."""
        return dump_json(self.to_dict())


# --------------------------------------------------------------------------- parsing

_MEDIA_KEYS = (
    "mediaUrl",
    "mediaContentType",
    "mediaFileSize",
    "thumbnailUrl",
    "thumbnailContentType",
    "thumbnailFileSize",
    "height",
    "contentDescription",
)


def _media(o: JsonObject) -> Media:
    o.check_keys(_MEDIA_KEYS)
    media = Media(
        url=o.require_text("mediaUrl"),
        content_type=o.require_text("mediaContentType"),
        file_size=o.integer("mediaFileSize"),
        thumbnail_url=o.text("thumbnailUrl"),
        thumbnail_content_type=o.text("thumbnailContentType"),
        thumbnail_file_size=o.integer("thumbnailFileSize"),
        height=o.enum("height", MediaHeight),
        content_description=o.text("contentDescription"),
    )
    for key, value in (("mediaFileSize", media.file_size), ("height", media.height)):
        if value is None:
            o.ctx.warn(o.path, MISSING_FIELD, f"no {key!r}")
    return media


def card_content_from_json(value: Any, path: str, ctx: Context) -> CardContent:
    """Parse one card's ``content`` object at ``path``."""
    o = as_object(value, path, ctx)
    o.check_keys(("media", "title", "description", "suggestions"))
    media = o.obj("media")
    return CardContent(
        media=_media(media) if media is not None else None,
        title=o.text("title"),
        description=o.text("description"),
        suggestions=suggestions_from_json(o),
    )


def _font_styles(o: JsonObject, key: str) -> tuple[FontStyle, ...]:
    return tuple(parse_enum(v, p, o.ctx, FontStyle) for v, p in o.array(key))


def _layout_object(parent: JsonObject) -> JsonObject | None:
    layout = parent.obj("layout")
    if layout is None:
        parent.ctx.warn(parent.path, MISSING_FIELD, "no 'layout'; defaults used")
    return layout


def _card(o: JsonObject) -> GeneralPurposeCard:
    o.check_keys(("layout", "content"))
    layout = CardLayout()
    lo = _layout_object(o)
    if lo is not None:
        lo.check_keys(
            ("cardOrientation", "imageAlignment", "titleFontStyle", "descriptionFontStyle", "style")
        )
        orientation = lo.enum("cardOrientation", CardOrientation)
        if orientation is None:
            lo.ctx.warn(lo.path, MISSING_FIELD, "no 'cardOrientation'; VERTICAL assumed")
        layout = CardLayout(
            orientation=orientation or CardOrientation.VERTICAL,
            image_alignment=lo.enum("imageAlignment", ImageAlignment),
            title_font_style=_font_styles(lo, "titleFontStyle"),
            description_font_style=_font_styles(lo, "descriptionFontStyle"),
            style=lo.text("style"),
        )
    content = card_content_from_json(o.require("content"), o.at("content"), o.ctx)
    return GeneralPurposeCard(layout, content)


def _carousel(o: JsonObject) -> Carousel:
    o.check_keys(("layout", "content"))
    layout = CarouselLayout()
    lo = _layout_object(o)
    if lo is not None:
        lo.check_keys(("cardWidth", "titleFontStyle", "descriptionFontStyle", "style"))
        width = lo.enum("cardWidth", CardWidth)
        if width is None:
            lo.ctx.warn(lo.path, MISSING_FIELD, "no 'cardWidth'; SMALL_WIDTH assumed")
        layout = CarouselLayout(
            card_width=width or CardWidth.SMALL_WIDTH,
            title_font_style=_font_styles(lo, "titleFontStyle"),
            description_font_style=_font_styles(lo, "descriptionFontStyle"),
            style=lo.text("style"),
        )
    items = o.array("content", required=True)
    return Carousel(layout, tuple(card_content_from_json(v, p, o.ctx) for v, p in items))


def parse_botmessage(data: JsonInput) -> BotMessage:
    """Parse a botmessage body (a single rich card or a carousel).

    Args:
        data: the body (bytes or text) or the decoded JSON object.

    Raises:
        PayloadParseError: on malformed input; ``where`` is the JSON path.
    """
    ctx = Context()
    root = JsonObject(load_object(data), "$", ctx)
    root.check_keys(("message",))
    message = root.require_obj("message")
    message.check_keys(("generalPurposeCard", "generalPurposeCardCarousel"))
    card = message.obj("generalPurposeCard")
    carousel = message.obj("generalPurposeCardCarousel")
    if card is not None and carousel is not None:
        raise message.error("message holds both generalPurposeCard and generalPurposeCardCarousel")
    if card is not None:
        return BotMessage(card=_card(card), warnings=tuple(ctx.warnings))
    if carousel is not None:
        return BotMessage(carousel=_carousel(carousel), warnings=tuple(ctx.warnings))
    raise message.error("message holds neither generalPurposeCard nor generalPurposeCardCarousel")
