"""Rich cards and carousels: field mapping, defaults and leniency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"


def load(name: str) -> up.BotMessage:
    return up.parse_botmessage((CORPUS / name).read_bytes())


def test_vertical_card_fields() -> None:
    message = load("botmessage/card_vertical_tall_image.json")
    assert message.carousel is None and message.card is not None
    assert message.card.layout == up.CardLayout(up.CardOrientation.VERTICAL)
    content = message.card.content
    assert content.title == "您的快递已到达驿站"
    assert content.media == up.Media(
        url="https://media.botplatform.lab/img/parcel.jpg",
        content_type="image/jpeg",
        file_size=245760,
        thumbnail_url="https://media.botplatform.lab/thumb/parcel.jpg",
        thumbnail_content_type="image/jpeg",
        thumbnail_file_size=8192,
        height=up.MediaHeight.TALL_HEIGHT,
        content_description="快递包裹照片",
    )
    assert [type(s) for s in content.suggestions] == [up.Reply, up.Action, up.Action, up.Action]
    assert message.cards == (content,)


def test_horizontal_card_with_styles() -> None:
    right = load("botmessage/card_horizontal_right.json").card
    assert right is not None
    assert right.layout.orientation is up.CardOrientation.HORIZONTAL
    assert right.layout.image_alignment is up.ImageAlignment.RIGHT
    assert right.layout.style == "https://media.botplatform.lab/css/bank.css"
    video = load("botmessage/card_vertical_medium_video.json").card
    assert video is not None
    assert video.layout.title_font_style == (up.FontStyle.BOLD,)
    assert video.layout.description_font_style == (up.FontStyle.ITALICS, up.FontStyle.UNDERLINE)


def test_carousel_fields() -> None:
    message = load("botmessage/carousel_medium_12.json")
    assert message.card is None and message.carousel is not None
    assert message.carousel.layout.card_width is up.CardWidth.MEDIUM_WIDTH
    assert len(message.cards) == 12
    assert message.cards[0].title == "北京门店"


def test_defaults_for_missing_layout_parts() -> None:
    card = load("noisy/botmessage__missing_layout.json").card
    assert card is not None and card.layout == up.CardLayout()
    carousel = load("noisy/botmessage__carousel_missing_width.json").carousel
    assert carousel is not None and carousel.layout.card_width is up.CardWidth.SMALL_WIDTH


def test_lowercase_enums_are_normalised() -> None:
    message = load("noisy/botmessage__lowercase_enums.json")
    assert message.card is not None
    layout = message.card.layout
    assert (layout.orientation, layout.image_alignment) == ("HORIZONTAL", "LEFT")
    assert layout.title_font_style == (up.FontStyle.BOLD, up.FontStyle.ITALICS)
    assert message.card.content.media is not None
    assert message.card.content.media.height is up.MediaHeight.MEDIUM_HEIGHT
    assert json.loads(message.to_json())["message"]["generalPurposeCard"]["layout"] == {
        "cardOrientation": "HORIZONTAL",
        "imageAlignment": "LEFT",
        "titleFontStyle": ["bold", "italics"],
    }


def test_missing_sizes_and_placeholders_are_tolerated() -> None:
    message = load("noisy/botmessage__placeholder_in_carousel.json")
    media = message.cards[0].media
    assert media is not None and media.file_size is None and media.thumbnail_file_size is None
    paths = {(w.code, w.path) for w in message.warnings}
    card2 = "$.message.generalPurposeCardCarousel.content[1]"
    assert ("placeholder-key", f'{card2}["[...]"]') in paths
    assert ("missing-field", "$.message.generalPurposeCardCarousel.content[0].media") in paths


def test_limits_are_the_linters_business() -> None:
    long_title = "长" * 500
    chips = [
        {"reply": {"displayText": f"选项{i}" * 10, "postback": {"data": str(i)}}} for i in range(9)
    ]
    cards = [{"title": long_title, "suggestions": chips} for _ in range(20)]
    doc = {
        "message": {
            "generalPurposeCardCarousel": {"layout": {"cardWidth": "SMALL_WIDTH"}, "content": cards}
        }
    }
    message = up.parse_botmessage(doc)
    assert len(message.cards) == 20 and len(message.cards[0].suggestions) == 9
    assert message.cards[0].title == long_title and message.warnings == ()


def test_warnings_are_not_part_of_equality() -> None:
    noisy = load("noisy/botmessage__unknown_keys.json")
    assert noisy.warnings and noisy == up.parse_botmessage(noisy.to_dict())


def test_constructing_needs_exactly_one_of_card_and_carousel() -> None:
    with pytest.raises(ValueError):
        up.BotMessage()
    card = up.GeneralPurposeCard(up.CardLayout(), up.CardContent(title="x"))
    carousel = up.Carousel(up.CarouselLayout(), ())
    with pytest.raises(ValueError):
        up.BotMessage(card=card, carousel=carousel)


def test_builders_write_the_canonical_json() -> None:
    message = up.BotMessage(
        card=up.GeneralPurposeCard(
            up.CardLayout(),
            up.CardContent(title="订单已发货", suggestions=(up.Reply("查看物流", "track"),)),
        )
    )
    assert (
        message.to_json()
        == (
            '{"message":{"generalPurposeCard":{"layout":{"cardOrientation":"VERTICAL"},'
            '"content":{"title":"订单已发货","suggestions":[{"reply":{"displayText":"查看物流",'
            '"postback":{"data":"track"}}}]}}}}'
        ).encode()
    )


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"message": "card"}, "$.message"),
        (
            {"message": {"generalPurposeCard": {"content": {}, "layout": {"cardOrientation": 1}}}},
            "$.message.generalPurposeCard.layout.cardOrientation",
        ),
        (
            {
                "message": {
                    "generalPurposeCard": {
                        "layout": {"titleFontStyle": ["bold", "huge"]},
                        "content": {},
                    }
                }
            },
            "$.message.generalPurposeCard.layout.titleFontStyle[1]",
        ),
        ({"message": {"generalPurposeCard": {"layout": {}}}}, "$.message.generalPurposeCard"),
        (
            {"message": {"generalPurposeCardCarousel": {"content": [{}, []]}}},
            "$.message.generalPurposeCardCarousel.content[1]",
        ),
        (
            {
                "message": {
                    "generalPurposeCard": {
                        "content": {
                            "media": {
                                "mediaUrl": "u",
                                "mediaContentType": "t",
                                "mediaFileSize": 1.5,
                            }
                        }
                    }
                }
            },
            "$.message.generalPurposeCard.content.media.mediaFileSize",
        ),
    ],
)
def test_structure_errors_name_the_path(doc: dict[str, object], where: str) -> None:
    with pytest.raises(PayloadParseError) as caught:
        up.parse_botmessage(doc)
    assert caught.value.where == where
