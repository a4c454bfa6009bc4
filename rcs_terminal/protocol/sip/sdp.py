"""Session descriptions (RFC 4566) and the MSRP media they negotiate (RFC 4975 §8,
RFC 6135, GSMA UP chat and large-message mode).

The general model keeps every line as it came, in order: :class:`SessionDescription`
holds the session-level ``type=value`` lines and one :class:`MediaDescription` per ``m=``
section, each with its own lines. Unknown lines and attributes survive a parse/serialise
round trip untouched; typed values (origin, connection, attributes) are read on demand.
Parsing accepts CRLF or bare LF line ends (both occur in the wild) and writes CRLF.

On top of it, :func:`parse_msrp_media` reads the first ``m=message`` section into an
:class:`MsrpMedia` and :func:`build_msrp_offer` / :func:`build_msrp_answer` write one. The
negotiation rules themselves (connection roles, UP accept types) live in
:mod:`rcs_terminal.protocol.msrp.media` and are re-exported here. File-transfer attributes
of RFC 5547 (``a=file-selector``, ``a=file-transfer-id``...) are kept, and an answer echoes
them, but nothing else is done with them.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from rcs_terminal.errors import LocalProtocolError, MsrpParseError, SdpParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp.media import DIRECTIONS as DIRECTIONS
from rcs_terminal.protocol.msrp.media import MSRP_TRANSPORTS as MSRP_TRANSPORTS
from rcs_terminal.protocol.msrp.media import SETUP_ROLES as SETUP_ROLES
from rcs_terminal.protocol.msrp.media import UP_ACCEPT_TYPES as UP_ACCEPT_TYPES
from rcs_terminal.protocol.msrp.media import UP_SESSION_ACCEPT_TYPES as UP_SESSION_ACCEPT_TYPES
from rcs_terminal.protocol.msrp.media import UP_WRAPPED_TYPES as UP_WRAPPED_TYPES
from rcs_terminal.protocol.msrp.media import MsrpMedia as MsrpMedia
from rcs_terminal.protocol.msrp.media import answer_direction
from rcs_terminal.protocol.msrp.media import negotiate_setup as negotiate_setup
from rcs_terminal.protocol.msrp.uri import MsrpUri, format_path, parse_path

SdpLine = tuple[str, str]

MAX_SDP_LINES = 512
"""Most lines accepted in one session description."""

_KNOWN_MSRP_ATTRIBUTES = frozenset(
    ("accept-types", "accept-wrapped-types", "path", "setup", "max-size", *DIRECTIONS)
) | {"file-selector", "file-transfer-id"}


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Origin:
    """An ``o=`` line: ``username sess-id sess-version nettype addrtype address``."""

    username: str
    session_id: str
    session_version: str
    nettype: str
    addrtype: str
    address: str

    def __str__(self) -> str:
        o = self
        return (
            f"{o.username} {o.session_id} {o.session_version} {o.nettype} {o.addrtype} {o.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """A ``c=`` line: ``nettype addrtype address``."""

    nettype: str
    addrtype: str
    address: str

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


def _origin(value: str) -> Origin:
    parts = value.split()
    if len(parts) != 6:
        raise SdpParseError(f"bad o= line {value[:60]!r}", where="o=", status_hint=400)
    return Origin(*parts)


def _connection(value: str) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise SdpParseError(f"bad c= line {value[:60]!r}", where="c=", status_hint=400)
    return Connection(*parts)


class _Lines:
    """Typed reading of ``a=`` and ``c=`` lines."""

    lines: tuple[SdpLine, ...]

    def attributes(self, name: str) -> list[str]:
        """Values of every ``a=name:value`` line (``""`` for a flag such as ``a=sendonly``)."""
        out = []
        for kind, value in self.lines:
            if kind == "a":
                attr, _, rest = value.partition(":")
                if attr == name:
                    out.append(rest)
        return out

    def attribute(self, name: str) -> str | None:
        """The value of the first ``a=name`` line, or ``None``."""
        values = self.attributes(name)
        return values[0] if values else None

    def value(self, kind: str) -> str | None:
        """The value of the first line of type ``kind`` (``"c"``, ``"i"``...), or ``None``."""
        for line_kind, value in self.lines:
            if line_kind == kind:
                return value
        return None

    @property
    def connection(self) -> Connection | None:
        """The ``c=`` line at this level."""
        value = self.value("c")
        return None if value is None else _connection(value)


@dataclass(frozen=True)
class MediaDescription(_Lines):
    """One ``m=`` section.

    Attributes:
        media: ``message``, ``audio``...
        port: the port (0 rejects the stream).
        proto: the transport protocol (``TCP/MSRP``, ``TCP/TLS/MSRP``...).
        formats: the format list (``*`` for MSRP).
        lines: the lines after ``m=``, in order.
        port_count: the ``/number`` after the port, if present.
    """

    media: str
    port: int
    proto: str
    formats: tuple[str, ...] = ()
    lines: tuple[SdpLine, ...] = ()
    port_count: int | None = None

    @property
    def m_line(self) -> str:
        """The ``m=`` value."""
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        return " ".join((self.media, port, self.proto, *self.formats))

    @property
    def direction(self) -> str | None:
        """``sendrecv``, ``sendonly``, ``recvonly`` or ``inactive`` if one is given."""
        for kind, value in self.lines:
            if kind == "a" and value in DIRECTIONS:
                return value
        return None


@dataclass(frozen=True)
class SessionDescription(_Lines):
    """A parsed session description.

    Attributes:
        lines: the session-level lines (``v=``, ``o=``, ``s=``, ``c=``, ``t=``, ``a=``...).
        media: the media sections.
    """

    lines: tuple[SdpLine, ...]
    media: tuple[MediaDescription, ...] = field(default=())

    @property
    def origin(self) -> Origin:
        """The ``o=`` line."""
        value = self.value("o")
        if value is None:
            raise SdpParseError("missing o= line", where="o=", status_hint=400)
        return _origin(value)

    @property
    def session_name(self) -> str | None:
        """The ``s=`` value."""
        return self.value("s")

    def to_bytes(self) -> bytes:
        """Serialise with CRLF line ends.

        Raises:
            LocalProtocolError: when a value contains a line break.
        """
        out: list[str] = []
        for kind, value in self.lines:
            out.append(f"{kind}={value}\r\n")
        for media in self.media:
            out.append(f"m={media.m_line}\r\n")
            out.extend(f"{kind}={value}\r\n" for kind, value in media.lines)
        text = "".join(out)
        if text.count("\n") != len(out) or text.count("\r") != len(out):
            raise LocalProtocolError("SDP value with a line break")
        return text.encode("utf-8")


# --------------------------------------------------------------------------- parsing


def parse_sdp(data: bytes | str) -> SessionDescription:
    """Parse a session description.

    Raises:
        SdpParseError: (``status_hint=400``) when it is too large, not UTF-8, has a line
            that is not ``x=value``, lacks ``v=0``, ``o=`` or ``s=``, or has a bad ``m=``.
    """
    if isinstance(data, bytes):
        if len(data) > limits.MAX_SIP_MESSAGE:
            raise SdpParseError("SDP too large", where=len(data), status_hint=400)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SdpParseError("SDP is not UTF-8", where=exc.start, status_hint=400) from None
    else:
        text = data
    raw_lines = text.split("\n")
    if len(raw_lines) > MAX_SDP_LINES:
        raise SdpParseError("too many SDP lines", where="lines", status_hint=400)
    session: list[SdpLine] = []
    media: list[MediaDescription] = []
    current: tuple[str, list[SdpLine]] | None = None
    for number, raw in enumerate(raw_lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line:
            continue
        if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
            raise SdpParseError(
                f"not an SDP line: {line[:40]!r}", where=f"line {number}", status_hint=400
            )
        kind, value = line[0], line[2:]
        if any(ch in value for ch in "\r\x00"):
            raise SdpParseError("control character in SDP", where=f"line {number}", status_hint=400)
        if not session and kind != "v":
            raise SdpParseError("SDP must start with v=", where=f"line {number}", status_hint=400)
        if kind == "m":
            if current is not None:
                media.append(_media(current[0], current[1], number))
            current = (value, [])
        elif current is not None:
            current[1].append((kind, value))
        else:
            session.append((kind, value))
    if current is not None:
        media.append(_media(current[0], current[1], len(raw_lines)))
    if not session:
        raise SdpParseError("empty SDP", where=0, status_hint=400)
    description = SessionDescription(tuple(session), tuple(media))
    if session[0][1].strip() != "0":
        raise SdpParseError(
            f"unsupported SDP version {session[0][1][:10]!r}", where="v=", status_hint=400
        )
    _ = description.origin
    if description.session_name is None:
        raise SdpParseError("missing s= line", where="s=", status_hint=400)
    return description


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _media(m_value: str, lines: list[SdpLine], number: int) -> MediaDescription:
    parts = m_value.split()
    if len(parts) < 3:
        raise SdpParseError(
            f"bad m= line {m_value[:60]!r}", where=f"line {number}", status_hint=400
        )
    port_text, _, count_text = parts[1].partition("/")
    if not _number(port_text) or int(port_text) > 65535 or (count_text and not _number(count_text)):
        raise SdpParseError(
            f"bad m= port {parts[1][:20]!r}", where=f"line {number}", status_hint=400
        )
    return MediaDescription(
        parts[0],
        int(port_text),
        parts[2],
        tuple(parts[3:]),
        tuple(lines),
        int(count_text) if count_text else None,
    )


# --------------------------------------------------------------------------- MSRP media


def parse_msrp_media(sdp: bytes | str | SessionDescription) -> MsrpMedia:
    """Read the first ``m=message`` section.

    Raises:
        SdpParseError: when the SDP is malformed, has no ``m=message`` section, uses
            another transport, or (on an accepted stream) has no valid ``a=path``.
    """
    description = sdp if isinstance(sdp, SessionDescription) else parse_sdp(sdp)
    media = next((m for m in description.media if m.media == "message"), None)
    if media is None:
        raise SdpParseError("no m=message section", where="m=", status_hint=400)
    transport = media.proto.upper()
    if transport not in MSRP_TRANSPORTS:
        raise SdpParseError(
            f"not an MSRP transport: {media.proto[:20]!r}", where="m=", status_hint=400
        )
    path_value = media.attribute("path")
    path: tuple[MsrpUri, ...] = ()
    if path_value is not None or media.port != 0:
        if path_value is None:
            raise SdpParseError("m=message without a=path", where="a=path", status_hint=400)
        try:
            path = parse_path(path_value)
        except MsrpParseError as exc:
            raise SdpParseError(exc.reason, where="a=path", status_hint=400) from None
    max_size_text = media.attribute("max-size")
    if max_size_text is not None and not _number(max_size_text.strip()):
        raise SdpParseError(
            f"bad a=max-size {max_size_text[:20]!r}", where="a=max-size", status_hint=400
        )
    connection = media.connection or description.connection
    setup = media.attribute("setup")
    others = tuple(
        value
        for kind, value in media.lines
        if kind == "a" and value.partition(":")[0] not in _KNOWN_MSRP_ATTRIBUTES
    )
    return MsrpMedia(
        port=media.port,
        transport=transport,
        path=path,
        accept_types=tuple((media.attribute("accept-types") or "").split()),
        accept_wrapped_types=tuple((media.attribute("accept-wrapped-types") or "").split()),
        setup=None if setup is None else setup.strip().lower(),
        max_size=None if max_size_text is None else int(max_size_text.strip()),
        connection_address=None if connection is None else connection.address,
        direction=media.direction or "sendrecv",
        file_selector=media.attribute("file-selector"),
        file_transfer_id=media.attribute("file-transfer-id"),
        other_attributes=others,
    )


def build_msrp_offer(
    path: MsrpUri | Sequence[MsrpUri],
    *,
    accept_types: Sequence[str] = UP_ACCEPT_TYPES,
    accept_wrapped_types: Sequence[str] = UP_WRAPPED_TYPES,
    setup: str | None = "actpass",
    max_size: int | None = None,
    direction: str = "sendrecv",
    address: str | None = None,
    session_id: str | None = None,
    extra_attributes: Sequence[str] = (),
) -> bytes:
    """An SDP offer with one MSRP stream.

    Args:
        path: our ``a=path`` (our own URI last).
        accept_types: ``a=accept-types``.
        accept_wrapped_types: ``a=accept-wrapped-types`` (omitted when empty).
        setup: ``a=setup``; ``actpass`` lets the answerer connect. ``None`` omits it.
        max_size: ``a=max-size``, if any.
        direction: ``sendonly`` and the like; ``sendrecv`` (the default) is not written.
        address: the ``c=`` address; by default the host of our URI.
        session_id: ``o=`` session id and version (see :func:`describe_msrp`).
        extra_attributes: further ``a=`` values, e.g. ``file-selector:...``.
    """
    uris = _path(path)
    media = MsrpMedia(
        uris[-1].effective_port, _transport(uris), uris, tuple(accept_types),
        tuple(accept_wrapped_types), setup, max_size, address, direction,
        other_attributes=tuple(extra_attributes),
    )  # fmt: skip
    return describe_msrp(media, session_id=session_id).to_bytes()


def build_msrp_answer(
    offer: bytes | str | SessionDescription | MsrpMedia,
    path: MsrpUri | Sequence[MsrpUri],
    *,
    accept_types: Sequence[str] = UP_ACCEPT_TYPES,
    accept_wrapped_types: Sequence[str] = UP_WRAPPED_TYPES,
    prefer_setup: str = "active",
    max_size: int | None = None,
    address: str | None = None,
    session_id: str | None = None,
    extra_attributes: Sequence[str] = (),
) -> bytes:
    """An SDP answer accepting the offer's MSRP stream.

    The setup role is negotiated with :func:`negotiate_setup` (``prefer_setup`` answers
    ``actpass``), the direction with :func:`answer_direction`, and RFC 5547 file
    attributes are echoed. The other arguments are those of :func:`build_msrp_offer`.

    Raises:
        SdpParseError: when ``offer`` is not a valid MSRP offer.
    """
    offered = offer if isinstance(offer, MsrpMedia) else parse_msrp_media(offer)
    uris = _path(path)
    media = MsrpMedia(
        uris[-1].effective_port, _transport(uris), uris, tuple(accept_types),
        tuple(accept_wrapped_types), negotiate_setup(offered.setup, prefer=prefer_setup),
        max_size, address, answer_direction(offered.direction) or "sendrecv",
        offered.file_selector, offered.file_transfer_id, tuple(extra_attributes),
    )  # fmt: skip
    return describe_msrp(media, session_id=session_id).to_bytes()


def _path(path: MsrpUri | Sequence[MsrpUri]) -> tuple[MsrpUri, ...]:
    uris = (path,) if isinstance(path, MsrpUri) else tuple(path)
    if not uris:
        raise LocalProtocolError("an MSRP path needs at least one URI")
    return uris


def _transport(path: tuple[MsrpUri, ...]) -> str:
    return "TCP/TLS/MSRP" if path[-1].secure else "TCP/MSRP"


def describe_msrp(media: MsrpMedia, *, session_id: str | None = None) -> SessionDescription:
    """A session description with ``media`` as its only stream (the inverse of
    :func:`parse_msrp_media`).

    Args:
        media: the stream; without a ``connection_address``, the host of the last URI of
            its path is used.
        session_id: ``o=`` session id and version; by default derived from the path's
            session-id, so repeated builds for one session agree without a random source.

    Raises:
        LocalProtocolError: on an empty path, an unknown setup role or direction.
    """
    if not media.path:
        raise LocalProtocolError("an MSRP path needs at least one URI")
    if media.setup is not None and media.setup not in SETUP_ROLES:
        raise LocalProtocolError(f"bad setup role {media.setup!r}")
    if media.direction not in DIRECTIONS:
        raise LocalProtocolError(f"bad direction {media.direction!r}")
    own = media.path[-1]
    host = media.connection_address or own.host.strip("[]")
    try:
        addrtype = "IP6" if ipaddress.ip_address(host).version == 6 else "IP4"
    except ValueError:
        addrtype = "IP4"  # a domain name in c= (RFC 4566 §5.7); IP4 by convention
    if session_id is None:
        session_id = str(zlib.crc32((own.session_id or str(own)).encode()))
    attributes = ["accept-types:" + " ".join(media.accept_types)]
    if media.accept_wrapped_types:
        attributes.append("accept-wrapped-types:" + " ".join(media.accept_wrapped_types))
    if media.max_size is not None:
        attributes.append(f"max-size:{media.max_size}")
    attributes.append("path:" + format_path(media.path))
    if media.setup is not None:
        attributes.append(f"setup:{media.setup}")
    if media.direction != "sendrecv":
        attributes.append(media.direction)
    if media.file_selector is not None:
        attributes.append(f"file-selector:{media.file_selector}")
    if media.file_transfer_id is not None:
        attributes.append(f"file-transfer-id:{media.file_transfer_id}")
    attributes += media.other_attributes
    session: tuple[SdpLine, ...] = (
        ("v", "0"),
        ("o", str(Origin("-", session_id, session_id, "IN", addrtype, host))),
        ("s", "-"),
        ("c", str(Connection("IN", addrtype, host))),
        ("t", "0 0"),
    )
    lines = tuple(("a", value) for value in attributes)
    section = MediaDescription("message", media.port, media.transport, ("*",), lines)
    return SessionDescription(session, (section,))
