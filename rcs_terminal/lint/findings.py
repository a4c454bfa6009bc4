"""What the payload linter reports: one :class:`Finding` per broken rule.

A finding names the place (a JSON path such as
``$.message.generalPurposeCardCarousel.content[2].title``, an XML element path, or a
nested location like ``body:part[1]:$.suggestions[0]`` inside a CPIM/multipart message),
the rule by a stable identifier (``card.title.length``: scripts and scenario assertions
match on it, so identifiers never change meaning), an ``error`` or ``warning`` severity, a
sentence for humans and, where a number is involved, the limit (``"1..200 characters"``).

Errors break the UP schema or an operator's hard limit: a platform or a phone may refuse
or mangle the message. Warnings are what real platforms tolerate but should not be relied
on: noise the parser accepted, limits only some platforms enforce, things a Chinese
terminal may not render.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule.

    Attributes:
        path: where: a JSON path, an XML path or a nested location.
        rule: the stable rule identifier, e.g. ``"card.title.length"``.
        severity: ``"error"`` or ``"warning"``.
        message: what is wrong, for humans (values quoted with ``repr``, never raw).
        limit: the limit broken, e.g. ``"1..25 characters"``, or ``None``.
    """

    path: str
    rule: str
    severity: Severity
    message: str
    limit: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether this finding is an error (not a warning)."""
        return self.severity == "error"

    def to_dict(self) -> dict[str, str | None]:
        """The finding as a JSON object (the ``--json`` output's shape)."""
        return {
            "path": self.path,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "limit": self.limit,
        }

    def __str__(self) -> str:
        limit = f" (limit {self.limit})" if self.limit else ""
        return f"{self.severity}: {self.path}: {self.message}{limit} [{self.rule}]"


def quoted(value: str, limit: int = 60) -> str:
    """``value`` quoted for a message: ``repr`` (control characters escaped), cut to
    ``limit`` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "\u2026")


def error(path: str, rule: str, message: str, limit: str | None = None) -> Finding:
    """An error finding."""
    return Finding(path, rule, "error", message, limit)


def warning(path: str, rule: str, message: str, limit: str | None = None) -> Finding:
    """A warning finding."""
    return Finding(path, rule, "warning", message, limit)


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is an error."""
    return any(f.is_error for f in findings)
