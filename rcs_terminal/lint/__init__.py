"""The UP payload linter: checks chatbot payloads against the GSMA UP 2.4 schemas and the
limits of an operator profile (formats.md §1-§10).

- :func:`lint_payload` (:mod:`.linter`): bytes in, a list of :class:`Finding` out; the
  scenario runner calls it on every received payload, ``rcs-terminal lint`` on files;
- :mod:`.rules` and :mod:`.suggestion_rules`: the rules, with their stable identifiers;
- :mod:`.operators`: ``gsma``, ``cmcc``, ``cu``, ``ct`` limits;
- :mod:`.report`: the command's text and JSON output.
"""

from rcs_terminal.lint.findings import Finding, Severity, has_errors
from rcs_terminal.lint.linter import lint_opened, lint_payload
from rcs_terminal.lint.operators import OPERATORS, OperatorLimits, operator_limits

__all__ = [
    "OPERATORS",
    "Finding",
    "OperatorLimits",
    "Severity",
    "has_errors",
    "lint_opened",
    "lint_payload",
    "operator_limits",
]
