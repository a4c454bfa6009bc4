"""A text input whose cursor blinks only when the app allows it.

Snapshot tests need a steady cursor; :class:`TextField` asks the app
(``RcsTerminalApp.cursor_blink``) once mounted, so no test has to patch Textual.
"""

from __future__ import annotations

from textual.widgets import Input


class TextField(Input):
    """An :class:`~textual.widgets.Input` that follows the app's cursor-blink setting."""

    def on_mount(self) -> None:
        """Adopt the app's blink setting."""
        self.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
