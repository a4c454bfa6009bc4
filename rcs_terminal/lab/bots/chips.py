"""The chips of a bot script: suggested replies and actions, and persistent-menu entries.

Part of the bot-script schema (:mod:`.model`). A chip is a reply (``text``, ``postback``)
or, with exactly one action key, a suggested action of any UP 2.4 kind (formats.md §2):
``open_url`` (+ ``webview``), ``dial``, ``dial_video``, ``dial_enriched``,
``show_location``, ``request_location``, ``calendar``, ``compose_text``,
``compose_recording``, ``request_device_specifics``, ``disable_anonymization``,
``enable_displayed_notifications``. A menu item is a chip or a submenu (``text`` and
``entries``). Labels are limited to 25 characters and postback data to 2048, as in the
GSMA schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ACTION_KEYS",
    "CalendarSpec",
    "Chip",
    "ComposeRecordingSpec",
    "ComposeTextSpec",
    "DialEnrichedSpec",
    "Label",
    "MenuItem",
    "Postback",
    "ShowLocationSpec",
    "StrictModel",
    "exactly_one",
]

Label = Annotated[str, Field(min_length=1, max_length=25)]
Postback = Annotated[str, Field(min_length=1, max_length=2048)]


class StrictModel(BaseModel):
    """Base of every bot-script model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def exactly_one(model: BaseModel, keys: tuple[str, ...], what: str, *, optional: bool) -> None:
    """Refuse ``model`` unless one of ``keys`` is set (at most one when ``optional``).

    Raises:
        ValueError: several keys are set, or none while one is required.
    """
    present = [key for key in keys if getattr(model, key) is not None]
    if len(present) > 1 and optional:
        raise ValueError(f"{what} takes at most one of its action keys; found {', '.join(present)}")
    if len(present) > 1:
        raise ValueError(f"{what} takes one of {', '.join(keys)}; found {', '.join(present)}")
    if not present and not optional:
        raise ValueError(f"{what} needs one of {', '.join(keys)}")


class DialEnrichedSpec(StrictModel):
    """``dial_enriched``: a call with a subject."""

    number: str = Field(min_length=1, max_length=40)
    subject: str | None = Field(default=None, min_length=1, max_length=60)


class ShowLocationSpec(StrictModel):
    """``show_location``: coordinates with a label, or a search query."""

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    label: str | None = Field(default=None, min_length=1, max_length=100)
    query: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _where(self) -> ShowLocationSpec:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together")
        if (self.latitude is None) == (self.query is None):
            raise ValueError("give either latitude/longitude or query")
        return self


class CalendarSpec(StrictModel):
    """``calendar``: an event; times are RFC 3339, ``{date+N}`` placeholders allowed."""

    start: str = Field(min_length=1, max_length=64)
    end: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, min_length=1, max_length=500)


class ComposeTextSpec(StrictModel):
    """``compose_text``: open the composer with a draft."""

    number: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=100)


class ComposeRecordingSpec(StrictModel):
    """``compose_recording``: record an audio or video message."""

    number: str = Field(min_length=1, max_length=40)
    type: Literal["audio", "video"] = "audio"


ACTION_KEYS = (
    "open_url",
    "dial",
    "dial_video",
    "dial_enriched",
    "show_location",
    "request_location",
    "calendar",
    "compose_text",
    "compose_recording",
    "request_device_specifics",
    "disable_anonymization",
    "enable_displayed_notifications",
)
"""The keys that make a chip a suggested action (at most one per chip)."""


class Chip(StrictModel):
    """A suggestion: a reply, or an action when one action key is given.

    ``postback`` defaults to ``text``. ``webview`` (full/half/tall) opens ``open_url`` in
    a webview instead of the browser.
    """

    text: Label
    postback: Postback | None = None
    open_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    webview: Literal["full", "half", "tall"] | None = None
    dial: str | None = Field(default=None, min_length=1, max_length=40)
    dial_video: str | None = Field(default=None, min_length=1, max_length=40)
    dial_enriched: DialEnrichedSpec | None = None
    show_location: ShowLocationSpec | None = None
    request_location: Literal[True] | None = None
    calendar: CalendarSpec | None = None
    compose_text: ComposeTextSpec | None = None
    compose_recording: ComposeRecordingSpec | None = None
    request_device_specifics: Literal[True] | None = None
    disable_anonymization: Literal[True] | None = None
    enable_displayed_notifications: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Chip:
        exactly_one(self, ACTION_KEYS, "a chip", optional=True)
        if self.webview is not None and self.open_url is None:
            raise ValueError("webview goes with open_url")
        return self

    @property
    def action(self) -> str | None:
        """The action key given, or None for a reply."""
        return next((key for key in ACTION_KEYS if getattr(self, key) is not None), None)

    @property
    def postback_data(self) -> str:
        """The postback data sent back when the chip is tapped."""
        return self.postback if self.postback is not None else self.text


class MenuItem(Chip):
    """A persistent-menu entry: a chip, or a submenu (``text`` + ``entries``)."""

    entries: list[MenuItem] | None = Field(default=None, min_length=1, max_length=5)

    @model_validator(mode="after")
    def _submenu(self) -> MenuItem:
        if self.entries is not None and (self.action is not None or self.postback is not None):
            raise ValueError("a submenu (entries) takes no postback and no action")
        return self
