"""Carrying out a tapped chip or menu entry, as a handset would, inside a terminal.

Tapping a suggested reply sends the suggestion response (formats.md §4) and the reply's
display text appears as our bubble (the handset stores the response; the chat shows its
display text). A suggested action (§2) is performed first, then the same response is sent:

=============================  ===============================================================
action                         what the emulator does
=============================  ===============================================================
openUrl                        shows the URL: copy (OSC 52), or open in a browser on confirm
dialPhoneNumber, dial*Call     an emulated call screen
showLocation                   coordinates, label and a map link
createCalendarEvent            writes an ``.ics`` file in the profile folder and shows it
composeTextMessage             the composer, prefilled (in the conversation with the number)
composeRecordingMessage        a note: a terminal cannot record
requestDeviceSpecifics         consent dialog; on "Allow" the device specifics are sent
requestLocationPush            location dialog; on "Share" the location is pushed
settingsAction                 consent dialog; on "Allow" the setting is applied
=============================  ===============================================================

When the user declines a consent dialog nothing is sent at all, not even the response: the
chatbot learns nothing about the device or the user's choice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.text import Text

from rcs_terminal import paths
from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.protocol.up import (
    Action,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    DisableAnonymization,
    EnableDisplayedNotifications,
    OpenUrl,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    Suggestion,
    UrlApplication,
)
from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.ics import write_ics
from rcs_terminal.ui.screens.action_screens import CallScreen, InfoScreen, LocationScreen, UrlScreen
from rcs_terminal.ui.screens.dialogs import ConsentDialog, LocationDialog

if TYPE_CHECKING:
    from rcs_terminal.ui.app import RcsTerminalApp
    from rcs_terminal.ui.screens.chat import ChatScreen

DEFAULT_LOCATION = (39.908722, 116.397499, "天安门 Tiananmen")
"""What the location dialog proposes (the emulator has no GPS)."""


class ActionRunner:
    """Performs tapped suggestions for the conversation of one chat screen.

    Args:
        screen: the chat screen (its conversation gives the SIM and the peer).
    """

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen

    @property
    def app(self) -> RcsTerminalApp:
        """The app."""
        return self.screen.rcs_app

    def tap(self, suggestion: Suggestion) -> None:
        """Carry out ``suggestion`` (see the module docstring)."""
        if not isinstance(suggestion, Action):
            self._respond(suggestion)
            return
        kind = suggestion.kind
        if isinstance(kind, OpenUrl):
            webview = kind.application is UrlApplication.WEBVIEW
            self.app.push_screen(UrlScreen(kind.url, self.app.open_browser, webview=webview))
        elif isinstance(kind, DialPhoneNumber | DialVideoCall | DialEnrichedCall):
            subject = kind.subject if isinstance(kind, DialEnrichedCall) else None
            video = isinstance(kind, DialVideoCall)
            self.app.push_screen(CallScreen(kind.phone_number, video=video, subject=subject))
        elif isinstance(kind, ShowLocation):
            self.app.push_screen(LocationScreen(kind))
        elif isinstance(kind, CreateCalendarEvent):
            if not self._calendar(kind, suggestion):
                return
        elif isinstance(kind, ComposeTextMessage):
            self.screen.compose_to(kind.phone_number, kind.text)
        elif isinstance(kind, ComposeRecordingMessage):
            what = kind.type.value.lower()
            note = Text(f"The chatbot asks for a {what} message to ")
            note.append(sanitize(kind.phone_number, max_length=32), style="bold")
            note.append(". A terminal cannot record: nothing was recorded or sent.", style="dim")
            self.app.push_screen(InfoScreen(f"Record {what}", note))
        elif isinstance(kind, RequestDeviceSpecifics):
            self._consent_device(suggestion)
            return
        elif isinstance(kind, RequestLocationPush):
            self._consent_location(suggestion)
            return
        elif isinstance(kind, DisableAnonymization | EnableDisplayedNotifications):
            self._consent_setting(suggestion, kind)
            return
        self._respond(suggestion)

    # ------------------------------------------------------------------ helpers

    @property
    def _slot(self) -> int:
        return self.screen.conversation.sim

    @property
    def _peer(self) -> str:
        return self.screen.conversation.peer_uri

    def _respond(
        self, suggestion: Suggestion, before: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        handset, slot, peer = self.app.handset, self._slot, self._peer

        async def run() -> None:
            if before is not None:
                await before()
            await handset.send_suggestion_response(slot, peer, suggestion)

        self.app.run_port(run(), name="suggestion response")

    def _calendar(self, event: CreateCalendarEvent, suggestion: Action) -> bool:
        profile = self.app.handset.profile
        now = self.app.clock()
        uid = f"rcs-terminal-{self._slot}-{int(now * 1000)}"
        folder = paths.profile_dir(profile.name or "fake") / "calendar"
        try:
            path = write_ics(event, folder, uid=uid, now=now)
        except RcsTerminalError as exc:
            self.app.show_error(exc)
            return False
        note = Text("\U0001f4c5 ")
        note.append(sanitize(event.title, max_length=100), style="bold")
        note.append(f"\n{sanitize(event.start_time, max_length=40)} \u2192 ")
        note.append(sanitize(event.end_time, max_length=40))
        note.append("\n\nSaved as ")
        note.append(str(path), style="underline")
        note.append("\nImport it into any calendar program.", style="dim")
        self.app.push_screen(InfoScreen("Calendar event saved", note))
        return True

    def _requester(self) -> str:
        return self.screen.peer_label

    def _consent_device(self, suggestion: Action) -> None:
        device = self.app.handset.profile.device
        facts = [
            ("model", device.model),
            ("platform", f"{device.os.name} {device.os.version}"),
            ("client", f"{device.client.vendor} {device.client.version}"),
        ]
        if device.battery_minutes is not None:
            facts.append(("battery", f"{device.battery_minutes} minutes left"))
        body = Text("It would receive:\n")
        for name, value in facts:
            body.append(f"  {name:<10} {sanitize(value, max_length=40)}\n")
        title = f"Share device specifics with {self._requester()}?"
        handset, slot, peer = self.app.handset, self._slot, self._peer

        def answered(allowed: object) -> None:
            if allowed is True:
                self._respond(suggestion, lambda: handset.send_device_specifics(slot, peer))

        self.app.push_screen(ConsentDialog(title, body, accept_label="Share"), answered)

    def _consent_location(self, suggestion: Action) -> None:
        latitude, longitude, label = self.app.default_location
        handset, slot, peer = self.app.handset, self._slot, self._peer

        def answered(value: object) -> None:
            if isinstance(value, tuple):
                lat, lon, name = value
                self._respond(suggestion, lambda: handset.send_location(slot, peer, lat, lon, name))

        dialog = LocationDialog(self._requester(), latitude, longitude, label)
        self.app.push_screen(dialog, answered)

    def _consent_setting(
        self, suggestion: Action, kind: DisableAnonymization | EnableDisplayedNotifications
    ) -> None:
        if isinstance(kind, EnableDisplayedNotifications):
            title = f"Send read receipts to {self._requester()}?"
            body = Text("Chatbots will be told when you have read their messages.")
            setting, enabled, done = "displayed_notifications", True, "Read receipts are on."
        else:
            title = f"Reveal your number to {self._requester()}?"
            body = Text("The chatbot will see your phone number instead of an alias.")
            setting, enabled, done = "anonymization", False, "Your number is shown to chatbots."
        handset, slot = self.app.handset, self._slot

        def answered(allowed: object) -> None:
            if allowed is True:
                self._respond(
                    suggestion,
                    lambda: handset.apply_setting(slot, setting, enabled),  # type: ignore[arg-type]
                )
                self.app.notify(done)

        self.app.push_screen(ConsentDialog(title, body), answered)
