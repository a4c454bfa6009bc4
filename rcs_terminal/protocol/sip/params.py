"""Parameters of SIP header values and URIs: ``;name=value;flag`` (RFC 3261 §7.3.1, §19.1.1).

:class:`Params` is the one parameter container of the SIP layer: Via parameters (``branch``,
``received``, ``rport``), From/To ``tag``, Contact ``expires``/``q`` and RFC 3840 feature
tags, and the uri-parameters of SIP and tel URIs all use it.

It is an immutable, ordered, case-insensitive mapping from parameter name to value (``None``
for a flag such as ``lr`` or ``rport``). It remembers each value exactly as it was written
(its *wire form*, quotes included) so that a quoted feature-tag value stays quoted when the
header is written again, while :meth:`Params.get` hands out the value with its quotes taken
off. Parameters are parsed once, when a typed header view is first asked for, and never
re-scanned after that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import overload

from rcs_terminal.errors import LocalProtocolError, SipParseError
from rcs_terminal.protocol.sip.grammar import TOKEN_CHARS, quote, unquote

__all__ = ["Params", "parse_params"]

_BARE_SAFE = TOKEN_CHARS | frozenset(":[]/")
_NAME_RE = re.compile(r'[^\s;=",]+')
_VALUE_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^\s;,"]*', re.DOTALL)
_SPACE = " \t"


class Params(Mapping[str, str | None]):
    """An ordered, case-insensitive, immutable mapping of SIP parameters.

    Build one from plain values (``Params([("tag", "a1"), ("lr", None)])`` or from a
    ``dict``): a value that is not a token is written as a quoted string. Values read from the
    network keep their wire form (see :meth:`raw`); :meth:`get` and ``params[name]`` return
    them unquoted. A name repeated on the wire is kept for writing, and lookups see its first
    occurrence.

    Args:
        items: ``(name, value)`` pairs or a mapping; ``None`` makes a flag parameter.

    Raises:
        LocalProtocolError: when a name is empty or holds a character that cannot appear in
            a parameter name.
    """

    __slots__ = ("_hash", "_index", "_items")

    _items: tuple[tuple[str, str | None], ...]
    _index: dict[str, int]
    _hash: int | None

    def __init__(
        self, items: Iterable[tuple[str, str | None]] | Mapping[str, str | None] = ()
    ) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        wire: list[tuple[str, str | None]] = []
        for name, value in pairs:
            _check_name(name)
            wire.append((name, None if value is None else _wire_value(value)))
        self._set(tuple(wire))

    def _set(self, items: tuple[tuple[str, str | None], ...]) -> None:
        self._items = items
        index: dict[str, int] = {}
        for position, (name, _) in enumerate(items):
            index.setdefault(name.lower(), position)
        self._index = index
        self._hash = None

    @classmethod
    def from_wire(cls, items: Iterable[tuple[str, str | None]]) -> Params:
        """Build from values already in wire form (quoted strings keep their quotes).

        Args:
            items: ``(name, wire_value)`` pairs, written out exactly as given.
        """
        params = cls.__new__(cls)
        params._set(tuple(items))
        return params

    # ------------------------------------------------------------------ mapping protocol

    def __getitem__(self, name: str) -> str | None:
        raw = self._items[self._index[name.lower()]][1]
        return None if raw is None else unquote(raw)

    @overload  # type: ignore[override]
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the unquoted value of ``name``; ``default`` when it is absent.

        A flag parameter (no ``=value``) is present with value ``None``: use ``in`` to tell
        a flag from an absent parameter.
        """
        position = self._index.get(name.lower())
        if position is None:
            return default
        raw = self._items[position][1]
        return None if raw is None else unquote(raw)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        items = self._items
        return (items[position][0] for position in self._index.values())

    def __len__(self) -> int:
        return len(self._index)

    # ------------------------------------------------------------------ wire form

    def raw(self, name: str) -> str | None:
        """Return the value of ``name`` as written on the wire (quotes kept), or ``None``."""
        position = self._index.get(name.lower())
        return None if position is None else self._items[position][1]

    def wire_items(self) -> tuple[tuple[str, str | None], ...]:
        """All parameters in order, repeated names included, with wire-form values."""
        return self._items

    def with_param(self, name: str, value: str | None, *, quoted: bool | None = None) -> Params:
        """Return a copy with ``name`` set to ``value`` (replacing it in place, or appended).

        Args:
            name: the parameter name.
            value: the plain value, or ``None`` for a flag.
            quoted: force (``True``) or forbid (``False``) quoting; by default a value is
                quoted only when it is not a token.
        """
        _check_name(name)
        if value is None:
            wire: str | None = None
        elif quoted is None:
            wire = _wire_value(value)
        else:
            wire = quote(value) if quoted else value
        key = name.lower()
        items = [item for item in self._items if item[0].lower() != key]
        position = self._index.get(key)
        if position is None:
            items.append((name, wire))
        else:
            items.insert(min(position, len(items)), (name, wire))
        return Params.from_wire(items)

    def without(self, name: str) -> Params:
        """Return a copy without any parameter called ``name``."""
        key = name.lower()
        if key not in self._index:
            return self
        return Params.from_wire(item for item in self._items if item[0].lower() != key)

    def __str__(self) -> str:
        return "".join(f";{name}" if raw is None else f";{name}={raw}" for name, raw in self._items)

    def __repr__(self) -> str:
        return f"Params({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Params):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def _key(self) -> tuple[tuple[str, str | None], ...]:
        return tuple((name.lower(), raw) for name, raw in self._items)


def _check_name(name: str) -> None:
    if not name or _NAME_RE.fullmatch(name) is None or not name.isprintable():
        raise LocalProtocolError(f"invalid SIP parameter name {name!r}")


def _wire_value(value: str) -> str:
    if value and all(char in _BARE_SAFE for char in value):
        return value
    if "\r" in value or "\n" in value:
        raise LocalProtocolError("a SIP parameter value cannot hold CR or LF")
    return quote(value)


def parse_params(text: str, *, where: str = "parameters") -> Params:
    """Parse ``;name=value;flag`` parameters (the leading ``;`` is optional).

    Values may be tokens, hosts (including ``[IPv6]`` references) or quoted strings; linear
    whitespace around ``;`` and ``=`` is allowed, empty ``;;`` segments are skipped.

    Args:
        text: the parameter text.
        where: what is being parsed, for error messages (e.g. ``"Via"``).

    Returns:
        The parameters, values in wire form.

    Raises:
        SipParseError: on an empty name, an unterminated quoted string, or text that is not
            a parameter.
    """
    items: list[tuple[str, str | None]] = []
    pos = 0
    length = len(text)
    while pos < length:
        char = text[pos]
        if char in _SPACE or char == ";":
            pos += 1
            continue
        name_match = _NAME_RE.match(text, pos)
        if name_match is None:
            raise SipParseError(
                f"unexpected {char!r} in parameters", where=f"{where}, column {pos}"
            )
        name = name_match.group()
        pos = name_match.end()
        while pos < length and text[pos] in _SPACE:
            pos += 1
        if pos < length and text[pos] == "=":
            pos += 1
            while pos < length and text[pos] in _SPACE:
                pos += 1
            if pos < length and text[pos] == '"':
                value_match = _VALUE_RE.match(text, pos)
                if value_match is None or value_match.end() == pos:
                    raise SipParseError(
                        "unterminated quoted string", where=f"{where}, column {pos}"
                    )
            else:
                value_match = _VALUE_RE.match(text, pos)
            assert value_match is not None  # the pattern can match the empty string
            items.append((name, value_match.group()))
            pos = value_match.end()
        else:
            items.append((name, None))
        while pos < length and text[pos] in _SPACE:
            pos += 1
        if pos < length and text[pos] != ";":
            raise SipParseError(
                f"unexpected {text[pos]!r} after parameter {name!r}",
                where=f"{where}, column {pos}",
            )
    return Params.from_wire(items)
