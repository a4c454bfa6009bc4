"""Parsing an RCC.14 ``wap-provisioningdoc`` into a :class:`ProvisioningDocument`.

The configuration server answers a handset's request with an XML document
(``<wap-provisioningdoc version="1.1">``, GSMA RCC.14 §4 / OMA Client Provisioning). This
module owns the step from bytes to a generic, immutable characteristic tree (:mod:`.tree`)
and decides the two things every caller needs at once: the ``VERS`` version and validity,
and whether the reply is a configuration at all. A document with neither ``VERS/version``
nor ``VERS/validity`` is the OTP/cookie step of the flow, not a configuration
(provisioning_sip.md §1, step 4).

The typed :class:`~.config.RcsConfig` view is built only when asked for
(:attr:`ProvisioningDocument.config`) and then cached: the flow asks once per accepted
configuration, the lab and tests may never ask.

Everything unsafe or malformed is refused with
:class:`~rcs_terminal.errors.ProvisioningDocumentError`: XML goes through
:func:`~rcs_terminal.protocol.xmlsafe.parse_xml` (size-limited, no DTD, no entities), the
tree is limited in depth, and a ``parm`` without a name or a ``characteristic`` without a
type is an error naming where it sits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from xml.etree.ElementTree import Element

from rcs_terminal.errors import ProvisioningDocumentError
from rcs_terminal.protocol.provisioning.config import RcsConfig
from rcs_terminal.protocol.provisioning.reader import (
    find_application,
    read_int,
    read_rcs_config,
)
from rcs_terminal.protocol.provisioning.tree import Characteristic, Parm
from rcs_terminal.protocol.xmlsafe import local_name, parse_xml

ROOT_TAG = "wap-provisioningdoc"
MAX_DEPTH = 24
"""Deepest characteristic nesting accepted (real documents stay under 8)."""


@dataclass(frozen=True)
class ProvisioningDocument:
    """A parsed wap-provisioningdoc.

    Attributes:
        characteristics: the top-level characteristics, in document order.
        version: ``VERS/version`` if present.
        validity: ``VERS/validity`` in seconds if present.
    """

    characteristics: tuple[Characteristic, ...]
    version: int | None = None
    validity: int | None = None

    @property
    def is_config(self) -> bool:
        """True for a configuration; False for an OTP/cookie step reply (no VERS values)."""
        return self.version is not None

    @property
    def root(self) -> Characteristic:
        """The whole document as one synthetic characteristic (for path lookups)."""
        return Characteristic(ROOT_TAG, (), self.characteristics)

    def get(self, path: str) -> str | None:
        """Return the value at ``path``, e.g. ``"APPLICATION/MESSAGING/Chat/MaxSize"``.

        Names match in any case; ``APPLICATION[ap2002]`` selects by AppID; every matching
        branch is searched in document order. Returns None when nothing matches.
        """
        return self.root.get(path)

    def find(self, path: str) -> Characteristic | None:
        """Return the first characteristic at ``path``, or None."""
        return self.root.find(path)

    def find_all(self, path: str) -> list[Characteristic]:
        """Return every characteristic at ``path``, in document order."""
        return list(self.root.find_all(path))

    def application(self, app_id: str) -> Characteristic | None:
        """Return the top-level ``APPLICATION`` whose ``AppID`` is ``app_id``."""
        return find_application(self.characteristics, app_id)

    @property
    def sms_port(self) -> int | None:
        """``POLICY/SMS_port`` (sent with the OTP step), or None if absent or unreadable."""
        raw = self.get("POLICY/SMS_port")
        if raw is None:
            return None
        try:
            return read_int(raw, "POLICY/SMS_port")
        except ProvisioningDocumentError:
            return None

    @cached_property
    def config(self) -> RcsConfig:
        """The typed view, built on first access (a missing validity reads as 0: no timed
        refresh).

        Raises:
            ProvisioningDocumentError: the document is not a configuration, or one of its
                values is unreadable (the message names the parm's path).
        """
        if self.version is None:
            raise ProvisioningDocumentError("not a configuration (no VERS version)", where="VERS")
        return read_rcs_config(self.characteristics, self.version, self.validity or 0)


def parse_config(data: bytes) -> ProvisioningDocument:
    """Parse a wap-provisioningdoc.

    Args:
        data: the HTTP response body.

    Returns:
        The document; check :attr:`ProvisioningDocument.is_config` before using
        :attr:`ProvisioningDocument.config`.

    Raises:
        ProvisioningDocumentError: not XML, unsafe XML, too large or too deep, the wrong
            root element, a nameless parm or typeless characteristic, or unreadable
            ``VERS`` values.
    """
    try:
        root = parse_xml(data, error=ProvisioningDocumentError)
    except LookupError as exc:  # parse_xml lets an unknown encoding="..." declaration through
        raise ProvisioningDocumentError(f"unknown XML encoding: {exc}", where="line 1") from None
    if local_name(root.tag) != ROOT_TAG:
        raise ProvisioningDocumentError(
            f"root element is <{local_name(root.tag)}>, not <{ROOT_TAG}>", where="root"
        )
    tops: list[Characteristic] = []
    for index, element in enumerate(root):
        tag = local_name(element.tag) if isinstance(element.tag, str) else ""
        if tag == "parm":
            raise ProvisioningDocumentError("parm outside any characteristic", where="root")
        if tag == "characteristic":
            tops.append(_build(element, f"characteristic #{index + 1}"))
    characteristics = tuple(tops)
    version, validity = _read_vers(characteristics)
    return ProvisioningDocument(characteristics, version, validity)


def _build(top: Element, where: str) -> Characteristic:
    """Turn one ``characteristic`` element into a tree, iteratively and depth-limited."""
    type_ = _attr(top, "type", where)
    # One frame per open characteristic: its type, path, parms, finished children and the
    # iterator over its remaining child elements.
    stack: list[_Frame] = [_Frame(type_, type_, [], [], iter(top))]
    while True:
        frame = stack[-1]
        child = next(frame.rest, None)
        if child is None:
            stack.pop()
            node = Characteristic(frame.type, tuple(frame.parms), tuple(frame.children))
            if not stack:
                return node
            stack[-1].children.append(node)
            continue
        tag = local_name(child.tag) if isinstance(child.tag, str) else ""
        if tag == "parm":
            name = _attr(child, "name", f"parm in {frame.path}")
            frame.parms.append(Parm(name, child.get("value", "")))
        elif tag == "characteristic":
            if len(stack) >= MAX_DEPTH:
                raise ProvisioningDocumentError(
                    f"characteristics nested deeper than {MAX_DEPTH}", where=frame.path
                )
            child_type = _attr(child, "type", f"characteristic in {frame.path}")
            stack.append(_Frame(child_type, f"{frame.path}/{child_type}", [], [], iter(child)))


@dataclass(slots=True)
class _Frame:
    type: str
    path: str
    parms: list[Parm]
    children: list[Characteristic]
    rest: Iterator[Element]


def _attr(element: Element, name: str, where: str) -> str:
    value = (element.get(name) or "").strip()
    if not value:
        kind = local_name(element.tag) if isinstance(element.tag, str) else "element"
        raise ProvisioningDocumentError(f"{kind} without a {name}", where=where)
    return value


def _read_vers(tops: tuple[Characteristic, ...]) -> tuple[int | None, int | None]:
    vers = next((node for node in tops if node.type.casefold() == "vers"), None)
    if vers is None:
        return None, None
    version = read_int(vers.parm("version") or "", "VERS/version")
    validity = read_int(vers.parm("validity") or "", "VERS/validity")
    if version is None and validity is not None:
        raise ProvisioningDocumentError("VERS has a validity but no version", where="VERS/version")
    if validity is not None and validity < 0:
        raise ProvisioningDocumentError(f"negative validity {validity}", where="VERS/validity")
    return version, validity
