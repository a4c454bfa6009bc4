"""Bot scripts: the built-in bots load, broken scripts give errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import BotScriptError
from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.loader import (
    MAX_BOT_BYTES,
    builtin_bot_files,
    load_bot,
    load_bot_data,
    load_bots,
    user_bot_dir,
)
from rcs_terminal.lab.bots.media import MediaLibrary
from rcs_terminal.lab.chatbot_platform import check_media

DATA = Path(__file__).parent.parent / "data" / "bots"
CHINESE_BOTS = ("hotline", "express", "bank", "weather", "news")


def _error(name: str) -> str:
    with pytest.raises(BotScriptError) as caught:
        script = load_bot(DATA / "broken" / name)
        check_media(script, MediaLibrary())
    return str(caught.value)


# --------------------------------------------------------------------------- good scripts


def test_builtin_bots_load_with_demo_and_five_use_cases() -> None:
    scripts = {script.id: script for script in load_bots()}
    assert {"demo", *CHINESE_BOTS} <= set(scripts)
    assert scripts["demo"].uri == "sip:demo@botplatform.lab"
    media = MediaLibrary()
    for script in scripts.values():
        check_media(script, media)
        assert script.menu, f"{script.id} has no persistent menu"
        assert script.welcome is not None and script.default is not None
        assert script.logo in media and script.category and script.verified


def test_builtin_file_names_match_ids() -> None:
    names = {entry.name for entry in builtin_bot_files()}
    assert {f"{bot}.yaml" for bot in ("demo", *CHINESE_BOTS)} <= names


def test_chinese_bots_speak_chinese() -> None:
    for script in load_bots():
        if script.id in CHINESE_BOTS:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in script.name + script.description)


def test_minimal_bot_takes_defaults() -> None:
    script = load_bot(DATA / "minimal.yaml")
    assert script.colour == "#1E88E5"
    assert script.verified is True
    assert script.menu == [] and script.replies == {}
    assert isinstance(script.rules[0].reply, model.Message)


def test_chip_postback_defaults_to_its_text() -> None:
    chip = model.Chip(text="查看物流")
    assert chip.postback_data == "查看物流" and chip.action is None
    assert model.Chip(text="Call", dial="+8610").action == "dial"


def test_reply_shapes_name_message_and_list() -> None:
    script = model.BotScript.model_validate(
        {
            "id": "shapes",
            "name": "Shapes",
            "description": "d",
            "number": "10658",
            "logo": "demo-logo.png",
            "welcome": "hello",
            "default": {"text": "one"},
            "on_file": [{"text": "a"}, {"text": "b"}],
            "replies": {"hello": [{"text": "hi"}]},
        }
    )
    assert script.welcome == "hello"
    assert isinstance(script.default, model.Message)
    assert isinstance(script.on_file, list) and len(script.on_file) == 2


# --------------------------------------------------------------------------- broken scripts


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unknown_key.yaml", "rules[0].reply.chips[0].txt: unknown key (did you mean 'text'?)"),
        ("too_many_card_chips.yaml", "welcome.card.chips: this list takes at most 4"),
        ("label_too_long.yaml", "default.chips[0].text: at most 25 characters"),
        ("two_actions.yaml", "default.chips[0]: a chip takes at most one of its action keys"),
        ("missing_reply.yaml", "rules[0].reply: no reply named 'greeting'"),
        ("horizontal_without_image.yaml", "welcome.card: a horizontal card needs image"),
        ("tall_in_small_carousel.yaml", "tall media does not fit a small carousel"),
        ("duplicate_key.yaml", "line 3: duplicate key 'name'"),
        ("anchor.yaml", "anchors and aliases"),
        ("bad_colour.yaml", "colour: a colour is written #RRGGBB"),
        ("rule_without_trigger.yaml", "rules[0]: a rule needs keywords, patterns, postbacks"),
        ("bad_pattern.yaml", "is not a regular expression"),
        ("menu_too_deep.yaml", "the menu has 4 levels"),
        ("syntax_error.yaml", "YAML syntax error"),
        ("id_mismatch.yaml", "id: 'another_name' differs from the file name 'id_mismatch'"),
        ("missing_media.yaml", "welcome.card.media.file: no sample file 'no-such-picture.png'"),
    ],
)
def test_broken_script_names_file_and_key(name: str, expected: str) -> None:
    message = _error(name)
    assert name.removesuffix(".yaml") in message
    assert expected in message


def test_every_problem_is_listed() -> None:
    data = b"""
id: many
name: ""
description: d
number: "12"
logo: demo-logo.png
colour: red
"""
    with pytest.raises(BotScriptError) as caught:
        load_bot_data(data, file="many.yaml")
    text = str(caught.value)
    assert "3 problem(s)" in text
    for key in ("many.yaml: name:", "many.yaml: number:", "many.yaml: colour:"):
        assert key in text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"- just\n- a list\n", "expected a mapping of keys at the top, got a list"),
        (b"\xff\xfe bad", "not UTF-8"),
        (b"a: 1\n" + b"x" * MAX_BOT_BYTES, "larger than"),
        (b"{1: one}", "keys must be strings"),
        (b"a: " + b"[" * 40 + b"]" * 40, "nested too deeply"),
        (b"<<: {a: 1}", "keys must be strings"),
        (b"", "expected a mapping"),
    ],
)
def test_refused_yaml(data: bytes, expected: str) -> None:
    with pytest.raises(BotScriptError) as caught:
        load_bot_data(data, file="x.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("x.yaml")


def test_missing_file_and_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(BotScriptError, match=r"nowhere\.yaml: file not found"):
        load_bot(tmp_path / "nowhere.yaml")
    first = tmp_path / "a" / "minimal.yaml"
    second = tmp_path / "b" / "minimal.yaml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes((DATA / "minimal.yaml").read_bytes())
    with pytest.raises(BotScriptError, match="already used"):
        load_bots([first, second])


# --------------------------------------------------------------------------- properties


@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_script_or_a_bot_script_error(data: bytes) -> None:
    try:
        script = load_bot_data(data)
    except BotScriptError:
        return
    assert isinstance(script, model.BotScript)


_MINIMAL = (DATA / "minimal.yaml").read_bytes()


@given(st.integers(0, len(_MINIMAL) - 1), st.binary(min_size=1, max_size=8))
def test_mutated_script_gives_a_script_or_a_bot_script_error(position: int, noise: bytes) -> None:
    data = _MINIMAL[:position] + noise + _MINIMAL[position + len(noise) :]
    try:
        script = load_bot_data(data)
    except BotScriptError:
        return
    assert isinstance(script, model.BotScript)


def test_user_bots_are_added_and_may_replace_builtin_ones() -> None:
    folder = user_bot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "minimal.yaml").write_bytes((DATA / "minimal.yaml").read_bytes())
    demo = (DATA / "minimal.yaml").read_text().replace("id: minimal", "id: demo")
    (folder / "demo.yaml").write_text(demo.replace("Minimal bot", "My demo"))
    (folder / "notes.txt").write_text("not a bot")
    scripts = {script.id: script for script in load_bots()}
    assert scripts["minimal"].name == "Minimal bot"
    assert scripts["demo"].name == "My demo"
    assert {"hotline", "express", "bank", "weather", "news"} <= set(scripts)


def test_broken_user_bot_is_a_clear_error() -> None:
    folder = user_bot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "two_actions.yaml").write_bytes((DATA / "broken" / "two_actions.yaml").read_bytes())
    with pytest.raises(BotScriptError, match=r"two_actions\.yaml: default\.chips\[0\]"):
        load_bots()


def test_the_readme_example_is_a_valid_bot() -> None:
    readme = (Path(model.__file__).parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    script = load_bot_data(example.encode(), file="mybot.yaml")
    check_media(script, MediaLibrary())
    assert script.rules[-1].catches_all
