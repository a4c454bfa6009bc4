"""What each step kind does: one coroutine per kind, on top of :mod:`.api`.

:data:`EXECUTORS` maps a step kind to its coroutine ``(context, args) -> None``; a coroutine
returns when the step passed and raises
:class:`~rcs_terminal.scenario.results.ExpectationFailed` when an expectation did not hold.
:func:`step_title` writes the step in words for the deterministic step log (no times, ports,
generated ids: only what the scenario file says).

The :class:`StepContext` carries what steps share within one scenario: the handsets by name,
the lab, the names given with ``as:``, and the marks of the previous step in each handset's
event log and trace (``wait`` and ``expect_trace`` with ``since: step`` look from there, so
an event caused by the step before is never missed, and one from long before never counts).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcs_terminal.domain.events import (
    CapabilitiesUpdated,
    Event,
    IsComposingChanged,
    MessageReceived,
    MessageStateChanged,
    OtpRequested,
    ProvisioningChanged,
    RegistrationChanged,
    TermsPresented,
)
from rcs_terminal.errors import ProvisioningError, RcsTerminalError
from rcs_terminal.scenario import lab_control
from rcs_terminal.scenario.api import ReceivedMessage, ScenarioHandset, SentMessage
from rcs_terminal.scenario.expectations import MessageExpect, Strict
from rcs_terminal.scenario.matchers import Mismatch, match_number, match_text
from rcs_terminal.scenario.model import ScenarioDef, StepDef
from rcs_terminal.scenario.results import ExpectationFailed
from rcs_terminal.scenario.step_models import (
    BotInfoStep,
    ComposingStep,
    DeregisterStep,
    ExpectMessageStep,
    ExpectNoMessageStep,
    ExpectStateStep,
    LabStep,
    MarkDisplayedStep,
    OptionsStep,
    ProvisionStep,
    RefreshStep,
    RegisterExpect,
    RegisterStep,
    SendExpect,
    SendStep,
    StopStep,
    TapStep,
    WaitStep,
)
from rcs_terminal.scenario.trace_steps import expect_trace, trace_title

__all__ = ["EXECUTORS", "StepContext", "step_title"]

EVENTS: dict[str, type[Event]] = {
    "registration": RegistrationChanged,
    "provisioning": ProvisioningChanged,
    "capabilities": CapabilitiesUpdated,
    "message": MessageReceived,
    "message_state": MessageStateChanged,
    "composing": IsComposingChanged,
    "otp": OtpRequested,
    "terms": TermsPresented,
}


@dataclass
class StepContext:
    """What the steps of one scenario share.

    Attributes:
        scenario: the scenario.
        handsets: its handsets by name.
        lab: the running lab (``rcs_terminal.lab.lab.Lab``), or None.
        sent: our messages by ``as:`` name.
        received: received messages by ``as:`` name.
        event_marks: per handset, the event-log position when the previous step began.
        trace_marks: per trace source, the trace sequence number when the previous step began.
    """

    scenario: ScenarioDef
    handsets: dict[str, ScenarioHandset]
    lab: Any = None
    sent: dict[str, SentMessage] = field(default_factory=dict)
    received: dict[str, ReceivedMessage] = field(default_factory=dict)
    event_marks: dict[str, int] = field(default_factory=dict)
    trace_marks: dict[str, int] = field(default_factory=dict)

    def handset(self, name: str | None) -> ScenarioHandset:
        """The handset a step names (the only one when it names none)."""
        if name is None:
            return next(iter(self.handsets.values()))
        return self.handsets[name]

    def within(self, value: float | None) -> float:
        """A step's wait, or the scenario's default."""
        return value if value is not None else self.scenario.timeout

    def peer(self, value: str) -> str:
        """A peer as written: another handset's name becomes its tel URI."""
        other = self.handsets.get(value)
        return other.sim().tel_uri if other is not None else value

    def slot(self, handset: ScenarioHandset, sim: int | None) -> int:
        """The SIM a step means (the handset's default one when it names none)."""
        if sim is not None:
            return sim
        defined = self.scenario.handsets.get(handset_name(self, handset))
        return defined.default_slot if defined is not None else handset.sim().slot


def handset_name(ctx: StepContext, handset: ScenarioHandset) -> str:
    return next((n for n, h in ctx.handsets.items() if h is handset), handset.name)


def _fail_if(mismatches: list[Mismatch], what: str) -> None:
    if mismatches:
        raise ExpectationFailed(
            what,
            expected="; ".join(f"{m.path} {m.expected}" for m in mismatches),
            actual="; ".join(f"{m.path} {m.actual}" for m in mismatches),
        )


def _check(path: str, expected: object, actual: object) -> list[Mismatch]:
    if expected is None or expected == actual:
        return []
    return [Mismatch(path, repr(expected), repr(actual))]


# ----------------------------------------------------------------------------- network


async def run_provision(ctx: StepContext, args: ProvisionStep) -> None:
    from rcs_terminal.engine.provisioning import ProvisioningService

    handset = ctx.handset(args.handset)
    slot = ctx.slot(handset, args.sim)
    mark = handset.mark()
    service = ProvisioningService(
        handset.profile,
        handset.profile.sim(slot),
        trace=handset.trace,
        bus=handset.bus,
        lab=handset.lab_info,
        otp=args.otp or handset.otp,
        force=args.force,
        accept_terms=args.accept_terms if args.accept_terms is not None else handset.accept_terms,
    )
    result = None
    error: str | None = None
    try:
        result = await service.run()
    except ProvisioningError as exc:
        error = exc.message
    events = [e for e in handset.events[mark:] if e.sim == slot]
    versions = [
        e.version for e in events if isinstance(e, ProvisioningChanged) and e.version is not None
    ]
    expect = args.expect
    state = "provisioned" if result is not None else "failed"
    out = _check("state", expect.state, state)
    if state != expect.state and error:
        out.append(Mismatch("reason", "success", repr(error)))
    version = result.version if result is not None else (versions[-1] if versions else None)
    out += match_number(expect.version, version, "version")
    if result is not None:
        out += match_number(expect.validity, result.validity, "validity")
        out += _check("from_cache", expect.from_cache, result.from_cache)
    out += match_text(expect.reason, error if result is None else result.reason, "reason")
    if expect.otp is not None:
        out += _check("otp", expect.otp, any(isinstance(e, OtpRequested) for e in events))
    if expect.terms is not None:
        out += _check("terms", expect.terms, any(isinstance(e, TermsPresented) for e in events))
    _fail_if(out, f"provisioning of SIM {slot} did not go as expected")


def _registration_mismatches(
    handset: ScenarioHandset, slot: int, error: Any, expect: RegisterExpect
) -> list[Mismatch]:
    stack = handset.handset.sims.get(slot)
    reg = stack.registration if stack is not None else None
    state = "registered" if error is None and reg is not None and reg.is_registered else "failed"
    out = _check(f"sim{slot}.state", expect.state, state)
    if state != expect.state and error is not None:
        out.append(
            Mismatch(
                f"sim{slot}.reason", "registration", repr(getattr(error, "message", str(error)))
            )
        )
    out += _check(
        f"sim{slot}.status",
        expect.status,
        getattr(error, "status", None) if error else (reg.status if reg else None),
    )
    if error is not None:
        out += match_text(expect.reason, getattr(error, "message", str(error)), f"sim{slot}.reason")
    if reg is None:
        return out
    out += match_text(expect.impu, reg.default_impu, f"sim{slot}.impu")
    for name, rule, values in (
        ("service_route", expect.service_route, reg.service_route),
        ("associated_uri", expect.associated_uri, reg.associated_uris),
    ):
        if rule is not None and not any(not match_text(rule, v, name) for v in values):
            found = match_text(rule, ", ".join(values) or None, f"sim{slot}.{name}")
            out += found
    out += match_number(expect.expires, reg.expires, f"sim{slot}.expires")
    return out


async def _reg_event_ready(handset: ScenarioHandset, slot: int, within: float) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    reg = handset.stack(slot).registration
    while reg is not None and reg.reg_event.state != "active":
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await handset._changes(min(deadline, asyncio.get_running_loop().time() + 0.05))
    return reg is not None


async def run_register(ctx: StepContext, args: RegisterStep) -> None:
    handset = ctx.handset(args.handset)
    slots: list[int] | None
    if args.sims:
        slots = list(args.sims)
    elif args.sim is not None:
        slots = [args.sim]
    else:
        defined = ctx.scenario.handsets.get(handset_name(ctx, handset))
        slots = list(defined.slots) if defined is not None else None
    results = await handset.register(slots)
    out: list[Mismatch] = []
    for slot, error in results.items():
        out += _registration_mismatches(handset, slot, error, args.expect)
        if args.expect.reg_event is not None and error is None:
            ready = await _reg_event_ready(handset, slot, ctx.scenario.timeout)
            out += _check(f"sim{slot}.reg_event", args.expect.reg_event, ready)
    _fail_if(out, "registration did not go as expected")


async def run_deregister(ctx: StepContext, args: DeregisterStep) -> None:
    handset = ctx.handset(args.handset)
    await handset.deregister(args.sim)
    slots = [args.sim] if args.sim is not None else list(handset.handset.sims)
    for slot in slots:
        reg = handset.stack(slot).registration
        if reg is not None and reg.is_registered:
            raise ExpectationFailed(f"SIM {slot} is still registered", expected="deregistered")


async def run_refresh(ctx: StepContext, args: RefreshStep) -> None:
    handset = ctx.handset(args.handset)
    slot = ctx.slot(handset, args.sim)
    reg = handset.stack(slot).registration
    if reg is None or not reg.is_registered:
        raise ExpectationFailed(f"SIM {slot} is not registered", expected="registered")
    mark = handset.mark()
    reg.refresh_now()
    await handset.wait_event(
        RegistrationChanged,
        lambda e: e.sim == slot and e.state in ("registered", "failed"),
        since=mark,
        within=ctx.within(args.within),
    )
    _fail_if(
        _registration_mismatches(handset, slot, None, args.expect),
        "the refresh did not go as expected",
    )


async def run_options(ctx: StepContext, args: OptionsStep) -> None:
    handset = ctx.handset(args.handset)
    result = await handset.options(ctx.peer(args.target), sim=args.sim, force=args.force)
    expect = args.expect
    out: list[Mismatch] = []
    if expect.status is not None and result.status not in expect.status:
        out.append(Mismatch("status", " or ".join(map(str, expect.status)), str(result.status)))
    for name in ("rcs", "online", "chatbot", "from_cache"):
        out += _check(name, getattr(expect, name), getattr(result, name))
    services = set(result.services)
    for service in expect.services or ():
        if service not in services:
            out.append(Mismatch("services", f"{service!r} among them", repr(sorted(services))))
    for service in expect.no_services or ():
        if service in services:
            out.append(Mismatch("services", f"no {service!r}", repr(sorted(services))))
    tags = " ".join(result.tags).lower()
    for tag in expect.tags or ():
        if tag.lower() not in tags:
            out.append(Mismatch("tags", f"{tag!r} among them", repr(list(result.tags))))
    _fail_if(out, f"the OPTIONS answer of {args.target} is not as expected")


async def run_wait(ctx: StepContext, args: WaitStep) -> None:
    handset = ctx.handset(args.handset)
    if args.seconds is not None:
        await asyncio.sleep(args.seconds)  # an assertion window, by the scenario's choice
        return
    kind = EVENTS[args.event or "registration"]

    def wanted(event: Any) -> bool:
        if args.sim is not None and event.sim != args.sim:
            return False
        for key, value in args.where.items():
            actual = getattr(event, key, None)
            if actual != value and str(actual) != str(value):
                return False
        return True

    since = ctx.event_marks.get(handset_name(ctx, handset), 0)
    await handset.wait_event(kind, wanted, since=since, within=ctx.within(args.within))


async def run_bot_info(ctx: StepContext, args: BotInfoStep) -> None:
    handset = ctx.handset(args.handset)
    before = handset.trace.records(protocol="HTTP")
    first_seq = before[-1].seq if before else 0
    info = await handset.bot_info(args.bot, sim=args.sim, refresh=args.refresh)
    records = [r for r in handset.trace.records(protocol="HTTP") if r.seq > first_seq]
    requests = sum(1 for r in records if r.direction == "out" and "/bot" in r.first_line)
    expect = args.expect
    out = _check("found", expect.found, info is not None)
    if info is not None:
        out += match_text(expect.name, info.name, "name")
        out += _check("verified", expect.verified, info.verified)
        out += _check("menu", expect.menu, info.persistent_menu is not None)
    out += _check("requests", expect.requests, requests)
    not_modified = any(r.direction == "in" and " 304 " in f"{r.first_line} " for r in records)
    out += _check("not_modified", expect.not_modified, not_modified)
    _fail_if(out, f"the bot info of {args.bot} is not as expected")


async def run_stop(ctx: StepContext, args: StopStep) -> None:
    await ctx.handset(args.handset).stop()


# ----------------------------------------------------------------------------- messages


def _check_sent(sent: SentMessage, expect: SendExpect | None) -> None:
    result = sent.result
    if expect is None:
        if not result.ok:
            raise ExpectationFailed(
                f"the message to {sent.peer} was not sent",
                expected="sent",
                actual=f"{result.state} ({result.status} {result.reason})",
            )
        return
    out: list[Mismatch] = []
    if expect.state is not None and result.state not in expect.state:
        out.append(
            Mismatch("state", " or ".join(expect.state), f"{result.state} ({result.reason})")
        )
    out += _check("technology", expect.technology, result.technology)
    out += _check("status", expect.status, result.status)
    out += match_text(expect.reason, result.reason, "reason")
    _fail_if(out, f"sending to {sent.peer} did not go as expected")


def _content_body(content: Any) -> bytes:
    if content.body is not None:
        return str(content.body).encode("utf-8")
    if content.body_base64 is not None:
        return base64.b64decode(content.body_base64)
    return json.dumps(content.json_body, ensure_ascii=False, separators=(",", ":")).encode()


async def run_send(ctx: StepContext, args: SendStep) -> None:
    handset = ctx.handset(args.handset)
    to = ctx.peer(args.to)
    options: dict[str, Any] = {"sim": args.sim, "technology": args.technology}
    if args.content is not None:
        options.update(content_type=args.content.type, body=_content_body(args.content))
    elif args.file is not None:
        path = Path(args.file)
        options["file"] = path if path.is_absolute() else ctx.scenario.base_dir / path
    elif args.location is not None:
        options["location"] = args.location.model_dump()
    elif args.device_specifics:
        options["device_specifics"] = True
    sent = await handset.send(to, args.text, **options)
    if args.label:
        ctx.sent[args.label] = sent
    _check_sent(sent, args.expect)


async def run_expect_message(ctx: StepContext, args: ExpectMessageStep) -> None:
    handset = ctx.handset(args.handset)
    fields = {name: getattr(args, name) for name in MessageExpect.model_fields}
    found = await handset.expect_message(
        sender=ctx.peer(args.sender) if args.sender else None,
        sim=args.sim,
        within=ctx.within(args.within),
        expect=MessageExpect(**fields),
    )
    if args.label:
        ctx.received[args.label] = found
    if args.file is not None and args.file.download and found.observed.file is not None:
        await _download(handset, found)


async def _download(handset: ScenarioHandset, found: ReceivedMessage) -> None:
    from rcs_terminal.engine.filetransfer import FileTransferClient
    from rcs_terminal.engine.http import HttpClient

    stack = handset.stack(found.sim)
    config = getattr(stack.provisioning, "config", None)
    if config is None:
        raise ExpectationFailed("no provisioned file-transfer settings to download with")
    names = dict(handset.lab_info.names) if handset.lab_info is not None else {}
    http = HttpClient(handset.trace, sim=found.sim, hosts=names, allow_dns=handset.lab_info is None)
    try:
        client = FileTransferClient.from_config(http, config, identity=stack.sim.tel_uri)
        try:
            path = await client.download(found.observed.file)  # type: ignore[arg-type]
        except RcsTerminalError as exc:
            raise ExpectationFailed(
                "the file could not be downloaded", actual=exc.message
            ) from None
        size = found.observed.file.file.size  # type: ignore[union-attr]
        if Path(path).stat().st_size != size:
            raise ExpectationFailed(
                "the downloaded file has the wrong size",
                expected=f"{size} bytes",
                actual=f"{Path(path).stat().st_size} bytes",
            )
    finally:
        await http.close()


async def run_expect_no_message(ctx: StepContext, args: ExpectNoMessageStep) -> None:
    handset = ctx.handset(args.handset)
    sender = ctx.peer(args.sender) if args.sender else None
    await handset.expect_no_message(sender=sender, sim=args.sim, within=args.within)


async def run_tap(ctx: StepContext, args: TapStep) -> None:
    handset = ctx.handset(args.handset)
    location = args.location.model_dump() if args.location is not None else None
    if args.menu is not None:
        bot = args.bot or (handset.last_received().sender if handset.received else None)
        if bot is None:
            raise ExpectationFailed("tap a menu entry of which bot?", expected="bot: <uri>")
        sent = await handset.tap_menu(ctx.peer(bot), args.menu, sim=args.sim)
    else:
        message = ctx.received[args.message] if args.message else handset.last_received()
        chip = args.chip if args.chip is not None else args.index
        assert chip is not None
        sent = await message.tap(chip, card=args.card, consent=args.consent, location=location)
    if args.label:
        ctx.sent[args.label] = sent
    _check_sent(sent, args.expect)


async def run_expect_state(ctx: StepContext, args: ExpectStateStep) -> None:
    sent = ctx.sent[args.message]
    await sent.wait_for(*args.state, within=ctx.within(args.within))


async def run_mark_displayed(ctx: StepContext, args: MarkDisplayedStep) -> None:
    handset = ctx.handset(args.handset)
    message = ctx.received[args.message] if args.message else handset.last_received()
    await handset.mark_displayed(message, delay=args.delay)


async def run_composing(ctx: StepContext, args: ComposingStep) -> None:
    handset = ctx.handset(args.handset)
    await handset.set_composing(ctx.peer(args.to), args.active, sim=args.sim)


async def run_lab(ctx: StepContext, args: LabStep) -> None:
    await lab_control.apply(ctx, args)


async def run_expect_trace(ctx: StepContext, args: Any) -> None:
    await expect_trace(ctx, args)


Executor = Callable[[StepContext, Any], Awaitable[None]]

EXECUTORS: Mapping[str, Executor] = {
    "provision": run_provision,
    "register": run_register,
    "deregister": run_deregister,
    "refresh": run_refresh,
    "options": run_options,
    "wait": run_wait,
    "send": run_send,
    "expect_message": run_expect_message,
    "expect_no_message": run_expect_no_message,
    "tap": run_tap,
    "expect_state": run_expect_state,
    "mark_displayed": run_mark_displayed,
    "composing": run_composing,
    "expect_trace": run_expect_trace,
    "bot_info": run_bot_info,
    "lab": run_lab,
    "stop": run_stop,
}


# ----------------------------------------------------------------------------- titles


def _who(args: Strict) -> str:
    name = getattr(args, "handset", None)
    sim = getattr(args, "sim", None)
    text = name or ""
    if sim is not None:
        text += f" SIM {sim}"
    return text.strip()


def step_title(step: StepDef) -> str:
    """The step in words, for the step log (deterministic)."""
    if step.title:
        return step.title
    args: Any = step.args
    who = _who(args)
    prefix = f"{who}: " if who else ""
    kind = step.kind
    if kind == "send":
        what = (
            f"text {args.text!r}"
            if args.text is not None
            else f"{args.content.type}"
            if args.content is not None
            else f"file {args.file}"
            if args.file is not None
            else "location"
            if args.location is not None
            else "device specifics"
        )
        return f"{prefix}send {what} to {args.to}"
    if kind == "expect_message":
        sender = f" from {args.sender}" if args.sender else ""
        fields = [n for n in MessageExpect.model_fields if getattr(args, n) is not None]
        detail = f" ({', '.join(fields)})" if fields else ""
        return f"{prefix}expect a message{sender}{detail}"
    if kind == "expect_no_message":
        sender = f" from {args.sender}" if args.sender else ""
        return f"{prefix}expect no message{sender} for {args.within:g} s"
    if kind == "tap":
        target = (
            f"menu entry {args.menu!r}"
            if args.menu is not None
            else f"chip {args.chip!r}"
            if args.chip is not None
            else f"chip #{args.index}"
        )
        consent = f" and {args.consent} the request" if args.consent else ""
        return f"{prefix}tap {target}{consent}"
    if kind == "expect_state":
        return f"{prefix}expect message {args.message} {' or '.join(args.state)}"
    if kind == "options":
        return f"{prefix}OPTIONS to {args.target}"
    if kind == "wait":
        if args.seconds is not None:
            return f"{prefix}keep a {args.seconds:g} s window"
        where = ", ".join(f"{k}={v}" for k, v in args.where.items())
        return f"{prefix}wait for {args.event}" + (f" ({where})" if where else "")
    if kind == "register" and args.sims:
        return f"{prefix}register SIMs {', '.join(map(str, args.sims))}"
    if kind == "expect_trace":
        return prefix + trace_title(args)
    if kind == "lab":
        return lab_control.title(args)
    if kind == "bot_info":
        return f"{prefix}bot info of {args.bot}"
    if kind == "composing":
        return f"{prefix}{'start' if args.active else 'stop'} typing to {args.to}"
    return f"{prefix}{kind.replace('_', ' ')}"
