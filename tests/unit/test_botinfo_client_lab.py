"""The bot-info client against the lab's chatbot platform (when the lab has one)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from rcs_terminal.engine.botinfo import BotInfoClient
from rcs_terminal.engine.http import HttpClient
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.subscribers import SubscriberDirectory, default_directory

DEMO = "sip:demo@botplatform.lab"


@cache
def directory() -> SubscriberDirectory:
    return default_directory()


async def test_demo_bot_info_and_directory_from_the_lab(tmp_path: Path) -> None:
    lab = Lab(directory=directory())
    if getattr(lab, "chatbots", None) is None:
        pytest.skip("this lab has no chatbot platform")
    async with lab:
        endpoints = lab.config_server.endpoints
        assert endpoints is not None
        trace = TraceRecorder()
        http = HttpClient(trace, hosts=lab.info.names, allow_dns=False)
        try:
            client = BotInfoClient(
                http,
                fqdn_root=endpoints.botinfo_root,
                directory_url=endpoints.chatbot_directory,
                identity="tel:+8613800000001",
                cache_dir=tmp_path,
            )
            info = await client.get(DEMO)
            assert info is not None and info.service_id == DEMO and info.name
            assert info.persistent_menu is not None
            assert await client.get(DEMO) == info
            assert len(trace.records(protocol="HTTP")) == 2  # the second came from the cache
            found = await client.search("")
            assert DEMO in [bot.service_id for bot in found]
        finally:
            await http.close()
