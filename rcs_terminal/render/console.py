"""The console the ``render`` command draws on, and the command's whole job.

``rcs-terminal render FILE`` opens a payload file (:func:`~.payload.open_payload`), refuses
it with the parser's own error when any part of it is unreadable, and prints
:func:`~.message.render_payload`'s drawing on a Rich console:

- ``plain``: no colour system and no terminal features (no escape sequence at all), text
  labels instead of emoji icons; for logs and diffs;
- ``width``: the drawing's width; by default the terminal's, or 80 columns when the output
  is not a terminal (so that piped output does not depend on the environment);
- ``svg``: the same drawing recorded and saved as an SVG image (Rich's ``save_svg``).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from rich.console import Console

from rcs_terminal.render.layout import RenderOptions
from rcs_terminal.render.message import render_payload
from rcs_terminal.render.payload import open_payload

DEFAULT_WIDTH = 80
"""Width of the drawing when the output is not a terminal and none is asked for."""


def make_console(
    *,
    width: int | None = None,
    plain: bool = False,
    record: bool = False,
    file: IO[str] | None = None,
) -> Console:
    """A console for payload drawings.

    Args:
        width: columns; default the terminal's, or :data:`DEFAULT_WIDTH` off a terminal.
        plain: no colours, no escape sequences.
        record: keep what is printed (for SVG export).
        file: where to print (default standard output).
    """
    console = Console(
        file=file,
        width=width,
        record=record,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        color_system=None if plain else "auto",
        force_terminal=False if plain else None,
        no_color=True if plain else None,
    )
    if width is None and not console.is_terminal:
        console.width = DEFAULT_WIDTH
    return console


def render_file(
    path: str | Path,
    *,
    width: int | None = None,
    plain: bool = False,
    full: bool = False,
    content_type: str | None = None,
    svg: str | Path | None = None,
    file: IO[str] | None = None,
) -> None:
    """Draw the payload in ``path`` (the ``render`` command).

    Raises:
        ParseError: (a subclass) when the file, or any part of it, cannot be read as a
            payload; nothing is printed then.
        OSError: when the file cannot be read or the SVG cannot be written.
    """
    data = Path(path).read_bytes()
    payload = open_payload(data, content_type)
    error = payload.first_error()
    if error is not None:
        raise error
    console = make_console(width=width, plain=plain, record=svg is not None, file=file)
    console.print(render_payload(payload, RenderOptions(plain=plain, full=full)))
    if svg is not None:
        console.save_svg(str(svg), title=f"rcs-terminal render {Path(path).name}")
