"""From a stored message to what the matchers compare: decoding and linting.

:func:`observe` turns a :class:`~rcs_terminal.domain.message.StoredMessage` into an
:class:`~rcs_terminal.scenario.matchers.ObservedMessage` with the shared content decoder
(:func:`rcs_terminal.domain.content.describe`, the same one ``listen`` and the TUI use) and,
when asked, the payload linter (:func:`rcs_terminal.lint.lint_payload`) under the limits of
the receiving SIM's operator. Linting never fails a message by itself: the findings are kept
and the scenario's ``lint.fail_on`` decides.
"""

from __future__ import annotations

from rcs_terminal.domain.content import describe
from rcs_terminal.domain.message import StoredMessage
from rcs_terminal.domain.profile import Sim
from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.lint import Finding, lint_payload
from rcs_terminal.scenario.matchers import ObservedMessage

__all__ = ["lint_operator", "lint_text", "observe"]

_OPERATOR_CODES = {"CMCC": "cmcc", "CU": "cu", "CT": "ct"}
_NOT_LINTED = ("text/plain", "message/imdn", "application/im-iscomposing")


def lint_operator(sim: Sim | None, wanted: str = "auto") -> str:
    """The linter's operator profile: ``wanted``, or the SIM's operator for ``auto``."""
    if wanted != "auto":
        return wanted
    known = sim.known_operator if sim is not None else None
    return _OPERATOR_CODES.get(known.code, "gsma") if known is not None else "gsma"


def lint_text(content_type: str, body: bytes, operator: str) -> list[Finding]:
    """Lint one received body; an unreadable payload is one error finding."""
    base = content_type.split(";", 1)[0].strip().lower()
    if base.startswith(_NOT_LINTED) or not body:
        return []
    try:
        return lint_payload(body, operator=operator, content_type=content_type)
    except (RcsTerminalError, ValueError) as exc:
        return [Finding("$", "payload.unreadable", "error", str(exc)[:200])]


def observe(
    message: StoredMessage, *, lint: str | None = None, sim: Sim | None = None
) -> ObservedMessage:
    """Decode (and optionally lint) a stored message.

    Args:
        message: the message as stored.
        lint: the operator profile to lint with (``auto``: from ``sim``), or None.
        sim: the SIM it arrived on (for ``auto``).
    """
    content = describe(message.content_type, message.body)
    findings: list[Finding] = []
    if lint is not None:
        findings = lint_text(message.content_type, message.body, lint_operator(sim, lint))
    text = content.text
    if text is None and content.card is not None:
        text = content.card.content.title or content.card.content.description
    return ObservedMessage(
        message_id=message.message_id,
        sender=message.peer_uri,
        sim=message.sim,
        content_type=message.content_type,
        kind=content.kind,
        text=text,
        card=content.card,
        carousel=content.carousel,
        chips=tuple(content.suggestions),
        traffic_type=message.traffic_type,
        technology=str(message.technology.value) if message.technology else None,
        file=content.file,
        location=content.location,
        response=content.response,
        findings=tuple(str(f) for f in findings),
        lint_errors=sum(1 for f in findings if f.is_error),
    )
