"""The composer: the text field at the bottom of a chat, with the persistent-menu button.

Enter sends (:class:`Composer.Submitted`); the ``☰`` button (or F3) opens the chatbot's
persistent menu (:class:`Composer.MenuRequested`) and is shown only when the chatbot has
one. Typing posts :class:`Composer.Typing` when the user starts and stops, for the
is-composing indication (RFC 3994): *active* on the first key, *idle* after
:data:`IDLE_AFTER` seconds without one, or when the text is sent or cleared.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Input

from rcs_terminal.ui.widgets.text_field import TextField

IDLE_AFTER = 5.0
"""Seconds without a key press after which the user counts as no longer typing."""


class Composer(Horizontal):
    """Text field, send button and persistent-menu button.

    Args:
        placeholder: the hint shown in the empty field (e.g. the sending SIM).
    """

    DEFAULT_CSS = """
    Composer {
        height: 3;
        width: 1fr;
        padding: 0 1;
    }
    Composer > TextField {
        width: 1fr;
    }
    Composer > Button {
        min-width: 8;
        width: auto;
    }
    Composer > #menu-button {
        display: none;
    }
    Composer.-has-menu > #menu-button {
        display: block;
    }
    """

    class Submitted(Message):
        """The user sent ``text``.

        Attributes:
            text: what was typed (not empty).
        """

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class MenuRequested(Message):
        """The user wants the persistent menu."""

    class Typing(Message):
        """The user started (``active``) or stopped typing.

        Attributes:
            active: typing now.
        """

        def __init__(self, active: bool) -> None:
            super().__init__()
            self.active = active

    def __init__(self, placeholder: str = "Message", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._placeholder = placeholder
        self._typing = False
        self._idle_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Menu button, text field, send button."""
        yield Button("\u2630", id="menu-button", tooltip="Persistent menu (F3)")
        yield TextField(placeholder=self._placeholder, id="composer-input")
        yield Button("Send", id="send-button", variant="primary")

    @property
    def field(self) -> TextField:
        """The text field."""
        return self.query_one(TextField)

    def set_menu(self, available: bool) -> None:
        """Show or hide the persistent-menu button."""
        self.set_class(available, "-has-menu")

    def set_placeholder(self, text: str) -> None:
        """Change the hint of the empty field."""
        self._placeholder = text
        if self.is_mounted:
            self.field.placeholder = text

    def prefill(self, text: str) -> None:
        """Put ``text`` in the field (a ``composeTextMessage`` action) and focus it."""
        field = self.field
        field.value = text
        field.cursor_position = len(text)
        field.focus()

    def _submit(self) -> None:
        field = self.field
        text = field.value.strip()
        if not text:
            return
        field.value = ""
        self._set_typing(False)
        self.post_message(self.Submitted(text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter sends."""
        event.stop()
        self._submit()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Track typing for the is-composing indication."""
        event.stop()
        if not event.value:
            self._set_typing(False)
            return
        self._set_typing(True)
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(IDLE_AFTER, lambda: self._set_typing(False))

    def _set_typing(self, active: bool) -> None:
        if active == self._typing:
            return
        self._typing = active
        if not active and self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        self.post_message(self.Typing(active))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Send, or open the menu."""
        event.stop()
        if event.button.id == "send-button":
            self._submit()
        elif event.button.id == "menu-button":
            self.post_message(self.MenuRequested())
