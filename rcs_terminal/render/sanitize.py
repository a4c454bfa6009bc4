"""Neutralising text from the network before it reaches a terminal.

Message bodies, card titles and descriptions, chip labels, bot names and URLs come from
peers and chatbots, so they may carry escape sequences (``ESC [ 2 J``, OSC 52 clipboard
writes, OSC 8 hyperlinks), other C0/C1 control characters, or bidirectional overrides that
make text read differently from what it is. None of them may reach the terminal raw.

:func:`sanitize` replaces each such character with a *visible* placeholder, so a tester sees
that the payload contained it (``ESC`` becomes ``␛``, a C1 control becomes ``⟨U+009B⟩``, a
right-to-left override becomes ``⟨U+202E⟩``) instead of having it silently removed. Line feeds
and tabs survive only where the caller allows several lines. The result is plain text: render
it with ``rich.text.Text(...)``, never as Rich markup.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_INVISIBLE_FORMAT = frozenset("\u2028\u2029\ufeff\u00ad\u180e\u2060\u200b")


def _placeholder(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: ␀ ... ␟ (␛ for ESC)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\u27e8U+{code:04X}\u27e9"


def _is_unsafe(ch: str) -> bool:
    code = ord(ch)
    if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
        return True
    if ch in _BIDI_CONTROLS or ch in _INVISIBLE_FORMAT:
        return True
    category = unicodedata.category(ch)
    return category in ("Cs", "Co", "Cn") and code > 0xFFFF and category != "Cn"


def sanitize(text: str, *, multiline: bool = False, max_length: int | None = None) -> str:
    """Return ``text`` with every control character shown as a visible placeholder.

    Args:
        text: untrusted text.
        multiline: keep ``\\n`` and ``\\t`` (message bodies, descriptions); otherwise they
            become spaces (titles, labels, names).
        max_length: cut the result to this many characters (with ``…``).
    """
    if text.isprintable() and (max_length is None or len(text) <= max_length):
        return text  # the common case: nothing to do, no copy
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch if multiline else " ")
        elif ch == "\r":
            if not multiline:
                out.append(" ")
        elif _is_unsafe(ch):
            out.append(_placeholder(ch))
        else:
            out.append(ch)
    result = "".join(out)
    if max_length is not None and len(result) > max_length:
        result = result[: max(0, max_length - 1)] + "\u2026"
    return result


def sanitize_url(url: str, *, max_length: int = 2048) -> str:
    """A URL for display: controls and whitespace made visible, length bounded."""
    return sanitize(url.strip(), multiline=False, max_length=max_length).replace(" ", "%20")


def is_clean(text: str) -> bool:
    """True if ``text`` contains nothing :func:`sanitize` would change (on one line)."""
    return sanitize(text) == text
