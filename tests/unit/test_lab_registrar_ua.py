"""Test support for the lab registrar tests: a small SIP user agent over real loopback sockets.

Not a test module of its own (it holds no tests); the ``test_lab_registrar*`` modules import
it. The UA is built from the protocol core the way the engine is: one
:class:`TransactionLayer`, one :class:`DeadlineTimer`, an engine flow (UDP, or a TCP
connection to the registrar). It registers with Digest or AKA (playing the USIM with
``aka.Usim``), sends requests and waits for their final response on futures, and answers
incoming requests with a configurable handler (by default: 200 with its feature tags).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from rcs_terminal.engine.timers import DeadlineTimer
from rcs_terminal.engine.transport import Address, Flow, open_stream, open_udp
from rcs_terminal.lab.registrar import Registrar
from rcs_terminal.lab.subscribers import LabSubscriber, SubscriberDirectory
from rcs_terminal.protocol.sip.aka import AkaOutcome, Usim, answer_aka_challenge
from rcs_terminal.protocol.sip.auth import (
    build_authorization,
    build_initial_authorization,
    parse_challenge,
)
from rcs_terminal.protocol.sip.events import (
    AckReceived,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TransactionTimedOut,
)
from rcs_terminal.protocol.sip.message import (
    Headers,
    Request,
    Response,
    StreamFramer,
    build_response,
    parse_message,
)
from rcs_terminal.protocol.sip.timers import TimerConfig
from rcs_terminal.protocol.sip.transaction_layer import TransactionLayer

DOMAIN = "ims.mnc001.mcc460.3gppnetwork.org"
K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")
CHAT_TAG = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'
_ids = itertools.count(1)


def subscriber(name: str, number: int, *, aka: bool = False) -> LabSubscriber:
    """A lab subscriber: ``name`` is only for reading; ``number`` picks IMSI and MSISDN."""
    imsi = f"4600012345{number:05d}"
    sub = LabSubscriber(
        profile="test",
        slot=1,
        imsi=imsi,
        msisdn=f"+86138{number:08d}",
        imei=f"860000000{number:06d}",
        home_domain=DOMAIN,
        impi=f"{imsi}@{DOMAIN}",
        auth_type="AKA" if aka else "Digest",
        display_name=name,
    )
    if aka:
        sub.k, sub.opc, sub.sqn = K, OPC, 0x40
    else:
        sub.password = f"{name}-secret"
    return sub


def directory() -> SubscriberDirectory:
    """alice (Digest), bob (AKA), carol (Digest, never registers), dave (Digest)."""
    return SubscriberDirectory(
        [
            subscriber("alice", 1),
            subscriber("bob", 2, aka=True),
            subscriber("carol", 3),
            subscriber("dave", 4),
        ]
    )


class Ua:
    """A minimal UA over one flow to the registrar.

    Args:
        sub: the subscriber it plays.
        registrar: the registrar (for its addresses).
        transport: ``"udp"`` or ``"tcp"``.
        t1: the UA's T1 (short values make timeouts quick).
        instance: the ``+sip.instance`` of its Contact.
    """

    def __init__(
        self,
        sub: LabSubscriber,
        registrar: Registrar,
        transport: str = "udp",
        *,
        t1: float = 0.5,
        instance: str | None = None,
    ) -> None:
        self.sub = sub
        self.registrar = registrar
        self.transport = transport
        self.t1 = t1
        self.instance = instance or f"<urn:gsma:imei:{sub.imei[:8]}-{sub.imei[8:14]}-0>"
        self.usim = Usim(sub.k, sub.opc, 0x40) if sub.k and sub.opc else None
        self.password = sub.password or ""
        self.call_id = f"reg-{next(_ids)}@test"
        self.cseq = 0
        self.contact_tags = CHAT_TAG
        self.handler: Callable[[Request], list[Response]] = self.answer
        self.requests: asyncio.Queue[Request] = asyncio.Queue()
        self.acks: asyncio.Queue[Request] = asyncio.Queue()
        self.timeouts: asyncio.Queue[Request] = asyncio.Queue()
        self.provisional: list[Response] = []
        self._pending: dict[Any, asyncio.Future[Response]] = {}
        self.unanswered: dict[Any, Request] = {}
        self.cancels: asyncio.Queue[Request] = asyncio.Queue()
        self.flow: Flow[Any] | None = None
        self.dest: Address | None = None

    # ------------------------------------------------------------------ plumbing

    async def open(self) -> Ua:
        kwargs: dict[str, Any] = {
            "parser": parse_message,
            "sink": self._sink,
            "on_error": lambda *args: None,
            "trace": None,
        }
        if self.transport == "udp":
            self.flow = await open_udp("127.0.0.1", 0, **kwargs)
            self.dest = self.registrar.udp_address
        else:
            assert self.registrar.tcp_address is not None
            self.flow = await open_stream(
                self.registrar.tcp_address, framer_factory=StreamFramer, **kwargs
            )
            self.dest = self.registrar.tcp_address
        self.local = self.flow.local
        self.layer = TransactionLayer(
            TimerConfig(t1=self.t1, t2=max(4.0, self.t1)),
            local_via=f"SIP/2.0/{self.transport.upper()} {self.local};rport",
        )
        self.timer = DeadlineTimer(self.layer.next_deadline, self._on_timer)
        return self

    def close(self) -> None:
        self.timer.cancel()
        if self.flow is not None:
            self.flow.close()

    @property
    def reliable(self) -> bool:
        return self.transport != "udp"

    @property
    def contact_uri(self) -> str:
        return f"sip:{self.sub.msisdn}@{self.local};transport={self.transport}"

    @property
    def contact(self) -> str:
        return f'<{self.contact_uri}>;+sip.instance="{self.instance}";{self.contact_tags}'

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _sink(self, message: Request | Response, source: Address, flow: Flow[Any]) -> None:
        events = self.layer.receive(message, self._now(), reliable=self.reliable)
        for event in events:
            if isinstance(event, ResponseReceived):
                if event.response.status < 200:
                    self.provisional.append(event.response)
                    continue
                future = self._pending.pop(event.key, None)
                if future is not None and not future.done():
                    future.set_result(event.response)
            elif isinstance(event, RequestReceived):
                self.requests.put_nowait(event.request)
                responses = self.handler(event.request)
                for response in responses:
                    self.layer.send_response(response, self._now())
                if all(response.status < 200 for response in responses):
                    self.unanswered[event.key] = event.request
            elif isinstance(event, CancelReceived):
                self.cancels.put_nowait(event.request)
                now = self._now()
                self.layer.send_response(build_response(event.request, 200), now)
                invite = self.unanswered.pop(event.invite_key, None)
                if invite is not None:
                    self.layer.send_response(build_response(invite, 487, to_tag="c1"), now)
            elif isinstance(event, AckReceived):
                self.acks.put_nowait(event.request)
        self.flush()

    def _on_timer(self, now: float) -> None:
        for event in self.layer.handle_timer(now):
            if isinstance(event, TransactionTimedOut):
                self.timeouts.put_nowait(event.request)
                future = self._pending.pop(event.key, None)
                if future is not None and not future.done():
                    future.set_exception(TimeoutError("transaction timed out"))
        self.flush()

    def flush(self) -> None:
        assert self.flow is not None
        for message in self.layer.messages_to_send():
            self.flow.send(message.to_bytes(), self.dest)
        self.timer.rearm()

    def send_raw(self, data: bytes) -> None:
        assert self.flow is not None
        self.flow.send(data, self.dest)

    # ------------------------------------------------------------------ requests

    def new_request(
        self,
        method: str,
        uri: str,
        *,
        to: str | None = None,
        from_: str | None = None,
        call_id: str | None = None,
        cseq: int = 1,
        extra: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
        content_type: str | None = None,
        contact: bool = True,
    ) -> Request:
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{from_ or self.sub.sip_impu}>;tag={next(_ids)}")
        headers.add("To", f"<{to or uri}>")
        headers.add("Call-ID", call_id or f"call-{next(_ids)}@test")
        headers.add("CSeq", f"{cseq} {method}")
        if contact:
            headers.add("Contact", self.contact)
        for name, value in extra:
            headers.add(name, value)
        if content_type is not None:
            headers.add("Content-Type", content_type)
        return Request(method, uri, headers, body)

    async def send(self, request: Request, timeout: float = 5.0) -> Response:
        """Send ``request`` in a client transaction; return its final response."""
        key = self.layer.send_request(request, self._now(), reliable=self.reliable)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        self.flush()
        return await asyncio.wait_for(future, timeout)

    def send_ack(self, ack: Request) -> None:
        self.layer.send_ack(ack, self._now())
        self.flush()

    def register_request(
        self,
        expires: int | None = 600000,
        authorization: str | None = None,
        contact: str | None = None,
    ) -> Request:
        self.cseq += 1
        extra: list[tuple[str, str]] = []
        if expires is not None:
            extra.append(("Expires", str(expires)))
        extra.append(("Supported", "path, gruu"))
        extra.append(
            (
                "Authorization",
                authorization
                or build_initial_authorization(
                    self.sub.impi,
                    DOMAIN,
                    algorithm="AKAv1-MD5" if self.usim is not None else None,
                ),
            )
        )
        request = self.new_request(
            "REGISTER",
            f"sip:{DOMAIN}",
            to=self.sub.sip_impu,
            call_id=self.call_id,
            cseq=self.cseq,
            extra=tuple(extra),
            contact=contact is None,
        )
        if contact is not None:
            request.headers.add("Contact", contact)
        return request

    def answer_challenge(self, challenge_401: Response) -> str:
        challenge = parse_challenge(challenge_401.headers.get("WWW-Authenticate") or "")
        if self.usim is not None:
            answer = answer_aka_challenge(
                challenge,
                self.usim,
                method="REGISTER",
                uri=f"sip:{DOMAIN}",
                username=self.sub.impi,
                cnonce="0a1b2c3d",
                nc=1,
            )
            self.last_aka_outcome: AkaOutcome = answer.outcome
            return answer.authorization
        return build_authorization(
            challenge,
            method="REGISTER",
            uri=f"sip:{DOMAIN}",
            username=self.sub.impi,
            password=self.password,
            cnonce="0a1b2c3d",
            nc=1,
        )

    async def register(self, expires: int | None = 600000, contact: str | None = None) -> Response:
        """REGISTER, answer challenges (AKA resynchronisation included); the last response."""
        response = await self.send(self.register_request(expires, contact=contact))
        for _ in range(3):
            if response.status != 401:
                return response
            authorization = self.answer_challenge(response)
            response = await self.send(self.register_request(expires, authorization, contact))
        return response

    # ------------------------------------------------------------------ answering

    def answer(self, request: Request) -> list[Response]:
        """Default UAS behaviour: 180+200 to INVITE, 200 (with our tags) to the rest."""
        tag = f"t{next(_ids)}"
        if request.method == "INVITE":
            ringing = build_response(request, 180, to_tag=tag)
            ok = build_response(request, 200, to_tag=tag)
            ok.headers.add("Contact", self.contact)
            return [ringing, ok]
        response = build_response(request, 200, to_tag=tag)
        if request.method == "OPTIONS":
            response.headers.add("Contact", self.contact)
        return [response]
