"""Reading and writing the small UP XML documents (FT-HTTP descriptor, geolocation push).

Reading goes through :func:`rcs_terminal.protocol.xmlsafe.parse_xml` (size limit, no DTDs
or entities) and turns its errors into :class:`~rcs_terminal.errors.PayloadParseError`,
the one error type of ``protocol.up``.

The builders assemble their documents as text, which keeps namespace prefixes exactly as
UP examples use them (ElementTree would need process-global prefix registration). This
module escapes text and attribute values so that parsing gives back the same strings,
and refuses characters XML 1.0 cannot carry at all.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rcs_terminal.errors import LocalProtocolError, PayloadParseError, XmlParseError
from rcs_terminal.protocol.xmlsafe import Element, parse_xml

_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


def parse(data: bytes | str) -> Element:
    """Parse a UP XML document safely.

    Raises:
        PayloadParseError: when it is oversized, malformed or uses DTDs/entities.
    """
    try:
        return parse_xml(data)
    except XmlParseError as exc:
        raise PayloadParseError(exc.reason, where=exc.where) from None


def _checked(value: str) -> str:
    bad = _NOT_XML_CHAR.search(value)
    if bad is not None:
        raise LocalProtocolError(f"character U+{ord(bad.group()):04X} cannot be sent in XML")
    return value


def text(value: str) -> str:
    """Escape ``value`` for element content.

    Raises:
        LocalProtocolError: when it holds a character XML 1.0 forbids.
    """
    return _checked(value).translate(_TEXT)


def attr(value: str) -> str:
    """Escape ``value`` for a double-quoted attribute, whitespace preserved.

    Raises:
        LocalProtocolError: when it holds a character XML 1.0 forbids.
    """
    return _checked(value).translate(_ATTR)


def decimal(value: float) -> str:
    """Format a float positionally (no exponent) with the digits that round-trip it."""
    text_form = format(Decimal(repr(value)), "f")
    return text_form[:-2] if text_form.endswith(".0") else text_form
