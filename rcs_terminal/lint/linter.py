"""The payload linter: every rule over every part of a payload, as a list of findings.

:func:`lint_payload` opens a body (:func:`~rcs_terminal.render.payload.open_payload`:
a UP JSON/XML document, a ``multipart/mixed`` body, a whole CPIM message), then for each
node of the tree:

- a part that failed to parse gives one ``payload.malformed`` error at the parser's path
  (structure the UP schema requires: exactly one action object, card XOR carousel...);
- the parser's own warnings (unknown and placeholder keys, missing file sizes, swapped
  coordinates, lowercase enums...) become ``parse.<code>`` warnings
  (``parse.unknown-key``, ``parse.coordinates-swapped``...);
- the document's rules run (:mod:`.rules`, :mod:`.suggestion_rules`) with the operator's
  limits (:mod:`.operators`);
- multipart and CPIM wrappers get their own few rules (below).

Paths inside wrappers are prefixed with the node's place: ``body:part[1]:$.suggestions[0]``.

=================================== ========= ==============================================
rule                                severity  checks
=================================== ========= ==============================================
``payload.malformed``               error     the part parses
``parse.<code>``                    warning   noise the parser tolerated
``multipart.chips.position``        warning   the chip list is the last part
``multipart.chips.count``           warning   at most one chip list
``multipart.content.missing``       warning   a content part precedes the chip list
``cpim.traffic-type``               warning   a known ``maap.Traffic-Type``
``cpim.note``                       warning   CPIM leniencies (Content-Length mismatch)
``response.display-text.length``    error     a response's ``displayText`` 1..25 characters
``shared.length``                   warning   device-specifics lengths (schema)
=================================== ========= ==============================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from rcs_terminal.lint.checks import length
from rcs_terminal.lint.findings import Finding, error, quoted, warning
from rcs_terminal.lint.media_rules import check_fthttp
from rcs_terminal.lint.operators import OperatorLimits, operator_limits
from rcs_terminal.lint.rules import check_botinfo, check_botmessage, check_geopush, check_text
from rcs_terminal.lint.suggestion_rules import check_chip_list, check_menu
from rcs_terminal.protocol.cpim import CpimMessage
from rcs_terminal.protocol.mime import ContentType
from rcs_terminal.protocol.up import contenttypes
from rcs_terminal.protocol.up.botinfo import BotInfo
from rcs_terminal.protocol.up.botmessage import BotMessage
from rcs_terminal.protocol.up.fthttp import FileTransferInfo
from rcs_terminal.protocol.up.geopush import LocationPush
from rcs_terminal.protocol.up.menu import Menu
from rcs_terminal.protocol.up.sharedclientdata import DeviceSpecifics
from rcs_terminal.protocol.up.suggestions import ChipList, SuggestionResponse
from rcs_terminal.render.payload import Payload, open_payload

TRAFFIC_TYPES = frozenset(
    {
        "advertisement",
        "payment",
        "premium",
        "subscription",
        "plugin",
        "advertisement-filtered",
        "filtered",
    }
)
"""``maap.Traffic-Type`` values seen in UP and operator specifications (formats.md §7)."""

_CONTENT_TYPES = frozenset(
    {
        contenttypes.TEXT_PLAIN,
        contenttypes.BOTMESSAGE,
        contenttypes.FTHTTP,
        contenttypes.GEOPUSH,
    }
)
_SHARED_LENGTHS = (
    ("deviceModel", "device_model", 10),
    ("platformVersion", "platform_version", 20),
    ("clientVendor", "client_vendor", 4),
    ("clientVersion", "client_version", 15),
)


def lint_payload(
    data: bytes, *, operator: str = "gsma", content_type: str | ContentType | None = None
) -> list[Finding]:
    """Lint a payload body against the UP schema and ``operator``'s limits.

    Args:
        data: the body: a UP JSON or XML document, a multipart body, a CPIM message.
        operator: ``gsma``, ``cmcc``, ``cu`` or ``ct`` (see :mod:`.operators`).
        content_type: the body's content type (a ``Content-Type`` value or a short name
            such as ``chips``); sniffed from the content when ``None``.

    Returns:
        The findings, in document order (an unsupported content type gives none).

    Raises:
        PayloadParseError: when ``content_type`` is ``None`` and the content is not
            recognised, or the body exceeds the size limit.
        ValueError: for an unknown operator.
    """
    limits = operator_limits(operator)
    return lint_opened(open_payload(data, content_type), limits)


def lint_opened(payload: Payload, limits: OperatorLimits) -> list[Finding]:
    """Lint a payload that :func:`~rcs_terminal.render.payload.open_payload` opened."""
    findings: list[Finding] = []
    for node in payload.walk():
        for finding in _node(node, limits):
            if node.where:
                finding = dataclasses.replace(finding, path=node.locate(finding.path))
            findings.append(finding)
    return findings


def _node(node: Payload, limits: OperatorLimits) -> Iterator[Finding]:
    if node.error is not None:
        where = node.error.where
        yield error("$" if where is None else str(where), "payload.malformed", node.error.reason)
        return
    model = node.model
    for item in getattr(model, "warnings", ()):
        yield warning(item.path, f"parse.{item.code}", item.message)
    if isinstance(model, BotMessage):
        yield from check_botmessage(model, limits)
    elif isinstance(model, ChipList):
        yield from check_chip_list(model, limits)
    elif isinstance(model, Menu):
        yield from check_menu(model, limits)
    elif isinstance(model, BotInfo):
        yield from check_botinfo(model, limits)
    elif isinstance(model, FileTransferInfo):
        yield from check_fthttp(model, limits)
    elif isinstance(model, LocationPush):
        yield from check_geopush(model, limits)
    elif isinstance(model, str):
        yield from check_text(model, limits)
    elif isinstance(model, SuggestionResponse):
        path = f"$.response.{model.response_type}.displayText"
        yield from length(
            path, "response.display-text.length", model.display_text, 1, 25, "displayText"
        )
    elif isinstance(model, DeviceSpecifics):
        yield from _shared(model)
    elif isinstance(model, CpimMessage):
        yield from _cpim(model)
    elif node.content_type.is_multipart:
        yield from _multipart(node)


def _shared(specifics: DeviceSpecifics) -> Iterator[Finding]:
    for key, attribute, high in _SHARED_LENGTHS:
        value = getattr(specifics, attribute)
        path = f"$.sharedData.deviceSpecifics.{key}"
        yield from length(path, "shared.length", value, 1, high, key, severity="warning")


def _cpim(message: CpimMessage) -> Iterator[Finding]:
    traffic = message.traffic_type
    if traffic is not None and traffic not in TRAFFIC_TYPES:
        yield warning(
            "maap.Traffic-Type",
            "cpim.traffic-type",
            f"unknown traffic type {quoted(traffic)}",
            ", ".join(sorted(TRAFFIC_TYPES)),
        )
    for note in message.notes:
        yield warning("Content-Length", "cpim.note", note)


def _multipart(node: Payload) -> Iterator[Finding]:
    types = [part.media_type for part in node.parts]
    chips = [i for i, media_type in enumerate(types) if media_type == contenttypes.BOTSUGGESTION]
    if len(chips) > 1:
        yield warning(
            f"part[{chips[1]}]",
            "multipart.chips.count",
            f"{len(chips)} chip lists in one message",
            "one chip list",
        )
    if chips and chips[-1] != len(types) - 1:
        yield warning(
            f"part[{chips[-1]}]",
            "multipart.chips.position",
            "the chip list is not the last part",
            "content first, chip list last",
        )
    if chips and not any(t in _CONTENT_TYPES for t in types):
        yield warning(
            "part[0]",
            "multipart.content.missing",
            "a chip list without a content part (text, card, file or location)",
        )
