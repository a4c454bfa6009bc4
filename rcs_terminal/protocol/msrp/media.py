"""What an MSRP stream negotiates in SDP: transport, path, accepted types, connection
roles (RFC 4975 §8, RFC 6135, GSMA UP).

:class:`MsrpMedia` is the typed view of an ``m=message`` section, produced and consumed by
:mod:`rcs_terminal.protocol.sip.sdp`, which also re-exports everything here. The constants
are the values UP chat and large-message sessions use (the accept-wrapped-types list is the
one UP clients send to chatbot platforms).

Connection roles follow RFC 6135, which applies the ``a=setup`` attribute of RFC 4145 to
MSRP: an ``actpass`` offer is answered ``active`` by default (the answerer connects), and an
offer without ``a=setup`` means the offerer connects (the original RFC 4975 rule), so it is
answered ``passive``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.msrp.uri import MsrpUri

MSRP_TRANSPORTS = ("TCP/MSRP", "TCP/TLS/MSRP")
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
SETUP_ROLES = ("active", "passive", "actpass", "holdconn")

UP_ACCEPT_TYPES = ("message/cpim",)
"""``a=accept-types`` of UP chat and large-message sessions."""

UP_SESSION_ACCEPT_TYPES = ("message/cpim", "application/im-iscomposing+xml")
"""Accept types of a 1-to-1 chat session that also takes unwrapped is-composing."""

UP_WRAPPED_TYPES = (
    "multipart/mixed",
    "text/plain",
    "application/vnd.gsma.rcs-ft-http+xml",
    "application/vnd.gsma.rcspushlocation+xml",
    "message/imdn+xml",
    "application/vnd.gsma.botmessage.v1.0+json",
    "application/vnd.gsma.botsuggestion.v1.0+json",
)
"""``a=accept-wrapped-types`` of UP chat with chatbots (types carried inside CPIM)."""


@dataclass(frozen=True, slots=True)
class MsrpMedia:
    """The MSRP stream of a session description (RFC 4975 §8).

    Attributes:
        port: the ``m=`` port (0 when the stream is refused).
        transport: ``TCP/MSRP`` or ``TCP/TLS/MSRP``.
        path: the ``a=path`` URIs; the peer's own URI is the last, the one to connect to
            (the first hop) the first.
        accept_types: ``a=accept-types``.
        accept_wrapped_types: ``a=accept-wrapped-types``.
        setup: ``a=setup`` (RFC 6135), or ``None`` when absent.
        max_size: ``a=max-size``, or ``None``.
        connection_address: the ``c=`` address (media level, else session level).
        direction: ``sendrecv`` unless another direction attribute is present.
        file_selector: ``a=file-selector`` (RFC 5547), kept as text.
        file_transfer_id: ``a=file-transfer-id``.
        other_attributes: every other ``a=`` line of the section, in order.
    """

    port: int
    transport: str
    path: tuple[MsrpUri, ...]
    accept_types: tuple[str, ...] = ()
    accept_wrapped_types: tuple[str, ...] = ()
    setup: str | None = None
    max_size: int | None = None
    connection_address: str | None = None
    direction: str = "sendrecv"
    file_selector: str | None = None
    file_transfer_id: str | None = None
    other_attributes: tuple[str, ...] = ()

    @property
    def secure(self) -> bool:
        """Whether the stream runs over TLS."""
        return self.transport == "TCP/TLS/MSRP"

    @property
    def first_hop(self) -> MsrpUri:
        """The URI to connect to (the first of the path)."""
        return self.path[0]


def negotiate_setup(offered: str | None, *, prefer: str = "active") -> str:
    """The answer's ``a=setup`` for an offer's (RFC 6135 §4, RFC 4145 §4.1).

    Args:
        offered: the offer's setup value, ``None`` when absent (the offerer is active).
        prefer: what to answer an ``actpass`` offer with: ``active`` (we connect, the
            usual choice) or ``passive``.
    """
    if prefer not in ("active", "passive"):
        raise LocalProtocolError(f"cannot prefer setup {prefer!r}")
    offered = (offered or "active").lower()
    if offered == "actpass":
        return prefer
    if offered == "passive":
        return "active"
    if offered == "holdconn":
        return "holdconn"
    return "passive"


def answer_direction(offered: str) -> str | None:
    """The direction attribute answering an offered one (RFC 3264 §6.1): ``sendonly`` and
    ``recvonly`` swap, ``inactive`` stays; ``None`` (write none) for ``sendrecv``."""
    return {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(offered)
