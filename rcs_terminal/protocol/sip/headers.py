"""Typed views of the SIP header values the stack reasons about (RFC 3261 §20).

:class:`~rcs_terminal.protocol.sip.message.Headers` keeps every header as its raw text;
this module turns one value into a typed, immutable object when a caller asks for it:

- :class:`Via` (§20.42, with ``received`` and ``rport`` of §18.2.1 and RFC 3581);
- :class:`NameAddr` for From, To, Contact, Route, Record-Route, Path, Service-Route,
  P-Associated-URI, P-Asserted-Identity, Refer-To... in both the ``name-addr`` form
  (``"Bob" <sip:bob@rcs.test>;tag=1``) and the bare ``addr-spec`` form, where parameters
  after the URI belong to the header, not the URI (§20.10); also the ``*`` of
  ``Contact: *`` and ``Accept-Contact: *;...``;
- :class:`CSeq` (§20.16).

Parameters are :class:`~rcs_terminal.protocol.sip.params.Params`; RFC 3840 feature tags in
Contact / Accept-Contact parameters are read by :func:`feature_tags` and written by
:func:`format_feature_tags` (re-exported here from
:mod:`rcs_terminal.protocol.sip.features`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.features import feature_tags, format_feature_tags
from rcs_terminal.protocol.sip.grammar import quote, skip_quoted, unquote
from rcs_terminal.protocol.sip.params import Params, parse_params
from rcs_terminal.protocol.sip.uri import Uri, cached_parse_uri, match_hostport

__all__ = [
    "CSeq",
    "NameAddr",
    "Params",
    "Via",
    "feature_tags",
    "format_feature_tags",
    "parse_cseq",
    "parse_name_addr",
    "parse_params",
    "parse_via",
]

_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_SENT_PROTOCOL_RE = re.compile(
    rf"[ \t]*({_TOKEN})[ \t]*/[ \t]*({_TOKEN})[ \t]*/[ \t]*({_TOKEN})[ \t]+"
)
_CSEQ_RE = re.compile(rf"[ \t]*([0-9]{{1,10}})[ \t]+({_TOKEN})[ \t]*")
_SPACE = " \t"
_MAX_CSEQ = 2**31 - 1


# --------------------------------------------------------------------------- Via


@dataclass(frozen=True)
class Via:
    """One Via header value: ``SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK...``.

    Attributes:
        transport: ``UDP``, ``TCP``, ``TLS``, ``WS``... (upper case).
        host: the sent-by host (IPv6 references bracketed).
        port: the sent-by port, or ``None``.
        params: ``branch``, ``received``, ``rport``, ``maddr``, ``ttl`` and others.
    """

    transport: str
    host: str
    port: int | None = None
    params: Params = field(default_factory=Params)

    def __str__(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"SIP/2.0/{self.transport} {self.host}{port}{self.params}"

    @property
    def branch(self) -> str | None:
        """The ``branch`` parameter (``z9hG4bK...`` from RFC 3261 elements)."""
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        """The ``received`` parameter a server added (§18.2.1)."""
        return self.params.get("received")

    @property
    def rport(self) -> int | bool | None:
        """The ``rport`` parameter (RFC 3581): ``None`` if absent, ``True`` for the bare
        request flag, or the port a server filled in."""
        if "rport" not in self.params:
            return None
        value = self.params.get("rport")
        if value is None:
            return True
        if not (value.isascii() and value.isdigit()) or len(value) > 5:
            raise SipParseError("rport is not a port number", where="Via rport")
        return int(value)

    @property
    def sent_by(self) -> str:
        """``host`` or ``host:port``."""
        return self.host if self.port is None else f"{self.host}:{self.port}"


def parse_via(value: str) -> Via:
    """Parse one Via value (split a multi-value Via with ``Headers.get_all`` first).

    Raises:
        SipParseError: when the value is not ``SIP/2.0/<transport> host[:port]`` with
            parameters, or ``rport`` holds something other than a port.
    """
    match = _SENT_PROTOCOL_RE.match(value)
    if match is None:
        raise SipParseError("Via must start with SIP/2.0/<transport>", where="Via")
    name, version, transport = match.groups()
    if name.upper() != "SIP" or version != "2.0":
        raise SipParseError(f"unsupported Via protocol {name}/{version}", where="Via")
    host, port, end = match_hostport(value, match.end(), where="Via sent-by")
    rest = value[end:].strip(_SPACE)
    if rest and rest[0] != ";":
        raise SipParseError("unexpected text after the Via sent-by", where="Via")
    via = Via(transport.upper(), host, port, parse_params(rest, where="Via"))
    via.rport  # noqa: B018 -- validates rport now rather than on first use
    return via


# --------------------------------------------------------------------------- name-addr


@dataclass(frozen=True)
class NameAddr:
    """An address header value: From, To, Contact, Route, P-Associated-URI...

    Attributes:
        uri: the URI text as written (``"*"`` for a wildcard Contact / Accept-Contact);
            :attr:`parsed_uri` parses it on demand.
        display_name: the display name, unquoted; ``None`` when there is none.
        params: the header parameters (``tag``, ``expires``, ``q``, feature tags...).
    """

    uri: str
    display_name: str | None = None
    params: Params = field(default_factory=Params)

    def __str__(self) -> str:
        if self.uri == "*":
            return f"*{self.params}"
        if self.display_name is None:
            return f"<{self.uri}>{self.params}"
        return f"{quote(self.display_name)} <{self.uri}>{self.params}"

    @property
    def tag(self) -> str | None:
        """The ``tag`` parameter of From / To (§19.3)."""
        return self.params.get("tag")

    @property
    def is_wildcard(self) -> bool:
        """True for the ``*`` of ``Contact: *`` or ``Accept-Contact: *;...``."""
        return self.uri == "*"

    @property
    def parsed_uri(self) -> Uri:
        """The URI, parsed (and memoised).

        Raises:
            SipParseError: when the URI is malformed or the value is a wildcard.
        """
        if self.uri == "*":
            raise SipParseError("a wildcard has no URI", where="name-addr")
        return cached_parse_uri(self.uri)

    @property
    def expires(self) -> int | None:
        """The ``expires`` parameter of a Contact, in seconds.

        Raises:
            SipParseError: when it is not a non-negative integer.
        """
        value = self.params.get("expires")
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()) or len(value) > 10:
            raise SipParseError("Contact expires is not a number", where="Contact expires")
        return int(value)

    @property
    def q(self) -> float | None:
        """The ``q`` parameter of a Contact (0 to 1).

        Raises:
            SipParseError: when it is not a number from 0 to 1.
        """
        value = self.params.get("q")
        if value is None:
            return None
        if re.fullmatch(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?", value) is None:
            raise SipParseError("Contact q is not a number from 0 to 1", where="Contact q")
        return float(value)

    def with_tag(self, tag: str) -> NameAddr:
        """Return a copy with the ``tag`` parameter set."""
        return NameAddr(self.uri, self.display_name, self.params.with_param("tag", tag))


def parse_name_addr(value: str) -> NameAddr:
    """Parse a ``name-addr`` or ``addr-spec`` header value with its parameters.

    In the ``addr-spec`` form (no angle brackets) the URI ends at the first ``;`` and what
    follows are header parameters (RFC 3261 §20.10).

    Raises:
        SipParseError: on an unterminated quote or ``<``, an empty URI, or junk between the
            parts.
    """
    text = value.strip(_SPACE)
    if not text:
        raise SipParseError("empty address", where="name-addr")
    display: str | None = None
    if text[0] == '"':
        end = skip_quoted(text, 0)
        if end < 0:
            raise SipParseError("unterminated quoted display name", where="name-addr")
        display = unquote(text[:end])
        open_angle = end
        while open_angle < len(text) and text[open_angle] in _SPACE:
            open_angle += 1
        if open_angle >= len(text) or text[open_angle] != "<":
            raise SipParseError(
                "a quoted display name must be followed by <URI>", where="name-addr"
            )
    else:
        open_angle = text.find("<")
        semicolon = text.find(";")
        if open_angle < 0 or 0 <= semicolon < open_angle:
            return _parse_addr_spec(text)
        name = text[:open_angle].strip(_SPACE)
        if '"' in name:
            raise SipParseError("stray quote in display name", where="name-addr")
        display = name or None
    close_angle = text.find(">", open_angle)
    if close_angle < 0:
        raise SipParseError("unterminated <URI>", where="name-addr")
    uri = text[open_angle + 1 : close_angle].strip(_SPACE)
    if not uri:
        raise SipParseError("empty URI", where="name-addr")
    if any(char in _SPACE for char in uri):
        raise SipParseError("whitespace inside <URI>", where="name-addr")
    rest = text[close_angle + 1 :].lstrip(_SPACE)
    if rest and rest[0] != ";":
        raise SipParseError("unexpected text after <URI>", where="name-addr")
    return NameAddr(uri, display, parse_params(rest, where="name-addr"))


def _parse_addr_spec(text: str) -> NameAddr:
    uri, _, rest = text.partition(";")
    uri = uri.rstrip(_SPACE)
    if not uri or any(char in _SPACE or char in '<>"' for char in uri):
        raise SipParseError("bad address (neither name-addr nor addr-spec)", where="addr-spec")
    if uri != "*" and ":" not in uri:
        raise SipParseError("address without a URI scheme", where="addr-spec")
    return NameAddr(uri, None, parse_params(rest, where="addr-spec"))


# --------------------------------------------------------------------------- CSeq


@dataclass(frozen=True)
class CSeq:
    """The CSeq header: a sequence number and the request method.

    Attributes:
        seq: the sequence number (below 2**31, §8.1.1.5).
        method: the method, as written (methods are case-sensitive).
    """

    seq: int
    method: str

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


def parse_cseq(value: str) -> CSeq:
    """Parse ``1 REGISTER``.

    Raises:
        SipParseError: when the value is not a number below 2**31 and a method token.
    """
    match = _CSEQ_RE.fullmatch(value)
    if match is None:
        raise SipParseError("CSeq must be '<number> <method>'", where="CSeq")
    seq = int(match.group(1))
    if seq > _MAX_CSEQ:
        raise SipParseError("CSeq number out of range", where="CSeq")
    return CSeq(seq, match.group(2))
