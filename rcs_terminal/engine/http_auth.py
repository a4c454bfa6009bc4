"""HTTP authentication for the handset's HTTP services (FT content server, bot info).

:class:`HttpAuthenticator` sends a request, and on a 401 answers the challenge once: HTTP
Digest (RFC 7616; SHA-256 preferred over MD5, ``stale=true`` answered) computed with the SIP
core's digest code, or Basic (RFC 7617) only when that is all the server offers.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from yarl import URL

from rcs_terminal.engine.http import HttpClient, HttpResponse
from rcs_terminal.errors import (
    AuthChallengeError,
    AuthenticationError,
)
from rcs_terminal.protocol.sip.auth import (
    Challenge,
    NonceCounter,
    build_authorization,
    parse_algorithm,
    parse_challenges,
)

__all__ = ["HttpAuthenticator"]


def _rank(challenge: Challenge) -> int | None:
    """How much we like a challenge (higher is better), or None when we cannot answer it."""
    if challenge.is_digest:
        if challenge.is_aka:
            return None
        try:
            algorithm = parse_algorithm(challenge.algorithm)
        except AuthChallengeError:
            return None
        if challenge.qop and not {"auth", "auth-int"} & set(challenge.qop):
            return None
        return 10 + 2 * (algorithm.hash_name == "sha256") + (not algorithm.session)
    return 1 if challenge.scheme.lower() == "basic" else None


def _target(url: str) -> str:
    """The request-target as sent (the HTTP client sends percent-encoded URLs verbatim)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _origin(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.scheme}://{(parsed.host or '').lower()}:{parsed.port}"


class HttpAuthenticator:
    """Answers HTTP authentication challenges with one user's credentials.

    Digest (RFC 7616: SHA-256 preferred over MD5, qop ``auth`` or ``auth-int``) through
    :mod:`rcs_terminal.protocol.sip.auth`, which computes HTTP digests as well as SIP ones;
    Basic (RFC 7617) only when a server offers nothing else. The last challenge of each
    origin is kept, so later requests to it carry credentials at once (with the next
    ``nc``); other origins never see them unless they ask.

    Args:
        user: the user name (``None`` when none is configured).
        password: the password (never stored elsewhere, never in ``repr``).
        cnonce: makes client nonces.
    """

    def __init__(
        self,
        user: str | None,
        password: str | None,
        *,
        cnonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.user = user
        self._password = password
        self._cnonce = cnonce
        self._challenges: dict[str, Challenge] = {}
        self._counter = NonceCounter()

    def __repr__(self) -> str:
        return f"HttpAuthenticator(user={self.user!r})"

    def has_challenge(self, url: str) -> bool:
        """True once the origin of ``url`` has challenged us."""
        return _origin(url) in self._challenges

    def learn(self, response: HttpResponse) -> Challenge:
        """Remember the best challenge of a 401 response and return it.

        Raises:
            AuthenticationError: the response offers no challenge we can answer, or we
                have no credentials.
        """
        offered: list[Challenge] = []
        for value in response.header_all("WWW-Authenticate"):
            try:
                offered.extend(parse_challenges(value))
            except AuthChallengeError:
                continue
        ranked = [(rank, c) for c in offered if (rank := _rank(c)) is not None]
        where = _origin(response.url)
        if not ranked:
            raise AuthenticationError(
                f"{where} asks for authentication this client cannot answer",
                hint="The server offered neither Digest (MD5/SHA-256) nor Basic.",
            )
        if not self.user or self._password is None:
            raise AuthenticationError(
                f"{where} asks for credentials and none are configured",
                hint="Provision again: ftHTTPCSUser/ftHTTPCSPwd come with the configuration.",
            )
        best = max(ranked, key=lambda item: item[0])[1]
        self._challenges[where] = best
        return best

    def authorization(self, method: str, url: str, body: bytes = b"") -> str | None:
        """The ``Authorization`` value for a request, when its origin has challenged us."""
        challenge = self._challenges.get(_origin(url))
        if challenge is None or not self.user or self._password is None:
            return None
        if not challenge.is_digest:
            token = base64.b64encode(f"{self.user}:{self._password}".encode()).decode("ascii")
            return f"Basic {token}"
        return build_authorization(
            challenge,
            method=method,
            uri=_target(url),
            username=self.user,
            password=self._password,
            cnonce=self._cnonce(),
            nc=self._counter.next(challenge.nonce or ""),
            body=body,
        )

    async def request(
        self,
        http: HttpClient,
        method: str,
        url: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
        max_body: int | None = None,
        traced: bool = True,
    ) -> HttpResponse:
        """Send a request, answering a 401 challenge once (twice after ``stale=true``).

        Args:
            http: the client that sends it.
            method: the method.
            url: the URL.
            headers: header fields besides ``Authorization``.
            body: the body.
            max_body: the largest response body accepted.
            traced: False to keep the body out of the trace (large uploads).

        Raises:
            AuthenticationError: the server refused the credentials.
            NetworkError: from the HTTP client.
        """
        base = list(headers)
        answered = False
        for _ in range(3):
            value = self.authorization(method, url, body or b"")
            extra = [("Authorization", value)] if value is not None else []
            resp = await http.request(
                method,
                url,
                headers=base + extra,
                body=body if traced else None,
                data=None if traced else body,
                max_body=max_body,
            )
            if resp.status != 401:
                return resp
            challenge = self.learn(resp)
            if answered and not challenge.stale:
                break
            answered = True
        raise AuthenticationError(
            f"{_origin(url)} refused the credentials of {self.user}",
            hint="The file-transfer credentials may be out of date: provision again.",
        )
