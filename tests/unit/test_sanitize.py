from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.render.sanitize import is_clean, sanitize, sanitize_url

ESC = "\x1b"


def test_escape_sequences_become_visible() -> None:
    hostile = f"{ESC}[2J{ESC}]52;c;aGk={chr(7)}Buy now{chr(0x9b)}31m"
    out = sanitize(hostile)
    assert ESC not in out and "\x07" not in out and "\x9b" not in out
    assert out.startswith("\u241b[2J\u241b]52;c;aGk=\u2407Buy now\u27e8U+009B\u27e931m")


def test_bidi_override_is_shown() -> None:
    assert sanitize("invoice\u202egnp.exe") == "invoice\u27e8U+202E\u27e9gnp.exe"


def test_newlines_only_where_allowed() -> None:
    assert sanitize("a\nb\tc") == "a b c"
    assert sanitize("a\r\nb\tc", multiline=True) == "a\nb\tc"


def test_cjk_and_emoji_untouched() -> None:
    text = "订单已发货 🚚 预计明天送达"
    assert sanitize(text) is text and is_clean(text)


def test_truncation_and_url() -> None:
    assert sanitize("abcdef", max_length=4) == "abc\u2026"
    assert sanitize_url(" https://a.test/x y\x1b ") == "https://a.test/x%20y\u241b"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    out = sanitize(text, multiline=True)
    for ch in out:
        code = ord(ch)
        assert ch in "\n\t" or not (code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F)
        assert ch not in "\u202e\u202d\u2066\u2067\u2068\u2069"
