"""Directory search responses: the variants a directory may send, and fuzzing."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.botinfo import BotSummary, parse_directory
from rcs_terminal.errors import PayloadParseError

WIRE = Path(__file__).parents[1] / "data" / "wire" / "botinfo"

EXPECTED: dict[str, list[BotSummary]] = {
    "plain_list.json": [
        BotSummary(
            "sip:demo@botplatform.lab",
            "演示机器人",
            "卡片演示",
            "http://botplatform.lab/media/demo.png",
            True,
        ),
        BotSummary("sip:12345@botplatform.lab", "政务热线", None, None, False),
    ],
    "bots_object.json": [
        BotSummary(
            "sip:news@botplatform.lab",
            "新闻早报",
            None,
            "http://botplatform.lab/media/news.png",
            True,
        ),
        BotSummary("sip:bank@botplatform.lab", "银行助手", "账单提醒", None, True),
    ],
    "nested_data.json": [
        BotSummary(
            "sip:express@botplatform.lab",
            "快递查询",
            None,
            "http://botplatform.lab/media/express.png",
            True,
        )
    ],
    "botinfo_documents.json": [
        BotSummary(
            "sip:demo@botplatform.lab",
            "演示机器人",
            "展示卡片、轮播和建议按钮。",
            "http://botplatform.lab/media/demo.png",
            True,
        )
    ],
    "empty_results.json": [],
    "lab_list.json": [
        BotSummary(
            "sip:demo@botplatform.lab",
            "演示机器人",
            "卡片、轮播、建议按钮",
            "http://botplatform.lab:8080/chatbot/media/demo-logo.png",
            True,
        )
    ],
    "bom_list.json": [BotSummary("sip:weather@botplatform.lab", "天气预警")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_directory_variants(name: str) -> None:
    data = (WIRE / "directory" / name).read_bytes()
    assert parse_directory(data) == EXPECTED[name]
    if not data.startswith(b"\xef\xbb\xbf"):
        assert parse_directory(json.loads(data)) == EXPECTED[name]


@pytest.mark.parametrize("path", sorted((WIRE / "broken").glob("*.json")), ids=lambda p: p.name)
def test_broken_directory_responses(path: Path) -> None:
    with pytest.raises(PayloadParseError):
        parse_directory(path.read_bytes())


def test_duplicates_and_odd_entries() -> None:
    doc: Any = [
        {"id": "sip:a@bots.test", "name": "A"},
        {"id": "sip:a@bots.test", "name": "A again"},
        "not an object",
        {"id": 42},
        {"id": "  ", "name": "blank id"},
        {"uri": "sip:b@bots.test", "name": 7, "verified": "no"},
    ]
    assert parse_directory(doc) == [
        BotSummary("sip:a@bots.test", "A"),
        BotSummary("sip:b@bots.test", "sip:b@bots.test", verified=False),
    ]


def test_deep_nesting_and_oversize_are_parse_errors() -> None:
    with pytest.raises(PayloadParseError):
        parse_directory(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(PayloadParseError):
        parse_directory(b" " * (1024 * 1024 + 1))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["bots", "data", "list", "id", "serviceId", "name", "botinfo", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(JSON)
def test_arbitrary_json_gives_summaries_or_a_parse_error(doc: Any) -> None:
    try:
        found = parse_directory(json.dumps(doc))
    except PayloadParseError:
        return
    assert all(isinstance(b, BotSummary) and b.service_id.strip() for b in found)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_summaries_or_a_parse_error(data: bytes) -> None:
    try:
        found = parse_directory(data)
    except PayloadParseError:
        return
    assert all(isinstance(b, BotSummary) for b in found)


@given(st.integers(0, 1000), st.integers(1, 6), st.randoms(use_true_random=False))
def test_mutated_responses_give_summaries_or_a_parse_error(
    index: int, flips: int, rnd: random.Random
) -> None:
    files = sorted((WIRE / "directory").glob("*.json"))
    data = bytearray(files[index % len(files)].read_bytes())
    for _ in range(flips):
        if data:
            data[rnd.randrange(len(data))] = rnd.choice(b'{}[]",:0\\\xff')
    try:
        found = parse_directory(bytes(data))
    except PayloadParseError:
        return
    assert all(isinstance(b, BotSummary) for b in found)
