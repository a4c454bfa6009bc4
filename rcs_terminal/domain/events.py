"""Domain events: what happened to the handset, in the words of the user of a phone.

The engine publishes these on the handset's :class:`~rcs_terminal.engine.bus.EventBus`; the
TUI, the scenario runner and the headless commands all consume the same stream. Every event
is a frozen dataclass carrying the SIM slot it concerns. Names follow one pattern: the thing,
then what happened to it (``RegistrationChanged``, ``MessageDelivered``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ProvisioningState = Literal[
    "idle", "provisioning", "waiting-otp", "waiting-terms", "provisioned", "failed", "disabled",
    "dormant",
]
RegistrationState = Literal[
    "unregistered", "registering", "registered", "failed", "deregistering", "deregistered",
]


@dataclass(frozen=True)
class Event:
    """Base of all domain events."""

    sim: int


@dataclass(frozen=True)
class ProvisioningChanged(Event):
    """A SIM's provisioning state changed (RCC.14)."""

    state: ProvisioningState
    version: int | None = None
    reason: str | None = None
    retry_at: float | None = None


@dataclass(frozen=True)
class OtpRequested(Event):
    """The config server sent an OTP by SMS; a real network needs the user to type it."""

    msisdn: str | None = None


@dataclass(frozen=True)
class TermsPresented(Event):
    """The config server asks the user to accept terms (the ``MSG`` characteristic)."""

    title: str
    message: str
    accept_button: bool
    reject_button: bool


@dataclass(frozen=True)
class RegistrationChanged(Event):
    """A SIM's IMS registration state changed."""

    state: RegistrationState
    impu: str | None = None
    expires: int | None = None
    service_route: tuple[str, ...] = ()
    associated_uris: tuple[str, ...] = ()
    status: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CapabilitiesUpdated(Event):
    """A peer's capabilities became known (OPTIONS answer or cache)."""

    target: str
    rcs: bool
    online: bool
    chatbot: bool
    services: tuple[str, ...] = field(default_factory=tuple)
    status: int | None = None


@dataclass(frozen=True)
class MessageReceived(Event):
    """A new message from a peer is in the store (retransmissions are not announced).

    The content is read from the store (``store.messages(conversation_id)``), so the event
    stays small however large the message is.
    """

    message_id: str
    conversation_id: int


@dataclass(frozen=True)
class MessageStateChanged(Event):
    """One of our messages moved in the delivery-state machine (sent, delivered, read,
    failed, SMS fallback), or an incoming one was marked displayed.

    ``state`` is a :class:`~rcs_terminal.domain.message.DeliveryState` value (a ``str``).
    """

    message_id: str
    state: str


@dataclass(frozen=True)
class IsComposingChanged(Event):
    """A peer started or stopped typing (RFC 3994 is-composing)."""

    peer: str
    active: bool
