"""The shared JSON reader of protocol.up: limits, paths, typed access and warnings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.up import _json
from rcs_terminal.protocol.up._json import Context, JsonObject, child_path, load_object


def obj(data: dict[str, Any]) -> JsonObject:
    return JsonObject(data, "$", Context())


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1}',
        b'\xef\xbb\xbf{"a":1}',
        bytearray(b'{"a":1}'),
        '{"a":1}',
        {"a": 1},
        b' \r\n{"a":1}\r\n',
    ],
)
def test_accepted_input_forms(data: Any) -> None:
    assert load_object(data) == {"a": 1}


def test_oversized_bytes_and_text_are_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "MAX_JSON", 40)
    with pytest.raises(PayloadParseError, match="exceeds"):
        load_object(b'{"a":"' + b"x" * 40 + b'"}')
    with pytest.raises(PayloadParseError, match="exceeds"):
        load_object('{"a":"' + "x" * 40 + '"}')
    with pytest.raises(PayloadParseError, match="exceeds"):  # 14 characters, 42 bytes
        load_object('{"a":"' + "汉" * 12 + '"}')
    assert load_object('{"a":"' + "汉" * 4 + '"}') == {"a": "汉" * 4}


def test_nesting_is_limited_for_text_and_for_decoded_objects() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(_json.MAX_DEPTH):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(PayloadParseError, match="nesting"):
        load_object(deep)
    with pytest.raises(PayloadParseError, match="nesting"):
        load_object("[" * 100_000)  # beyond Python's own recursion limit
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(PayloadParseError, match="nesting"):
        load_object(cyclic)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"[]", "found array"),
        (b"null", "found null"),
        (b'{"a":Infinity}', "Infinity"),
        (b'{"a":1' + b"0" * 5000 + b"}", "not valid JSON"),
        (b'{"a":"\\ud800"}', "surrogate"),
        ('{"a":["\ud83d"]}', "surrogate"),
        ({1: "x"}, "not a string"),
        (["not", "a", "mapping"], "expected JSON bytes"),
    ],
)
def test_refused_documents(data: Any, match: str) -> None:
    with pytest.raises(PayloadParseError, match=match):
        load_object(data)


def test_escaped_surrogate_pairs_are_fine() -> None:
    assert load_object(b'{"e":"\\ud83d\\ude00"}') == {"e": "😀"}


def test_paths_use_dots_for_names_and_brackets_otherwise() -> None:
    assert child_path("$", "message") == "$.message"
    assert child_path("$.botinfo", "org-details") == "$.botinfo.org-details"
    assert child_path("$", "[...]") == '$["[...]"]'
    assert child_path("$", "a b\x1b") == '$["a b\\u001b"]'


def test_typed_access_and_error_paths() -> None:
    o = obj({"s": "x", "i": 3, "b": True, "f": 1.5, "n": None, "l": [1], "o": {}})
    assert o.text("s") == "x" and o.integer("i") == 3 and o.boolean("b") is True
    assert o.number("f") == 1.5 and o.number("i") == 3.0 and o.text("missing") is None
    assert o.array("l") == [(1, "$.l[0]")] and o.obj("o") is not None
    assert o.text("n") is None
    assert [w.code for w in o.ctx.warnings] == ["null-value"]
    with pytest.raises(PayloadParseError) as caught:
        o.text("i")
    assert caught.value.where == "$.i"
    with pytest.raises(PayloadParseError) as caught:
        o.require_text("missing")
    assert caught.value.where == "$" and "missing" in caught.value.reason
    getters: list[tuple[Callable[[str], object], str]] = [
        (o.integer, "b"),
        (o.number, "b"),
        (o.boolean, "i"),
        (o.obj, "l"),
        (o.array, "o"),
    ]
    for getter, key in getters:
        with pytest.raises(PayloadParseError):
            getter(key)


def test_lenient_scalars_are_noted() -> None:
    o = obj({"i": " 42", "f": "39.9", "b": "TRUE", "big": 10**400, "bad": "1e999"})
    assert o.integer("i") == 42 and o.number("f") == 39.9 and o.boolean("b") is True
    assert [w.code for w in o.ctx.warnings] == ["value-as-string"] * 3
    with pytest.raises(PayloadParseError, match="range"):
        o.number("big")
    with pytest.raises(PayloadParseError, match="range"):
        o.number("bad")


def test_placeholders_and_unknown_keys_are_told_apart() -> None:
    o = obj({"known": 1, "[...]": 2, "more...": 3, "…": 4, "extra": 5})
    o.check_keys(("known",))
    assert [w.code for w in o.ctx.warnings] == ["placeholder-key"] * 3 + ["unknown-key"]
    assert o.ctx.warnings[-1].path == "$.extra"
    assert str(o.ctx.warnings[-1]) == "$.extra: unknown key 'extra' ignored"


@pytest.mark.parametrize("text", ["1_000", "١٢", "--5", "0x10", "nan", "inf", "", " ", "1e", "²"])
def test_numeric_strings_follow_json_number_syntax(text: str) -> None:
    o = obj({"v": text})
    with pytest.raises(PayloadParseError):
        o.number("v")
    with pytest.raises(PayloadParseError):
        o.integer("v")


def test_integer_strings_may_be_negative_and_padded() -> None:
    assert obj({"v": " -12 "}).integer("v") == -12
    assert obj({"v": "+1.5e2"}).number("v") == 150.0
