"""A MaaP-style HTTP API on the lab: push any payload from a bot to a handset, read answers.

A chatbot developer (or a test) drives the lab's bots with ``curl`` instead of a script.
Modelled loosely on the GSMA MaaP / operator chatbot APIs (formats.md §10: a content type,
a body, optional chips), on the lab's plain-HTTP server:

``POST /maap/messages`` with a JSON object::

    {"from": "sip:demo@botplatform.lab",          # optional, the demo bot by default
     "to": "tel:+8613800000001",                  # a lab handset (tel:, sip: or +86...)
     "contentType": "application/vnd.gsma.botmessage.v1.0+json",
     "body": {...} | "text" | "<base64>",         # JSON given as an object is serialised
     "bodyEncoding": "utf8" | "base64",           # optional, utf8 by default
     "trafficType": "advertisement",              # optional maap.Traffic-Type
     "suggestions": [...] | {"suggestions": [...]}}  # optional chip list

The bot sends it as a CPM standalone MESSAGE (CPIM, delivery and display notifications
requested; with ``suggestions`` a ``multipart/mixed`` body with the chip list as last
part). The body is *not* validated (pushing broken payloads at the emulator is the point),
but the answer lists what the payload linter finds. Answers: **202**
``{"messageId", "from", "to", "contentType", "sipStatus", "lint"}`` when the network took
the message; 502 with ``sipStatus``/``error`` when it did not (e.g. 480: the handset is not
registered); 400 for a malformed request; 404 for an unknown bot or handset; 503 when the
bot is not registered (a lab without a registrar).

``GET /maap/inbox?bot=<id>&after=<seq>&wait=<seconds>`` (long poll, ``wait`` up to 60 s):
what the bots received after sequence number ``after`` (:class:`~.bot_inbox.InboxEntry`
JSON: ``seq``, ``bot``, ``from``, ``messageId``, ``kind`` (``message`` or ``imdn``),
``contentType``, ``body`` and ``bodyEncoding``, ``time``, ``imdn`` for receipts). Without
``bot``, every bot's.

``GET /maap/bots``: the bots, their service ids and whether they are registered.
``DELETE /maap/conversations?bot=<id>[&user=<uri>]``: forget conversations, so the next
message gets the welcome again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rcs_terminal.lab.bot_agent import BotAgent
from rcs_terminal.lab.bot_inbox import BotInbox
from rcs_terminal.lab.subscribers import SubscriberDirectory
from rcs_terminal.protocol.multipart import Part, build_multipart
from rcs_terminal.protocol.up import contenttypes

__all__ = ["MAX_WAIT", "MaapApi", "MaapBackend"]

MAX_WAIT = 60.0
"""Longest long poll of the inbox, in seconds."""
MAX_BODY = 1024 * 1024
"""Largest payload accepted for a push."""
DEFAULT_BOT = "sip:demo@botplatform.lab"


class MaapBackend(Protocol):
    """What the API needs from the platform."""

    @property
    def inbox(self) -> BotInbox: ...

    @property
    def directory(self) -> SubscriberDirectory: ...

    @property
    def agents(self) -> Sequence[BotAgent]: ...

    def agent(self, name: str) -> BotAgent | None: ...


class _Push(BaseModel):
    """The ``POST /maap/messages`` request."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: str = Field(default=DEFAULT_BOT, alias="from", min_length=1, max_length=200)
    to: str = Field(min_length=1, max_length=200)
    content_type: str = Field(
        default="text/plain;charset=UTF-8", alias="contentType", min_length=3, max_length=200
    )
    body: str | dict[str, Any] | list[Any]
    body_encoding: Literal["utf8", "base64"] = Field(default="utf8", alias="bodyEncoding")
    traffic_type: str | None = Field(
        default=None, alias="trafficType", pattern=r"^[A-Za-z0-9._-]{1,40}$"
    )
    suggestions: list[Any] | dict[str, Any] | None = None


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _lint(body: bytes, content_type: str) -> list[dict[str, str | None]]:
    try:
        from rcs_terminal.lint import lint_payload
    except ImportError:  # the linter is optional here
        return []
    try:
        return [f.to_dict() for f in lint_payload(body, content_type=content_type)]
    except Exception as exc:  # a payload the linter cannot open is still sent
        return [
            {
                "path": "$",
                "rule": "lint.unavailable",
                "severity": "warning",
                "message": str(exc)[:200],
                "limit": None,
            }
        ]


class MaapApi:
    """The MaaP-style routes (see the module docstring).

    Args:
        backend: the chatbot platform.
    """

    def __init__(self, backend: MaapBackend) -> None:
        self.backend = backend

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes."""
        return [
            web.post("/maap/messages", self._push),
            web.get("/maap/inbox", self._inbox),
            web.get("/maap/bots", self._bots),
            web.delete("/maap/conversations", self._reset),
        ]

    # ------------------------------------------------------------------ push

    async def _push(self, request: web.Request) -> web.Response:
        try:
            raw = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the request body must be a JSON object")
        try:
            push = _Push.model_validate(raw)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            ]
            return _error(400, "malformed push request", problems=problems)
        agent = self.backend.agent(push.sender)
        if agent is None:
            return _error(404, f"no chatbot {push.sender!r} on the lab platform")
        to = push.to.strip()
        if to.startswith("+"):
            to = f"tel:{to}"
        if self.backend.directory.by_uri(to) is None:
            return _error(404, f"{push.to!r} is not a lab subscriber (use tel:+86... or sip:)")
        try:
            content_type, body = self._payload(push)
        except ValueError as exc:
            return _error(400, str(exc))
        if not agent.is_registered:
            return _error(503, f"the chatbot {agent.uri} is not registered with the lab")
        outcome = await agent.send(to, content_type, body, traffic_type=push.traffic_type)
        answer = {
            "messageId": outcome.message_id,
            "from": agent.uri,
            "to": to,
            "contentType": content_type,
            "sipStatus": outcome.status,
            "lint": _lint(body, content_type),
        }
        if not outcome.ok:
            return web.json_response(
                {**answer, "error": f"the network answered {outcome.status} {outcome.reason}"},
                status=502,
                dumps=_dumps,
            )
        return web.json_response(answer, status=202, dumps=_dumps)

    @staticmethod
    def _payload(push: _Push) -> tuple[str, bytes]:
        if isinstance(push.body, str):
            if push.body_encoding == "base64":
                try:
                    body = base64.b64decode(push.body, validate=True)
                except (binascii.Error, ValueError):
                    raise ValueError("body is not valid base64") from None
            else:
                body = push.body.encode("utf-8")
        else:
            body = json.dumps(push.body, ensure_ascii=False, separators=(",", ":")).encode()
        if len(body) > MAX_BODY:
            raise ValueError(f"the body is larger than {MAX_BODY} bytes")
        content_type = push.content_type
        if push.suggestions is not None:
            chips = push.suggestions
            document = chips if isinstance(chips, dict) else {"suggestions": chips}
            chip_body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
            parts = [
                Part.create(content_type, body),
                Part.create(contenttypes.BOTSUGGESTION, chip_body),
            ]
            boundary, counter = "next", 0
            while b"--" + boundary.encode() in body:
                counter += 1
                boundary = f"next-{counter}"
            try:
                content_type, body = build_multipart(parts, boundary)
            except Exception as exc:
                raise ValueError(f"cannot build the multipart body: {exc}") from None
        return content_type, body

    # ------------------------------------------------------------------ inbox and bots

    async def _inbox(self, request: web.Request) -> web.Response:
        name = request.query.get("bot")
        bot = None
        if name:
            agent = self.backend.agent(name)
            if agent is None:
                return _error(404, f"no chatbot {name!r} on the lab platform")
            bot = agent.id
        try:
            after = int(request.query.get("after", "0"))
            wait = min(float(request.query.get("wait", "0")), MAX_WAIT)
        except ValueError:
            return _error(400, "after and wait must be numbers")
        entries = await self.backend.inbox.wait(bot, after, wait)
        return web.json_response([e.to_json() for e in entries], dumps=_dumps)

    async def _bots(self, request: web.Request) -> web.Response:
        bots = [
            {
                "id": agent.id,
                "serviceId": agent.uri,
                "name": agent.engine.script.name,
                "registered": agent.is_registered,
            }
            for agent in self.backend.agents
        ]
        return web.json_response(bots, dumps=_dumps)

    async def _reset(self, request: web.Request) -> web.Response:
        name = request.query.get("bot", "")
        agent = self.backend.agent(name) if name else None
        if agent is None:
            return _error(404, f"no chatbot {name!r} on the lab platform")
        agent.engine.reset(request.query.get("user") or None)
        return web.Response(status=204)
