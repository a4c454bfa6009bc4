"""MSRP, the Message Session Relay Protocol (RFC 4975): sans-I/O messages, framing, chunking
and sessions. UP 1-to-1 chat and large-message mode carry CPIM over it."""

from rcs_terminal.protocol.msrp.events import (
    ChunkReceived,
    ConnectionBroken,
    MessageAborted,
    MessageReceived,
    MessageSendFailed,
    MessageSent,
    MsrpEvent,
    ReportReceived,
    RequestRejected,
)
from rcs_terminal.protocol.msrp.framer import StreamFramer
from rcs_terminal.protocol.msrp.headers import ByteRange, ReportStatus
from rcs_terminal.protocol.msrp.message import (
    MsrpMessage,
    MsrpRequest,
    MsrpResponse,
    parse_message,
)
from rcs_terminal.protocol.msrp.session import MsrpSession
from rcs_terminal.protocol.msrp.uri import MsrpUri, parse_path, parse_uri

__all__ = [
    "ByteRange",
    "ChunkReceived",
    "ConnectionBroken",
    "MessageAborted",
    "MessageReceived",
    "MessageSendFailed",
    "MessageSent",
    "MsrpEvent",
    "MsrpMessage",
    "MsrpRequest",
    "MsrpResponse",
    "MsrpSession",
    "MsrpUri",
    "ReportReceived",
    "ReportStatus",
    "RequestRejected",
    "StreamFramer",
    "parse_message",
    "parse_path",
    "parse_uri",
]
