"""Reading scenario YAML strictly.

Scenario files are read by the same strict reader as profiles
(:func:`rcs_terminal.domain.profile_check.read_yaml`): anchors, aliases and merge keys are refused
(they allow exponential expansion), so are duplicate keys (YAML silently keeps the last) and
non-string keys; all of it is found in the event stream before any object is built. The
limits differ from a profile's: a suite file may hold many scenarios (up to 1 MiB) and an
expectation nests deeper (a carousel's card's chips: up to 16 levels).
"""

from __future__ import annotations

from typing import Any

from rcs_terminal.domain.profile_check import read_yaml

__all__ = ["MAX_SCENARIO_BYTES", "MAX_SCENARIO_DEPTH", "read_scenario_yaml"]

MAX_SCENARIO_BYTES = 1024 * 1024
"""Largest scenario file accepted."""
MAX_SCENARIO_DEPTH = 16
"""Deepest nesting of mappings and lists accepted."""


def read_scenario_yaml(data: bytes | str) -> Any:
    """Parse scenario text strictly.

    Raises:
        YamlProblem: too large, not UTF-8, malformed, or a refused construct.
    """
    return read_yaml(data, max_bytes=MAX_SCENARIO_BYTES, max_depth=MAX_SCENARIO_DEPTH)
