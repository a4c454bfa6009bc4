"""What a scenario may expect: the value models of text, numbers, cards, carousels, chips.

These are the shapes a scenario writes after ``expect:`` (or inside ``expect_message``); the
matching itself is in :mod:`.matchers`. Every model is strict (``extra="forbid"``) so a typo
in a key is an error at load time, with the closest valid key suggested by :mod:`.model`.

Text is matched by a bare string (equality) or by one mapping with ``equals``, ``contains``,
``regex`` (Python syntax, searched), ``startswith`` and/or ``not_contains``; numbers by a bare
number or ``{min, max}``. Card fields follow the UP 2.4 botmessage JSON (formats.md §2):
``orientation`` VERTICAL/HORIZONTAL, ``image_alignment`` LEFT/RIGHT, ``media_height``
SHORT_HEIGHT/MEDIUM_HEIGHT/TALL_HEIGHT, carousel ``width`` SMALL_WIDTH/MEDIUM_WIDTH.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

__all__ = [
    "CardExpect",
    "CarouselExpect",
    "ChipsExpect",
    "FileExpect",
    "LocationExpect",
    "MessageExpect",
    "NumberMatch",
    "NumberRange",
    "ResponseExpect",
    "Strict",
    "TextMatch",
    "TextPattern",
    "as_list",
]


def as_list(value: Any) -> Any:
    """Before-validator: a single value stands for a list of one."""
    return value if isinstance(value, list) else [value]


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TextPattern(Strict):
    """A text condition; every given condition must hold."""

    equals: str | None = None
    """The whole text, exactly."""
    contains: str | None = None
    """A part of the text."""
    regex: str | None = None
    """A Python regular expression searched in the text."""
    startswith: str | None = None
    """The start of the text."""
    not_contains: str | None = None
    """A part the text must not contain."""

    @model_validator(mode="after")
    def _one_condition(self) -> TextPattern:
        if all(
            v is None
            for v in (self.equals, self.contains, self.regex, self.startswith, self.not_contains)
        ):
            raise ValueError("give equals, contains, regex, startswith or not_contains")
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


def _text_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"equals": value}
    if isinstance(value, dict | BaseModel):
        return value
    raise ValueError(
        "expected text, or a mapping with equals/contains/regex/startswith/not_contains"
    )


TextMatch = Annotated[TextPattern, BeforeValidator(_text_shorthand)]
"""A bare string (the exact text) or a :class:`TextPattern`."""


class NumberRange(Strict):
    """A number condition: ``min`` and/or ``max``, both inclusive."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> NumberRange:
        if self.min is None and self.max is None:
            raise ValueError("give min and/or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


def _number_shorthand(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"min": value, "max": value}
    if isinstance(value, dict | BaseModel):
        return value
    raise ValueError("expected a number, or a mapping with min and/or max")


NumberMatch = Annotated[NumberRange, BeforeValidator(_number_shorthand)]
"""A bare number (exactly) or a :class:`NumberRange`."""

ChipKind = Literal[
    "reply",
    "openUrl",
    "dialPhoneNumber",
    "dialEnrichedCall",
    "dialVideoCall",
    "showLocation",
    "requestLocationPush",
    "createCalendarEvent",
    "composeTextMessage",
    "composeRecordingMessage",
    "requestDeviceSpecifics",
    "disableAnonymization",
    "enableDisplayedNotifications",
    "action",
]
"""``reply``, an action's name as in the JSON (``openUrl``...), or ``action`` for any action."""


class ChipsExpect(Strict):
    """Suggestion chips (a card's, or the message's chip list)."""

    count: NumberMatch | None = None
    """How many chips."""
    texts: list[str] | None = None
    """The display texts, all of them, in order."""
    contains: list[str] | None = None
    """Display texts that must be among the chips (any order)."""
    kinds: list[ChipKind] | None = None
    """The kinds, chip by chip, in order (as many as given)."""
    postbacks: list[str | None] | None = None
    """The postback data, chip by chip, in order (as many as given)."""


class CardExpect(Strict):
    """A rich card (a standalone card, or one card of a carousel)."""

    title: TextMatch | None = None
    description: TextMatch | None = None
    media: bool | None = None
    """Whether the card has media."""
    media_type: TextMatch | None = None
    """The media's content type (``image/png``)."""
    media_height: Literal["SHORT_HEIGHT", "MEDIUM_HEIGHT", "TALL_HEIGHT"] | None = None
    orientation: Literal["VERTICAL", "HORIZONTAL"] | None = None
    """Standalone cards only."""
    image_alignment: Literal["LEFT", "RIGHT"] | None = None
    """Standalone horizontal cards only."""
    chips: ChipsExpect | None = None
    """The card's own suggestions."""


class CarouselExpect(Strict):
    """A carousel of cards."""

    size: NumberMatch | None = None
    """How many cards."""
    width: Literal["SMALL_WIDTH", "MEDIUM_WIDTH"] | None = None
    cards: list[CardExpect] | None = None
    """Expectations for the first cards, in order."""


class FileExpect(Strict):
    """A file transfer descriptor (FT via HTTP, formats.md §5)."""

    name: TextMatch | None = None
    content_type: TextMatch | None = None
    size: NumberMatch | None = None
    thumbnail: bool | None = None
    """Whether a thumbnail is offered."""
    download: bool = False
    """Download the file (and fail if it cannot be)."""


class LocationExpect(Strict):
    """A geolocation push (formats.md §7)."""

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    tolerance: float = Field(default=0.0001, ge=0)
    """Largest accepted difference in degrees."""
    label: TextMatch | None = None


class ResponseExpect(Strict):
    """A suggestion response (what a chatbot receives when a chip is tapped)."""

    display_text: TextMatch | None = None
    postback: TextMatch | None = None
    type: Literal["reply", "action"] | None = None


ContentKind = Literal[
    "text", "card", "carousel", "file", "location", "response", "shared-data", "unknown"
]


class MessageExpect(Strict):
    """What a received message must be like (every given field must match)."""

    content_type: TextMatch | None = None
    """The content type inside CPIM, parameters included (use ``startswith``)."""
    kind: ContentKind | None = None
    """The decoded kind."""
    text: TextMatch | None = None
    """The text (text messages) or the text shown for the message."""
    card: CardExpect | None = None
    carousel: CarouselExpect | None = None
    chips: ChipsExpect | None = None
    """The message's chip list (not a card's own suggestions)."""
    traffic_type: TextMatch | None = None
    """The CPM ``maap.Traffic-Type`` (``advertisement``, ``payment``...)."""
    technology: Literal["pager", "large", "session", "sms"] | None = None
    file: FileExpect | None = None
    location: LocationExpect | None = None
    response: ResponseExpect | None = None
    lint: Literal["clean", "no-errors"] | None = None
    """Lint the payload: ``clean`` allows no finding, ``no-errors`` allows warnings."""
