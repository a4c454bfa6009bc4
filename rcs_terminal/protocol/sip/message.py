"""SIP requests and responses: the message model, its parser and writer (RFC 3261 §7).

This module owns :class:`Request` and :class:`Response`, :func:`parse_message` for one
datagram or one framed stream message, :func:`build_response` (§8.2.6), and
:class:`StreamFramer`, which turns a TCP/TLS byte stream into messages (§18.3).

Parsing is lazy. :func:`parse_message` splits the header section once and keeps each header
as raw text in :class:`~rcs_terminal.protocol.sip.fields.Headers`; the typed views
(``vias``, ``from_``, ``cseq``..., from
:class:`~rcs_terminal.protocol.sip.views.MessageViews`, and :attr:`Request.request_uri`)
parse a header only when read. A malformed header is reported (as
:class:`~rcs_terminal.errors.SipParseError`, with ``status_hint=400`` on a request) when the
property that needs it is read; :meth:`Request.validate` reads all the mandatory ones.

The model always states the true body length: the parsed Content-Length is checked against
the bytes received and stored as ``len(body)``; a datagram without one gains one.
:meth:`Request.to_bytes` writes a correct Content-Length whatever the headers say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rcs_terminal.errors import LocalProtocolError, SipParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.sip.fields import Headers
from rcs_terminal.protocol.sip.framing import FrameSplitter, split_head
from rcs_terminal.protocol.sip.grammar import is_token
from rcs_terminal.protocol.sip.reasons import default_reason
from rcs_terminal.protocol.sip.uri import Uri, cached_parse_uri
from rcs_terminal.protocol.sip.views import MessageViews

__all__ = [
    "Headers",
    "Request",
    "Response",
    "StreamFramer",
    "build_response",
    "parse_message",
]


@dataclass
class Request(MessageViews):
    """A SIP request.

    Attributes:
        method: the method (``REGISTER``, ``MESSAGE``, ``INVITE``...; case-sensitive).
        uri: the Request-URI as written; :attr:`request_uri` parses it.
        headers: the header fields.
        body: the body bytes (any content; its type is in Content-Type).
    """

    method: str
    uri: str
    headers: Headers
    body: bytes = b""

    _status_hint: ClassVar[int | None] = 400

    def _start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"

    @property
    def request_uri(self) -> Uri:
        """The Request-URI, parsed.

        Raises:
            SipParseError: (``status_hint=400``) when it is malformed.
        """
        try:
            return cached_parse_uri(self.uri)
        except SipParseError as exc:
            raise SipParseError(
                exc.reason, where=f"Request-URI: {exc.where}", status_hint=400
            ) from exc

    def validate(self) -> None:
        """Check the mandatory headers and that the CSeq method is the request's (§8.2).

        Raises:
            SipParseError: (``status_hint=400``) on the first problem.
        """
        super().validate()
        if self.cseq.method != self.method:
            raise SipParseError(
                "CSeq method differs from the request method", where="header CSeq", status_hint=400
            )


@dataclass
class Response(MessageViews):
    """A SIP response.

    Attributes:
        status: the status code (100 to 699).
        reason: the reason phrase (may be empty).
        headers: the header fields.
        body: the body bytes.
    """

    status: int
    reason: str
    headers: Headers
    body: bytes = b""

    def _start_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"


# --------------------------------------------------------------------------- parsing


def parse_message(data: bytes) -> Request | Response:
    """Parse one SIP message: a UDP datagram or one message cut from a stream.

    CRLFs before the start line are ignored (§7.5). The body is what Content-Length says;
    bytes after it are dropped (§18.3); without Content-Length the body is the rest of the
    datagram.

    Args:
        data: the message bytes.

    Returns:
        The :class:`Request` or :class:`Response`.

    Raises:
        SipParseError: when the message is malformed or over ``limits.MAX_SIP_MESSAGE``;
            for what looks like a request ``status_hint`` is the status to answer with
            (400, 505 for another SIP version, 513 when too large).
    """
    start = 0
    size = len(data)
    while start < size and data[start] in b"\r\n":
        start += 1
    is_response = data[start : start + 4].upper() == b"SIP/"
    hint = None if is_response else 400
    if size > limits.MAX_SIP_MESSAGE:
        raise SipParseError(
            f"message of {size} bytes exceeds {limits.MAX_SIP_MESSAGE}",
            where=0,
            status_hint=None if is_response else 513,
        )
    start_line, fields, body_start = split_head(data, start, hint)
    body = _body(data, fields, body_start, hint)
    headers = Headers._from_parsed(fields)
    if is_response:
        return _response(start_line, headers, body)
    return _request(start_line, headers, body)


def _body(
    data: bytes, fields: list[tuple[str, str, str]], body_start: int, hint: int | None
) -> bytes:
    positions = [index for index, field in enumerate(fields) if field[0] == "content-length"]
    available = len(data) - body_start
    if not positions:
        fields.append(("content-length", "Content-Length", str(available)))
        return data[body_start:]
    values = {fields[index][2] for index in positions}
    raw = values.pop()
    if values:
        raise SipParseError(
            "conflicting Content-Length values", where="header Content-Length", status_hint=hint
        )
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise SipParseError(
            f"bad Content-Length {raw[:20]!r}", where="header Content-Length", status_hint=hint
        )
    length = int(raw)
    if length > available:
        raise SipParseError(
            f"body of {available} bytes is shorter than Content-Length {length}",
            where=body_start,
            status_hint=hint,
        )
    fields[positions[0]] = ("content-length", "Content-Length", str(length))
    for index in reversed(positions[1:]):
        del fields[index]
    return data[body_start : body_start + length]


def _request(start_line: str, headers: Headers, body: bytes) -> Request:
    parts = start_line.split(" ")
    if len(parts) != 3:
        raise SipParseError(
            "request line is not 'METHOD Request-URI SIP/2.0'", where="line 1", status_hint=400
        )
    method, uri, version = parts
    if not is_token(method):
        raise SipParseError(f"bad method {method[:20]!r}", where="line 1", status_hint=400)
    if version.upper() != "SIP/2.0":
        status = 505 if version.upper().startswith("SIP/") else 400
        raise SipParseError(
            f"unsupported version {version[:20]!r}", where="line 1", status_hint=status
        )
    if ":" not in uri:
        raise SipParseError("Request-URI without a scheme", where="line 1", status_hint=400)
    return Request(method, uri, headers, body)


def _response(start_line: str, headers: Headers, body: bytes) -> Response:
    version, _, rest = start_line.partition(" ")
    code, _, reason = rest.partition(" ")
    if version.upper() != "SIP/2.0":
        raise SipParseError(f"unsupported version {version[:20]!r}", where="line 1")
    if len(code) != 3 or not code.isascii() or not code.isdigit() or code[0] not in "123456":
        raise SipParseError(f"bad status code {code[:20]!r}", where="line 1")
    return Response(int(code), reason, headers, body)


# --------------------------------------------------------------------------- responses


def build_response(
    request: Request, status: int, reason: str | None = None, *, to_tag: str | None = None
) -> Response:
    """Build a response to ``request`` as a UAS does (RFC 3261 §8.2.6).

    Copies every Via (in order), From, To, Call-ID and CSeq; Record-Route for 101-299
    responses (the ones that can set up a dialog, §12.1.1); Timestamp for a 100 (§8.2.6.1).
    The body is empty; add headers and a body to the result as needed.

    Args:
        request: the request being answered.
        status: the status code, 100 to 699.
        reason: the reason phrase; by default the one RFC 3261 §21 suggests.
        to_tag: a tag to add to To when it has none (a UAS adds one to every response
            except possibly 100, §8.2.6.2).

    Raises:
        LocalProtocolError: when ``status`` is out of range or ``to_tag`` is not a token.
        SipParseError: when ``to_tag`` is given and the request's To cannot be parsed.
    """
    if not 100 <= status <= 699:
        raise LocalProtocolError(f"status {status} is not from 100 to 699")
    if to_tag is not None and not is_token(to_tag):
        raise LocalProtocolError(f"To tag {to_tag!r} is not a token")
    source = request.headers
    headers = Headers()
    copied = ["Via", "From", "To", "Call-ID", "CSeq"]
    if 100 < status < 300:
        copied.append("Record-Route")
    if status == 100:
        copied.append("Timestamp")
    for name in copied:
        for value in source.raw_values(name):
            if name == "To" and to_tag is not None and request.to.tag is None:
                value = f"{value};tag={to_tag}"
            headers.add(name, value)
    return Response(status, default_reason(status) if reason is None else reason, headers)


# --------------------------------------------------------------------------- streams


class StreamFramer:
    """Turns the bytes of a TCP/TLS connection into SIP messages (RFC 3261 §18.3).

    Call :meth:`feed` with whatever the socket delivered: it returns every message that is
    now complete (several per read, or one spread over many reads). Each message must carry
    Content-Length. CRLF keep-alives between messages (RFC 5626 §4.4.1) are skipped and
    counted: answer each new ping with a single CRLF pong.

    When a message is malformed, :meth:`feed` raises :class:`SipParseError`; the messages
    framed before it in the same call are kept and returned by the next call (``feed(b"")``
    will do). If the framing itself is lost (no Content-Length, a bad one, a message over
    the limit) :attr:`broken` becomes true and the connection should be closed.

    Args:
        max_message: the largest message accepted, in bytes.
    """

    def __init__(self, max_message: int = limits.MAX_SIP_MESSAGE) -> None:
        self._splitter = FrameSplitter(max_message)
        self._ready: list[Request | Response] = []

    @property
    def pings_received(self) -> int:
        """How many double-CRLF pings arrived so far."""
        return self._splitter.pings_received

    @property
    def pongs_received(self) -> int:
        """How many single-CRLF pongs arrived so far."""
        return self._splitter.pongs_received

    @property
    def broken(self) -> bool:
        """True after a framing error: the stream cannot be read any further."""
        return self._splitter.broken

    def feed(self, data: bytes) -> list[Request | Response]:
        """Add received bytes; return the messages completed so far, in order.

        Raises:
            SipParseError: for a malformed message or a framing error.
        """
        messages, self._ready = self._ready, []
        if messages and self._splitter.broken:
            return messages
        self._splitter.push(data)
        try:
            while (frame := self._splitter.next_frame()) is not None:
                messages.append(parse_message(frame))
        except SipParseError:
            self._ready = messages
            raise
        return messages
