"""Chip lists, action icons and labels, the persistent menu and the bot-info page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from rcs_terminal.protocol.up import (
    parse_botinfo,
    parse_chip_list,
    parse_menu,
)
from rcs_terminal.protocol.up.actions import ShowLocation
from rcs_terminal.protocol.up.menu import Submenu
from rcs_terminal.protocol.up.suggestions import Action, Reply
from rcs_terminal.render.actions import action_badge, action_target
from rcs_terminal.render.botinfo import BotInfoView
from rcs_terminal.render.chips import CardChips, ChipBar, chip_label
from rcs_terminal.render.console import make_console
from rcs_terminal.render.layout import RenderOptions
from rcs_terminal.render.menu import MenuView

PAYLOADS = Path(__file__).parents[1] / "data" / "payloads"
PLAIN = RenderOptions(plain=True)
ICONS = RenderOptions()


def draw(renderable: RenderableType, width: int = 80, *, plain: bool = True) -> str:
    buf = io.StringIO()
    make_console(width=width, plain=plain, file=buf).print(renderable)
    return buf.getvalue()


# --------------------------------------------------------------------------- chip lists


@pytest.mark.parametrize("path", sorted((PAYLOADS / "chips").glob("*.json")), ids=lambda p: p.stem)
@pytest.mark.parametrize("width", [20, 40, 80])
def test_chip_list_shows_every_chip_within_the_width(path: Path, width: int) -> None:
    chips = parse_chip_list(path.read_bytes())
    out = draw(ChipBar(chips.suggestions, PLAIN), width)
    for chip in chips.suggestions:
        assert chip.display_text in out
    assert max(cell_len(line) for line in out.splitlines()) <= width


def test_chip_list_wraps_onto_further_rows() -> None:
    chips = parse_chip_list((PAYLOADS / "chips/chips_11_mixed.json").read_bytes())
    wide = draw(ChipBar(chips.suggestions, PLAIN), 200)
    narrow = draw(ChipBar(chips.suggestions, PLAIN), 40)
    assert len(wide.splitlines()) == 3
    assert len(narrow.splitlines()) > 3 and len(narrow.splitlines()) % 3 == 0


PLAIN_LABELS = {
    "url_browser": "[url]",
    "url_webview": "[webview]",
    "dial": "[dial]",
    "dial_enriched": "[enriched call]",
    "dial_video": "[video call]",
    "map_coords": "[map]",
    "map_query": "[map]",
    "push_location": "[share location]",
    "calendar": "[calendar]",
    "compose_text": "[compose]",
    "compose_video": "[record video]",
    "device": "[device]",
    "deanon": "[settings]",
    "displayed": "[settings]",
}
ICON_LABELS = {
    "url_browser": "🔗",
    "dial": "📞",
    "dial_video": "📹",
    "map_coords": "📍",
    "push_location": "📡",
    "calendar": "📅",
    "compose_text": "✉\ufe0f",
    "compose_video": "🎙\ufe0f",
    "device": "📱",
    "deanon": "⚙\ufe0f",
}


def test_every_action_kind_has_a_plain_label_and_an_icon() -> None:
    chips = parse_chip_list((PAYLOADS / "chips/chips_every_action.json").read_bytes())
    by_postback = {c.postback_data: c for c in chips.suggestions}
    for postback, label in PLAIN_LABELS.items():
        assert chip_label(by_postback[postback], PLAIN).plain.startswith(label + " ")
    for postback, icon in ICON_LABELS.items():
        assert chip_label(by_postback[postback], ICONS).plain.startswith(icon + " ")
    reply = by_postback["ok"]
    assert isinstance(reply, Reply)
    assert chip_label(reply, PLAIN).plain == reply.display_text


def test_plain_output_has_no_emoji_icons() -> None:
    chips = parse_chip_list((PAYLOADS / "chips/chips_every_action.json").read_bytes())
    out = draw(ChipBar(chips.suggestions, PLAIN), 80)
    for icon in ICON_LABELS.values():
        assert icon.rstrip("\ufe0f") not in out
    icons = draw(ChipBar(chips.suggestions, ICONS), 80, plain=False)
    for icon in ICON_LABELS.values():
        assert icon in icons


def test_full_mode_says_where_each_action_leads() -> None:
    chips = parse_chip_list((PAYLOADS / "chips/chips_every_action.json").read_bytes())
    out = draw(ChipBar(chips.suggestions, RenderOptions(plain=True, full=True)), 120)
    assert "https://www.botplatform.lab/ (browser)" in out
    assert "tel +8610086" in out
    assert "附近的营业厅" in out
    assert "618 年中大促" in out


def test_action_targets() -> None:
    assert "[coordinates look swapped]" in action_target(ShowLocation(116.49, 40.0, "望京"))
    assert action_target(ShowLocation(query="附近")) == "附近"
    hostile = ShowLocation(30.0, 120.0, "\x1b[2J标签")
    assert "\x1b" not in action_target(hostile) and "␛[2J标签" in action_target(hostile)


def test_chip_labels_are_cut_and_sanitised() -> None:
    chip = Reply("\x1b[1;31m" + "很长的标签" * 10)
    label = chip_label(chip, PLAIN)
    assert "\x1b" not in label.plain and label.plain.startswith("␛[1;31m")
    assert label.cell_len <= 26 and label.plain.endswith("…")
    assert chip_label(chip, RenderOptions(plain=True, full=True)).plain.count("很长的标签") == 10


def test_highlighted_chip_is_reversed() -> None:
    chips = [Reply("一"), Reply("二")]
    console = Console(width=40, force_terminal=True, color_system="standard")
    for view in (ChipBar(chips, PLAIN, highlight=1), CardChips(chips, PLAIN, highlight=1)):
        segments = [s for line in console.render_lines(view) for s in line if "二" in s.text]
        assert segments and all(s.style is not None and s.style.reverse for s in segments)


# --------------------------------------------------------------------------- menu


def _labels(entries: tuple[object, ...]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []

    def walk(items: tuple[object, ...], depth: int) -> None:
        for item in items:
            assert isinstance(item, Reply | Action | Submenu)
            out.append((depth, item.display_text))
            if isinstance(item, Submenu):
                walk(item.entries, depth + 1)

    walk(entries, 0)
    return out


@pytest.mark.parametrize("path", sorted((PAYLOADS / "menu").glob("*.json")), ids=lambda p: p.stem)
def test_menu_shows_every_entry_of_every_level_indented(path: Path) -> None:
    menu = parse_menu(path.read_bytes())
    lines = draw(MenuView(menu, PLAIN), 100).splitlines()
    for depth, label in _labels(menu.entries):
        row = next(line for line in lines if label in line)
        assert cell_len(row[: row.index(label)]) >= 4 * (depth + 1)
    assert max(cell_len(line) for line in lines) <= 100


def test_menu_submenus_and_actions_are_marked() -> None:
    menu = parse_menu((PAYLOADS / "menu/menu_two_levels.json").read_bytes())
    out = draw(MenuView(menu, PLAIN, title="中国移动"), 100)
    assert "[menu] 中国移动" in out
    assert "> 我的业务" in out
    assert "[dial] 在线客服" in out and "tel 10086" in out
    icons = draw(MenuView(menu, ICONS), 100, plain=False)
    assert "▸ 我的业务" in icons and "📞 在线客服" in icons


# --------------------------------------------------------------------------- bot info


@pytest.mark.parametrize(
    "path", sorted((PAYLOADS / "botinfo").glob("*.json")), ids=lambda p: p.stem
)
def test_bot_info_shows_name_and_facts(path: Path) -> None:
    info = parse_botinfo(path.read_bytes())
    out = draw(BotInfoView(info, PLAIN), 80)
    if info.name:
        assert info.name in out
    if info.colour_hex:
        assert info.colour_hex in out
    if info.persistent_menu is not None:
        for _, label in _labels(info.persistent_menu.entries):
            assert label in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80


def test_bot_info_verification_and_hostile_name() -> None:
    info = parse_botinfo(
        b'{"botinfo":{"pcc":{"org-details":{"org-name":[{"display-name":"\\u001b[2J[bold]Bank"}]}},'
        b'"colour":"not-a-colour"},'
        b'"bot-verification":{"verification-info":{"verified":true,"verified-by":"CMCC"}}}'
    )
    out = draw(BotInfoView(info, PLAIN), 80)
    assert "␛[2J[bold]Bank [verified]" in out
    assert "CMCC" in out and "not-a-colour (unreadable)" in out
    assert "\x1b" not in out
    assert "✔" in draw(BotInfoView(info, ICONS), 80, plain=False)


def test_action_badge_falls_back_for_plain_and_icons() -> None:
    chips = parse_chip_list((PAYLOADS / "chips/chips_every_action.json").read_bytes())
    kinds = [c.kind for c in chips.suggestions if isinstance(c, Action)]
    assert all(action_badge(k, plain=True).startswith("[") for k in kinds)
    assert all(not action_badge(k).startswith("[") for k in kinds)
