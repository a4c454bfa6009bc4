"""The lab's SMS centre: the emulated radio path for SMS.

A handset on the lab network receives SMS the way a phone receives them from its SMSC: the
lab's config server sends the RCC.14 one-time password here (as a data SMS to the client's
``SMS_port``, or as text when the port is 0), and testers or the MaaP API can deliver plain
SMS. Handsets read their inbox with a long poll (``GET /sms/inbox?msisdn=...&after=N&wait=S``)
that returns as soon as an SMS for that number arrives, so nobody waits on a fixed delay.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass

from aiohttp import web

MAX_WAIT = 60.0
MAX_TEXT = 2000


@dataclass(frozen=True)
class Sms:
    """One SMS held by the SMS centre."""

    seq: int
    sender: str
    to: str
    text: str
    port: int
    time: float


class Smsc:
    """In-memory SMS centre with long-poll delivery."""

    def __init__(self) -> None:
        self._seq = 0
        self._inbox: dict[str, list[Sms]] = {}
        self._changed: dict[str, asyncio.Event] = {}

    def deliver(self, to: str, text: str, *, sender: str = "10086", port: int = 0) -> Sms:
        """Put an SMS in ``to``'s inbox and wake any waiting reader."""
        self._seq += 1
        sms = Sms(self._seq, sender, _norm(to), text[:MAX_TEXT], port, time.time())
        self._inbox.setdefault(sms.to, []).append(sms)
        event = self._changed.pop(sms.to, None)
        if event is not None:
            event.set()
        return sms

    def messages(self, msisdn: str, after: int = 0) -> list[Sms]:
        """SMS for ``msisdn`` newer than sequence number ``after``."""
        return [s for s in self._inbox.get(_norm(msisdn), []) if s.seq > after]

    async def wait(self, msisdn: str, after: int, timeout: float) -> list[Sms]:
        """Return new SMS for ``msisdn``, waiting up to ``timeout`` seconds for one."""
        found = self.messages(msisdn, after)
        if found or timeout <= 0:
            return found
        event = self._changed.setdefault(_norm(msisdn), asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return []
        return self.messages(msisdn, after)

    def routes(self) -> list[web.RouteDef]:
        """aiohttp routes: ``GET /sms/inbox`` (long poll) and ``POST /sms`` (deliver)."""
        return [web.get("/sms/inbox", self._http_inbox), web.post("/sms", self._http_deliver)]

    async def _http_inbox(self, request: web.Request) -> web.Response:
        msisdn = request.query.get("msisdn", "")
        try:
            after = int(request.query.get("after", "0"))
            wait = min(float(request.query.get("wait", "0")), MAX_WAIT)
        except ValueError:
            raise web.HTTPBadRequest(text="after and wait must be numbers") from None
        if not msisdn:
            raise web.HTTPBadRequest(text="msisdn is required")
        found = await self.wait(msisdn, after, wait)
        return web.json_response([asdict(s) for s in found])

    async def _http_deliver(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            to, text = str(body["to"]), str(body["text"])
            sender = str(body.get("from", "10086"))
            port = int(body.get("port", 0))
        except (ValueError, KeyError, TypeError):
            raise web.HTTPBadRequest(
                text='expected JSON {"to", "text", ["from", "port"]}'
            ) from None
        sms = self.deliver(to, text, sender=sender, port=port)
        return web.json_response({"seq": sms.seq}, status=202)


def _norm(msisdn: str) -> str:
    digits = "".join(ch for ch in msisdn if ch.isdigit())
    return "+" + digits if digits else msisdn
