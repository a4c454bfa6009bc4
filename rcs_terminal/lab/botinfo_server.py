"""Chatbot information and the chatbot directory, served on the lab's HTTP server.

The lab's configuration documents advertise (``lab/config_documents.py``)
``BotinfoFQDNRoot = botplatform.lab:<port>`` and
``ChatbotDirectory = http://botplatform.lab:<port>/chatbot/directory``; the lab name maps
to the lab's address, so these routes of the lab's web application answer them
(formats.md §6):

- ``GET /bot?id=<url-encoded service id>[&hl=..&ho=..&v=..]``: the bot-info JSON
  (:func:`~rcs_terminal.protocol.up.botinfo.build_botinfo`: name, logo, colour, service id,
  SMS number, verification, categories, description, web pages, persistent menu), with a
  strong ``ETag`` and ``Cache-Control: max-age=N``. ``If-None-Match`` naming the current tag
  (or ``*``) gets ``304 Not Modified`` with the same two headers. The id may also be the
  bare bot id (``demo``). Unknown bots get 404, a missing id 400.
- ``GET /chatbot/directory?q=<query>&start=<n>&num=<n>``: the directory search. The
  response format is not specified anywhere public (a GAP in formats.md §6); the lab
  answers a JSON **list** of summaries, best match first, and the total number of matches
  in the ``X-Total-Count`` header::

      [{"serviceId": "sip:demo@botplatform.lab", "name": "...", "description": "...",
        "logo": "http://botplatform.lab:PORT/chatbot/media/demo-logo.png",
        "colour": "#1E88E5", "verified": true, "category": ["Demo"],
        "botinfo": "http://botplatform.lab:PORT/bot?id=sip%3Ademo%40botplatform.lab"}]

  An empty query lists every bot. Matching is case-insensitive on the id, name,
  description, categories and the script's ``search_terms``; ``start`` (default 0) and
  ``num`` (default 20, at most 100) page through the matches.
- ``GET /chatbot/media/<name>``: the sample media (logos, card pictures, sample files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web

from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.media import MEDIA_PATH, MediaLibrary
from rcs_terminal.lab.bots.payloads import CHINA_TIME, RenderContext, build_chip
from rcs_terminal.lab.config_documents import BOTPLATFORM_NAME
from rcs_terminal.protocol.up.botinfo import build_botinfo
from rcs_terminal.protocol.up.menu import Menu, MenuEntry, Submenu

__all__ = ["BOTINFO_PATH", "DIRECTORY_PATH", "BotInfoServer", "build_menu"]

BOTINFO_PATH = "/bot"
DIRECTORY_PATH = "/chatbot/directory"
DEFAULT_MAX_AGE = 3600
"""Seconds a handset may keep bot information before asking again."""
MAX_PAGE = 100


def build_menu(items: Sequence[model.MenuItem], ctx: RenderContext) -> Menu | None:
    """The UP persistent menu of a script's ``menu`` (None when it has none)."""

    def entry(item: model.MenuItem) -> MenuEntry:
        if item.entries is not None:
            return Submenu(item.text, tuple(entry(sub) for sub in item.entries))
        return build_chip(item, ctx)

    return Menu(tuple(entry(item) for item in items)) if items else None


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison of each listed tag, or ``*``."""
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


class BotInfoServer:
    """Bot info, directory and sample-media routes (see the module docstring).

    Args:
        scripts: the bots.
        media: the sample media.
        max_age: the ``Cache-Control: max-age`` of bot information, in seconds.
        clock: the time source (seconds since the epoch).
    """

    def __init__(
        self,
        scripts: Sequence[model.BotScript],
        media: MediaLibrary,
        *,
        max_age: int = DEFAULT_MAX_AGE,
        clock: Callable[[], float],
    ) -> None:
        self.scripts = {script.id: script for script in scripts}
        self.media = media
        self.max_age = max_age
        self.clock = clock
        self.base_url = f"http://{BOTPLATFORM_NAME}"
        """The lab name and port the platform's URLs are written with (set at start)."""
        self._bodies: dict[str, tuple[str, bytes, str]] = {}  # id -> (base, body, etag)

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes."""
        return [
            web.get(BOTINFO_PATH, self._botinfo),
            web.get(DIRECTORY_PATH, self._directory),
            web.get(MEDIA_PATH + "/{name}", self._media),
        ]

    # ------------------------------------------------------------------ bot info

    def find(self, service_id: str) -> model.BotScript | None:
        """The bot a service id (``sip:demo@botplatform.lab``) or a bare id names."""
        text = service_id.strip().strip("<>").lower()
        if text.startswith(("sip:", "sips:")):
            user, _, host = text.split(":", 1)[1].partition("@")
            if host.split(":", 1)[0].split(";", 1)[0] != BOTPLATFORM_NAME:
                return None
            text = user
        return self.scripts.get(text)

    def botinfo(self, script: model.BotScript) -> tuple[bytes, str]:
        """The bot-info body of ``script`` and its ETag (built once per base URL)."""
        cached = self._bodies.get(script.id)
        if cached is not None and cached[0] == self.base_url:
            return cached[1], cached[2]
        now = dt.datetime.fromtimestamp(self.clock(), CHINA_TIME)
        ctx = RenderContext(
            media=self.media,
            now=now,
            lookup=lambda name: None,
            publish=lambda file, thumb: self.media.descriptor(file, thumb, now),
            entity=script.uri,
            new_id=lambda: "menu",
        )
        email = script.email
        if email is not None and not email.startswith("mailto:"):
            email = f"mailto:{email}"
        body = build_botinfo(
            script.uri,
            script.name,
            description=script.description,
            logo_url=self.media.url(script.logo),
            colour=script.colour,
            verified=script.verified,
            verified_by=script.verified_by,
            expires=script.verification_expires,
            categories=tuple(script.category),
            website=script.website,
            tc_page=script.tc_page,
            sms=f"sms:{script.number}",
            email=email,
            tel=script.tel,
            address=script.address,
            background_image=self.media.url(script.background_image)
            if script.background_image
            else None,
            persistent_menu=build_menu(script.menu, ctx),
        )
        etag = _etag(body)
        self._bodies[script.id] = (self.base_url, body, etag)
        return body, etag

    async def _botinfo(self, request: web.Request) -> web.Response:
        service_id = request.query.get("id", "")
        if not service_id:
            raise web.HTTPBadRequest(text="the id parameter (the chatbot's service id) is required")
        script = self.find(service_id)
        if script is None:
            raise web.HTTPNotFound(text=f"no chatbot {service_id[:100]!r} in the lab")
        body, etag = self.botinfo(script)
        headers = {"ETag": etag, "Cache-Control": f"max-age={self.max_age}"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/json", headers=headers)

    # ------------------------------------------------------------------ directory

    def search(self, query: str) -> list[model.BotScript]:
        """The bots matching ``query``, best first (every bot for an empty query)."""
        words = query.casefold().split()
        if not words:
            return list(self.scripts.values())
        scored: list[tuple[int, int, model.BotScript]] = []
        for order, script in enumerate(self.scripts.values()):
            haystack = " ".join(
                [script.id, script.name, script.description, *script.category, *script.search_terms]
            ).casefold()
            if not all(word in haystack for word in words):
                continue
            name = script.name.casefold()
            score = 0 if script.id in words else 1 if any(w in name for w in words) else 2
            scored.append((score, order, script))
        return [script for _, _, script in sorted(scored, key=lambda item: item[:2])]

    def summary(self, script: model.BotScript) -> dict[str, Any]:
        """A directory entry (see the module docstring)."""
        return {
            "serviceId": script.uri,
            "name": script.name,
            "description": script.description,
            "logo": self.media.url(script.logo),
            "colour": script.colour,
            "verified": script.verified,
            "category": list(script.category),
            "botinfo": f"{self.base_url}{BOTINFO_PATH}?id={quote(script.uri, safe='')}",
        }

    async def _directory(self, request: web.Request) -> web.Response:
        try:
            start = int(request.query.get("start", "0"))
            num = int(request.query.get("num", "20"))
        except ValueError:
            raise web.HTTPBadRequest(text="start and num must be whole numbers") from None
        if start < 0 or num < 0:
            raise web.HTTPBadRequest(text="start and num must not be negative")
        found = self.search(request.query.get("q", ""))
        page = found[start : start + min(num, MAX_PAGE)]
        return web.json_response(
            [self.summary(script) for script in page],
            headers={"X-Total-Count": str(len(found))},
            dumps=_dumps,
        )

    # ------------------------------------------------------------------ media

    async def _media(self, request: web.Request) -> web.Response:
        found = self.media.find(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound(text="no such sample file")
        headers = {"Cache-Control": "max-age=86400"}
        return web.Response(body=found.data, content_type=found.content_type, headers=headers)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
