"""The message/cpim wrapper every RCS chat payload travels in (RFC 3862).

A CPIM message is three things one after another (RFC 3862 §2):

1. the **message header block**: ``Name: value`` lines such as ``From``, ``To`` and
   ``DateTime`` (§3.3), ``NS: prefix <uri>`` namespace declarations (§3.3) and
   ``prefix.Name`` headers from the declared namespaces; an empty line ends it;
2. the **MIME content headers** of the payload (``Content-Type``, ``Content-Length``,
   ``Content-Transfer-Encoding``, ``Content-Disposition``...); another empty line ends them;
3. the **body**, as bytes.

RCS uses three namespaces on top of the core one. Their prefixes are whatever the sender
declared, so headers are resolved through the ``NS`` lines and looked up by namespace URI,
never by prefix (a sender may write ``x.Message-ID`` after ``NS: x <urn:ietf:params:imdn>``):

- IMDN (RFC 5438 §6): ``Message-ID`` and ``Disposition-Notification``;
- MaaP (GSMA UP chatbots): ``Traffic-Type`` (``advertisement``, ``payment``...);
- OMA CPM: ``Payload-Type`` and friends.

Header names are case-sensitive in RFC 3862; lookups try the exact spelling first and then
any case, so ``datetime:`` or ``IMDN.message-id`` from a sloppy sender still works. Parsing
is split in two: :func:`parse` checks the structure and resolves namespaces, while typed
views (addresses, the timestamp, the content type, the decoded body) are computed when first
read. A view that finds its value malformed raises :class:`CpimParseError` then. A
Content-Length that disagrees with the body is not fatal: the body is what follows the empty
line, and the mismatch is recorded in :attr:`CpimMessage.notes`.

RFC 3339 timestamps (CPIM ``DateTime``, IMDN ``datetime``, is-composing ``lastactive``) are
read and written by :func:`parse_rfc3339` and :func:`format_rfc3339`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from rcs_terminal.errors import CpimParseError, LocalProtocolError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.mime import (
    ContentType,
    MimeHeaders,
    format_content_type,
    format_header_fields,
    parse_content_type,
    parse_header_block,
)

CONTENT_TYPE = "message/cpim"
CPIM_NS = "urn:ietf:params:cpim-headers:"
IMDN_NS = "urn:ietf:params:imdn"
MAAP_NS = "http://www.gsma.com/rcs/maap/"
CPM_NS = "http://www.openmobilealliance.org/cpm/"
ANONYMOUS_URI = "sip:anonymous@anonymous.invalid"

DISPOSITIONS = frozenset({"positive-delivery", "negative-delivery", "display", "processing"})
"""The IMDN dispositions a sender may ask for (RFC 5438 §6)."""

_CORE_NAMES = frozenset({"from", "to", "cc", "datetime", "subject", "ns", "require"})
_STATUS_MALFORMED = 400
_STATUS_TOO_LARGE = 413


def _norm_ns(uri: str) -> str:
    """Normalise a namespace URI for comparison (case and a trailing slash do not matter)."""
    return uri.strip().lower().rstrip("/")


_WELL_KNOWN_PREFIXES = {
    _norm_ns(IMDN_NS): "imdn",
    _norm_ns(MAAP_NS): "maap",
    _norm_ns(CPM_NS): "cpm",
}


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class CpimAddress:
    """A ``From``/``To``/``cc`` value: an optional display name and a URI (RFC 3862 §3.3).

    Attributes:
        uri: the URI between the angle brackets, e.g. ``sip:+8613800000001@rcs.test``.
        display_name: the formal name before it, unquoted, or None.
    """

    uri: str
    display_name: str | None = None

    @classmethod
    def parse(cls, value: str, *, where: str = "address") -> CpimAddress:
        """Parse ``[display name] <uri>``; a bare URI without brackets is accepted too.

        Raises:
            CpimParseError: if the brackets or the quoted name are broken or the URI is empty.
        """
        text = value.strip()
        name: str | None = None
        if text.startswith('"'):
            name, rest = _read_quoted_name(text, where)
            text = rest.strip()
            if not text.startswith("<"):
                raise CpimParseError("quoted name not followed by <uri>", where=where)
        lt = text.find("<")
        if lt < 0:
            uri = text
        else:
            gt = text.find(">", lt)
            if gt < 0 or text[gt + 1 :].strip():
                raise CpimParseError("unbalanced <uri> brackets", where=where)
            if name is None:
                name = text[:lt].strip() or None
            uri = text[lt + 1 : gt].strip()
        if not uri or ":" not in uri or any(ch in uri for ch in ' \t<>"'):
            raise CpimParseError(f"not a URI: {uri!r}", where=where)
        return cls(uri, name)

    def __str__(self) -> str:
        if self.display_name is None:
            return f"<{self.uri}>"
        quoted = self.display_name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{self.uri}>'


ANONYMOUS = CpimAddress(ANONYMOUS_URI)
"""``<sip:anonymous@anonymous.invalid>``, used by clients that hide addresses in CPIM."""


def _read_quoted_name(text: str, where: str) -> tuple[str, str]:
    out: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), text[i + 1 :]
        if ch == "\\" and i + 1 < len(text):
            i += 1
            ch = text[i]
        out.append(ch)
        i += 1
    raise CpimParseError("unterminated quoted name", where=where)


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*([Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)


def parse_rfc3339(text: str) -> dt.datetime | None:
    """Parse an RFC 3339 date-time into an aware datetime, or return None if unreadable.

    Accepted leniently: a space instead of ``T``, lower-case ``t``/``z``, a comma before the
    fraction, more than six fraction digits (truncated), an offset without its colon, and
    no offset at all (read as UTC, which is what such senders mean in practice).
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, offset = match.groups()
    micros = int((frac or "0")[:6].ljust(6, "0"))
    tz = dt.UTC
    if offset and offset not in "Zz":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= dt.timedelta(hours=24):
            return None
        tz = dt.timezone(sign * delta)
    try:
        return dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
    except ValueError:
        return None


def format_rfc3339(value: dt.datetime) -> str:
    """Write an aware datetime as RFC 3339: ``Z`` for UTC, fraction only when non-zero.

    Raises:
        LocalProtocolError: for a naive datetime or an offset that is not whole minutes.
    """
    offset = value.utcoffset()
    if offset is None:
        raise LocalProtocolError("RFC 3339 timestamps need an aware datetime")
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        micros = value.microsecond
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    if offset.total_seconds() % 60:
        raise LocalProtocolError("RFC 3339 offsets are whole minutes")
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


# --------------------------------------------------------------------------- the message


@dataclass(frozen=True, slots=True)
class CpimHeader:
    """One message header with its namespace resolved.

    Attributes:
        name: the name as sent, with its prefix (``imdn.Message-ID``).
        value: the raw value, unfolded and stripped.
        namespace: the namespace URI the prefix resolved to, as declared (``CPIM_NS`` for
            core headers).
        local_name: the name without its prefix (``Message-ID``).
    """

    name: str
    value: str
    namespace: str
    local_name: str


@dataclass(frozen=True)
class CpimMessage:
    """A parsed message/cpim body. Typed views are computed when first read.

    Attributes:
        headers: the message headers in order, NS lines included.
        content_headers: the MIME headers of the payload.
        body: the payload bytes as sent (still base64 if so encoded).
        notes: leniencies applied while parsing (e.g. a Content-Length mismatch).
    """

    headers: tuple[CpimHeader, ...]
    content_headers: MimeHeaders
    body: bytes
    notes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------------ generic access

    def get_all(self, namespace: str, name: str) -> list[str]:
        """Return the values of every header ``name`` in ``namespace``, in order.

        The exact spelling of ``name`` is preferred; when no header has it, any case matches.
        """
        wanted_ns = _norm_ns(namespace)
        in_ns = [h for h in self.headers if _norm_ns(h.namespace) == wanted_ns]
        exact = [h.value for h in in_ns if h.local_name == name]
        if exact:
            return exact
        folded = name.lower()
        return [h.value for h in in_ns if h.local_name.lower() == folded]

    def get(self, namespace: str, name: str) -> str | None:
        """Return the value of the first header ``name`` in ``namespace``, or None."""
        values = self.get_all(namespace, name)
        return values[0] if values else None

    # ------------------------------------------------------------------ core headers

    @cached_property
    def from_(self) -> CpimAddress | None:
        """The ``From`` address, or None when absent."""
        value = self.get(CPIM_NS, "From")
        return None if value is None else CpimAddress.parse(value, where="header From")

    @cached_property
    def to_all(self) -> tuple[CpimAddress, ...]:
        """Every ``To`` address, in order."""
        return tuple(CpimAddress.parse(v, where="header To") for v in self.get_all(CPIM_NS, "To"))

    @property
    def to(self) -> CpimAddress | None:
        """The first ``To`` address, or None when absent."""
        return self.to_all[0] if self.to_all else None

    @property
    def datetime_raw(self) -> str | None:
        """The ``DateTime`` value as sent."""
        return self.get(CPIM_NS, "DateTime")

    @cached_property
    def datetime(self) -> dt.datetime | None:
        """``DateTime`` as an aware datetime; None when absent or unreadable (not fatal)."""
        raw = self.datetime_raw
        return None if raw is None else parse_rfc3339(raw)

    @property
    def subject(self) -> str | None:
        """The ``Subject`` value as sent, or None."""
        return self.get(CPIM_NS, "Subject")

    # ------------------------------------------------------------------ namespaced headers

    @property
    def message_id(self) -> str | None:
        """The IMDN ``Message-ID`` (whatever prefix the sender gave the IMDN namespace)."""
        return self.get(IMDN_NS, "Message-ID")

    @cached_property
    def disposition_notification(self) -> frozenset[str]:
        """The IMDN dispositions asked for, lowercased (empty when none)."""
        value = self.get(IMDN_NS, "Disposition-Notification") or ""
        return frozenset(t.strip().lower() for t in value.split(",") if t.strip())

    @property
    def traffic_type(self) -> str | None:
        """The MaaP ``Traffic-Type`` (``advertisement``, ``payment``...), lowercased."""
        value = self.get(MAAP_NS, "Traffic-Type")
        return value.lower() if value is not None else None

    # ------------------------------------------------------------------ content

    @cached_property
    def content_type(self) -> ContentType:
        """The payload's Content-Type; ``text/plain`` when absent (RFC 2045 §5.2)."""
        value = self.content_headers.get("Content-Type")
        if value is None:
            return ContentType("text/plain")
        return parse_content_type(value, error=CpimParseError)

    @property
    def content_disposition(self) -> str | None:
        """The disposition type of ``Content-Disposition`` (``notification``...), lowercased."""
        value = self.content_headers.get("Content-Disposition")
        return None if value is None else value.split(";", 1)[0].strip().lower()

    @property
    def is_imdn(self) -> bool:
        """Whether the payload is an IMDN (disposition notification or message/imdn+xml)."""
        if self.content_disposition == "notification":
            return True
        value = self.content_headers.get("Content-Type") or ""
        return value.split(";", 1)[0].strip().lower() == "message/imdn+xml"

    def decoded_body(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone (base64, quoted-printable).

        Raises:
            CpimParseError: for an unknown encoding or a body that does not decode.
        """
        encoding = (self.content_headers.get("Content-Transfer-Encoding") or "").lower()
        if encoding in ("", "7bit", "8bit", "binary"):
            return self.body
        if encoding == "base64":
            compact = b"".join(self.body.split())
            if len(compact) % 4 == 1:
                raise CpimParseError("base64 body has a stray character", where="body")
            compact += b"=" * (-len(compact) % 4)
            try:
                return base64.b64decode(compact, validate=True)
            except (binascii.Error, ValueError):
                raise CpimParseError("body is not valid base64", where="body") from None
        if encoding == "quoted-printable":
            return binascii.a2b_qp(self.body)  # lenient by design: bad escapes pass through
        raise CpimParseError(
            f"unknown Content-Transfer-Encoding {encoding!r}", where="Content-Transfer-Encoding"
        )

    def text(self) -> str:
        """The decoded body as text, in its charset (UTF-8 when none is given).

        Raises:
            CpimParseError: if the body does not decode in that charset.
        """
        charset = self.content_type.charset or "utf-8"
        try:
            return self.decoded_body().decode(charset)
        except LookupError:
            raise CpimParseError(f"unknown charset {charset!r}", where="Content-Type") from None
        except (UnicodeError, ValueError):
            raise CpimParseError(f"body is not valid {charset}", where="body") from None

    def to_bytes(self) -> bytes:
        """Serialise the message as parsed (CRLF line ends; values and Content-Length kept)."""
        message = format_header_fields((h.name, h.value) for h in self.headers)
        return b"".join((message, b"\r\n", self.content_headers.to_bytes(), b"\r\n", self.body))


# --------------------------------------------------------------------------- parsing


def parse(data: bytes) -> CpimMessage:
    """Parse a message/cpim body.

    Args:
        data: the CPIM bytes (the SIP MESSAGE body or the MSRP SEND payload).

    Returns:
        The message, with its header namespaces resolved.

    Raises:
        CpimParseError: when the input is too large, a header block is malformed or not
            ended by an empty line, an ``NS`` line is malformed, or a header uses a prefix
            no ``NS`` line declares. ``status_hint`` is 413 or 400.
    """
    if len(data) > limits.MAX_CPIM:
        raise CpimParseError(
            f"message of {len(data)} bytes exceeds the limit of {limits.MAX_CPIM}",
            status_hint=_STATUS_TOO_LARGE,
        )
    try:
        message, pos = parse_header_block(data, 0, error=CpimParseError)
        headers = _resolve_namespaces(message)
        content, pos = parse_header_block(data, pos, error=CpimParseError)
    except CpimParseError as exc:
        exc.status_hint = _STATUS_MALFORMED
        raise
    body = data[pos:]
    return CpimMessage(headers, content, body, _length_notes(content, len(body)))


def _length_notes(content: MimeHeaders, actual: int) -> tuple[str, ...]:
    declared = content.get("Content-Length")
    if declared is None:
        return ()
    if not (declared.isascii() and declared.isdigit()):
        return (f"Content-Length {declared!r} is not a number; the body was used as is",)
    if len(declared) > 12 or int(declared) != actual:
        return (f"Content-Length {declared} but the body has {actual} bytes; the body was used",)
    return ()


def _parse_ns(value: str) -> tuple[str, str]:
    """Parse an ``NS`` value, ``[prefix] <uri>``; return (prefix or "", uri)."""
    text = value.strip()
    lt = text.find("<")
    if lt < 0 or not text.endswith(">") or text.find(">") != len(text) - 1:
        raise CpimParseError(f"bad NS line {value!r}: expected [prefix] <uri>", where="header NS")
    prefix = text[:lt].strip()
    uri = text[lt + 1 : -1].strip()
    if not uri or any(ch in uri for ch in " \t<"):
        raise CpimParseError(f"bad NS line {value!r}: empty or broken URI", where="header NS")
    if prefix and not _is_prefix(prefix):
        raise CpimParseError(f"bad NS line {value!r}: bad prefix", where="header NS")
    return prefix, uri


def _is_prefix(prefix: str) -> bool:
    return all(ch.isascii() and (ch.isalnum() or ch in "-_+!#$%&'*^`|~") for ch in prefix)


def _resolve_namespaces(block: MimeHeaders) -> tuple[CpimHeader, ...]:
    """Resolve every header's prefix through the ``NS`` declarations (RFC 3862 §3.3).

    A declaration applies to the headers after it; a prefix used before its declaration
    falls back to the first declaration of that prefix in the block, since some senders
    write the ``NS`` line late.
    """
    declared = {i: _parse_ns(v) for i, (n, v) in enumerate(block) if n.lower() == "ns"}
    first: dict[str, str] = {}
    for prefix, uri in declared.values():
        first.setdefault(prefix, uri)
    current: dict[str, str] = {}
    default_ns = CPIM_NS
    out: list[CpimHeader] = []
    for index, (name, value) in enumerate(block):
        prefix, dot, local = name.partition(".")
        if dot:
            if not prefix or not local:
                raise CpimParseError(f"bad header name {name!r}", where=f"header {name}")
            namespace = current.get(prefix) or first.get(prefix)
            if namespace is None:
                raise CpimParseError(
                    f"prefix {prefix!r} is used but no NS line declares it",
                    where=f"header {name}",
                )
        else:
            local = name
            namespace = CPIM_NS if local.lower() in _CORE_NAMES else default_ns
            if index in declared:
                ns_prefix, uri = declared[index]
                if ns_prefix:
                    current[ns_prefix] = uri
                else:
                    default_ns = uri
        out.append(CpimHeader(name, value, namespace, local))
    return tuple(out)


# --------------------------------------------------------------------------- building


def build(
    *,
    from_: CpimAddress | str,
    to: CpimAddress | str | Sequence[CpimAddress | str],
    datetime: dt.datetime | None,
    body: bytes,
    content_type: ContentType | str = "text/plain; charset=utf-8",
    message_id: str | None = None,
    disposition_notification: Iterable[str] = (),
    traffic_type: str | None = None,
    subject: str | None = None,
    extra_headers: Iterable[tuple[str, str, str]] = (),
    content_disposition: str | None = None,
    content_transfer_encoding: str | None = None,
    content_headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """Build a message/cpim body (CRLF line ends, Content-Length always written).

    Args:
        from_: the sender (a :class:`CpimAddress` or a URI; ``ANONYMOUS`` hides it).
        to: the recipient, or several.
        datetime: the ``DateTime`` to write (aware; taken from the caller's clock), or None
            to leave the header out.
        body: the payload bytes, before any transfer encoding.
        content_type: the payload's content type.
        message_id: the ``imdn.Message-ID``.
        disposition_notification: dispositions to request (``positive-delivery``, ``display``...).
        traffic_type: the MaaP ``Traffic-Type``.
        subject: the ``Subject``.
        extra_headers: more headers as ``(namespace URI, name, value)``; the namespace gets
            its usual prefix (``imdn``, ``maap``, ``cpm``) or ``ns1``, ``ns2``...
        content_disposition: e.g. ``notification`` for an IMDN.
        content_transfer_encoding: ``base64`` encodes ``body``; other values are only written.
        content_headers: more content headers (``Content-ID``...), written before Content-Length.

    Raises:
        LocalProtocolError: for a value that cannot be written on a header line.
    """
    recipients = [to] if isinstance(to, CpimAddress | str) else list(to)
    fields: list[tuple[str, str]] = [("From", _address_text(from_))]
    fields += [("To", _address_text(r)) for r in recipients]
    if datetime is not None:
        fields.append(("DateTime", format_rfc3339(datetime)))
    if subject is not None:
        fields.append(("Subject", subject))
    namespaced: list[tuple[str, str, str]] = []
    if message_id is not None:
        namespaced.append((IMDN_NS, "Message-ID", message_id))
    wanted = [d.strip().lower() for d in disposition_notification]
    if wanted:
        namespaced.append((IMDN_NS, "Disposition-Notification", ", ".join(wanted)))
    if traffic_type is not None:
        namespaced.append((MAAP_NS, "Traffic-Type", traffic_type))
    namespaced += list(extra_headers)
    prefixes: dict[str, str] = {}  # normalised namespace -> prefix
    for namespace, name, _ in namespaced:
        if "." in name:
            raise LocalProtocolError(f"CPIM header name {name!r} cannot hold a dot")
        key = _norm_ns(namespace)
        if key != _norm_ns(CPIM_NS) and key not in prefixes:
            prefixes[key] = _WELL_KNOWN_PREFIXES.get(key) or f"ns{len(prefixes) + 1}"
            fields.append(("NS", f"{prefixes[key]} <{namespace}>"))
    for namespace, name, value in namespaced:
        prefix = prefixes.get(_norm_ns(namespace))
        fields.append((f"{prefix}.{name}" if prefix else name, value))

    payload = body
    if content_transfer_encoding and content_transfer_encoding.lower() == "base64":
        payload = base64.encodebytes(body).replace(b"\n", b"\r\n")
    ctype = content_type if isinstance(content_type, str) else format_content_type(content_type)
    content: list[tuple[str, str]] = [("Content-Type", ctype)]
    if content_transfer_encoding:
        content.append(("Content-Transfer-Encoding", content_transfer_encoding))
    if content_disposition:
        content.append(("Content-Disposition", content_disposition))
    content += list(content_headers)
    content.append(("Content-Length", str(len(payload))))
    return b"".join(
        (format_header_fields(fields), b"\r\n", format_header_fields(content), b"\r\n", payload)
    )


def _address_text(address: CpimAddress | str) -> str:
    """Write an address; a plain string is a URI, with or without its angle brackets."""
    if isinstance(address, str):
        address = CpimAddress(address.strip().removeprefix("<").removesuffix(">"))
    if not address.uri or any(ch in address.uri for ch in ' \t<>"'):
        raise LocalProtocolError(f"not a URI: {address.uri!r}")
    return str(address)
