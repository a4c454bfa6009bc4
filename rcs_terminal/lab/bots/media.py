"""The lab's sample media: the pictures and documents the bots show, and where they live.

The files are the package data of ``rcs_terminal/lab/media`` (drawn by ``generate.py``
there). The chatbot platform serves them over plain HTTP on the lab's web server, under
``http://botplatform.lab:<port>/chatbot/media/<name>`` (a lab name the handset maps to the
lab's address, never resolved): card pictures, logos, and the files of file messages when
the lab has no file-transfer content server to publish them on.

A bot script names a sample file by its file name (``parcel.png``); anything else must be
an ``http(s)`` URL. Names are checked against :data:`SAFE_NAME` before any lookup, so an
HTTP request cannot walk out of the folder.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable

from rcs_terminal.lab.config_documents import BOTPLATFORM_NAME
from rcs_terminal.protocol.cpim import format_rfc3339
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo

__all__ = ["MEDIA_PATH", "SAFE_NAME", "MediaFile", "MediaLibrary", "content_type_of"]

MEDIA_PATH = "/chatbot/media"
"""Where the platform serves the sample media on the lab's HTTP server."""
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
"""What a sample file name may look like (no slashes, no leading dot)."""
FILE_VALIDITY = dt.timedelta(days=30)
"""How long a file descriptor pointing at the sample media stays valid (``until``)."""

_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "pdf": "application/pdf",
    "txt": "text/plain",
}


def content_type_of(name: str) -> str:
    """The content type of a sample file, by its extension."""
    return _TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


@dataclass(frozen=True)
class MediaFile:
    """One sample file.

    Attributes:
        name: its file name.
        content_type: its MIME type.
        data: its bytes.
    """

    name: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """The size in bytes."""
        return len(self.data)


class MediaLibrary:
    """The sample files and their URLs.

    Args:
        folder: where the files are (default: the package's ``media`` folder).
        base_url: the URL prefix they are served under; the platform sets the real one
            (with the lab's HTTP port) when the lab starts.
    """

    def __init__(
        self,
        folder: Traversable | None = None,
        *,
        base_url: str = f"http://{BOTPLATFORM_NAME}{MEDIA_PATH}",
    ) -> None:
        self.folder = (
            folder if folder is not None else resources.files("rcs_terminal.lab") / "media"
        )
        self.base_url = base_url
        self._cache: dict[str, MediaFile] = {}

    def names(self) -> list[str]:
        """Every sample file name, sorted."""
        return sorted(
            entry.name
            for entry in self.folder.iterdir()
            if entry.is_file() and SAFE_NAME.match(entry.name) and not entry.name.endswith(".py")
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def find(self, name: str) -> MediaFile | None:
        """The sample file ``name``, or None (also for names that are not safe)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        if not SAFE_NAME.match(name) or name.endswith(".py"):
            return None
        entry = self.folder / name
        if not entry.is_file():
            return None
        found = MediaFile(name, content_type_of(name), entry.read_bytes())
        self._cache[name] = found
        return found

    def get(self, name: str) -> MediaFile:
        """The sample file ``name``.

        Raises:
            KeyError: there is no such sample file.
        """
        found = self.find(name)
        if found is None:
            raise KeyError(name)
        return found

    def url(self, name_or_url: str) -> str:
        """The URL of a sample file; an ``http(s)`` URL is returned as it is."""
        if name_or_url.startswith(("http://", "https://")):
            return name_or_url
        return f"{self.base_url}/{name_or_url}"

    def descriptor(
        self, file: MediaFile, thumbnail: MediaFile | None, now: dt.datetime
    ) -> FileTransferInfo:
        """An FT-HTTP descriptor pointing at the sample media route (used when the lab has
        no file-transfer content server to publish on)."""
        until = format_rfc3339(now + FILE_VALIDITY)
        thumb = None
        if thumbnail is not None:
            thumb = FileInfo(
                size=thumbnail.size,
                content_type=thumbnail.content_type,
                url=self.url(thumbnail.name),
                until=until,
            )
        info = FileInfo(
            size=file.size,
            content_type=file.content_type,
            url=self.url(file.name),
            until=until,
            name=file.name,
        )
        shown = file.content_type.startswith(("image/", "video/"))
        return FileTransferInfo(
            file=info, thumbnail=thumb, disposition="render" if shown else "attachment"
        )
