"""Scenario files: the strict schema, variables, and errors that name file, step and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.errors import ScenarioError
from rcs_terminal.scenario.model import load_scenarios, parse_scenarios
from rcs_terminal.scenario.step_models import SendStep
from rcs_terminal.scenario.variables import VariableError, parse_assignments, substitute

GOOD = """
vars: {bot: "sip:demo@botplatform.lab", wait: 3}
scenarios:
  - name: Demo welcome
    handsets: {alice: lab-alice}
    timeout: ${wait}
    steps:
      - register: alice
      - send: {to: "${bot}", text: "hi ${alice.msisdn}", as: m}
      - expect_message: {from: "${bot}", kind: card, card: {title: {contains: Welcome}}}
      - tap: Buy
      - expect_state: {message: m, state: delivered}
"""


def messages(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenarios(text, file="s.yaml", **kwargs)  # type: ignore[arg-type]
    return caught.value.message.splitlines()


def test_a_valid_file_gives_checked_steps() -> None:
    [scenario] = parse_scenarios(GOOD, file="s.yaml")
    assert scenario.id == "demo-welcome"
    assert scenario.timeout == 3.0  # a lone reference keeps the variable's type
    assert [s.kind for s in scenario.steps] == [
        "register",
        "send",
        "expect_message",
        "tap",
        "expect_state",
    ]
    send = scenario.steps[1].args
    assert isinstance(send, SendStep)
    assert send.to == "sip:demo@botplatform.lab"
    assert send.text == "hi +8613800000011"  # identity variables of the handsets
    assert scenario.steps[3].args.chip == "Buy"  # type: ignore[attr-defined]


def test_command_line_variables_win() -> None:
    [scenario] = parse_scenarios(GOOD, file="s.yaml", variables={"bot": "sip:news@botplatform.lab"})
    assert scenario.steps[1].args.to == "sip:news@botplatform.lab"  # type: ignore[attr-defined]


def test_a_single_scenario_file() -> None:
    text = "name: One\nhandsets: {bob: lab-bob}\nsteps:\n  - register: bob\n"
    [scenario] = parse_scenarios(text, file="one.yaml")
    assert scenario.suite == "one" and scenario.steps[0].kind == "register"


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("- sned: {to: x, text: y}", "step 1: sned: unknown step kind (did you mean 'send'?)"),
        ("- send: {to: x, txt: y}", "step 1 (send): send.txt: unknown key (did you mean 'text'?)"),
        ("- send: {to: x}", "step 1 (send): send: give exactly one of text"),
        ('- send: {to: "${nope}", text: y}', "step 1 (send): send.to: unknown variable ${nope}"),
        (
            "- expect_message: {card: {titel: x}}",
            "expect_message.card.titel: unknown key (did you mean 'title'?)",
        ),
        (
            "- expect_message: {within: -1}",
            "expect_message.within: expected a number of at least 0",
        ),
        (
            "- expect_state: {message: m, state: deliverd}",
            "expect_state.state: unknown state 'deliverd'",
        ),
        (
            "- expect_state: {message: m, state: delivered}",
            "expect_state.message: no earlier send or tap with as: m",
        ),
        ("- send: {handset: carol, to: x, text: y}", "send.handset: no handset 'carol'"),
        ("- register: alice\n        wait: {seconds: 1}", "one step kind per step"),
        (
            "- options: {target: x, expect: {status: fast}}",
            "options.expect.status[0]: expected a whole number",
        ),
        ("- expect_message: {text: 5}", "expect_message.text: expected text, or a mapping"),
    ],
)
def test_step_errors_name_the_step_and_key(step: str, expected: str) -> None:
    text = f"name: Broken\nhandsets: {{alice: lab-alice}}\nsteps:\n      {step}\n"
    lines = messages(text)
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("s.yaml: scenario 'Broken'") for line in lines)


def test_scenario_level_errors() -> None:
    text = (
        "name: X\nlab: {shar: true}\nhandsets: {a: lab-alice, b: {profile: lab-bob, sim: [1]}}\n"
        "steps: [{register: a}]\n"
    )
    lines = messages(text)
    assert "s.yaml: scenario 'X': lab.shar: unknown key (did you mean 'share'?)" in lines
    assert "s.yaml: scenario 'X': handsets.b.sim: unknown key (did you mean 'sims'?)" in lines


def test_profiles_are_checked_at_load() -> None:
    lines = messages("name: X\nhandsets: {a: no-such-profile}\nsteps: [{register: a}]\n")
    assert any("handsets.a.profile: " in line and "no built-in profile" in line for line in lines)


def test_several_handsets_need_a_name_on_each_step() -> None:
    text = "name: X\nhandsets: {a: lab-alice, b: lab-bob}\nsteps:\n  - send: {to: b, text: y}\n"
    assert any("send.handset: required when the scenario has several" in m for m in messages(text))


def test_one_sim_one_handset() -> None:
    text = "name: X\nhandsets: {a: lab-alice, b: lab-alice}\nsteps: [{register: a}]\n"
    assert any("same SIM" in m for m in messages(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\nb: *x\n", "anchors (&name) are not allowed"),
        ("name: a\nname: b\n", "duplicate key 'name'"),
        ("- 1\n", "expected a mapping at the top"),
        ("name: [\n", "YAML syntax error"),
        ("", "the file is empty"),
    ],
)
def test_yaml_is_read_strictly(text: str, expected: str) -> None:
    assert any(expected in m for m in messages(text))


def test_ids_are_unique_across_files(tmp_path: Path) -> None:
    body = "name: Same\nhandsets: {a: lab-alice}\nsteps: [{register: a}]\n"
    (tmp_path / "one.yaml").write_text(body)
    (tmp_path / "two.yaml").write_text(body)
    with pytest.raises(ScenarioError, match="id 'same' is also used"):
        load_scenarios([tmp_path])


def test_no_files() -> None:
    with pytest.raises(ScenarioError, match="no scenario files found"):
        load_scenarios([])


def test_substitution() -> None:
    data = {"a": "${x}", "b": ["pre ${x} post", "$${literal}"], "c": {"d": "${flag}"}}
    out = substitute(data, {"x": 5, "flag": True})
    assert out == {"a": 5, "b": ["pre 5 post", "${literal}"], "c": {"d": True}}
    with pytest.raises(VariableError) as caught:
        substitute({"k": ["${y}"]}, {"yy": 1})
    assert caught.value.path == "k[0]" and "did you mean 'yy'" in caught.value.message


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b.c= x=y"]) == {"a": "1", "b.c": " x=y"}
    with pytest.raises(ValueError):
        parse_assignments(["novalue"])
