"""The lab's file-transfer content server (UP FT over HTTP, GSMA RCC.07 §3.2.5).

Served on the lab's HTTP app under ``/ft`` (the ``ftHTTPCSURI`` the lab's configuration
documents advertise, :mod:`.config_documents`):

- ``POST /ft``: an empty body is the client's first request, answered 401 with Digest
  challenges (SHA-256, then MD5; RFC 7616 §3.7) or, once authenticated, 204; a
  ``multipart/form-data`` body with the parts ``tid``, ``Thumbnail`` (optional) and
  ``File`` is stored and answered 200 with the ``application/vnd.gsma.rcs-ft-http+xml``
  descriptor (download URLs ``/ft/files/<id>`` and ``/ft/files/<id>/thumbnail``, valid
  until ``until``). A retried ``tid`` gets the same descriptor again.
- ``GET /ft?tid=<tid>&get_download_info``: the descriptor of a finished upload.
- ``GET /ft/files/<id>`` (and ``/thumbnail``): the content, with a single ``Range``
  answered 206 (RFC 7233 §4.1; several ranges are answered with the whole file).

Uploads and downloads need the credentials the config server hands out: user
``ftHTTPCSUser`` (the MSISDN) and password ``ftHTTPCSPwd`` (per subscriber,
:meth:`ConfigServer.ft_password`); any lab subscriber may download. Nonces live five
minutes and ``nc`` must grow. Files are kept in memory, each at most ``max_size`` bytes
(the lab's HTTP app reads at most 1 MiB per request) and all together at most
``max_total`` (oldest dropped first). The chatbot platform puts files here without HTTP
with :meth:`FtServer.publish`.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from rcs_terminal.errors import AuthChallengeError, MultipartParseError, NetworkError
from rcs_terminal.lab.config_documents import FT_NAME
from rcs_terminal.lab.config_server import ConfigServer
from rcs_terminal.lab.subscribers import SubscriberDirectory
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.sip.auth import (
    make_challenge,
    parse_credentials,
    verify_authorization,
)
from rcs_terminal.protocol.up.fthttp import FileInfo, FileTransferInfo

FTHTTP_CONTENT_TYPE = "application/vnd.gsma.rcs-ft-http+xml"
DEFAULT_MAX_SIZE = 960 * 1024
"""Largest file accepted (the lab's HTTP app reads at most 1 MiB per request)."""
DEFAULT_MAX_TOTAL = 64 * 1024 * 1024
"""Most bytes kept in memory over all files."""
MAX_NONCES = 1024
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")
_NAME_CHARS = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

Credentials = Callable[[str], str | None]
"""Maps an FT user name to its password (None for unknown users)."""


@dataclass
class StoredFile:
    """A file held by the server.

    Attributes:
        file_id: the id in its URL.
        name: the name given at upload (as sent, minus characters XML cannot carry).
        content_type: its type.
        data: the content.
        until: Unix time after which it is gone.
        thumbnail: the thumbnail, if any.
        thumbnail_type: the thumbnail's type.
        owner: who uploaded it (the FT user, or ``None`` for :meth:`FtServer.publish`).
        tid: the upload's transaction id.
        disposition: ``file-disposition`` for the descriptor.
    """

    file_id: str
    name: str
    content_type: str
    data: bytes = field(repr=False)
    until: float
    thumbnail: bytes | None = field(default=None, repr=False)
    thumbnail_type: str | None = None
    owner: str | None = None
    tid: str | None = None
    disposition: str | None = None

    @property
    def size(self) -> int:
        """Bytes held for it (file and thumbnail)."""
        return len(self.data) + len(self.thumbnail or b"")


@dataclass(frozen=True)
class FormField:
    """One part of a ``multipart/form-data`` upload (RFC 7578).

    Attributes:
        name: the field name (``tid``, ``Thumbnail``, ``File``).
        data: its content.
        filename: the file name sent with it, if any (may be anything: never a path).
        content_type: its Content-Type, if sent.
    """

    name: str
    data: bytes = field(repr=False)
    filename: str | None = None
    content_type: str | None = None


def parse_form(body: bytes, content_type: str) -> dict[str, FormField]:
    """Split an upload into its fields, keyed by lower-cased name (the first of each name).

    Raises:
        MultipartParseError: the body is not multipart, is malformed or too large
            (``status_hint`` 413).
    """
    fields: dict[str, FormField] = {}
    for index, part in enumerate(parse_multipart(body, content_type)):
        disposition = part.headers.get("Content-Disposition")
        if disposition is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind, params = parse_content_disposition(disposition)
        name = params.get("name")
        if kind != "form-data" or not name or name.lower() in fields:
            continue
        try:
            filename = content_disposition_filename(params, "filename")
        except (ValueError, LookupError) as exc:
            raise MultipartParseError(f"bad file name: {exc}", where=f"part {index}") from None
        fields[name.lower()] = FormField(
            name, part.body, filename, part.headers.get("Content-Type")
        )
    return fields


def lab_credentials(directory: SubscriberDirectory, config_server: ConfigServer) -> Credentials:
    """The lab's FT credentials: user = a subscriber's MSISDN (``ftHTTPCSUser``), password =
    the ``ftHTTPCSPwd`` the config server issues to that subscriber."""

    def lookup(user: str) -> str | None:
        sub = directory.by_msisdn(user)
        return None if sub is None else config_server.ft_password(sub.imsi)

    return lookup


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean_name(name: str | None) -> str:
    return _NAME_CHARS.sub("_", name or "")[:255] or "file"


class FtServer:
    """The content server.

    Args:
        credentials: FT user name -> password (see :func:`lab_credentials`).
        base_path: where it is served (``ftHTTPCSURI``'s path).
        public_url: ``ftHTTPCSURI`` itself (e.g. ``http://ft.rcs.lab:PORT/ft``), for the
            URLs of :meth:`publish`; the lab sets it once it listens.
        realm: the Digest realm.
        max_size: the largest file accepted, in bytes.
        max_total: the most bytes kept over all files.
        validity: seconds a file stays downloadable.
        nonce_lifetime: seconds a Digest nonce stays valid.
        clock: Unix time source.

    Attributes:
        require_auth: False to serve everyone without credentials (the 204 path).
        auth_scheme: ``"Digest"`` (default) or ``"Basic"``, the challenge sent.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_path: str = "/ft",
        public_url: str | None = None,
        realm: str = FT_NAME,
        max_size: int = DEFAULT_MAX_SIZE,
        max_total: int = DEFAULT_MAX_TOTAL,
        validity: int = 7 * 86400,
        nonce_lifetime: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_path = "/" + base_path.strip("/")
        self.public_url = public_url
        self.realm = realm
        self.max_size = max_size
        self.max_total = max_total
        self.validity = validity
        self.nonce_lifetime = nonce_lifetime
        self.require_auth = True
        self.auth_scheme = "Digest"
        self._credentials = credentials
        self._clock = clock
        self._files: dict[str, StoredFile] = {}
        self._by_tid: dict[tuple[str | None, str], str] = {}
        self._total = 0
        self._nonces: dict[str, tuple[float, int]] = {}
        self._opaque = secrets.token_hex(8)

    def routes(self) -> list[web.RouteDef]:
        """aiohttp routes (add them to the lab's HTTP app)."""
        files = f"{self.base_path}/files/{{file_id}}"
        return [
            web.post(self.base_path, self._upload),
            web.get(self.base_path, self._info),
            web.get(files, self._download),
            web.get(files + "/thumbnail", self._download_thumbnail),
        ]

    # ------------------------------------------------------------------ storage

    def __len__(self) -> int:
        return len(self._files)

    def publish(
        self,
        data: bytes,
        name: str,
        content_type: str,
        thumbnail: bytes | None = None,
        *,
        thumbnail_type: str = "image/png",
        disposition: str | None = None,
    ) -> FileTransferInfo:
        """Put a file on the server from Python (the chatbot platform's files).

        Returns:
            The descriptor to send in a message.

        Raises:
            NetworkError: the server's public URL is not known yet (start the lab first).
            ValueError: the file is larger than ``max_size``.
        """
        if self.public_url is None:
            raise NetworkError("the FT content server has no address yet; start the lab first")
        if len(data) > self.max_size:
            raise ValueError(f"{len(data)} bytes exceed the FT server's limit of {self.max_size}")
        stored = self._store(
            data, name, content_type, thumbnail, thumbnail_type, None, None, disposition
        )
        return self.descriptor(stored, self.public_url)

    def lookup(self, url_or_id: str) -> StoredFile | None:
        """A stored file by id or by one of its URLs (for bots reading what users sent)."""
        match = re.search(r"/files/([A-Za-z0-9_\-]+)", url_or_id)
        file_id = match.group(1) if match else url_or_id
        stored = self._files.get(file_id)
        if stored is not None and self._clock() > stored.until:
            self._drop(file_id)
            return None
        return stored

    def descriptor(self, stored: StoredFile, base_url: str) -> FileTransferInfo:
        """The FT-HTTP descriptor of ``stored`` with URLs under ``base_url``."""
        url = f"{base_url.rstrip('/')}/files/{stored.file_id}"
        until = _rfc3339(stored.until)
        thumb = None
        if stored.thumbnail is not None:
            thumb = FileInfo(
                size=len(stored.thumbnail),
                content_type=stored.thumbnail_type or "image/png",
                url=url + "/thumbnail",
                until=until,
            )
        file = FileInfo(
            size=len(stored.data),
            content_type=stored.content_type,
            url=url,
            until=until,
            name=stored.name,
        )
        return FileTransferInfo(file=file, thumbnail=thumb, disposition=stored.disposition)

    def _store(
        self,
        data: bytes,
        name: str | None,
        content_type: str,
        thumbnail: bytes | None,
        thumbnail_type: str | None,
        owner: str | None,
        tid: str | None,
        disposition: str | None = None,
    ) -> StoredFile:
        now = self._clock()
        for file_id in [k for k, f in self._files.items() if now > f.until]:
            self._drop(file_id)
        stored = StoredFile(
            file_id=secrets.token_urlsafe(12),
            name=_clean_name(name),
            content_type=content_type,
            data=data,
            until=now + self.validity,
            thumbnail=thumbnail or None,
            thumbnail_type=thumbnail_type if thumbnail else None,
            owner=owner,
            tid=tid,
            disposition=disposition,
        )
        while self._files and self._total + stored.size > self.max_total:
            self._drop(next(iter(self._files)))
        self._files[stored.file_id] = stored
        self._total += stored.size
        if tid is not None:
            self._by_tid[(owner, tid)] = stored.file_id
        return stored

    def _drop(self, file_id: str) -> None:
        stored = self._files.pop(file_id, None)
        if stored is not None:
            self._total -= stored.size
            if stored.tid is not None:
                self._by_tid.pop((stored.owner, stored.tid), None)

    # ------------------------------------------------------------------ authentication

    def _challenge(self, *, stale: bool = False) -> web.Response:
        resp = web.Response(status=401, text="authentication required")
        if self.auth_scheme == "Basic":
            resp.headers.add("WWW-Authenticate", f'Basic realm="{self.realm}"')
            return resp
        now = self._clock()
        if len(self._nonces) >= MAX_NONCES:
            for key in [k for k, (until, _) in self._nonces.items() if now > until]:
                del self._nonces[key]
            while len(self._nonces) >= MAX_NONCES:
                del self._nonces[next(iter(self._nonces))]
        for algorithm in ("SHA-256", "MD5"):
            nonce = secrets.token_urlsafe(18)
            self._nonces[nonce] = (now + self.nonce_lifetime, 0)
            value = make_challenge(
                self.realm, nonce, algorithm=algorithm, opaque=self._opaque, stale=stale
            )
            resp.headers.add("WWW-Authenticate", value)
        return resp

    def _authenticate(self, request: web.Request, body: bytes) -> str | web.Response:
        """The authenticated user, or the response to send instead."""
        if not self.require_auth:
            return ""
        header = request.headers.get("Authorization")
        if header is None:
            return self._challenge()
        try:
            creds = parse_credentials(header)
        except AuthChallengeError as exc:
            return web.Response(status=400, text=f"malformed Authorization: {exc}")
        if creds.scheme.lower() == "basic" and self.auth_scheme == "Basic":
            return self._basic(creds.token68 or "")
        if creds.scheme != "Digest" or creds.username is None or creds.realm != self.realm:
            return self._challenge()
        password = self._credentials(creds.username)
        if password is None:
            return self._challenge()
        if creds.uri != request.raw_path:
            return web.Response(status=400, text="digest uri does not match the request")
        if not verify_authorization(creds, method=request.method, password=password, body=body):
            return self._challenge()
        entry = self._nonces.get(creds.nonce or "")
        nc = creds.nc_value or 0
        if entry is None or self._clock() > entry[0]:
            return self._challenge(stale=True)
        if nc <= entry[1]:
            return self._challenge()
        self._nonces[creds.nonce or ""] = (entry[0], nc)
        return creds.username

    def _basic(self, token: str) -> str | web.Response:
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return web.Response(status=400, text="malformed Basic credentials")
        expected = self._credentials(user)
        if expected is None or not secrets.compare_digest(expected.encode(), password.encode()):
            return self._challenge()
        return user

    # ------------------------------------------------------------------ handlers

    def _base_url(self, request: web.Request) -> str:
        host = request.host
        if self.public_url is not None and not _HOST.fullmatch(host):
            return self.public_url
        return f"{request.scheme}://{host}{self.base_path}"

    def _descriptor_response(self, stored: StoredFile, request: web.Request) -> web.Response:
        body = self.descriptor(stored, self._base_url(request)).to_xml()
        return web.Response(body=body, content_type=FTHTTP_CONTENT_TYPE)

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        user = self._authenticate(request, body)
        if isinstance(user, web.Response):
            return user
        if not body:
            return web.Response(status=204)
        if len(body) > self.max_size + 64 * 1024:
            return _too_large(self.max_size)
        try:
            fields = parse_form(body, request.headers.get("Content-Type", ""))
        except MultipartParseError as exc:
            if exc.status_hint == 413:
                return _too_large(self.max_size)
            return web.Response(status=400, text=f"not a multipart/form-data upload: {exc}")
        if "file" not in fields:
            return web.Response(status=400, text="no File part")
        upload = fields["file"]
        if len(upload.data) > self.max_size:
            return _too_large(self.max_size)
        tid_field = fields.get("tid")
        tid = tid_field.data.decode("utf-8", "replace").strip() if tid_field else None
        tid = tid or None
        owner = user or None
        if tid is not None and (owner, tid) in self._by_tid:
            previous = self.lookup(self._by_tid[(owner, tid)])
            if previous is not None:
                return self._descriptor_response(previous, request)
        thumb = fields.get("thumbnail")
        stored = self._store(
            upload.data,
            upload.filename,
            upload.content_type or "application/octet-stream",
            thumb.data if thumb else None,
            (thumb.content_type if thumb else None) or "image/jpeg",
            owner,
            tid,
        )
        return self._descriptor_response(stored, request)

    async def _info(self, request: web.Request) -> web.StreamResponse:
        user = self._authenticate(request, b"")
        if isinstance(user, web.Response):
            return user
        tid = request.query.get("tid", "")
        file_id = self._by_tid.get((user or None, tid))
        stored = self.lookup(file_id) if file_id and "get_download_info" in request.query else None
        if stored is None:
            return web.Response(status=404, text="no finished upload with this tid")
        return self._descriptor_response(stored, request)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        return self._serve(request, thumbnail=False)

    async def _download_thumbnail(self, request: web.Request) -> web.StreamResponse:
        return self._serve(request, thumbnail=True)

    def _serve(self, request: web.Request, *, thumbnail: bool) -> web.StreamResponse:
        user = self._authenticate(request, b"")
        if isinstance(user, web.Response):
            return user
        file_id = request.match_info["file_id"]
        known = file_id in self._files
        stored = self.lookup(file_id)
        if stored is None:
            return web.Response(status=410 if known else 404, text="no such file")
        data = stored.thumbnail if thumbnail else stored.data
        content_type = (stored.thumbnail_type if thumbnail else stored.content_type) or ""
        if data is None:
            return web.Response(status=404, text="no thumbnail")
        headers = {"Accept-Ranges": "bytes"}
        wanted = byte_range(request.headers.get("Range"), len(data))
        if wanted == (-1, -1):
            headers["Content-Range"] = f"bytes */{len(data)}"
            return web.Response(status=416, headers=headers)
        headers["Content-Type"] = content_type or "application/octet-stream"
        if wanted is None:
            return web.Response(body=data, headers=headers)
        start, end = wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return web.Response(status=206, body=data[start : end + 1], headers=headers)


def _too_large(limit: int) -> web.Response:
    return web.Response(status=413, text=f"files are limited to {limit} bytes here")


def byte_range(value: str | None, size: int) -> tuple[int, int] | None:
    """A single byte range to serve (inclusive), ``(-1, -1)`` when unsatisfiable, or None
    to serve the whole content (no Range, several ranges, or one we do not understand)."""
    if value is None:
        return None
    match = _RANGE.fullmatch(value.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        count = int(last)
        if count == 0 or size == 0:
            return (-1, -1)
        return (max(size - count, 0), size - 1)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return (-1, -1)
    return (start, end)
