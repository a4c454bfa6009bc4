"""The scenario steps: one strict model per step kind, and the table that names them.

A step is a mapping with exactly one step-kind key (and optionally ``name``, a title for the
step log)::

    - send: {to: "${bot}", text: hi}
    - expect_message: {from: "${bot}", kind: card, card: {title: {contains: Welcome}}}
    - name: tap the first chip
      tap: {index: 0}

Most steps act for one handset (``handset:``, which may be left out when the scenario has
only one) and one SIM (``sim:``, default: the handset's default SIM). Times are seconds;
``within`` is how long to wait for the event a step expects (default: the scenario's
``timeout``). Nothing ever sleeps blindly: waits end on the event, and the only fixed delays
are the assertion window of ``expect_no_message`` / ``wait: {seconds}`` and the deliberate
``delay`` of a displayed notification.

A few steps accept a bare value as a short form: ``register: alice``, ``deregister: alice``,
``stop: alice``, ``provision: alice`` (the handset), and ``tap: Buy`` (the chip's text).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from rcs_terminal.scenario.expectations import (
    MessageExpect,
    NumberMatch,
    Strict,
    TextMatch,
    as_list,
)

__all__ = ["SHORT_FORMS", "STEP_MODELS", "StepArgs"]

Seconds = Annotated[float, Field(gt=0, le=600)]
"""A wait, in seconds."""
IntList = Annotated[list[int], BeforeValidator(as_list)]
"""One number, or a list of them."""
TextList = Annotated[list[str], BeforeValidator(as_list)]
"""One string, or a list of them."""


class StepArgs(Strict):
    """Base of every step's arguments."""

    handset: str | None = None
    """The handset acting (may be left out when the scenario has one)."""
    sim: int | None = Field(default=None, ge=1, le=2)
    """The SIM slot (default: the handset's default SIM)."""


def _exactly_one(model: Strict, names: tuple[str, ...]) -> None:
    given = [n for n in names if getattr(model, n) is not None and getattr(model, n) is not False]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(names)}")


# ----------------------------------------------------------------------------- network


class ProvisionExpect(Strict):
    state: Literal["provisioned", "failed"] = "provisioned"
    version: NumberMatch | None = None
    validity: NumberMatch | None = None
    reason: TextMatch | None = None
    """The failure's message (or the note of a success)."""
    otp: bool | None = None
    """Whether the server asked for an OTP by SMS (the OTP path)."""
    terms: bool | None = None
    """Whether the server presented terms."""
    from_cache: bool | None = None


class ProvisionStep(StepArgs):
    """Provision one SIM (RCC.14) without registering."""

    force: bool = False
    otp: str | None = None
    accept_terms: bool | None = None
    expect: ProvisionExpect = ProvisionExpect()


class RegisterExpect(Strict):
    state: Literal["registered", "failed"] = "registered"
    status: int | None = None
    """The SIP status that ended a failed registration."""
    reason: TextMatch | None = None
    impu: TextMatch | None = None
    """The default public identity."""
    service_route: TextMatch | None = None
    """Matched against every Service-Route entry (one must match)."""
    associated_uri: TextMatch | None = None
    """Matched against every P-Associated-URI entry (one must match)."""
    expires: NumberMatch | None = None
    """The granted expiry in seconds."""
    reg_event: bool | None = None
    """Whether the reg-event subscription is active."""


class RegisterStep(StepArgs):
    """Provision (unless static or cached) and register SIMs, concurrently."""

    sims: list[int] | None = None
    """Several SIMs at once (default: ``sim``, else every enabled SIM)."""
    expect: RegisterExpect = RegisterExpect()


class DeregisterStep(StepArgs):
    """De-register one SIM (all of the handset's SIMs without ``sim``)."""


class RefreshStep(StepArgs):
    """Refresh the registration now and wait for the 200."""

    within: Seconds | None = None
    expect: RegisterExpect = RegisterExpect()


class OptionsExpect(Strict):
    status: IntList | None = None
    rcs: bool | None = None
    online: bool | None = None
    chatbot: bool | None = None
    services: list[str] | None = None
    """Services the peer must have (others may be there too)."""
    no_services: list[str] | None = None
    """Services the peer must not have."""
    tags: list[str] | None = None
    """Feature tags (or parts of them) that must be in the answer."""
    from_cache: bool | None = None


class OptionsStep(StepArgs):
    """Query a peer's capabilities with SIP OPTIONS."""

    target: str
    force: bool = True
    """Ask the network even when the answer is cached."""
    expect: OptionsExpect = OptionsExpect()


EventName = Literal[
    "registration",
    "provisioning",
    "capabilities",
    "message",
    "message_state",
    "composing",
    "otp",
    "terms",
]


class WaitStep(StepArgs):
    """Wait for a domain event, or keep an assertion window open for ``seconds``."""

    event: EventName | None = None
    where: dict[str, Any] = Field(default_factory=dict)
    """Fields the event must have (``{state: registered}``)."""
    within: Seconds | None = None
    seconds: Seconds | None = Field(default=None, gt=0, le=60)
    """A fixed window (only as an assertion window, e.g. before ``expect_no_message``)."""

    @model_validator(mode="after")
    def _one(self) -> WaitStep:
        _exactly_one(self, ("event", "seconds"))
        return self


class BotInfoExpect(Strict):
    found: bool = True
    name: TextMatch | None = None
    verified: bool | None = None
    menu: bool | None = None
    """Whether the bot info carries a persistent menu."""
    requests: int | None = None
    """HTTP requests the step sent (0: answered from the fresh cache)."""
    not_modified: bool | None = None
    """Whether the server answered 304 Not Modified."""


class BotInfoStep(StepArgs):
    """Fetch a chatbot's information (with the HTTP cache)."""

    bot: str
    refresh: bool = False
    expect: BotInfoExpect = BotInfoExpect()


class StopStep(StepArgs):
    """Stop a handset: de-register every SIM and close its sockets."""


# ----------------------------------------------------------------------------- messages


class ContentSpec(Strict):
    """An arbitrary body to send."""

    type: str
    body: str | None = None
    """Text (UTF-8)."""
    body_base64: str | None = None
    json_body: Any = Field(default=None, alias="json")
    """A JSON document, written compactly."""

    @model_validator(mode="after")
    def _one(self) -> ContentSpec:
        _exactly_one(self, ("body", "body_base64", "json_body"))
        return self


class LocationSpec(Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    label: str | None = None
    radius: float = Field(default=10.0, ge=0)


class SendExpect(Strict):
    state: TextList | None = None
    """The state right after sending (``sent``, ``failed``, ``sms_fallback``...)."""
    technology: Literal["pager", "large", "session", "sms-fallback"] | None = None
    status: int | None = None
    reason: TextMatch | None = None


class SendStep(StepArgs):
    """Send a message: text, an arbitrary content, a file, a location or device specifics."""

    to: str
    """A URI, a ``+86`` number, or the name of another handset of the scenario."""
    text: str | None = None
    content: ContentSpec | None = None
    file: str | None = None
    """A path (relative to the scenario file)."""
    location: LocationSpec | None = None
    device_specifics: bool = False
    technology: Literal["pager", "large", "session"] | None = None
    """Force a carrier (``content`` only)."""
    label: str | None = Field(default=None, alias="as")
    """A name to refer to this message later (``expect_state``)."""
    expect: SendExpect | None = None

    @model_validator(mode="after")
    def _one(self) -> SendStep:
        _exactly_one(self, ("text", "content", "file", "location", "device_specifics"))
        if self.technology is not None and self.content is None and self.text is None:
            raise ValueError("technology applies to text and content only")
        return self


class ExpectMessageStep(StepArgs, MessageExpect):
    """Wait for a received message that matches every given field."""

    sender: str | None = Field(default=None, alias="from")
    """Who sent it: a URI, a number, or a handset name."""
    within: Seconds | None = None
    label: str | None = Field(default=None, alias="as")
    """A name for the message (``tap``, ``mark_displayed``)."""


class ExpectNoMessageStep(StepArgs):
    """Fail if a message (from ``from``) arrives within the window."""

    sender: str | None = Field(default=None, alias="from")
    within: Seconds = Field(gt=0, le=60)


class TapStep(StepArgs):
    """Tap a chip of a received message, or a persistent-menu entry."""

    message: str | None = None
    """The received message (its ``as`` name; default: the last one received)."""
    chip: str | None = None
    """The chip's display text."""
    index: int | None = Field(default=None, ge=0)
    """The chip's position (0-based)."""
    card: int | None = Field(default=None, ge=0)
    """For a carousel: the card whose chips are meant (0-based)."""
    menu: str | None = None
    """A persistent-menu entry: display texts from the top, separated by ``/``."""
    bot: str | None = None
    """The chatbot whose menu is meant (default: the message's sender)."""
    consent: Literal["accept", "reject"] | None = None
    """For device-specifics and location requests: answer the consent question."""
    location: LocationSpec | None = None
    """The location shared when a location request is accepted."""
    label: str | None = Field(default=None, alias="as")
    expect: SendExpect | None = None

    @model_validator(mode="after")
    def _one(self) -> TapStep:
        _exactly_one(self, ("chip", "index", "menu"))
        if self.menu is not None and (self.card is not None or self.message is not None):
            raise ValueError("a menu entry belongs to the bot, not to a message or card")
        return self


class ExpectStateStep(StepArgs):
    """Wait until one of our messages reaches a delivery state."""

    message: str
    """The sent message's ``as`` name."""
    state: TextList
    within: Seconds | None = None

    @field_validator("state")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        known = {"queued", "sending", "sent", "delivered", "displayed", "failed", "sms_fallback"}
        for item in value:
            if item not in known:
                raise ValueError(f"unknown state {item!r} (known: {', '.join(sorted(known))})")
        return value


class MarkDisplayedStep(StepArgs):
    """Show a received message to the user: the displayed IMDN goes out if requested."""

    message: str | None = None
    delay: Seconds = Field(default=0.0, ge=0, le=60)
    """Wait this long first (a slow reader)."""


class ComposingStep(StepArgs):
    """Start or stop typing to a peer (is-composing)."""

    to: str
    active: bool = True


# ----------------------------------------------------------------------------- trace


class ExpectTraceStep(StepArgs):
    """Look for messages in the protocol trace (the handset's, or the lab's)."""

    source: Literal["handset", "lab"] = "handset"
    protocol: Literal["SIP", "HTTP", "MSRP", "SMS"] = "SIP"
    direction: Literal["in", "out"] | None = None
    method: str | None = None
    """A request's method (``MESSAGE``)."""
    status: int | None = None
    """A response's status code."""
    first_line: TextMatch | None = None
    headers: dict[str, TextMatch] = Field(default_factory=dict)
    """Header name -> condition on one of its values."""
    feature_tags: list[str] = Field(default_factory=list)
    """Feature tags that must be in the Contact or Accept-Contact (``+g.gsma.rcs.isbot``)."""
    body: TextMatch | None = None
    query: dict[str, TextMatch] = Field(default_factory=dict)
    """HTTP request query parameters (name -> condition on its value)."""
    count: NumberMatch | None = None
    """How many records must match (default: at least one)."""
    absent: bool = False
    """Expect no matching record at all."""
    within: Seconds | None = None
    since: Literal["scenario", "step"] = "scenario"
    """Search the whole scenario's trace, or only what this step waits for."""


# ----------------------------------------------------------------------------- lab


class FaultSpec(Strict):
    """A lab fault (``lab/faults.py`` for the config server, ``lab/sip_faults.py`` for the
    registrar)."""

    server: Literal["config", "registrar"] = "config"
    kind: str
    handset: str | None = None
    """Only for this handset's SIM (``sim``, default its default SIM)."""
    sim: int | None = Field(default=None, ge=1, le=2)
    once: int | None = Field(default=None, ge=1)
    retry_after: int | None = Field(default=None, ge=0)
    version: int | None = None
    validity: int | None = None
    accept_version: str | None = None
    title: str | None = None
    message: str | None = None


class RegEventSpec(Strict):
    action: Literal["deactivate", "reject", "shorten"]
    handset: str | None = None
    sim: int | None = Field(default=None, ge=1, le=2)
    seconds: int = Field(default=5, ge=0)


class PushSpec(Strict):
    """A message from a lab chatbot (the MaaP-style API)."""

    bot: str = "sip:demo@botplatform.lab"
    to: str
    content_type: str = "text/plain"
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")
    traffic_type: str | None = None


class LabStep(Strict):
    """Act on the bundled lab during the scenario."""

    fault: FaultSpec | None = None
    clear_faults: bool = False
    reg_event: RegEventSpec | None = None
    push: PushSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> LabStep:
        _exactly_one(self, ("fault", "clear_faults", "reg_event", "push"))
        return self


STEP_MODELS: dict[str, type[Strict]] = {
    "provision": ProvisionStep,
    "register": RegisterStep,
    "deregister": DeregisterStep,
    "refresh": RefreshStep,
    "options": OptionsStep,
    "wait": WaitStep,
    "send": SendStep,
    "expect_message": ExpectMessageStep,
    "expect_no_message": ExpectNoMessageStep,
    "tap": TapStep,
    "expect_state": ExpectStateStep,
    "mark_displayed": MarkDisplayedStep,
    "composing": ComposingStep,
    "expect_trace": ExpectTraceStep,
    "bot_info": BotInfoStep,
    "lab": LabStep,
    "stop": StopStep,
}
"""Step kind -> its arguments' model."""

SHORT_FORMS: dict[str, str] = {
    "provision": "handset",
    "register": "handset",
    "deregister": "handset",
    "refresh": "handset",
    "stop": "handset",
    "tap": "chip",
}
"""Step kinds that accept a bare string, and the key it stands for."""
