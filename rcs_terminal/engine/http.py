"""The handset's HTTP client (provisioning, bot info, directory, file transfer).

A thin layer over aiohttp that (1) records every request and response in the trace as HTTP/1.1
text, secrets masked; (2) never looks a lab or test name up in DNS: names in ``hosts`` map to
literal addresses (the lab maps its own domains there), and with ``allow_dns=False`` any other
name is refused instead of resolved; (3) refuses response bodies over ``max_body`` bytes; and
(4) keeps no cookie jar: the callers (the RCC.14 flow) manage cookies explicitly, as the spec
describes them.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import NetworkError

DEFAULT_MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class HttpResponse:
    """A complete HTTP response."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)
    url: str = ""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    def header_all(self, name: str) -> list[str]:
        """Every value of header ``name``."""
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]


class StaticResolver(AbstractResolver):
    """Resolves names from a fixed map; other names go to the system resolver only when
    ``allow_dns`` is true. Literal IP addresses never reach a resolver."""

    def __init__(self, hosts: Mapping[str, str], *, allow_dns: bool) -> None:
        self._hosts = {k.lower(): v for k, v in hosts.items()}
        self._allow_dns = allow_dns
        self._fallback: AbstractResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self._hosts.get(host.lower())
        if address is None:
            if not self._allow_dns:
                raise OSError(f"{host} is not a lab/test name with a known address (DNS is off)")
            if self._fallback is None:
                self._fallback = aiohttp.ThreadedResolver()
            return await self._fallback.resolve(host, port, family)
        fam = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=fam,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        if self._fallback is not None:
            await self._fallback.close()


class HttpClient:
    """One handset SIM's HTTP client.

    Args:
        trace: where every exchange is recorded.
        sim: the SIM slot for the trace.
        hosts: name -> literal address map (lab and test names).
        allow_dns: whether names outside ``hosts`` may be resolved by the system.
        ssl_context: TLS settings for https (verification on by default).
        timeout: seconds for a whole exchange.
        max_body: the largest response body accepted.
    """

    def __init__(
        self,
        trace: TraceRecorder | None = None,
        *,
        sim: int | None = None,
        owner: str | None = None,
        hosts: Mapping[str, str] | None = None,
        allow_dns: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self._trace = trace
        self._sim = sim
        self._owner = owner
        self._hosts = dict(hosts or {})
        self._allow_dns = allow_dns
        self._ssl = ssl_context
        self._timeout = timeout
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=StaticResolver(self._hosts, allow_dns=self._allow_dns),
                ssl=self._ssl if self._ssl is not None else True,
                use_dns_cache=False,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                auto_decompress=True,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
        data: Any = None,
        max_body: int | None = None,
    ) -> HttpResponse:
        """Send one request and read the whole response.

        ``url`` is sent as given (already percent-encoded): RCC.14 query values such as
        ``%2B86...`` and ``urn%3Aoma...`` must reach the server byte for byte.

        Raises:
            NetworkError: connection failures, timeouts, TLS errors and oversized bodies.
        """
        limit = self._max_body if max_body is None else max_body
        self._check_host(url)
        header_list = list(headers)
        session = self._get_session()
        self._record_request(method, url, header_list, body)
        try:
            async with session.request(
                method,
                yarl.URL(url, encoded=True),
                headers=header_list or None,
                data=body if data is None else data,
                allow_redirects=False,
            ) as resp:
                declared = resp.content_length
                if declared is not None and declared > limit:
                    raise NetworkError(
                        f"{method} {_short(url)}: response of {declared} bytes exceeds {limit}"
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > limit:
                        raise NetworkError(
                            f"{method} {_short(url)}: response body exceeds {limit} bytes"
                        )
                    chunks.append(chunk)
                result = HttpResponse(
                    status=resp.status,
                    reason=resp.reason or "",
                    headers=tuple((k, v) for k, v in resp.headers.items()),
                    body=b"".join(chunks),
                    url=url,
                )
        except NetworkError:
            raise
        except TimeoutError as exc:
            raise NetworkError(
                f"{method} {_short(url)}: no answer within {self._timeout:g} s"
            ) from exc
        except (aiohttp.ClientError, OSError, ssl.SSLError) as exc:
            raise NetworkError(f"{method} {_short(url)}: {exc}") from exc
        self._record_response(result)
        return result

    async def close(self) -> None:
        """Close connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _check_host(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        if self._allow_dns or host in self._hosts or _is_literal_ip(host):
            return
        raise NetworkError(
            f"{host} is not a lab/test name with a known address and DNS is off",
            hint="Map the name to a literal address (the lab does this for its own names).",
        )

    # ------------------------------------------------------------------ trace

    def _record_request(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> None:
        if self._trace is None:
            return
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in headers]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + (body or b"")
        self._trace.record(
            "out",
            "HTTP",
            raw,
            transport=parts.scheme,
            local="",
            remote=parts.netloc,
            sim=self._sim,
            owner=self._owner,
        )

    def _record_response(self, resp: HttpResponse) -> None:
        if self._trace is None:
            return
        parts = urlsplit(resp.url)
        lines = [f"HTTP/1.1 {resp.status} {resp.reason}"] + [f"{k}: {v}" for k, v in resp.headers]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace") + resp.body
        self._trace.record(
            "in",
            "HTTP",
            raw,
            transport=parts.scheme,
            local="",
            remote=parts.netloc,
            sim=self._sim,
            owner=self._owner,
        )


def _is_literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
