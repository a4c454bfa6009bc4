"""Test doubles for the messaging tests (no tests here).

A :class:`Phone` is one registered SIM over the in-memory flows of
``test_sip_endpoint_support`` (no sockets): a SIP endpoint with its registration and
capability service, a :class:`MessagingService` on a message store in the test's folder, and
:class:`Core`, the IMS core seen from the SIM: a registrar, OPTIONS answers from the endpoint
corpus per target, and MESSAGE answers from a script (200 by default; None: no answer).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from test_sip_endpoint_support import (
    FakeFlow,
    MiniRegistrar,
    Stack,
    digest_params,
    from_corpus,
    make_stack,
    settle,
)

from rcs_terminal.clock import FakeClock
from rcs_terminal.domain.profile import Profile, check_profile_data
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.capabilities import CapabilityService
from rcs_terminal.engine.messaging import MessagingService, MessagingSettings
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.sip.message import Request, Response, build_response

WIRE = Path(__file__).parents[1] / "data" / "wire" / "messaging"
EPOCH = 1_795_000_000.0
"""The wall clock of the tests (epoch seconds, in late 2026)."""


def profile_text(messaging: str = "", battery: str = "") -> bytes:
    return (
        "schema_version: 1\n"
        "device:\n  vendor: ZTE\n  model: Axon 40 Ultra Max\n  sw_version: MyOS11\n"
        '  os: {name: Android, version: "13"}\n'
        "  client: {vendor: ZTE, version: RCSAndrd-2.4}\n"
        f"{battery}"
        "sims:\n"
        "  - slot: 1\n"
        '    imei: "860000000000371"\n'
        '    operator: {name: Test, mcc: "001", mnc: "01"}\n'
        '    imsi: "001010123450001"\n'
        '    msisdn: "+8613800000001"\n'
        "    auth: {scheme: digest}\n"
        "    ims:\n"
        '      pcscf: ["127.0.0.1:5060"]\n'
        "      transport: udp\n"
        "      home_domain: rcs.test\n"
        "      impi: alice\n"
        '      impu: ["sip:alice@rcs.test"]\n'
        "      auth: {scheme: digest, username: alice, password: alicepw}\n"
        f"{messaging}"
    ).encode()


def make_profile(messaging: str = "", battery: str = "  battery_minutes: 300\n") -> Profile:
    return check_profile_data(
        profile_text(messaging, battery), file="alice.yaml"
    ).raise_for_errors()


def message_ids(prefix: str = "alice-msg-") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers):04d}"


@dataclass
class Core:
    """The IMS core as one SIM sees it (see the module docstring)."""

    registrar: MiniRegistrar = field(default_factory=MiniRegistrar)
    messages: list[Request] = field(default_factory=list)
    options: list[Request] = field(default_factory=list)
    message_answers: list[int | None] = field(default_factory=list)
    options_answers: dict[str, str] = field(default_factory=dict)
    on_response: Callable[[Response], None] | None = None
    _seen: dict[str, bytes | None] = field(default_factory=dict)

    def __call__(self, request: Request, flow: FakeFlow) -> Any:
        branch = request.top_via.branch or ""
        if request.method == "MESSAGE":
            if branch in self._seen:
                return self._seen[branch]
            self.messages.append(request)
            status = self.message_answers.pop(0) if self.message_answers else 200
            answer = (
                None if status is None else build_response(request, status, to_tag="net").to_bytes()
            )
            self._seen[branch] = answer
            return answer
        if request.method == "OPTIONS":
            self.options.append(request)
            name = self.options_answers.get(request.uri, "options_200_rcs.sip")
            return from_corpus(name, request)
        return self.registrar(request, flow)

    def cpim_of(self, index: int = -1) -> cpim.CpimMessage:
        """The CPIM body of a MESSAGE we received."""
        return cpim.parse(self.messages[index].body)


@dataclass
class Phone:
    stack: Stack
    core: Core
    service: MessagingService
    store: MessageStore
    wall: FakeClock

    @property
    def flow(self) -> FakeFlow:
        return self.stack.network.flows[-1]

    @property
    def events(self) -> list[Any]:
        return self.stack.events

    def responses(self) -> list[Response]:
        return self.stack.network.responses

    async def deliver(self, data: bytes) -> Response:
        """Hand a request to the SIM as if from the network; return our answer to it."""
        before = len(self.responses())
        self.flow.deliver(data)
        await settle()
        answers = self.responses()[before:]
        assert answers, "no answer"
        return answers[0]

    async def deliver_file(self, name: str, **replace: str) -> Response:
        data = (WIRE / name).read_bytes()
        for old, new in replace.items():
            data = data.replace(old.encode(), new.encode())
        return await self.deliver(data)


async def make_phone(
    tmp_path: Path,
    *,
    profile: Profile | None = None,
    settings: MessagingSettings | None = None,
    core: Core | None = None,
    **options: Any,
) -> Phone:
    core = core or Core()
    stack = make_stack(digest_params(), core)
    wall = FakeClock(EPOCH)
    capabilities = CapabilityService(stack.registration, bus=stack.bus, clock=stack.clock.now)
    store = MessageStore.open(tmp_path / "messages.sqlite3", durable=False)
    service = MessagingService(
        stack.registration,
        store=store,
        profile=profile or make_profile(),
        capabilities=capabilities,
        bus=stack.bus,
        settings=settings,
        clock=wall.now,
        new_id=message_ids(),
        **options,
    )
    await stack.registration.start()
    return Phone(stack, core, service, store, wall)
