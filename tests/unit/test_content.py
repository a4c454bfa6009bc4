"""domain/content.describe: every payload kind, chip lists, unknown and broken bodies, JSON
output, round trips through the models, and "never raises" on arbitrary input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.domain.content import MessageContent, describe
from rcs_terminal.protocol.mime import parse_header_block
from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.protocol.up.suggestions import Reply

DATA = Path(__file__).parents[1] / "data"
PAYLOADS = DATA / "payloads"
MULTIPART = DATA / "wire" / "multipart"

_PREFIX_TYPES = {
    "botmessage": ct.BOTMESSAGE,
    "chips": ct.BOTSUGGESTION,
    "fthttp": ct.FTHTTP,
    "geopush": ct.GEOPUSH,
    "response": ct.BOTSUGGESTION_RESPONSE,
    "shared": ct.BOTSHAREDCLIENTDATA,
}


def corpus(folder: str) -> list[Path]:
    return sorted((PAYLOADS / folder).iterdir())


def mime_entity(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    headers, pos = parse_header_block(data, 0)
    return headers.get("Content-Type") or "", data[pos:]


def chips_json(*labels: str) -> bytes:
    items = [{"reply": {"displayText": t, "postback": {"data": f"pb-{t}"}}} for t in labels]
    return json.dumps({"suggestions": items}, ensure_ascii=False).encode()


CARD = (PAYLOADS / "botmessage" / "card_vertical_short_image.json").read_bytes()


# --------------------------------------------------------------------------- kinds


def test_text_in_its_charset() -> None:
    found = describe("text/plain; charset=GBK", "你好".encode("gbk"))
    assert (found.kind, found.text, found.warnings, found.error) == ("text", "你好", (), None)
    assert found.summary == "你好" and found.is_readable


def test_text_with_bad_bytes_is_replaced_with_a_warning() -> None:
    found = describe("text/plain;charset=UTF-8", b"ok \xff\xfe end")
    assert found.kind == "text" and found.text is not None and found.text.startswith("ok ")
    assert "\ufffd" in found.text and "replaced" in found.warnings[0]


def test_unknown_charset_reads_utf8() -> None:
    found = describe("text/plain;charset=x-nothing", "é".encode())
    assert found.text == "é" and "unknown charset" in found.warnings[0]


@pytest.mark.parametrize("path", corpus("botmessage"), ids=lambda p: p.name)
def test_cards_and_carousels(path: Path) -> None:
    found = describe(ct.BOTMESSAGE, path.read_bytes())
    expected = "carousel" if path.name.startswith("carousel") else "card"
    assert found.kind == expected and found.error is None
    assert found.botmessage is not None
    card = found.card_dict()
    assert card is not None
    key = "generalPurposeCardCarousel" if expected == "carousel" else "generalPurposeCard"
    assert list(card) == [key]
    assert (found.card is None) == (expected == "carousel")
    assert (found.carousel is None) == (expected == "card")
    json.dumps(found.to_json())  # JSON-compatible


@pytest.mark.parametrize("path", corpus("fthttp"), ids=lambda p: p.name)
def test_files(path: Path) -> None:
    found = describe(ct.FTHTTP, path.read_bytes())
    assert found.kind == "file" and found.file is not None
    out = found.to_json()["file"]
    assert out["url"] == found.file.file.url and out["size"] == found.file.file.size
    assert found.summary.startswith("[file]")


@pytest.mark.parametrize("path", corpus("geopush"), ids=lambda p: p.name)
def test_locations(path: Path) -> None:
    found = describe(ct.GEOPUSH, path.read_bytes())
    assert found.kind == "location" and found.location is not None
    assert found.to_json()["location"]["latitude"] == found.location.latitude


@pytest.mark.parametrize("path", corpus("response"), ids=lambda p: p.name)
def test_responses(path: Path) -> None:
    found = describe(ct.BOTSUGGESTION_RESPONSE, path.read_bytes())
    assert found.kind == "response" and found.response is not None
    assert found.text == found.response.display_text
    assert found.to_json()["response"] is not None


@pytest.mark.parametrize("path", corpus("shared"), ids=lambda p: p.name)
def test_shared_data(path: Path) -> None:
    found = describe(ct.BOTSHAREDCLIENTDATA, path.read_bytes())
    assert found.kind == "shared-data" and found.shared_data is not None
    assert found.to_json()["shared_data"] is not None


def test_chip_list_alone_is_text_with_suggestions() -> None:
    found = describe(ct.BOTSUGGESTION, chips_json("是", "否"))
    assert found.kind == "text" and found.text is None
    assert found.suggestion_texts == ["是", "否"] and "without content" in found.warnings[0]


# --------------------------------------------------------------------------- multipart


@pytest.mark.parametrize("path", sorted(MULTIPART.glob("*.mime")), ids=lambda p: p.name)
def test_multipart_corpus(path: Path) -> None:
    content_type, body = mime_entity(path)
    found = describe(content_type, body)
    assert found.error is None, found.error
    assert found.kind != "unknown"


def test_card_with_chip_list() -> None:
    chips = chips_json("满意", "一般", "不满意")
    ctype, body = build_multipart(
        [Part.create(ct.BOTMESSAGE, CARD), Part.create(ct.BOTSUGGESTION, chips)]
    )
    found = describe(ctype, body)
    assert found.kind == "card" and found.content_type == ct.BOTMESSAGE
    assert found.suggestion_texts == ["满意", "一般", "不满意"]
    assert isinstance(found.suggestions[0], Reply)
    assert found.suggestions[0].postback_data == "pb-满意"
    # in-card chips stay in the card
    card = found.card_dict()
    assert card is not None and card["generalPurposeCard"]["content"]["suggestions"]
    assert [s["reply"]["displayText"] for s in found.to_json()["suggestions"]] == [
        "满意",
        "一般",
        "不满意",
    ]


def test_text_with_chip_list_boundary_next() -> None:
    ctype, body = build_multipart(
        [
            Part.create("text/plain;charset=UTF-8", "选一个".encode()),
            Part.create(ct.BOTSUGGESTION, chips_json("A")),
        ]
    )
    assert "boundary=next" in ctype
    found = describe(ctype, body)
    assert (found.kind, found.text, found.suggestion_texts) == ("text", "选一个", ["A"])


def test_extra_parts_and_second_chip_list_are_noted() -> None:
    ctype, body = build_multipart(
        [
            Part.create(ct.TEXT_PLAIN, b"first"),
            Part.create("image/png", b"\x89PNG"),
            Part.create(ct.BOTSUGGESTION, chips_json("A")),
            Part.create(ct.BOTSUGGESTION, chips_json("B")),
        ]
    )
    found = describe(ctype, body)
    assert found.text == "first" and found.suggestion_texts == ["A"]
    assert any("second chip list" in w for w in found.warnings)
    assert any("image/png" in w for w in found.warnings)


def test_only_chips_in_multipart() -> None:
    ctype, body = build_multipart([Part.create(ct.BOTSUGGESTION, chips_json("A", "B"))])
    found = describe(ctype, body)
    assert found.kind == "text" and found.suggestion_texts == ["A", "B"]


# --------------------------------------------------------------------------- unknown, broken


def test_unknown_type_is_kept_and_named() -> None:
    found = describe("application/vnd.gsma.rcsrevoke+xml", b"<revoke/>")
    assert found.kind == "unknown" and found.error is None
    assert found.content_type == "application/vnd.gsma.rcsrevoke+xml"
    assert found.summary == "[application/vnd.gsma.rcsrevoke+xml]"
    assert "not one this client shows" in found.warnings[0]


def test_unknown_text_type_keeps_its_text() -> None:
    found = describe("text/vcard", b"BEGIN:VCARD\r\nEND:VCARD")
    assert found.kind == "unknown" and found.text is not None and "VCARD" in found.text


def message_payloads(*folders: str) -> list[Path]:
    """Corpus files named ``<kind>__...`` whose kind is message content."""
    return [p for f in folders for p in corpus(f) if p.name.split("__", 1)[0] in _PREFIX_TYPES]


@pytest.mark.parametrize("path", message_payloads("broken"), ids=lambda p: p.name)
def test_broken_payloads_are_unreadable_not_fatal(path: Path) -> None:
    content_type = _PREFIX_TYPES[path.name.split("__", 1)[0]]
    found = describe(content_type, path.read_bytes())
    assert found.kind == "unknown" and found.error, found
    assert not found.is_readable and found.summary.startswith("[unreadable")
    json.dumps(found.to_json())


@pytest.mark.parametrize("path", message_payloads("noisy", "hostile"), ids=lambda p: p.name)
def test_noisy_and_hostile_payloads_decode(path: Path) -> None:
    found = describe(_PREFIX_TYPES[path.name.split("__", 1)[0]], path.read_bytes())
    assert found.error is None, found.error
    json.dumps(found.to_json(), ensure_ascii=False)


@pytest.mark.parametrize(
    "path", sorted((MULTIPART / "broken").glob("*.mime")), ids=lambda p: p.name
)
def test_broken_multipart_is_unreadable(path: Path) -> None:
    content_type, body = mime_entity(path)
    found = describe(content_type or "multipart/mixed", body)
    assert isinstance(found, MessageContent)
    if found.kind == "unknown":
        assert found.error or found.warnings


def test_bad_content_type_and_bad_chip_list() -> None:
    assert describe('text/plain; charset="unterminated', b"x").error
    ctype, body = build_multipart(
        [Part.create(ct.TEXT_PLAIN, b"x"), Part.create(ct.BOTSUGGESTION, b"{not json")]
    )
    found = describe(ctype, body)
    assert found.kind == "unknown" and found.error is not None and "chip list" in found.error


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("path", corpus("botmessage"), ids=lambda p: p.name)
def test_card_round_trip(path: Path) -> None:
    first = describe(ct.BOTMESSAGE, path.read_bytes())
    assert first.botmessage is not None
    again = describe(ct.BOTMESSAGE, first.botmessage.to_json())
    assert again.botmessage == first.botmessage and again.kind == first.kind


_label = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=25).filter(
    lambda s: s.strip() == s and s != ""
)


@given(st.lists(_label, min_size=1, max_size=11), st.text(max_size=200))
def test_text_and_chips_round_trip(labels: list[str], text: str) -> None:
    body_text = text.encode()
    ctype, body = build_multipart(
        [
            Part.create("text/plain;charset=UTF-8", body_text),
            Part.create(ct.BOTSUGGESTION, chips_json(*labels)),
        ]
    )
    found = describe(ctype, body)
    assert (found.kind, found.text, found.suggestion_texts) == ("text", text, labels)
    rebuilt_chips = json.dumps(
        {"suggestions": [s.to_dict() for s in found.suggestions]}, ensure_ascii=False
    ).encode()
    ctype2, body2 = build_multipart(
        [
            Part.create("text/plain;charset=UTF-8", (found.text or "").encode()),
            Part.create(ct.BOTSUGGESTION, rebuilt_chips),
        ]
    )
    assert describe(ctype2, body2) == found


_TYPES = st.sampled_from(
    [
        ct.TEXT_PLAIN,
        ct.BOTMESSAGE,
        ct.BOTSUGGESTION,
        ct.BOTSUGGESTION_RESPONSE,
        ct.BOTSHAREDCLIENTDATA,
        ct.FTHTTP,
        ct.GEOPUSH,
        "multipart/mixed; boundary=next",
        "multipart/mixed",
        "application/octet-stream",
        "text/html; charset=big5",
        "",
        ";;;",
    ]
)


@given(_TYPES, st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(content_type: str, body: bytes) -> None:
    found = describe(content_type, body)
    assert isinstance(found, MessageContent)
    json.dumps(found.to_json())


_VALID = [
    ("multipart/mixed;boundary=next", mime_entity(MULTIPART / "card_and_chips.mime")[1]),
    (ct.BOTMESSAGE, CARD),
    (ct.FTHTTP, (PAYLOADS / "fthttp" / "fthttp_image_with_thumbnail.xml").read_bytes()),
    (ct.GEOPUSH, (PAYLOADS / "geopush" / "geopush_circle.xml").read_bytes()),
]


@given(st.sampled_from(_VALID), st.data())
def test_mutated_valid_bodies_never_raise(sample: tuple[str, bytes], data: st.DataObject) -> None:
    content_type, body = sample
    buf = bytearray(body)
    for _ in range(data.draw(st.integers(1, 8))):
        if not buf:
            break
        pos = data.draw(st.integers(0, len(buf) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "dup"]))
        if action == "flip":
            buf[pos] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del buf[pos : pos + data.draw(st.integers(1, 40))]
        else:
            buf[pos:pos] = buf[pos : pos + data.draw(st.integers(1, 40))]
    found = describe(content_type, bytes(buf))
    assert isinstance(found, MessageContent)
    json.dumps(found.to_json())
