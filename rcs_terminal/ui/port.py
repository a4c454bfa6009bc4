"""The handset port: everything the TUI needs from an emulated handset, and nothing more.

The TUI never talks to the engine directly. It is written against :class:`HandsetPort`, a
structural :class:`typing.Protocol`, so that two very different objects can sit behind it:

- the real engine, through a thin adapter over its ``Handset`` (provisioning, registration
  and messaging services per SIM);
- :class:`~rcs_terminal.ui.fake_handset.FakeHandset`, an in-memory handset with a fixed
  dataset, used by the Pilot and snapshot tests and by ``rcs-terminal tui --fake``.

What flows through the port:

- *state* is read, not pushed: :meth:`HandsetPort.sim_status` for the status bar, the
  :class:`~rcs_terminal.domain.store.MessageStore` for conversations and message content;
- *changes* arrive as domain events on :attr:`HandsetPort.bus`
  (:class:`~rcs_terminal.domain.events.ProvisioningChanged`, ``RegistrationChanged``,
  ``OtpRequested``, ``TermsPresented``, ``MessageReceived``, ``MessageStateChanged``,
  ``IsComposingChanged``): small facts that tell the TUI what to re-read;
- *commands* are coroutines: each one that sends something returns the imdn.Message-ID of
  the stored outgoing message, and raises an
  :class:`~rcs_terminal.errors.RcsTerminalError` when it cannot be done.

The suggestion-response body, device specifics and geolocation documents are built by the
handset (formats.md §4, §5, §8), never by the TUI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from rcs_terminal.domain.profile import Profile
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.protocol.up import BotInfo, Suggestion

Setting = Literal["displayed_notifications", "anonymization"]
"""Handset settings a chatbot's ``settingsAction`` may change (formats.md §2)."""


@dataclass(frozen=True)
class SimStatus:
    """One SIM as the status bar shows it.

    Attributes:
        slot: the SIM slot (1 or 2).
        operator: the operator's name (``China Mobile``).
        label: the user's label for the SIM (``Work``), when set.
        msisdn: the SIM's phone number.
        provisioning: the RCC.14 state (``idle``, ``provisioning``, ``waiting-otp``,
            ``provisioned``, ``failed``...).
        registration: the IMS registration state (``unregistered``, ``registering``,
            ``registered``, ``failed``...).
        reason: why the latest step failed, when it did.
    """

    slot: int
    operator: str
    label: str | None
    msisdn: str
    provisioning: str
    registration: str
    reason: str | None = None

    @property
    def state(self) -> str:
        """The one word that sums the SIM up: a provisioning step that needs the user or
        stops the SIM (OTP, terms, failure, RCS disabled), else the registration state once
        registration has begun, else the provisioning state."""
        if self.provisioning in ("waiting-otp", "waiting-terms", "failed", "disabled"):
            return self.provisioning
        if self.registration in ("registering", "registered", "failed", "deregistering"):
            return self.registration
        if self.provisioning in ("idle", "provisioned"):
            return self.registration
        return self.provisioning


@dataclass(frozen=True)
class BotSummary:
    """A chatbot found in the chatbot directory (formats.md §6).

    Attributes:
        uri: the chatbot's service id (``sip:...``).
        name: its display name.
        description: one line about it.
        colour: its theme colour (``#RRGGBB``), when known.
        verified: whether the operator verified it.
    """

    uri: str
    name: str
    description: str | None = None
    colour: str | None = None
    verified: bool = False


@runtime_checkable
class HandsetPort(Protocol):
    """What the TUI needs from a handset (see the module docstring).

    Attributes:
        profile: the emulated device and its SIMs.
        bus: the domain events of every SIM.
        trace: the protocol trace (secrets already masked).
        store: conversations and messages.
        sending_sim: the slot that sends new conversations' messages; settable.
    """

    profile: Profile
    bus: EventBus
    trace: TraceRecorder
    store: MessageStore
    sending_sim: int

    def sim_status(self, slot: int) -> SimStatus:
        """The current state of the SIM in ``slot``."""
        ...

    async def start(self) -> None:
        """Provision and register the SIMs (returns once started, not once registered)."""
        ...

    async def stop(self) -> None:
        """De-register and release everything."""
        ...

    async def send_text(self, slot: int, peer: str, text: str) -> str:
        """Send a text message; returns its imdn.Message-ID."""
        ...

    async def send_suggestion_response(self, slot: int, peer: str, suggestion: Suggestion) -> str:
        """Send the response to a tapped chip or menu entry (formats.md §4), copying its
        display text and postback data exactly; returns the message id."""
        ...

    async def send_location(
        self, slot: int, peer: str, latitude: float, longitude: float, label: str | None
    ) -> str:
        """Push a location (geolocation push, formats.md §8); returns the message id."""
        ...

    async def send_device_specifics(self, slot: int, peer: str) -> str:
        """Share the device specifics with a chatbot (formats.md §5); returns the message id."""
        ...

    async def mark_displayed(self, message_id: str) -> None:
        """The user has seen an incoming message: mark it and send the display receipt if
        it asked for one and the settings allow it."""
        ...

    async def set_composing(self, slot: int, peer: str, active: bool) -> None:
        """Tell ``peer`` that the user is (or stopped) typing."""
        ...

    async def bot_info(self, slot: int, uri: str) -> BotInfo | None:
        """The chatbot information of ``uri`` (cached by the handset), or ``None``."""
        ...

    async def search_chatbots(self, slot: int, query: str) -> list[BotSummary]:
        """Search the chatbot directory of ``slot``'s operator."""
        ...

    async def submit_otp(self, slot: int, code: str) -> None:
        """Give the one-time password the config server sent by SMS."""
        ...

    async def answer_terms(self, slot: int, accept: bool) -> None:
        """Answer the terms the config server presented."""
        ...

    async def apply_setting(self, slot: int, setting: Setting, enabled: bool) -> None:
        """Change a handset setting at a chatbot's request (``settingsAction``)."""
        ...
