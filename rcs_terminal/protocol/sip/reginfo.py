"""Registration state documents: ``application/reginfo+xml`` (RFC 3680 §5).

After registering, an IMS client subscribes to its own registration state (``Event: reg``,
TS 24.229 §5.1.1.3) and the S-CSCF sends NOTIFYs whose body is a *reginfo* document: for
each address of record, the registration state and every contact bound to it, each with
its state and the event that led there. The client acts on its own contact:

==========================  ===========================================================
contact state / event       what it means for the handset (RFC 3680 §5.1.2)
==========================  ===========================================================
active / registered,        bound; ``expires`` is the time left
created, refreshed
active / shortened          the network cut the expiry: refresh before ``expires``
terminated / deactivated    the network removed the binding; register again (at once,
                            or after ``retry-after``)
terminated / probation      removed for now; register again after ``retry-after``
terminated / unregistered   removed by the network or another party; register again
terminated / expired        not refreshed in time; register again
terminated / rejected       the network refuses the binding: stop (like a 403)
==========================  ===========================================================

This module owns the document model (:class:`RegInfo`, :class:`RegistrationInfo`,
:class:`ContactInfo`), :func:`parse_reginfo` and :func:`build_reginfo` (the lab
registrar's side). Parsing goes through :func:`~rcs_terminal.protocol.xmlsafe.parse_xml`
and accepts what real networks send: a root without namespace, enumerated values in any
case, missing ``id`` attributes, extension elements from other namespaces (RFC 5628 GRUU
info, vendor additions), which are skipped. A missing ``uri``, an unknown state or a
number that is not a number is a :class:`~rcs_terminal.errors.RegInfoParseError`.
Writing always emits the namespaced, fully attributed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args
from xml.sax.saxutils import escape, quoteattr

from rcs_terminal.errors import LocalProtocolError, RegInfoParseError
from rcs_terminal.protocol.xmlsafe import Element, local_name, namespace, parse_xml

__all__ = [
    "CONTENT_TYPE",
    "REGINFO_NS",
    "ContactEvent",
    "ContactInfo",
    "ContactState",
    "DocumentState",
    "RegInfo",
    "RegistrationInfo",
    "RegistrationState",
    "build_reginfo",
    "parse_reginfo",
]

CONTENT_TYPE = "application/reginfo+xml"
REGINFO_NS = "urn:ietf:params:xml:ns:reginfo"

DocumentState = Literal["full", "partial"]
RegistrationState = Literal["init", "active", "terminated"]
ContactState = Literal["active", "terminated"]
ContactEvent = Literal[
    "registered",
    "created",
    "refreshed",
    "shortened",
    "expired",
    "deactivated",
    "probation",
    "unregistered",
    "rejected",
]

_DOCUMENT_STATES = frozenset(get_args(DocumentState))
_REGISTRATION_STATES = frozenset(get_args(RegistrationState))
_CONTACT_STATES = frozenset(get_args(ContactState))
_CONTACT_EVENTS = frozenset(get_args(ContactEvent))
_MAX_NUMBER = 2**32 - 1
_MAX_DIGITS = 10
_OUR_NAMESPACES = (REGINFO_NS, "")
_NOT_XML = frozenset({0xFFFE, 0xFFFF})


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """One contact bound to an address of record (RFC 3680 §5.1.2, ``<contact>``).

    Attributes:
        uri: the contact URI, as written.
        state: ``active`` or ``terminated``.
        event: what caused the current state; None when the network left it out.
        id: the contact's identifier in the document (empty when left out).
        expires: seconds until the binding expires, if given.
        retry_after: seconds to wait before registering again (probation), if given.
        duration_registered: seconds the binding has existed, if given.
        q: the ``q`` value, as written.
        callid: the Call-ID of the REGISTER that made the binding, if given.
        cseq: the CSeq number of that REGISTER, if given.
        display_name: the display name, if given.
        unknown_params: Contact parameters the registrar has no element for, as
            ``(name, value)``; the value is None for a flag. ``+sip.instance`` and ``reg-id``
            come here.
    """

    uri: str
    state: ContactState
    event: ContactEvent | None = None
    id: str = ""
    expires: int | None = None
    retry_after: int | None = None
    duration_registered: int | None = None
    q: str | None = None
    callid: str | None = None
    cseq: int | None = None
    display_name: str | None = None
    unknown_params: tuple[tuple[str, str | None], ...] = ()

    def param(self, name: str) -> str | None:
        """The value of an unknown-param (case-insensitive name), quotes removed."""
        key = name.lower()
        for param_name, value in self.unknown_params:
            if param_name.lower() == key:
                if value is None:
                    return None
                text = value.strip()
                if len(text) >= 2 and text[0] == text[-1] == '"':
                    text = text[1:-1]
                return text
        return None

    @property
    def instance(self) -> str | None:
        """The ``+sip.instance`` value (``<urn:gsma:imei:...>``), if the network echoed it."""
        return self.param("+sip.instance")


@dataclass(frozen=True, slots=True)
class RegistrationInfo:
    """The registration state of one address of record (``<registration>``).

    Attributes:
        aor: the address of record (a sip:, sips: or tel: URI).
        state: ``init`` (no contacts yet), ``active`` or ``terminated``.
        id: the registration's identifier in the document (empty when left out).
        contacts: the contacts, in document order.
    """

    aor: str
    state: RegistrationState
    id: str = ""
    contacts: tuple[ContactInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class RegInfo:
    """A reginfo document (``<reginfo>``).

    Attributes:
        version: the document version; it grows by one per NOTIFY of a subscription.
        state: ``full`` (the whole state) or ``partial`` (only what changed).
        registrations: one entry per address of record reported.
    """

    version: int
    state: DocumentState
    registrations: tuple[RegistrationInfo, ...] = ()

    def registration(self, aor: str) -> RegistrationInfo | None:
        """The entry for ``aor`` (compared without case), or None."""
        key = aor.lower()
        for entry in self.registrations:
            if entry.aor.lower() == key:
                return entry
        return None


# --------------------------------------------------------------------------- parsing


def parse_reginfo(data: bytes | str) -> RegInfo:
    """Parse an ``application/reginfo+xml`` body.

    Args:
        data: the document.

    Returns:
        The document model.

    Raises:
        RegInfoParseError: for unsafe or malformed XML, a root other than ``reginfo``, a
            missing or unknown required value, a contact without ``uri``, or a number
            attribute that is not a non-negative integer below 2**32.
    """
    root = parse_xml(data, error=RegInfoParseError)
    if local_name(root.tag) != "reginfo" or namespace(root.tag) not in _OUR_NAMESPACES:
        raise RegInfoParseError(f"root element is {root.tag!r}, not reginfo", where="root")
    version = _number(root, "version", "reginfo")
    state = _choice(root, "state", _DOCUMENT_STATES, "reginfo")
    registrations = tuple(
        _registration(child, index) for index, child in enumerate(_ours(root, "registration"))
    )
    return RegInfo(
        version=0 if version is None else version,
        state=cast(DocumentState, state or "full"),
        registrations=registrations,
    )


def _ours(parent: Element, name: str) -> list[Element]:
    return [
        child
        for child in parent
        if isinstance(child.tag, str)
        and namespace(child.tag) in _OUR_NAMESPACES
        and local_name(child.tag) == name
    ]


def _registration(element: Element, index: int) -> RegistrationInfo:
    where = f"registration[{index}]"
    aor = (element.get("aor") or "").strip()
    if not aor:
        raise RegInfoParseError("registration without aor", where=where)
    state = _choice(element, "state", _REGISTRATION_STATES, where)
    if state is None:
        raise RegInfoParseError("registration without state", where=where)
    contacts = tuple(
        _contact(child, f"{where}/contact[{number}]")
        for number, child in enumerate(_ours(element, "contact"))
    )
    return RegistrationInfo(
        aor=aor,
        state=cast(RegistrationState, state),
        id=element.get("id") or "",
        contacts=contacts,
    )


def _contact(element: Element, where: str) -> ContactInfo:
    state = _choice(element, "state", _CONTACT_STATES, where)
    if state is None:
        raise RegInfoParseError("contact without state", where=where)
    event = _choice(element, "event", _CONTACT_EVENTS, where)
    uri: str | None = None
    display_name: str | None = None
    params: list[tuple[str, str | None]] = []
    for child in element:
        if not isinstance(child.tag, str) or namespace(child.tag) not in _OUR_NAMESPACES:
            continue
        name = local_name(child.tag)
        if name == "uri":
            if uri is not None:
                raise RegInfoParseError("more than one <uri>", where=where)
            uri = (child.text or "").strip()
        elif name == "display-name" and display_name is None:
            display_name = (child.text or "").strip()
        elif name == "unknown-param":
            param_name = (child.get("name") or "").strip()
            if not param_name:
                raise RegInfoParseError("unknown-param without name", where=where)
            text = (child.text or "").strip()
            params.append((param_name, text or None))
    if not uri:
        raise RegInfoParseError("contact without uri", where=where)
    return ContactInfo(
        uri=uri,
        state=cast(ContactState, state),
        event=cast("ContactEvent | None", event),
        id=element.get("id") or "",
        expires=_number(element, "expires", where),
        retry_after=_number(element, "retry-after", where),
        duration_registered=_number(element, "duration-registered", where),
        q=element.get("q"),
        callid=element.get("callid"),
        cseq=_number(element, "cseq", where),
        display_name=display_name,
        unknown_params=tuple(params),
    )


def _choice(element: Element, name: str, allowed: frozenset[str], where: str) -> str | None:
    raw = element.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value not in allowed:
        raise RegInfoParseError(f"unknown {name} {raw[:40]!r}", where=f"{where}@{name}")
    return value


def _number(element: Element, name: str, where: str) -> int | None:
    raw = element.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        raise RegInfoParseError(
            f"{name} is not a non-negative integer: {raw[:20]!r}", where=f"{where}@{name}"
        )
    value = int(text)
    if value > _MAX_NUMBER:
        raise RegInfoParseError(f"{name} is out of range", where=f"{where}@{name}")
    return value


# --------------------------------------------------------------------------- writing


def build_reginfo(info: RegInfo) -> bytes:
    """Write ``info`` as an ``application/reginfo+xml`` document (UTF-8).

    Args:
        info: the document.

    Returns:
        The XML bytes; :func:`parse_reginfo` reads back an equal model.

    Raises:
        LocalProtocolError: a value holds characters XML 1.0 cannot carry, a number is
            out of range, or a required value is empty.
    """
    _check_number("version", info.version)
    pieces = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<reginfo xmlns="{REGINFO_NS}" version="{info.version}" state="{info.state}">\n',
    ]
    for entry in info.registrations:
        if not entry.aor:
            raise LocalProtocolError("a registration needs an aor")
        pieces.append(
            f'  <registration aor={_attr(entry.aor)} id={_attr(entry.id)} state="{entry.state}">\n'
        )
        for contact in entry.contacts:
            pieces.append(_contact_xml(contact))
        pieces.append("  </registration>\n")
    pieces.append("</reginfo>\n")
    return "".join(pieces).encode("utf-8")


def _contact_xml(contact: ContactInfo) -> str:
    if not contact.uri:
        raise LocalProtocolError("a contact needs a uri")
    attrs = [f"id={_attr(contact.id)}", f'state="{contact.state}"']
    if contact.event is not None:
        attrs.append(f'event="{contact.event}"')
    for name, number in (
        ("duration-registered", contact.duration_registered),
        ("expires", contact.expires),
        ("retry-after", contact.retry_after),
        ("cseq", contact.cseq),
    ):
        if number is not None:
            _check_number(name, number)
            attrs.append(f'{name}="{number}"')
    if contact.q is not None:
        attrs.append(f"q={_attr(contact.q)}")
    if contact.callid is not None:
        attrs.append(f"callid={_attr(contact.callid)}")
    lines = [f"    <contact {' '.join(attrs)}>\n", f"      <uri>{_text(contact.uri)}</uri>\n"]
    if contact.display_name is not None:
        lines.append(f"      <display-name>{_text(contact.display_name)}</display-name>\n")
    for name, value in contact.unknown_params:
        if not name:
            raise LocalProtocolError("an unknown-param needs a name")
        if value is None:
            lines.append(f"      <unknown-param name={_attr(name)}/>\n")
        else:
            lines.append(
                f"      <unknown-param name={_attr(name)}>{_text(value)}</unknown-param>\n"
            )
    lines.append("    </contact>\n")
    return "".join(lines)


def _check_number(name: str, value: int) -> None:
    if not 0 <= value <= _MAX_NUMBER:
        raise LocalProtocolError(f"{name} {value} is outside 0..2**32-1")


def _check_chars(value: str) -> str:
    for char in value:
        code = ord(char)
        if (code < 0x20 and char not in "\t\n\r") or 0xD800 <= code <= 0xDFFF or code in _NOT_XML:
            raise LocalProtocolError(f"character U+{code:04X} cannot be written in XML")
    return value


def _attr(value: str) -> str:
    return quoteattr(_check_chars(value), {"\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


def _text(value: str) -> str:
    return escape(_check_chars(value), {"\r": "&#13;"})
