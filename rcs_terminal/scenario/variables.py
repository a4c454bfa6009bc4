"""``${name}`` substitution in scenario files.

A scenario's strings may refer to variables: ``to: ${bot}``, ``profile: ${profiles}/alice.yaml``.
Values come, from the weakest to the strongest, from the file's ``vars:``, the scenario's
``vars:``, the handsets' identities (``${alice.tel}``, ``${alice.sip}``, ``${alice.msisdn}``,
``${alice.imsi}``, and ``${phone.sim2.tel}`` for one SIM of a dual-SIM handset) and the command
line (``--var K=V``). Substitution happens once, when the file is loaded, on every string of
the document (keys are left alone); ``$${`` writes a literal ``${``. A reference to a variable
that does not exist is an error naming where it was found, so a typo never reaches the network.

A string that is exactly one reference (``timeout: ${t}``) takes the variable's value with its
type (a number stays a number); references inside longer strings are replaced by their text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["VariableError", "parse_assignments", "substitute"]

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_LONE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")

Scalar = str | int | float | bool


class VariableError(Exception):
    """A reference to an unknown variable.

    Attributes:
        path: where the reference is, as a key path (``steps[2].send.to``).
        name: the variable's name.
        message: what is wrong (with the closest known name, if any).
    """

    def __init__(self, path: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.path = path
        self.name = name
        self.message = f"unknown variable ${{{name}}}{hint}"
        super().__init__(self.message)


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def substitute(data: Any, variables: Mapping[str, Scalar], path: str = "") -> Any:
    """Replace every ``${name}`` in the strings of ``data`` (mappings and lists walked).

    Args:
        data: a parsed YAML document (or part of one).
        variables: the known variables.
        path: the key path of ``data`` (for error messages).

    Returns:
        A new document; ``data`` is not changed.

    Raises:
        VariableError: a reference names no known variable.
    """
    if isinstance(data, str):
        if "$" not in data:
            return data
        lone = _LONE.fullmatch(data)
        if lone is not None:
            name = lone.group(1)
            if name not in variables:
                raise VariableError(path, name, sorted(variables))
            return variables[name]

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "${"
            if name not in variables:
                raise VariableError(path, name, sorted(variables))
            return _text(variables[name])

        return _REFERENCE.sub(replace, data)
    if isinstance(data, dict):
        return {
            key: substitute(value, variables, f"{path}.{key}" if path else str(key))
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [substitute(item, variables, f"{path}[{i}]") for i, item in enumerate(data)]
    return data


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Read ``K=V`` command-line assignments.

    Raises:
        ValueError: an item without ``=`` or with an invalid name.
    """
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
            raise ValueError(f"--var expects NAME=VALUE, got {item[:60]!r}")
        out[name] = value
    return out
