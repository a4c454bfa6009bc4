"""Opening a payload: what a body or a file holds, parsed, with its nested parts.

Both ``rcs-terminal render`` and the linter start from bytes that may be any UP chatbot
document (formats.md §1-§8), a ``multipart/mixed`` body (content then chip list, RFC 2046
§5.1), a whole ``message/cpim`` message (RFC 3862) or a MIME entity (``Content-Type``
header, empty line, body). :func:`open_payload` names the content type (given, or sniffed
by :func:`sniff`), parses it with the protocol layer's parser, and descends into CPIM
bodies and multipart parts. The result is a tree of :class:`Payload` nodes; a node whose
parser failed keeps the :class:`~rcs_terminal.errors.ParseError` instead of a model, so a
renderer can show the failure in place and the linter can report it as a finding.

This module is Rich-free: the linter imports it without pulling in the renderables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rcs_terminal.errors import ParseError, PayloadParseError
from rcs_terminal.protocol import cpim, limits
from rcs_terminal.protocol.imdn import parse_imdn
from rcs_terminal.protocol.iscomposing import parse_iscomposing
from rcs_terminal.protocol.mime import ContentType, parse_content_type, parse_header_block
from rcs_terminal.protocol.multipart import parse_multipart
from rcs_terminal.protocol.up import _xml, contenttypes
from rcs_terminal.protocol.up._json import load_object
from rcs_terminal.protocol.up.botinfo import parse_botinfo
from rcs_terminal.protocol.up.botmessage import parse_botmessage
from rcs_terminal.protocol.up.fthttp import parse_fthttp
from rcs_terminal.protocol.up.geopush import parse_geo_uri, parse_geopush
from rcs_terminal.protocol.up.menu import parse_menu
from rcs_terminal.protocol.up.sharedclientdata import parse_shared_client_data
from rcs_terminal.protocol.up.suggestions import parse_chip_list, parse_suggestion_response
from rcs_terminal.protocol.xmlsafe import local_name

MAX_NESTING = 4
"""Deepest nesting of CPIM and multipart wrappers followed (real traffic uses 2)."""

ALIASES: dict[str, str] = {
    "botmessage": contenttypes.BOTMESSAGE,
    "card": contenttypes.BOTMESSAGE,
    "chips": contenttypes.BOTSUGGESTION,
    "botsuggestion": contenttypes.BOTSUGGESTION,
    "response": contenttypes.BOTSUGGESTION_RESPONSE,
    "shared": contenttypes.BOTSHAREDCLIENTDATA,
    "botinfo": contenttypes.BOTINFO,
    "menu": contenttypes.PERSISTENT_MENU,
    "fthttp": contenttypes.FTHTTP,
    "geopush": contenttypes.GEOPUSH,
    "imdn": contenttypes.IMDN,
    "cpim": contenttypes.CPIM,
    "multipart": contenttypes.MULTIPART_MIXED,
    "text": contenttypes.TEXT_PLAIN,
}
"""Short names accepted wherever a content type is asked for (``--type chips``)."""

_VARIANTS = {"application/vnd.gsma.rcs-ft-http": contenttypes.FTHTTP}
"""Spellings seen in real traffic (the China CSP API drops ``+xml``)."""

_CPIM_CORE = frozenset({"from", "to", "cc", "datetime", "subject", "ns", "require"})
_WHITESPACE = b"\xef\xbb\xbf \t\r\n"

_PARSERS: dict[str, Callable[[bytes], Any]] = {
    contenttypes.BOTMESSAGE: parse_botmessage,
    contenttypes.BOTSUGGESTION: parse_chip_list,
    contenttypes.BOTSUGGESTION_RESPONSE: parse_suggestion_response,
    contenttypes.BOTSHAREDCLIENTDATA: parse_shared_client_data,
    contenttypes.BOTINFO: parse_botinfo,
    contenttypes.PERSISTENT_MENU: parse_menu,
    contenttypes.FTHTTP: parse_fthttp,
    contenttypes.GEOPUSH: parse_geopush,
    contenttypes.IMDN: parse_imdn,
    contenttypes.ISCOMPOSING: parse_iscomposing,
}


@dataclass(frozen=True)
class Payload:
    """One opened body, with its nested parts.

    Attributes:
        content_type: the content type the body was opened as (parameters kept).
        body: the bytes of this body (decoded from base64 when the wrapper said so).
        model: the parsed model (``BotMessage``, ``ChipList``, ``Menu``, ``BotInfo``,
            ``FileTransferInfo``, ``LocationPush``, ``CpimMessage``, ``str`` for text...),
            or ``None`` for a multipart body, an unsupported type or a failed parse.
        error: why parsing failed, or ``None``.
        parts: a CPIM message's body, or a multipart body's parts, in order.
        where: where this body sits: ``""`` at the top, ``"body"`` inside CPIM,
            ``"part[1]"`` in a multipart body, joined with ``":"`` when nested.
    """

    content_type: ContentType
    body: bytes
    model: Any = None
    error: ParseError | None = None
    parts: tuple[Payload, ...] = ()
    where: str = ""

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased."""
        return self.content_type.media_type

    def walk(self) -> Iterator[Payload]:
        """This node and every nested one, depth first, in document order."""
        yield self
        for part in self.parts:
            yield from part.walk()

    def first_error(self) -> ParseError | None:
        """The first parse error anywhere in the tree, or ``None``."""
        return next((node.error for node in self.walk() if node.error is not None), None)

    def locate(self, path: str | int | None) -> str:
        """A location inside this body (a JSON path, an offset...) prefixed with :attr:`where`."""
        inner = "" if path is None else str(path)
        if not self.where:
            return inner or "$"
        return f"{self.where}:{inner}" if inner else self.where


# --------------------------------------------------------------------------- sniffing


def resolve_type(name: str) -> ContentType:
    """Parse a content type given by a user, accepting :data:`ALIASES` (``chips``).

    Raises:
        PayloadParseError: when ``name`` is neither an alias nor a ``type/subtype``.
    """
    alias = ALIASES.get(name.strip().lower())
    return parse_content_type(alias or name, error=PayloadParseError)


def _multipart_type(body: bytes) -> ContentType:
    first_line = body.split(b"\n", 1)[0].rstrip(b"\r \t")
    try:
        boundary = first_line[2:].decode("ascii").strip()
    except UnicodeDecodeError:
        raise PayloadParseError("multipart boundary is not ASCII", where=0) from None
    if not boundary:
        raise PayloadParseError("body starts with '--' but names no boundary", where=0)
    return ContentType(contenttypes.MULTIPART_MIXED, (("boundary", boundary),))


def _explain_json(data: bytes) -> PayloadParseError:
    load_object(data)  # raises the precise error for broken JSON
    return PayloadParseError(
        "a JSON object without the top-level key of any UP payload "
        "(message, suggestions, response, sharedData, botinfo, persistent-menu, menu)",
        where="$",
    )


def _explain_xml(data: bytes) -> PayloadParseError:
    root = _xml.parse(data)  # raises the precise error for broken XML
    return PayloadParseError(
        f"XML root element <{local_name(root.tag)}> is not a UP payload", where="/"
    )


def sniff(data: bytes) -> tuple[ContentType, bytes]:
    """Guess what ``data`` is; return its content type and the body to parse.

    Recognised: UP JSON and XML documents (:func:`~rcs_terminal.protocol.up.contenttypes.detect`),
    a multipart body starting with its ``--boundary`` line, a ``geo:`` URI (text), a CPIM
    message (core headers such as ``From``/``DateTime``/``NS`` first), and a MIME entity
    (``Content-Type`` header, empty line, body).

    Raises:
        PayloadParseError: when the content is not recognised (saying why).
    """
    detected = contenttypes.detect(data)
    if detected is not None:
        return ContentType(detected), data
    stripped = data.lstrip(_WHITESPACE)
    if stripped.startswith(b"{"):
        raise _explain_json(data)
    if stripped.startswith(b"<"):
        raise _explain_xml(data)
    if stripped.startswith(b"--"):
        return _multipart_type(stripped), stripped
    if stripped[:4].lower() == b"geo:":
        return ContentType(contenttypes.TEXT_PLAIN), stripped
    try:
        headers, offset = parse_header_block(data, 0, error=PayloadParseError)
    except PayloadParseError:
        raise PayloadParseError(
            "not a recognised payload (UP JSON or XML, multipart body, CPIM message, "
            "MIME entity); name its type with --type",
            where=0,
        ) from None
    names = [name.lower() for name, _ in headers]
    if any(name in _CPIM_CORE or "." in name for name in names):
        return ContentType(contenttypes.CPIM), data
    value = headers.get("Content-Type")
    if value is None:
        raise PayloadParseError("header block without a Content-Type", where=0)
    return parse_content_type(value, error=PayloadParseError), data[offset:]


# --------------------------------------------------------------------------- opening


def open_payload(data: bytes, content_type: ContentType | str | None = None) -> Payload:
    """Open ``data`` as ``content_type`` (sniffed when ``None``) and parse it.

    Parse failures are kept in the nodes (see :class:`Payload`); only an input that cannot
    be opened at all raises.

    Raises:
        PayloadParseError: when the input exceeds the size limit, the content type is
            unrecognised or malformed.
    """
    if len(data) > limits.MAX_CPIM:
        raise PayloadParseError(
            f"payload of {len(data)} bytes exceeds the limit of {limits.MAX_CPIM}",
            status_hint=413,
        )
    if content_type is None:
        ctype, body = sniff(data)
    else:
        ctype = (
            content_type if isinstance(content_type, ContentType) else resolve_type(content_type)
        )
        body = data
        if ctype.is_multipart and not ctype.boundary:
            ctype = _multipart_type(data.lstrip(_WHITESPACE))
    return _open(ctype, body, "", 0)


def _text(body: bytes, ctype: ContentType) -> Any:
    charset = ctype.charset or "utf-8"
    try:
        text = body.decode(charset)
    except LookupError:
        raise PayloadParseError(f"unknown charset {charset!r}", where="Content-Type") from None
    except UnicodeDecodeError as exc:
        raise PayloadParseError(f"text is not valid {charset}", where=exc.start) from None
    if text.lstrip()[:4].lower() == "geo:":
        try:
            return parse_geo_uri(text)
        except PayloadParseError:
            return text
    return text


def _join(where: str, child: str) -> str:
    return f"{where}:{child}" if where else child


def _open(ctype: ContentType, body: bytes, where: str, depth: int) -> Payload:
    media_type = _VARIANTS.get(ctype.media_type, ctype.media_type)
    if media_type != ctype.media_type:
        ctype = ContentType(media_type, ctype.params)
    if depth > MAX_NESTING:
        error = PayloadParseError(f"wrappers nested deeper than {MAX_NESTING} levels")
        return Payload(ctype, body, error=error, where=where)
    try:
        if media_type == contenttypes.CPIM:
            return _open_cpim(ctype, body, where, depth)
        if ctype.is_multipart:
            parts = parse_multipart(body, ctype)
            children = tuple(
                _open(part.content_type, part.body, _join(where, f"part[{i}]"), depth + 1)
                for i, part in enumerate(parts)
            )
            return Payload(ctype, body, parts=children, where=where)
        parser = _PARSERS.get(media_type)
        if parser is not None:
            return Payload(ctype, body, model=parser(body), where=where)
        if media_type == contenttypes.TEXT_PLAIN:
            return Payload(ctype, body, model=_text(body, ctype), where=where)
    except ParseError as exc:
        return Payload(ctype, body, error=exc, where=where)
    return Payload(ctype, body, where=where)  # a type we do not draw (a picture, a vCard...)


def _open_cpim(ctype: ContentType, body: bytes, where: str, depth: int) -> Payload:
    message = cpim.parse(body)
    inner_where = _join(where, "body")
    try:
        inner_type = message.content_type
        inner_body = message.decoded_body()
    except ParseError as exc:
        octets = ContentType("application/octet-stream")
        inner = Payload(octets, message.body, error=exc, where=inner_where)
        return Payload(ctype, body, model=message, parts=(inner,), where=where)
    inner = _open(inner_type, inner_body, inner_where, depth + 1)
    return Payload(ctype, body, model=message, parts=(inner,), where=where)
