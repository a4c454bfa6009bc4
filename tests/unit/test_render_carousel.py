"""Carousels drawn as text: every card in static mode, a scrolling window for the TUI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import RenderableType

from rcs_terminal.protocol.up import parse_botmessage
from rcs_terminal.protocol.up.botmessage import CardWidth, Carousel
from rcs_terminal.render.carousel import CarouselView, cards_per_row
from rcs_terminal.render.console import make_console
from rcs_terminal.render.layout import CAROUSEL_CARD_WIDTH, RenderOptions

PAYLOADS = Path(__file__).parents[1] / "data" / "payloads"
CAROUSELS = sorted((PAYLOADS / "botmessage").glob("carousel_*.json"))
PLAIN = RenderOptions(plain=True)


def draw(renderable: RenderableType, width: int = 80) -> str:
    buf = io.StringIO()
    make_console(width=width, plain=True, file=buf).print(renderable)
    return buf.getvalue()


def carousel(name: str) -> Carousel:
    message = parse_botmessage((PAYLOADS / "botmessage" / name).read_bytes())
    assert message.carousel is not None
    return message.carousel


@pytest.mark.parametrize("path", CAROUSELS, ids=lambda p: p.stem)
@pytest.mark.parametrize("width", [30, 80, 140])
def test_static_rendering_shows_every_card_with_its_position(path: Path, width: int) -> None:
    model = parse_botmessage(path.read_bytes()).carousel
    assert model is not None
    out = draw(CarouselView(model, PLAIN), width)
    total = len(model.content)
    for index, card in enumerate(model.content):
        assert card.title is not None
        assert card.title[:4] in out
        assert f"{index + 1}/{total}" in out
    assert max(cell_len(line) for line in out.splitlines()) <= width


def test_cards_sit_side_by_side_as_far_as_the_width_allows() -> None:
    model = carousel("carousel_small_5.json")
    for width, per_row in ((20, 1), (41, 2), (60, 2), (62, 3), (80, 3), (104, 5)):
        assert cards_per_row(20, width) == per_row
        out = draw(CarouselView(model, PLAIN), width)
        rows = [line for line in out.splitlines() if "╭" in line]
        assert len(rows) == -(-5 // per_row)
        assert rows[0].count("╭") == per_row


def test_card_widths_follow_small_and_medium() -> None:
    small = draw(CarouselView(carousel("carousel_small_2.json"), PLAIN), 120)
    medium = draw(CarouselView(carousel("carousel_medium_3.json"), PLAIN), 120)
    first_small = small.splitlines()[0]
    first_medium = medium.splitlines()[0]
    assert first_medium.index("╮") + 1 == CAROUSEL_CARD_WIDTH[CardWidth.MEDIUM_WIDTH] == 34
    assert first_small.index("╮") + 1 == CAROUSEL_CARD_WIDTH[CardWidth.SMALL_WIDTH] == 20


@pytest.mark.parametrize("name", ["carousel_medium_3.json", "carousel_actions.json"])
def test_cards_of_a_row_have_the_same_height(name: str) -> None:
    model = carousel(name)
    contents = {len(card.suggestions) for card in model.content}
    out = draw(CarouselView(model, PLAIN), 120)
    bottoms = [line for line in out.splitlines() if "╰" in line]
    assert len(bottoms) == 1 and bottoms[0].count("╰") == len(model.content)
    if name == "carousel_actions.json":
        assert len(contents) > 1  # the cards differ in height before stretching


def test_scrolling_window_starts_where_asked_and_says_what_is_off_screen() -> None:
    model = carousel("carousel_small_5.json")
    out = draw(CarouselView(model, PLAIN, start=2, wrap=False), 44)
    assert "3/5" in out and "4/5" in out
    assert "2/5" not in out and "5/5" not in out
    assert "< 3-4 / 5 >" in out


def test_scrolling_window_is_clamped_to_the_cards() -> None:
    model = carousel("carousel_small_5.json")
    view = CarouselView(model, PLAIN, start=99, wrap=False)
    assert list(view.window(44)) == [3, 4]
    assert list(CarouselView(model, PLAIN, start=-3, wrap=False).window(44)) == [0, 1]
    first = draw(CarouselView(model, PLAIN, start=0, wrap=False), 44)
    assert first.splitlines()[-1].strip().startswith("1-2 / 5 >")
    last = draw(view, 44)
    assert last.splitlines()[-1].strip() == "< 4-5 / 5"


def test_scrolling_window_of_one_card_in_a_narrow_terminal() -> None:
    model = carousel("carousel_medium_3.json")
    out = draw(CarouselView(model, PLAIN, start=1, wrap=False), 30)
    assert "2/3" in out and "1/3" not in out and "3/3" not in out
    assert max(cell_len(line) for line in out.splitlines()) <= 30


def test_icons_in_scrolling_mode_use_arrows() -> None:
    model = carousel("carousel_small_5.json")
    out = draw(CarouselView(model, RenderOptions(), start=1, wrap=False), 44)
    assert "◀ 2-3 / 5 ▶" in out


def test_highlight_marks_one_chip_of_one_card() -> None:
    model = carousel("carousel_small_2.json")
    view = CarouselView(model, PLAIN, highlight_card=1, highlight_chip=0)
    assert view.card(1, 20).highlight_chip == 0
    assert view.card(0, 20).highlight_chip is None


def test_small_carousel_with_tall_media_still_renders() -> None:
    doc = json.loads((PAYLOADS / "botmessage/carousel_small_2.json").read_text(encoding="utf-8"))
    for card in doc["message"]["generalPurposeCardCarousel"]["content"]:
        if "media" in card:
            card["media"]["height"] = "TALL_HEIGHT"
    model = parse_botmessage(doc).carousel
    assert model is not None
    out = draw(CarouselView(model, PLAIN), 80)
    assert "1/2" in out and "2/2" in out
