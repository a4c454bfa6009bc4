"""Lint rules for cards, carousels, text, locations and bot info.

GSMA RCC.07 (UP 2.4) botmessage schema and China's platform limits, formats.md §1, §6, §8,
§10 (chip, action and menu rules are in :mod:`.suggestion_rules`, media and file rules in
:mod:`.media_rules`):

=================================== ========= ==============================================
rule                                severity  checks
=================================== ========= ==============================================
``card.content.empty``              error     media, title or description present
``card.title.length``               error     ``title`` 1..200 characters
``card.description.length``         error     ``description`` 1..2000 characters
``card.suggestions.count``          error     at most 4 chips in a card
``card.layout.image-alignment``     error     required with HORIZONTAL, refused with VERTICAL
``card.layout.font-style``          error     1..3 styles (duplicates: warning)
``card.layout.style``               error     ``style`` (CSS) URL is http/https
``carousel.cards.count``            error     2..12 cards (warning above 10)
``carousel.media.tall-in-small``    error     no TALL media in a SMALL_WIDTH carousel
``text.length``                     error     China: text at most 2000 characters
``text.empty``                      warning   an empty text message
``text.geo-uri``                    warning   a ``geo:`` text that does not parse
``geopush.label.length``            error     ``label`` 1..200 characters
``geopush.coordinates``             error     latitude ±90, longitude ±180, radius ≥ 0
``geopush.time``                    error     RFC 3339 ``until`` and ``timestamp``
``botinfo.name``                    warning   the chatbot has a name
``botinfo.colour``                  warning   the theme colour reads as ``#RRGGBB``
``botinfo.url.scheme``              warning   web pages and pictures are http/https
=================================== ========= ==============================================
"""

from __future__ import annotations

from collections.abc import Iterator

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.lint.checks import length, rfc3339, web_url
from rcs_terminal.lint.findings import Finding, error, quoted, warning
from rcs_terminal.lint.media_rules import check_media
from rcs_terminal.lint.operators import OperatorLimits
from rcs_terminal.lint.suggestion_rules import check_menu, check_suggestion
from rcs_terminal.protocol.up.botinfo import BotInfo
from rcs_terminal.protocol.up.botmessage import (
    BotMessage,
    CardContent,
    CardOrientation,
    CardWidth,
    Carousel,
    FontStyle,
    GeneralPurposeCard,
    MediaHeight,
)
from rcs_terminal.protocol.up.geopush import LocationPush, parse_geo_uri

CARD_CHIPS = 4
CAROUSEL = (2, 12)
CAROUSEL_SOFT_MAX = 10
TITLE = (1, 200)
DESCRIPTION = (1, 2000)


# --------------------------------------------------------------------------- cards


def _font_styles(styles: tuple[FontStyle, ...], path: str) -> Iterator[Finding]:
    if len(styles) > 3:
        yield error(path, "card.layout.font-style", f"{len(styles)} font styles", "1..3 styles")
    elif len(set(styles)) != len(styles):
        yield warning(path, "card.layout.font-style", "a font style is repeated")


def check_card_content(
    content: CardContent, path: str, limits: OperatorLimits
) -> Iterator[Finding]:
    """Check one card's ``content`` object at ``path``."""
    if content.media is None and content.title is None and content.description is None:
        yield error(
            path,
            "card.content.empty",
            "the card has no media, title or description",
            "at least one of media, title, description",
        )
    if content.media is not None:
        yield from check_media(content.media, f"{path}.media", limits)
    yield from length(f"{path}.title", "card.title.length", content.title, *TITLE, "title")
    yield from length(
        f"{path}.description",
        "card.description.length",
        content.description,
        *DESCRIPTION,
        "description",
    )
    if len(content.suggestions) > CARD_CHIPS:
        yield error(
            f"{path}.suggestions",
            "card.suggestions.count",
            f"the card holds {len(content.suggestions)} chips; phones show {CARD_CHIPS}",
            f"1..{CARD_CHIPS} chips",
        )
    for index, item in enumerate(content.suggestions):
        yield from check_suggestion(item, f"{path}.suggestions[{index}]", limits)


def check_botmessage(message: BotMessage, limits: OperatorLimits) -> Iterator[Finding]:
    """Check a rich card or carousel."""
    if message.card is not None:
        yield from _card(message.card, limits)
    else:
        assert message.carousel is not None
        yield from _carousel(message.carousel, limits)


def _card(card: GeneralPurposeCard, limits: OperatorLimits) -> Iterator[Finding]:
    base = "$.message.generalPurposeCard"
    layout = card.layout
    horizontal = layout.orientation is CardOrientation.HORIZONTAL
    if horizontal and layout.image_alignment is None:
        yield error(
            f"{base}.layout",
            "card.layout.image-alignment",
            "a HORIZONTAL card needs an imageAlignment",
            "LEFT or RIGHT with HORIZONTAL",
        )
    elif not horizontal and layout.image_alignment is not None:
        yield error(
            f"{base}.layout.imageAlignment",
            "card.layout.image-alignment",
            "imageAlignment is only allowed in a HORIZONTAL card",
            "only with HORIZONTAL",
        )
    yield from _layout_common(
        layout.title_font_style, layout.description_font_style, layout.style, f"{base}.layout"
    )
    yield from check_card_content(card.content, f"{base}.content", limits)


def _carousel(carousel: Carousel, limits: OperatorLimits) -> Iterator[Finding]:
    base = "$.message.generalPurposeCardCarousel"
    layout = carousel.layout
    yield from _layout_common(
        layout.title_font_style, layout.description_font_style, layout.style, f"{base}.layout"
    )
    count = len(carousel.content)
    low, high = CAROUSEL
    if not low <= count <= high:
        yield error(
            f"{base}.content",
            "carousel.cards.count",
            f"the carousel holds {count} cards",
            f"{low}..{high} cards",
        )
    elif count > CAROUSEL_SOFT_MAX:
        yield warning(
            f"{base}.content",
            "carousel.cards.count",
            f"{count} cards: some platforms refuse more than {CAROUSEL_SOFT_MAX}",
            f"{CAROUSEL_SOFT_MAX} cards on some platforms",
        )
    small = layout.card_width is CardWidth.SMALL_WIDTH
    for index, content in enumerate(carousel.content):
        path = f"{base}.content[{index}]"
        if small and content.media is not None and content.media.height is MediaHeight.TALL_HEIGHT:
            yield error(
                f"{path}.media.height",
                "carousel.media.tall-in-small",
                "TALL_HEIGHT media in a SMALL_WIDTH carousel",
                "SHORT or MEDIUM with SMALL_WIDTH",
            )
        yield from check_card_content(content, path, limits)


def _layout_common(
    title: tuple[FontStyle, ...], description: tuple[FontStyle, ...], style: str | None, path: str
) -> Iterator[Finding]:
    yield from _font_styles(title, f"{path}.titleFontStyle")
    yield from _font_styles(description, f"{path}.descriptionFontStyle")
    yield from web_url(f"{path}.style", "card.layout.style", style, "style")


# --------------------------------------------------------------------------- other documents


def check_text(text: str, limits: OperatorLimits, path: str = "$") -> Iterator[Finding]:
    """Check a text message (and a ``geo:`` fallback that did not parse)."""
    if not text.strip():
        yield warning(path, "text.empty", "the text message is empty")
    if limits.text_max is not None and len(text) > limits.text_max:
        yield error(
            path,
            "text.length",
            f"the text is {len(text)} characters long",
            f"{limits.text_max} characters ({limits.name})",
        )
    if text.lstrip()[:4].lower() == "geo:":
        try:
            parse_geo_uri(text)
        except PayloadParseError as exc:
            yield warning(
                path, "text.geo-uri", f"the text looks like a geo: location but {exc.reason}"
            )


def check_geopush(push: LocationPush, limits: OperatorLimits) -> Iterator[Finding]:
    """Check a geolocation push (paths are element paths)."""
    base = "/rcsenvelope/rcspushlocation"
    yield from length(f"{base}/@label", "geopush.label.length", push.label, 1, 200, "label")
    if abs(push.latitude) > 90:
        yield error(
            f"{base}//gml:pos",
            "geopush.coordinates",
            f"latitude {push.latitude} is out of range",
            "-90..90",
        )
    if abs(push.longitude) > 180:
        yield error(
            f"{base}//gml:pos",
            "geopush.coordinates",
            f"longitude {push.longitude} is out of range",
            "-180..180",
        )
    if push.radius is not None and push.radius < 0:
        yield error(f"{base}//gs:radius", "geopush.coordinates", "the radius is negative", ">= 0")
    for name, value in (("until", push.until), ("timestamp", push.timestamp)):
        if value is not None:
            yield from rfc3339(f"{base}/{name}", "geopush.time", value, name)


def check_botinfo(info: BotInfo, limits: OperatorLimits) -> Iterator[Finding]:
    """Check a bot-info document and its persistent menu."""
    if not info.name:
        yield warning(
            "$.botinfo.pcc.org-details", "botinfo.name", "the chatbot has no display name"
        )
    if info.colour is not None and info.colour_hex is None:
        yield warning(
            "$.botinfo", "botinfo.colour", f"theme colour {quoted(info.colour)} is not #RRGGBB"
        )
    for key, value in (
        ("website", info.website),
        ("TCPage", info.tc_page),
        ("logo", info.logo_url),
        ("backgroundImage", info.background_image),
    ):
        for finding in web_url(f"$.botinfo.{key}", "botinfo.url.scheme", value, key):
            yield warning(finding.path, finding.rule, finding.message, finding.limit)
    if info.persistent_menu is not None:
        base = "$.persistent-menu" if "persistent-menu" in info.raw else "$.botinfo.persistent-menu"
        yield from check_menu(info.persistent_menu, limits, base)
