"""Safe parsing of XML from the network.

Every XML document that arrives from a peer or a server (IMDN, is-composing, FT-HTTP
descriptors, geolocation push, reg-event NOTIFY bodies, provisioning documents) goes through
:func:`parse_xml`. It refuses oversized documents before parsing and uses defusedxml with
DTDs, entity declarations and external references all forbidden, so "billion laughs" and
external-entity tricks are refused rather than expanded. Every failure becomes the caller's
:class:`~rcs_terminal.errors.XmlParseError` subclass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only for the Element type; parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

from rcs_terminal.errors import XmlParseError
from rcs_terminal.protocol import limits

Element = ET.Element


def parse_xml(
    data: bytes | str,
    *,
    error: type[XmlParseError] = XmlParseError,
    max_size: int = limits.MAX_XML,
) -> ET.Element:
    """Parse ``data`` into an element tree, refusing anything unsafe.

    Args:
        data: the document.
        error: the :class:`XmlParseError` subclass to raise (e.g. ``ImdnParseError``).
        max_size: the largest document accepted, in bytes.

    Raises:
        XmlParseError: (or ``error``) when the document is too large, malformed, or uses a
            DTD, entities or external references.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_size:
        raise error(f"document of {len(raw)} bytes exceeds the limit of {max_size}")
    try:
        root: ET.Element = _defused_fromstring(
            raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise error(f"forbidden XML construct refused: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        where = f"line {line}, column {column}" if line is not None else None
        raise error(f"not well-formed XML: {exc.msg if hasattr(exc, 'msg') else exc}",
                    where=where) from None
    except (ValueError, UnicodeError, RecursionError, LookupError) as exc:
        raise error(f"unreadable XML: {exc}") from None
    return root


def local_name(tag: str) -> str:
    """Return the tag without its ``{namespace}`` prefix."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    """Return the namespace URI of a ``{namespace}local`` tag, or ``""``."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
