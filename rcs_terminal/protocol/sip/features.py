"""RFC 3840 feature tags in Contact and Accept-Contact parameters (and RFC 3841).

RCS announces what a client can do with feature tags on its Contact (REGISTER, OPTIONS and
its 200, INVITE) and asks for a capability with Accept-Contact (GSMA RCC.07, UP 2.4):

    Contact: <sip:+8613800000001@192.0.2.7:5060;transport=tcp>
      ;+sip.instance="<urn:gsma:imei:86000000-000001-0>"
      ;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"
      ;+g.gsma.rcs.botversion="#=1,#=2";+g.gsma.rcs.cpm.pager-large
    Accept-Contact: *
      ;+g.3gpp.iari-ref="urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.chatbot.sa"
      ;require;explicit

(folded here for reading; on the wire each header is one line).

A feature tag is a parameter whose name starts with ``+`` (``+g.``, ``+sip.``) or one of the
base tags of RFC 3840 §10 written without the ``sip.`` prefix (``audio``, ``video``,
``automata``, ``isfocus``...). Its value is absent (a boolean ``TRUE``, e.g.
``+g.gsma.rcs.isbot``), or a quoted list of comma-separated values (§9,
``tag-value-list``), or a quoted ``<string-value>``. ICSI and IARI URNs contain ``:``,
which 3GPP TS 24.229 §7.2A.8 requires to be percent-encoded inside the quotes.

The ``require`` and ``explicit`` flags of Accept-Contact (RFC 3841 §9.2) and the ordinary
Contact parameters (``expires``, ``q``, ``reg-id``...) are not feature tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.sip.grammar import is_token, pct_decode, unquote
from rcs_terminal.protocol.sip.params import Params

__all__ = ["BASE_TAGS", "feature_tags", "format_feature_tags"]

BASE_TAGS = frozenset(
    {
        "actor",
        "application",
        "audio",
        "automata",
        "class",
        "control",
        "data",
        "description",
        "duplex",
        "events",
        "extensions",
        "isfocus",
        "language",
        "methods",
        "mobility",
        "priority",
        "schemes",
        "text",
        "type",
        "video",
    }
)
"""Base feature tags of RFC 3840 §10 (and RFC 4235 ``isfocus``), as Contact parameters."""

_URN_TAG_SUFFIXES = ("icsi-ref", "iari-ref")
_ALWAYS_ENCODED = {"%": "%25", '"': "%22", ",": "%2C", "\\": "%5C", "<": "%3C", ">": "%3E"}


def feature_tags(params: Params) -> dict[str, list[str] | None]:
    """Read the feature tags of a Contact or Accept-Contact value.

    Args:
        params: the header parameters (``NameAddr.params``).

    Returns:
        Lower-case tag names mapped to their values, unquoted, split on commas and
        percent-decoded; ``None`` for a tag without a value. A ``<string-value>`` is kept
        whole, angle brackets included.

    Raises:
        SipParseError: when a percent-escape decodes to bytes that are not UTF-8.
    """
    tags: dict[str, list[str] | None] = {}
    for name, raw in params.wire_items():
        key = name.lower()
        if key in tags or not (key.startswith("+") or key in BASE_TAGS):
            continue
        if raw is None:
            tags[key] = None
            continue
        inner = unquote(raw)
        if len(inner) >= 2 and inner[0] == "<" and inner[-1] == ">":
            tags[key] = [inner]
            continue
        where = f"feature tag {name}"
        tags[key] = [pct_decode(item, where=where, strict=False) for item in inner.split(",")]
    return tags


def format_feature_tags(tags: Mapping[str, Sequence[str] | None]) -> str:
    """Write feature tags as header parameters, the inverse of :func:`feature_tags`.

    Each parameter is written with its leading ``;`` (append the result to a Contact or to
    ``*`` for an Accept-Contact). Values are quoted and comma-joined; ``%``, ``"``, ``,``,
    ``\\``, angle brackets and control characters are percent-encoded, and so is ``:`` in
    ICSI/IARI URNs (``urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg``). A single value
    written as ``<...>`` (like ``+sip.instance``) is kept as a string-value.

    Args:
        tags: tag names mapped to a list of values, or to ``None`` for a boolean tag.

    Returns:
        The parameters, e.g. ``;+g.gsma.rcs.isbot;+g.gsma.rcs.botversion="#=1,#=2"``.

    Raises:
        LocalProtocolError: for a name that is not a token or an empty list of values.
    """
    pieces = []
    for name, values in tags.items():
        if not is_token(name):
            raise LocalProtocolError(f"feature tag name {name!r} is not a token")
        if values is None:
            pieces.append(f";{name}")
            continue
        if isinstance(values, str) or not values:
            raise LocalProtocolError(f"feature tag {name} needs a non-empty list of values")
        if len(values) == 1 and _is_string_value(values[0]):
            pieces.append(f';{name}="{values[0]}"')
            continue
        encode_colon = name.lower().endswith(_URN_TAG_SUFFIXES)
        encoded = ",".join(_encode_value(value, encode_colon) for value in values)
        pieces.append(f';{name}="{encoded}"')
    return "".join(pieces)


def _is_string_value(value: str) -> bool:
    return (
        len(value) >= 2
        and value[0] == "<"
        and value[-1] == ">"
        and not any(char in '"\\<>' for char in value[1:-1])
        and value.isprintable()
    )


def _encode_value(value: str, encode_colon: bool) -> str:
    pieces = []
    for char in value:
        if char in _ALWAYS_ENCODED:
            pieces.append(_ALWAYS_ENCODED[char])
        elif char == ":" and encode_colon:
            pieces.append("%3A")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            pieces.append(f"%{ord(char):02X}")
        else:
            pieces.append(char)
    return "".join(pieces)
