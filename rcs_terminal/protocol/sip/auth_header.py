"""The grammar of the SIP/HTTP authentication header fields.

This module owns the values of ``WWW-Authenticate`` / ``Proxy-Authenticate`` (challenges)
and ``Authorization`` / ``Proxy-Authorization`` (credentials): their models, parsing and
writing (RFC 3261 §25.1 ``challenge`` / ``credentials``, RFC 7235 §2.1 ``auth-param`` and
``token68``, RFC 7616 §3.3-3.4 parameter names). It works on header value strings, so it
needs nothing from the SIP message layer; the Digest computation that uses these models
lives in :mod:`rcs_terminal.protocol.sip.auth`.

Parsing is lenient where real networks differ (spacing, case of parameter names, quoted or
bare values, escaped quotes, empty list elements, several challenges in one HTTP header)
and strict where a mistake would change meaning (unterminated quotes, control characters,
duplicate parameters, missing commas, Digest without realm/nonce). Every failure is an
:class:`~rcs_terminal.errors.AuthChallengeError`; parameter values are kept unquoted and
otherwise exactly as sent, because a digest covers them verbatim.

Writing uses the common form: quoted strings for ``realm``, ``nonce``, ``uri``,
``response``, ``cnonce``, ``opaque``, ``qop`` (in challenges), ``domain``, ``auts``, and
bare tokens for ``algorithm``, ``stale``, and ``qop`` and ``nc`` in credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rcs_terminal.errors import AuthChallengeError, LocalProtocolError
from rcs_terminal.protocol import limits

__all__ = [
    "Challenge",
    "Credentials",
    "format_challenge",
    "format_credentials",
    "parse_challenge",
    "parse_challenges",
    "parse_credentials",
    "quoted_string",
    "token_or_quoted",
]

MAX_AUTH_PARAMS = 64
"""Most parameters accepted in one challenge or credentials."""

MAX_CHALLENGES = 8
"""Most challenges accepted in one header value."""

_WS = " \t\r\n"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*)"')
_BARE = re.compile(r'[^ \t\r\n,"\x00-\x1f\x7f]*')
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NC = re.compile(r"[0-9A-Fa-f]{1,8}")
AKA_ALGORITHM = re.compile(r"AKAV(\d{1,3})-(.+)")
"""An upper-cased ``algorithm`` value naming IMS AKA (RFC 3310 §3): version, base algorithm."""

Params = tuple[tuple[str, str], ...]
"""Extra parameters: (lower-case name, value) pairs in the order they were sent."""


# --------------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge from a ``WWW-Authenticate`` or ``Proxy-Authenticate`` header.

    Attributes:
        scheme: the auth scheme; ``"Digest"`` whatever case it was sent in, others as sent.
        realm: the protection realm.
        nonce: the server nonce (for AKA: base64 of RAND, AUTN and maybe server data).
        opaque: data the client returns unchanged, if any.
        algorithm: the algorithm as sent, or None (meaning MD5).
        qop: the offered qop values, lower-cased, in the server's order; empty = RFC 2069.
        stale: True when the previous nonce merely expired (retry, same credentials).
        domain: the URIs of the protection space, if listed.
        params: any other parameters, as (lower-case name, value), in order.
        token68: the token68 form of non-Digest schemes (``Basic xyz==``), else None.
    """

    scheme: str
    realm: str | None = None
    nonce: str | None = None
    opaque: str | None = None
    algorithm: str | None = None
    qop: tuple[str, ...] = ()
    stale: bool = False
    domain: tuple[str, ...] = ()
    params: Params = ()
    token68: str | None = None

    @property
    def is_digest(self) -> bool:
        """True for a Digest challenge (the only scheme this module answers)."""
        return self.scheme == "Digest"

    @property
    def is_aka(self) -> bool:
        """True when the algorithm names IMS AKA (``AKAv1-MD5``, ``AKAv2-MD5``...)."""
        return (
            self.algorithm is not None and AKA_ALGORITHM.match(self.algorithm.upper()) is not None
        )

    def param(self, name: str) -> str | None:
        """The value of an extra parameter, looked up case-insensitively."""
        return _lookup(self.params, name)


@dataclass(frozen=True, slots=True)
class Credentials:
    """The credentials of an ``Authorization`` or ``Proxy-Authorization`` header.

    Values are kept exactly as sent (unquoted), since the digest covers them verbatim.

    Attributes:
        scheme: the auth scheme; ``"Digest"`` whatever case it was sent in.
        username: the user name (the IMPI for IMS).
        realm: the realm being answered.
        nonce: the server nonce being answered.
        uri: the digest-uri (for REGISTER, ``sip:<home domain>``).
        response: the hex digest, or ``""`` in an initial IMS REGISTER.
        algorithm: the algorithm as sent, or None.
        cnonce: the client nonce, when qop or a ``-sess`` algorithm is used.
        opaque: the challenge's opaque value, returned.
        qop: the chosen qop as sent, or None.
        nc: the nonce count as sent (8 hex digits), or None.
        auts: the base64 AUTS of an AKA resynchronisation (RFC 3310 §3.4), or None.
        params: any other parameters, as (lower-case name, value), in order.
        token68: the token68 form of non-Digest schemes, else None.
    """

    scheme: str
    username: str | None = None
    realm: str | None = None
    nonce: str | None = None
    uri: str | None = None
    response: str | None = None
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None
    auts: str | None = None
    params: Params = ()
    token68: str | None = None

    @property
    def nc_value(self) -> int | None:
        """The nonce count as a number, or None when absent."""
        return int(self.nc, 16) if self.nc is not None else None

    def param(self, name: str) -> str | None:
        """The value of an extra parameter, looked up case-insensitively."""
        return _lookup(self.params, name)


def _lookup(params: Params, name: str) -> str | None:
    key = name.lower()
    return next((value for pname, value in params if pname == key), None)


# --------------------------------------------------------------------------- parsing


class _Raw:
    """One challenge or credentials while it is being scanned."""

    __slots__ = ("params", "scheme", "seen", "token68")

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.token68: str | None = None
        self.params: list[tuple[str, str]] = []
        self.seen: set[str] = set()


def _skip_ws(value: str, i: int) -> int:
    n = len(value)
    while i < n and value[i] in _WS:
        i += 1
    return i


def _scan(value: str, status: int | None) -> list[_Raw]:
    """Split a header value into schemes, each with its token68 or parameters."""

    def fail(reason: str, where: int | str) -> AuthChallengeError:
        return AuthChallengeError(reason, where=where, status_hint=status)

    if not isinstance(value, str):
        raise fail("header value must be text", 0)
    if len(value) > limits.MAX_SIP_MESSAGE:
        raise fail(f"header value of {len(value)} characters is too long", 0)
    found: list[_Raw] = []
    current: _Raw | None = None
    n = len(value)
    i = 0
    while True:
        while i < n and (value[i] in _WS or value[i] == ","):
            i += 1  # whitespace and empty list elements
        if i >= n:
            return found
        match = _TOKEN.match(value, i)
        if match is None:
            raise fail("expected a scheme or a parameter name", i)
        name, end = match.group(), match.end()
        j = _skip_ws(value, end)
        if j < n and value[j] == "=":
            if current is None:
                raise fail(f"parameter {name!r} before any scheme", i)
            if current.token68 is not None:
                raise fail("parameters after a token68 value", i)
            j = _skip_ws(value, j + 1)
            if j < n and value[j] == '"':
                quoted = _QUOTED.match(value, j)
                if quoted is None:
                    raise fail(f"unterminated or invalid quoted value of {name!r}", j)
                text, j = quoted.group(1), quoted.end()
                if "\\" in text:
                    text = _ESCAPED.sub(r"\1", text)
            else:
                bare = _BARE.match(value, j)
                assert bare is not None  # the pattern also matches the empty string
                text, j = bare.group(), bare.end()
            key = name.lower()
            if key in current.seen:
                raise fail(f"duplicate parameter {key!r}", i)
            if len(current.params) >= MAX_AUTH_PARAMS:
                raise fail("too many parameters", i)
            current.seen.add(key)
            current.params.append((key, text))
            j = _skip_ws(value, j)
            if j < n and value[j] != ",":
                raise fail("expected ',' between parameters", j)
            i = j
            continue
        if j < n and j == end and value[j] != ",":
            raise fail(f"unexpected character after {name!r}", j)
        if len(found) >= MAX_CHALLENGES:
            raise fail("too many schemes in one header", i)
        current = _Raw(name)
        found.append(current)
        i = j
        if end < j < n:
            t68 = _TOKEN68.match(value, j)
            if t68 is not None:
                k = _skip_ws(value, t68.end())
                if k >= n or value[k] == ",":
                    current.token68 = t68.group()
                    i = k


def _scheme(raw: _Raw) -> str:
    return "Digest" if raw.scheme.lower() == "digest" else raw.scheme


def _split_fields(raw: _Raw, fields: frozenset[str]) -> tuple[dict[str, str], Params]:
    known = {name: value for name, value in raw.params if name in fields}
    other = tuple((name, value) for name, value in raw.params if name not in fields)
    return known, other


_CHALLENGE_FIELDS = frozenset(["realm", "nonce", "opaque", "algorithm", "qop", "stale", "domain"])
_CREDENTIAL_FIELDS = frozenset(
    [
        "username",
        "realm",
        "nonce",
        "uri",
        "response",
        "algorithm",
        "cnonce",
        "opaque",
        "qop",
        "nc",
        "auts",
    ]
)


def _to_challenge(raw: _Raw) -> Challenge:
    known, other = _split_fields(raw, _CHALLENGE_FIELDS)
    qop = tuple(q.strip().lower() for q in known.get("qop", "").split(",") if q.strip())
    challenge = Challenge(
        scheme=_scheme(raw),
        realm=known.get("realm"),
        nonce=known.get("nonce"),
        opaque=known.get("opaque"),
        algorithm=known.get("algorithm") or None,
        qop=qop,
        stale=known.get("stale", "").strip().lower() == "true",
        domain=tuple(known.get("domain", "").split()),
        params=other,
        token68=raw.token68,
    )
    if challenge.is_digest:
        if raw.token68 is not None:
            raise AuthChallengeError("Digest challenge with a token68 value", where="scheme")
        for name in ("realm", "nonce"):
            if name not in known:
                raise AuthChallengeError(f"Digest challenge without {name}", where=f"param {name}")
    return challenge


def parse_challenges(value: str) -> tuple[Challenge, ...]:
    """Parse every challenge of a header value (HTTP allows several in one value).

    Raises:
        AuthChallengeError: when the value is malformed or holds no challenge.
    """
    raws = _scan(value, None)
    if not raws:
        raise AuthChallengeError("empty challenge", where=0)
    return tuple(_to_challenge(raw) for raw in raws)


def parse_challenge(value: str) -> Challenge:
    """Parse the value of a ``WWW-Authenticate`` or ``Proxy-Authenticate`` header.

    SIP carries one challenge per header field (RFC 3261 §20.44, §20.27).

    Raises:
        AuthChallengeError: when the value is malformed, holds more than one challenge, or
            is a Digest challenge without realm or nonce.
    """
    challenges = parse_challenges(value)
    if len(challenges) != 1:
        raise AuthChallengeError(f"{len(challenges)} challenges in one header", where=0)
    return challenges[0]


def parse_credentials(value: str) -> Credentials:
    """Parse the value of an ``Authorization`` or ``Proxy-Authorization`` header.

    Raises:
        AuthChallengeError: (``status_hint`` 400) when the value is malformed, or Digest
            credentials miss a required parameter or carry a non-hex ``nc``.
    """
    raws = _scan(value, 400)
    if len(raws) != 1:
        raise AuthChallengeError("expected exactly one credentials", where=0, status_hint=400)
    raw = raws[0]
    known, other = _split_fields(raw, _CREDENTIAL_FIELDS)
    credentials = Credentials(
        scheme=_scheme(raw),
        username=known.get("username"),
        realm=known.get("realm"),
        nonce=known.get("nonce"),
        uri=known.get("uri"),
        response=known.get("response"),
        algorithm=known.get("algorithm") or None,
        cnonce=known.get("cnonce"),
        opaque=known.get("opaque"),
        qop=known.get("qop"),
        nc=known.get("nc"),
        auts=known.get("auts"),
        params=other,
        token68=raw.token68,
    )
    if credentials.scheme == "Digest":
        if raw.token68 is not None:
            raise AuthChallengeError("Digest credentials with a token68 value", status_hint=400)
        missing = [f for f in ("realm", "nonce", "uri", "response") if f not in known]
        if "username" not in known and credentials.param("username*") is None:
            missing.insert(0, "username")
        if missing:
            raise AuthChallengeError(
                f"Digest credentials without {', '.join(missing)}",
                where=f"param {missing[0]}",
                status_hint=400,
            )
        if credentials.nc is not None and _NC.fullmatch(credentials.nc) is None:
            raise AuthChallengeError(
                "nc is not 1 to 8 hex digits", where="param nc", status_hint=400
            )
    return credentials


# --------------------------------------------------------------------------- writing


def quoted_string(name: str, value: str) -> str:
    """Write ``value`` as a quoted-string, escaping ``\\`` and ``"`` (RFC 3261 §25.1).

    Raises:
        LocalProtocolError: when the value holds a control character (parameter ``name``).
    """
    if _CTL.search(value):
        raise LocalProtocolError(f"control character in auth parameter {name!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def token_or_quoted(name: str, value: str) -> str:
    """Write ``value`` bare when it is a token, else as a quoted-string."""
    return value if _TOKEN.fullmatch(value) else quoted_string(name, value)


def _write(scheme: str, token68: str | None, items: Iterable[tuple[str, str | None, bool]]) -> str:
    if _TOKEN.fullmatch(scheme) is None:
        raise LocalProtocolError(f"invalid auth scheme {scheme!r}")
    parts = []
    for name, value, quote in items:
        if value is None:
            continue
        if _TOKEN.fullmatch(name) is None:
            raise LocalProtocolError(f"invalid auth parameter name {name!r}")
        parts.append(
            f"{name}={quoted_string(name, value) if quote else token_or_quoted(name, value)}"
        )
    if token68 is not None:
        if _TOKEN68.fullmatch(token68) is None or parts:
            raise LocalProtocolError("invalid token68 credentials")
        return f"{scheme} {token68}"
    return f"{scheme} {','.join(parts)}" if parts else scheme


def format_challenge(challenge: Challenge) -> str:
    """Write a challenge as a header value (the inverse of :func:`parse_challenge`).

    Raises:
        LocalProtocolError: when a value holds control characters or a name is no token.
    """
    c = challenge
    items: list[tuple[str, str | None, bool]] = [
        ("realm", c.realm, True),
        ("domain", " ".join(c.domain) if c.domain else None, True),
        ("nonce", c.nonce, True),
        ("opaque", c.opaque, True),
        ("stale", "true" if c.stale else None, False),
        ("algorithm", c.algorithm, False),
        ("qop", ",".join(c.qop) if c.qop else None, True),
    ]
    items.extend((name, value, False) for name, value in c.params)
    return _write(c.scheme, c.token68, items)


def format_credentials(credentials: Credentials) -> str:
    """Write credentials as a header value (the inverse of :func:`parse_credentials`).

    The order is the one common servers expect: username, realm, nonce, uri, response,
    algorithm, cnonce, opaque, qop, nc, then auts and any other parameters.

    Raises:
        LocalProtocolError: when a value holds control characters or a name is no token.
    """
    c = credentials
    items: list[tuple[str, str | None, bool]] = [
        ("username", c.username, True),
        ("realm", c.realm, True),
        ("nonce", c.nonce, True),
        ("uri", c.uri, True),
        ("response", c.response, True),
        ("algorithm", c.algorithm, False),
        ("cnonce", c.cnonce, True),
        ("opaque", c.opaque, True),
        ("qop", c.qop, False),
        ("nc", c.nc, False),
        ("auts", c.auts, True),
    ]
    items.extend((name, value, False) for name, value in c.params)
    return _write(c.scheme, c.token68, items)
