"""SIP, SIPS and tel URIs: parsing, writing and comparison (RFC 3261 §19.1, RFC 3966).

This module owns the URI values the SIP layer works with:

- :class:`SipUri` for ``sip:`` and ``sips:`` (§19.1.1): user, password, host (IPv6
  references stay bracketed, ``[2001:db8::1]``), port, uri-parameters and headers. The user,
  password and headers are held *unescaped* (``%2B`` reads as ``+``) and escaped again when
  written (§19.1.2); uri-parameters keep their wire form in a :class:`Params`.
- :class:`TelUri` for ``tel:`` numbers (RFC 3966 §3), global (``+86...``) or local with
  ``phone-context``.
- :class:`AbsoluteUri` for every other scheme a SIP message may carry (``urn:``,
  ``mailto:``, ``http:``, ``im:``...), kept as scheme and text.

:func:`uri_equal` applies the comparison rules of RFC 3261 §19.1.4 (and RFC 3966 §4 for tel
URIs), which are *not* string equality: the host is case-insensitive but the user is not,
escaped and unescaped characters are equal, parameter order does not matter, and a
``user``/``ttl``/``method``/``maddr``/``transport`` parameter present on one side only makes
the URIs differ while other one-sided parameters are ignored.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.grammar import pct_decode, pct_encode
from rcs_terminal.protocol.sip.params import Params, parse_params

__all__ = [
    "AbsoluteUri",
    "SipUri",
    "TelUri",
    "Uri",
    "cached_parse_uri",
    "match_hostport",
    "parse_uri",
    "uri_equal",
]

_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")
_USER_SAFE = _UNRESERVED | frozenset("&=+$,;?/")
_PASSWORD_SAFE = _UNRESERVED | frozenset("&=+$,")
_HNV_SAFE = _UNRESERVED | frozenset("[]/?:+$")

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_FORBIDDEN_RE = re.compile(r'[\s<>"\x00-\x1f\x7f]')
_USER_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()&=+$,;?/%#]+")
_PASSWORD_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()&=+$,%]*")
_HOSTPORT_RE = re.compile(
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_\-.]*))(?::([0-9]{1,5}))?"
)
_GLOBAL_NUMBER_RE = re.compile(r"\+[0-9\-.()]+")
_LOCAL_NUMBER_RE = re.compile(r"(?:[0-9A-Fa-f*#\-.()]|%2[3Aa])+")
_VISUAL_SEPARATORS = str.maketrans("", "", "-.()")
# §19.1.4 names user, ttl, method and maddr; its own examples (``sip:bob@biloxi.com`` is not
# ``sip:bob@biloxi.com;transport=udp``) treat transport the same way, as most stacks do.
_ONE_SIDED_MISMATCH = frozenset({"user", "ttl", "method", "maddr", "transport"})


@dataclass(frozen=True)
class SipUri:
    """A ``sip:`` or ``sips:`` URI (RFC 3261 §19.1.1).

    Attributes:
        scheme: ``"sip"`` or ``"sips"`` (lower case).
        user: the user part, unescaped; ``None`` for a URI without one.
        host: a host name, IPv4 address, or bracketed IPv6 reference (``"[::1]"``).
        port: the port, ``None`` when the URI names none (which is not the same as 5060).
        password: the password of ``user:password@``, unescaped; rarely used.
        params: the uri-parameters (``transport``, ``lr``, ``user``, ``gr``...).
        headers: the ``?name=value&...`` headers, unescaped, in order.
    """

    scheme: str
    user: str | None
    host: str
    port: int | None = None
    password: str | None = None
    params: Params = field(default_factory=Params)
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(pct_encode(self.user, _USER_SAFE))
            if self.password is not None:
                parts.append(":")
                parts.append(pct_encode(self.password, _PASSWORD_SAFE))
            parts.append("@")
        parts.append(self.host)
        if self.port is not None:
            parts.append(f":{self.port}")
        parts.append(str(self.params))
        if self.headers:
            parts.append("?")
            parts.append(
                "&".join(
                    f"{pct_encode(name, _HNV_SAFE)}={pct_encode(value, _HNV_SAFE)}"
                    for name, value in self.headers
                )
            )
        return "".join(parts)

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter, lower-cased, if any."""
        value = self.params.get("transport")
        return None if value is None else value.lower()

    @property
    def is_secure(self) -> bool:
        """True for a ``sips:`` URI."""
        return self.scheme == "sips"

    @property
    def aor(self) -> str:
        """The address of record: ``scheme:user@host`` without port, parameters or headers."""
        user = "" if self.user is None else pct_encode(self.user, _USER_SAFE) + "@"
        return f"{self.scheme}:{user}{self.host.lower()}"


@dataclass(frozen=True)
class TelUri:
    """A ``tel:`` URI (RFC 3966 §3).

    Attributes:
        number: the number as written, visual separators (``-.()``) included.
        params: ``phone-context``, ``ext``, ``isub`` and any other parameters.
    """

    number: str
    params: Params = field(default_factory=Params)

    def __str__(self) -> str:
        return f"tel:{self.number}{self.params}"

    @property
    def is_global(self) -> bool:
        """True for a global number (``+`` and a country code)."""
        return self.number.startswith("+")

    @property
    def digits(self) -> str:
        """The number without visual separators (``+8613800000001``), ``%23`` read as ``#``."""
        return _tel_digits(self.number)

    @property
    def phone_context(self) -> str | None:
        """The ``phone-context`` of a local number, if given."""
        return self.params.get("phone-context")


@dataclass(frozen=True)
class AbsoluteUri:
    """A URI of any other scheme (``urn:``, ``mailto:``, ``http:``...), kept as text.

    Attributes:
        scheme: the scheme, lower case.
        rest: everything after the first colon, as written.
    """

    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri = SipUri | TelUri | AbsoluteUri
"""Any URI :func:`parse_uri` returns."""


def parse_uri(text: str) -> Uri:
    """Parse a URI from a Request-Line, a name-addr or a header parameter.

    Args:
        text: the URI (surrounding whitespace is ignored).

    Returns:
        A :class:`SipUri`, :class:`TelUri` or :class:`AbsoluteUri`.

    Raises:
        SipParseError: when the text is not a URI or breaks the grammar of its scheme.
    """
    text = text.strip(" \t")
    colon = text.find(":")
    if colon <= 0 or _SCHEME_RE.fullmatch(text, 0, colon) is None:
        raise SipParseError("URI without a valid scheme", where=_where(text))
    bad = _FORBIDDEN_RE.search(text)
    if bad is not None:
        raise SipParseError(f"{bad.group()!r} is not allowed in a URI", where=_where(text))
    scheme = text[:colon].lower()
    rest = text[colon + 1 :]
    if scheme in ("sip", "sips"):
        return _parse_sip(scheme, rest, text)
    if scheme == "tel":
        return _parse_tel(rest, text)
    if not rest:
        raise SipParseError("URI has nothing after its scheme", where=_where(text))
    return AbsoluteUri(scheme, rest)


def _where(text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return f"URI {shown!r}"


def _parse_sip(scheme: str, rest: str, text: str) -> SipUri:
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        raw_user, colon, raw_password = rest[:at].partition(":")
        if _USER_RE.fullmatch(raw_user) is None:
            raise SipParseError("bad user part", where=_where(text))
        user = pct_decode(raw_user, where=f"user of {_where(text)}")
        if colon:
            if _PASSWORD_RE.fullmatch(raw_password) is None:
                raise SipParseError("bad password", where=_where(text))
            password = pct_decode(raw_password, where=f"password of {_where(text)}")
        rest = rest[at + 1 :]
    host, port, end = match_hostport(rest, where=_where(text))
    tail = rest[end:]
    params_text, question, headers_text = tail.partition("?")
    if params_text and params_text[0] != ";":
        raise SipParseError("unexpected text after the host", where=_where(text))
    params = parse_params(params_text, where=f"parameters of {_where(text)}")
    headers: tuple[tuple[str, str], ...] = ()
    if question and headers_text:
        headers = tuple(_parse_uri_header(item, text) for item in headers_text.split("&"))
    return SipUri(scheme, user, host, port, password, params, headers)


def match_hostport(text: str, pos: int = 0, *, where: str = "host") -> tuple[str, int | None, int]:
    """Read ``host [":" port]`` at ``text[pos]`` (RFC 3261 §25.1 ``hostport``).

    Args:
        text: the text holding the host.
        pos: where the host starts.
        where: what is being parsed, for error messages.

    Returns:
        ``(host, port, end)``: the host (IPv6 references bracketed), the port or ``None``,
        and the index just past them.

    Raises:
        SipParseError: on a missing or malformed host or port.
    """
    match = _HOSTPORT_RE.match(text, pos)
    if match is None:
        raise SipParseError("missing or bad host", where=where)
    host = match.group(1)
    if host[0] == "[":
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise SipParseError("bad IPv6 reference", where=where) from None
    port: int | None = None
    if match.group(2) is not None:
        port = int(match.group(2))
        if port > 65535:
            raise SipParseError("port out of range", where=where)
    return host, port, match.end()


@lru_cache(maxsize=2048)
def cached_parse_uri(text: str) -> Uri:
    """:func:`parse_uri` with a bounded memo: URI values are immutable, so the typed views
    of messages share them (a dialog's URIs are read again and again)."""
    return parse_uri(text)


def _parse_uri_header(item: str, text: str) -> tuple[str, str]:
    name, equals, value = item.partition("=")
    if not name or not equals:
        raise SipParseError("URI header must be name=value", where=_where(text))
    where = f"headers of {_where(text)}"
    return pct_decode(name, where=where), pct_decode(value, where=where)


def _parse_tel(rest: str, text: str) -> TelUri:
    number, _, params_text = rest.partition(";")
    pattern = _GLOBAL_NUMBER_RE if number.startswith("+") else _LOCAL_NUMBER_RE
    if pattern.fullmatch(number) is None or not _tel_digits(number).lstrip("+"):
        raise SipParseError("bad telephone number", where=_where(text))
    params = parse_params(params_text, where=f"parameters of {_where(text)}")
    return TelUri(number, params)


def _tel_digits(number: str) -> str:
    digits = number.translate(_VISUAL_SEPARATORS)
    if "%" in digits:
        digits = digits.replace("%23", "#").replace("%2A", "*").replace("%2a", "*")
    return digits


# --------------------------------------------------------------------------- comparison


def uri_equal(a: Uri | str, b: Uri | str) -> bool:
    """Compare two URIs by RFC 3261 §19.1.4 (SIP/SIPS) and RFC 3966 §4 (tel).

    Strings are parsed first. URIs of different schemes are never equal (a ``sip:`` URI
    never equals a ``sips:`` or ``tel:`` one). Other schemes compare by scheme and exact
    text.

    Raises:
        SipParseError: when a string argument is not a URI.
    """
    left = parse_uri(a) if isinstance(a, str) else a
    right = parse_uri(b) if isinstance(b, str) else b
    if isinstance(left, SipUri) and isinstance(right, SipUri):
        return _sip_equal(left, right)
    if isinstance(left, TelUri) and isinstance(right, TelUri):
        return _tel_equal(left, right)
    if isinstance(left, AbsoluteUri) and isinstance(right, AbsoluteUri):
        return left.scheme == right.scheme and left.rest == right.rest
    return False


def _sip_equal(a: SipUri, b: SipUri) -> bool:
    if (a.scheme, a.user, a.password, a.port) != (b.scheme, b.user, b.password, b.port):
        return False
    if _host_key(a.host) != _host_key(b.host):
        return False
    left, right = _param_values(a.params), _param_values(b.params)
    for name in left.keys() | right.keys():
        if name in left and name in right:
            if left[name] != right[name]:
                return False
        elif name in _ONE_SIDED_MISMATCH:
            return False
    return _header_key(a.headers) == _header_key(b.headers)


def _host_key(host: str) -> str:
    if host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            pass
    return host.lower()


def _loose_decode(text: str) -> str:
    try:
        return pct_decode(text, where="URI comparison", strict=False)
    except SipParseError:
        return text


def _param_values(params: Params) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name, value in params.items():
        values[name.lower()] = None if value is None else _loose_decode(value).lower()
    return values


def _header_key(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in headers)


def _tel_equal(a: TelUri, b: TelUri) -> bool:
    if a.is_global != b.is_global or a.digits.lower() != b.digits.lower():
        return False
    left, right = _param_values(a.params), _param_values(b.params)
    if left.keys() != right.keys():
        return False
    for name, value in left.items():
        other = right[name]
        if name == "phone-context" and value and other and value.startswith("+"):
            if _tel_digits(value) != _tel_digits(other):
                return False
        elif value != other:
            return False
    return True
