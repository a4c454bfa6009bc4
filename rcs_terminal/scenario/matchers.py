"""Matching what happened against what a scenario expects.

Pure functions, no I/O: each compares an expectation model (:mod:`.expectations`) with an
observed value and returns the :class:`Mismatch` list (empty when everything matches). A
mismatch names the field (``card.chips[1].postback``), what was expected and what was seen,
in words that go straight into the report, so a failed conformance run says *what* differs,
not only *that* something does.

Observed messages are :class:`ObservedMessage` values: the decoded view of a stored message
(:mod:`.observe` builds them from the store and :func:`rcs_terminal.domain.content.describe`).
Trace records are matched by :func:`match_trace_record`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from rcs_terminal.domain.message import canonical_peer
from rcs_terminal.protocol.up import (
    Action,
    CardContent,
    Carousel,
    FileTransferInfo,
    GeneralPurposeCard,
    LocationPush,
    Reply,
    SuggestionResponse,
)
from rcs_terminal.scenario.expectations import (
    CardExpect,
    CarouselExpect,
    ChipsExpect,
    FileExpect,
    LocationExpect,
    MessageExpect,
    NumberRange,
    ResponseExpect,
    TextPattern,
)

__all__ = [
    "Mismatch",
    "ObservedMessage",
    "chip_kind",
    "describe_text",
    "match_message",
    "match_number",
    "match_text",
    "match_trace_record",
    "same_peer",
]

_SHOWN = 120
"""Characters of an actual value quoted in a mismatch."""


@dataclass(frozen=True)
class Mismatch:
    """One difference between expectation and reality.

    Attributes:
        path: the field (``card.title``).
        expected: what the scenario expected, in words.
        actual: what was observed, in words.
    """

    path: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.actual}"


@dataclass(frozen=True)
class ObservedMessage:
    """A received message as the matchers see it.

    Attributes:
        message_id: its imdn.Message-ID.
        sender: the peer's URI.
        sim: the SIM it arrived on.
        content_type: the content type inside CPIM.
        kind: the decoded kind (``text``, ``card``...).
        text: the text shown for it.
        card: the standalone card, if any.
        carousel: the carousel, if any.
        chips: the message's chip list (not a card's own suggestions).
        traffic_type: the CPM Traffic-Type.
        technology: how it was carried.
        file: the FT-HTTP descriptor, if any.
        location: the geolocation push, if any.
        response: the suggestion response, if any.
        findings: the lint findings (``str`` of each), if it was linted.
        lint_errors: how many of the findings are errors.
    """

    message_id: str
    sender: str
    sim: int
    content_type: str
    kind: str
    text: str | None = None
    card: GeneralPurposeCard | None = None
    carousel: Carousel | None = None
    chips: tuple[Reply | Action, ...] = ()
    traffic_type: str | None = None
    technology: str | None = None
    file: FileTransferInfo | None = None
    location: LocationPush | None = None
    response: SuggestionResponse | None = None
    findings: tuple[str, ...] = field(default=(), compare=False)
    lint_errors: int = 0

    def summary(self) -> str:
        """One line describing the message (for "got ..." in reports)."""
        bits = [f"{self.kind} ({self.content_type.split(';')[0]}) from {self.sender}"]
        if self.card is not None and self.card.content.title:
            bits.append(f"title {_quote(self.card.content.title)}")
        elif self.carousel is not None:
            bits.append(f"{len(self.carousel.content)} cards")
        elif self.text:
            bits.append(_quote(self.text))
        return ", ".join(bits)


def _quote(value: object) -> str:
    text = str(value)
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "\u2026"
    return repr(text)


# ----------------------------------------------------------------------------- scalars


def describe_text(pattern: TextPattern) -> str:
    """A text condition in words."""
    parts = []
    if pattern.equals is not None:
        parts.append(_quote(pattern.equals))
    if pattern.contains is not None:
        parts.append(f"text containing {_quote(pattern.contains)}")
    if pattern.startswith is not None:
        parts.append(f"text starting with {_quote(pattern.startswith)}")
    if pattern.regex is not None:
        parts.append(f"text matching /{pattern.regex}/")
    if pattern.not_contains is not None:
        parts.append(f"text without {_quote(pattern.not_contains)}")
    return " and ".join(parts)


def match_text(pattern: TextPattern | None, actual: str | None, path: str) -> list[Mismatch]:
    """Compare a text condition with a value (None: the field is absent)."""
    if pattern is None:
        return []
    ok = actual is not None
    if ok and actual is not None:
        ok = (
            (pattern.equals is None or actual == pattern.equals)
            and (pattern.contains is None or pattern.contains in actual)
            and (pattern.startswith is None or actual.startswith(pattern.startswith))
            and (pattern.regex is None or re.search(pattern.regex, actual) is not None)
            and (pattern.not_contains is None or pattern.not_contains not in actual)
        )
    if ok:
        return []
    shown = "nothing" if actual is None else _quote(actual)
    return [Mismatch(path, describe_text(pattern), shown)]


def _number_text(rule: NumberRange) -> str:
    if rule.min is not None and rule.min == rule.max:
        return _num(rule.min)
    if rule.min is not None and rule.max is not None:
        return f"{_num(rule.min)}..{_num(rule.max)}"
    if rule.min is not None:
        return f"at least {_num(rule.min)}"
    return f"at most {_num(rule.max)}"


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def match_number(rule: NumberRange | None, actual: float | None, path: str) -> list[Mismatch]:
    """Compare a number condition with a value (None: absent)."""
    if rule is None:
        return []
    ok = actual is not None and (
        (rule.min is None or actual >= rule.min) and (rule.max is None or actual <= rule.max)
    )
    if ok:
        return []
    return [Mismatch(path, _number_text(rule), "nothing" if actual is None else _num(actual))]


def _equal(expected: object, actual: object, path: str) -> list[Mismatch]:
    if expected is None or expected == actual:
        return []
    shown = "nothing" if actual is None else _quote(actual)
    return [Mismatch(path, _quote(expected), shown)]


def same_peer(expected: str, actual: str) -> bool:
    """Whether two peer URIs name the same peer (tel/sip forms of one number are equal)."""
    return canonical_peer(expected) == canonical_peer(actual)


# ----------------------------------------------------------------------------- chips, cards


def chip_kind(chip: Reply | Action) -> str:
    """``reply``, or the action's name (``openUrl``)."""
    return "reply" if isinstance(chip, Reply) else chip.name


def match_chips(
    rule: ChipsExpect | None, chips: Sequence[Reply | Action], path: str
) -> list[Mismatch]:
    """Compare a chip expectation with a list of suggestions."""
    if rule is None:
        return []
    out = match_number(rule.count, len(chips), f"{path}.count")
    texts = [c.display_text for c in chips]
    if rule.texts is not None and texts != rule.texts:
        out.append(Mismatch(f"{path}.texts", repr(rule.texts), repr(texts)))
    for wanted in rule.contains or ():
        if wanted not in texts:
            out.append(Mismatch(f"{path}.contains", _quote(wanted), repr(texts)))
    for index, kind in enumerate(rule.kinds or ()):
        actual = chip_kind(chips[index]) if index < len(chips) else None
        if kind == "action" and isinstance(actual, str) and actual != "reply":
            continue
        if actual != kind:
            out.append(Mismatch(f"{path}[{index}].kind", kind, str(actual or "no chip")))
    for index, postback in enumerate(rule.postbacks or ()):
        if index >= len(chips):
            out.append(Mismatch(f"{path}[{index}].postback", _quote(postback), "no chip"))
        elif chips[index].postback_data != postback:
            actual_pb = chips[index].postback_data
            out.append(
                Mismatch(
                    f"{path}[{index}].postback",
                    _quote(postback),
                    "nothing" if actual_pb is None else _quote(actual_pb),
                )
            )
    return out


def match_card_content(
    rule: CardExpect, content: CardContent, path: str, layout: Mapping[str, Any] | None = None
) -> list[Mismatch]:
    """Compare a card expectation with one card's content (and its layout, when standalone)."""
    out = match_text(rule.title, content.title, f"{path}.title")
    out += match_text(rule.description, content.description, f"{path}.description")
    media = content.media
    if rule.media is not None and (media is not None) != rule.media:
        out.append(
            Mismatch(
                f"{path}.media",
                "media" if rule.media else "no media",
                "none" if media is None else "media",
            )
        )
    if rule.media_type is not None:
        out += match_text(
            rule.media_type, media.content_type if media else None, f"{path}.media_type"
        )
    if rule.media_height is not None:
        height = media.height.value if media is not None and media.height is not None else None
        out += _equal(rule.media_height, height, f"{path}.media_height")
    layout = layout or {}
    if rule.orientation is not None:
        out += _equal(rule.orientation, layout.get("orientation"), f"{path}.orientation")
    if rule.image_alignment is not None:
        out += _equal(
            rule.image_alignment, layout.get("image_alignment"), f"{path}.image_alignment"
        )
    out += match_chips(rule.chips, content.suggestions, f"{path}.chips")
    return out


def match_card(
    rule: CardExpect | None, card: GeneralPurposeCard | None, path: str
) -> list[Mismatch]:
    """Compare a card expectation with a standalone card."""
    if rule is None:
        return []
    if card is None:
        return [Mismatch(path, "a rich card", "no card")]
    layout = {
        "orientation": card.layout.orientation.value,
        "image_alignment": card.layout.image_alignment.value
        if card.layout.image_alignment is not None
        else None,
    }
    return match_card_content(rule, card.content, path, layout)


def match_carousel(
    rule: CarouselExpect | None, carousel: Carousel | None, path: str
) -> list[Mismatch]:
    """Compare a carousel expectation with a carousel."""
    if rule is None:
        return []
    if carousel is None:
        return [Mismatch(path, "a carousel", "no carousel")]
    out = match_number(rule.size, len(carousel.content), f"{path}.size")
    out += _equal(rule.width, carousel.layout.card_width.value, f"{path}.width")
    for index, card_rule in enumerate(rule.cards or ()):
        if index >= len(carousel.content):
            out.append(Mismatch(f"{path}.cards[{index}]", "a card", "no card"))
            continue
        out += match_card_content(card_rule, carousel.content[index], f"{path}.cards[{index}]")
    return out


def match_file(rule: FileExpect | None, info: FileTransferInfo | None, path: str) -> list[Mismatch]:
    """Compare a file expectation with an FT-HTTP descriptor."""
    if rule is None:
        return []
    if info is None:
        return [Mismatch(path, "a file", "no file")]
    out = match_text(rule.name, info.file.name, f"{path}.name")
    out += match_text(rule.content_type, info.file.content_type, f"{path}.content_type")
    out += match_number(rule.size, info.file.size, f"{path}.size")
    if rule.thumbnail is not None and (info.thumbnail is not None) != rule.thumbnail:
        out.append(
            Mismatch(
                f"{path}.thumbnail", str(rule.thumbnail).lower(), str(not rule.thumbnail).lower()
            )
        )
    return out


def match_location(
    rule: LocationExpect | None, location: LocationPush | None, path: str
) -> list[Mismatch]:
    """Compare a location expectation with a geolocation push."""
    if rule is None:
        return []
    if location is None:
        return [Mismatch(path, "a location", "no location")]
    out: list[Mismatch] = []
    for name, wanted, actual in (
        ("latitude", rule.latitude, location.latitude),
        ("longitude", rule.longitude, location.longitude),
    ):
        if wanted is not None and not math.isclose(wanted, actual, abs_tol=rule.tolerance):
            out.append(Mismatch(f"{path}.{name}", _num(wanted), _num(actual)))
    out += match_text(rule.label, location.label, f"{path}.label")
    return out


def match_response(
    rule: ResponseExpect | None, response: SuggestionResponse | None, path: str
) -> list[Mismatch]:
    """Compare a suggestion-response expectation with a parsed response."""
    if rule is None:
        return []
    if response is None:
        return [Mismatch(path, "a suggestion response", "none")]
    out = match_text(rule.display_text, response.display_text, f"{path}.display_text")
    out += match_text(rule.postback, response.postback_data, f"{path}.postback")
    out += _equal(rule.type, response.response_type, f"{path}.type")
    return out


# ----------------------------------------------------------------------------- messages


def match_message(rule: MessageExpect, seen: ObservedMessage) -> list[Mismatch]:
    """Compare every given field of a message expectation with a received message."""
    out = match_text(rule.content_type, seen.content_type, "content_type")
    out += _equal(rule.kind, seen.kind, "kind")
    out += match_text(rule.text, seen.text, "text")
    out += match_card(rule.card, seen.card, "card")
    out += match_carousel(rule.carousel, seen.carousel, "carousel")
    out += match_chips(rule.chips, seen.chips, "chips")
    out += match_text(rule.traffic_type, seen.traffic_type, "traffic_type")
    out += _equal(rule.technology, seen.technology, "technology")
    out += match_file(rule.file, seen.file, "file")
    out += match_location(rule.location, seen.location, "location")
    out += match_response(rule.response, seen.response, "response")
    if rule.lint == "clean" and seen.findings:
        out.append(Mismatch("lint", "no findings", "; ".join(seen.findings[:5])))
    elif rule.lint == "no-errors" and seen.lint_errors:
        out.append(Mismatch("lint", "no errors", "; ".join(seen.findings[:5])))
    return out


# ----------------------------------------------------------------------------- trace


def _header_values(text: str, name: str) -> list[str]:
    """The values of header ``name`` in a SIP or HTTP message's text (head only)."""
    head = text.split("\r\n\r\n", 1)[0]
    wanted = name.lower()
    compact = {
        "m": "contact",
        "a": "accept-contact",
        "c": "content-type",
        "f": "from",
        "t": "to",
        "i": "call-id",
        "v": "via",
        "l": "content-length",
        "k": "supported",
        "o": "event",
    }
    out = []
    for line in head.split("\r\n")[1:]:
        key, colon, value = line.partition(":")
        if not colon:
            continue
        key = key.strip().lower()
        if compact.get(key, key) == wanted:
            out.append(value.strip())
    return out


def match_trace_record(
    text: str,
    first_line: str,
    *,
    method: str | None = None,
    status: int | None = None,
    first_line_rule: TextPattern | None = None,
    headers: Mapping[str, TextPattern] | None = None,
    feature_tags: Sequence[str] = (),
    body: TextPattern | None = None,
    query: Mapping[str, TextPattern] | None = None,
) -> bool:
    """Whether one trace record (its text and start line) satisfies every condition."""
    parts = first_line.split(" ", 2)
    is_response = first_line.startswith(("SIP/2.0 ", "HTTP/"))
    if method is not None and (is_response or parts[0].upper() != method.upper()):
        return False
    if status is not None and (not is_response or len(parts) < 2 or parts[1] != str(status)):
        return False
    if first_line_rule is not None and match_text(first_line_rule, first_line, "first_line"):
        return False
    for name, rule in (headers or {}).items():
        if not any(not match_text(rule, value, name) for value in _header_values(text, name)):
            return False
    if feature_tags:
        contacts = " ".join(
            _header_values(text, "contact") + _header_values(text, "accept-contact")
        ).lower()
        if not all(tag.lower() in contacts for tag in feature_tags):
            return False
    if body is not None:
        content = text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""
        if match_text(body, content, "body"):
            return False
    if query:
        if is_response or len(parts) < 2:
            return False
        params = dict(parse_qsl(urlsplit(parts[1]).query, keep_blank_values=True))
        for name, rule in query.items():
            if match_text(rule, params.get(name), name):
                return False
    return True
