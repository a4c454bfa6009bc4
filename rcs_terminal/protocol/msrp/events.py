"""Events an :class:`~rcs_terminal.protocol.msrp.session.MsrpSession` reports.

Frozen dataclasses with regular names: what arrived (``MessageReceived``,
``ChunkReceived``, ``MessageAborted``, ``ReportReceived``), what became of what we sent
(``MessageSent``, ``MessageSendFailed``) and what went wrong on the connection
(``RequestRejected``, ``ConnectionBroken``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rcs_terminal.protocol.msrp.headers import ByteRange, Headers


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A whole message arrived (every chunk of it).

    Attributes:
        message_id: its Message-ID.
        content_type: its Content-Type (``message/cpim`` for UP chat).
        body: the content.
        headers: the header fields of its first chunk.
    """

    message_id: str
    content_type: str | None
    body: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class ChunkReceived:
    """Part of a chunked message arrived (progress of a large transfer).

    Attributes:
        message_id: the Message-ID.
        received: bytes held so far.
        total: the message size, when the sender announced it.
    """

    message_id: str
    received: int
    total: int | None


@dataclass(frozen=True, slots=True)
class MessageAborted:
    """The sender aborted a message (a chunk ended with ``#``, RFC 4975 §7.1).

    Attributes:
        message_id: the Message-ID.
        received: bytes that had arrived; they are dropped.
    """

    message_id: str
    received: int


@dataclass(frozen=True, slots=True)
class MessageSent:
    """Every chunk of a message we sent was accepted (each got a 200). With
    ``Failure-Report: no`` or ``partial`` no 200 comes back, and the event only says that
    the last chunk was handed to the transport."""

    message_id: str


@dataclass(frozen=True, slots=True)
class MessageSendFailed:
    """A message we sent failed: a chunk got an error response, or no response within the
    transaction timeout (status 408), or the connection was lost (408 too).

    Attributes:
        message_id: the Message-ID.
        status: the MSRP status code.
        reason: the response comment or our own explanation.
    """

    message_id: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class ReportReceived:
    """A REPORT arrived for a message we sent (RFC 4975 §7.1.2).

    Attributes:
        message_id: the Message-ID reported on.
        status: the Status code: 200 for a success report, an error code otherwise.
        byte_range: the bytes the report covers, when given.
        reason: the text of the Status header, if any.
    """

    message_id: str
    status: int
    byte_range: ByteRange | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RequestRejected:
    """We answered an incoming request with an error status (or would have, had the sender
    not asked for no responses).

    Attributes:
        transaction_id: the request's transaction id.
        method: its method.
        status: the status we answered with.
        reason: why.
    """

    transaction_id: str
    method: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionBroken:
    """The byte stream can no longer be framed (it is not MSRP); close the connection.

    Attributes:
        reason: what was wrong.
    """

    reason: str


MsrpEvent = (
    MessageReceived
    | ChunkReceived
    | MessageAborted
    | MessageSent
    | MessageSendFailed
    | ReportReceived
    | RequestRejected
    | ConnectionBroken
)
