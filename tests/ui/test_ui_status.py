"""Pilot tests of what concerns the SIMs: status bar, OTP and terms dialogs, sending SIM,
and the one place errors are shown."""

from __future__ import annotations

from uihelpers import calls, make_app, screen_text

from rcs_terminal.errors import NetworkError
from rcs_terminal.ui import fake_dataset as data
from rcs_terminal.ui.app import RcsTerminalApp
from rcs_terminal.ui.fake_handset import FakeHandset
from rcs_terminal.ui.screens.chat import ChatScreen
from rcs_terminal.ui.screens.conversations import ConversationsScreen
from rcs_terminal.ui.screens.dialogs import ErrorDialog, OtpDialog, TermsDialog
from rcs_terminal.ui.screens.help import HelpScreen
from rcs_terminal.ui.widgets.status_bar import StatusBar


def status_text(app: RcsTerminalApp) -> str:
    return app.screen.query_one(StatusBar).text().plain


async def test_status_bar_shows_both_sims_registered(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        assert calls(handset, "start") == [()]
        text = status_text(app)
        assert "▶SIM1 China Mobile ● registered" in text
        assert "SIM2 China Telecom ● registered" in text


async def test_registration_failure_shows_the_reason(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        handset.fail_registration(2, "403 Forbidden: unknown IMPI", status=403)
        await pilot.pause()
        assert "SIM2 China Telecom ✗ failed: 403 Forbidden: unknown IMPI" in status_text(app)
        assert "failed: 403 Forbidden" in screen_text(app)


async def test_status_follows_provisioning_before_registration() -> None:
    from uihelpers import make_handset

    handset = make_handset()
    app = make_app(handset, start_handset=False)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        assert "○ unregistered" in status_text(app)
        handset.set_status(1, provisioning="provisioning")
        await pilot.pause()
        assert "SIM1 China Mobile ◌ provisioning" in status_text(app)
    handset.close()


async def test_switching_the_sending_sim(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert handset.sending_sim == 2
        assert "▶SIM2 China Telecom" in status_text(app)
        await pilot.press("f4")
        await pilot.pause()
        assert handset.sending_sim == 1
        # a new conversation goes out on the sending SIM
        await pilot.press("f4", "n")
        await pilot.pause()
        await pilot.press(*"+8613700000007", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        assert screen.conversation.sim == 2
        assert screen.conversation.peer_uri == "tel:+8613700000007"


async def test_otp_dialog_submits_the_code(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        handset.request_otp(2)
        await pilot.pause()
        assert isinstance(app.screen, OtpDialog)
        assert (
            "SIM2 China Telecom ◌ waiting-otp"
            in app.screen_stack[-2].query_one(StatusBar).text().plain
        )
        await pilot.press(*"482913", "enter")
        await pilot.pause()
        assert calls(handset, "submit_otp") == [(2, "482913")]
        assert isinstance(app.screen, ConversationsScreen)
        assert "SIM2 China Telecom ● registered" in status_text(app)


async def test_otp_dialog_cancel_submits_nothing(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        handset.request_otp(1)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert calls(handset, "submit_otp") == []


async def test_terms_dialog_accept_and_reject(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        handset.present_terms(1, "服务条款", "Accept the \x1b[2J terms?\nLine two.")
        await pilot.pause()
        assert isinstance(app.screen, TermsDialog)
        text = screen_text(app)
        assert "␛[2J" in text and "\x1b" not in text
        await pilot.click("#accept")
        await pilot.pause()
        handset.present_terms(2, "Terms", "Reject me", accept=True, reject=True)
        await pilot.pause()
        await pilot.click("#reject")
        await pilot.pause()
        assert calls(handset, "answer_terms") == [(1, True), (2, False)]
        assert "SIM2 China Telecom" in status_text(app)
        assert handset.sim_status(2).provisioning == "disabled"


class FailingHandset(FakeHandset):
    """A handset whose network refuses to send."""

    async def send_text(self, slot: int, peer: str, text: str) -> str:
        raise NetworkError(
            "The P-CSCF did not answer the MESSAGE.",
            title="Message not sent",
            hint="Check the registration in the trace pane (F2).",
        )


async def test_errors_open_the_error_dialog_with_title_and_hint() -> None:
    from uihelpers import fixed_clock

    handset = FailingHandset(clock=fixed_clock)
    app = make_app(handset)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        app.open_peer(1, data.LI_LEI)
        await pilot.pause()
        await pilot.press(*"hello", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ErrorDialog)
        text = screen_text(app)
        assert "Message not sent" in text
        assert "The P-CSCF did not answer the MESSAGE." in text
        assert "Check the registration" in text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
    handset.close()


async def test_help_screen_lists_the_keys(handset: FakeHandset) -> None:
    app = make_app(handset)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "switch the sending SIM" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConversationsScreen)
