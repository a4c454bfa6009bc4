"""Problems found in scenario files, written so a tester finds the line to fix at once.

Each :class:`ScenarioIssue` names the file, the scenario, the step number and kind, and the key
path inside the step (``send.expect.state``), and says what is wrong. pydantic's validation
errors are turned into issues here the way :mod:`rcs_terminal.domain.profile_check` does it
for profiles: the key path as written in the file, a sentence instead of pydantic's codes,
values never quoted, and the closest valid key for an unknown one (:mod:`difflib`).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from rcs_terminal.domain.profile_check import describe_kind

__all__ = ["ScenarioIssue", "issues_from_validation", "suggest"]


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem in a scenario file.

    Attributes:
        file: the file as the user named it.
        scenario: the scenario's name (or ``#N``), None for the whole file.
        step: the step number (from 1), if the problem is in a step.
        kind: the step kind, if known.
        path: the key path (``send.expect.state``), empty for the whole item.
        message: what is wrong.
    """

    file: str
    scenario: str | None
    step: int | None = None
    kind: str | None = None
    path: str = ""
    message: str = ""

    def __str__(self) -> str:
        parts = [self.file]
        if self.scenario is not None:
            parts.append(f"scenario {self.scenario!r}")
        if self.step is not None:
            parts.append(f"step {self.step}" + (f" ({self.kind})" if self.kind else ""))
        if self.path:
            parts.append(self.path)
        return ": ".join(parts) + f": {self.message}"


def suggest(key: str, names: Sequence[str]) -> str | None:
    """The closest of ``names`` to ``key`` (case first), or None."""
    lowered = {name.lower(): name for name in names}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return close[0] if close else None


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [] if annotation is type(None) else [annotation]


def _walk(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[str, type[BaseModel] | None]:
    """A pydantic location as a file key path, and the model owning its last key."""
    current: list[Any] = [model]
    owner: type[BaseModel] | None = None
    path = ""
    for part in loc:
        containers = [
            c for c in current if typing.get_origin(c) in (list, tuple, dict, Sequence, Mapping)
        ]
        if containers:
            inner: list[Any] = []
            for option in containers:
                args = typing.get_args(option)
                if args:
                    inner.extend(_unwrap(args[-1]))
            current = inner
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
            continue
        models = [m for m in current if isinstance(m, type) and issubclass(m, BaseModel)]
        if not models or isinstance(part, int):
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
            current = []
            continue
        owner = models[0]
        info = next(
            (f for n, f in owner.model_fields.items() if n == part or f.alias == part),
            None,
        )
        current = _unwrap(info.annotation) if info is not None else []
        path = f"{path}.{part}" if path else str(part)
    return path, owner


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("string_type",):
        return f"expected a string, got {describe_kind(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {describe_kind(value)}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {describe_kind(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {describe_kind(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {describe_kind(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {describe_kind(value)}"
    if kind in ("greater_than", "greater_than_equal"):
        return f"expected a number of at least {ctx.get('gt', ctx.get('ge'))}"
    if kind in ("less_than", "less_than_equal"):
        return f"expected a number of at most {ctx.get('lt', ctx.get('le'))}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return "letters, digits, '.', '_' and '-' only (at most 100)"
    if kind == "string_too_long":
        return f"too long (at most {ctx.get('max_length')} characters)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def issues_from_validation(
    exc: ValidationError,
    model: type[BaseModel],
    file: str,
    *,
    scenario: str | None = None,
    step: int | None = None,
    kind: str | None = None,
    prefix: str = "",
) -> list[ScenarioIssue]:
    """Turn pydantic's errors for ``model`` into issues with file key paths.

    Unknown keys get the closest valid key; a typo's intended key, which pydantic also
    reports as missing, is reported once, as the typo.
    """
    issues: list[ScenarioIssue] = []
    suggested: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        path, owner = _walk(model, loc)
        message = _message(error)
        if error["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str) and owner:
            names = [f.alias or n for n, f in owner.model_fields.items()]
            guess = suggest(loc[-1], names)
            if guess is not None:
                message += f" (did you mean {guess!r}?)"
                parent = path.rpartition(".")[0]
                suggested.add(f"{parent}.{guess}" if parent else guess)
        full = f"{prefix}.{path}" if prefix and path else (prefix or path)
        issues.append(
            ScenarioIssue(file, scenario, step=step, kind=kind, path=full, message=message)
        )
    return [
        issue
        for issue in issues
        if not (
            issue.message == "required key is missing"
            and (issue.path.removeprefix(f"{prefix}.") if prefix else issue.path) in suggested
        )
    ]
