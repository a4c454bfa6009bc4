"""Suggested replies and actions ("chips"), chip lists and the client's suggestion response.

GSMA RCC.07 (UP 2.4) chatbot schema, formats.md §2-§4:

- a suggestion is ``{"reply": {...}}`` or ``{"action": {...}}``, both carrying
  ``displayText`` and ``postback.data``; an action holds exactly one action category
  (``urlAction``, ``dialerAction``, ...) which holds exactly one action object
  (``openUrl``, ``dialPhoneNumber``, ...), parsed into the typed classes of
  :mod:`.actions` (re-exported here) and held in :attr:`Action.kind`;
- the chip list (``application/vnd.gsma.botsuggestion.v1.0+json``) is
  ``{"suggestions": [...]}``;
- the response the client sends when a chip is tapped
  (``application/vnd.gsma.botsuggestion.response.v1.0+json``) copies the chip's
  ``displayText`` and ``postback`` exactly.

Structure is checked strictly (neither or both of reply and action, zero or several action
objects, wrong types). Noise is accepted and noted as warnings: unknown keys, a missing
postback, CMCC's ``"type": "reply"`` inside responses. Length and count limits
(25-character labels, 11 chips...) are the linter's business: they are parsed as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rcs_terminal.protocol.up._json import (
    MISSING_FIELD,
    Context,
    JsonInput,
    JsonObject,
    PayloadWarning,
    as_object,
    dump_json,
    load_object,
)
from rcs_terminal.protocol.up.actions import (
    ACTION_PARSERS,
    ActionKind,
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
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    UrlApplication,
    ViewMode,
)

__all__ = [
    "Action",
    "ActionKind",
    "ChipList",
    "ComposeRecordingMessage",
    "ComposeTextMessage",
    "CreateCalendarEvent",
    "DialEnrichedCall",
    "DialPhoneNumber",
    "DialVideoCall",
    "DisableAnonymization",
    "EnableDisplayedNotifications",
    "OpenUrl",
    "RecordingType",
    "Reply",
    "RequestDeviceSpecifics",
    "RequestLocationPush",
    "ShowLocation",
    "Suggestion",
    "SuggestionResponse",
    "UrlApplication",
    "ViewMode",
    "build_suggestion_response",
    "parse_chip_list",
    "parse_suggestion_list",
    "parse_suggestion_response",
    "suggestion_from_json",
    "suggestions_from_json",
]

# --------------------------------------------------------------------------- suggestions


def _postback(data: str | None) -> dict[str, Any]:
    return {} if data is None else {"postback": {"data": data}}


@dataclass(frozen=True)
class Reply:
    """A suggested reply: tapping it sends ``display_text`` back with the postback."""

    display_text: str
    postback_data: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The suggestion as ``{"reply": {...}}``."""
        return {"reply": {"displayText": self.display_text, **_postback(self.postback_data)}}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


@dataclass(frozen=True)
class Action:
    """A suggested action.

    Attributes:
        display_text: the chip label.
        postback_data: echoed back in the suggestion response.
        kind: what the action does, one typed object per UP action kind.
    """

    display_text: str
    postback_data: str | None
    kind: ActionKind

    @property
    def category(self) -> str:
        """The action category key, e.g. ``"dialerAction"``."""
        return self.kind.category

    @property
    def name(self) -> str:
        """The action object key, e.g. ``"dialPhoneNumber"``."""
        return self.kind.name

    def to_dict(self) -> dict[str, Any]:
        """The suggestion as ``{"action": {...}}``."""
        body: dict[str, Any] = {self.kind.category: {self.kind.name: self.kind.to_dict()}}
        body["displayText"] = self.display_text
        body.update(_postback(self.postback_data))
        return {"action": body}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


Suggestion = Reply | Action
"""A chip: a suggested reply or a suggested action."""


@dataclass(frozen=True)
class ChipList:
    """A suggested chip list (``{"suggestions": [...]}``) with its parse warnings."""

    suggestions: tuple[Suggestion, ...]
    warnings: tuple[PayloadWarning, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The chip list document."""
        return {"suggestions": [s.to_dict() for s in self.suggestions]}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


@dataclass(frozen=True)
class SuggestionResponse:
    """What the client sends when a chip is tapped (formats.md §4).

    Attributes:
        response_type: ``"reply"`` or ``"action"``, after the tapped chip.
        display_text: the chip's label, copied exactly.
        postback_data: the chip's postback data, copied exactly.
    """

    response_type: Literal["reply", "action"]
    display_text: str
    postback_data: str | None = None
    warnings: tuple[PayloadWarning, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def for_suggestion(cls, suggestion: Suggestion) -> SuggestionResponse:
        """The response to send for a tapped ``suggestion``."""
        kind: Literal["reply", "action"] = "reply" if isinstance(suggestion, Reply) else "action"
        return cls(kind, suggestion.display_text, suggestion.postback_data)

    def to_dict(self) -> dict[str, Any]:
        """The response document."""
        body = {"displayText": self.display_text, **_postback(self.postback_data)}
        return {"response": {self.response_type: body}}

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


# --------------------------------------------------------------------------- parsing


_COMMON = ("displayText", "postback")


def _exactly_one(o: JsonObject, allowed: dict[str, Any], what: str) -> str:
    present = [k for k in o.present_keys() if k in allowed]
    if len(present) == 1:
        return present[0]
    if present:
        raise o.error(f"{what} holds several objects ({', '.join(present)}); exactly one allowed")
    others = [k for k in o.present_keys() if k not in _COMMON]
    found = f"; found {', '.join(repr(k) for k in others)}" if others else ""
    raise o.error(f"{what} holds none of {', '.join(allowed)}{found}")


def _label_and_postback(o: JsonObject) -> tuple[str, str | None]:
    display_text = o.require_text("displayText")
    postback = o.obj("postback")
    if postback is None:
        o.ctx.warn(o.path, MISSING_FIELD, "no postback: the response will carry no data")
        return display_text, None
    postback.check_keys(("data",))
    return display_text, postback.text("data")


def _reply(o: JsonObject) -> Reply:
    o.check_keys(_COMMON)
    return Reply(*_label_and_postback(o))


def _action(o: JsonObject) -> Action:
    category = _exactly_one(o, ACTION_PARSERS, "action")
    o.check_keys((*_COMMON, category))
    holder = o.require_obj(category)
    name = _exactly_one(holder, ACTION_PARSERS[category], category)
    holder.check_keys((name,))
    kind = ACTION_PARSERS[category][name](holder.require_obj(name))
    display_text, postback_data = _label_and_postback(o)
    return Action(display_text, postback_data, kind)


def suggestion_from_json(value: Any, path: str, ctx: Context) -> Suggestion:
    """Parse one ``{"reply": ...}`` / ``{"action": ...}`` item at ``path``.

    Raises:
        PayloadParseError: when the item is neither or both, or is malformed.
    """
    o = as_object(value, path, ctx)
    if "reply" in o and "action" in o:
        raise o.error("suggestion holds both a reply and an action")
    if "reply" in o:
        o.check_keys(("reply",))
        return _reply(o.require_obj("reply"))
    if "action" in o:
        o.check_keys(("action",))
        return _action(o.require_obj("action"))
    raise o.error("suggestion holds neither a reply nor an action")


def suggestions_from_json(o: JsonObject, key: str = "suggestions") -> tuple[Suggestion, ...]:
    """Parse the (optional) suggestion array member ``key`` of ``o``."""
    return tuple(suggestion_from_json(v, p, o.ctx) for v, p in o.array(key))


def parse_chip_list(data: JsonInput) -> ChipList:
    """Parse a ``botsuggestion`` chip list document.

    Raises:
        PayloadParseError: on malformed input, with the JSON path.
    """
    ctx = Context()
    root = JsonObject(load_object(data), "$", ctx)
    root.check_keys(("suggestions",))
    items = root.array("suggestions", required=True)
    suggestions = tuple(suggestion_from_json(v, p, ctx) for v, p in items)
    return ChipList(suggestions, tuple(ctx.warnings))


def parse_suggestion_list(data: JsonInput) -> list[Suggestion]:
    """Parse a chip list and return its suggestions (see :func:`parse_chip_list`)."""
    return list(parse_chip_list(data).suggestions)


def build_suggestion_response(suggestion: Suggestion) -> bytes:
    """The ``botsuggestion.response`` body for a tapped chip."""
    return SuggestionResponse.for_suggestion(suggestion).to_json()


def parse_suggestion_response(data: JsonInput) -> SuggestionResponse:
    """Parse a client's suggestion response (what the lab's bots receive).

    Extra members such as CMCC's ``"type": "reply"`` are ignored (and noted as warnings).

    Raises:
        PayloadParseError: on malformed input, with the JSON path.
    """
    ctx = Context()
    root = JsonObject(load_object(data), "$", ctx)
    root.check_keys(("response",))
    response = root.require_obj("response")
    kind: Literal["reply", "action"]
    kind = "reply" if "reply" in response else "action"
    if "reply" in response and "action" in response:
        raise response.error("response holds both a reply and an action")
    if kind not in response:
        raise response.error("response holds neither a reply nor an action")
    response.check_keys((kind,))
    body = response.require_obj(kind)
    body.check_keys(_COMMON)
    display_text, postback_data = _label_and_postback(body)
    return SuggestionResponse(kind, display_text, postback_data, tuple(ctx.warnings))
