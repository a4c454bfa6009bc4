"""Rich cards drawn as text: layout, media heights, truncation, styles, hostile text, widths."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console, RenderableType

from rcs_terminal.protocol.up import parse_botmessage
from rcs_terminal.protocol.up.botmessage import CardContent
from rcs_terminal.render.card import CardView
from rcs_terminal.render.console import make_console
from rcs_terminal.render.layout import MEDIA_ROWS, Clamp, RenderOptions, fit, line_text
from rcs_terminal.render.message import render_botmessage
from rcs_terminal.render.sanitize import sanitize

DATA = Path(__file__).parents[1] / "data"
PAYLOADS = DATA / "payloads"
RENDER = DATA / "render"


def draw(renderable: RenderableType, width: int = 60, *, plain: bool = True) -> str:
    buf = io.StringIO()
    make_console(width=width, plain=plain, file=buf).print(renderable)
    return buf.getvalue()


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def card_output(doc: dict[str, Any] | Path, width: int = 60, **options: bool) -> str:
    data = load(doc) if isinstance(doc, Path) else doc
    return draw(
        render_botmessage(parse_botmessage(data), RenderOptions(plain=True, **options)), width
    )


def line_of(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


# --------------------------------------------------------------------------- layout


def test_vertical_card_shows_media_title_description_chips_in_order() -> None:
    lines = card_output(PAYLOADS / "botmessage/card_vertical_tall_image.json").splitlines()
    media = line_of(lines, "[image] image/jpeg")
    title = line_of(lines, "您的快递已到达驿站")
    description = line_of(lines, "取件码")
    chip = line_of(lines, "确认收货")
    assert media < title < description < chip


@pytest.mark.parametrize("height", list(MEDIA_ROWS))
def test_media_box_is_as_tall_as_its_height(height: Any) -> None:
    doc = load(PAYLOADS / "botmessage/card_vertical_short_image.json")
    doc["message"]["generalPurposeCard"]["content"]["media"]["height"] = height.value
    lines = card_output(doc).splitlines()
    top = line_of(lines, "┌")
    bottom = line_of(lines, "└")
    assert bottom - top + 1 == MEDIA_ROWS[height]


def test_tall_media_has_more_rows_than_medium_and_short() -> None:
    doc = load(PAYLOADS / "botmessage/card_vertical_short_image.json")
    heights = {}
    for height in ("SHORT_HEIGHT", "MEDIUM_HEIGHT", "TALL_HEIGHT"):
        variant = copy.deepcopy(doc)
        variant["message"]["generalPurposeCard"]["content"]["media"]["height"] = height
        heights[height] = len(card_output(variant).splitlines())
    assert heights["SHORT_HEIGHT"] < heights["MEDIUM_HEIGHT"] < heights["TALL_HEIGHT"]


def test_media_without_height_gets_medium() -> None:
    doc = load(PAYLOADS / "botmessage/card_vertical_short_image.json")
    del doc["message"]["generalPurposeCard"]["content"]["media"]["height"]
    lines = card_output(doc).splitlines()
    assert line_of(lines, "└") - line_of(lines, "┌") + 1 == 5


def test_image_left_puts_the_media_box_left_of_the_title() -> None:
    lines = card_output(PAYLOADS / "botmessage/card_horizontal_left.json").splitlines()
    row = lines[line_of(lines, "西湖景观大床房")]
    assert row.index("┌") < row.index("西湖景观大床房")


def test_image_right_puts_the_media_box_right_of_the_title() -> None:
    lines = card_output(PAYLOADS / "botmessage/card_horizontal_right.json").splitlines()
    title = load(PAYLOADS / "botmessage/card_horizontal_right.json")["message"][
        "generalPurposeCard"
    ]["content"]["title"]
    row = lines[line_of(lines, title)]
    assert row.index(title) < row.index("┌")


def test_horizontal_card_chips_go_under_both_columns() -> None:
    lines = card_output(PAYLOADS / "botmessage/card_horizontal_left.json").splitlines()
    assert line_of(lines, "└") < line_of(lines, "立即预订")


def test_card_without_media_or_text_says_it_is_empty() -> None:
    assert "(empty card)" in draw(CardView(CardContent()))


def test_card_width_is_capped_and_follows_the_terminal() -> None:
    wide = card_output(PAYLOADS / "botmessage/card_description_only.json", width=120)
    assert max(cell_len(line) for line in wide.splitlines()) == 48
    narrow = card_output(PAYLOADS / "botmessage/card_description_only.json", width=30)
    assert max(cell_len(line) for line in narrow.splitlines()) == 30


# --------------------------------------------------------------------------- truncation


def test_long_description_is_cut_after_three_lines_and_full_shows_it_all() -> None:
    path = RENDER / "card_long_cjk.json"
    short = card_output(path)
    full = card_output(path, full=True)
    assert "最后一句在这里结束" not in short
    assert "…" in short
    assert "最后一句在这里结束" in full
    assert len(full.splitlines()) > len(short.splitlines()) + 5


def test_long_title_takes_at_most_two_lines() -> None:
    lines = card_output(RENDER / "card_long_cjk.json").splitlines()
    first = line_of(lines, "杭州西湖一日游")
    assert lines[first + 1].rstrip(" │").endswith("…")
    assert "行程安排" in lines[first + 2]


def test_more_than_four_card_chips_are_summarised() -> None:
    path = RENDER / "card_five_chips.json"
    short = card_output(path)
    assert "选项4" in short and "选项5" not in short and "+1 more" in short
    full = card_output(path, full=True)
    assert "选项5" in full and "more" not in full


def test_clamp_and_fit_measure_cells_not_characters() -> None:
    assert fit(line_text("一二三四五"), 6).plain == "一二…"
    assert fit(line_text("abc"), 6).plain == "abc"
    out = draw(Clamp(line_text("一二三四五六七八九十" * 3), 2), width=10)
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(cell_len(line) <= 10 for line in lines)


# --------------------------------------------------------------------------- styles


def _segments_with(text: str, renderable: RenderableType) -> list[Any]:
    console = Console(width=60, color_system="truecolor", force_terminal=True)
    lines = console.render_lines(renderable, console.options)
    return [seg for line in lines for seg in line if text in seg.text]


def test_title_is_bold_and_takes_the_layout_font_styles() -> None:
    message = parse_botmessage((RENDER / "card_long_cjk.json").read_bytes())
    view = render_botmessage(message)
    (title,) = _segments_with("杭州西湖一日游", view)
    assert title.style.bold and title.style.underline
    (description,) = _segments_with("行程安排", view)
    assert description.style.italic and not description.style.bold


def test_colour_output_carries_styles_but_plain_output_has_no_escapes() -> None:
    message = parse_botmessage((RENDER / "card_long_cjk.json").read_bytes())
    console_out = io.StringIO()
    Console(file=console_out, width=60, color_system="truecolor", force_terminal=True).print(
        render_botmessage(message)
    )
    assert "\x1b[" in console_out.getvalue()
    assert "\x1b" not in draw(render_botmessage(message), plain=True)


# --------------------------------------------------------------------------- hostile text


def test_markup_in_network_text_is_shown_literally() -> None:
    out = card_output(RENDER / "card_markup_title.json")
    assert "[bold red]不要加粗[/bold red] :smile:" in out
    assert "[blink]好的[/blink]" in out
    coloured = io.StringIO()
    message = parse_botmessage((RENDER / "card_markup_title.json").read_bytes())
    Console(file=coloured, width=80, force_terminal=True, color_system="standard").print(
        render_botmessage(message)
    )
    assert "[bold red]不要加粗" in coloured.getvalue()


HOSTILE_CARDS = sorted((PAYLOADS / "hostile").glob("botmessage__*.json"))


@pytest.mark.parametrize("path", HOSTILE_CARDS, ids=lambda p: p.stem)
@pytest.mark.parametrize("plain", [True, False])
def test_hostile_text_never_reaches_the_terminal(path: Path, plain: bool) -> None:
    message = parse_botmessage(path.read_bytes())
    buf = io.StringIO()
    console = Console(
        file=buf, width=60, force_terminal=not plain, color_system=None if plain else "truecolor"
    )
    console.print(render_botmessage(message, RenderOptions(plain=plain)))
    out = buf.getvalue()
    for text in (c.title for c in message.cards if c.title):
        assert sanitize(text) in out or sanitize(text)[:8] in out
    for bad in ("\x07", "\x1b]", "\x1b[2J", "\x1b[31m紧", "\u202e", "\x9b", "\x00"):
        assert bad not in out
    if plain:
        assert "\x1b" not in out


def test_escape_sequences_show_as_control_pictures() -> None:
    out = card_output(PAYLOADS / "hostile/botmessage__ansi_escapes.json")
    assert "␛[31m紧急通知␛[0m" in out
    assert "\x1b" not in out


# --------------------------------------------------------------------------- widths

CARDS = sorted((PAYLOADS / "botmessage").glob("*.json")) + sorted(RENDER.glob("card_*.json"))


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.stem)
@pytest.mark.parametrize("width", [24, 41, 60, 100])
def test_no_line_exceeds_the_width_in_cells(path: Path, width: int) -> None:
    for full in (False, True):
        out = card_output(path, width=width, full=full)
        assert max(cell_len(line) for line in out.splitlines()) <= width


cjk_text = st.text(
    alphabet=st.sampled_from(
        "订单已发货预计明天送达西湖龙井茶🚚📦 abcXYZ0123，。！[]/\\\x1b\n\t\u202e\u200b"
    ),
    max_size=300,
)


@given(title=cjk_text, description=cjk_text, width=st.integers(min_value=12, max_value=90))
def test_any_title_and_description_stay_inside_the_card(
    title: str, description: str, width: int
) -> None:
    doc = {
        "message": {
            "generalPurposeCard": {
                "layout": {"cardOrientation": "HORIZONTAL", "imageAlignment": "RIGHT"},
                "content": {
                    "media": {
                        "mediaUrl": "https://m.botplatform.lab/a.png",
                        "mediaContentType": "image/png",
                        "height": "SHORT_HEIGHT",
                    },
                    "title": title,
                    "description": description,
                    "suggestions": [
                        {"reply": {"displayText": title[:25] or "x", "postback": {"data": "d"}}}
                    ],
                },
            }
        }
    }
    out = card_output(doc, width=width)
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert "\x1b" not in out and "\u202e" not in out
    assert all(ch == "\n" or ch.isprintable() or ch == "\ufe0f" for ch in out)
