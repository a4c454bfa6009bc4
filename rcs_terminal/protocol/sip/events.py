"""Events the SIP transaction layer reports to its transaction user (TU).

The :class:`~rcs_terminal.protocol.sip.transaction_layer.TransactionLayer` returns these
from ``receive()``, ``handle_timer()`` and the other calls that can make something happen.
They are frozen value objects with regular, past-tense names; the TU (the UA core of the
engine: registration, messaging, sessions) reacts to them and never looks inside
transactions.

What reaches the TU, per RFC 3261 §17 and RFC 6026:

- every new request (:class:`RequestReceived`; a CANCEL arrives as :class:`CancelReceived`,
  with the INVITE server transaction it cancels, §9.2);
- every provisional and final response of a client transaction, exactly once per final
  response (:class:`ResponseReceived`); for INVITE, each *distinct* 2xx (forking: one per
  To tag) is reported, retransmitted 2xx are absorbed and answered with the ACK the TU sent;
- the ACK of a 2xx, which is outside every transaction (:class:`AckReceived`);
- the end of a transaction: :class:`TransactionTimedOut` (Timer B/F/H or the §9.1 CANCEL
  wait), :class:`TransportFailed`, :class:`AckNotReceived` (a 2xx never ACKed within
  ``64*T1``, §13.3.1.4: the TU should send BYE) and finally :class:`TransactionTerminated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcs_terminal.protocol.sip.message import Request, Response
    from rcs_terminal.protocol.sip.transaction import TransactionKey

__all__ = [
    "AckNotReceived",
    "AckReceived",
    "CancelReceived",
    "RequestReceived",
    "ResponseReceived",
    "StrayResponseReceived",
    "TransactionEvent",
    "TransactionTerminated",
    "TransactionTimedOut",
    "TransportFailed",
]


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A new request (not a retransmission) created a server transaction.

    Attributes:
        key: the server transaction; answer with ``send_response()``.
        request: the request.
    """

    key: TransactionKey
    request: Request


@dataclass(frozen=True, slots=True)
class CancelReceived:
    """A CANCEL created a server transaction (RFC 3261 §9.2).

    The TU answers the CANCEL itself (200, or 481 when ``invite_key`` is None) and, if the
    INVITE is still unanswered, answers the INVITE with 487 (Request Terminated).

    Attributes:
        key: the CANCEL's own (non-INVITE) server transaction.
        request: the CANCEL.
        invite_key: the INVITE server transaction it matches, or None if there is none.
    """

    key: TransactionKey
    request: Request
    invite_key: TransactionKey | None


@dataclass(frozen=True, slots=True)
class AckReceived:
    """An ACK for a 2xx response arrived; it belongs to the dialog, not to a transaction.

    Retransmitted ACKs matched to the INVITE they acknowledge are reported once.

    Attributes:
        request: the ACK.
    """

    request: Request


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response for one of our client transactions.

    Attributes:
        key: the client transaction.
        response: the response.
    """

    key: TransactionKey
    response: Response


@dataclass(frozen=True, slots=True)
class StrayResponseReceived:
    """A response that matches no client transaction (RFC 3261 §18.1.2; RFC 6026 §7.1).

    It is not processed further; the event exists so that the engine can trace it.

    Attributes:
        response: the response.
    """

    response: Response


@dataclass(frozen=True, slots=True)
class TransactionTimedOut:
    """A transaction gave up: no final response (Timer B, F, §9.1), or no ACK (Timer H).

    A client TU treats it as a 408 (Request Timeout), RFC 3261 §8.1.3.1.

    Attributes:
        key: the transaction.
        request: the request of the transaction.
    """

    key: TransactionKey
    request: Request


@dataclass(frozen=True, slots=True)
class AckNotReceived:
    """A 2xx to an INVITE was not acknowledged within ``64*T1`` (RFC 3261 §13.3.1.4).

    The dialog is confirmed all the same, but the TU should end the session with a BYE.

    Attributes:
        key: the INVITE server transaction.
        response: the unacknowledged 2xx.
    """

    key: TransactionKey
    response: Response


@dataclass(frozen=True, slots=True)
class TransportFailed:
    """The engine reported that a message of this transaction could not be sent.

    A client TU treats it as a 503 (Service Unavailable), RFC 3261 §8.1.3.1.

    Attributes:
        key: the transaction.
        request: the request of the transaction.
    """

    key: TransactionKey
    request: Request


@dataclass(frozen=True, slots=True)
class TransactionTerminated:
    """A transaction reached the Terminated state and was destroyed.

    Attributes:
        key: the transaction.
    """

    key: TransactionKey


TransactionEvent = (
    RequestReceived
    | CancelReceived
    | AckReceived
    | ResponseReceived
    | StrayResponseReceived
    | TransactionTimedOut
    | AckNotReceived
    | TransportFailed
    | TransactionTerminated
)
"""Any event of the transaction layer."""
