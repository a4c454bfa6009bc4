"""Opening payloads (sniffing, CPIM, multipart) and drawing whole messages."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from rcs_terminal.errors import ParseError, PayloadParseError
from rcs_terminal.protocol.cpim import CpimMessage
from rcs_terminal.protocol.mime import ContentType
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.protocol.up.geopush import LocationPush
from rcs_terminal.render.console import make_console, render_file
from rcs_terminal.render.layout import RenderOptions
from rcs_terminal.render.media import MediaBox, human_size, media_preview
from rcs_terminal.render.message import render_payload
from rcs_terminal.render.payload import Payload, open_payload, resolve_type, sniff

DATA = Path(__file__).parents[1] / "data"
PAYLOADS = DATA / "payloads"
RENDER = DATA / "render"
WIRE = DATA / "wire"
PLAIN = RenderOptions(plain=True)


def draw_payload(payload: Payload, width: int = 80, opts: RenderOptions = PLAIN) -> str:
    buf = io.StringIO()
    make_console(width=width, plain=opts.plain, file=buf).print(render_payload(payload, opts))
    return buf.getvalue()


def draw_file(path: Path, width: int = 80, **options: object) -> str:
    buf = io.StringIO()
    render_file(path, width=width, plain=True, file=buf, **options)  # type: ignore[arg-type]
    return buf.getvalue()


# --------------------------------------------------------------------------- sniffing

SNIFFED = {
    "botmessage": ct.BOTMESSAGE,
    "chips": ct.BOTSUGGESTION,
    "response": ct.BOTSUGGESTION_RESPONSE,
    "menu": ct.PERSISTENT_MENU,
    "botinfo": ct.BOTINFO,
    "shared": ct.BOTSHAREDCLIENTDATA,
    "fthttp": ct.FTHTTP,
    "geopush": ct.GEOPUSH,
    "geo": ct.TEXT_PLAIN,
}


@pytest.mark.parametrize("folder", sorted(SNIFFED))
def test_every_corpus_document_is_recognised_and_opens(folder: str) -> None:
    for path in sorted((PAYLOADS / folder).iterdir()):
        payload = open_payload(path.read_bytes())
        assert payload.media_type == SNIFFED[folder], path.name
        assert payload.error is None and payload.model is not None, path.name


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        (WIRE / "cpim/advertisement.cpim", ct.CPIM),
        (WIRE / "cpim/lf_only.cpim", ct.CPIM),
        (WIRE / "multipart/text_and_chips.mime", ct.MULTIPART_MIXED),
        (RENDER / "entity_geo_text.mime", ct.TEXT_PLAIN),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_wrappers_are_recognised(path: Path, media_type: str) -> None:
    assert sniff(path.read_bytes())[0].media_type == media_type


def test_a_bare_multipart_body_takes_its_boundary_from_the_first_line() -> None:
    body = (WIRE / "multipart/text_and_chips.mime").read_bytes().split(b"\r\n\r\n", 1)[1]
    ctype, _ = sniff(b"\r\n" + body)
    assert ctype.media_type == ct.MULTIPART_MIXED and ctype.boundary == "next"
    payload = open_payload(body)
    assert [p.media_type for p in payload.parts] == [ct.TEXT_PLAIN, ct.BOTSUGGESTION]
    assert open_payload(body, "multipart/mixed").parts == payload.parts


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a recognised payload"),
        (b"hello world", "not a recognised payload"),
        (b'{"foo": 1}', "without the top-level key"),
        (b'{"message": ', "not valid JSON"),
        (b"<root/>", "XML root element <root>"),
        (b"<root>", "XML"),
        (b"X-Foo: bar\r\n\r\nbody", "without a Content-Type"),
        (b"--\r\nContent-Type: text/plain\r\n\r\nx", "names no boundary"),
    ],
)
def test_unrecognised_content_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(PayloadParseError, match=reason):
        open_payload(data)


def test_types_can_be_given_by_short_names() -> None:
    assert resolve_type("chips").media_type == ct.BOTSUGGESTION
    assert resolve_type("Text/Plain; charset=GBK").charset == "gbk"
    with pytest.raises(PayloadParseError):
        resolve_type("not a type")
    payload = open_payload("你好".encode("gbk"), "text/plain; charset=GBK")
    assert payload.model == "你好"


def test_oversized_input_is_refused() -> None:
    with pytest.raises(PayloadParseError) as info:
        open_payload(b" " * (1024 * 1024 + 1))
    assert info.value.status_hint == 413


def test_the_china_csp_spelling_of_the_fthttp_type_is_accepted() -> None:
    data = (PAYLOADS / "fthttp/fthttp_image_with_thumbnail.xml").read_bytes()
    payload = open_payload(data, "application/vnd.gsma.rcs-ft-http")
    assert payload.media_type == ct.FTHTTP and payload.model is not None


def test_unsupported_part_types_are_kept_without_a_model() -> None:
    payload = open_payload(b"\x89PNG....", ContentType("image/png"))
    assert payload.model is None and payload.error is None
    out = draw_payload(payload)
    assert "[image] image/png" in out and "8 B" in out


# --------------------------------------------------------------------------- CPIM and multipart


def test_advertisement_gets_a_badge_and_the_sender_and_time() -> None:
    out = draw_file(WIRE / "cpim/advertisement.cpim")
    first = out.splitlines()[0]
    assert first.startswith("[广告/AD] <sip:12520040001@botplatform.lab>")
    assert "2024-05-01 01:32:00 UTC" in first
    assert "新品上市：明前龙井" in out
    assert "广告" not in draw_file(WIRE / "cpim/chatbot_card_chips.cpim")


def test_cpim_multipart_shows_content_then_chips() -> None:
    lines = draw_file(RENDER / "cpim_ad_multipart.cpim").splitlines()
    assert lines[0].startswith("[广告/AD] 茶叶旗舰店 <sip:12520050001@botplatform.lab>")
    title = next(i for i, line in enumerate(lines) if "端午茶礼 8 折" in line)
    chips = next(i for i, line in enumerate(lines) if "不感兴趣" in line)
    assert title < chips
    assert "退订" in lines[chips]


def test_base64_text_is_decoded() -> None:
    out = draw_file(RENDER / "cpim_base64_text.cpim")
    assert "您的验证码是 246810" in out
    assert "UTC+08:00" in out


def test_hostile_cpim_headers_and_body_are_neutralised() -> None:
    out = draw_file(RENDER / "cpim_hostile_headers.cpim")
    assert "客服⟨U+202E⟩技术" in out and "\u202e" not in out
    assert "[payment]" in out
    assert "“[bold red]系统通知[/]”" in out
    assert "[link=https://evil.botplatform.lab]点击领取[/link]" in out


def test_a_broken_part_is_drawn_in_place_but_refused_by_render_file() -> None:
    data = (RENDER / "cpim_broken_inner.cpim").read_bytes()
    payload = open_payload(data)
    assert isinstance(payload.model, CpimMessage)
    (inner,) = payload.parts
    assert inner.error is not None and inner.where == "body"
    assert payload.first_error() is inner.error
    out = draw_payload(payload)
    assert "unreadable body" in out and "not valid JSON" in out
    with pytest.raises(PayloadParseError, match="not valid JSON"):
        draw_file(RENDER / "cpim_broken_inner.cpim")


def test_bad_transfer_encoding_is_a_part_error() -> None:
    data = (
        b"From: <sip:a@rcs.test>\r\n\r\n"
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!"
    )
    payload = open_payload(data)
    assert payload.parts[0].error is not None
    assert "base64" in draw_payload(payload)


def test_nesting_is_bounded() -> None:
    inner = b"hello"
    for _ in range(6):
        inner = b"From: <sip:a@rcs.test>\r\n\r\nContent-Type: message/cpim\r\n\r\n" + inner
    payload = open_payload(inner)
    assert payload.first_error() is not None
    assert "nested deeper" in str(payload.first_error())


def test_locations_nest_with_their_wrappers() -> None:
    payload = open_payload((RENDER / "cpim_ad_multipart.cpim").read_bytes())
    wheres = [node.where for node in payload.walk()]
    assert wheres == ["", "body", "body:part[0]", "body:part[1]"]
    assert payload.parts[0].parts[1].locate("$.suggestions[0]") == "body:part[1]:$.suggestions[0]"
    assert payload.locate(None) == "$"


# --------------------------------------------------------------------------- other documents


def test_file_card_names_file_type_size_expiry_and_thumbnail() -> None:
    out = draw_file(PAYLOADS / "fthttp/fthttp_image_with_thumbnail.xml")
    assert "西湖日落.jpg" in out and "1.8 MB" in out
    assert "expires 2024-06-20T08:00:00Z" in out
    assert "[image] image/jpeg · 7 KB" in out
    voice = draw_file(PAYLOADS / "fthttp/fthttp_audio_message.xml")
    assert "[voice]" in voice and "18.5 s" in voice


def test_location_card_shows_label_coordinates_and_map_link() -> None:
    out = draw_file(PAYLOADS / "geopush/geopush_circle.xml")
    assert "天安门广场" in out and "39.908722, 116.397499 ±25.5 m (WGS 84)" in out
    assert "geo:39.908722,116.397499" in out
    geo = open_payload((RENDER / "entity_geo_text.mime").read_bytes())
    assert isinstance(geo.model, LocationPush)
    assert "(GCJ-02)" in draw_payload(geo)


def test_hostile_location_and_file_names() -> None:
    for path in (
        PAYLOADS / "hostile/geopush__label_escapes.xml",
        PAYLOADS / "hostile/fthttp__bidi_file_name.xml",
    ):
        out = draw_file(path)
        assert "\x1b" not in out and "\u202e" not in out
        assert "␛" in out or "⟨U+202E⟩" in out


def test_text_response_and_device_specifics() -> None:
    assert "您好" in draw_payload(open_payload("您好".encode(), "text"))
    response = draw_file(PAYLOADS / "response/response_action.json")
    assert "[action]" in response and "postback" in response
    shared = next((PAYLOADS / "shared").iterdir())
    assert "device model" in draw_file(shared)


def test_human_sizes() -> None:
    assert [
        human_size(n) for n in (None, 0, 1023, 1024, 48213, 102400, 2 * 1024 * 1024, 10**10)
    ] == [
        "size unknown",
        "0 B",
        "1023 B",
        "1 KB",
        "47 KB",
        "100 KB",
        "2 MB",
        "9.3 GB",
    ]


def test_no_image_decoder_means_no_preview() -> None:
    assert media_preview(PAYLOADS / "botmessage/card_vertical_tall_image.json") is None
    box = MediaBox("image/png", 5, size=10, label="x", preview=Path("/nonexistent.png"))
    buf = io.StringIO()
    make_console(width=30, file=buf).print(box)
    assert "image/png" in buf.getvalue()


# --------------------------------------------------------------------------- robustness

SEEDS = (
    [
        p.read_bytes()
        for folder in ("botmessage", "chips", "menu", "botinfo", "fthttp", "geopush")
        for p in sorted((PAYLOADS / folder).iterdir())
    ]
    + [p.read_bytes() for p in sorted(RENDER.iterdir())]
    + [(WIRE / "cpim/chatbot_card_chips.cpim").read_bytes()]
)


def _check_drawing(data: bytes, width: int) -> None:
    try:
        payload = open_payload(data)
    except ParseError:
        return
    out = draw_payload(payload, width)
    assert "\x1b" not in out
    assert max((cell_len(line) for line in out.splitlines()), default=0) <= width


@given(st.binary(max_size=400), st.integers(min_value=16, max_value=100))
def test_arbitrary_bytes_open_or_fail_with_a_parse_error(data: bytes, width: int) -> None:
    _check_drawing(data, width)


@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=4)), max_size=4),
    st.integers(min_value=16, max_value=100),
)
def test_mutated_documents_open_or_fail_with_a_parse_error(
    seed: bytes, edits: list[tuple[int, bytes]], width: int
) -> None:
    data = bytearray(seed)
    for position, insert in edits:
        at = position % (len(data) + 1)
        data[at : at + len(insert)] = insert
    _check_drawing(bytes(data), width)


def test_truncations_of_every_seed() -> None:
    rng = random.Random(5)
    for seed in SEEDS:
        for cut in sorted({rng.randrange(len(seed)) for _ in range(8)}):
            _check_drawing(seed[:cut], 40)
