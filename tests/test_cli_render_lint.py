"""``rcs-terminal render`` and ``rcs-terminal lint`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from rcs_terminal.cli import cli
from rcs_terminal.exit_codes import ExitCode

DATA = Path(__file__).parent / "data"
PAYLOADS = DATA / "payloads"
RENDER = DATA / "render"
WIRE = DATA / "wire"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- render

RENDERABLE = [
    PAYLOADS / "botmessage/carousel_small_5.json",
    PAYLOADS / "botmessage/card_horizontal_left.json",
    PAYLOADS / "chips/chips_11_mixed.json",
    PAYLOADS / "menu/menu_two_levels.json",
    PAYLOADS / "botinfo/botinfo_org_name.json",
    PAYLOADS / "fthttp/fthttp_image_with_thumbnail.xml",
    PAYLOADS / "geopush/geopush_circle.xml",
    WIRE / "multipart/text_and_chips.mime",
    WIRE / "cpim/advertisement.cpim",
    RENDER / "cpim_ad_multipart.cpim",
]


@pytest.mark.parametrize("path", RENDERABLE, ids=lambda p: p.name)
def test_render_draws_each_kind_of_payload(path: Path) -> None:
    code, out, _ = run("render", path, "--plain", "--width", "70")
    assert code == ExitCode.OK
    assert out.strip()
    assert "\x1b" not in out
    assert max(cell_len(line) for line in out.splitlines()) <= 70


def test_render_defaults_to_80_columns_off_a_terminal() -> None:
    code, out, _ = run("render", PAYLOADS / "chips/chips_11_mixed.json")
    assert code == ExitCode.OK
    widest = max(cell_len(line) for line in out.splitlines())
    assert 60 < widest <= 80


def test_render_shows_every_carousel_title() -> None:
    doc = json.loads((PAYLOADS / "botmessage/carousel_medium_12.json").read_text(encoding="utf-8"))
    code, out, _ = run("render", PAYLOADS / "botmessage/carousel_medium_12.json", "--plain")
    assert code == ExitCode.OK
    for card in doc["message"]["generalPurposeCardCarousel"]["content"]:
        assert card["title"][:6] in out


def test_render_plain_uses_labels_and_default_uses_icons() -> None:
    path = PAYLOADS / "chips/chips_every_action.json"
    _, plain, _ = run("render", path, "--plain")
    _, icons, _ = run("render", path)
    assert "[url]" in plain and "🔗" not in plain
    assert "🔗" in icons and "[url]" not in icons


def test_render_full_shows_the_whole_description() -> None:
    path = RENDER / "card_long_cjk.json"
    _, short, _ = run("render", path, "--plain")
    _, full, _ = run("render", path, "--plain", "--full")
    assert "最后一句在这里结束" not in short
    assert "最后一句在这里结束" in full


def test_render_hostile_text_is_neutralised() -> None:
    code, out, _ = run("render", PAYLOADS / "hostile/botmessage__ansi_escapes.json")
    assert code == ExitCode.OK
    assert "␛[31m紧急通知␛[0m" in out and "\x1b" not in out


def test_render_with_a_given_type(tmp_path: Path) -> None:
    text = tmp_path / "message.txt"
    text.write_text("[bold]你好[/bold]", encoding="utf-8")
    code, out, err = run("render", text, "--type", "text/plain", "--plain")
    assert code == ExitCode.OK, err
    assert "[bold]你好[/bold]" in out
    body = tmp_path / "body.mime"
    body.write_bytes((WIRE / "multipart/text_and_chips.mime").read_bytes().split(b"\r\n\r\n", 1)[1])
    code, out, _ = run("render", body, "--type", "multipart/mixed; boundary=next", "--plain")
    assert code == ExitCode.OK and "查看更多" in out


def test_render_writes_an_svg_with_the_titles(tmp_path: Path) -> None:
    svg = tmp_path / "carousel.svg"
    code, _, err = run("render", PAYLOADS / "botmessage/carousel_small_5.json", "--svg", svg)
    assert code == ExitCode.OK
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg")
    for title in ("赣南脐橙", "阳光玫瑰", "烟台苹果", "海南芒果", "丹东草莓"):
        assert title in text
    assert f"wrote {svg}" in err


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (PAYLOADS / "broken/botmessage__nan.json", "not valid JSON"),
        (PAYLOADS / "broken/botmessage__both_card_and_carousel.json", "holds both"),
        (PAYLOADS / "broken/fthttp__entity_bomb.xml", "forbidden XML"),
        (RENDER / "cpim_broken_inner.cpim", "not valid JSON"),
        (PAYLOADS / "README.md", "not a recognised payload"),
        (DATA / "no-such-file.json", "no such file"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_render_refuses_unreadable_files_with_exit_2(path: Path, reason: str) -> None:
    code, out, err = run("render", path)
    assert code == ExitCode.INVALID_INPUT
    assert not out
    assert reason in " ".join(err.split())


def test_render_refuses_a_bad_type() -> None:
    code, _, err = run("render", PAYLOADS / "chips/chips_1_reply.json", "--type", "nonsense")
    assert code == ExitCode.INVALID_INPUT and "nonsense" in err


# --------------------------------------------------------------------------- lint


def test_lint_clean_file_exits_0() -> None:
    code, out, _ = run("lint", PAYLOADS / "chips/chips_3_replies.json")
    assert code == ExitCode.OK
    assert out.strip().endswith("ok (application/vnd.gsma.botsuggestion.v1.0+json, operator gsma)")


def test_lint_warnings_exit_0_unless_strict() -> None:
    path = PAYLOADS / "noisy/botmessage__unknown_keys.json"
    code, out, _ = run("lint", path)
    assert code == ExitCode.OK and "parse.unknown-key" in out
    code, _, _ = run("lint", path, "--strict")
    assert code == ExitCode.FAILED


def test_lint_errors_exit_1() -> None:
    code, out, _ = run("lint", PAYLOADS / "chips/chips_every_action.json")
    assert code == ExitCode.FAILED
    assert "chiplist.count" in out and "1..11 chips" in out


def test_lint_operator_option() -> None:
    path = PAYLOADS / "menu/menu_three_levels.json"
    assert run("lint", path)[0] == ExitCode.OK
    code, out, _ = run("lint", path, "--operator", "cmcc")
    assert code == ExitCode.FAILED and "menu.depth" in out
    assert run("lint", path, "--operator", "att")[0] == 2  # click usage error


def test_lint_unreadable_exits_2_after_linting_the_rest() -> None:
    code, out, err = run(
        "lint", PAYLOADS / "chips/chips_every_action.json", PAYLOADS / "broken/botmessage__nan.json"
    )
    assert code == ExitCode.INVALID_INPUT
    assert "chiplist.count" in out
    assert "botmessage__nan.json: unreadable" in err


def test_lint_json_shape() -> None:
    files = [
        PAYLOADS / "chips/chips_1_reply.json",
        PAYLOADS / "noisy/chips__swapped_coordinates.json",
        PAYLOADS / "broken/botmessage__truncated.json",
    ]
    code, out, _ = run("lint", "--json", "--operator", "ct", *files)
    assert code == ExitCode.INVALID_INPUT
    reports = json.loads(out)
    assert [r["file"] for r in reports] == [str(f) for f in files]
    for report in reports:
        assert set(report) == {"file", "content_type", "operator", "error", "findings"}
        assert report["operator"] == "ct"
        for finding in report["findings"]:
            assert set(finding) == {"path", "rule", "severity", "message", "limit"}
            assert finding["severity"] in ("error", "warning")
    assert reports[0]["findings"] == [] and reports[0]["error"] is None
    rules = {f["rule"] for f in reports[1]["findings"]}
    assert {"parse.coordinates-swapped", "action.show-location.coordinates"} <= rules
    assert reports[2]["error"] and reports[2]["content_type"] is None


def test_lint_json_clean_exits_0() -> None:
    code, out, _ = run("lint", "--json", PAYLOADS / "botmessage/card_vertical_no_media.json")
    assert code == ExitCode.OK
    assert json.loads(out)[0]["findings"] == []


def test_lint_type_option_reports_malformed_documents_as_findings() -> None:
    path = PAYLOADS / "broken/botmessage__truncated.json"
    assert run("lint", path)[0] == ExitCode.INVALID_INPUT
    code, out, _ = run("lint", path, "--type", "botmessage")
    assert code == ExitCode.FAILED and "payload.malformed" in out


def test_lint_cpim_and_multipart_files() -> None:
    code, out, _ = run(
        "lint", WIRE / "cpim/chatbot_card_chips.cpim", RENDER / "cpim_ad_multipart.cpim"
    )
    assert code == ExitCode.OK
    assert out.count(": ok (message/cpim, operator gsma)") == 2
