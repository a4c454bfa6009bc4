"""Reading scenario YAML strictly.

Scenario files are read with the same care as profiles
(:mod:`rcs_terminal.domain.profile_check`): anchors, aliases and merge keys are refused
(they allow exponential expansion), so are duplicate keys (YAML silently keeps the last) and
non-string keys; all of it is found in the event stream before any object is built. The
limits differ from a profile's: a suite file may hold many scenarios (up to 1 MiB) and an
expectation nests deeper (a carousel's card's chips: up to 16 levels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from rcs_terminal.domain.profile_check import YamlProblem

__all__ = ["MAX_SCENARIO_BYTES", "MAX_SCENARIO_DEPTH", "read_scenario_yaml"]

MAX_SCENARIO_BYTES = 1024 * 1024
"""Largest scenario file accepted."""
MAX_SCENARIO_DEPTH = 16
"""Deepest nesting of mappings and lists accepted."""

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER: Any = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass
class _Level:
    mapping: bool
    expect_key: bool = True
    keys: set[str] = field(default_factory=set)


def _key(event: Any, level: _Level) -> None:
    if not isinstance(event, yaml.ScalarEvent):
        raise YamlProblem("keys must be strings, not lists or mappings", event.start_mark)
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _MERGE:
        raise YamlProblem("merge keys (<<) are not allowed", event.start_mark)
    if tag != _STR:
        raise YamlProblem(
            "keys must be strings (quote yes, no, on, off or numbers)", event.start_mark
        )
    if event.value in level.keys:
        raise YamlProblem(f"duplicate key {event.value[:40]!r}", event.start_mark)
    level.keys.add(event.value)


def _check(text: str) -> None:
    stack: list[_Level] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem("aliases (*name) are not allowed", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise YamlProblem("anchors (&name) are not allowed", event.start_mark)
        opens = isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent)
        if stack and stack[-1].mapping and (opens or isinstance(event, yaml.ScalarEvent)):
            if stack[-1].expect_key:
                _key(event, stack[-1])
            stack[-1].expect_key = not stack[-1].expect_key
        if opens:
            if len(stack) >= MAX_SCENARIO_DEPTH:
                raise YamlProblem("the document is nested too deeply", event.start_mark)
            stack.append(_Level(isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()


def read_scenario_yaml(data: bytes | str) -> Any:
    """Parse scenario text strictly.

    Raises:
        YamlProblem: too large, not UTF-8, malformed, or a refused construct.
    """
    if len(data) > MAX_SCENARIO_BYTES:
        raise YamlProblem(f"the file is larger than {MAX_SCENARIO_BYTES // 1024} KiB")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlProblem(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    else:
        text = data
    try:
        _check(text)
        return yaml.load(text, Loader=_LOADER)  # a safe loader (see _LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlProblem(f"YAML syntax error{where}: {exc.problem or 'malformed YAML'}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML error: {str(exc)[:200]}") from None
