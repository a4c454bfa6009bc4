"""Media placeholders, file sizes, and the FT-HTTP file card.

A card's media (formats.md §1) and a file sent by FT-HTTP (formats.md §8) live on a content
server; the emulator does not fetch them to draw a card. They are shown as a framed
placeholder of the height the card asks for, naming the content type, the size and the
content description or file name.

Image previews: a half-block preview (``▀`` with foreground/background colours) needs an
image decoder, and none is installed in this project's environment (no Pillow), so
:func:`media_preview` is the hook where one plugs in: it returns ``None`` today, and
:class:`MediaBox` draws the placeholder whenever it does.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from rich import box
from rich.align import Align
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.text import Text

from rcs_terminal.protocol.up.botmessage import Media
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo
from rcs_terminal.render.layout import (
    DEFAULT_MEDIA_HEIGHT,
    MEDIA_ROWS,
    RenderOptions,
    fit,
    line_text,
)
from rcs_terminal.render.sanitize import sanitize, sanitize_url

MEDIA_STYLE = "on grey11"
MEDIA_BORDER = "grey50"

_KIND_BADGES = {
    "image": ("\U0001f5bc\ufe0f", "[image]"),
    "video": ("\U0001f3ac", "[video]"),
    "audio": ("\U0001f3b5", "[audio]"),
}
_FILE_BADGE = ("\U0001f4c4", "[file]")
_VOICE_BADGE = ("\U0001f3a4", "[voice]")


def human_size(size: int | None) -> str:
    """A byte count as a phone shows it: ``"812 B"``, ``"47.1 KB"``, ``"2 MB"`` (1024-based)."""
    if size is None:
        return "size unknown"
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return f"{text.removesuffix('.0')} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def media_badge(content_type: str, *, plain: bool = False) -> str:
    """Icon (or ``[label]``) for a MIME type's top-level kind."""
    kind = content_type.split("/", 1)[0].strip().lower()
    icon, label = _KIND_BADGES.get(kind, _FILE_BADGE)
    return label if plain else icon


def file_name_of(url: str) -> str:
    """The last path segment of ``url``, percent-decoded and sanitised (may be empty)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = url
    return sanitize(unquote(path.rsplit("/", 1)[-1]))


def media_preview(path: str | Path) -> RenderableType | None:
    """A block-character preview of a local image, or ``None`` when none can be made.

    No image decoder is installed in this project's environment, so this returns ``None``
    and callers draw the placeholder. Plug a decoder in here (and only here).
    """
    return None


class MediaBox:
    """A framed placeholder for a picture, GIF, video or audio clip.

    Args:
        content_type: the MIME type.
        rows: total height in rows, frame included (at least 3).
        size: the size in bytes, when known.
        label: the content description or file name (untrusted; sanitised here).
        opts: rendering options.
        preview: a local file to preview (see :func:`media_preview`).
    """

    def __init__(
        self,
        content_type: str,
        rows: int,
        *,
        size: int | None = None,
        label: str | None = None,
        opts: RenderOptions | None = None,
        preview: str | Path | None = None,
    ) -> None:
        self.content_type = content_type
        self.rows = max(3, rows)
        self.size = size
        self.label = label
        self.opts = opts or RenderOptions()
        self.preview = preview

    @classmethod
    def for_media(cls, media: Media, opts: RenderOptions, *, rows: int | None = None) -> MediaBox:
        """The placeholder of a card's ``media`` object, as tall as its ``height`` says."""
        height_rows = rows if rows is not None else MEDIA_ROWS[media.height or DEFAULT_MEDIA_HEIGHT]
        label = media.content_description or file_name_of(media.url) or None
        return cls(media.content_type, height_rows, size=media.file_size, label=label, opts=opts)

    def _body(self, width: int) -> Text:
        """Up to three centred lines: kind and type, size, label (one line in a SHORT box)."""
        head = Text()
        head.append(media_badge(self.content_type, plain=self.opts.plain))
        head.append(" ")
        head.append(sanitize(self.content_type, max_length=60), style="bold")
        size = human_size(self.size) if self.size is not None else None
        room = self.rows - 2
        if room == 1:
            if size is not None:
                head.append(f" \u00b7 {size}")
            lines = [head]
        else:
            lines = [head]
            if size is not None:
                lines.append(Text(size))
            if self.label and len(lines) < room:
                lines.append(line_text(self.label, "italic"))
        body = Text("\n", justify="center").join(fit(line, width) for line in lines)
        body.justify = "center"
        return body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.preview is not None and not self.opts.plain and console.is_terminal:
            picture = media_preview(self.preview)
            if picture is not None:
                yield picture
                return
        inner = max(1, options.max_width - 2)
        yield Panel(
            Align.center(self._body(inner), vertical="middle"),
            box=box.SQUARE,
            height=self.rows,
            padding=0,
            style=MEDIA_STYLE,
            border_style=MEDIA_BORDER,
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(8, options.max_width)


def _file_line(info: FileInfo, opts: RenderOptions, voice: bool) -> Text:
    line = Text()
    if voice:
        line.append(_VOICE_BADGE[1] if opts.plain else _VOICE_BADGE[0])
    else:
        line.append(media_badge(info.content_type, plain=opts.plain))
    line.append(" ")
    line.append_text(line_text(info.name or "(no file name)", "bold"))
    return line


class FileCard:
    """An FT-HTTP file descriptor: name, type, size, expiry, thumbnail placeholder, link.

    Args:
        info: the parsed descriptor.
        opts: rendering options.
    """

    def __init__(self, info: FileTransferInfo, opts: RenderOptions | None = None) -> None:
        self.info = info
        self.opts = opts or RenderOptions()

    def _parts(self) -> list[RenderableType]:
        info, opts = self.info, self.opts
        file = info.file
        parts: list[RenderableType] = []
        if info.thumbnail is not None:
            thumb = info.thumbnail
            parts.append(
                MediaBox(thumb.content_type, 3, size=thumb.size, label="thumbnail", opts=opts)
            )
        parts.append(_file_line(file, opts, info.is_voice_message))
        facts = Text(sanitize(file.content_type, max_length=80))
        facts.append(f" \u00b7 {human_size(file.size)}")
        if info.playing_length is not None:
            facts.append(f" \u00b7 {info.playing_length / 1000:.1f} s")
        if info.disposition:
            facts.append(f" \u00b7 {sanitize(info.disposition, max_length=20)}")
        parts.append(facts)
        if file.until:
            parts.append(Text(f"expires {sanitize(file.until, max_length=40)}", style="dim"))
        link = sanitize_url(info.branded_url or file.url, max_length=2048 if opts.full else 120)
        parts.append(Text(link, style="dim underline", overflow="fold"))
        return parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Panel(
            Group(*self._parts()),
            box=box.ROUNDED,
            title=Text("file"),
            title_align="left",
            width=min(options.max_width, 56),
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(12, min(options.max_width, 56))
