"""SIP (RFC 3261) for the emulated handset: messages, headers, URIs, and the layers above.

The message layer is re-exported here; typed header views live in
:mod:`rcs_terminal.protocol.sip.headers` and URIs in :mod:`rcs_terminal.protocol.sip.uri`.
"""

from rcs_terminal.protocol.sip.message import (
    Headers,
    Request,
    Response,
    StreamFramer,
    build_response,
    parse_message,
)

__all__ = [
    "Headers",
    "Request",
    "Response",
    "StreamFramer",
    "build_response",
    "parse_message",
]
