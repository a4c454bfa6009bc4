"""Chatbot information and directory search over HTTP, with an HTTP cache (formats.md §6).

Bot info comes from ``BotinfoFQDNRoot`` (``MESSAGING/Chatbot`` in the configuration)::

    GET <base>/bot?id=<service id, percent-encoded>&hl=<language>[&ho=<home operator>]&v=3
    X-3GPP-Intended-Identity: "tel:+86..."
    If-None-Match: <stored ETag>

where ``<base>`` is built from the root as follows: a root with a scheme
(``https://host/path``) is used as it is; a bare FQDN means ``https://<fqdn>`` (what
RCC.07 describes); a name with a port means ``http://<name>:<port>`` unless the port is 443
-- that is the lab's form (``botplatform.lab:PORT``), whose ports are chosen at start-up
and which serves bot info over plain HTTP. The ``v`` value (3) follows the open clients
(UNSURE for UP 2.4); the identity header is written as the quoted string of TS 24.109.

Responses are cached per service id, in memory and (when ``cache_dir`` is given, normally
``<profile dir>/botinfo``) on disk, so a new client (a restarted handset) still has them:
200 stores the body with its ``ETag`` and ``Cache-Control: max-age`` (``no-store``: not
kept; ``no-cache`` or no max-age: kept but revalidated on every use); 304 keeps the body
and restarts its lifetime; 404/410 drop it. While a copy is fresh no request is sent; when
the server cannot be reached or fails (5xx) the stale copy is returned. A 401 is answered
with the configured credentials (HTTP Digest/Basic) when there are any.

Directory search (``ChatbotDirectory``)::

    GET <ChatbotDirectory>?q=<query>&start=<n>&num=<n>[&ho=...]&chatbot_version=1_2
        [&client_vendor=...&client_version=...]

The response format is a gap in the public specifications; :func:`parse_directory` reads
what directories plausibly send: a JSON list of entries, or an object holding that list
under ``bots``, ``chatbots``, ``results``, ``items``, ``entries``, ``list`` or ``data``
(also one level down, ``{"data": {"list": [...]}}``). An entry is either a bot-info
document (``{"botinfo": {...}}``) or a flat object (the lab's form; a ``botinfo`` member
holding a URL is ignored) with the service id under ``serviceId``
/ ``service_id`` / ``id`` / ``uri``, the name under ``name`` / ``displayName`` /
``serviceName``, the description, the logo (``logo`` / ``logoUrl`` / ``icon`` /
``serviceIcon``) and ``verified``. Entries without a service id are skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from rcs_terminal import paths
from rcs_terminal.engine.http import HttpClient, HttpResponse
from rcs_terminal.engine.http_auth import HttpAuthenticator
from rcs_terminal.errors import NetworkError, PayloadParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.provisioning import RcsConfig
from rcs_terminal.protocol.up.botinfo import BotInfo, parse_botinfo
from rcs_terminal.protocol.up.menu import Menu

__all__ = [
    "BotInfoClient",
    "BotSummary",
    "botinfo_base_url",
    "botinfo_cache_dir",
    "parse_directory",
]

BOTINFO_VERSION = "3"
CHATBOT_VERSION = "1_2"
_CACHE_FORMAT = 1
_LIST_KEYS = ("bots", "chatbots", "results", "items", "entries", "list", "botlist", "data")
_ID_KEYS = ("serviceid", "id", "uri", "chatbotid", "botid", "serviceuri", "sipuri", "address")
_NAME_KEYS = ("name", "displayname", "servicename", "botname", "title")
_DESCRIPTION_KEYS = ("description", "servicedescription", "orgdescription", "desc")
_LOGO_KEYS = ("logo", "logourl", "icon", "iconurl", "serviceicon", "image")


@dataclass(frozen=True)
class BotSummary:
    """One directory search result.

    Attributes:
        service_id: the chatbot's service id (its SIP URI).
        name: its display name (the service id when the directory gives none).
        description: a short description, if any.
        logo_url: its logo, if any.
        verified: True when the directory says the chatbot is verified.
    """

    service_id: str
    name: str
    description: str | None = None
    logo_url: str | None = None
    verified: bool = False


def botinfo_cache_dir(profile_name: str) -> Path:
    """Where a profile keeps its bot-info cache: ``<profile dir>/botinfo``."""
    return paths.profile_dir(profile_name) / "botinfo"


def botinfo_base_url(fqdn_root: str) -> str:
    """The base URL for ``BotinfoFQDNRoot`` (see the module docstring for the rules)."""
    root = fqdn_root.strip().rstrip("/")
    if "://" in root:
        return root
    try:
        port = urlsplit("//" + root).port
    except ValueError:  # not a port number: let the request report the bad URL
        port = None
    scheme = "http" if port is not None and port != 443 else "https"
    return f"{scheme}://{root}"


# --------------------------------------------------------------------------- directory


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().encode("utf-8", "replace").decode("utf-8")


def _truthy(value: Any) -> bool:
    if isinstance(value, Mapping):
        return _truthy(value.get("verified"))
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "verified")
    return value is True or value == 1


def _pick(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    normal = {str(k).replace("-", "").replace("_", "").lower(): v for k, v in item.items()}
    for key in keys:
        if normal.get(key) is not None:
            return normal[key]
    return None


def _summary(item: Mapping[str, Any]) -> BotSummary | None:
    if isinstance(item.get("botinfo"), Mapping):
        try:
            info = parse_botinfo(item)
        except PayloadParseError:
            return None
        if not info.service_id:
            return None
        return BotSummary(
            service_id=info.service_id,
            name=info.name or info.service_id,
            description=info.description,
            logo_url=info.logo_url,
            verified=bool(info.verified),
        )
    service_id = _text(_pick(item, _ID_KEYS))
    if service_id is None:
        return None
    verified = _pick(item, ("verified", "isverified", "verification", "botverification"))
    return BotSummary(
        service_id=service_id,
        name=_text(_pick(item, _NAME_KEYS)) or service_id,
        description=_text(_pick(item, _DESCRIPTION_KEYS)),
        logo_url=_text(_pick(item, _LOGO_KEYS)),
        verified=_truthy(verified),
    )


def _find_list(doc: Any, depth: int = 0) -> list[Any] | None:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, Mapping) or depth > 1:
        return None
    if isinstance(doc.get("botinfo"), Mapping):
        return [doc]
    lowered = {str(k).lower(): v for k, v in doc.items()}
    for key in _LIST_KEYS:
        found = _find_list(lowered[key], depth + 1) if key in lowered else None
        if found is not None:
            return found
    return None


def parse_directory(data: bytes | str | list[Any] | Mapping[str, Any]) -> list[BotSummary]:
    """Read a directory search response (see the module docstring for the accepted forms).

    Raises:
        PayloadParseError: the body is oversized, not JSON, or holds no list of chatbots.
    """
    doc: Any = data
    if isinstance(data, bytes | str):
        if len(data) > limits.MAX_JSON:
            raise PayloadParseError(f"directory response exceeds {limits.MAX_JSON} bytes")
        try:
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
            doc = json.loads(text)
        except UnicodeDecodeError as exc:
            raise PayloadParseError("directory response is not UTF-8", where=exc.start) from None
        except (ValueError, RecursionError) as exc:
            raise PayloadParseError(f"directory response is not JSON: {exc}") from None
    items = _find_list(doc)
    if items is None:
        raise PayloadParseError("directory response holds no list of chatbots", where="$")
    found: dict[str, BotSummary] = {}
    for item in items:
        summary = _summary(item) if isinstance(item, Mapping) else None
        if summary is not None:
            found.setdefault(summary.service_id, summary)
    return list(found.values())


# --------------------------------------------------------------------------- cache


def _cache_control(resp: HttpResponse) -> tuple[bool, int]:
    """``(may store, max-age seconds)`` from the response's Cache-Control."""
    store, max_age = True, 0
    for directive in ",".join(resp.header_all("Cache-Control")).split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name == "no-store":
            store = False
        elif name == "no-cache":
            max_age = 0
            break
        elif name == "max-age":
            digits = value.strip().strip('"')
            max_age = int(digits) if digits.isdigit() and len(digits) < 12 else 0
    return store, max_age


@dataclass
class _Entry:
    service_id: str
    body: bytes = field(repr=False)
    etag: str | None
    expires: float
    max_age: int
    info: BotInfo | None = None

    def parsed(self) -> BotInfo:
        if self.info is None:
            self.info = parse_botinfo(self.body)
        return self.info

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _CACHE_FORMAT,
            "service_id": self.service_id,
            "etag": self.etag,
            "expires": self.expires,
            "max_age": self.max_age,
            "body": self.body.decode("utf-8", "surrogateescape"),
        }

    @classmethod
    def from_json(cls, data: Any, service_id: str) -> _Entry | None:
        if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
            return None
        etag, expires, max_age = data.get("etag"), data.get("expires"), data.get("max_age")
        if data.get("service_id") != service_id or not isinstance(data.get("body"), str):
            return None
        if not isinstance(expires, int | float) or not isinstance(max_age, int):
            return None
        return cls(
            service_id=service_id,
            body=data["body"].encode("utf-8", "surrogateescape"),
            etag=etag if isinstance(etag, str) else None,
            expires=float(expires),
            max_age=max_age,
        )


class BotInfoClient:
    """Fetches chatbot information (cached) and searches the chatbot directory.

    Args:
        http: the SIM's HTTP client.
        fqdn_root: ``BotinfoFQDNRoot``; None when bot info is not provisioned.
        directory_url: ``ChatbotDirectory``; None when search is not provisioned.
        identity: the SIM's public identity for ``X-3GPP-Intended-Identity``.
        language: ``hl``.
        home_operator: ``ho``, if known.
        version: ``v``.
        client_vendor: ``client_vendor`` for the directory.
        client_version: ``client_version`` for the directory.
        cache_dir: where responses persist (memory only when None).
        user: user name for servers that ask for authentication.
        password: its password.
        clock: Unix time (cache lifetimes survive restarts, so wall-clock time).
        memory_entries: how many bots the in-memory cache holds.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        fqdn_root: str | None,
        directory_url: str | None = None,
        identity: str | None = None,
        language: str = "zh-CN",
        home_operator: str | None = None,
        version: str = BOTINFO_VERSION,
        client_vendor: str | None = None,
        client_version: str | None = None,
        cache_dir: Path | None = None,
        user: str | None = None,
        password: str | None = None,
        clock: Callable[[], float] = time.time,
        memory_entries: int = 256,
    ) -> None:
        self.http = http
        self.fqdn_root = fqdn_root or None
        self.directory_url = directory_url or None
        self.identity = identity
        self.language = language
        self.home_operator = home_operator
        self.version = version
        self.client_vendor = client_vendor
        self.client_version = client_version
        self.cache_dir = cache_dir
        self._auth = HttpAuthenticator(user, password)
        self._clock = clock
        self._memory: OrderedDict[str, _Entry] = OrderedDict()
        self._memory_entries = max(1, memory_entries)

    @classmethod
    def from_config(cls, http: HttpClient, config: RcsConfig, **options: Any) -> BotInfoClient:
        """A client for a provisioned configuration's ``MESSAGING/Chatbot`` settings;
        ``options`` are the other constructor arguments."""
        chatbot = config.messaging.chatbot
        return cls(
            http,
            fqdn_root=chatbot.botinfo_fqdn_root,
            directory_url=chatbot.chatbot_directory,
            **options,
        )

    def url(self, service_id: str) -> str:
        """The bot-info URL for ``service_id``.

        Raises:
            NetworkError: no ``BotinfoFQDNRoot`` is configured.
        """
        if self.fqdn_root is None:
            raise NetworkError(
                "no chatbot information server (BotinfoFQDNRoot) is configured",
                hint="Provision the SIM: the configuration names the bot-info server.",
            )
        query: dict[str, str] = {"id": service_id, "hl": self.language}
        if self.home_operator:
            query["ho"] = self.home_operator
        query["v"] = self.version
        return f"{botinfo_base_url(self.fqdn_root)}/bot?{urlencode(query, quote_via=quote)}"

    def _headers(self, etag: str | None = None) -> list[tuple[str, str]]:
        headers = [("Accept", "application/json")]
        if self.identity:
            headers.append(("X-3GPP-Intended-Identity", f'"{self.identity}"'))
        if etag:
            headers.append(("If-None-Match", etag))
        return headers

    # ------------------------------------------------------------------ bot info

    async def get(self, service_id: str, *, refresh: bool = False) -> BotInfo | None:
        """The chatbot's information: from the cache while fresh, else from the server.

        Args:
            service_id: the chatbot's service id (``sip:...@botplatform...``).
            refresh: revalidate even a fresh copy.

        Returns:
            The information, or None when the server does not know the chatbot.

        Raises:
            NetworkError: the server cannot be reached or fails, and nothing is cached.
            AuthenticationError: the server refused the credentials.
            PayloadParseError: the server sent a malformed bot-info document.
        """
        entry = self._load(service_id)
        now = self._clock()
        if entry is not None and not refresh and now < entry.expires:
            return entry.parsed()
        url = self.url(service_id)
        try:
            resp = await self._auth.request(
                self.http,
                "GET",
                url,
                headers=self._headers(entry.etag if entry else None),
                max_body=limits.MAX_JSON,
            )
        except NetworkError:
            if entry is not None:
                return entry.parsed()
            raise
        if resp.status == 304 and entry is not None:
            store, max_age = _cache_control(resp)
            if resp.header("Cache-Control") is None:
                max_age = entry.max_age
            entry.etag = resp.header("ETag") or entry.etag
            entry.max_age, entry.expires = max_age, now + max_age
            self._save(entry)
            return entry.parsed()
        if resp.status == 200:
            store, max_age = _cache_control(resp)
            fresh = _Entry(service_id, resp.body, resp.header("ETag"), now + max_age, max_age)
            info = fresh.parsed()
            if store:
                self._save(fresh)
            else:
                self.forget(service_id)
            return info
        if resp.status in (404, 410):
            self.forget(service_id)
            return None
        if resp.status >= 500 and entry is not None:
            return entry.parsed()
        raise NetworkError(f"bot info for {service_id}: {resp.status} {resp.reason}".strip())

    def cached(self, service_id: str) -> BotInfo | None:
        """The cached information (fresh or not), without any request."""
        entry = self._load(service_id)
        return entry.parsed() if entry is not None else None

    async def persistent_menu(self, service_id: str) -> Menu | None:
        """The chatbot's persistent menu from its (cached) information."""
        info = await self.get(service_id)
        return info.persistent_menu if info is not None else None

    def forget(self, service_id: str) -> None:
        """Drop the cached copy."""
        self._memory.pop(service_id, None)
        path = self._path(service_id)
        if path is not None:
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ directory

    async def search(self, query: str, *, start: int = 0, num: int = 20) -> list[BotSummary]:
        """Search the chatbot directory.

        Raises:
            NetworkError: no ``ChatbotDirectory`` is configured, or the request failed.
            AuthenticationError: the server refused the credentials.
            PayloadParseError: the response is not a directory listing.
        """
        if self.directory_url is None:
            raise NetworkError(
                "no chatbot directory (ChatbotDirectory) is configured",
                hint="Provision the SIM: the configuration names the directory.",
            )
        params: dict[str, str] = {"q": query, "start": str(max(start, 0)), "num": str(num)}
        if self.home_operator:
            params["ho"] = self.home_operator
        params["chatbot_version"] = CHATBOT_VERSION
        if self.client_vendor:
            params["client_vendor"] = self.client_vendor
        if self.client_version:
            params["client_version"] = self.client_version
        joiner = "&" if "?" in self.directory_url else "?"
        url = self.directory_url + joiner + urlencode(params, quote_via=quote)
        resp = await self._auth.request(
            self.http, "GET", url, headers=self._headers(), max_body=limits.MAX_JSON
        )
        if resp.status == 204:
            return []
        if resp.status != 200:
            raise NetworkError(f"chatbot directory: {resp.status} {resp.reason}".strip())
        return parse_directory(resp.body)

    # ------------------------------------------------------------------ persistence

    def _path(self, service_id: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(service_id.encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_dir / f"{digest[:40]}.json"

    def _load(self, service_id: str) -> _Entry | None:
        entry = self._memory.get(service_id)
        if entry is not None:
            self._memory.move_to_end(service_id)
            return entry
        path = self._path(service_id)
        if path is None:
            return None
        try:
            entry = _Entry.from_json(json.loads(path.read_text("utf-8")), service_id)
        except (OSError, ValueError, RecursionError):
            return None
        if entry is not None:
            self._remember(entry)
        return entry

    def _remember(self, entry: _Entry) -> None:
        self._memory[entry.service_id] = entry
        self._memory.move_to_end(entry.service_id)
        while len(self._memory) > self._memory_entries:
            self._memory.popitem(last=False)

    def _save(self, entry: _Entry) -> None:
        self._remember(entry)
        path = self._path(entry.service_id)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            temp.write_text(json.dumps(entry.to_json(), ensure_ascii=False), "utf-8")
            os.replace(temp, path)
        except OSError:
            with contextlib.suppress(OSError):
                temp.unlink()
