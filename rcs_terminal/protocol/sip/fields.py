"""The header section of a SIP message as an ordered, case-insensitive multimap (RFC 3261 §7.3).

:class:`Headers` keeps every header field as the raw text the peer sent (stripped of
surrounding whitespace, folded lines joined), in order, under its canonical name: compact
forms are expanded when parsed (``i`` becomes ``Call-ID``, ``m`` becomes ``Contact``), and
lookups ignore case. Nothing is parsed further until a caller asks: :meth:`Headers.get`
returns the first raw value, :meth:`Headers.get_all` splits comma-separated lists for the
headers whose grammar is a list (§7.3.1) and leaves every other header whole.

Each field is stored as ``(key, name, value)`` where ``key`` is the lower-case canonical
name, so a lookup is a scan comparing short strings, with no parsing and no allocation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.sip.grammar import is_token, split_list
from rcs_terminal.protocol.sip.names import LIST_HEADERS, header_key

__all__ = ["Headers"]

_BAD_VALUE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class Headers:
    """Ordered, case-insensitive multimap of SIP header fields with raw string values.

    Args:
        fields: initial ``(name, value)`` pairs, added in order.

    Raises:
        LocalProtocolError: when a name is not a token or a value holds CR, LF or another
            control character (it would corrupt the message when written).
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: list[tuple[str, str, str]] = []
        for name, value in fields:
            self.add(name, value)

    @classmethod
    def _from_parsed(cls, fields: list[tuple[str, str, str]]) -> Headers:
        """Wrap ``(key, name, value)`` triples the message parser has already checked."""
        headers = cls.__new__(cls)
        headers._fields = fields
        return headers

    # ------------------------------------------------------------------ reading

    def get(self, name: str) -> str | None:
        """Return the raw value of the first ``name`` field, or ``None``."""
        key = header_key(name)[0]
        for field_key, _, value in self._fields:
            if field_key == key:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        """Return every value of ``name``, in order.

        For a header whose grammar is a comma-separated list (Via, Contact, Route,
        Record-Route, Path, Service-Route, P-Associated-URI, Accept-Contact, Supported,
        Require, Allow...), each field is split on commas outside quoted strings and
        ``<...>``; other headers (WWW-Authenticate, Authorization, Date...) are returned one
        value per field.
        """
        key = header_key(name)[0]
        values = [value for field_key, _, value in self._fields if field_key == key]
        if key not in LIST_HEADERS:
            return values
        result: list[str] = []
        for value in values:
            if "," in value:
                result.extend(split_list(value))
            elif value:
                result.append(value)
        return result

    def raw_values(self, name: str) -> list[str]:
        """Return the raw value of every ``name`` field, never split."""
        key = header_key(name)[0]
        return [value for field_key, _, value in self._fields if field_key == key]

    def raw_key(self, name: str) -> tuple[str, ...]:
        """The raw values of ``name`` as a tuple: a cheap, hashable memo key."""
        key = header_key(name)[0]
        return tuple(value for field_key, _, value in self._fields if field_key == key)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = header_key(name)[0]
        return any(field_key == key for field_key, _, _ in self._fields)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Yield ``(name, value)`` for every field, in order."""
        return ((name, value) for _, name, value in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    # ------------------------------------------------------------------ writing

    def add(self, name: str, value: str) -> None:
        """Append a field (compact names are expanded to the canonical name)."""
        key, canonical = header_key(name)
        self._fields.append((key, canonical, _checked(name, value)))

    def set(self, name: str, value: str) -> None:
        """Replace every ``name`` field by one with ``value``, where the first one was (or
        at the end when there was none)."""
        key, canonical = header_key(name)
        value = _checked(name, value)
        fields = self._fields
        for position, field in enumerate(fields):
            if field[0] == key:
                fields[position] = (key, canonical, value)
                self._fields = fields[: position + 1] + [
                    item for item in fields[position + 1 :] if item[0] != key
                ]
                return
        fields.append((key, canonical, value))

    def remove(self, name: str) -> None:
        """Remove every ``name`` field (nothing happens when there is none)."""
        key = header_key(name)[0]
        self._fields = [field for field in self._fields if field[0] != key]

    def copy(self) -> Headers:
        """Return an independent copy."""
        return Headers._from_parsed(list(self._fields))

    # ------------------------------------------------------------------ dunder

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(key, value) for key, _, value in self._fields] == [
            (key, value) for key, _, value in other._fields
        ]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Headers({[(name, value) for _, name, value in self._fields]!r})"


def _checked(name: str, value: str) -> str:
    if not is_token(name):
        raise LocalProtocolError(f"header name {name!r} is not a token")
    if _BAD_VALUE_RE.search(value) is not None:
        raise LocalProtocolError(f"header {name} value holds a control character")
    return value.strip(" \t")
