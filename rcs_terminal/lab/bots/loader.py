"""Reading bot scripts: strict YAML in, a :class:`~.model.BotScript` or a clear error out.

A bot file is read more strictly than ``yaml.safe_load`` reads: anchors, aliases and merge
keys are refused (they allow "billion laughs" expansion and make scripts hard to read),
and so are duplicate keys (YAML silently keeps the last one), non-string keys, deep nesting
and files over :data:`MAX_BOT_BYTES`. Validation errors become one
:class:`~rcs_terminal.errors.BotScriptError` whose message lists every problem as
``<file>: <key path>: <what is wrong>``, e.g. ``demo.yaml: rules[3].reply.card.chips[0].text:
at most 25 characters``, with the closest valid key for a typo.

The built-in bots are the ``*.yaml`` files of this package (:func:`builtin_bot_files`). A
tester adds bots without touching the package by dropping scripts in ``<rcs-terminal
home>/bots/`` (:func:`user_bot_dir`); a user script named like a built-in one replaces it.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from rcs_terminal import paths
from rcs_terminal.domain.profile_check import describe_kind
from rcs_terminal.errors import BotScriptError
from rcs_terminal.lab.bots import model

__all__ = [
    "MAX_BOT_BYTES",
    "builtin_bot_files",
    "default_bot_files",
    "load_bot",
    "load_bot_data",
    "load_bots",
    "user_bot_dir",
]

MAX_BOT_BYTES = 256 * 1024
"""Largest bot file accepted (the demo bot, the largest built-in one, is about 20 KB)."""
MAX_DEPTH = 16
"""Deepest nesting of mappings and lists accepted (a carousel chip's action needs 11)."""

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER: Any = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


class _YamlRefused(Exception):
    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        self.message = where + message


def _check_events(text: str) -> None:
    """Refuse aliases, anchors, merge/duplicate/non-string keys and deep nesting."""
    stack: list[tuple[bool, set[str]]] = []  # (is a mapping, keys seen)
    expect_key: list[bool] = []
    for event in yaml.parse(text, Loader=_LOADER):
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _YamlRefused("anchors and aliases (&name, *name) are not allowed", mark)
        opens = isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent)
        if stack and stack[-1][0] and (opens or isinstance(event, yaml.ScalarEvent)):
            if expect_key[-1]:
                if not isinstance(event, yaml.ScalarEvent):
                    raise _YamlRefused("keys must be strings, not lists or mappings", mark)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag != _STR_TAG:
                    raise _YamlRefused("keys must be strings (quote yes/no/on/off, numbers)", mark)
                if event.value in stack[-1][1]:
                    raise _YamlRefused(f"duplicate key {event.value[:40]!r}", mark)
                stack[-1][1].add(event.value)
            expect_key[-1] = not expect_key[-1]
        if opens:
            if len(stack) >= MAX_DEPTH:
                raise _YamlRefused("the document is nested too deeply", mark)
            stack.append((isinstance(event, yaml.MappingStartEvent), set()))
            expect_key.append(True)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            expect_key.pop()


def _read_yaml(data: bytes, file: str) -> Any:
    if len(data) > MAX_BOT_BYTES:
        raise BotScriptError(f"{file}: larger than {MAX_BOT_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BotScriptError(f"{file}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        _check_events(text)
        return yaml.load(text, Loader=_LOADER)  # a safe loader, see _LOADER
    except _YamlRefused as exc:
        raise BotScriptError(f"{file}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise BotScriptError(f"{file}: {where}YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise BotScriptError(f"{file}: YAML error: {str(exc)[:200]}") from None


# --------------------------------------------------------------------------- errors


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    """Every model class an annotation may hold (through unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_of(arg))
    return found


def _is_mapping(annotation: Any) -> bool:
    if typing.get_origin(annotation) is dict:
        return True
    return any(_is_mapping(arg) for arg in typing.get_args(annotation))


def _key_path(loc: Sequence[str | int]) -> tuple[str, type[BaseModel] | None]:
    """A pydantic location as a key path (``rules[0].reply.card``), without union tags; and
    the model whose keys its last element names."""
    path = ""
    owner: type[BaseModel] | None = None
    current: list[type[BaseModel]] = [model.BotScript]
    mapping_key = False
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        if part.startswith("<"):  # a ReplyRef tag, not a key of the file
            continue
        path = f"{path}.{part}" if path else part
        if mapping_key:  # a key of a mapping such as replies: the models stay
            mapping_key = False
            continue
        owner = current[0] if current else None
        field = owner.model_fields.get(part) if owner is not None else None
        current = _models_of(field.annotation) if field is not None else []
        mapping_key = field is not None and _is_mapping(field.annotation)
    return path, owner


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "string_type":
        return f"expected a string, got {describe_kind(value)}"
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} character(s)"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return f"does not match {ctx.get('pattern')}"
    if kind in ("too_short", "too_long"):
        field_type = "list" if isinstance(value, list) else "mapping"
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"this {field_type} takes {'at least' if kind == 'too_short' else 'at most'} {bound}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing"):
        return f"expected a number, got {describe_kind(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {describe_kind(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {describe_kind(value)}"
    if kind == "list_type":
        return f"expected a list, got {describe_kind(value)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        return f"expected a number {'>=' if kind == 'greater_than_equal' else '<='} {bound}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _problems(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        path, owner = _key_path(error["loc"])
        message = _message(error)
        if error["type"] == "extra_forbidden" and owner is not None:
            key = str(error["loc"][-1])
            close = difflib.get_close_matches(key, list(owner.model_fields), n=1, cutoff=0.6)
            message = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
        problems.append(f"{path}: {message}" if path else message)
    return problems


# --------------------------------------------------------------------------- loading


def load_bot_data(data: bytes, *, file: str = "<bot>") -> model.BotScript:
    """Read and validate one bot script.

    Args:
        data: the file's bytes.
        file: how to name the file in messages.

    Raises:
        BotScriptError: the file is not acceptable YAML or not a valid bot script; the
            message lists every problem with its key path.
    """
    raw = _read_yaml(data, file)
    if not isinstance(raw, dict):
        raise BotScriptError(
            f"{file}: expected a mapping of keys at the top, got {describe_kind(raw)}"
        )
    try:
        script = model.BotScript.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc)
        shown = "\n  ".join(f"{file}: {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BotScriptError(
            f"{file}: {len(problems)} problem(s) in the bot script:\n  {shown}{more}",
            hint="See rcs_terminal/lab/bots/model.py for the keys a bot script takes.",
        ) from None
    stem = Path(file).stem
    if file != "<bot>" and stem != script.id:
        raise BotScriptError(f"{file}: id: {script.id!r} differs from the file name {stem!r}")
    return script


def load_bot(path: str | Path | Traversable) -> model.BotScript:
    """Read and validate the bot script at ``path``.

    Raises:
        BotScriptError: the file cannot be read or is not a valid bot script.
    """
    name = path.name if isinstance(path, Path | Traversable) else Path(path).name
    source = Path(path) if isinstance(path, str) else path
    try:
        with source.open("rb") as stream:
            data = stream.read(MAX_BOT_BYTES + 1)
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else "cannot be read"
        raise BotScriptError(f"{name}: {reason}") from None
    return load_bot_data(data, file=name)


def builtin_bot_files() -> list[Traversable]:
    """The built-in bot scripts (this package's ``*.yaml``), sorted by name."""
    folder = resources.files("rcs_terminal.lab.bots")
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".yaml") and entry.is_file()),
        key=lambda entry: entry.name,
    )


def user_bot_dir() -> Path:
    """Where a tester's own bot scripts go: ``<rcs-terminal home>/bots``."""
    return paths.home() / "bots"


def default_bot_files() -> list[Traversable]:
    """The built-in scripts, then the user's (which replace built-in ones of the same name)."""
    chosen: dict[str, Traversable] = {entry.name: entry for entry in builtin_bot_files()}
    folder = user_bot_dir()
    if folder.is_dir():
        for entry in sorted(folder.glob("*.yaml")):
            if entry.is_file():
                chosen[entry.name] = entry
    return list(chosen.values())


def load_bots(files: Iterable[str | Path | Traversable] | None = None) -> list[model.BotScript]:
    """Load bot scripts (by default :func:`default_bot_files`); ids must be unique.

    Raises:
        BotScriptError: a script is invalid, or two scripts share an id.
    """
    scripts: list[model.BotScript] = []
    seen: dict[str, str] = {}
    for path in default_bot_files() if files is None else files:
        script = load_bot(path)
        name = path.name if not isinstance(path, str) else Path(path).name
        if script.id in seen:
            raise BotScriptError(f"{name}: id {script.id!r} is already used by {seen[script.id]}")
        seen[script.id] = name
        scripts.append(script)
    return scripts
