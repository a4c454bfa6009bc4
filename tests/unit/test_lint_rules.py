"""One passing and one failing payload per lint rule (small payloads written inline)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rcs_terminal.lint import Finding, lint_payload
from rcs_terminal.protocol.up import build_botinfo, build_fthttp, build_geopush
from rcs_terminal.protocol.up.fthttp import FileInfo

URL = "https://media.botplatform.lab/img/a.jpg"


# --------------------------------------------------------------------------- builders


def media(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mediaUrl": URL,
        "mediaContentType": "image/jpeg",
        "mediaFileSize": 1000,
        "height": "MEDIUM_HEIGHT",
    }
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def card(content: dict[str, Any] | None = None, **layout: Any) -> dict[str, Any]:
    return {
        "message": {
            "generalPurposeCard": {
                "layout": {"cardOrientation": "VERTICAL", **layout},
                "content": {"title": "标题"} if content is None else content,
            }
        }
    }


def carousel(
    count: int = 2, width: str = "SMALL_WIDTH", height: str = "MEDIUM_HEIGHT"
) -> dict[str, Any]:
    cards = [{"title": f"卡片{i}", "media": media(height=height)} for i in range(count)]
    return {
        "message": {
            "generalPurposeCardCarousel": {"layout": {"cardWidth": width}, "content": cards}
        }
    }


def reply(text: str = "好的", data: str = "ok") -> dict[str, Any]:
    return {"reply": {"displayText": text, "postback": {"data": data}}}


def action(category: str, name: str, obj: dict[str, Any], text: str = "打开") -> dict[str, Any]:
    return {"action": {category: {name: obj}, "displayText": text, "postback": {"data": "a"}}}


def chips(*items: dict[str, Any]) -> dict[str, Any]:
    return {"suggestions": list(items)}


def open_url(url: str = "https://www.botplatform.lab/", **extra: Any) -> dict[str, Any]:
    return chips(action("urlAction", "openUrl", {"url": url, "application": "webview", **extra}))


def dial(number: str = "+8610086", name: str = "dialPhoneNumber", **extra: Any) -> dict[str, Any]:
    return chips(action("dialerAction", name, {"phoneNumber": number, **extra}))


def location(**loc: Any) -> dict[str, Any]:
    return chips(action("mapAction", "showLocation", {"location": loc}))


def calendar(
    start: str = "2024-06-18T10:00:00+08:00", end: str = "2024-06-18T12:00:00+08:00", **extra: Any
) -> dict[str, Any]:
    event = {"startTime": start, "endTime": end, "title": "直播", **extra}
    return chips(action("calendarAction", "createCalendarEvent", event))


def compose(text: str) -> dict[str, Any]:
    return chips(
        action("composeAction", "composeTextMessage", {"phoneNumber": "10086", "text": text})
    )


def menu(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"menu": {"entries": entries}}


def sub(text: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"menu": {"displayText": text, "entries": entries}}


def replies(count: int) -> list[dict[str, Any]]:
    return [reply(f"选项{i}", f"o{i}") for i in range(count)]


def fthttp(
    url: str = "https://ft.botplatform.lab/f/1.jpg",
    until: str | None = "2024-06-20T08:00:00Z",
    name: str | None = "a.jpg",
    size: int = 1000,
    ctype: str = "image/jpeg",
    thumb: FileInfo | None = None,
) -> bytes:
    return build_fthttp(
        FileInfo(size=size, content_type=ctype, url=url, until=until, name=name), thumb
    )


def thumbnail(size: int = 8000, ctype: str = "image/jpeg") -> FileInfo:
    return FileInfo(size=size, content_type=ctype, url="https://ft.botplatform.lab/t/1.jpg")


# --------------------------------------------------------------------------- cases

Doc = dict[str, Any] | bytes | str
CASES: list[tuple[str, str, Doc, Doc, str, str | None]] = [
    # rule, severity of the failing case, passing doc, failing doc, operator, content type
    (
        "card.content.empty",
        "error",
        card({"description": "说明"}),
        card({"suggestions": [reply()]}),
        "gsma",
        None,
    ),
    (
        "card.title.length",
        "error",
        card({"title": "标" * 200}),
        card({"title": "标" * 201}),
        "gsma",
        None,
    ),
    (
        "card.title.length",
        "error",
        card({"title": "x"}),
        card({"title": "", "description": "d"}),
        "gsma",
        None,
    ),
    (
        "card.description.length",
        "error",
        card({"description": "述" * 2000}),
        card({"description": "述" * 2001}),
        "gsma",
        None,
    ),
    (
        "card.suggestions.count",
        "error",
        card({"title": "t", "suggestions": replies(4)}),
        card({"title": "t", "suggestions": replies(5)}),
        "gsma",
        None,
    ),
    (
        "card.layout.image-alignment",
        "error",
        card({"media": media()}, cardOrientation="HORIZONTAL", imageAlignment="LEFT"),
        card({"media": media()}, cardOrientation="HORIZONTAL"),
        "gsma",
        None,
    ),
    ("card.layout.image-alignment", "error", card(), card(imageAlignment="RIGHT"), "gsma", None),
    (
        "card.layout.font-style",
        "error",
        card(titleFontStyle=["bold", "italics", "underline"]),
        card(titleFontStyle=["bold", "italics", "underline", "bold"]),
        "gsma",
        None,
    ),
    (
        "card.layout.font-style",
        "warning",
        card(descriptionFontStyle=["bold"]),
        card(descriptionFontStyle=["bold", "bold"]),
        "gsma",
        None,
    ),
    (
        "card.layout.style",
        "error",
        card(style="https://css.botplatform.lab/card.css"),
        card(style="ftp://css.botplatform.lab/card.css"),
        "gsma",
        None,
    ),
    ("carousel.cards.count", "error", carousel(2), carousel(1), "gsma", None),
    (
        "carousel.cards.count",
        "error",
        carousel(12, "MEDIUM_WIDTH"),
        carousel(13, "MEDIUM_WIDTH"),
        "gsma",
        None,
    ),
    ("carousel.cards.count", "warning", carousel(10), carousel(11), "gsma", None),
    (
        "carousel.media.tall-in-small",
        "error",
        carousel(2, "MEDIUM_WIDTH", "TALL_HEIGHT"),
        carousel(2, "SMALL_WIDTH", "TALL_HEIGHT"),
        "gsma",
        None,
    ),
    (
        "media.url.scheme",
        "error",
        card({"media": media()}),
        card({"media": media(mediaUrl="file:///etc/passwd")}),
        "gsma",
        None,
    ),
    (
        "media.content-type.extension",
        "warning",
        card({"media": media(mediaUrl="https://m.botplatform.lab/img?id=7")}),
        card({"media": media(mediaUrl="https://m.botplatform.lab/a.PNG")}),
        "gsma",
        None,
    ),
    (
        "media.content-type.kind",
        "warning",
        card(
            {"media": media(mediaContentType="video/mp4", mediaUrl="https://m.botplatform.lab/v")}
        ),
        card(
            {
                "media": media(
                    mediaContentType="application/pdf", mediaUrl="https://m.botplatform.lab/d"
                )
            }
        ),
        "gsma",
        None,
    ),
    (
        "media.thumbnail.fields",
        "error",
        card(
            {
                "media": media(
                    thumbnailUrl=URL, thumbnailContentType="image/jpeg", thumbnailFileSize=10
                )
            }
        ),
        card({"media": media(thumbnailUrl=URL)}),
        "gsma",
        None,
    ),
    (
        "media.thumbnail.fields",
        "warning",
        card({"media": media()}),
        card({"media": media(thumbnailFileSize=10)}),
        "gsma",
        None,
    ),
    (
        "media.thumbnail.type",
        "error",
        card(
            {
                "media": media(
                    thumbnailUrl=URL, thumbnailContentType="image/png", thumbnailFileSize=10
                )
            }
        ),
        card(
            {
                "media": media(
                    thumbnailUrl=URL, thumbnailContentType="video/mp4", thumbnailFileSize=10
                )
            }
        ),
        "gsma",
        None,
    ),
    (
        "media.file-size",
        "error",
        card({"media": media(mediaFileSize=0)}),
        card({"media": media(mediaFileSize=-1)}),
        "gsma",
        None,
    ),
    (
        "media.content-description",
        "error",
        card({"media": media(contentDescription="述" * 200)}),
        card({"media": media(contentDescription="述" * 201)}),
        "gsma",
        None,
    ),
    (
        "media.operator",
        "error",
        card({"media": media(mediaFileSize=2 * 1024 * 1024)}),
        card({"media": media(mediaFileSize=2 * 1024 * 1024 + 1)}),
        "cmcc",
        None,
    ),
    (
        "media.operator",
        "error",
        card(
            {
                "media": media(
                    mediaUrl="https://m.botplatform.lab/v.webm", mediaContentType="video/webm"
                )
            }
        ),
        card(
            {
                "media": media(
                    mediaUrl="https://m.botplatform.lab/a.gif", mediaContentType="image/gif"
                )
            }
        ),
        "ct",
        None,
    ),
    (
        "media.operator",
        "error",
        card(
            {
                "media": media(
                    mediaUrl="https://m.botplatform.lab/a.amr",
                    mediaContentType="audio/amr",
                    mediaFileSize=5 * 1024 * 1024,
                )
            }
        ),
        card(
            {
                "media": media(
                    mediaUrl="https://m.botplatform.lab/a.amr",
                    mediaContentType="audio/amr",
                    mediaFileSize=5 * 1024 * 1024 + 1,
                )
            }
        ),
        "cu",
        None,
    ),
    (
        "media.thumbnail.operator",
        "error",
        card(
            {
                "media": media(
                    thumbnailUrl=URL,
                    thumbnailContentType="image/jpeg",
                    thumbnailFileSize=200 * 1024,
                )
            }
        ),
        card(
            {
                "media": media(
                    thumbnailUrl=URL,
                    thumbnailContentType="image/jpeg",
                    thumbnailFileSize=200 * 1024 + 1,
                )
            }
        ),
        "cmcc",
        None,
    ),
    (
        "suggestion.display-text.length",
        "error",
        chips(reply("字" * 25)),
        chips(reply("字" * 26)),
        "gsma",
        None,
    ),
    ("suggestion.display-text.length", "error", chips(reply("x")), chips(reply("")), "gsma", None),
    (
        "suggestion.display-text.bytes",
        "warning",
        chips(reply("八个汉字八个汉字")),
        chips(reply("九个汉字九个汉字九")),
        "cmcc",
        None,
    ),
    (
        "suggestion.postback.length",
        "error",
        chips(reply(data="d" * 2048)),
        chips(reply(data="d" * 2049)),
        "gsma",
        None,
    ),
    (
        "suggestion.postback.empty",
        "warning",
        chips(reply(data="d")),
        chips(reply(data="")),
        "gsma",
        None,
    ),
    ("chiplist.count", "error", chips(*replies(11)), chips(*replies(12)), "gsma", None),
    ("chiplist.count", "error", chips(*replies(1)), chips(), "gsma", None),
    ("action.open-url.scheme", "error", open_url(), open_url("javascript:alert(1)"), "gsma", None),
    (
        "action.open-url.scheme",
        "error",
        open_url("http://x.botplatform.lab"),
        open_url("https://"),
        "gsma",
        None,
    ),
    (
        "action.open-url.parameters",
        "error",
        open_url(parameters="p" * 200),
        open_url(parameters="p" * 201),
        "gsma",
        None,
    ),
    (
        "action.fallback-url.scheme",
        "error",
        dial(fallbackUrl="https://www.botplatform.lab/"),
        dial(fallbackUrl="ftp://www.botplatform.lab/"),
        "gsma",
        None,
    ),
    ("action.phone-number", "error", dial("+86 138-0000-0001"), dial("call me"), "gsma", None),
    ("action.phone-number", "error", dial("tel:10086;phone-context=+86"), dial("12"), "gsma", None),
    (
        "action.dial.subject.length",
        "error",
        dial(name="dialEnrichedCall", subject="题" * 60),
        dial(name="dialEnrichedCall", subject="题" * 61),
        "gsma",
        None,
    ),
    (
        "action.show-location.location",
        "error",
        location(latitude=30.2, longitude=120.1, label="店"),
        location(latitude=30.2, longitude=120.1, query="店"),
        "gsma",
        None,
    ),
    (
        "action.show-location.coordinates",
        "error",
        location(latitude=-90, longitude=180),
        location(latitude=30, longitude=181),
        "gsma",
        None,
    ),
    (
        "action.show-location.label",
        "error",
        location(latitude=30, longitude=120, label="地" * 100),
        location(latitude=30, longitude=120, label="地" * 101),
        "gsma",
        None,
    ),
    (
        "action.show-location.query",
        "error",
        location(query="地" * 200),
        location(query="地" * 201),
        "gsma",
        None,
    ),
    ("action.calendar.time", "error", calendar(), calendar(start="tomorrow"), "gsma", None),
    (
        "action.calendar.time",
        "warning",
        calendar(start="2024-06-18T10:00:00Z"),
        calendar(start="2024-06-18 10:00:00"),
        "gsma",
        None,
    ),
    (
        "action.calendar.order",
        "error",
        calendar(),
        calendar(end="2024-06-18T09:00:00+08:00"),
        "gsma",
        None,
    ),
    (
        "action.calendar.order",
        "error",
        calendar(end="2024-06-18T02:00:01Z"),
        calendar(end="2024-06-18T02:00:00Z"),
        "gsma",
        None,
    ),
    (
        "action.calendar.title",
        "error",
        calendar(title="题" * 100),
        calendar(title="题" * 101),
        "gsma",
        None,
    ),
    (
        "action.calendar.description",
        "error",
        calendar(description="述" * 500),
        calendar(description="述" * 501),
        "gsma",
        None,
    ),
    ("action.compose.text", "error", compose("字" * 100), compose("字" * 101), "gsma", None),
    (
        "action.kind.operator",
        "warning",
        dial(name="dialEnrichedCall"),
        dial(name="dialEnrichedCall"),
        "gsma→cmcc",
        None,
    ),
    (
        "action.kind.operator",
        "warning",
        dial(),
        chips(action("settingsAction", "enableDisplayedNotifications", {})),
        "ct",
        None,
    ),
    (
        "menu.depth",
        "error",
        menu([sub("一", [sub("二", replies(1))])]),
        menu([sub("一", [sub("二", [sub("三", replies(1))])])]),
        "gsma",
        None,
    ),
    (
        "menu.depth",
        "error",
        menu([sub("一", replies(2))]),
        menu([sub("一", [sub("二", replies(1))])]),
        "cmcc",
        None,
    ),
    ("menu.entries.count", "error", menu(replies(5)), menu(replies(6)), "gsma", None),
    ("menu.entries.count", "error", menu(replies(3)), menu(replies(4)), "cmcc", None),
    (
        "menu.entries.count",
        "error",
        menu([sub("一", replies(5))]),
        menu([sub("一", replies(6))]),
        "cu",
        None,
    ),
    ("menu.entries.count", "error", menu(replies(1)), menu([]), "gsma", None),
    (
        "menu.display-text.length",
        "error",
        menu([sub("字" * 25, replies(1))]),
        menu([sub("字" * 26, replies(1))]),
        "gsma",
        None,
    ),
    ("text.length", "error", "字" * 2000, "字" * 2001, "cmcc", "text/plain"),
    ("text.empty", "warning", "你好", "  \n", "gsma", "text/plain"),
    ("text.geo-uri", "warning", "geo:30.1,120.2;u=5", "geo:30.1;u=5", "gsma", "text/plain"),
    (
        "fthttp.url.scheme",
        "error",
        fthttp(),
        fthttp(url="ftp://ft.botplatform.lab/f/1.jpg"),
        "gsma",
        None,
    ),
    ("fthttp.until", "error", fthttp(), fthttp(until="soon"), "gsma", None),
    ("fthttp.file-name", "warning", fthttp(), fthttp(name=None), "gsma", None),
    (
        "media.operator",
        "error",
        fthttp(size=2 * 1024 * 1024),
        fthttp(size=3 * 1024 * 1024),
        "cmcc",
        None,
    ),
    (
        "media.thumbnail.operator",
        "error",
        fthttp(thumb=thumbnail()),
        fthttp(thumb=thumbnail(300 * 1024)),
        "cmcc",
        None,
    ),
    (
        "media.thumbnail.type",
        "error",
        fthttp(thumb=thumbnail()),
        fthttp(thumb=thumbnail(ctype="video/mp4")),
        "gsma",
        None,
    ),
    (
        "geopush.label.length",
        "error",
        build_geopush(30, 120, label="地" * 200),
        build_geopush(30, 120, label="地" * 201),
        "gsma",
        None,
    ),
    (
        "geopush.coordinates",
        "error",
        build_geopush(-90, -180, radius=0),
        build_geopush(95, 120),
        "gsma",
        None,
    ),
    (
        "geopush.coordinates",
        "error",
        build_geopush(30, 120, radius=10),
        build_geopush(30, 120, radius=-1),
        "gsma",
        None,
    ),
    (
        "geopush.time",
        "error",
        build_geopush(30, 120, timestamp="2024-06-18T10:30:00+08:00"),
        build_geopush(30, 120, timestamp="yesterday"),
        "gsma",
        None,
    ),
    (
        "botinfo.name",
        "warning",
        build_botinfo(None, "机器人"),
        build_botinfo("sip:1@botplatform.lab", None),
        "gsma",
        None,
    ),
    (
        "botinfo.colour",
        "warning",
        build_botinfo(None, "n", colour="#1E90FF"),
        build_botinfo(None, "n", colour="#12"),
        "gsma",
        None,
    ),
    (
        "botinfo.url.scheme",
        "warning",
        build_botinfo(None, "n", website="https://w.botplatform.lab"),
        build_botinfo(None, "n", website="ftp://w.botplatform.lab"),
        "gsma",
        None,
    ),
    (
        "response.display-text.length",
        "error",
        {"response": {"reply": {"displayText": "好"}}},
        {"response": {"reply": {"displayText": "字" * 26}}},
        "gsma",
        None,
    ),
    (
        "shared.length",
        "warning",
        {"sharedData": {"deviceSpecifics": {"deviceModel": "Axon 30"}}},
        {"sharedData": {"deviceSpecifics": {"deviceModel": "Axon 30 Ultra"}}},
        "gsma",
        None,
    ),
]


def as_bytes(doc: Doc) -> bytes:
    if isinstance(doc, bytes):
        return doc
    if isinstance(doc, str):
        return doc.encode("utf-8")
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def findings(doc: Doc, operator: str, content_type: str | None = None) -> list[Finding]:
    return lint_payload(as_bytes(doc), operator=operator, content_type=content_type)


@pytest.mark.parametrize(
    ("rule", "severity", "good", "bad", "operator", "content_type"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_rule_passes_and_fails(
    rule: str, severity: str, good: Doc, bad: Doc, operator: str, content_type: str | None
) -> None:
    good_operator, _, bad_operator = operator.partition("→")
    passing = findings(good, good_operator, content_type)
    assert (rule, severity) not in {(f.rule, f.severity) for f in passing}, passing
    failing = [
        f for f in findings(bad, bad_operator or good_operator, content_type) if f.rule == rule
    ]
    assert failing, f"{rule} not reported"
    assert {f.severity for f in failing} == {severity}
    assert all(f.message and f.path for f in failing)


def test_every_rule_in_the_catalogues_has_a_case() -> None:
    from rcs_terminal.lint import linter, media_rules, rules, suggestion_rules

    documented = set()
    for module in (rules, media_rules, suggestion_rules, linter):
        for line in (module.__doc__ or "").splitlines():
            if line.startswith("``") and "<code>" not in line:
                documented.add(line.split("``")[1])
    tested = {case[0] for case in CASES}
    wrapper_rules = {
        "payload.malformed",
        "multipart.chips.position",
        "multipart.chips.count",
        "multipart.content.missing",
        "cpim.traffic-type",
        "cpim.note",
    }  # covered in test_lint_linter.py
    assert documented - wrapper_rules == tested


def test_paths_point_at_the_offending_member() -> None:
    doc = carousel(3)
    doc["message"]["generalPurposeCardCarousel"]["content"][2]["title"] = "标" * 201
    (finding,) = [f for f in findings(doc, "gsma") if f.rule == "card.title.length"]
    assert finding.path == "$.message.generalPurposeCardCarousel.content[2].title"
    assert finding.limit == "1..200 characters"
    loc = findings(location(latitude=95, longitude=120), "gsma")
    assert any(
        f.path == "$.suggestions[0].action.mapAction.showLocation.location.latitude" for f in loc
    )
    nested = findings(menu([sub("一", [reply("字" * 26)])]), "gsma")
    assert [f.path for f in nested if f.rule == "suggestion.display-text.length"] == [
        "$.menu.entries[0].menu.entries[0].reply.displayText"
    ]
