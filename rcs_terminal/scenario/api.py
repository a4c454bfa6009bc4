"""The async Python API for test authors: the scenario steps as methods.

The YAML runner and Python tests share this layer, so a step behaves the same in both::

    async with ScenarioLab() as lab:
        alice = await ScenarioHandset.start("lab-alice", lab=lab)
        sent = await alice.send("sip:demo@botplatform.lab", "hi")
        card = await alice.expect_message(sender="sip:demo@botplatform.lab", kind="card")
        await card.tap("Buy")                    # sends the suggestion response
        await sent.wait_for("delivered")
        await alice.stop()

A :class:`ScenarioHandset` wraps an engine :class:`~rcs_terminal.engine.handset.Handset`
with what a test needs on top: an inbox (every ``MessageReceived`` is remembered with its
order, so an expectation can look at messages that arrived before it was asked), an event
log (``wait_event`` finds events published since a mark), decoding and linting of received
payloads (:mod:`.observe`), and the displayed-IMDN policy of the user (``manual``: on
:meth:`ReceivedMessage.mark_displayed`; ``auto``: for every message, after a delay;
``never``). Expectations raise :class:`~rcs_terminal.scenario.results.ExpectationFailed`
with what was expected and what was seen. Every wait ends on an event or its timeout; nothing
sleeps blindly.

:mod:`.pytest_plugin` has the ``lab`` and ``handset_factory`` fixtures built on this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcs_terminal.domain.events import Event, MessageReceived
from rcs_terminal.domain.message import Direction, StoredMessage
from rcs_terminal.domain.profile import Profile, Sim, load_profile
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.handset import Handset, SimStack
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.protocol.up import Action, Reply, parse_suggestion_response
from rcs_terminal.scenario.expectations import MessageExpect
from rcs_terminal.scenario.matchers import ObservedMessage, match_message, same_peer
from rcs_terminal.scenario.observe import observe
from rcs_terminal.scenario.results import ExpectationFailed
from rcs_terminal.scenario.suggestions import find_chip, find_menu_entry

__all__ = ["ReceivedMessage", "ScenarioHandset", "ScenarioLab", "SentMessage"]


class ScenarioLab:
    """The bundled lab, started for tests (``async with ScenarioLab() as lab``).

    Args:
        profiles: extra profiles (paths) whose lab SIMs the lab serves too.
        options: keyword arguments for :class:`~rcs_terminal.lab.lab.Lab`.
    """

    def __init__(self, profiles: Iterable[str] = (), **options: Any) -> None:
        from rcs_terminal.lab.lab import Lab
        from rcs_terminal.lab.subscribers import default_directory

        self.lab = Lab(directory=default_directory(list(profiles)), **options)

    @property
    def info(self) -> LabInfo:
        """Where the running lab listens."""
        return self.lab.info

    async def start(self) -> ScenarioLab:
        await self.lab.start()
        return self

    async def stop(self) -> None:
        await self.lab.stop()

    async def __aenter__(self) -> ScenarioLab:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _lab_info(lab: Any) -> LabInfo | None:
    if lab is None or isinstance(lab, LabInfo):
        return lab
    info: LabInfo = lab.info  # a Lab or a ScenarioLab
    return info


@dataclass
class SentMessage:
    """A message we sent.

    Attributes:
        handset: who sent it.
        sim: the SIM it left from.
        peer: the recipient.
        result: the messaging service's result (id, technology, state, status, reason).
    """

    handset: ScenarioHandset
    sim: int
    peer: str
    result: Any

    @property
    def message_id(self) -> str:
        return str(self.result.message_id)

    def stored(self) -> StoredMessage | None:
        """The message as the store has it now."""
        found: StoredMessage | None = self.handset.store.message(
            self.message_id, direction=Direction.OUTGOING
        )
        return found

    async def wait_for(self, *states: str, within: float = 10.0) -> StoredMessage:
        """Wait until the message is in one of ``states`` (``delivered``, ``displayed``...).

        Raises:
            ExpectationFailed: it did not get there in time.
        """
        messaging = self.handset.messaging(self.sim)
        try:
            return await messaging.wait_for_state(self.message_id, set(states), within)  # type: ignore[no-any-return]
        except TimeoutError:
            stored = self.stored()
            now = stored.state.value if stored is not None else "unknown"
            reason = f" ({stored.failure_reason})" if stored and stored.failure_reason else ""
            raise ExpectationFailed(
                f"message to {self.peer} did not reach {'/'.join(states)} within {within:g} s",
                expected=" or ".join(states),
                actual=f"{now}{reason}",
            ) from None


@dataclass
class ReceivedMessage:
    """A message we received, decoded.

    Attributes:
        handset: who received it.
        stored: the message as stored.
        observed: the decoded view the matchers use.
    """

    handset: ScenarioHandset
    stored: StoredMessage
    observed: ObservedMessage

    @property
    def sender(self) -> str:
        return self.stored.peer_uri

    @property
    def sim(self) -> int:
        return self.stored.sim

    async def tap(
        self,
        chip: str | int,
        *,
        card: int | None = None,
        consent: str | None = None,
        location: Mapping[str, Any] | None = None,
    ) -> SentMessage:
        """Tap a chip (by display text or 0-based index) and send the suggestion response.

        The response is checked in the store: it must carry the chip's display text and
        postback exactly. For a device-specifics or location request, ``consent="accept"``
        then shares the device specifics or ``location`` (``latitude``, ``longitude``,
        ``label``, ``radius``).

        Raises:
            ExpectationFailed: no such chip, or the response does not carry its postback.
        """
        suggestion = find_chip(self.observed, chip, card=card)
        return await self.handset.respond(
            self.sender, suggestion, sim=self.sim, consent=consent, location=location
        )

    async def mark_displayed(self, delay: float = 0.0) -> None:
        """Show the message to the user: the displayed IMDN goes out if it was requested."""
        await self.handset.mark_displayed(self, delay=delay)


class ScenarioHandset:
    """An emulated handset driven by a test (see the module docstring).

    Args:
        profile: a profile, or its built-in name or path.
        name: the handset's name in reports.
        lab: the running lab (``ScenarioLab``, ``Lab`` or ``LabInfo``), if any.
        trace: the trace recorder (a new one by default).
        otp: an OTP for provisioning.
        accept_terms: the answer to operator terms.
        max_attempts: failed registration attempts in a row before giving up.
        displayed: ``manual``, ``auto`` or ``never`` (displayed IMDNs, see the module doc).
        displayed_delay: seconds before an automatic displayed report.
        lint: the operator profile to lint received payloads with (``auto``), or None.
    """

    def __init__(
        self,
        profile: Profile | str,
        *,
        name: str | None = None,
        lab: Any = None,
        trace: TraceRecorder | None = None,
        otp: str | None = None,
        accept_terms: bool | None = None,
        max_attempts: int | None = 4,
        displayed: str = "manual",
        displayed_delay: float = 0.0,
        lint: str | None = "auto",
    ) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.name = name or self.profile.name or "handset"
        self.lab = lab
        self.lab_info = _lab_info(lab)
        self.trace = trace if trace is not None else TraceRecorder()
        self.bus = EventBus()
        self.handset = Handset(
            self.profile,
            trace=self.trace,
            bus=self.bus,
            lab=self.lab_info,
            otp=otp,
            accept_terms=accept_terms,
            max_attempts=max_attempts,
        )
        self.otp = otp
        self.accept_terms = accept_terms
        self.displayed = displayed
        self.displayed_delay = displayed_delay
        self.lint = lint
        self.events: list[Event] = []
        self.arrivals: list[tuple[int, str]] = []
        self.consumed: set[str] = set()
        self.received: list[ReceivedMessage] = []
        self._observed: dict[str, ObservedMessage] = {}
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._botinfo: dict[int, Any] = {}
        self._http: list[Any] = []
        self.bus.subscribe(self._on_event)

    @classmethod
    async def start(
        cls, profile: Profile | str, *, slots: Iterable[int] | None = None, **options: Any
    ) -> ScenarioHandset:
        """Create a handset and register it (every enabled SIM, or ``slots``).

        Raises:
            ExpectationFailed: a SIM did not register.
        """
        handset = cls(profile, **options)
        results = await handset.register(slots)
        failed = {slot: err for slot, err in results.items() if err is not None}
        if failed:
            await handset.stop()
            slot, err = next(iter(failed.items()))
            raise ExpectationFailed(
                f"{handset.name} SIM {slot} did not register",
                expected="registered",
                actual=err.message if isinstance(err, RcsTerminalError) else str(err),
            )
        return handset

    # ------------------------------------------------------------------ state

    @property
    def store(self) -> Any:
        """The handset's message store."""
        return self.handset.store

    def sim(self, slot: int | None = None) -> Sim:
        """The SIM ``slot`` (default: the profile's default SIM)."""
        return self.profile.sim(slot) if slot is not None else self.profile.default_sim

    def stack(self, slot: int | None = None) -> SimStack:
        """The engine's stack of SIM ``slot`` (it must be started)."""
        return self.handset.stack(slot)

    def messaging(self, slot: int | None = None) -> Any:
        """The messaging service of SIM ``slot``.

        Raises:
            ExpectationFailed: the SIM is not registered (no messaging service).
        """
        stack = self.stack(slot)
        service = getattr(stack, "messaging", None)
        if service is None:
            raise ExpectationFailed(
                f"{self.name} SIM {stack.slot} has no messaging service",
                expected="a registered SIM",
                actual=stack.registration.state if stack.registration else "not started",
            )
        return service

    def mark(self) -> int:
        """A position in the event log (for :meth:`wait_event`)."""
        return len(self.events)

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, MessageReceived):
            self.arrivals.append((event.sim, event.message_id))
            if self.displayed == "auto":
                self._spawn(self._auto_displayed(event.sim, event.message_id))
        self._changed.set()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _auto_displayed(self, slot: int, message_id: str) -> None:
        if self.displayed_delay:
            await asyncio.sleep(self.displayed_delay)
        with contextlib.suppress(Exception):
            await self.messaging(slot).mark_displayed(message_id)

    async def _changes(self, deadline: float) -> bool:
        """Wait for the next event until ``deadline`` (loop time); False on timeout."""
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), remaining)
        except TimeoutError:
            return False
        return True

    async def wait_event(
        self,
        kind: type[Event],
        predicate: Callable[[Any], bool] = lambda e: True,
        *,
        since: int = 0,
        within: float = 10.0,
    ) -> Event:
        """The first event of ``kind`` matching ``predicate`` published since the mark
        ``since`` (waiting up to ``within`` seconds for it).

        Raises:
            ExpectationFailed: none came in time.
        """
        deadline = asyncio.get_running_loop().time() + within
        checked = since
        while True:
            for event in self.events[checked:]:
                if isinstance(event, kind) and predicate(event):
                    return event
            checked = len(self.events)
            if not await self._changes(deadline):
                seen = [e for e in self.events[since:] if isinstance(e, kind)]
                raise ExpectationFailed(
                    f"no matching {kind.__name__} within {within:g} s",
                    actual=_events_text(seen),
                )

    # ------------------------------------------------------------------ network

    async def register(
        self, slots: Iterable[int] | None = None
    ) -> dict[int, RcsTerminalError | None]:
        """Provision (unless static or cached) and register SIMs; already registered ones
        are left alone, de-registered ones register again."""
        chosen = list(self.handset.default_slots() if slots is None else slots)
        new = [s for s in chosen if s not in self.handset.sims or self.handset.sims[s].error]
        again = [s for s in chosen if s not in new]
        results: dict[int, RcsTerminalError | None] = {}
        if new:
            results.update(await self.handset.start(new))
        for slot in again:
            stack = self.handset.sims[slot]
            try:
                if stack.registration is not None and not stack.is_registered:
                    await stack.registration.start()
                results[slot] = None
            except RcsTerminalError as exc:
                stack.error = exc
                results[slot] = exc
        return results

    async def deregister(self, slot: int | None = None) -> None:
        """De-register SIM ``slot`` (every started SIM when None)."""
        stacks = [self.stack(slot)] if slot is not None else list(self.handset.sims.values())
        await asyncio.gather(*(s.registration.stop() for s in stacks if s.registration is not None))

    async def stop(self) -> None:
        """De-register every SIM, close sockets, end background work."""
        for task in list(self._tasks):
            task.cancel()
        for http in self._http:
            with contextlib.suppress(Exception):
                await http.close()
        self._http.clear()
        await self.handset.stop()
        store = getattr(self.handset, "store", None)
        close = getattr(store, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()

    async def options(self, target: str, *, sim: int | None = None, force: bool = True) -> Any:
        """Query ``target``'s capabilities (SIP OPTIONS); returns the engine's result."""
        service = self.stack(sim).capabilities
        if service is None:
            raise ExpectationFailed(f"{self.name}: SIM not registered", expected="registered")
        return await service.query(target, force=force)

    async def bot_info(self, bot: str, *, sim: int | None = None, refresh: bool = False) -> Any:
        """The chatbot's information (HTTP, with the client's cache)."""
        return await self.botinfo_client(sim).get(bot, refresh=refresh)

    def botinfo_client(self, slot: int | None = None) -> Any:
        """The SIM's chatbot-information client (made on first use)."""
        stack = self.stack(slot)
        client = self._botinfo.get(stack.slot)
        if client is not None:
            return client
        from rcs_terminal.engine.botinfo import BotInfoClient, botinfo_cache_dir
        from rcs_terminal.engine.http import HttpClient

        config = getattr(stack.provisioning, "config", None)
        if config is None:
            raise ExpectationFailed(
                f"{self.name} SIM {stack.slot} has no provisioned configuration",
                expected="a provisioned SIM (bot info comes from BotinfoFQDNRoot)",
            )
        names = dict(self.lab_info.names) if self.lab_info is not None else {}
        http = HttpClient(
            self.trace,
            sim=stack.slot,
            owner=self.profile.name,
            hosts=names,
            allow_dns=self.lab_info is None,
        )
        self._http.append(http)
        client = BotInfoClient.from_config(
            http,
            config,
            identity=stack.sim.tel_uri,
            cache_dir=botinfo_cache_dir(self.profile.name or self.name),
        )
        self._botinfo[stack.slot] = client
        return client

    # ------------------------------------------------------------------ messages

    def resolve_peer(self, peer: str, others: Mapping[str, ScenarioHandset] | None = None) -> str:
        """A peer as given, or another handset's tel URI when ``peer`` is its name."""
        if others and peer in others:
            return others[peer].sim().tel_uri
        return peer

    async def send(
        self,
        to: str,
        text: str | None = None,
        *,
        content_type: str | None = None,
        body: bytes | None = None,
        file: str | Path | None = None,
        location: Mapping[str, Any] | None = None,
        device_specifics: bool = False,
        technology: str | None = None,
        sim: int | None = None,
    ) -> SentMessage:
        """Send text, a content (``content_type`` + ``body``), a file, a location or the
        device specifics to ``to``."""
        service = self.messaging(sim)
        slot = self.stack(sim).slot
        if text is not None and technology is None:
            result = await service.send_text(to, text)
        elif text is not None:
            result = await service.send_content(
                to, "text/plain;charset=UTF-8", text.encode("utf-8"), technology=technology
            )
        elif content_type is not None and body is not None:
            result = await service.send_content(to, content_type, body, technology=technology)
        elif file is not None:
            result = await service.send_file(to, Path(file))
        elif location is not None:
            result = await service.send_location(
                to,
                location["latitude"],
                location["longitude"],
                location.get("label"),
                radius=location.get("radius", 10.0),
            )
        elif device_specifics:
            result = await service.send_device_specifics(to)
        else:
            raise ValueError("give text, content_type and body, file, location or device_specifics")
        return SentMessage(self, slot, to, result)

    def _observe(
        self, message_id: str, direction: Direction = Direction.INCOMING
    ) -> ObservedMessage | None:
        seen = self._observed.get(message_id)
        if seen is not None:
            return seen
        stored = self.store.message(message_id, direction=direction)
        if stored is None:
            return None
        sim = next((s for s in self.profile.sims if s.slot == stored.sim), None)
        seen = observe(stored, lint=self.lint, sim=sim)
        self._observed[message_id] = seen
        return seen

    async def expect_message(
        self,
        *,
        sender: str | None = None,
        sim: int | None = None,
        within: float = 10.0,
        expect: MessageExpect | None = None,
        **fields: Any,
    ) -> ReceivedMessage:
        """The first not yet expected message (from ``sender``, on ``sim``) that matches
        ``expect`` (or the :class:`~.expectations.MessageExpect` fields given as keywords:
        ``kind="card"``, ``text={"contains": "hi"}``...), waiting up to ``within`` seconds.

        Raises:
            ExpectationFailed: none matched in time; the closest candidate's differences
                are the "actual".
        """
        rule = expect if expect is not None else MessageExpect.model_validate(fields)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            best: tuple[int, ObservedMessage, list[Any]] | None = None
            for slot, message_id in list(self.arrivals):
                if message_id in self.consumed or (sim is not None and slot != sim):
                    continue
                seen = self._observe(message_id)
                if seen is None or (sender is not None and not same_peer(sender, seen.sender)):
                    continue
                mismatches = match_message(rule, seen)
                if not mismatches:
                    self.consumed.add(message_id)
                    stored = self.store.message(message_id, direction=Direction.INCOMING)
                    found = ReceivedMessage(self, stored, seen)
                    self.received.append(found)
                    return found
                if best is None or len(mismatches) < best[0]:
                    best = (len(mismatches), seen, mismatches)
            if not await self._changes(deadline):
                who = f" from {sender}" if sender else ""
                where = f" on SIM {sim}" if sim is not None else ""
                if best is None:
                    raise ExpectationFailed(
                        f"no message{who}{where} within {within:g} s",
                        expected=_rule_text(rule) or "a message",
                        actual="no new message" + self._others_text(),
                    )
                _, seen, mismatches = best
                raise ExpectationFailed(
                    f"no matching message{who}{where} within {within:g} s",
                    expected=_rule_text(rule),
                    actual=f"{seen.summary()}: " + "; ".join(str(m) for m in mismatches),
                )

    def _others_text(self) -> str:
        others = [self._observe(mid) for _, mid in self.arrivals if mid not in self.consumed]
        shown = [o.summary() for o in others if o is not None][:3]
        return f" (unexpected: {'; '.join(shown)})" if shown else ""

    async def expect_no_message(
        self, *, sender: str | None = None, sim: int | None = None, within: float = 2.0
    ) -> None:
        """Fail if a new message (from ``sender``, on ``sim``) arrives within ``within`` s.

        Raises:
            ExpectationFailed: one arrived.
        """
        start = len(self.arrivals)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            for slot, message_id in self.arrivals[start:]:
                seen = self._observe(message_id)
                if seen is None or (sim is not None and slot != sim):
                    continue
                if sender is None or same_peer(sender, seen.sender):
                    raise ExpectationFailed(
                        f"a message arrived within {within:g} s",
                        expected="no message" + (f" from {sender}" if sender else ""),
                        actual=seen.summary(),
                    )
            start = len(self.arrivals)
            if not await self._changes(deadline):
                return

    def last_received(self) -> ReceivedMessage:
        """The message the last successful expectation returned."""
        if not self.received:
            raise ExpectationFailed(
                "no message was expected yet", expected="an earlier expect_message"
            )
        return self.received[-1]

    async def respond(
        self,
        peer: str,
        suggestion: Reply | Action,
        *,
        sim: int | None = None,
        consent: str | None = None,
        location: Mapping[str, Any] | None = None,
    ) -> SentMessage:
        """Send the suggestion response for a tapped chip or menu entry, check it in the
        store, and answer a consent question."""
        service = self.messaging(sim)
        slot = self.stack(sim).slot
        result = await service.send_suggestion_response(peer, suggestion)
        sent = SentMessage(self, slot, peer, result)
        stored = sent.stored()
        if stored is None:
            raise ExpectationFailed("the suggestion response is not in the store")
        try:
            response = parse_suggestion_response(stored.body)
        except RcsTerminalError as exc:
            raise ExpectationFailed(
                "our suggestion response does not parse", actual=exc.message
            ) from None
        if (response.display_text, response.postback_data) != (
            suggestion.display_text,
            suggestion.postback_data,
        ):
            raise ExpectationFailed(
                "the suggestion response does not carry the chip's text and postback",
                expected=f"{suggestion.display_text!r} / {suggestion.postback_data!r}",
                actual=f"{response.display_text!r} / {response.postback_data!r}",
            )
        kind = getattr(suggestion, "name", None) if isinstance(suggestion, Action) else None
        if consent == "accept" and kind == "requestDeviceSpecifics":
            result = await service.send_device_specifics(peer)
            sent = SentMessage(self, slot, peer, result)
        elif consent == "accept" and kind == "requestLocationPush":
            place = dict(location or {"latitude": 39.9042, "longitude": 116.4074})
            result = await service.send_location(
                peer,
                place["latitude"],
                place["longitude"],
                place.get("label"),
                radius=place.get("radius", 10.0),
            )
            sent = SentMessage(self, slot, peer, result)
        return sent

    async def tap_menu(self, bot: str, path: str, *, sim: int | None = None) -> SentMessage:
        """Tap a persistent-menu entry of ``bot`` (display texts from the top, ``/``-separated)."""
        info = await self.bot_info(bot, sim=sim)
        menu = getattr(info, "persistent_menu", None) if info is not None else None
        entry = find_menu_entry(menu, path)
        return await self.respond(bot, entry, sim=sim)

    async def mark_displayed(self, message: ReceivedMessage, *, delay: float = 0.0) -> None:
        """Report ``message`` displayed (unless the policy is ``never``)."""
        if self.displayed == "never":
            return
        if delay:
            await asyncio.sleep(delay)
        await self.messaging(message.sim).mark_displayed(message.stored.message_id)

    async def set_composing(
        self, peer: str, active: bool = True, *, sim: int | None = None
    ) -> None:
        """Tell ``peer`` we are (or stopped) typing."""
        await self.messaging(sim).set_composing(peer, active)


def _rule_text(rule: MessageExpect) -> str:
    data = rule.model_dump(exclude_none=True, exclude_defaults=True, by_alias=True)
    return ", ".join(f"{k}={_compact(v)}" for k, v in data.items())


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        if set(value) == {"equals"}:
            return repr(value["equals"])
        if set(value) == {"min", "max"} and value["min"] == value["max"]:
            return str(value["min"])
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _events_text(events: list[Event]) -> str:
    if not events:
        return "none of that kind"
    shown = [
        type(e).__name__
        + "("
        + ", ".join(f"{k}={v!r}" for k, v in vars(e).items() if v not in (None, (), ""))
        + ")"
        for e in events[-3:]
    ]
    return "; ".join(shown)
