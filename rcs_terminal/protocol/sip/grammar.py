"""Lexical rules of SIP shared by the message, header and URI parsers (RFC 3261 §25.1).

This module owns the small pieces of grammar that every SIP parser needs: what a ``token``
is, how a ``quoted-string`` is read and written (§25.1 ``quoted-pair``), how a header value
that holds a comma-separated list is split without breaking quoted strings or ``<URI>``
references (§7.3.1), and percent-escaping (§19.1.2, RFC 3986 §2.1).

Everything here is pure string work on values that have already passed the message-level
checks (UTF-8, no control characters). Functions that read network input raise only
:class:`~rcs_terminal.errors.SipParseError`.
"""

from __future__ import annotations

import re

from rcs_terminal.errors import SipParseError

__all__ = [
    "TOKEN_CHARS",
    "is_token",
    "pct_decode",
    "pct_encode",
    "quote",
    "skip_quoted",
    "split_list",
    "unquote",
]

TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
"""The characters of an RFC 3261 ``token``."""

_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_QUOTED_BODY_RE = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_LIST_SPECIAL_RE = re.compile(r'[,"<]')
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_HEX = "0123456789ABCDEFabcdef"


def is_token(text: str) -> bool:
    """Tell whether ``text`` is a non-empty RFC 3261 ``token``."""
    return _TOKEN_RE.fullmatch(text) is not None


def skip_quoted(text: str, start: int) -> int:
    """Find the end of the quoted string that opens at ``text[start]``.

    Args:
        text: the text holding the quoted string.
        start: the index of the opening double quote.

    Returns:
        The index just past the closing double quote, or ``-1`` when the string is never
        closed.
    """
    match = _QUOTED_BODY_RE.match(text, start + 1)
    end = match.end() if match else start + 1
    if end < len(text) and text[end] == '"':
        return end + 1
    return -1


def unquote(text: str) -> str:
    """Return the content of a ``quoted-string`` (surrounding quotes included in ``text``).

    A value that is not quoted is returned unchanged.
    """
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        if "\\" in inner:
            return _QUOTED_PAIR_RE.sub(r"\1", inner)
        return inner
    return text


def quote(text: str) -> str:
    """Write ``text`` as a ``quoted-string``, escaping backslashes and double quotes."""
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def split_list(value: str) -> list[str]:
    """Split a header value holding a comma-separated list (RFC 3261 §7.3.1).

    Commas inside quoted strings and inside ``<...>`` URI references do not split. Elements
    are stripped of surrounding whitespace and empty elements are dropped. An unterminated
    quote or ``<`` keeps the rest of the value in one element: the typed parser that reads
    the element reports the error.

    Args:
        value: the raw header value.

    Returns:
        The list elements, in order.
    """
    if '"' not in value and "<" not in value:
        parts = value.split(",")
    else:
        parts = []
        start = 0
        pos = 0
        length = len(value)
        while True:
            match = _LIST_SPECIAL_RE.search(value, pos)
            if match is None:
                break
            pos = match.start()
            char = value[pos]
            if char == ",":
                parts.append(value[start:pos])
                start = pos + 1
                pos += 1
            elif char == '"':
                end = skip_quoted(value, pos)
                pos = length if end < 0 else end
            else:
                end = value.find(">", pos)
                pos = length if end < 0 else end + 1
        parts.append(value[start:])
    result = []
    for part in parts:
        stripped = part.strip(" \t")
        if stripped:
            result.append(stripped)
    return result


def pct_decode(text: str, *, where: str, strict: bool = True) -> str:
    """Undo percent-escaping (RFC 3986 §2.1), reading the escaped octets as UTF-8.

    Args:
        text: the escaped text.
        where: what is being decoded, for the error message.
        strict: refuse a ``%`` that is not followed by two hex digits; when ``False`` such a
            ``%`` is kept as it is.

    Raises:
        SipParseError: on a bad escape (when ``strict``) or escaped octets that are not
            UTF-8.
    """
    if "%" not in text:
        return text
    out = bytearray()
    pos = 0
    length = len(text)
    while pos < length:
        found = text.find("%", pos)
        if found < 0:
            out += text[pos:].encode("utf-8")
            break
        out += text[pos:found].encode("utf-8")
        hex_pair = text[found + 1 : found + 3]
        if len(hex_pair) == 2 and hex_pair[0] in _HEX and hex_pair[1] in _HEX:
            out.append(int(hex_pair, 16))
            pos = found + 3
        elif strict:
            raise SipParseError("bad percent-escape", where=f"{where}, character {found}")
        else:
            out.append(0x25)
            pos = found + 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("percent-escaped octets are not UTF-8", where=where) from None


def pct_encode(text: str, safe: frozenset[str]) -> str:
    """Percent-escape every character of ``text`` that is not in ``safe`` (as UTF-8).

    Args:
        text: the text to escape.
        safe: the characters written as they are.

    Returns:
        The escaped text, with upper-case hex digits.
    """
    if all(char in safe for char in text):
        return text
    pieces = []
    for char in text:
        if char in safe:
            pieces.append(char)
        else:
            pieces.extend(f"%{octet:02X}" for octet in char.encode("utf-8", "surrogatepass"))
    return "".join(pieces)
