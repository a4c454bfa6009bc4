"""Safe file names and content-type guesses for received files (property tests)."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.filetransfer import guess_content_type, safe_file_name

SEPARATORS = st.sampled_from(["/", "\\", "..", ".", " ", "\x00", "\u202e", "CON", "~"])
NAMES = st.one_of(
    st.text(),
    st.lists(st.one_of(st.text(max_size=8), SEPARATORS), max_size=12).map("".join),
)


@given(NAMES, st.one_of(st.none(), st.text(max_size=40)))
def test_safe_names_are_one_harmless_component(name: str, content_type: str | None) -> None:
    safe = safe_file_name(name, content_type)
    assert safe and safe not in (".", "..")
    assert not safe.startswith((".", " ")) and not safe.endswith((".", " "))
    assert "/" not in safe and "\\" not in safe
    assert all(unicodedata.category(ch)[0] != "C" for ch in safe)
    assert len(safe.encode("utf-8")) <= 150
    for flavour in (PurePosixPath, PureWindowsPath):
        assert flavour("files", safe).parent == flavour("files")
    assert safe_file_name(safe, content_type) == safe


def test_names_keep_their_extension_when_shortened() -> None:
    long = "报告" * 100 + ".pdf"
    safe = safe_file_name(long)
    assert safe.endswith(".pdf") and len(safe.encode()) <= 150
    assert safe_file_name(None, "image/png") == "file.png"
    assert safe_file_name("...", "text/plain") == "file.txt"
    assert safe_file_name("lpt1") == "_lpt1"
    assert safe_file_name("照片 2024.jpg") == "照片 2024.jpg"


def test_content_types_come_from_the_name_then_the_first_bytes() -> None:
    assert guess_content_type("a.png") == "image/png"
    assert guess_content_type("noext", b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert guess_content_type(None, b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert guess_content_type("x", b"\x00\x00\x00\x18ftypmp42") == "video/mp4"
    assert guess_content_type(None, b"unknown") == "application/octet-stream"
