"""The TUI's screens and dialogs; layout across widgets lives in ``app.tcss``."""
