"""The schema of a lab chatbot script: what a tester writes in ``lab/bots/<id>.yaml``.

A bot script describes one chatbot of the lab's platform without any Python: its bot
information (name, logo, colour, verification, categories, persistent menu), what it
answers (rules: keywords or postback data -> a reply), what it says first (``welcome``),
for anything else (``default``), and when the user shares a location, a file or the device
specifics. A *reply* is one message or a list of messages, each sent as its own CPM
standalone message; replies may be named under ``replies:`` and referred to by name.

A message is exactly one of:

- ``text``: plain text;
- ``card``: a rich card (vertical, or horizontal with the picture left or right);
- ``carousel``: 2 to 12 cards, small or medium width;
- ``file``: a sample file (or URL) sent as an FT-HTTP descriptor;
- ``location``: a geolocation push;
- ``payload``: any body with any content type (to test renderers with odd content);

plus optional ``chips`` (a suggested chip list sent with it) and ``traffic_type`` (the CPIM
``maap.Traffic-Type``). A chip is a reply (``text`` and ``postback``) or, with exactly one
action key, a suggested action of any UP kind (formats.md §2); chips and menu items are
:mod:`.chips`.

Every model forbids unknown keys, and the GSMA limits that the payload builders cannot fix
(25-character labels, 4 chips per card, 11 per list, 2..12 carousel cards, menu entries)
are enforced here, so a script that loads produces valid UP payloads. Reading the file and
turning validation errors into messages that name the file and key is :mod:`.loader`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from rcs_terminal.lab.bots.chips import (
    ACTION_KEYS,
    Chip,
    MenuItem,
    Postback,
    StrictModel,
    exactly_one,
)
from rcs_terminal.lab.config_documents import BOTPLATFORM_NAME

__all__ = [
    "ACTION_KEYS",
    "BotScript",
    "CardSpec",
    "CarouselCard",
    "CarouselSpec",
    "Chip",
    "FileSpec",
    "LocationSpec",
    "MediaSpec",
    "MenuItem",
    "Message",
    "PayloadSpec",
    "ReplyRef",
    "Rule",
]

BOT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}\Z")
"""A bot id: the user part of ``sip:<id>@botplatform.lab``."""
COLOUR = re.compile(r"#[0-9A-Fa-f]{6}\Z")
TrafficType = Literal["advertisement", "payment", "premium", "subscription", "plugin"]
"""The MaaP ``Traffic-Type`` values (formats.md §7)."""
TRAFFIC_TYPES: tuple[str, ...] = get_args(TrafficType)

Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(min_length=1, max_length=2000)]
FontStyle = Literal["bold", "italics", "underline"]


# --------------------------------------------------------------------------- content


class MediaSpec(StrictModel):
    """A card's picture or video: a sample file of the lab, or any URL."""

    file: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    content_type: str | None = Field(default=None, min_length=3, max_length=100)
    size: int | None = Field(default=None, ge=0)
    height: Literal["short", "medium", "tall"] = "medium"
    thumbnail: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _source(self) -> MediaSpec:
        exactly_one(self, ("file", "url"), "media", optional=False)
        if self.url is not None and self.content_type is None:
            raise ValueError("media given by url needs its content_type")
        return self


class CarouselCard(StrictModel):
    """One card of a carousel (always vertical)."""

    title: Title | None = None
    description: Description | None = None
    media: MediaSpec | None = None
    chips: list[Chip] = Field(default_factory=list, max_length=4)

    @model_validator(mode="after")
    def _not_empty(self) -> CarouselCard:
        if self.title is None and self.description is None and self.media is None:
            raise ValueError("a card needs a title, a description or media")
        return self


class CardSpec(CarouselCard):
    """A single rich card."""

    orientation: Literal["vertical", "horizontal"] = "vertical"
    image: Literal["left", "right"] | None = None
    title_style: list[FontStyle] = Field(default_factory=list, max_length=3)
    description_style: list[FontStyle] = Field(default_factory=list, max_length=3)
    style: str | None = Field(default=None, pattern=r"^https?://\S+$")

    @model_validator(mode="after")
    def _layout(self) -> CardSpec:
        if self.orientation == "horizontal" and self.image is None:
            raise ValueError("a horizontal card needs image: left or right")
        if self.orientation == "vertical" and self.image is not None:
            raise ValueError("image (left/right) is only for horizontal cards")
        return self


class CarouselSpec(StrictModel):
    """A carousel of cards."""

    width: Literal["small", "medium"] = "medium"
    cards: list[CarouselCard] = Field(min_length=2, max_length=12)
    title_style: list[FontStyle] = Field(default_factory=list, max_length=3)
    description_style: list[FontStyle] = Field(default_factory=list, max_length=3)

    @model_validator(mode="after")
    def _no_tall_in_small(self) -> CarouselSpec:
        if self.width == "small":
            for index, card in enumerate(self.cards):
                if card.media is not None and card.media.height == "tall":
                    raise ValueError(f"cards[{index}]: tall media does not fit a small carousel")
        return self


class FileSpec(StrictModel):
    """A file sent as an FT-HTTP descriptor: a sample file of the lab or any URL."""

    file: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    content_type: str | None = Field(default=None, min_length=3, max_length=100)
    size: int | None = Field(default=None, ge=0)
    thumbnail: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _source(self) -> FileSpec:
        exactly_one(self, ("file", "url"), "file", optional=False)
        if self.url is not None and (self.content_type is None or self.size is None):
            raise ValueError("a file given by url needs its content_type and size")
        return self


class LocationSpec(StrictModel):
    """A geolocation push."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    label: str | None = Field(default=None, min_length=1, max_length=200)
    radius: float = Field(default=10.0, ge=0)


class PayloadSpec(StrictModel):
    """Any body with any content type, sent as given."""

    content_type: str = Field(min_length=3, max_length=200)
    body: str


class Message(StrictModel):
    """One message of a reply (see the module docstring)."""

    text: str | None = Field(default=None, min_length=1, max_length=2000)
    card: CardSpec | None = None
    carousel: CarouselSpec | None = None
    file: FileSpec | None = None
    location: LocationSpec | None = None
    payload: PayloadSpec | None = None
    chips: list[Chip] = Field(default_factory=list, max_length=11)
    traffic_type: TrafficType | None = None

    @model_validator(mode="after")
    def _one_content(self) -> Message:
        exactly_one(self, CONTENT_KEYS, "a message", optional=False)
        return self

    @property
    def kind(self) -> str:
        """Which content key the message has."""
        return next(key for key in CONTENT_KEYS if getattr(self, key) is not None)


CONTENT_KEYS = ("text", "card", "carousel", "file", "location", "payload")


def _reply_shape(value: Any) -> str:
    if isinstance(value, str):
        return "<name>"
    if isinstance(value, list):
        return "<messages>"
    return "<message>"


ReplyRef = Annotated[
    Annotated[str, Tag("<name>")]
    | Annotated[Message, Tag("<message>")]
    | Annotated[list[Message], Tag("<messages>")],
    Discriminator(_reply_shape),
]
"""A reply: the name of an entry of ``replies:``, one message, or a list of messages."""


# --------------------------------------------------------------------------- behaviour


class Rule(StrictModel):
    """When to send which reply.

    A rule matches a text that contains one of ``keywords`` (case-insensitive) or matches
    one of the regular expressions ``patterns``, a tapped chip or menu entry whose postback
    data is one of ``postbacks``, or, with ``state`` and no other trigger, any text while
    the conversation is in that state. ``set_state`` puts
    the conversation in a state for the user's next message (e.g. "describe your problem").
    """

    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list
    )
    patterns: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list
    )
    postbacks: list[Postback] = Field(default_factory=list)
    state: str | None = Field(default=None, min_length=1, max_length=50)
    set_state: str | None = Field(default=None, min_length=1, max_length=50)
    reply: ReplyRef

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                message = f"pattern {pattern[:40]!r} is not a regular expression: {exc}"
                raise ValueError(message) from None
        return value

    @model_validator(mode="after")
    def _has_trigger(self) -> Rule:
        if not (self.keywords or self.patterns or self.postbacks or self.state is not None):
            raise ValueError("a rule needs keywords, patterns, postbacks or a state")
        return self

    @property
    def catches_all(self) -> bool:
        """A state rule without keywords, patterns or postbacks: any text in the state."""
        return self.state is not None and not (self.keywords or self.patterns or self.postbacks)


class BotScript(StrictModel):
    """One chatbot of the lab (see the module docstring)."""

    schema_version: Literal[1] = 1
    id: str = Field(max_length=63)
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=500)
    number: str = Field(pattern=r"^[0-9]{5,15}$")
    category: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=5
    )
    search_terms: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list
    )
    colour: str = "#1E88E5"
    logo: str = Field(min_length=1, max_length=2048)
    background_image: str | None = Field(default=None, min_length=1, max_length=2048)
    verified: bool = True
    verified_by: str | None = Field(default=None, min_length=1, max_length=100)
    verification_expires: str | None = None
    website: str | None = Field(default=None, pattern=r"^https?://\S+$")
    tc_page: str | None = Field(default=None, pattern=r"^https?://\S+$")
    email: str | None = Field(default=None, min_length=3, max_length=200)
    tel: str | None = Field(default=None, min_length=3, max_length=40)
    address: str | None = Field(default=None, min_length=1, max_length=200)
    menu: list[MenuItem] = Field(default_factory=list, max_length=5)
    welcome: ReplyRef | None = None
    default: ReplyRef | None = None
    on_location: ReplyRef | None = None
    on_file: ReplyRef | None = None
    on_device_specifics: ReplyRef | None = None
    rules: list[Rule] = Field(default_factory=list)
    replies: dict[str, list[Message]] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not BOT_ID.match(value):
            raise ValueError("lower-case letters, digits, '.', '_' and '-' (the SIP user part)")
        return value

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not COLOUR.match(value):
            raise ValueError("a colour is written #RRGGBB")
        return value

    @model_validator(mode="after")
    def _names_and_menu(self) -> BotScript:
        problems = [
            f"{where}: no reply named {name!r} under replies"
            for where, name in self.reply_names()
            if name not in self.replies
        ]
        if problems:
            raise ValueError("; ".join(problems))
        depth = _menu_depth(self.menu)
        if depth > 3:
            raise ValueError(f"the menu has {depth} levels; at most 3 (2 in China)")
        return self

    def reply_names(self) -> list[tuple[str, str]]:
        """Every reply referred to by name, with where: ``[("rules[2].reply", "track")]``."""
        found: list[tuple[str, str]] = []
        for key in ("welcome", "default", "on_location", "on_file", "on_device_specifics"):
            value = getattr(self, key)
            if isinstance(value, str):
                found.append((key, value))
        for index, rule in enumerate(self.rules):
            if isinstance(rule.reply, str):
                found.append((f"rules[{index}].reply", rule.reply))
        return found

    @property
    def uri(self) -> str:
        """The bot's service id, ``sip:<id>@botplatform.lab``."""
        return f"sip:{self.id}@{BOTPLATFORM_NAME}"


def _menu_depth(entries: list[MenuItem]) -> int:
    if not entries:
        return 0
    return 1 + max(_menu_depth(entry.entries or []) for entry in entries)
