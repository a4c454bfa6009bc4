"""The TUI's port on the real engine (:class:`EngineHandset`) against an in-process lab.

Each test starts the bundled lab on free loopback ports and the ``demo`` dual-SIM profile
behind the port (the autouse fixture gives every test a fresh data directory). Waits are on
the bus: a test wakes up on the event it waits for, bounded by a timeout, never on a delay.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import CliRunner

from rcs_terminal import paths
from rcs_terminal.cli import cli
from rcs_terminal.domain.content import describe
from rcs_terminal.domain.events import Event, MessageReceived, TermsPresented
from rcs_terminal.domain.profile import load_profile
from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.sms import ReceivedSms, extract_otp
from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.lab.lab import Lab
from rcs_terminal.ui import demo as demo_module
from rcs_terminal.ui.demo import DemoApp, prepare_demo, run_demo
from rcs_terminal.ui.engine_port import EngineHandset
from rcs_terminal.ui.port import BotSummary, HandsetPort
from rcs_terminal.ui.screens.chat import ChatScreen

DEMO_BOT = "sip:demo@botplatform.lab"
TIMEOUT = 20.0
SIM1_IMSI = "460001234500001"
SIM2_IMSI = "460111234500002"


def welcome_title() -> str:
    """The title of the demo bot's welcome card, from its script."""
    script = yaml.safe_load((files("rcs_terminal.lab.bots") / "demo.yaml").read_text("utf-8"))
    return str(script["replies"]["welcome"][0]["card"]["title"])


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    async with Lab() as running:
        yield running


@pytest.fixture
async def port(lab: Lab) -> AsyncIterator[EngineHandset]:
    handset = EngineHandset(load_profile("demo"), lab=lab.info)
    try:
        yield handset
    finally:
        await handset.stop()


async def until(port: EngineHandset, done: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait until ``done()`` holds, checking after every event on the port's bus."""
    woken = asyncio.Event()
    unsubscribe = port.bus.subscribe(lambda event: woken.set())
    try:
        async with asyncio.timeout(timeout):
            while not done():
                woken.clear()
                await woken.wait()
    finally:
        unsubscribe()


def registered(port: EngineHandset, *slots: int) -> Callable[[], bool]:
    return lambda: all(port.sim_status(slot).registration == "registered" for slot in slots)


def collect(port: EngineHandset) -> list[Event]:
    events: list[Event] = []
    port.bus.subscribe(events.append)
    return events


# --------------------------------------------------------------------------- state


async def test_the_adapter_is_a_handset_port(port: EngineHandset) -> None:
    typed: HandsetPort = port
    assert isinstance(typed, HandsetPort)
    assert port.sending_sim == 1
    status = port.sim_status(2)
    assert (status.operator, status.label, status.msisdn) == (
        "China Telecom",
        "Telecom",
        "+8618900000002",
    )
    assert (status.provisioning, status.registration) == ("idle", "unregistered")
    with pytest.raises(RcsTerminalError):
        port.sim_status(3)


async def test_both_sims_provision_and_register_in_the_background(port: EngineHandset) -> None:
    await port.start()  # returns at once: nothing is registered yet
    assert port.sim_status(1).registration != "registered"
    await until(port, registered(port, 1, 2))
    for slot in (1, 2):
        status = port.sim_status(slot)
        assert status.provisioning == "provisioned"
        assert status.state == "registered" and status.reason is None
    await port.start()  # a second start changes nothing
    await port.stop()
    assert {port.sim_status(slot).registration for slot in (1, 2)} == {"deregistered"}
    await port.stop()  # stopping twice is harmless


async def test_a_refused_sim_shows_failed_with_the_reason(lab: Lab, port: EngineHandset) -> None:
    lab.config_server.set_fault("403", imsi=SIM2_IMSI)
    await port.start()
    await until(port, lambda: port.sim_status(2).state == "failed")
    assert "403" in (port.sim_status(2).reason or "")
    await until(port, registered(port, 1))
    with pytest.raises(RcsTerminalError) as refused:
        await port.send_text(2, DEMO_BOT, "hi")
    assert refused.value.title == "SIM not registered" and refused.value.hint


# --------------------------------------------------------------------------- messaging


async def test_a_text_to_the_demo_bot_is_stored_and_its_card_arrives(port: EngineHandset) -> None:
    events = collect(port)
    await port.start()
    await until(port, registered(port, 1, 2))
    message_id = await port.send_text(1, DEMO_BOT, "hi")
    sent = port.store.message(message_id)
    assert sent is not None and sent.is_outgoing and sent.body == b"hi" and sent.sim == 1

    def card_arrived() -> bool:
        return any(isinstance(e, MessageReceived) for e in events)

    await until(port, card_arrived)
    received = next(e for e in events if isinstance(e, MessageReceived))
    reply = port.store.message(received.message_id)
    assert reply is not None and reply.peer_uri == DEMO_BOT and reply.sim == 1
    content = describe(reply.content_type, reply.body)
    assert content.kind == "card" and content.card is not None
    assert content.card.content.title == welcome_title()
    assert content.suggestions, "the welcome card comes with a chip list"

    await port.mark_displayed(reply.message_id)
    seen = port.store.message(reply.message_id)
    assert seen is not None and seen.displayed_at is not None

    chip = content.suggestions[0]
    tapped = await port.send_suggestion_response(1, DEMO_BOT, chip)
    response = port.store.message(tapped)
    assert response is not None and response.content_type.startswith("application/vnd.gsma")


async def test_sending_before_start_says_why(port: EngineHandset) -> None:
    with pytest.raises(RcsTerminalError) as early:
        await port.send_text(1, DEMO_BOT, "hi")
    assert early.value.title == "SIM not in use"
    await port.set_composing(1, DEMO_BOT, True)  # typing indications are simply dropped
    await port.mark_displayed("no-such-message")


async def test_settings_actions(port: EngineHandset) -> None:
    await port.start()
    await until(port, registered(port, 1))
    messaging = port.handset.sims[1].messaging
    assert messaging is not None
    await port.apply_setting(1, "displayed_notifications", False)
    assert messaging.settings.displayed_notifications is False
    await port.apply_setting(1, "displayed_notifications", True)
    assert messaging.settings.displayed_notifications is True
    await port.apply_setting(1, "anonymization", False)  # the number is always shown
    with pytest.raises(RcsTerminalError) as unsupported:
        await port.apply_setting(1, "anonymization", True)
    assert unsupported.value.title == "Not supported"


# --------------------------------------------------------------------------- chatbots


async def test_bot_info_waits_for_the_configuration(port: EngineHandset) -> None:
    await port.start()
    info = await port.bot_info(1, DEMO_BOT)  # asked before SIM 1 is provisioned
    assert info is not None and info.service_id == DEMO_BOT and info.name
    assert info.persistent_menu is not None
    assert await port.bot_info(1, DEMO_BOT) == info
    assert await port.bot_info(1, "sip:nobody@botplatform.lab") is None


async def test_directory_search(port: EngineHandset) -> None:
    await port.start()
    found = await port.search_chatbots(2, "demo")
    assert all(isinstance(bot, BotSummary) for bot in found)
    demo = next(bot for bot in found if bot.uri == DEMO_BOT)
    assert demo.name and demo.verified


# --------------------------------------------------------------------------- the user in the loop


async def test_operator_terms_are_answered_through_the_port(lab: Lab, port: EngineHandset) -> None:
    lab.config_server.set_fault("terms", imsi=SIM2_IMSI, title="Lab terms")
    events = collect(port)
    await port.start()
    await until(port, lambda: port.sim_status(2).state == "waiting-terms")
    terms = [e for e in events if isinstance(e, TermsPresented)]
    assert [(t.sim, t.title) for t in terms] == [(2, "Lab terms")]
    await port.answer_terms(2, True)
    await until(port, registered(port, 1, 2))
    with pytest.raises(RcsTerminalError):
        await port.answer_terms(2, True)  # nothing is waiting any more


async def test_a_one_time_password_typed_by_the_user(lab: Lab, tmp_path: Path) -> None:
    """A SIM provisioned from an explicit URL cannot read the lab's SMS centre itself: the
    code the user reads on the "phone" goes through :meth:`EngineHandset.submit_otp`."""
    text = (Path(__file__).parents[2] / "profiles" / "demo.yaml").read_text("utf-8")
    text = text.replace("{url: lab, verify_tls: false}", f"{{url: {lab.info.http_url}}}", 1)
    path = tmp_path / "otp-phone.yaml"
    path.write_text(text, "utf-8")
    lab.config_server.set_fault("otp", imsi=SIM1_IMSI)
    port = EngineHandset(load_profile(str(path)), lab=lab.info)
    try:
        await port.start()
        await until(port, lambda: port.sim_status(1).state == "waiting-otp")
        await until(port, lambda: bool(lab.smsc.messages("+8613800000001")))
        (sms,) = lab.smsc.messages("+8613800000001")
        code = extract_otp(ReceivedSms(sms.seq, sms.sender, sms.text, sms.port), sms.port)
        assert code is not None
        await port.submit_otp(1, code)
        await until(port, lambda: port.sim_status(1).provisioning == "provisioned")
        await port.submit_otp(1, code)  # too late to matter: ignored
    finally:
        await port.stop()


# --------------------------------------------------------------------------- the demo


class RecordingApp:
    """Stands in for the TUI in :func:`run_demo`: starts the handset, waits until both SIMs
    are registered, and notes what the demo set up."""

    seen: ClassVar[dict[str, Any]] = {}

    def __init__(self, handset: EngineHandset, *, notice: str | None = None) -> None:
        self.handset = handset
        self.seen.clear()
        self.seen["notice"] = notice

    async def run_async(self) -> None:
        port = self.handset
        await port.start()
        await until(port, registered(port, 1, 2))
        self.seen["home"] = Path(os.environ["RCS_TERMINAL_HOME"])
        self.seen["conversations"] = [
            (c.sim, c.peer_uri, c.is_chatbot, c.display_name) for c in port.store.conversations()
        ]
        self.seen["port"] = port


async def test_the_demo_starts_clean_and_cleans_up(tmp_path: Path) -> None:
    usual = paths.home()
    trace = tmp_path / "trace.jsonl"
    advertised: list[bool] = []

    class Watching(RecordingApp):
        async def run_async(self) -> None:
            advertised.append((usual / "lab.json").is_file())
            await super().run_async()

    await run_demo(trace_file=str(trace), app_factory=Watching)
    seen = RecordingApp.seen
    assert seen["home"] != usual and not seen["home"].exists(), "a fresh home, removed after"
    assert Path(os.environ["RCS_TERMINAL_HOME"]) == usual
    assert seen["conversations"] == [(1, DEMO_BOT, True, "rcs-terminal demo")]
    assert "Enter" in seen["notice"] and "hi" in seen["notice"]
    assert advertised == [True] and not (usual / "lab.json").exists()
    port = seen["port"]
    assert {port.sim_status(slot).registration for slot in (1, 2)} == {"deregistered"}
    assert '"REGISTER ' in trace.read_text("utf-8")


async def test_the_demo_with_keep_uses_the_usual_home() -> None:
    await run_demo(keep=True, app_factory=RecordingApp)
    assert RecordingApp.seen["home"] == paths.home()
    with MessageStore.for_profile("demo") as store:
        assert [c.peer_uri for c in store.conversations()] == [DEMO_BOT]


async def test_the_demo_app_shows_the_notice_until_a_chat_opens(lab: Lab) -> None:
    port = EngineHandset(load_profile("demo"), lab=lab.info)
    notice = prepare_demo(port, "rcs-terminal demo")
    app = DemoApp(port, notice=notice, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert [n.message for n in app._notifications] == [notice]
        await until(port, registered(port, 1, 2))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        assert app.screen.conversation.peer_uri == DEMO_BOT
        assert not list(app._notifications)
    assert {port.sim_status(slot).registration for slot in (1, 2)} == {"deregistered"}


# --------------------------------------------------------------------------- the commands


def test_tui_without_a_profile_says_which_to_give() -> None:
    result = CliRunner().invoke(cli, ["tui"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--profile" in result.output and "rcs-terminal demo" in result.output


def test_tui_for_a_lab_profile_needs_a_running_lab() -> None:
    result = CliRunner().invoke(cli, ["tui", "--profile", "lab-alice"])
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "no lab is running" in result.output and "rcs-terminal lab" in result.output


def test_tui_fake_takes_no_network_options() -> None:
    result = CliRunner().invoke(cli, ["tui", "--fake", "--lab", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "--fake runs without a network" in result.output


def test_demo_command_runs_the_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    async def fake_run_demo(**options: Any) -> None:
        calls.append(options)

    monkeypatch.setattr(demo_module, "run_demo", fake_run_demo)
    trace = str(tmp_path / "t.jsonl")
    assert CliRunner().invoke(cli, ["demo"]).exit_code == 0
    assert CliRunner().invoke(cli, ["demo", "--keep", "--trace", trace]).exit_code == 0
    assert calls == [{"keep": False, "trace_file": None}, {"keep": True, "trace_file": trace}]
    assert "fresh" in CliRunner().invoke(cli, ["demo", "--help"]).output
