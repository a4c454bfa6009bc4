"""MSRP URIs: parsing, serialising and comparing them (RFC 4975 §6, §9).

An MSRP URI names one end of an MSRP session: where to connect (the authority), which
session on that connection (the session-id) and the transport (``tcp``; TLS is chosen by
the ``msrps`` scheme, not by the transport). They appear in the SDP ``a=path`` attribute and
in the To-Path / From-Path header fields::

    msrp://198.51.100.7:2855/iau39soe2843z;tcp
    msrps://[2001:db8::7]:12763/kjhd37s2s20w2a;tcp

Equality follows the comparison rules of RFC 4975 §6.1, so ``==`` and ``hash`` are what the
session uses to decide whether a request is addressed to it: the scheme and the host compare
case-insensitively (IP addresses by value), the port must match exactly and is never
defaulted, the session-id compares case-sensitively, the transport case-insensitively, and
userinfo and other URI parameters are ignored.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from rcs_terminal.errors import MsrpParseError

DEFAULT_PORT = 2855
"""The port registered for MSRP (RFC 4975 §15.3); used when building URIs, never when
comparing them."""

MAX_URI_LENGTH = 1024
"""Longest MSRP URI accepted, in characters."""

_SESSION_ID = re.compile(r"[A-Za-z0-9\-._~+=/%]+")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,=]+")
_USERINFO = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,=:]*")
_PORT = re.compile(r"[0-9]{1,5}")

Param = tuple[str, str | None]


@dataclass(frozen=True, eq=False, slots=True)
class MsrpUri:
    """An ``msrp:`` or ``msrps:`` URI.

    Attributes:
        host: the host: a name, an IPv4 address, or an IPv6 reference kept in brackets.
        port: the port, or ``None`` when the URI has none (it is not defaulted).
        session_id: the session-id path component, or ``None``.
        scheme: ``"msrp"`` or ``"msrps"`` (lower case).
        transport: the transport parameter, ``"tcp"`` in practice.
        userinfo: the userinfo part of the authority, rarely used.
        params: further URI parameters as ``(name, value)`` pairs, ``None`` for a flag.
    """

    host: str
    port: int | None = None
    session_id: str | None = None
    scheme: str = "msrp"
    transport: str = "tcp"
    userinfo: str | None = None
    params: tuple[Param, ...] = field(default=())

    @property
    def secure(self) -> bool:
        """Whether the URI asks for TLS (the ``msrps`` scheme)."""
        return self.scheme == "msrps"

    @property
    def effective_port(self) -> int:
        """The port to connect to: the explicit one, else the MSRP default 2855."""
        return DEFAULT_PORT if self.port is None else self.port

    def __str__(self) -> str:
        parts = [self.scheme, "://"]
        if self.userinfo is not None:
            parts += [self.userinfo, "@"]
        parts.append(self.host)
        if self.port is not None:
            parts += [":", str(self.port)]
        if self.session_id is not None:
            parts += ["/", self.session_id]
        parts += [";", self.transport]
        for name, value in self.params:
            parts += [";", name] if value is None else [";", name, "=", value]
        return "".join(parts)

    def comparison_key(self) -> tuple[str, str, int | None, str | None, str]:
        """The parts that RFC 4975 §6.1 compares, normalised."""
        return (
            self.scheme.lower(),
            _host_key(self.host),
            self.port,
            self.session_id,
            self.transport.lower(),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MsrpUri):
            return NotImplemented
        return self.comparison_key() == other.comparison_key()

    def __hash__(self) -> int:
        return hash(self.comparison_key())


def _host_key(host: str) -> str:
    """Normalise a host for comparison: IP addresses by value, names case-folded after
    decoding percent-encoded characters."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(bare).compressed
    except ValueError:
        return unquote(bare).lower()


def parse_uri(text: str) -> MsrpUri:
    """Parse one MSRP URI.

    A URI without a ``;transport`` part is accepted as ``tcp`` (seen from lenient peers);
    :func:`str` always writes it.

    Args:
        text: the URI, surrounding whitespace allowed.

    Returns:
        The parsed URI.

    Raises:
        MsrpParseError: when ``text`` is not an MSRP URI.
    """
    text = text.strip()
    if len(text) > MAX_URI_LENGTH:
        raise MsrpParseError("MSRP URI too long", where="URI", status_hint=400)
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("msrp", "msrps"):
        raise MsrpParseError(f"not an MSRP URI: {text[:60]!r}", where="URI", status_hint=400)
    hier, _, param_text = rest.partition(";")
    authority, slash, session_id = hier.partition("/")
    if slash and not _SESSION_ID.fullmatch(session_id):
        raise MsrpParseError(f"bad session-id in {text[:80]!r}", where="URI", status_hint=400)
    userinfo, host, port = _parse_authority(authority, text)
    transport = "tcp"
    params: list[Param] = []
    if param_text:
        pieces = param_text.split(";")
        transport = pieces[0]
        if not _TOKEN.fullmatch(transport):
            raise MsrpParseError(f"bad transport in {text[:80]!r}", where="URI", status_hint=400)
        for piece in pieces[1:]:
            name, eq, value = piece.partition("=")
            if not _TOKEN.fullmatch(name) or (eq and not _TOKEN.fullmatch(value)):
                raise MsrpParseError(
                    f"bad URI parameter {piece[:40]!r}", where="URI", status_hint=400
                )
            params.append((name, value if eq else None))
    return MsrpUri(
        host=host,
        port=port,
        session_id=session_id if slash else None,
        scheme=scheme,
        transport=transport,
        userinfo=userinfo,
        params=tuple(params),
    )


def _parse_authority(authority: str, text: str) -> tuple[str | None, str, int | None]:
    userinfo: str | None = None
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        if not _USERINFO.fullmatch(userinfo):
            raise MsrpParseError(f"bad userinfo in {text[:80]!r}", where="URI", status_hint=400)
    port_text: str | None = None
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise MsrpParseError(f"unclosed IPv6 reference in {text[:80]!r}", where="URI")
        host, tail = authority[: close + 1], authority[close + 1 :]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise MsrpParseError(f"bad IPv6 address in {text[:80]!r}", where="URI") from None
        if tail:
            if not tail.startswith(":"):
                raise MsrpParseError(f"bad authority in {text[:80]!r}", where="URI")
            port_text = tail[1:]
    else:
        host, colon, tail = authority.partition(":")
        if colon:
            port_text = tail
        if not _REG_NAME.fullmatch(host):
            raise MsrpParseError(f"bad host in {text[:80]!r}", where="URI", status_hint=400)
    port: int | None = None
    if port_text is not None:
        if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
            raise MsrpParseError(f"bad port in {text[:80]!r}", where="URI", status_hint=400)
        port = int(port_text)
    return userinfo, host, port


def parse_path(value: str) -> tuple[MsrpUri, ...]:
    """Parse a space-separated list of MSRP URIs (To-Path, From-Path, SDP ``a=path``).

    Raises:
        MsrpParseError: when the list is empty or one of the URIs is malformed.
    """
    uris = tuple(parse_uri(part) for part in value.split())
    if not uris:
        raise MsrpParseError("empty MSRP path", where="path", status_hint=400)
    return uris


def format_path(path: tuple[MsrpUri, ...] | list[MsrpUri]) -> str:
    """The inverse of :func:`parse_path`."""
    return " ".join(str(uri) for uri in path)
