"""Hypothesis robustness of the UP payload parsers.

Whatever they are given (arbitrary JSON values, structurally mutated corpus documents,
byte-mutated corpus files, arbitrary bytes) the parsers return a model or raise
``PayloadParseError``; nothing else escapes. A model they return survives its own round
trip, so leniency never produces a model that cannot be written back.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import up

CORPUS = Path(__file__).parents[1] / "data" / "payloads"

JSON_PARSERS: dict[str, Callable[[Any], Any]] = {
    "botmessage": up.parse_botmessage,
    "chips": up.parse_chip_list,
    "response": up.parse_suggestion_response,
    "menu": up.parse_menu,
    "botinfo": up.parse_botinfo,
    "shared": up.parse_shared_client_data,
}
XML_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "fthttp": up.parse_fthttp,
    "geopush": up.parse_geopush,
}
TOP_KEYS = {
    "botmessage": "message",
    "chips": "suggestions",
    "response": "response",
    "menu": "menu",
    "botinfo": "botinfo",
    "shared": "sharedData",
}


def _kind(path: Path) -> str:
    folder = path.parent.name
    return folder if folder not in ("noisy", "hostile", "broken") else path.name.split("__")[0]


def _corpus() -> list[tuple[str, Path]]:
    return sorted((_kind(p), p) for p in CORPUS.rglob("*") if p.is_file())


def _json_docs() -> list[tuple[str, Any]]:
    docs = []
    for kind, path in _corpus():
        if kind in JSON_PARSERS and path.parent.name != "broken":
            docs.append((kind, json.loads(path.read_bytes(), strict=False)))
    return docs


JSON_DOCS = _json_docs()
ALL_FILES: list[tuple[str, bytes]] = [
    (k, p.read_bytes()) for k, p in _corpus() if k in JSON_PARSERS or k in XML_PARSERS
]


def _keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(key)
            _keys(item, out)
    elif isinstance(value, list):
        for item in value:
            _keys(item, out)
    return out


KNOWN_KEYS = sorted(_keys([doc for _, doc in JSON_DOCS], set()))
KNOWN_STRINGS = [
    "VERTICAL",
    "horizontal",
    "LEFT",
    "SMALL_WIDTH",
    "TALL_HEIGHT",
    "bold",
    "AUDIO",
    "webview",
    "FULL",
    "#FF0000",
    "12",
    "true",
    "[...]",
    "",
    "\x1b[31m",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(KNOWN_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)


def _check(kind: str, value: Any) -> None:
    """Parse; a model must round-trip, anything else must be a PayloadParseError."""
    parser = JSON_PARSERS.get(kind) or XML_PARSERS[kind]
    try:
        model = parser(value)
    except PayloadParseError:
        return
    if kind in XML_PARSERS:
        assert parser(model.to_xml()) == model
    else:
        assert parser(model.to_dict()) == model
        assert parser(model.to_json()) == model


def _containers(value: Any) -> list[Any]:
    out: list[Any] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            out.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return out


@st.composite
def mutated_documents(draw: st.DrawFn) -> tuple[str, Any]:
    """A corpus document with one to three members replaced, removed or added."""
    kind, original = draw(st.sampled_from(JSON_DOCS))
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        node = draw(st.sampled_from(_containers(doc)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if isinstance(node, dict):
            if action != "add" and node:
                key = draw(st.sampled_from(sorted(node)))
                if action == "delete":
                    del node[key]
                else:
                    node[key] = draw(json_values)
            else:
                node[draw(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6))] = draw(json_values)
        elif isinstance(node, list):
            if action != "add" and node:
                index = draw(st.integers(0, len(node) - 1))
                if action == "delete":
                    del node[index]
                else:
                    node[index] = draw(json_values)
            else:
                node.append(draw(json_values))
    return kind, doc


@given(mutated_documents())
def test_mutated_corpus_documents_give_a_model_or_a_parse_error(case: tuple[str, Any]) -> None:
    kind, doc = case
    _check(kind, doc)
    _check(kind, json.dumps(doc).encode())


@given(st.sampled_from(sorted(JSON_PARSERS)), json_values)
def test_arbitrary_json_values_give_a_model_or_a_parse_error(kind: str, value: Any) -> None:
    _check(kind, json.dumps(value).encode())
    _check(kind, json.dumps({TOP_KEYS[kind]: value}).encode())


@given(st.sampled_from(ALL_FILES), st.data())
def test_byte_mutated_corpus_files_give_a_model_or_a_parse_error(
    case: tuple[str, bytes], data: st.DataObject
) -> None:
    kind, raw = case
    buffer = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, max(len(buffer) - 1, 0)))
        operation = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if operation == "flip" and buffer:
            buffer[position] ^= 1 << data.draw(st.integers(0, 7))
        elif operation == "delete" and buffer:
            del buffer[position]
        elif operation == "insert":
            buffer[position:position] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del buffer[position:]
    _check(kind, bytes(buffer))


@given(st.sampled_from(sorted(JSON_PARSERS) + sorted(XML_PARSERS)), st.binary(max_size=300))
def test_arbitrary_bytes_give_a_model_or_a_parse_error(kind: str, data: bytes) -> None:
    _check(kind, data)


@given(st.sampled_from(sorted(JSON_PARSERS)), st.text(max_size=200))
def test_arbitrary_text_gives_a_model_or_a_parse_error(kind: str, text: str) -> None:
    _check(kind, text)


@given(st.text(max_size=80) | st.from_regex(r"geo:[-0-9.,;a-z=%A-F]{0,40}", fullmatch=True))
def test_arbitrary_geo_text_gives_a_location_or_a_parse_error(text: str) -> None:
    try:
        location = up.parse_geo_uri(text)
    except PayloadParseError:
        return
    assert up.parse_geo_uri(location.to_geo_uri()) == location


@given(st.binary(max_size=300))
def test_detect_never_raises(data: bytes) -> None:
    assert up.detect(data) is None or isinstance(up.detect(data), str)
