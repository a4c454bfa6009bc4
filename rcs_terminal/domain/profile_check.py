"""Checking a profile file: strict YAML reading and error messages that name the key.

A profile drives real traffic, so its file is read more strictly than ``yaml.safe_load``
does: anchors, aliases and merge keys are refused (they allow "billion laughs" expansion),
and so are duplicate keys (YAML silently keeps the last), non-string keys and deep nesting;
all of it is found in the event stream before any object is built. pydantic's validation
errors are then turned into :class:`ProfileIssue` lines that name the file, the key path as
written in the file (``sims[1].auth.k``, without pydantic's union tags) and what was
expected, with the closest valid key for a typo (:mod:`difflib`). Messages never quote the
values, so a mistyped secret is not echoed.

:mod:`rcs_terminal.domain.profile` uses this module; it is separate to keep each module to
one concept.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from rcs_terminal.domain.profile_schema import Device, Profile, Sim
from rcs_terminal.domain.secrets import iter_secrets

MAX_PROFILE_BYTES = 64 * 1024
"""Largest profile file accepted; real profiles are about 2 KB."""

MAX_YAML_DEPTH = 10
"""Deepest nesting of mappings and lists accepted (the schema needs 5)."""


@dataclass(frozen=True)
class ProfileIssue:
    """One problem found in a profile file.

    Attributes:
        file: the file as the user named it (or ``<name>.yaml`` for a built-in profile).
        path: the key path, like ``sims[0].auth.k``; empty for the whole file.
        message: what is wrong and what was expected.
        severity: ``error`` (the profile cannot be used) or ``warning``.
    """

    file: str
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


# ----------------------------------------------------------------------------- YAML


class YamlProblem(Exception):
    """A profile file that is not acceptable YAML.

    Attributes:
        message: what is wrong.
        line: the 1-based line it was found on, when known.
    """

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (much faster), else PyYAML's own."""

_RESOLVER: Any = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class _Collection:
    mapping: bool
    expect_key: bool = True
    keys: set[str] = field(default_factory=set)


def _check_key(event: Any, frame: _Collection) -> None:
    if not isinstance(event, yaml.ScalarEvent):
        raise YamlProblem("keys must be strings, not lists or mappings", event.start_mark)
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _MERGE_TAG:
        raise YamlProblem("merge keys (<<) are not allowed", event.start_mark)
    if tag != _STR_TAG:
        raise YamlProblem(
            "keys must be strings (quote keys like yes, no, on, off or numbers)",
            event.start_mark,
        )
    if event.value in frame.keys:
        raise YamlProblem(f"duplicate key {event.value[:40]!r}", event.start_mark)
    frame.keys.add(event.value)


def _check_events(text: str, max_depth: int = MAX_YAML_DEPTH) -> None:
    """Refuse what ``SafeLoader`` would accept but a profile must not contain.

    Anchors and aliases (they allow exponential expansion), merge keys, duplicate keys
    (YAML keeps the last silently), non-string keys and deep nesting are found in the
    event stream, before any object is built.
    """
    stack: list[_Collection] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem("aliases (*name) are not allowed", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise YamlProblem("anchors (&name) are not allowed", event.start_mark)
        is_start = isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent)
        in_mapping = bool(stack) and stack[-1].mapping
        if in_mapping and (is_start or isinstance(event, yaml.ScalarEvent)):
            if stack[-1].expect_key:
                _check_key(event, stack[-1])
            stack[-1].expect_key = not stack[-1].expect_key
        if is_start:
            if len(stack) >= max_depth:
                raise YamlProblem("the document is nested too deeply", event.start_mark)
            stack.append(_Collection(isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()


def read_yaml(
    data: bytes | str, *, max_bytes: int = MAX_PROFILE_BYTES, max_depth: int = MAX_YAML_DEPTH
) -> Any:
    """Parse YAML strictly (size, UTF-8, YAML without the risky parts): profiles, and with
    their own limits scenario files.

    Args:
        data: the file's bytes (a UTF-8 BOM is accepted) or text.
        max_bytes: the largest document accepted.
        max_depth: the deepest nesting of mappings and lists accepted.

    Returns:
        The parsed document (``None`` for an empty one).

    Raises:
        YamlProblem: the text is too large, not UTF-8, malformed or uses a refused construct.
    """
    if len(data) > max_bytes:
        raise YamlProblem(f"the file is larger than {max_bytes // 1024} KiB")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlProblem(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    else:
        text = data
    try:
        _check_events(text, max_depth)
        return yaml.load(text, Loader=_LOADER)  # a safe loader, see _LOADER
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise YamlProblem(f"YAML syntax error{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML error: {str(exc)[:200]}") from None


# ----------------------------------------------------------------------------- errors


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation, without ``Annotated`` and ``None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [] if annotation is type(None) else [annotation]


def _model_tag(model: type[BaseModel]) -> tuple[Any, ...]:
    scheme = model.model_fields.get("scheme")
    return typing.get_args(scheme.annotation) if scheme is not None else ()


def _walk(loc: Sequence[str | int]) -> tuple[str, type[BaseModel] | None]:
    """Turn a pydantic error location into a key path, dropping union tags.

    Returns:
        The path (``sims[1].auth.k``) and the model whose keys the last element names.
    """
    current: list[Any] = [Profile]
    owner: type[BaseModel] | None = None
    path = ""
    for part in loc:
        if isinstance(part, int):
            items: list[Any] = []
            for option in current:
                if typing.get_origin(option) in (tuple, list):
                    items.extend(_unwrap(typing.get_args(option)[0]))
            current = items
            path += f"[{part}]"
            continue
        models = [m for m in current if isinstance(m, type) and issubclass(m, BaseModel)]
        tagged = [m for m in models if part in _model_tag(m)] if len(models) > 1 else []
        if tagged:  # a discriminated union's tag: not a key of the file
            current = tagged
            continue
        owner = models[0] if len(models) == 1 else None
        info = owner.model_fields.get(part) if owner is not None else None
        current = _unwrap(info.annotation) if info is not None else []
        path = f"{path}.{part}" if path else part
    return path, owner


def describe_kind(value: Any) -> str:
    """Name the kind of a parsed YAML value for messages ("a number"), never the value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "string_type":
        text = f"expected a string, got {describe_kind(value)}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            text += " (quote it: unquoted digits are read as a number and lose leading zeros)"
        return text
    if kind in ("int_type", "int_parsing"):
        return f"expected a whole number, got {describe_kind(value)}"
    if kind == "bool_type":
        return f"expected true or false, got {describe_kind(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {describe_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {describe_kind(value)}"
    if kind == "union_tag_invalid":
        return f"unknown scheme {str(ctx.get('tag'))[:40]!r} (expected {ctx.get('expected_tags')})"
    if kind == "greater_than_equal":
        return f"expected a number of at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"expected a number of at most {ctx.get('le')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


_MOVED = {
    (Device, "imei"): "IMEIs are per slot: give each SIM its own sims[].imei",
    (Profile, "imei"): "IMEIs are per slot: give each SIM its own sims[].imei",
    (Sim, "k"): "keys belong under auth: {scheme: aka, k: ..., opc: ...}",
}
"""Keys that older drafts of the schema had elsewhere, with where they went."""


def _suggest(key: str, owner: type[BaseModel] | None) -> str | None:
    if owner is None:
        return None
    names = list(owner.model_fields)
    lowered = {name.lower(): name for name in names}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    return close[0] if close else None


def issues_from_validation(exc: ValidationError, file: str) -> list[ProfileIssue]:
    """Turn pydantic's errors for a :class:`Profile` into issues with file key paths.

    Unknown keys get the closest valid key (or where a moved key went); a typo's intended
    key, reported by pydantic as missing too, is reported once, as the typo.
    """
    issues: list[ProfileIssue] = []
    suggested: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        ctx = error.get("ctx") or {}
        if error["type"] == "profile_consistency":
            issues.extend(ProfileIssue(file, p, m) for p, m in ctx.get("issues", ()))
            continue
        path, owner = _walk(loc)
        message = _message(error)
        if error["type"] == "union_tag_not_found":
            path, message = f"{path}.scheme", "required key is missing (aka or digest)"
        elif error["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            guess = _suggest(loc[-1], owner)
            message = "unknown key"
            moved = _MOVED.get((owner, loc[-1])) if owner is not None else None
            if moved is not None:
                message += f" ({moved})"
            elif guess is not None:
                message += f" (did you mean {guess!r}?)"
                suggested.add(path.rpartition(".")[0] + "." + guess if "." in path else guess)
        issues.append(ProfileIssue(file, path, message))
    # A typo also makes the intended key "missing": report it once, as the typo.
    return [
        issue
        for issue in issues
        if not (issue.message == "required key is missing" and issue.path in suggested)
    ]


def profile_warnings(profile: Profile, file: str) -> list[ProfileIssue]:
    """Warnings for a valid profile: unset ``env:`` variables, operator names that do not
    match the MCC/MNC."""
    warnings = [
        ProfileIssue(
            file,
            path,
            f"environment variable {secret.env} is not set (needed to use this profile)",
            "warning",
        )
        for path, secret in iter_secrets(profile)
        if not secret.is_resolved
    ]
    for index, sim in enumerate(profile.sims):
        known = sim.known_operator
        names = {known.code.lower(), known.name.lower(), known.name_zh} if known else set()
        if known is not None and sim.operator.name.lower() not in names:
            warnings.append(
                ProfileIssue(
                    file,
                    f"sims[{index}].operator.name",
                    f"{sim.operator.mcc}-{sim.operator.mnc} belongs to {known.name}",
                    "warning",
                )
            )
    return warnings
