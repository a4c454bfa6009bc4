"""Typed, path-aware access to chatbot JSON payloads: the shared reader of ``protocol.up``.

Every UP JSON document a chatbot sends (botmessage, botsuggestion, bot info, shared client
data, suggestion responses; GSMA RCC.07 chatbot schemas, see formats.md §1-§6) is read
through this module, so that all of them share one policy:

- **Refuse before parsing**: documents over :data:`~rcs_terminal.protocol.limits.MAX_JSON`
  bytes, invalid UTF-8, ``NaN``/``Infinity``, lone UTF-16 surrogates and nesting deeper than
  :data:`MAX_DEPTH` raise :class:`~rcs_terminal.errors.PayloadParseError`.
- **Strict on structure**: a wrong type or a missing required member raises
  ``PayloadParseError`` whose ``where`` is a JSON path such as
  ``$.message.generalPurposeCardCarousel.content[2].media`` (for a missing member, the path
  of the object that lacks it; for a wrong type, the path of the value itself).
- **Lenient on noise**: unknown keys, placeholder keys like ``"[...]"``, ``null`` for
  optional members, numbers sent as strings and enum values in the wrong case are accepted
  and recorded as :class:`PayloadWarning` entries, which the models expose so that the
  linter can report them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol import limits

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays accepted (a carousel with actions needs about 12;
each persistent-menu level adds 3)."""

# Warning codes (stable strings: the linter and the tests match on them).
UNKNOWN_KEY = "unknown-key"
PLACEHOLDER_KEY = "placeholder-key"
NULL_VALUE = "null-value"
MISSING_FIELD = "missing-field"
ENUM_CASE = "enum-case"
VARIANT_SPELLING = "variant-spelling"
VALUE_AS_STRING = "value-as-string"
COORDINATES_SWAPPED = "coordinates-swapped"

JsonInput = bytes | bytearray | str | Mapping[str, Any]
"""What the ``parse_*`` functions accept: the raw body, its text, or an already-decoded
JSON object."""

E = TypeVar("E", bound=Enum)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_PLACEHOLDER = re.compile(r"\[.*\]\Z|.*\.\.\.|.*…", re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_UTF8_BOM = b"\xef\xbb\xbf"
_INTEGER_TEXT = re.compile(r"\s*-?[0-9]{1,30}\s*\Z")
_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*\Z")


@dataclass(frozen=True, slots=True)
class PayloadWarning:
    """Something tolerated while parsing a payload, for the linter to report.

    Attributes:
        path: JSON path of the offending member, e.g. ``$.message.generalPurposeCard``.
        code: a stable code such as ``"unknown-key"`` or ``"coordinates-swapped"``.
        message: a sentence for humans.
    """

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Context:
    """Collects the warnings of one parse."""

    __slots__ = ("warnings",)

    def __init__(self) -> None:
        self.warnings: list[PayloadWarning] = []

    def warn(self, path: str, code: str, message: str) -> None:
        """Record a tolerated irregularity at ``path``."""
        self.warnings.append(PayloadWarning(path, code, message))


# --------------------------------------------------------------------------- loading


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_object(data: JsonInput) -> Mapping[str, Any]:
    """Decode one JSON document that must be an object, applying the size/depth limits.

    Args:
        data: the body as bytes (UTF-8, an optional BOM is skipped), as text, or an object
            that was decoded already (then only the depth and string checks run).

    Returns:
        The top-level object.

    Raises:
        PayloadParseError: on oversized, undecodable or malformed input, or when the
            document is not an object.
    """
    check_surrogates = True
    if isinstance(data, Mapping):
        doc: Any = data
    else:
        if isinstance(data, str):
            size = len(data)
            if limits.MAX_JSON // 4 < size <= limits.MAX_JSON:  # may still exceed once encoded
                size = len(data.encode("utf-8", "surrogatepass"))
            if size > limits.MAX_JSON:
                raise PayloadParseError(f"document exceeds the limit of {limits.MAX_JSON} bytes")
            text = data
            check_surrogates = _SURROGATE.search(text) is not None
        elif isinstance(data, bytes | bytearray):
            if len(data) > limits.MAX_JSON:
                raise PayloadParseError(
                    f"document of {len(data)} bytes exceeds the limit of {limits.MAX_JSON}"
                )
            offset = 3 if data.startswith(_UTF8_BOM) else 0
            try:
                text = (data[offset:] if offset else data).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PayloadParseError("not valid UTF-8", where=exc.start + offset) from None
            check_surrogates = False
        else:
            raise PayloadParseError(
                f"expected JSON bytes, text or object, got {type(data).__name__}"
            )
        check_surrogates = check_surrogates or _ESCAPED_SURROGATE.search(text) is not None
        try:
            doc = json.loads(text, strict=False, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise PayloadParseError(
                f"not valid JSON: {exc.msg}", where=f"line {exc.lineno}, column {exc.colno}"
            ) from None
        except RecursionError:
            raise PayloadParseError(f"nesting deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # NaN/Infinity, integers with too many digits
            raise PayloadParseError(f"not valid JSON: {exc}") from None
    if not isinstance(doc, Mapping):
        raise PayloadParseError(f"expected a JSON object, found {type_name(doc)}", where="$")
    _check_tree(doc, check_surrogates)
    return doc


def _check_tree(doc: Mapping[str, Any], check_surrogates: bool) -> None:
    """Refuse too deep nesting (also catches cycles in caller-built objects), non-string
    keys, and, when asked, strings holding lone surrogates."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PayloadParseError(f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, Mapping):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise PayloadParseError(f"object key {key!r} is not a string")
                if check_surrogates and _SURROGATE.search(key):
                    raise PayloadParseError("object key holds a lone UTF-16 surrogate")
                if isinstance(value, Mapping | list | tuple):
                    stack.append((value, depth + 1))
                elif check_surrogates and isinstance(value, str) and _SURROGATE.search(value):
                    raise PayloadParseError("string holds a lone UTF-16 surrogate")
        else:
            for value in node:
                if isinstance(value, Mapping | list | tuple):
                    stack.append((value, depth + 1))
                elif check_surrogates and isinstance(value, str) and _SURROGATE.search(value):
                    raise PayloadParseError("string holds a lone UTF-16 surrogate")


def dump_json(value: Mapping[str, Any]) -> bytes:
    """Serialise a payload compactly as UTF-8 (the canonical wire form of the models)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- paths and types


def child_path(path: str, key: str) -> str:
    """Return the JSON path of member ``key`` of the object at ``path``."""
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def type_name(value: Any) -> str:
    """Name a decoded JSON value's type the way JSON does."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def as_object(value: Any, path: str, ctx: Context) -> JsonObject:
    """Wrap ``value`` as an object at ``path``, or raise if it is not one."""
    if not isinstance(value, Mapping):
        raise PayloadParseError(f"expected an object, found {type_name(value)}", where=path)
    return JsonObject(value, path, ctx)


def parse_enum(value: Any, path: str, ctx: Context, cls: type[E]) -> E:
    """Read an enum value, matching case-insensitively (a warning notes the wrong case)."""
    if not isinstance(value, str):
        raise PayloadParseError(f"expected a string, found {type_name(value)}", where=path)
    try:
        return cls(value)
    except ValueError:
        pass
    folded = value.strip().casefold()
    for member in cls:
        if str(member.value).casefold() == folded:
            ctx.warn(path, ENUM_CASE, f"{value!r} accepted as {member.value!r}")
            return member
    allowed = ", ".join(str(m.value) for m in cls)
    raise PayloadParseError(f"unknown value {value!r} (expected one of {allowed})", where=path)


def is_placeholder_key(key: str) -> bool:
    """True for keys like ``"[...]"`` that sample payloads leave in by mistake."""
    return _PLACEHOLDER.match(key) is not None


# --------------------------------------------------------------------------- object access


class JsonObject:
    """A JSON object with its path, offering typed member access.

    Optional members that are absent or ``null`` read as ``None`` (``null`` is noted as a
    warning); required members that are absent raise with the object's path; values of the
    wrong type raise with the member's path.
    """

    __slots__ = ("ctx", "data", "path")

    def __init__(self, data: Mapping[str, Any], path: str, ctx: Context) -> None:
        self.data = data
        self.path = path
        self.ctx = ctx

    def __contains__(self, key: str) -> bool:
        return self.data.get(key) is not None

    def present_keys(self) -> Iterator[str]:
        """The keys present with a non-null value, in document order."""
        return (k for k, v in self.data.items() if v is not None)

    def at(self, key: str) -> str:
        """The JSON path of member ``key``."""
        return child_path(self.path, key)

    def error(self, message: str, key: str | None = None) -> PayloadParseError:
        """Build (not raise) a ``PayloadParseError`` at this object or at member ``key``."""
        return PayloadParseError(message, where=self.path if key is None else self.at(key))

    def get(self, key: str) -> Any:
        """The raw member value, ``None`` when absent or ``null`` (warning for ``null``)."""
        value = self.data.get(key)
        if value is None and key in self.data:
            self.ctx.warn(self.at(key), NULL_VALUE, f"{key!r} is null; treated as absent")
        return value

    def require(self, key: str) -> Any:
        """The raw member value; raise when absent or ``null``."""
        value = self.data.get(key)
        if value is None:
            raise self.error(f"missing required member {key!r}")
        return value

    def text(self, key: str) -> str | None:
        """An optional string member."""
        value = self.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.error(f"expected a string, found {type_name(value)}", key)

    def require_text(self, key: str) -> str:
        """A required string member."""
        value = self.require(key)
        if isinstance(value, str):
            return value
        raise self.error(f"expected a string, found {type_name(value)}", key)

    def integer(self, key: str) -> int | None:
        """An optional integer member; a string of digits is accepted with a warning."""
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER_TEXT.match(value):
            self.ctx.warn(self.at(key), VALUE_AS_STRING, f"{key!r} given as a string")
            return int(value)
        raise self.error(f"expected an integer, found {type_name(value)}", key)

    def number(self, key: str) -> float | None:
        """An optional finite number member; a numeric string is accepted with a warning."""
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            if not _NUMBER_TEXT.match(value) or len(value) > 64:
                raise self.error(f"expected a number, found string {value!r}", key)
            result = float(value)
            self.ctx.warn(self.at(key), VALUE_AS_STRING, f"{key!r} given as a string")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            try:
                result = float(value)
            except OverflowError:
                raise self.error("number out of range", key) from None
        else:
            raise self.error(f"expected a number, found {type_name(value)}", key)
        if not math.isfinite(result):
            raise self.error("number out of range", key)
        return result

    def boolean(self, key: str) -> bool | None:
        """An optional boolean member; ``"true"``/``"false"`` strings accepted with a warning."""
        value = self.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            self.ctx.warn(self.at(key), VALUE_AS_STRING, f"{key!r} given as a string")
            return value.strip().lower() == "true"
        raise self.error(f"expected a boolean, found {type_name(value)}", key)

    def obj(self, key: str) -> JsonObject | None:
        """An optional object member."""
        value = self.get(key)
        return None if value is None else as_object(value, self.at(key), self.ctx)

    def require_obj(self, key: str) -> JsonObject:
        """A required object member."""
        return as_object(self.require(key), self.at(key), self.ctx)

    def array(self, key: str, *, required: bool = False) -> list[tuple[Any, str]]:
        """An array member as ``(value, path)`` pairs; absent reads as empty unless required."""
        value = self.require(key) if required else self.get(key)
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise self.error(f"expected an array, found {type_name(value)}", key)
        base = self.at(key)
        return [(item, f"{base}[{i}]") for i, item in enumerate(value)]

    def enum(self, key: str, cls: type[E]) -> E | None:
        """An optional enum member (see :func:`parse_enum`)."""
        value = self.get(key)
        return None if value is None else parse_enum(value, self.at(key), self.ctx, cls)

    def check_keys(self, known: Collection[str]) -> None:
        """Warn about every member not in ``known`` (placeholders get their own code)."""
        for key in self.data:
            if key in known:
                continue
            if is_placeholder_key(key):
                self.ctx.warn(self.at(key), PLACEHOLDER_KEY, f"placeholder key {key!r} ignored")
            else:
                self.ctx.warn(self.at(key), UNKNOWN_KEY, f"unknown key {key!r} ignored")


def put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``target[key]`` unless ``value`` is ``None`` (the builders omit absent members)."""
    if value is not None:
        target[key] = value
