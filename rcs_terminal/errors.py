"""The one error hierarchy of rcs-terminal.

Every error the project raises on purpose derives from :class:`RcsTerminalError`, which
carries a short ``title`` and an optional ``hint`` so that each front end (the CLI's stderr
panel, the TUI's error dialog, the scenario report) can show any error the same way.

Parsers of network input raise subclasses of :class:`ParseError` and nothing else: an
``IndexError``, ``ValueError`` or ``UnicodeDecodeError`` escaping from deep inside a parser
is a bug. A :class:`ParseError` says *what* was wrong and *where* (a byte offset, a line
number or a field path), and may carry the status code the protocol answers with
(``status_hint``, like h11's ``error_status_hint``), e.g. 400 for a malformed SIP request.
"""

from __future__ import annotations


class RcsTerminalError(Exception):
    """Base of every error rcs-terminal raises on purpose.

    Args:
        message: what went wrong, in one sentence.
        title: a short heading for dialogs and panels.
        hint: what the user can do about it, if anything.
    """

    default_title = "rcs-terminal error"

    def __init__(self, message: str, *, title: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.title = title or self.default_title
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- parsing


class ParseError(RcsTerminalError):
    """Malformed input from the network or from a file.

    Args:
        message: what was wrong.
        where: where it was wrong: a byte offset (``int``), or a description such as
            ``"line 3"``, ``"header Via"`` or a JSON path like ``"$.message.content"``.
        status_hint: the status code the protocol answers a malformed request with
            (SIP 400, MSRP 400, ...), when there is one.
    """

    default_title = "Malformed input"
    protocol = "input"

    def __init__(
        self,
        message: str,
        *,
        where: int | str | None = None,
        status_hint: int | None = None,
        title: str | None = None,
        hint: str | None = None,
    ):
        self.where = where
        self.status_hint = status_hint
        text = message if where is None else f"{message} (at {_where_text(where)})"
        super().__init__(f"{self.protocol}: {text}", title=title, hint=hint)
        self.reason = message


def _where_text(where: int | str) -> str:
    return f"byte {where}" if isinstance(where, int) else where


class SipParseError(ParseError):
    """A SIP message, header or URI that does not follow RFC 3261."""

    protocol = "SIP"


class SdpParseError(ParseError):
    """An SDP body that does not follow RFC 4566."""

    protocol = "SDP"


class MsrpParseError(ParseError):
    """An MSRP message that does not follow RFC 4975."""

    protocol = "MSRP"


class CpimParseError(ParseError):
    """A message/cpim body that does not follow RFC 3862."""

    protocol = "CPIM"


class MultipartParseError(ParseError):
    """A multipart body that does not follow RFC 2046."""

    protocol = "multipart"


class XmlParseError(ParseError):
    """XML from the network that is malformed, too large or uses forbidden constructs
    (DTDs, entities: they are refused, never expanded)."""

    protocol = "XML"


class ImdnParseError(XmlParseError):
    """An IMDN document (RFC 5438) that is malformed or misses required elements."""

    protocol = "IMDN"


class PayloadParseError(ParseError):
    """A chatbot JSON payload (UP botmessage, botsuggestion, bot info...) that is not
    valid JSON or breaks the structure the UP schema requires."""

    protocol = "payload"


class ProvisioningDocumentError(XmlParseError):
    """A wap-provisioningdoc (RCC.14) that cannot be read."""

    protocol = "provisioning"


class AuthChallengeError(ParseError):
    """A WWW-Authenticate / Proxy-Authenticate challenge we cannot answer."""

    protocol = "auth"


# --------------------------------------------------------------------------- protocol state


class ProtocolError(RcsTerminalError):
    """A protocol state machine was driven in a way the protocol forbids."""

    default_title = "Protocol error"


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol forbids (a bug in the caller)."""


class RemoteProtocolError(ProtocolError):
    """The peer did something the protocol forbids."""


class AuthenticationError(RcsTerminalError):
    """Credentials were refused, or an AKA challenge failed verification."""

    default_title = "Authentication failed"


# --------------------------------------------------------------------------- configuration


class ProfileError(RcsTerminalError):
    """A device profile file is missing or invalid."""

    default_title = "Invalid profile"


class ScenarioError(RcsTerminalError):
    """A scenario file is invalid."""

    default_title = "Invalid scenario"


# --------------------------------------------------------------------------- runtime


class NetworkError(RcsTerminalError):
    """A peer could not be reached or refused the service (transport, timeouts)."""

    default_title = "Network error"


class ProvisioningError(NetworkError):
    """RCC.14 provisioning failed (refused, disabled, or the server misbehaved)."""

    default_title = "Provisioning failed"


class RegistrationError(NetworkError):
    """IMS registration failed."""

    default_title = "Registration failed"


class NotBuiltError(RcsTerminalError):
    """A command of the contract that this version does not implement yet."""

    default_title = "Not available yet"


class StoreError(RcsTerminalError):
    """The message store refused a write (body too large, message id reused) or cannot be
    opened (unreadable file, schema written by a newer version)."""

    default_title = "Message store error"


class RegInfoParseError(XmlParseError):
    """A registration-state document (``application/reginfo+xml``, RFC 3680) that is
    malformed or misses required parts."""

    protocol = "reginfo"


class FileTransferError(NetworkError):
    """A file transfer over HTTP failed (upload refused, download failed or expired, the
    content server's answer did not match what was sent)."""

    default_title = "File transfer failed"


class FileTooLargeError(FileTransferError):
    """A file is larger than the configured limit (``MaxSizeFileTr``) or the server's.

    Args:
        message: what was refused.
        size: the file's size in bytes.
        limit: the limit in bytes (0 when a server refused without saying it).
    """

    default_title = "File too large"

    def __init__(self, message: str, *, size: int, limit: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.size = size
        self.limit = limit


class BotScriptError(RcsTerminalError):
    """A lab chatbot script (``lab/bots/*.yaml``) is missing or invalid; the message names
    the file and the key."""

    default_title = "Invalid bot script"


class PjsipUnavailableError(NetworkError):
    """The optional pjsip engine cannot run here: the ``pjsua2-python`` wheel is missing or
    does not exist for this platform."""

    default_title = "pjsip engine unavailable"


class NativeEngineRequiredError(RcsTerminalError):
    """The pjsip engine was asked for something only the native engine does (IMS AKA, large
    message mode, MSRP sessions)."""

    default_title = "Needs the native engine"
