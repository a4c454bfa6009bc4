"""What a suggested action opens, inside a terminal (formats.md §2).

A phone hands these to other apps; the emulator shows what would happen:

- :class:`UrlScreen` (``openUrl``): the URL, a button copying it to the clipboard (OSC 52,
  ``App.copy_to_clipboard``) and one opening it in a browser, only after an explicit
  confirmation and only for ``http``/``https`` URLs;
- :class:`CallScreen` (``dialPhoneNumber``, ``dialEnrichedCall``, ``dialVideoCall``): an
  emulated call that states it is one;
- :class:`LocationScreen` (``showLocation``): coordinates, label or query, and a map link;
- :class:`InfoScreen`: anything else worth a note (the calendar file written, a recording
  that cannot be made in a terminal).

Everything shown comes from a chatbot: it is sanitised and drawn as ``rich.text.Text``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from rcs_terminal.protocol.up import ShowLocation
from rcs_terminal.render.sanitize import sanitize, sanitize_url
from rcs_terminal.ui.screens.dialogs import ConfirmDialog, dialog_css
from rcs_terminal.ui.widgets.bubble import map_link


def location_link(action: ShowLocation) -> str | None:
    """A map link for a ``showLocation`` action: the point, or a search for the query."""
    if action.latitude is not None and action.longitude is not None:
        return map_link(action.latitude, action.longitude)
    if action.query:
        return f"https://www.openstreetmap.org/search?query={quote(action.query, safe='')}"
    return None


class _Panel(ModalScreen[None]):
    """Title, body and a row of buttons; Escape or Close dismisses."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    close_label = "Close"

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title), classes="dialog--title")
            with VerticalScroll(classes="dialog--body"):
                yield Static(self._body, id="action-body")
            with Horizontal(classes="dialog--buttons"):
                yield from self.compose_buttons()
                yield Button(self.close_label, id="close", variant="primary")

    def compose_buttons(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "close":
            self.dismiss(None)


class UrlScreen(_Panel):
    """Show a URL; copy it, or open it in a browser after confirmation.

    Args:
        url: the URL as the chatbot sent it.
        open_browser: opens a URL in the user's browser (``webbrowser.open``).
        webview: the chatbot asked for a webview (shown as a note).
    """

    DEFAULT_CSS = dialog_css("UrlScreen")

    def __init__(
        self, url: str, open_browser: Callable[[str], Any], *, webview: bool = False
    ) -> None:
        body = Text(sanitize_url(url), style="underline")
        scheme = urlsplit(url.strip()).scheme.lower() if url.isprintable() else ""
        self.openable = scheme in ("http", "https")
        if webview:
            body.append(
                "\nThe chatbot asked for a webview; a terminal shows the link.", style="dim"
            )
        if not self.openable:
            body.append("\nOnly http and https links can be opened.", style="yellow")
        super().__init__("Open link", body)
        self.url = url
        self._open_browser = open_browser

    def compose_buttons(self) -> ComposeResult:
        yield Button("Copy", id="copy")
        yield Button("Open in browser\u2026", id="browser", disabled=not self.openable)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.app.copy_to_clipboard(self.url)
            self.notify("Link copied to the clipboard.")
        elif event.button.id == "browser":
            question = ConfirmDialog(
                "Open this link in your browser?", Text(sanitize_url(self.url)), yes="Open"
            )
            self.app.push_screen(question, self._confirmed)
        else:
            super().on_button_pressed(event)

    def _confirmed(self, yes: object) -> None:
        if yes is True and self.openable:
            self._open_browser(self.url)
            self.notify("Opened in the browser.")


class CallScreen(_Panel):
    """An emulated voice or video call.

    Args:
        number: the number to call (sanitised).
        video: a video call.
        subject: an enriched call's subject.
    """

    DEFAULT_CSS = dialog_css("CallScreen")
    close_label = "Hang up"

    def __init__(self, number: str, *, video: bool = False, subject: str | None = None) -> None:
        body = Text(("\U0001f4f9 " if video else "\U0001f4de ") + sanitize(number, max_length=40))
        body.stylize("bold")
        if subject:
            body.append(f"\nSubject: {sanitize(subject, max_length=60)}")
        kind = "video call" if video else "call"
        body.append(
            f"\n\nThis {kind} is emulated: a terminal has no {'camera or ' if video else ''}"
            "microphone, and no call is placed.",
            style="dim",
        )
        super().__init__(f"Calling\u2026 ({kind})", body)


class LocationScreen(_Panel):
    """A place a chatbot wants to show.

    Args:
        action: the ``showLocation`` action.
    """

    DEFAULT_CSS = dialog_css("LocationScreen")

    def __init__(self, action: ShowLocation) -> None:
        body = Text("\U0001f4cd ")
        body.append(sanitize(action.label or action.query or "Location", max_length=100), "bold")
        if action.latitude is not None and action.longitude is not None:
            body.append(f"\nlatitude {action.latitude:.6f}, longitude {action.longitude:.6f}")
            if action.looks_swapped:
                body.append("\nThe coordinates look swapped (latitude/longitude).", "yellow")
        elif action.query:
            body.append(f"\nsearch: {sanitize(action.query, max_length=200)}")
        self.link = location_link(action)
        if self.link is not None:
            body.append("\n\n" + self.link, style="underline")
        super().__init__("Show location", body)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Copy map link", id="copy", disabled=self.link is None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy" and self.link is not None:
            self.app.copy_to_clipboard(self.link)
            self.notify("Map link copied to the clipboard.")
        else:
            super().on_button_pressed(event)


class InfoScreen(_Panel):
    """A note about what an action did (or cannot do) in a terminal.

    Args:
        title: the heading.
        body: the note (already safe ``Text``).
    """

    DEFAULT_CSS = dialog_css("InfoScreen")
