"""``rcs-terminal lint``: lint files, print the findings, and decide the exit code.

Exit codes (:class:`~rcs_terminal.exit_codes.ExitCode`):

- 0: no errors in any file (warnings are printed but allowed);
- 1: at least one error, or, with ``--strict``, at least one warning;
- 2: a file could not be read or its content was not recognised as a payload (the other
  files are still linted and reported).

Text output gives one header line per file and one line per finding; ``--json`` prints one
JSON array with an object per file: ``{"file", "content_type", "operator", "error",
"findings": [{"path", "rule", "severity", "message", "limit"}, ...]}``. Everything printed
is sanitised: payload text quoted in a finding can hold escape sequences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcs_terminal.errors import ParseError
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.lint.findings import Finding, has_errors
from rcs_terminal.lint.linter import lint_opened
from rcs_terminal.lint.operators import operator_limits
from rcs_terminal.render.payload import open_payload
from rcs_terminal.render.sanitize import sanitize

_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060\u2066-\u2069\ufeff]"
)
"""Characters ``json.dumps(ensure_ascii=False)`` leaves raw that a terminal may act on."""


@dataclass(frozen=True)
class FileReport:
    """The outcome of linting one file.

    Attributes:
        file: the file name as given.
        operator: the operator profile used.
        content_type: what the file was read as (``None`` when unreadable).
        findings: the findings, in document order.
        error: why the file could not be linted, or ``None``.
    """

    file: str
    operator: str
    content_type: str | None = None
    findings: tuple[Finding, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "file": self.file,
            "content_type": self.content_type,
            "operator": self.operator,
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
        }


def lint_file(path: str, *, operator: str = "gsma", content_type: str | None = None) -> FileReport:
    """Lint one file; an unreadable or unrecognised file gives a report with ``error``."""
    limits = operator_limits(operator)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return FileReport(path, limits.name, error=f"cannot read: {exc.strerror or exc}")
    try:
        payload = open_payload(data, content_type)
    except ParseError as exc:
        return FileReport(path, limits.name, error=exc.message)
    findings = tuple(lint_opened(payload, limits))
    return FileReport(path, limits.name, str(payload.content_type), findings)


def exit_code(reports: Sequence[FileReport], *, strict: bool = False) -> ExitCode:
    """The command's exit code for these reports (see the module docstring)."""
    if any(r.error is not None for r in reports):
        return ExitCode.INVALID_INPUT
    findings = [f for r in reports for f in r.findings]
    if has_errors(findings) or (strict and findings):
        return ExitCode.FAILED
    return ExitCode.OK


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def format_text(report: FileReport) -> str:
    """The report as text: a header line, then one line per finding."""
    name = sanitize(report.file)
    if report.error is not None:
        return f"{name}: unreadable: {sanitize(report.error)}"
    errors = sum(1 for f in report.findings if f.is_error)
    warnings = len(report.findings) - errors
    summary = (
        "ok" if not report.findings else f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    )
    lines = [
        f"{name}: {summary} ({sanitize(report.content_type or '?')}, operator {report.operator})"
    ]
    for f in report.findings:
        limit = f" (limit {f.limit})" if f.limit else ""
        lines.append(
            sanitize(f"  {f.severity:<7} {f.rule}  {f.path}: {f.message}{limit}", max_length=2000)
        )
    return "\n".join(lines)


def format_json(reports: Sequence[FileReport]) -> str:
    """Every report as one JSON array (non-ASCII kept, control characters escaped)."""
    text = json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
