"""The lab's chatbot platform: scripted bots on the lab network, their info, a MaaP-style API.

A :class:`ChatbotPlatform` is part of every :class:`~rcs_terminal.lab.lab.Lab`. It owns:

- the bots: one :class:`~.bots.model.BotScript` each (the built-in ``lab/bots/*.yaml``:
  ``demo`` at ``sip:demo@botplatform.lab``, which is a contract, and the Chinese use-case
  bots ``hotline``, ``express``, ``bank``, ``weather``, ``news``; plus a tester's own
  scripts from ``<rcs-terminal home>/bots/``; or the scripts the caller gives), run by a
  :class:`~.bots.engine.BotEngine`, each on the network as a
  :class:`~.bot_agent.BotAgent` that registers with the lab registrar like any UA. The bots
  are added to the lab's subscriber directory when the platform is created (home domain
  ``botplatform.lab``, digest passwords drawn at random);
- the HTTP routes on the lab's web server: bot information, the chatbot directory and the
  sample media (:mod:`.botinfo_server`, where ``BotinfoFQDNRoot`` and ``ChatbotDirectory``
  of the lab's configuration point), and the MaaP-style API (:mod:`.maap`);
- the inbox of what the bots received (:mod:`.bot_inbox`).

File messages are published on the lab's FT content server when the lab has one (so a
handset downloads them like any file sent to it), else they point at the sample-media
route. Every script is checked at creation: a script naming a sample file that does not
exist is a :class:`~rcs_terminal.errors.BotScriptError` naming the file and the key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel

from rcs_terminal.engine.ims_params import PcscfTarget
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import BotScriptError, RcsTerminalError
from rcs_terminal.lab.bot_agent import BotAgent
from rcs_terminal.lab.bot_identity import BotSubscriber, bot_subscriber
from rcs_terminal.lab.bot_inbox import BotInbox
from rcs_terminal.lab.botinfo_server import DEFAULT_MAX_AGE, BotInfoServer
from rcs_terminal.lab.bots import model
from rcs_terminal.lab.bots.engine import BotEngine
from rcs_terminal.lab.bots.loader import load_bots
from rcs_terminal.lab.bots.media import MediaFile, MediaLibrary
from rcs_terminal.lab.bots.payloads import FilePublisher
from rcs_terminal.lab.config_documents import BOTPLATFORM_NAME
from rcs_terminal.lab.maap import MaapApi
from rcs_terminal.lab.subscribers import SubscriberDirectory
from rcs_terminal.protocol.up.fthttp import FileTransferInfo

__all__ = ["ChatbotPlatform", "check_media"]

log = logging.getLogger(__name__)

PUBLISH_LIFETIME = 86400.0
"""Seconds a file published on the FT server is reused before it is published again."""


def _references(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every sample-file name a script object refers to, with its key path."""
    if isinstance(value, model.MediaSpec | model.FileSpec):
        for key in ("file", "thumbnail"):
            name = getattr(value, key)
            if name is not None:
                yield f"{path}.{key}", name
        return
    if isinstance(value, BaseModel):
        for key in type(value).model_fields:
            yield from _references(getattr(value, key), f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _references(item, f"{path}.{key}")


def check_media(script: model.BotScript, media: MediaLibrary) -> None:
    """Check that every sample file ``script`` names exists.

    Raises:
        BotScriptError: naming the script's file and the key of the first missing file.
    """
    found = list(_references(script, ""))
    for key in ("logo", "background_image"):
        name = getattr(script, key)
        if name is not None and not name.startswith(("http://", "https://")):
            found.append((key, name))
    for where, name in found:
        if name not in media:
            known = ", ".join(media.names())
            raise BotScriptError(
                f"{script.id}.yaml: {where}: no sample file {name!r}",
                hint=f"Sample files: {known}; or give an http(s) URL.",
            )


class ChatbotPlatform:
    """The lab's chatbots (see the module docstring).

    Args:
        directory: the lab's subscriber directory (the bots are added to it).
        trace: the lab trace (the bots' SIP traffic is recorded there).
        scripts: the bots (default: the built-in ones and the user's, see
            :func:`~.bots.loader.default_bot_files`).
        media: the sample media (default: the package's).
        botinfo_max_age: ``Cache-Control: max-age`` of bot information, in seconds.
        clock: wall-clock time (CPIM ``DateTime``, placeholders, inbox times).
        endpoint_options: extra keyword arguments for each bot's SIP endpoint.

    Raises:
        BotScriptError: a script is invalid or names a sample file that does not exist.
        ProfileError: a bot's service number clashes with a subscriber's MSISDN.
    """

    def __init__(
        self,
        directory: SubscriberDirectory,
        *,
        trace: TraceRecorder | None = None,
        scripts: Iterable[model.BotScript] | None = None,
        media: MediaLibrary | None = None,
        botinfo_max_age: int = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
        endpoint_options: dict[str, Any] | None = None,
    ) -> None:
        self._directory = directory
        self.trace = trace
        self.clock = clock
        self.media = media if media is not None else MediaLibrary()
        loaded = sorted(
            load_bots() if scripts is None else scripts, key=lambda s: (s.id != "demo", s.id)
        )
        for script in loaded:
            check_media(script, self.media)
        self._inbox = BotInbox(clock=clock)
        self.botinfo = BotInfoServer(loaded, self.media, max_age=botinfo_max_age, clock=clock)
        self.maap = MaapApi(self)
        self._published: dict[tuple[str, str | None], tuple[float, FileTransferInfo]] = {}
        self._ft_server: Any = None
        self._agents: dict[str, BotAgent] = {}
        for script in loaded:
            subscriber = self._subscriber(script)
            engine = BotEngine(script, self.media, publish=self._publisher(), clock=clock)
            self._agents[script.id] = BotAgent(
                engine,
                subscriber,
                inbox=self._inbox,
                trace=trace,
                clock=clock,
                endpoint_options=endpoint_options,
            )
        self.problems: list[str] = []
        """What went wrong at start (bots that could not register), for ``rcs-terminal lab``."""

    def _subscriber(self, script: model.BotScript) -> BotSubscriber:
        """The bot's lab subscriber: added to the directory, or the one a previous platform
        on the same directory added."""
        existing = self._directory.by_impi(f"{script.id}@{BOTPLATFORM_NAME}")
        if isinstance(existing, BotSubscriber) and existing.msisdn == f"+86{script.number}":
            return existing
        subscriber = bot_subscriber(script.id, script.number, secrets.token_urlsafe(12))
        self._directory.add(subscriber)
        return subscriber

    # ------------------------------------------------------------------ lookup

    @property
    def inbox(self) -> BotInbox:
        """What the bots received."""
        return self._inbox

    @property
    def directory(self) -> SubscriberDirectory:
        """The lab's subscribers."""
        return self._directory

    @property
    def agents(self) -> Sequence[BotAgent]:
        """Every bot, in id order."""
        return list(self._agents.values())

    def agent(self, name: str) -> BotAgent | None:
        """The bot named by its id or service id (``demo``, ``sip:demo@botplatform.lab``)."""
        script = self.botinfo.find(name)
        return None if script is None else self._agents.get(script.id)

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the lab's HTTP application."""
        return self.botinfo.routes() + self.maap.routes()

    # ------------------------------------------------------------------ life

    async def start(self, info: LabInfo, *, ft_server: Any = None) -> None:
        """Point URLs at the running lab and register every bot with its registrar.

        Args:
            info: the running lab's addresses (HTTP port, registrar).
            ft_server: the lab's FT content server (its ``publish`` is used for files).
        """
        port = urlsplit(info.http_url).port
        base = f"http://{BOTPLATFORM_NAME}" + (f":{port}" if port else "")
        self.botinfo.base_url = base
        self.media.base_url = f"{base}/chatbot/media"
        self._ft_server = ft_server
        if info.sip_tcp is None:
            self.problems.append("the lab has no SIP registrar: the bots are not registered")
            return
        target = PcscfTarget(Address.parse(info.sip_tcp), "tcp")
        results = await asyncio.gather(
            *(agent.start(target) for agent in self._agents.values()), return_exceptions=True
        )
        for agent, result in zip(self._agents.values(), results, strict=True):
            if isinstance(result, RcsTerminalError):
                self.problems.append(f"{agent.uri} did not register: {result}")
                log.warning("chatbot %s did not register: %s", agent.uri, result)
            elif isinstance(result, BaseException):
                raise result

    async def stop(self) -> None:
        """De-register every bot and close its connection."""
        await asyncio.gather(
            *(agent.stop() for agent in self._agents.values()), return_exceptions=True
        )

    async def idle(self) -> None:
        """Wait until every bot has sent what it is sending (tests)."""
        for agent in self._agents.values():
            await agent.idle()

    # ------------------------------------------------------------------ files

    def _publisher(self) -> FilePublisher:
        def publish(file: MediaFile, thumbnail: MediaFile | None) -> FileTransferInfo:
            now = self.clock()
            key = (file.name, thumbnail.name if thumbnail is not None else None)
            cached = self._published.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
            info = self._publish_on_ft_server(file, thumbnail)
            if info is None:
                stamp = dt.datetime.fromtimestamp(now, dt.UTC)
                return self.media.descriptor(file, thumbnail, stamp)
            self._published[key] = (now + PUBLISH_LIFETIME, info)
            return info

        return publish

    def _publish_on_ft_server(
        self, file: MediaFile, thumbnail: MediaFile | None
    ) -> FileTransferInfo | None:
        publish = getattr(self._ft_server, "publish", None)
        if publish is None:
            return None
        shown = file.content_type.startswith(("image/", "video/"))
        try:
            info = publish(
                file.data,
                file.name,
                file.content_type,
                thumbnail.data if thumbnail is not None else None,
                thumbnail_type=thumbnail.content_type if thumbnail is not None else "image/png",
                disposition="render" if shown else "attachment",
            )
        except (RcsTerminalError, ValueError, TypeError) as exc:
            log.info("FT server refused %s (%s); serving it from the media route", file.name, exc)
            return None
        return info if isinstance(info, FileTransferInfo) else None
