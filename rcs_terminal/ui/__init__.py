"""The Textual TUI: the messaging app of the emulated handset.

The app (:mod:`.app`) talks to a handset only through the port (:mod:`.port`); the fake
handset (:mod:`.fake_handset`) stands behind it in tests and ``rcs-terminal tui --fake``,
the real engine's adapter will later. Card, carousel and chip drawing comes from
:mod:`rcs_terminal.render`; network text is always sanitised. Nothing here is imported by
the headless layers (an import-linter contract checks it).
"""
