"""Limits per operator profile: the GSMA UP 2.4 schema, and China's 5G Message platforms.

The schema limits (formats.md §1-§6: titles 1..200 characters, 2..12 carousel cards, up to
4 chips per card and 11 per list, 25-character chip labels...) apply everywhere and live in
the rules. What differs per operator is collected here as :class:`OperatorLimits`:

- ``gsma``: the GSMA schemas alone. Persistent menu: 1..5 entries on every level and at
  most two submenu levels below the top (three levels in all).
- ``cmcc``, ``cu``, ``ct`` (China Mobile, China Unicom, China Telecom; formats.md §10,
  from the CT/CU platform access specification): text messages up to 2000 characters;
  chip labels also warned about when over 25 UTF-8 bytes (the spec's "25 characters
  (Byte)" is ambiguous); menus of two levels with at most 3 top-level and 5 second-level
  entries; media limits (images up to 2 MB in JPEG/PNG, video up to 10 MB in MP4/WebM,
  audio up to 5 MB in AMR/MP3/M4A, thumbnails up to 200 KB in JPEG/PNG); and no
  ``dialEnrichedCall`` or ``settingsAction`` among the action kinds the menu text names.
  The three operators share one rule set: no public difference between them is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KB = 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class MediaRule:
    """Size and type limits of one kind of media.

    Attributes:
        max_bytes: the largest file accepted.
        types: the MIME types accepted (lower case, without parameters).
        label: the limit as people write it, e.g. ``"2 MB, jpg/png"``.
    """

    max_bytes: int
    types: frozenset[str]
    label: str


@dataclass(frozen=True)
class OperatorLimits:
    """What one operator profile enforces beyond the UP schema.

    Attributes:
        name: the profile's name (``gsma``, ``cmcc``, ``cu``, ``ct``).
        description: who it stands for.
        china: whether China's 5G Message rules apply.
        menu_levels: most levels of a persistent menu, the top level included.
        menu_top_entries: most entries on the top level.
        menu_sub_entries: most entries on a submenu level.
        text_max: most characters in a text message (``None``: no limit).
        display_text_bytes: warn when a chip label exceeds this many UTF-8 bytes.
        media: size/type limits per top-level media kind (``image``, ``video``, ``audio``).
        thumbnail: size/type limits of thumbnails.
        absent_actions: action object names this operator's terminals may not render.
    """

    name: str
    description: str
    china: bool = False
    menu_levels: int = 3
    menu_top_entries: int = 5
    menu_sub_entries: int = 5
    text_max: int | None = None
    display_text_bytes: int | None = None
    media: Mapping[str, MediaRule] = field(default_factory=dict)
    thumbnail: MediaRule | None = None
    absent_actions: frozenset[str] = frozenset()


_CHINA_MEDIA = {
    "image": MediaRule(
        2 * MB, frozenset({"image/jpeg", "image/jpg", "image/png"}), "2 MB, jpg/png"
    ),
    "video": MediaRule(10 * MB, frozenset({"video/mp4", "video/webm"}), "10 MB, mp4/webm"),
    "audio": MediaRule(
        5 * MB,
        frozenset(
            {"audio/amr", "audio/mpeg", "audio/mp3", "audio/mp4", "audio/m4a", "audio/x-m4a"}
        ),
        "5 MB, amr/mp3/m4a",
    ),
}
_CHINA_THUMBNAIL = MediaRule(
    200 * KB, frozenset({"image/jpeg", "image/jpg", "image/png"}), "200 KB, jpg/png"
)
_CHINA_ABSENT = frozenset(
    {"dialEnrichedCall", "disableAnonymization", "enableDisplayedNotifications"}
)


def _china(name: str, description: str) -> OperatorLimits:
    return OperatorLimits(
        name=name,
        description=description,
        china=True,
        menu_levels=2,
        menu_top_entries=3,
        menu_sub_entries=5,
        text_max=2000,
        display_text_bytes=25,
        media=_CHINA_MEDIA,
        thumbnail=_CHINA_THUMBNAIL,
        absent_actions=_CHINA_ABSENT,
    )


OPERATORS: dict[str, OperatorLimits] = {
    "gsma": OperatorLimits(name="gsma", description="GSMA UP 2.4 chatbot schemas"),
    "cmcc": _china("cmcc", "China Mobile 5G Message platform"),
    "cu": _china("cu", "China Unicom 5G Message platform"),
    "ct": _china("ct", "China Telecom 5G Message platform"),
}
"""Every operator profile by name."""


def operator_limits(name: str) -> OperatorLimits:
    """The limits of operator profile ``name`` (case-insensitive).

    Raises:
        ValueError: for an unknown name.
    """
    try:
        return OPERATORS[name.strip().lower()]
    except KeyError:
        known = ", ".join(OPERATORS)
        raise ValueError(f"unknown operator {name!r} (expected one of {known})") from None
