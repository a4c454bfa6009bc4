"""rcs-terminal: a terminal-side 5G Message (GSMA RCS UP 2.4) handset emulator.

This module holds the version only; importing the package pulls in no front end.
"""

__version__ = "0.1.0"
