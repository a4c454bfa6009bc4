"""File transfer via HTTP: the handset's side of UP FT-over-HTTP (GSMA RCC.07 §3.2.5).

Sending a file is two steps, the first of which this module owns:

1. **Upload** to the content server (``ftHTTPCSURI``): an empty ``POST`` first, which the
   server answers 401 (authenticate) or 204 (go ahead); then a ``multipart/form-data``
   ``POST`` with the parts ``tid`` (a UUID naming this transfer), ``Thumbnail`` (optional,
   images and videos) and ``File``, in that order, with credentials ``ftHTTPCSUser`` /
   ``ftHTTPCSPwd`` (HTTP Digest, RFC 7616, or Basic when that is all the server offers).
   The server answers 200 with the ``application/vnd.gsma.rcs-ft-http+xml`` descriptor.
2. The descriptor goes to the peer in a CPIM message (the messaging service does that).

Receiving is the reverse: the thumbnail first (something to show at once), then the file,
with the same credentials when the server asks; through ``ftHTTPDLURI`` when configured
(``<ftHTTPDLURI>?url=<file URL>&id=<message id>&op=download``; the parameter set beyond
``url`` is UNSURE). The received size must equal the descriptor's ``file-size`` (a larger
body is refused while it streams in), and the file lands under the profile's ``files``
folder with a name of our making: the name from the network is only a suggestion
(:func:`safe_file_name`), and files are created exclusively, never overwritten.

Sizes: ``MaxSizeFileTr`` and ``ftWarnSize`` are in KB in the configuration (as RCS clients
read them); this module works in bytes (:meth:`FileTransferClient.from_config` converts).
Everything goes through :class:`~rcs_terminal.engine.http.HttpClient`, so it is in the trace
with secrets masked (the Digest ``response`` and Basic credentials); upload bodies above
``trace_body_limit`` are sent without being copied into the trace.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from rcs_terminal import paths
from rcs_terminal.engine.http import HttpClient, HttpResponse
from rcs_terminal.engine.http_auth import HttpAuthenticator
from rcs_terminal.errors import (
    FileTooLargeError,
    FileTransferError,
    LocalProtocolError,
)
from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.provisioning import RcsConfig
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo, parse_fthttp

__all__ = [
    "FTHTTP_CONTENT_TYPE",
    "FileTransferClient",
    "HttpAuthenticator",
    "guess_content_type",
    "profile_files_dir",
    "safe_file_name",
]

FTHTTP_CONTENT_TYPE = "application/vnd.gsma.rcs-ft-http+xml"
THUMBNAIL_MAX = 512 * 1024
"""Largest thumbnail downloaded (China's CSP allows 200 KB; some send more)."""
TRACE_BODY_LIMIT = 1024 * 1024
"""Upload bodies up to this size are copied into the trace; larger ones only their headers."""
_ERROR_BODY_MAX = 64 * 1024
"""Room for challenge and error bodies while a download is limited to its announced size."""
_NAME_MAX_BYTES = 150
_RESERVED_NAMES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{k}{i}" for k in ("com", "lpt") for i in range(1, 10)]
)
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"ftyp", 4, "video/mp4"),
    (b"#!AMR", 0, "audio/amr"),
)


def profile_files_dir(profile_name: str) -> Path:
    """Where a profile's received files are stored: ``<profile dir>/files``."""
    return paths.profile_dir(profile_name) / "files"


def guess_content_type(name: str | None, data: bytes = b"") -> str:
    """The content type of a file: from its name's extension, else from its first bytes,
    else ``application/octet-stream``."""
    if name:
        guessed = mimetypes.guess_type(name, strict=False)[0]
        if guessed:
            return guessed
    for magic, offset, content_type in _SIGNATURES:
        if data.startswith(magic, offset):
            return content_type
    return "application/octet-stream"


def safe_file_name(name: str | None, content_type: str | None = None) -> str:
    """A file name that is safe to create, made from a name that came from the network.

    Only the last path component survives (``/`` and ``\\`` both separate); control,
    format (bidirectional overrides that disguise an extension) and Windows-reserved
    characters become ``_``; leading and trailing dots and spaces go (no hidden files, no
    ``..``); device names such as ``CON`` get a ``_`` prefix; the result is at most 150
    UTF-8 bytes with its extension kept. An empty result becomes ``file`` plus an extension
    for ``content_type``.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(
        "_" if unicodedata.category(ch)[0] == "C" or ch in '<>:"|?*' else ch for ch in text
    )
    text = text.strip(" .")
    if not text:
        media = (content_type or "").split(";", 1)[0].strip().lower()
        text = "file" + (mimetypes.guess_extension(media, strict=False) or "")
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext) > 16:
        stem, dot, ext = text, "", ""
    if stem.split(".", 1)[0].lower() in _RESERVED_NAMES:
        stem = "_" + stem
    room = _NAME_MAX_BYTES - len((dot + ext).encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .") or "file"
    return stem + dot + ext


def _store(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new file in ``directory``, never replacing one (``(1)``...).

    Raises:
        FileTransferError: the folder cannot be written.
    """
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        root = directory.resolve()
        for n in range(1000):
            path = root / (name if n == 0 else f"{stem} ({n}){dot}{ext}")
            if path.parent != root:  # cannot happen with safe names; checked all the same
                raise FileTransferError(f"refusing to write outside {root}: {path.name!r}")
            try:
                out = open(path, "xb")  # noqa: SIM115 - exclusive create, closed below
            except (FileExistsError, IsADirectoryError):
                continue
            try:
                with out:
                    out.write(data)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            return path
    except OSError as exc:
        raise FileTransferError(f"cannot store {name!r} in {directory}: {exc.strerror}") from exc
    raise FileTransferError(f"too many files named like {name!r} in {directory}")


def _parse_until(value: str | None) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _quoted(value: str) -> str:
    """A quoted-string for a Content-Disposition parameter (controls become ``_``)."""
    clean = "".join("_" if unicodedata.category(ch) == "Cc" else ch for ch in value)
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


class FileTransferClient:
    """Uploads and downloads files for one SIM (FT over HTTP).

    Args:
        http: the SIM's HTTP client (trace, lab name map, TLS settings).
        cs_uri: ``ftHTTPCSURI``, the content server.
        user: ``ftHTTPCSUser``.
        password: ``ftHTTPCSPwd``.
        dl_uri: ``ftHTTPDLURI``; when set, downloads go through it.
        identity: the SIM's public identity for ``X-3GPP-Intended-Identity`` (optional).
        max_size: the largest file sent or received in bytes (``MaxSizeFileTr``), if any.
        warn_size: the size in bytes above which the user should confirm (``ftWarnSize``).
        files_dir: where received files go when a download names no folder.
        clock: Unix time, to check the descriptor's ``until``.
        tid_factory: makes upload transaction ids (a fresh UUID by default).
        trace_body_limit: larger upload bodies are not copied into the trace.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        cs_uri: str,
        user: str | None,
        password: str | None,
        dl_uri: str | None = None,
        identity: str | None = None,
        max_size: int | None = None,
        warn_size: int | None = None,
        files_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        tid_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
        trace_body_limit: int = TRACE_BODY_LIMIT,
    ) -> None:
        self.http = http
        self.cs_uri = cs_uri
        self.dl_uri = dl_uri or None
        self.identity = identity
        self.max_size = max_size if max_size else None
        self.warn_size = warn_size if warn_size else None
        self.files_dir = files_dir
        self._auth = HttpAuthenticator(user, password)
        self._clock = clock
        self._tid = tid_factory
        self._trace_body_limit = trace_body_limit

    def __repr__(self) -> str:
        return f"FileTransferClient(cs_uri={self.cs_uri!r}, user={self._auth.user!r})"

    @classmethod
    def from_config(
        cls,
        http: HttpClient,
        config: RcsConfig,
        *,
        identity: str | None = None,
        files_dir: Path | None = None,
    ) -> FileTransferClient:
        """A client from a provisioned configuration (``MESSAGING/FileTransfer``).

        Raises:
            FileTransferError: the configuration has no ``ftHTTPCSURI``.
        """
        ft = config.messaging.file_transfer
        if not ft.ft_http_cs_uri:
            raise FileTransferError(
                "the configuration has no file-transfer content server (ftHTTPCSURI)",
                hint="File transfer over HTTP is not provisioned for this SIM.",
            )
        return cls(
            http,
            cs_uri=ft.ft_http_cs_uri,
            user=ft.ft_http_cs_user,
            password=ft.ft_http_cs_pwd,
            dl_uri=ft.ft_http_dl_uri,
            identity=identity,
            max_size=ft.max_size_file_tr * 1024 if ft.max_size_file_tr else None,
            warn_size=ft.ft_warn_size * 1024 if ft.ft_warn_size else None,
            files_dir=files_dir,
        )

    def needs_warning(self, size: int) -> bool:
        """True when a file of ``size`` bytes is above ``ftWarnSize`` (ask the user first)."""
        return self.warn_size is not None and size > self.warn_size

    def _check_size(self, size: int, what: str) -> None:
        if self.max_size is not None and size > self.max_size:
            raise FileTooLargeError(
                f"{what} is {size} bytes; the limit (MaxSizeFileTr) is {self.max_size}",
                size=size,
                limit=self.max_size,
                hint="Send a smaller file.",
            )

    def _headers(self, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        headers = list(extra)
        if self.identity:
            headers.append(("X-3GPP-Intended-Identity", f'"{self.identity}"'))
        return headers

    # ------------------------------------------------------------------ upload

    async def upload(
        self,
        path: str | Path,
        *,
        content_type: str | None = None,
        thumbnail: bytes | str | Path | None = None,
        thumbnail_type: str | None = None,
    ) -> FileTransferInfo:
        """Upload a file and return the descriptor to send to the peer.

        Args:
            path: the file.
            content_type: its type (guessed from the name or content when None).
            thumbnail: a thumbnail (bytes or a file), usually for images and videos.
            thumbnail_type: the thumbnail's type (guessed when None).

        Raises:
            FileTooLargeError: the file exceeds ``MaxSizeFileTr`` or the server's limit.
            FileTransferError: the file cannot be read, or the server refused the upload.
            AuthenticationError: the server refused the credentials.
            NetworkError: the server cannot be reached.
            PayloadParseError: the server's descriptor is malformed.
        """
        source = Path(path)
        try:
            self._check_size(source.stat().st_size, source.name)
            data = await asyncio.to_thread(source.read_bytes)
            thumb = thumbnail
            if isinstance(thumb, str | Path):
                thumb = await asyncio.to_thread(Path(thumb).read_bytes)
        except OSError as exc:
            raise FileTransferError(
                f"cannot read {exc.filename or source}: {exc.strerror}"
            ) from exc
        return await self.upload_bytes(
            data,
            source.name,
            content_type or guess_content_type(source.name, data),
            thumbnail=thumb,
            thumbnail_type=thumbnail_type,
        )

    async def upload_bytes(
        self,
        data: bytes,
        name: str,
        content_type: str,
        *,
        thumbnail: bytes | None = None,
        thumbnail_type: str | None = None,
        tid: str | None = None,
    ) -> FileTransferInfo:
        """Upload ``data`` under ``name`` (see :meth:`upload`); ``tid`` defaults to a fresh
        UUID (reuse one to retry the same transfer)."""
        self._check_size(len(data), name)
        tid = tid or self._tid()
        parts = [Part.create("text/plain", tid.encode(), headers=[_disposition("tid")])]
        if thumbnail:
            kind = thumbnail_type or guess_content_type(None, thumbnail)
            parts.append(
                Part.create(kind, thumbnail, headers=[_disposition("Thumbnail", "thumb_" + name)])
            )
        parts.append(Part.create(content_type, data, headers=[_disposition("File", name)]))
        try:
            form_type, body = build_multipart(
                parts, f"rcs-ft-{uuid.uuid4().hex}", subtype="form-data"
            )
        except LocalProtocolError as exc:
            raise FileTransferError(f"cannot send {name!r}: {exc}") from exc
        if not self._auth.has_challenge(self.cs_uri):
            probe = await self.http.request("POST", self.cs_uri, headers=self._headers())
            if probe.status == 401:
                self._auth.learn(probe)
            elif probe.status >= 300:
                raise _refused("upload", probe, len(data), self.max_size)
        resp = await self._auth.request(
            self.http,
            "POST",
            self.cs_uri,
            headers=self._headers([("Content-Type", form_type)]),
            body=body,
            traced=len(body) <= self._trace_body_limit,
        )
        if resp.status != 200:
            raise _refused("upload", resp, len(data), self.max_size)
        info = parse_fthttp(resp.body)
        if info.file.size != len(data):
            raise FileTransferError(
                f"the content server describes {info.file.size} bytes; {len(data)} were sent"
            )
        return info

    # ------------------------------------------------------------------ download

    async def download(
        self,
        info: FileTransferInfo,
        dest_dir: str | Path | None = None,
        *,
        thumbnail_first: bool = True,
        message_id: str | None = None,
        on_thumbnail: Callable[[Path], None] | None = None,
    ) -> Path:
        """Download the file of a received descriptor and return where it was stored.

        Args:
            info: the descriptor received from the peer.
            dest_dir: the folder (default: ``files_dir``, else ``<rcs home>/files``).
            thumbnail_first: fetch the thumbnail (when there is one) before the file.
            message_id: the message that carried the descriptor (for ``ftHTTPDLURI``).
            on_thumbnail: called with the thumbnail's path as soon as it is stored.

        Raises:
            FileTooLargeError: the file exceeds ``MaxSizeFileTr`` (nothing is fetched).
            FileTransferError: the link expired, the server refused, or the size differs.
            AuthenticationError: the server refused the credentials.
            NetworkError: the server cannot be reached.
        """
        target = self._target_dir(dest_dir)
        self._check_size(info.file.size, info.file.name or "the file")
        self._check_until(info.file)
        if thumbnail_first and info.thumbnail is not None:
            thumb = await self.download_thumbnail(info, target, message_id=message_id)
            if thumb is not None and on_thumbnail is not None:
                on_thumbnail(thumb)
        data = await self._fetch(info.file, info.file.size, message_id)
        name = safe_file_name(info.file.name, info.file.content_type)
        return await asyncio.to_thread(_store, target, name, data)

    async def download_thumbnail(
        self,
        info: FileTransferInfo,
        dest_dir: str | Path | None = None,
        *,
        message_id: str | None = None,
    ) -> Path | None:
        """Download the descriptor's thumbnail into ``<dest_dir>/thumbnails``.

        Returns:
            The stored thumbnail, or None when there is none, it is larger than
            :data:`THUMBNAIL_MAX` or its link expired.

        Raises:
            FileTransferError, AuthenticationError, NetworkError: as for :meth:`download`.
        """
        thumb = info.thumbnail
        if thumb is None or thumb.size > THUMBNAIL_MAX:
            return None
        try:
            self._check_until(thumb)
        except FileTransferError:
            return None
        data = await self._fetch(thumb, thumb.size, message_id)
        base = safe_file_name(info.file.name, info.file.content_type).rpartition(".")
        stem = base[0] or base[2]
        ext = mimetypes.guess_extension(thumb.content_type.split(";")[0].strip(), strict=False)
        name = safe_file_name(f"{stem}{ext or ''}", thumb.content_type)
        return await asyncio.to_thread(
            _store, self._target_dir(dest_dir) / "thumbnails", name, data
        )

    def _target_dir(self, dest_dir: str | Path | None) -> Path:
        if dest_dir is not None:
            return Path(dest_dir)
        return self.files_dir if self.files_dir is not None else paths.home() / "files"

    def _check_until(self, entry: FileInfo) -> None:
        until = _parse_until(entry.until)
        if until is not None and self._clock() > until:
            raise FileTransferError(
                f"the download link expired at {entry.until}",
                hint="Ask the sender to send the file again.",
            )

    def _download_url(self, url: str, message_id: str | None) -> str:
        if self.dl_uri is None:
            return url
        query = {"url": url, **({"id": message_id} if message_id else {}), "op": "download"}
        joiner = "&" if "?" in self.dl_uri else "?"
        return self.dl_uri + joiner + urlencode(query)

    async def _fetch(self, entry: FileInfo, size: int, message_id: str | None) -> bytes:
        url = self._download_url(entry.url, message_id)
        resp = await self._auth.request(
            self.http, "GET", url, headers=self._headers(), max_body=max(size, _ERROR_BODY_MAX)
        )
        if resp.status != 200:
            raise _refused("download", resp, size, self.max_size)
        if len(resp.body) != size:
            raise FileTransferError(
                f"download of {entry.url} gave {len(resp.body)} bytes; {size} were announced"
            )
        return resp.body


def _disposition(name: str, filename: str | None = None) -> tuple[str, str]:
    value = f'form-data; name="{name}"'
    if filename is not None:
        value += f"; filename={_quoted(filename)}"
    return ("Content-Disposition", value)


def _refused(what: str, resp: HttpResponse, size: int, limit: int | None) -> FileTransferError:
    """The error for a content server's refusal."""
    status = f"{resp.status} {resp.reason}".strip()
    if resp.status == 413:
        return FileTooLargeError(
            f"the content server refused the {what} of {size} bytes as too large ({status})",
            size=size,
            limit=limit or 0,
            hint="Send a smaller file.",
        )
    if resp.status in (404, 410):
        return FileTransferError(f"the file is no longer on the content server ({status})")
    retry = resp.header("Retry-After")
    hint = f"The server asks to retry after {retry} s." if retry else None
    return FileTransferError(f"the content server refused the {what}: {status}", hint=hint)
