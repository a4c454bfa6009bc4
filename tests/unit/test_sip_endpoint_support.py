"""Test doubles for the SIP endpoint, registration and capability tests (no tests here).

- :class:`FakeNetwork` opens in-memory flows (no sockets) for a
  :class:`~rcs_terminal.engine.sip_endpoint.SipEndpoint` and hands every request the endpoint
  sends to a server function; replies come back on the next loop turn.
- :class:`MiniRegistrar` is a registrar built from the protocol core: digest or IMS AKA
  challenges (vectors from ``aka.generate_vector``, resynchronisation from AUTS), a 200 with
  Service-Route, Path and P-Associated-URI, the reg-event SUBSCRIBE/NOTIFY, and a script of
  canned answers for the error paths.
- :class:`ManualTimer` replaces the loop timer: tests move a :class:`FakeClock` and fire
  deadlines with :func:`advance`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rcs_terminal.clock import FakeClock
from rcs_terminal.engine.bus import EventBus
from rcs_terminal.engine.ims_params import (
    AkaCredentials,
    DigestCredentials,
    ImsParams,
    PcscfTarget,
)
from rcs_terminal.engine.registration import Registration
from rcs_terminal.engine.sip_endpoint import SipEndpoint
from rcs_terminal.engine.transport import Address
from rcs_terminal.engine.usim_store import UsimStore
from rcs_terminal.errors import ParseError
from rcs_terminal.protocol.sip.aka import (
    aka_nonce,
    decode_auts,
    generate_vector,
    resync_from_auts,
)
from rcs_terminal.protocol.sip.auth import make_challenge, parse_credentials, verify_authorization
from rcs_terminal.protocol.sip.headers import NameAddr
from rcs_terminal.protocol.sip.message import (
    Headers,
    Request,
    Response,
    build_response,
    parse_message,
)
from rcs_terminal.protocol.sip.reginfo import (
    ContactInfo,
    RegInfo,
    RegistrationInfo,
    build_reginfo,
)

WIRE = Path(__file__).parents[1] / "data" / "wire" / "endpoint"
K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")
INSTANCE = "<urn:gsma:imei:86000000-000037-0>"
PCSCF1 = PcscfTarget(Address("127.0.0.1", 5060), "udp")
PCSCF2 = PcscfTarget(Address("127.0.0.2", 5060), "udp")


def counter_ids(prefix: str = "id") -> Callable[[], str]:
    """Deterministic ids: id1, id2..."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


def digest_params(**changes: Any) -> ImsParams:
    params = ImsParams(
        slot=1,
        imsi="460001234500001",
        home_domain="rcs.test",
        impi="alice",
        impus=("sip:alice@rcs.test",),
        pcscfs=(PCSCF1,),
        auth=DigestCredentials("alice", "alicepw"),
        user_agent="CPM-client/OMA2.2 RCS-client/UP_2.4 term-ZTE/S30-1 client-ZTE/2.4 OS-Android/1",
        sip_instance=INSTANCE,
        reg_retry_base_time=30.0,
        reg_retry_max_time=1800.0,
        subscribe_reg_event=False,
    )
    return replace(params, **changes)


def aka_params(**changes: Any) -> ImsParams:
    values: dict[str, Any] = {
        "impi": "460001234500001@ims.mnc000.mcc460.3gppnetwork.org",
        "home_domain": "ims.mnc000.mcc460.3gppnetwork.org",
        "impus": ("sip:+8613800000001@ims.mnc000.mcc460.3gppnetwork.org", "tel:+8613800000001"),
        "auth": AkaCredentials(K, OPC, b"\x80\x00", 0),
    }
    values.update(changes)
    return digest_params(**values)


def from_corpus(name: str, request: Request, contact: str = "") -> bytes:
    """A response template from the corpus, filled in for ``request``."""
    via = "\r\n".join(f"Via: {value}" for value in request.headers.raw_values("Via"))
    data = (WIRE / name).read_bytes()
    for key, value in (
        ("$VIA", via),
        ("$FROM", request.headers.get("From") or ""),
        ("$TO", request.headers.get("To") or ""),
        ("$CALLID", request.call_id),
        ("$CSEQ", str(request.cseq)),
        ("$CONTACT", contact or request.contacts[0].uri),
    ):
        data = data.replace(key.encode(), value.encode())
    return data


# --------------------------------------------------------------------------- timers


class ManualTimer:
    """Stands in for DeadlineTimer: nothing is armed; tests call advance()."""

    def __init__(
        self, next_deadline: Callable[[], float | None], on_expiry: Callable[[float], None]
    ) -> None:
        self.next_deadline = next_deadline
        self.on_expiry = on_expiry
        self.rearms = 0

    def rearm(self) -> None:
        self.rearms += 1

    def cancel(self) -> None:
        pass


async def settle(turns: int = 20) -> None:
    """Let queued deliveries and tasks run (no wall-clock wait)."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def advance(endpoint: SipEndpoint, clock: FakeClock, seconds: float) -> None:
    """Move the clock forward, firing every deadline on the way, in order."""
    end = clock.now() + seconds
    await settle()
    while True:
        deadline = endpoint.next_deadline()
        if deadline is None or deadline > end:
            break
        clock.set(max(clock.now(), deadline))
        endpoint.handle_timer(clock.now())
        await settle()
    clock.set(end)


# --------------------------------------------------------------------------- flows


class FakeFlow:
    """An in-memory flow with the interface SipEndpoint uses."""

    def __init__(
        self,
        network: FakeNetwork,
        target: PcscfTarget,
        sink: Callable[..., None],
        on_error: Callable[..., None],
        port: int,
    ) -> None:
        self.network = network
        self.target = target
        self.transport = target.transport
        self.local = Address("127.0.0.1", port)
        self.remote = target.address
        self._sink = sink
        self._on_error = on_error
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    def send(self, data: bytes, dest: Address | None = None) -> None:
        self.network.sent.append(data)
        self.network.handle(self, data)

    def close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def deliver(self, data: bytes, source: Address | None = None) -> None:
        """Hand bytes to the endpoint as if they came from the network."""
        if self.is_closed:
            return
        origin = source or self.remote
        try:
            message = parse_message(data)
        except ParseError as exc:
            self._on_error(data, exc, origin, self)
            return
        self._sink(message, origin, self)


Server = Callable[[Request, FakeFlow], "list[bytes] | bytes | None"]


class FakeNetwork:
    """Opens FakeFlows; passes requests to ``server`` and delivers its replies."""

    def __init__(self, server: Server | None = None, *, unreachable: set[Address] | None = None):
        self.server = server
        self.unreachable = unreachable or set()
        self.sent: list[bytes] = []
        self.responses: list[Response] = []
        self.flows: list[FakeFlow] = []
        self.opened: list[PcscfTarget] = []
        self._ports = itertools.count(40000)

    async def open(self, target: PcscfTarget, *, sink: Any, on_error: Any, **_: Any) -> FakeFlow:
        from rcs_terminal.errors import NetworkError

        self.opened.append(target)
        if target.address in self.unreachable:
            raise NetworkError(f"cannot connect to {target.address}")
        flow = FakeFlow(self, target, sink, on_error, next(self._ports))
        self.flows.append(flow)
        return flow

    def handle(self, flow: FakeFlow, data: bytes) -> None:
        message = parse_message(data)
        if isinstance(message, Response):
            self.responses.append(message)
            return
        if self.server is None:
            return
        replies = self.server(message, flow)
        if replies is None:
            return
        if isinstance(replies, bytes):
            replies = [replies]
        loop = asyncio.get_running_loop()
        for reply in replies:
            loop.call_soon(flow.deliver, reply)

    def requests(self, method: str | None = None) -> list[Request]:
        found = []
        for data in self.sent:
            message = parse_message(data)
            if isinstance(message, Request) and (method is None or message.method == method):
                found.append(message)
        return found


# --------------------------------------------------------------------------- registrar


def respond(request: Request, status: int, reason: str | None = None, **headers: str) -> Response:
    response = build_response(request, status, reason, to_tag="reg1")
    for name, value in headers.items():
        response.headers.add(name.replace("_", "-"), value)
    return response


@dataclass
class MiniRegistrar:
    """A registrar from the protocol core (see the module docstring).

    ``script`` holds canned answers used before the normal logic, one per REGISTER: a
    callable(request) -> bytes | None (None: no answer at all), or the string "ok" to use
    the normal logic for that request.
    """

    realm: str = "rcs.test"
    password: str = "alicepw"
    algorithm: str = "MD5"
    aka: bool = False
    k: bytes = K
    opc: bytes = OPC
    sqn: int = 0x40
    expires: int = 600
    service_route: tuple[str, ...] = ("<sip:orig@scscf.rcs.test:6060;lr>",)
    associated: tuple[str, ...] = ("<sip:alice@rcs.test>", "<tel:+8613800000001>")
    script: list[Any] = field(default_factory=list)
    registers: list[Request] = field(default_factory=list)
    bindings: dict[str, tuple[str, int]] = field(default_factory=dict)
    subscribes: list[Request] = field(default_factory=list)
    others: list[Request] = field(default_factory=list)
    challenge_every_register: bool = False
    _vectors: dict[str, Any] = field(default_factory=dict)
    _answers: dict[str, Any] = field(default_factory=dict)
    _nonces: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, request: Request, flow: FakeFlow) -> list[bytes] | bytes | None:
        branch = request.top_via.branch or ""
        if branch in self._answers:  # a retransmission: the same answer again (or none)
            previous: bytes | None = self._answers[branch]
            return previous
        answer = self._answer(request)
        self._answers[branch] = answer if isinstance(answer, bytes | None) else None
        return answer

    def _answer(self, request: Request) -> list[bytes] | bytes | None:
        if request.method == "REGISTER":
            self.registers.append(request)
            if self.script:
                step = self.script.pop(0)
                if step != "ok":
                    canned: bytes | None = step(request)
                    return canned
            return self.register(request).to_bytes()
        if request.method == "SUBSCRIBE":
            self.subscribes.append(request)
            expires = request.headers.get("Expires") or "600000"
            return respond(
                request, 200, Expires=expires, Contact="<sip:scscf.rcs.test:6060>"
            ).to_bytes()
        self.others.append(request)
        return None

    def register(self, request: Request) -> Response:
        raw = request.headers.get("Authorization")
        credentials = parse_credentials(raw) if raw else None
        if credentials is None or not credentials.nonce:
            return self.challenge(request)
        if self.aka:
            vector = self._vectors.get(credentials.nonce or "")
            if vector is None:
                return self.challenge(request)
            if credentials.auts is not None:
                self.sqn = resync_from_auts(
                    self.k, self.opc, vector.rand, decode_auts(credentials.auts)
                )
                return self.challenge(request)
            if not credentials.response:  # the USIM found the network not authentic
                return respond(request, 403, "Forbidden")
            ok = verify_authorization(credentials, method="REGISTER", password=vector.xres)
        else:
            ok = verify_authorization(credentials, method="REGISTER", password=self.password)
        if not ok:
            if self.aka:
                return respond(request, 403, "Forbidden")
            return self.challenge(request)
        return self.accept(request)

    def challenge(self, request: Request) -> Response:
        number = next(self._nonces)
        if self.aka:
            self.sqn += 32
            rand = number.to_bytes(16, "big")
            vector = generate_vector(self.k, self.opc, self.sqn, rand, b"\x80\x00")
            nonce = aka_nonce(vector)
            self._vectors[nonce] = vector
            value = make_challenge(self.realm, nonce, algorithm="AKAv1-MD5", qop="auth")
        else:
            value = make_challenge(self.realm, f"nonce{number}", algorithm=self.algorithm)
        return respond(request, 401, "Unauthorized", WWW_Authenticate=value)

    def accept(self, request: Request) -> Response:
        contact = request.contacts[0]
        expires = int(request.headers.get("Expires") or self.expires)
        granted = min(expires, self.expires)
        aor = request.to.uri
        if expires == 0:
            self.bindings.pop(aor, None)
            response = respond(request, 200, "OK")
            return response
        self.bindings[aor] = (contact.uri, granted)
        response = respond(request, 200, "OK")
        params = contact.params.without("expires").with_param("expires", str(granted))
        response.headers.add("Contact", str(NameAddr(contact.uri, contact.display_name, params)))
        for route in self.service_route:
            response.headers.add("Service-Route", route)
        response.headers.add("Path", "<sip:term@pcscf.rcs.test;lr>")
        if self.associated:
            response.headers.add("P-Associated-URI", ", ".join(self.associated))
        return response

    def notify(
        self, flow: FakeFlow, info: RegInfo, *, state: str = "active;expires=600000"
    ) -> None:
        """Send a reg-event NOTIFY in the dialog of the last SUBSCRIBE."""
        subscribe = self.subscribes[-1]
        headers = Headers()
        headers.add(
            "Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnotify" + str(next(self._nonces))
        )
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{subscribe.to.uri}>;tag=reg1")
        headers.add("To", f"{subscribe.headers.get('From')}")
        headers.add("Call-ID", subscribe.call_id)
        headers.add("CSeq", f"{next(self._nonces)} NOTIFY")
        headers.add("Contact", "<sip:scscf.rcs.test:6060>")
        headers.add("Event", "reg")
        headers.add("Subscription-State", state)
        headers.add("Content-Type", "application/reginfo+xml")
        body = build_reginfo(info)
        flow.deliver(Request("NOTIFY", "sip:alice@127.0.0.1:40000", headers, body).to_bytes())


def reginfo_for(aor: str, uri: str, state: str, event: str, expires: int | None = None) -> RegInfo:
    contact = ContactInfo(uri=uri, state=state, event=event, id="c1", expires=expires)  # type: ignore[arg-type]
    reg_state = "active" if state == "active" else "terminated"
    return RegInfo(1, "full", (RegistrationInfo(aor, reg_state, "r1", (contact,)),))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- stacks


@dataclass
class Stack:
    clock: FakeClock
    network: FakeNetwork
    endpoint: SipEndpoint
    registration: Registration
    bus: EventBus
    events: list[Any]


def make_stack(
    params: ImsParams,
    server: Server | None,
    *,
    unreachable: set[Address] | None = None,
    store: UsimStore | None = None,
    max_attempts: int | None = 4,
    on_reprovision: Callable[[Registration], None] | None = None,
) -> Stack:
    clock = FakeClock(1000.0)
    network = FakeNetwork(server, unreachable=unreachable)
    endpoint = SipEndpoint(
        params,
        clock=clock.now,
        new_id=counter_ids(),
        opener=network.open,
        timer_factory=ManualTimer,
    )
    bus = EventBus()
    events: list[Any] = []
    bus.subscribe(events.append)
    registration = Registration(
        endpoint,
        bus=bus,
        usim_store=store,
        max_attempts=max_attempts,
        on_reprovision=on_reprovision,
    )
    return Stack(clock, network, endpoint, registration, bus, events)
