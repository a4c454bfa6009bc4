"""Lint rules for media: a card's picture or video, and the FT-HTTP file descriptor.

GSMA RCC.07 (UP 2.4) media object and FT-HTTP descriptor, formats.md §1, §8 and §10:

=================================== ========= ==============================================
rule                                severity  checks
=================================== ========= ==============================================
``media.url.scheme``                error     ``mediaUrl``/``thumbnailUrl`` are http/https
``media.content-type.extension``    warning   ``mediaContentType`` agrees with the extension
``media.content-type.kind``         warning   card media is image, video or audio
``media.thumbnail.fields``          error     thumbnail URL, type and size come together
``media.thumbnail.type``            error     a thumbnail is an image
``media.file-size``                 error     sizes are not negative
``media.content-description``       error     ``contentDescription`` 1..200 characters
``media.operator``                  error     China: size and type per media kind
``media.thumbnail.operator``        error     China: thumbnail 200 KB, jpg/png
``fthttp.url.scheme``               error     download URLs are http/https
``fthttp.until``                    error     RFC 3339 expiry (warning: lenient form)
``fthttp.file-name``                warning   the file entry names the file
=================================== ========= ==============================================

A URL's extension is compared with the declared type only when the extension is a known
media one (dynamic URLs without an extension are fine).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from rcs_terminal.lint.checks import base_type, length, rfc3339, web_url
from rcs_terminal.lint.findings import Finding, error, quoted, warning
from rcs_terminal.lint.operators import MediaRule, OperatorLimits
from rcs_terminal.protocol.up.botmessage import Media
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo

_EXTENSION_TYPES: dict[str, frozenset[str]] = {
    ext: frozenset(types)
    for ext, types in {
        "jpg": ("image/jpeg", "image/jpg"),
        "jpeg": ("image/jpeg", "image/jpg"),
        "png": ("image/png",),
        "gif": ("image/gif",),
        "webp": ("image/webp",),
        "bmp": ("image/bmp",),
        "mp4": ("video/mp4", "audio/mp4"),
        "m4v": ("video/mp4", "video/x-m4v"),
        "webm": ("video/webm", "audio/webm"),
        "3gp": ("video/3gpp", "audio/3gpp"),
        "mov": ("video/quicktime",),
        "mp3": ("audio/mpeg", "audio/mp3"),
        "m4a": ("audio/mp4", "audio/m4a", "audio/x-m4a"),
        "amr": ("audio/amr",),
        "aac": ("audio/aac",),
        "wav": ("audio/wav", "audio/x-wav", "audio/wave"),
        "ogg": ("audio/ogg", "video/ogg"),
    }.items()
}


# --------------------------------------------------------------------------- card media


def extension_of(url: str) -> str | None:
    """The lower-case file extension of ``url``'s path, or ``None``."""
    try:
        path = unquote(urlsplit(url.strip()).path)
    except ValueError:
        return None
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return name.rsplit(".", 1)[-1].lower() or None


def _operator_media(
    path: str, rule: str, content_type: str, size: int | None, limit: MediaRule | None, what: str
) -> Iterator[Finding]:
    if limit is None:
        return
    media_type = base_type(content_type)
    if media_type not in limit.types:
        yield error(path, rule, f"{what} type {quoted(media_type)} is not accepted", limit.label)
    if size is not None and size > limit.max_bytes:
        yield error(path, rule, f"{what} of {size} bytes is too large", limit.label)


def check_media(media: Media, path: str, limits: OperatorLimits) -> Iterator[Finding]:
    """Check a card's ``media`` object at ``path``."""
    yield from web_url(f"{path}.mediaUrl", "media.url.scheme", media.url, "mediaUrl")
    media_type = base_type(media.content_type)
    kind = media_type.split("/", 1)[0]
    if kind not in ("image", "video", "audio"):
        yield warning(
            f"{path}.mediaContentType",
            "media.content-type.kind",
            f"card media of type {quoted(media_type)}; phones show images, GIFs, video and audio",
        )
    ext = extension_of(media.url)
    expected = _EXTENSION_TYPES.get(ext or "")
    if expected is not None and media_type not in expected:
        yield warning(
            f"{path}.mediaContentType",
            "media.content-type.extension",
            f"mediaContentType {quoted(media_type)} does not match the URL's .{ext} extension",
            " or ".join(sorted(expected)),
        )
    for key, size in (
        ("mediaFileSize", media.file_size),
        ("thumbnailFileSize", media.thumbnail_file_size),
    ):
        if size is not None and size < 0:
            yield error(f"{path}.{key}", "media.file-size", f"{key} is negative", ">= 0")
    yield from length(
        f"{path}.contentDescription",
        "media.content-description",
        media.content_description,
        1,
        200,
        "contentDescription",
    )
    yield from _thumbnail(media, path, limits)
    rule = limits.media.get(kind)
    yield from _operator_media(
        path, "media.operator", media.content_type, media.file_size, rule, "media"
    )


def _thumbnail(media: Media, path: str, limits: OperatorLimits) -> Iterator[Finding]:
    has_url = media.thumbnail_url is not None
    companions = {
        "thumbnailContentType": media.thumbnail_content_type,
        "thumbnailFileSize": media.thumbnail_file_size,
    }
    if has_url:
        missing = [key for key, value in companions.items() if value is None]
        if missing:
            yield error(
                path,
                "media.thumbnail.fields",
                f"thumbnailUrl without {' and '.join(missing)}",
                "thumbnailUrl, thumbnailContentType and thumbnailFileSize together",
            )
        yield from web_url(
            f"{path}.thumbnailUrl", "media.url.scheme", media.thumbnail_url, "thumbnailUrl"
        )
    elif any(value is not None for value in companions.values()):
        yield warning(
            path,
            "media.thumbnail.fields",
            "thumbnail type or size without a thumbnailUrl",
            "thumbnailUrl, thumbnailContentType and thumbnailFileSize together",
        )
    if media.thumbnail_content_type is not None:
        thumbnail_type = base_type(media.thumbnail_content_type)
        if not thumbnail_type.startswith("image/"):
            yield error(
                f"{path}.thumbnailContentType",
                "media.thumbnail.type",
                f"thumbnail of type {quoted(thumbnail_type)} is not an image",
            )
        yield from _operator_media(
            path,
            "media.thumbnail.operator",
            media.thumbnail_content_type,
            media.thumbnail_file_size,
            limits.thumbnail,
            "thumbnail",
        )


# --------------------------------------------------------------------------- FT-HTTP


def _file_entry(info: FileInfo, path: str, what: str) -> Iterator[Finding]:
    yield from web_url(f"{path}/data/@url", "fthttp.url.scheme", info.url, f"{what} URL")
    if info.until is not None:
        yield from rfc3339(f"{path}/data/@until", "fthttp.until", info.until, "until")


def check_fthttp(info: FileTransferInfo, limits: OperatorLimits) -> Iterator[Finding]:
    """Check an FT-HTTP descriptor (paths are element paths: ``/file/file-info[2]``)."""
    file_path = "/file/file-info[2]" if info.thumbnail is not None else "/file/file-info[1]"
    if info.thumbnail is not None:
        thumb = info.thumbnail
        thumb_path = "/file/file-info[1]"
        yield from _file_entry(thumb, thumb_path, "thumbnail")
        if not base_type(thumb.content_type).startswith("image/"):
            yield error(
                f"{thumb_path}/content-type",
                "media.thumbnail.type",
                f"thumbnail of type {quoted(base_type(thumb.content_type))} is not an image",
            )
        yield from _operator_media(
            thumb_path,
            "media.thumbnail.operator",
            thumb.content_type,
            thumb.size,
            limits.thumbnail,
            "thumbnail",
        )
    yield from _file_entry(info.file, file_path, "file")
    if not info.file.name:
        yield warning(
            f"{file_path}/file-name", "fthttp.file-name", "the file entry has no file-name"
        )
    kind = base_type(info.file.content_type).split("/", 1)[0]
    yield from _operator_media(
        file_path,
        "media.operator",
        info.file.content_type,
        info.file.size,
        limits.media.get(kind),
        "file",
    )
