"""The UP payload corpus (tests/data/payloads): every file parses, or fails where expected.

Folders name the document kind (``botmessage/``, ``chips/``, ``response/``, ``menu/``,
``botinfo/``, ``shared/``, ``fthttp/``, ``geopush/``, ``geo/``); in ``noisy/``,
``hostile/`` and ``broken/`` a ``<kind>__`` prefix does. Every valid model survives a
round trip through its own serialisation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "botmessage": up.parse_botmessage,
    "chips": up.parse_chip_list,
    "response": up.parse_suggestion_response,
    "menu": up.parse_menu,
    "botinfo": up.parse_botinfo,
    "shared": up.parse_shared_client_data,
    "fthttp": up.parse_fthttp,
    "geopush": up.parse_geopush,
    "geo": lambda data: up.parse_geo_uri(data.decode("utf-8")),
}
VALID_DIRS = (
    "botmessage",
    "chips",
    "response",
    "menu",
    "botinfo",
    "shared",
    "fthttp",
    "geopush",
    "geo",
)
CANONICAL_DIRS = ("botmessage", "chips", "response", "menu", "shared")
"""Folders whose files are written exactly as the builders write them (as dicts)."""


def kind_of(path: Path) -> str:
    folder = path.parent.name
    return folder if folder in PARSERS else path.name.split("__", 1)[0]


def files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (CORPUS / folder).iterdir())


def parse(path: Path) -> Any:
    return PARSERS[kind_of(path)](path.read_bytes())


def reserialise(kind: str, model: Any) -> Any:
    """Parse the model's own serialisation(s) back and check they agree."""
    if kind == "geo":
        return up.parse_geo_uri(model.to_geo_uri())
    if kind in ("fthttp", "geopush"):
        return PARSERS[kind](model.to_xml())
    again = PARSERS[kind](model.to_dict())
    assert PARSERS[kind](model.to_json()) == again
    return again


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


# --------------------------------------------------------------------------- valid files

ACCEPTED_VARIANT_WARNINGS = {
    "botinfo_name_entry.json": {"variant-spelling", "value-as-string"},
}


@pytest.mark.parametrize("path", files(*VALID_DIRS), ids=ids(files(*VALID_DIRS)))
def test_valid_file_parses_without_warnings_and_round_trips(path: Path) -> None:
    model = parse(path)
    codes = {w.code for w in getattr(model, "warnings", ())}
    assert codes == ACCEPTED_VARIANT_WARNINGS.get(path.name, set())
    assert reserialise(kind_of(path), model) == model


@pytest.mark.parametrize("path", files(*CANONICAL_DIRS), ids=ids(files(*CANONICAL_DIRS)))
def test_canonical_file_is_exactly_what_the_builder_writes(path: Path) -> None:
    model = parse(path)
    assert model.to_dict() == json.loads(path.read_bytes())


def test_corpus_covers_what_the_brief_asks_for() -> None:
    cards = [up.parse_botmessage(p.read_bytes()) for p in files("botmessage")]
    layouts = {(m.card.layout.orientation, m.card.layout.image_alignment) for m in cards if m.card}
    assert {("VERTICAL", None), ("HORIZONTAL", "LEFT"), ("HORIZONTAL", "RIGHT")} <= layouts
    heights = {c.media.height for m in cards for c in m.cards if c.media}
    assert heights == set(up.MediaHeight)
    assert any(c.media is None for m in cards for c in m.cards)
    widths = {(m.carousel.layout.card_width, len(m.carousel.content)) for m in cards if m.carousel}
    assert {w for w, _ in widths} == set(up.CardWidth)
    assert {n for _, n in widths} >= {2, 12}
    every = up.parse_suggestion_list((CORPUS / "chips" / "chips_every_action.json").read_bytes())
    kinds = {type(s.kind) for s in every if isinstance(s, up.Action)}
    assert kinds == set(up.ActionKind.__args__)
    assert (
        len(up.parse_chip_list((CORPUS / "chips" / "chips_11_mixed.json").read_bytes()).suggestions)
        == 11
    )
    assert up.parse_menu((CORPUS / "menu" / "menu_two_levels.json").read_bytes()).depth == 2


# --------------------------------------------------------------------------- noisy files

NOISY_WARNINGS = {
    "botmessage__carousel_missing_width.json": {"missing-field"},
    "botmessage__file_size_as_string.json": {"value-as-string"},
    "botmessage__lowercase_enums.json": {"enum-case"},
    "botmessage__missing_file_sizes.json": {"missing-field"},
    "botmessage__missing_layout.json": {"missing-field"},
    "botmessage__null_values.json": {"null-value"},
    "botmessage__placeholder_in_carousel.json": {"placeholder-key", "missing-field"},
    "botmessage__unknown_keys.json": {"unknown-key"},
    "chips__coordinates_as_strings.json": {"value-as-string"},
    "chips__missing_application.json": {"missing-field"},
    "chips__no_postback.json": {"missing-field"},
    "chips__swapped_coordinates.json": {"coordinates-swapped"},
    "chips__webview_view_modes.json": {"enum-case", "variant-spelling"},
    "fthttp__no_namespace_no_type.xml": set(),
    "menu__unknown_keys.json": {"unknown-key", "placeholder-key"},
    "response__cmcc_type_reply.json": {"unknown-key"},
    "shared__battery_as_string.json": {"value-as-string", "unknown-key"},
}


def test_every_noisy_file_has_an_expectation() -> None:
    assert {p.name for p in files("noisy")} == set(NOISY_WARNINGS)


@pytest.mark.parametrize("path", files("noisy"), ids=ids(files("noisy")))
def test_noisy_file_parses_with_the_expected_warnings(path: Path) -> None:
    model = parse(path)
    assert {w.code for w in getattr(model, "warnings", ())} == NOISY_WARNINGS[path.name]
    for warning in getattr(model, "warnings", ()):
        assert warning.path.startswith("$") and warning.message
    assert reserialise(kind_of(path), model) == model


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize("path", files("hostile"), ids=ids(files("hostile")))
def test_hostile_text_is_kept_verbatim_and_round_trips(path: Path) -> None:
    model = parse(path)
    assert reserialise(kind_of(path), model) == model


def test_hostile_strings_are_kept_exactly() -> None:
    ansi = up.parse_botmessage((CORPUS / "hostile" / "botmessage__ansi_escapes.json").read_bytes())
    content = ansi.cards[0]
    assert content.title == "\x1b[31m紧急通知\x1b[0m"
    assert content.description == "\x1b]0;owned\x07\x1b[2J\x1b[H清屏攻击"
    assert content.suggestions[0] == up.Reply("\x1b[5m闪烁\x1b[0m", "\x1b[31mpostback")
    ctl = up.parse_botmessage(
        (CORPUS / "hostile" / "botmessage__control_characters.json").read_bytes()
    )
    assert ctl.cards[0].title == "空\x00字符\x08退格\x7f删除\x9b33m"
    assert ctl.cards[0].description == "换行\r\n回车\r制表\t换页\f"
    bidi = up.parse_botmessage((CORPUS / "hostile" / "botmessage__bidi_override.json").read_bytes())
    assert bidi.cards[0].title == "\u202e发票gpj.exe"
    raw = up.parse_botmessage(
        (CORPUS / "hostile" / "botmessage__raw_newline_in_string.json").read_bytes()
    )
    assert raw.cards[0].title == "第一行\n第二行\t制表"
    ft = up.parse_fthttp((CORPUS / "hostile" / "fthttp__bidi_file_name.xml").read_bytes())
    assert ft.file.name == "发票\u202efdp.exe"
    geo = up.parse_geopush((CORPUS / "hostile" / "geopush__label_escapes.xml").read_bytes())
    assert geo.label == "\u202e点这里\n第二行<b>"


# --------------------------------------------------------------------------- broken files

_INVALID_UTF8 = (
    (CORPUS / "broken" / "botmessage__invalid_utf8.json").read_bytes().index(b"\xe4\xbd")
)
CARD = "$.message.generalPurposeCard"
CARD_CHIPS = f"{CARD}.content.suggestions"
CAROUSEL = "$.message.generalPurposeCardCarousel"

BROKEN_WHERE: dict[str, int | str | None] = {
    "botinfo__not_botinfo.json": "$",
    "botinfo__org_name_wrong_type.json": "$.botinfo.pcc.org-details.org-name",
    "botmessage__action_two_objects.json": f"{CARD_CHIPS}[0].action",
    "botmessage__action_without_object.json": f"{CARD_CHIPS}[0].action",
    "botmessage__both_card_and_carousel.json": "$.message",
    "botmessage__carousel_content_not_array.json": f"{CAROUSEL}.content",
    "botmessage__carousel_media_not_object.json": f"{CAROUSEL}.content[2].media",
    "botmessage__category_two_objects.json": f"{CARD_CHIPS}[1].action.dialerAction",
    "botmessage__deep_nesting.json": None,
    "botmessage__empty.json": "line 1, column 1",
    "botmessage__invalid_utf8.json": _INVALID_UTF8,
    "botmessage__layout_not_object.json": f"{CARD}.layout",
    "botmessage__location_without_coordinates.json": (
        f"{CARD_CHIPS}[0].action.mapAction.showLocation.location"
    ),
    "botmessage__media_missing_url.json": f"{CAROUSEL}.content[1].media",
    "botmessage__nan.json": None,
    "botmessage__neither_card_nor_carousel.json": "$.message",
    "botmessage__reply_without_display_text.json": f"{CARD_CHIPS}[0].reply",
    "botmessage__suggestion_both.json": f"{CARD_CHIPS}[0]",
    "botmessage__suggestion_neither.json": f"{CARD_CHIPS}[1]",
    "botmessage__title_wrong_type.json": f"{CARD}.content.title",
    "botmessage__top_level_array.json": "$",
    "botmessage__truncated.json": "line 1, column 67",
    "botmessage__unknown_action_category.json": f"{CARD_CHIPS}[0].action",
    "botmessage__unknown_height.json": f"{CARD}.content.media.height",
    "chips__missing_key.json": "$",
    "chips__not_array.json": "$.suggestions",
    "chips__recording_type_unknown.json": (
        "$.suggestions[0].action.composeAction.composeRecordingMessage.type"
    ),
    "fthttp__data_without_url.xml": "/file/file-info[1]/data",
    "fthttp__entity_bomb.xml": None,
    "fthttp__no_file_entry.xml": "/file",
    "fthttp__not_xml.xml": "line 1, column 0",
    "fthttp__size_not_number.xml": "/file/file-info[2]/file-size",
    "fthttp__wrong_root.xml": "/",
    "geo__bad_radius.txt": "u",
    "geo__not_geo.txt": 0,
    "geo__one_coordinate.txt": 4,
    "geopush__bad_pos.xml": "/rcsenvelope/rcspushlocation//gml:pos",
    "geopush__no_pos.xml": "/rcsenvelope/rcspushlocation",
    "geopush__no_pushlocation.xml": "/rcsenvelope",
    "menu__entry_neither.json": "$.menu.entries[1]",
    "menu__submenu_without_entries.json": "$.menu.entries[0].menu",
    "response__both.json": "$.response",
    "shared__battery_wrong_type.json": "$.sharedData.deviceSpecifics.batteryRemainingMinutes",
}


def test_every_broken_file_has_an_expectation() -> None:
    assert {p.name for p in files("broken")} == set(BROKEN_WHERE)


@pytest.mark.parametrize("path", files("broken"), ids=ids(files("broken")))
def test_broken_file_fails_with_the_path(path: Path) -> None:
    with pytest.raises(PayloadParseError) as caught:
        parse(path)
    assert caught.value.where == BROKEN_WHERE[path.name]
    assert caught.value.reason


def test_broken_messages_say_what_is_wrong() -> None:
    def reason(name: str) -> str:
        with pytest.raises(PayloadParseError) as caught:
            parse(CORPUS / "broken" / name)
        return caught.value.reason

    assert "several" in reason("botmessage__action_two_objects.json")
    assert "localBrowserAction" in reason("botmessage__unknown_action_category.json")
    assert "neither a reply nor an action" in reason("botmessage__suggestion_neither.json")
    assert "mediaUrl" in reason("botmessage__media_missing_url.json")
    assert "nesting" in reason("botmessage__deep_nesting.json")
    assert "NaN" in reason("botmessage__nan.json")
    assert "forbidden" in reason("fthttp__entity_bomb.xml")
