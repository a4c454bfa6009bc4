"""Modal dialogs: OTP entry, operator terms, consent, sharing a location, errors, confirms.

Each dialog is a :class:`~textual.screen.ModalScreen` that dismisses with its answer, so
the caller decides what happens next (``push_screen(dialog, callback)``). Text that comes
from the network or a config server (terms, chatbot names) is sanitised and drawn as
``rich.text.Text``; Escape always means "no".

- :class:`OtpDialog`: the config server sent a one-time password by SMS (RCC.14 §2.3.3);
  dismisses with the code or ``None``.
- :class:`TermsDialog`: the ``MSG`` characteristic of a provisioning document; dismisses
  with ``True`` (accept), ``False`` (reject) or ``None`` (no answer).
- :class:`ConsentDialog`: may a chatbot have the device specifics, or change a setting?
- :class:`LocationDialog`: which location to push (coordinates and a label).
- :class:`ErrorDialog`: the one place errors are shown, with their title and hint.
- :class:`ConfirmDialog`: a yes/no question (opening a URL in the browser).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from rcs_terminal.render.sanitize import sanitize
from rcs_terminal.ui.widgets.text_field import TextField

DIALOG_CSS = """
{name} {{
    align: center middle;
    background: $background 60%;
}}
{name} > Vertical {{
    width: 64;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: thick $accent;
    background: $surface;
    padding: 1 2;
}}
{name} .dialog--title {{
    text-style: bold;
    width: 1fr;
    margin-bottom: 1;
}}
{name} .dialog--body {{
    height: auto;
    max-height: 16;
    margin-bottom: 1;
}}
{name} .dialog--buttons {{
    height: auto;
    align-horizontal: right;
}}
{name} .dialog--buttons > Button {{
    margin-left: 2;
}}
{name} TextField {{
    margin-bottom: 1;
}}
"""


def dialog_css(name: str) -> str:
    """The shared dialog look, for the dialog class ``name``."""
    return DIALOG_CSS.format(name=name)


class _Dialog(ModalScreen[object]):
    """Title, body, buttons; Escape answers ``None`` unless a subclass says otherwise."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    cancel_result: object = None

    def __init__(self, title: str, body: RenderableType | None = None) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title), classes="dialog--title")
            if self._body is not None:
                with VerticalScroll(classes="dialog--body"):
                    yield Static(self._body)
            yield from self.compose_fields()
            with Horizontal(classes="dialog--buttons"):
                yield from self.compose_buttons()

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def compose_buttons(self) -> ComposeResult:
        yield Button("OK", id="ok", variant="primary")

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_result)


class OtpDialog(_Dialog):
    """Ask for the one-time password the config server sent by SMS.

    Args:
        slot: the SIM being provisioned.
        msisdn: where the SMS went, when known.
    """

    DEFAULT_CSS = dialog_css("OtpDialog")

    def __init__(self, slot: int, msisdn: str | None = None) -> None:
        where = f" to {sanitize(msisdn, max_length=24)}" if msisdn else ""
        body = Text(f"The configuration server sent a one-time password by SMS{where}.")
        super().__init__(f"SIM{slot}: enter the one-time password", body)
        self.slot = slot

    def compose_fields(self) -> ComposeResult:
        yield TextField(placeholder="code from the SMS", id="otp", max_length=32)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Cancel", id="cancel")
        yield Button("Submit", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#otp", TextField).focus()

    def _submit(self) -> None:
        code = self.query_one("#otp", TextField).value.strip()
        if code:
            self.dismiss(code)

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self._submit()
        else:
            self.dismiss(None)


class TermsDialog(_Dialog):
    """Show the provisioning ``MSG`` terms with the buttons the server asked for.

    Args:
        slot: the SIM concerned.
        title: the terms' title (from the server: sanitised).
        message: the terms' text (sanitised, several lines).
        accept: show an Accept button.
        reject: show a Reject button.
    """

    DEFAULT_CSS = dialog_css("TermsDialog")

    def __init__(self, slot: int, title: str, message: str, *, accept: bool, reject: bool) -> None:
        heading = f"SIM{slot}: {sanitize(title, max_length=80) or 'Terms and conditions'}"
        super().__init__(heading, Text(sanitize(message, multiline=True)))
        self.accept = accept
        self.reject = reject

    def compose_buttons(self) -> ComposeResult:
        if self.reject:
            yield Button("Reject", id="reject", variant="error")
        if self.accept:
            yield Button("Accept", id="accept", variant="success")
        if not (self.accept or self.reject):
            yield Button("OK", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id in ("accept", "ok"))


class ConsentDialog(_Dialog):
    """Ask the user's consent (device specifics, settings); dismisses with a bool.

    Args:
        title: the question.
        body: what would be shared or changed.
        accept_label: the label of the yes button.
    """

    DEFAULT_CSS = dialog_css("ConsentDialog")
    cancel_result = False

    def __init__(self, title: str, body: RenderableType, *, accept_label: str = "Allow") -> None:
        super().__init__(title, body)
        self.accept_label = accept_label

    def compose_buttons(self) -> ComposeResult:
        yield Button("Deny", id="deny")
        yield Button(self.accept_label, id="allow", variant="success")

    def on_mount(self) -> None:
        self.query_one("#deny", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "allow")


class LocationDialog(_Dialog):
    """Ask which location to push to a chatbot (``requestLocationPush``).

    Dismisses with ``(latitude, longitude, label)`` or ``None``.

    Args:
        requester: who asks (sanitised).
        latitude: the proposed latitude.
        longitude: the proposed longitude.
        label: the proposed label.
    """

    DEFAULT_CSS = dialog_css("LocationDialog")

    def __init__(self, requester: str, latitude: float, longitude: float, label: str) -> None:
        body = Text(f"{sanitize(requester, max_length=60)} asks for your location. ")
        body.append("The emulator has no GPS: edit the place to share.", style="dim")
        super().__init__("Share your location?", body)
        self._defaults = (latitude, longitude, label)

    def compose_fields(self) -> ComposeResult:
        latitude, longitude, label = self._defaults
        yield TextField(f"{latitude:.6f}", placeholder="latitude", id="latitude")
        yield TextField(f"{longitude:.6f}", placeholder="longitude", id="longitude")
        yield TextField(label, placeholder="label", id="label", max_length=100)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Deny", id="deny")
        yield Button("Share", id="share", variant="success")

    def _value(self) -> tuple[float, float, str | None] | None:
        try:
            latitude = float(self.query_one("#latitude", TextField).value)
            longitude = float(self.query_one("#longitude", TextField).value)
        except ValueError:
            self.notify("Latitude and longitude must be numbers.", severity="error")
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.notify("Latitude is -90..90 and longitude -180..180.", severity="error")
            return None
        label = self.query_one("#label", TextField).value.strip() or None
        return latitude, longitude, label

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "deny":
            self.dismiss(None)
            return
        value = self._value()
        if value is not None:
            self.dismiss(value)


class ErrorDialog(_Dialog):
    """An error with its title and hint (the one place the TUI shows errors).

    Args:
        title: the error's title.
        message: what went wrong.
        hint: what the user can do, if anything.
    """

    DEFAULT_CSS = (
        dialog_css("ErrorDialog")
        + """
    ErrorDialog > Vertical { border: thick $error; }
    """
    )

    def __init__(self, title: str, message: str, hint: str | None = None) -> None:
        body = Text(sanitize(message, multiline=True))
        if hint:
            body.append("\n\n")
            body.append(sanitize(hint, multiline=True), style="dim")
        super().__init__(title, body)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)


class ConfirmDialog(_Dialog):
    """A yes/no question; dismisses with a bool (Escape: ``False``).

    Args:
        title: the question.
        body: details.
        yes: the yes button's label.
    """

    DEFAULT_CSS = dialog_css("ConfirmDialog")
    cancel_result = False

    def __init__(self, title: str, body: RenderableType | None = None, *, yes: str = "Yes") -> None:
        super().__init__(title, body)
        self.yes = yes

    def compose_buttons(self) -> ComposeResult:
        yield Button("No", id="no")
        yield Button(self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
