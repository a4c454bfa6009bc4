"""Secrets in device profiles: SIM keys, passwords and tokens that must never leak.

A profile names a secret either inline (hex keys and passwords of the bundled lab, which are
not secret at all) or as an ``env:NAME`` reference to an environment variable, resolved when
the profile is loaded (keys of real operators' SIMs). A :class:`Secret` keeps the value out of
every textual form: ``repr()``, ``str()``, pydantic dumps and JSON all give ``***`` (or the
``env:NAME`` reference), so a profile can be printed, logged or put in a trace without care.
The value is read only through :meth:`Secret.reveal` by the code that computes a digest or
runs Milenage.

:class:`Key128` is the 128-bit variant for Milenage's K, OP and OPc (3GPP TS 35.206 §2.3):
exactly 32 hex digits, checked whether inline or read from the environment.

Validation takes its environment from the pydantic validation context (``environ``, a
mapping; default ``os.environ``) and, with ``missing_env="keep"``, keeps references to unset
variables unresolved instead of failing, so ``profile validate`` can report them as warnings.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from rcs_terminal.errors import ProfileError

ENV_PREFIX = "env:"
"""Prefix of an environment reference in a profile (``env:SIM1_K``)."""

MASK = "***"
"""What an inline secret looks like in every textual form."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_MAX_SECRET = 1024


class Secret:
    """A secret string from a profile: inline, or an ``env:NAME`` reference.

    Attributes:
        env: the environment variable it comes from, or ``None`` for an inline value.
    """

    __slots__ = ("_value", "env")

    hex_digits: ClassVar[int | None] = None
    """When set, the value must be exactly this many hex digits (see :class:`Key128`)."""

    expected: ClassVar[str] = "a non-empty string or env:NAME"
    """What a valid value looks like, for error messages and the JSON Schema."""

    def __init__(self, value: str | None, *, env: str | None = None) -> None:
        if value is None and env is None:
            raise ValueError("a Secret needs a value or an environment variable name")
        self._value = value
        self.env = env

    # ------------------------------------------------------------------ access

    @property
    def is_resolved(self) -> bool:
        """Whether the value is known (inline, or the variable was set at load time)."""
        return self._value is not None

    def reveal(self) -> str:
        """Return the secret value; only for the code that uses it (digest, Milenage).

        Raises:
            ProfileError: the secret is an ``env:`` reference that was not resolved (the
                profile was loaded with ``resolve_env=False`` and the variable was unset).
        """
        if self._value is None:
            raise ProfileError(
                f"The secret {ENV_PREFIX}{self.env} has no value: the environment variable "
                f"{self.env} was not set when the profile was loaded.",
                hint=f"Set {self.env} and load the profile again.",
            )
        return self._value

    def reveal_bytes(self) -> bytes:
        """Return a hex secret as bytes (a Milenage key); see :meth:`reveal`."""
        return bytes.fromhex(self.reveal())

    @property
    def masked(self) -> str:
        """The text shown instead of the value: ``env:NAME`` or ``***``."""
        return f"{ENV_PREFIX}{self.env}" if self.env is not None else MASK

    # ------------------------------------------------------------------ dunder

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        if type(self) is not type(other):
            return False
        if self.env != other.env or (self._value is None) != (other._value is None):
            return False
        if self._value is None or other._value is None:
            return True
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.env))

    # ------------------------------------------------------------------ pydantic

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls._serialize, info_arg=True, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        inline = f"[0-9A-Fa-f]{{{cls.hex_digits}}}" if cls.hex_digits else ".+"
        return {
            "type": "string",
            "pattern": f"^(env:[A-Za-z_][A-Za-z0-9_]*|{inline})$",
            "description": f"Secret: {cls.expected}. Never shown by the tools.",
        }

    @classmethod
    def _validate(cls, value: Any, info: ValidationInfo) -> Secret:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError(
                "secret_type", "expected {expected} (a quoted string)", {"expected": cls.expected}
            )
        if len(value) > _MAX_SECRET:
            raise PydanticCustomError("secret_length", "the secret is too long")
        if value.startswith(ENV_PREFIX):
            return cls._from_env(value[len(ENV_PREFIX) :], info)
        if not cls._acceptable(value):
            raise PydanticCustomError(
                "secret_format", "expected {expected}", {"expected": cls.expected}
            )
        return cls(value)

    @classmethod
    def _from_env(cls, name: str, info: ValidationInfo) -> Secret:
        if not _ENV_NAME.fullmatch(name):
            raise PydanticCustomError(
                "env_name",
                "an env: reference needs a variable name of letters, digits and _ "
                "(e.g. env:SIM1_K)",
            )
        context = info.context if isinstance(info.context, Mapping) else {}
        environ: Mapping[str, str] = context.get("environ") or os.environ
        value = environ.get(name)
        if value is None:
            if context.get("missing_env") == "keep":
                return cls(None, env=name)
            raise PydanticCustomError(
                "env_missing", "environment variable {variable} is not set", {"variable": name}
            )
        value = value.strip()
        if not cls._acceptable(value):
            raise PydanticCustomError(
                "env_format",
                "environment variable {variable} does not hold {expected}",
                {"variable": name, "expected": cls.expected.replace(" or env:NAME", "")},
            )
        return cls(value, env=name)

    @classmethod
    def _acceptable(cls, value: str) -> bool:
        if cls.hex_digits is None:
            return bool(value)
        return len(value) == cls.hex_digits and _HEX.fullmatch(value) is not None

    @staticmethod
    def _serialize(value: Secret, info: Any) -> str:
        context = getattr(info, "context", None)
        reveal = isinstance(context, Mapping) and context.get("reveal_secrets") is True
        if reveal and value.env is None and value._value is not None:
            return value._value
        return value.masked


class Key128(Secret):
    """A 128-bit Milenage key (K, OP or OPc): 32 hex digits, inline or ``env:NAME``."""

    __slots__ = ()

    hex_digits: ClassVar[int | None] = 32
    expected: ClassVar[str] = "32 hex digits or env:NAME"


def iter_secrets(value: Any, path: str = "") -> list[tuple[str, Secret]]:
    """List every :class:`Secret` inside a validated model, with its key path.

    Args:
        value: a pydantic model (or a tuple/list of them, or a plain value).
        path: the key path of ``value`` itself (``""`` for the root).

    Returns:
        ``(path, secret)`` pairs such as ``("sims[0].auth.k", Key128('env:SIM1_K'))``.
    """
    found: list[tuple[str, Secret]] = []
    if isinstance(value, Secret):
        found.append((path, value))
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            found.extend(iter_secrets(item, f"{path}[{index}]"))
    else:
        fields = getattr(type(value), "model_fields", None)
        if isinstance(fields, dict):
            for name in fields:
                child = f"{path}.{name}" if path else name
                found.extend(iter_secrets(getattr(value, name), child))
    return found
