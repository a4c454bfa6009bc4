"""The linter over the payload corpus, wrappers, parse warnings, reports and arbitrary input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import ParseError, PayloadParseError
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.lint import OPERATORS, Finding, has_errors, lint_payload, operator_limits
from rcs_terminal.lint.report import FileReport, exit_code, format_json, format_text, lint_file
from rcs_terminal.protocol.up import contenttypes as ct
from rcs_terminal.protocol.up._json import child_path

DATA = Path(__file__).parents[1] / "data"
PAYLOADS = DATA / "payloads"
RENDER = DATA / "render"
WIRE = DATA / "wire"

VALID = [
    p
    for folder in ("botmessage", "chips", "menu", "botinfo", "fthttp", "geopush", "response")
    for p in sorted((PAYLOADS / folder).iterdir())
]
KNOWN_ERRORS = {"chips_every_action.json": {"chiplist.count"}}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_corpus_has_no_errors_for_gsma(path: Path) -> None:
    findings = lint_payload(path.read_bytes())
    errors = {f.rule for f in findings if f.is_error}
    assert errors == KNOWN_ERRORS.get(path.name, set())


def test_operator_limits_change_the_verdict() -> None:
    data = (PAYLOADS / "menu/menu_three_levels.json").read_bytes()
    assert not has_errors(lint_payload(data, operator="gsma"))
    assert {f.rule for f in lint_payload(data, operator="cmcc") if f.is_error} == {"menu.depth"}
    every = (PAYLOADS / "chips/chips_every_action.json").read_bytes()
    absent = [f for f in lint_payload(every, operator="cu") if f.rule == "action.kind.operator"]
    assert len(absent) == 3
    assert not [f for f in lint_payload(every) if f.rule == "action.kind.operator"]


def test_operators() -> None:
    assert set(OPERATORS) == {"gsma", "cmcc", "cu", "ct"}
    assert operator_limits(" CMCC ").menu_top_entries == 3
    with pytest.raises(ValueError, match="unknown operator"):
        lint_payload(b'{"suggestions":[]}', operator="att")


NOISY = sorted((PAYLOADS / "noisy").iterdir())


@pytest.mark.parametrize("path", NOISY, ids=lambda p: p.stem)
def test_parser_warnings_become_parse_findings(path: Path) -> None:
    findings = lint_payload(path.read_bytes())
    parse = [f for f in findings if f.rule.startswith("parse.")]
    if path.name == "fthttp__no_namespace_no_type.xml":
        assert not parse  # XML documents carry no parse warnings
        return
    assert parse and all(f.severity == "warning" for f in parse)


def test_swapped_coordinates_are_reported_twice_over() -> None:
    findings = lint_payload((PAYLOADS / "noisy/chips__swapped_coordinates.json").read_bytes())
    rules = {f.rule for f in findings}
    assert {"parse.coordinates-swapped", "action.show-location.coordinates"} <= rules


BROKEN = sorted((PAYLOADS / "broken").iterdir())


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_documents_are_malformed_findings_or_unrecognised(path: Path) -> None:
    try:
        findings = lint_payload(path.read_bytes())
    except PayloadParseError:
        return  # not recognisable at all: the command exits 2
    if path.name.startswith("geo__"):  # text that is not a location is still a text
        assert [f.rule for f in findings] == ["text.geo-uri"]
        return
    malformed = [f for f in findings if f.rule == "payload.malformed"]
    assert len(malformed) == 1 and malformed[0].is_error


def test_a_malformed_document_of_a_given_type_is_a_finding() -> None:
    data = (PAYLOADS / "broken/botmessage__truncated.json").read_bytes()
    with pytest.raises(PayloadParseError):
        lint_payload(data)
    (finding,) = lint_payload(data, content_type=ct.BOTMESSAGE)
    assert finding.rule == "payload.malformed" and finding.path.startswith("line 1")


def test_unsupported_content_types_give_no_findings() -> None:
    assert lint_payload(b"\xff\xd8\xff", content_type="image/jpeg") == []


# --------------------------------------------------------------------------- wrappers


def multipart(*parts: tuple[str, bytes]) -> bytes:
    out = b""
    for content_type, body in parts:
        out += b"--next\r\nContent-Type: " + content_type.encode() + b"\r\n\r\n" + body + b"\r\n"
    return out + b"--next--\r\n"


CHIPS = json.dumps(
    {"suggestions": [{"reply": {"displayText": "字" * 26, "postback": {"data": "d"}}}]}
).encode()


def test_findings_inside_wrappers_carry_their_location() -> None:
    body = multipart(("text/plain", "你好".encode()), (ct.BOTSUGGESTION, CHIPS))
    cpim = (
        b"From: <sip:bot@botplatform.lab>\r\nNS: maap <http://www.gsma.com/rcs/maap/>\r\n"
        b"maap.Traffic-Type: promotion\r\n\r\n"
        b'Content-Type: multipart/mixed; boundary="next"\r\n\r\n' + body
    )
    findings = lint_payload(cpim, operator="cmcc")
    paths = {f.rule: f.path for f in findings}
    assert (
        paths["suggestion.display-text.length"] == "body:part[1]:$.suggestions[0].reply.displayText"
    )
    assert (
        paths["suggestion.display-text.bytes"] == "body:part[1]:$.suggestions[0].reply.displayText"
    )
    assert paths["cpim.traffic-type"] == "maap.Traffic-Type"


def test_multipart_rules() -> None:
    good = multipart(("text/plain", b"hi"), (ct.BOTSUGGESTION, CHIPS))
    assert not {f.rule for f in lint_payload(good)} & {
        "multipart.chips.position",
        "multipart.chips.count",
        "multipart.content.missing",
    }
    reversed_order = multipart((ct.BOTSUGGESTION, CHIPS), ("text/plain", b"hi"))
    assert "multipart.chips.position" in {f.rule for f in lint_payload(reversed_order)}
    twice = multipart(("text/plain", b"hi"), (ct.BOTSUGGESTION, CHIPS), (ct.BOTSUGGESTION, CHIPS))
    assert "multipart.chips.count" in {f.rule for f in lint_payload(twice)}
    alone = multipart((ct.BOTSUGGESTION, CHIPS))
    (missing,) = [f for f in lint_payload(alone) if f.rule == "multipart.content.missing"]
    assert missing.path == "part[0]" and missing.severity == "warning"


def test_cpim_rules() -> None:
    findings = lint_payload((WIRE / "cpim/length_mismatch.cpim").read_bytes())
    assert [f.rule for f in findings] == ["cpim.note"]
    for path in (WIRE / "cpim/advertisement.cpim", RENDER / "cpim_ad_multipart.cpim"):
        assert lint_payload(path.read_bytes()) == []


def test_a_broken_part_inside_cpim_is_located() -> None:
    (finding,) = lint_payload((RENDER / "cpim_broken_inner.cpim").read_bytes())
    assert finding.rule == "payload.malformed"
    assert finding.path == "body:line 1, column 94"


# --------------------------------------------------------------------------- reports


def test_text_report() -> None:
    report = lint_file(str(PAYLOADS / "noisy/botmessage__missing_file_sizes.json"), operator="ct")
    text = format_text(report)
    first, *rest = text.splitlines()
    assert first.endswith(f"1 error, 1 warning ({ct.BOTMESSAGE}, operator ct)")
    assert any(line.startswith("  error   media.thumbnail.fields  $.message") for line in rest)
    clean = lint_file(str(PAYLOADS / "chips/chips_1_reply.json"))
    assert format_text(clean).endswith(
        ": ok (application/vnd.gsma.botsuggestion.v1.0+json, operator gsma)"
    )


def test_unreadable_files_are_reported_not_raised(tmp_path: Path) -> None:
    missing = lint_file(str(tmp_path / "nope.json"))
    assert missing.error is not None and "cannot read" in missing.error
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x1b[2Jhello")
    report = lint_file(str(junk))
    assert report.error is not None and "not a recognised payload" in report.error
    assert format_text(report).endswith(report.error)
    assert lint_file(str(junk), content_type="no such type").error is not None


def test_exit_codes() -> None:
    ok = FileReport("a", "gsma", "x", (Finding("$", "parse.unknown-key", "warning", "m"),))
    bad = FileReport("b", "gsma", "x", (Finding("$", "card.title.length", "error", "m"),))
    unreadable = FileReport("c", "gsma", error="no")
    assert exit_code([ok]) is ExitCode.OK
    assert exit_code([ok], strict=True) is ExitCode.FAILED
    assert exit_code([ok, bad]) is ExitCode.FAILED
    assert exit_code([bad, unreadable]) is ExitCode.INVALID_INPUT
    assert exit_code([]) is ExitCode.OK


def test_json_report_shape_and_escaping() -> None:
    finding = Finding(
        "$.a", "card.title.length", "error", "title '\u202e\x1b' bad", "1..200 characters"
    )
    report = FileReport("标题.json", "cmcc", ct.BOTMESSAGE, (finding,))
    text = format_json([report])
    assert "\u202e" not in text and "\x1b" not in text
    (entry,) = json.loads(text)
    assert entry["file"] == "标题.json" and entry["operator"] == "cmcc" and entry["error"] is None
    assert entry["findings"] == [finding.to_dict()]
    assert entry["findings"][0]["message"] == "title '\u202e\x1b' bad"
    assert set(entry["findings"][0]) == {"path", "rule", "severity", "message", "limit"}
    assert (
        str(finding)
        == "error: $.a: title '\u202e\x1b' bad (limit 1..200 characters) [card.title.length]"
    )


def test_paths_match_the_parsers_paths() -> None:
    assert child_path("$", "weird key") == '$["weird key"]'
    doc = {
        "message": {
            "generalPurposeCard": {
                "layout": {"cardOrientation": "VERTICAL"},
                "content": {"title": "t", "[...]": 1},
            }
        }
    }
    (finding,) = lint_payload(json.dumps(doc).encode())
    assert finding.path == '$.message.generalPurposeCard.content["[...]"]'
    assert finding.rule == "parse.placeholder-key"


# --------------------------------------------------------------------------- robustness

SEEDS = [p.read_bytes() for p in VALID[:40]] + [p.read_bytes() for p in sorted(RENDER.iterdir())]


def _lint(data: bytes, operator: str) -> None:
    try:
        findings = lint_payload(data, operator=operator)
    except ParseError:
        return
    assert all(isinstance(f, Finding) and f.severity in ("error", "warning") for f in findings)


@given(st.binary(max_size=300), st.sampled_from(sorted(OPERATORS)))
def test_arbitrary_bytes_give_findings_or_a_parse_error(data: bytes, operator: str) -> None:
    _lint(data, operator)


@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=3)), max_size=4),
    st.sampled_from(sorted(OPERATORS)),
)
def test_mutated_payloads_give_findings_or_a_parse_error(
    seed: bytes, edits: list[tuple[int, bytes]], operator: str
) -> None:
    data = bytearray(seed)
    for position, insert in edits:
        at = position % (len(data) + 1)
        data[at : at + len(insert)] = insert
    _lint(bytes(data), operator)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "message",
                    "generalPurposeCard",
                    "generalPurposeCardCarousel",
                    "layout",
                    "content",
                    "title",
                    "media",
                    "mediaUrl",
                    "mediaContentType",
                    "suggestions",
                    "reply",
                    "action",
                    "displayText",
                    "postback",
                    "data",
                    "urlAction",
                    "openUrl",
                    "url",
                    "menu",
                    "entries",
                    "cardWidth",
                    "height",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@given(
    st.dictionaries(
        st.sampled_from(["message", "suggestions", "menu", "botinfo"]),
        json_values,
        min_size=1,
        max_size=2,
    )
)
def test_arbitrary_json_documents_give_findings_or_a_parse_error(doc: dict[str, object]) -> None:
    _lint(json.dumps(doc).encode(), "cmcc")
