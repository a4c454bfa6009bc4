"""Reading the typed :class:`~.config.RcsConfig` out of a characteristic tree.

Where things live (provisioning_sip.md §2):

- IMS settings: the ``APPLICATION`` with AppID ``urn:oma:mo:ext-3gpp-ims:1.0`` holds a
  ``3GPP_IMS`` node (AppID ``ap2001``) in UP 2.x documents; older UP 1.0/joyn documents use
  a flat ``APPLICATION`` with AppID ``ap2001`` holding ``APPAUTH``, ``LBO_P-CSCF_Address``
  and ``Ext`` directly. Both are accepted.
- RCS settings: the ``APPLICATION`` with AppID ``ap2002``; failing that, any
  ``APPLICATION`` that holds ``SERVICES`` or ``MESSAGING`` (AOSP's sample document puts them
  next to ``3GPP_IMS``).
- Top level: ``TOKEN``, ``MSG``, ``POLICY``, ``User``, ``ACCESS-CONTROL``.

Empty values mean "not provisioned". A value that is present but unreadable (a number that
is not a number, a transport that is not one of the three) raises
:class:`~rcs_terminal.errors.ProvisioningDocumentError` naming the parm's path, so a bad
document is refused as a whole rather than half-applied.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import fields, replace
from typing import Any

from rcs_terminal.errors import ProvisioningDocumentError
from rcs_terminal.protocol.provisioning.config import (
    ADDRESS_TYPES,
    BOOL,
    INT,
    LIST,
    RCS_SECTIONS,
    TRANSPORTS,
    WORD_SETS,
    WORDS,
    AdditionalServer,
    AddressType,
    ImsSettings,
    PcscfAddress,
    RcsConfig,
    Services,
    TermsMessage,
)
from rcs_terminal.protocol.provisioning.tree import Characteristic, iter_nodes

IMS_APP_ID = "urn:oma:mo:ext-3gpp-ims:1.0"
IMS_SUB_APP_ID = "ap2001"
RCS_APP_ID = "ap2002"

_INT = re.compile(r"[+-]?[0-9]{1,18}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_ALIASES = {"udp": "SIPoUDP", "tcp": "SIPoTCP", "tls": "SIPoTLS", "early-ims": "EarlyIMS"}
_FLAG_NAMES = frozenset({"presenceprfl", "rcsdisabledstate"})


# --------------------------------------------------------------------------- scalars


def read_int(value: str, where: str) -> int | None:
    """Read an integer parm value; ``""`` means absent.

    Raises:
        ProvisioningDocumentError: the value is present but not a (64-bit-sized) integer.
    """
    text = value.strip()
    if not text:
        return None
    if not _INT.fullmatch(text):
        raise ProvisioningDocumentError(f"{value!r} is not a number", where=where)
    return int(text)


def read_bool(value: str, where: str) -> bool | None:
    """Read a 0/1 (or true/false) parm value; ``""`` means absent."""
    text = value.strip().casefold()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ProvisioningDocumentError(f"{value!r} is not 0 or 1", where=where)


def read_word(value: str, words: tuple[str, ...], where: str) -> str | None:
    """Read one of ``words`` in any case (and the short aliases UDP/TCP/TLS)."""
    text = value.strip()
    if not text:
        return None
    key = text.casefold()
    for word in words:
        if word.casefold() == key:
            return word
    alias = _ALIASES.get(key)
    if alias in words:
        return alias
    raise ProvisioningDocumentError(f"{value!r} is not one of {', '.join(words)}", where=where)


def _read_list(node: Characteristic, path: str) -> tuple[str, ...] | None:
    holder = node.find(path)
    if holder is not None:
        return tuple(p.value.strip() for p in holder.parms if p.value.strip())
    value = node.get(path)
    if value is None:
        return None
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _read_value(node: Characteristic, meta: Any, where: str) -> Any:
    kind: str = meta["kind"]
    for path in meta["paths"]:
        if kind == LIST:
            found = _read_list(node, path)
            if found is not None:
                return found
            continue
        raw = node.get(path)
        if raw is None:
            continue
        at = f"{where}/{path}"
        if kind == INT:
            value: Any = read_int(raw, at)
        elif kind == BOOL:
            value = read_bool(raw, at)
        elif kind == WORDS:
            value = read_word(raw, WORD_SETS[meta["words"]], at)
        else:
            value = raw if raw.strip() else None
        if value is not None:
            return value
    return None


def read_section(cls: Any, node: Characteristic | None, where: str) -> Any:
    """Build the dataclass ``cls`` from ``node`` by walking its field metadata.

    Fields without metadata keep their defaults (the caller fills them); a missing node
    gives ``cls()``.
    """
    if node is None:
        return cls()
    values: dict[str, Any] = {}
    for f in fields(cls):
        if "section" in f.metadata:
            sub_path = f.metadata["section"]
            values[f.name] = read_section(
                f.default_factory, node.find(sub_path), f"{where}/{sub_path}"
            )
        elif "kind" in f.metadata:
            value = _read_value(node, f.metadata, where)
            if value is not None:
                values[f.name] = value
    return cls(**values)


# --------------------------------------------------------------------------- applications


def _applications(roots: tuple[Characteristic, ...]) -> list[Characteristic]:
    return [node for node in roots if node.type.casefold() == "application"]


def find_application(roots: tuple[Characteristic, ...], app_id: str) -> Characteristic | None:
    """Return the top-level ``APPLICATION`` whose AppID is ``app_id`` (any case)."""
    key = app_id.casefold()
    for app in _applications(roots):
        if (app.app_id or "").strip().casefold() == key:
            return app
    return None


def find_ims_node(roots: tuple[Characteristic, ...]) -> tuple[Characteristic, str] | None:
    """Return the node holding the IMS settings and its path, for either layout."""
    app = find_application(roots, IMS_APP_ID)
    if app is not None:
        ims = app.child("3GPP_IMS")
        if ims is not None:
            return ims, f"APPLICATION[{IMS_APP_ID}]/3GPP_IMS"
        return app, f"APPLICATION[{IMS_APP_ID}]"
    app = find_application(roots, IMS_SUB_APP_ID)
    if app is not None:
        return app, f"APPLICATION[{IMS_SUB_APP_ID}]"
    return None


def find_rcs_node(roots: tuple[Characteristic, ...]) -> tuple[Characteristic, str] | None:
    """Return the node holding the RCS settings (SERVICES, MESSAGING...) and its path."""
    app = find_application(roots, RCS_APP_ID)
    if app is not None:
        return app, f"APPLICATION[{RCS_APP_ID}]"
    for app in _applications(roots):
        if app.child("SERVICES") is not None or app.child("MESSAGING") is not None:
            return app, f"APPLICATION[{app.app_id or ''}]"
    return None


# --------------------------------------------------------------------------- IMS


def parse_pcscf(address: str, address_type: str | None, where: str) -> PcscfAddress:
    """Split ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address.

    Raises:
        ProvisioningDocumentError: a malformed bracket or port.
    """
    text = address.strip()
    port_text = ""
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ProvisioningDocumentError(f"malformed address {address!r}", where=where)
        port_text = rest[1:]
        if rest and not port_text:
            raise ProvisioningDocumentError(f"empty port in {address!r}", where=where)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not port_text:
            raise ProvisioningDocumentError(f"empty port in {address!r}", where=where)
    else:
        host = text
    if not host:
        raise ProvisioningDocumentError(f"no host in {address!r}", where=where)
    port: int | None = None
    if port_text:
        digits = port_text.isascii() and port_text.isdigit() and len(port_text) <= 5
        if not digits or not 0 < int(port_text) < 65536:
            raise ProvisioningDocumentError(f"bad port in {address!r}", where=where)
        port = int(port_text)
    kind = read_word(address_type, ADDRESS_TYPES, where) if address_type is not None else None
    return PcscfAddress(host, port, _as_address_type(kind) or _infer_type(host))


def _as_address_type(word: str | None) -> AddressType | None:
    for known in ADDRESS_TYPES:
        if word == known:
            return known
    return None


def _infer_type(host: str) -> AddressType:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "FQDN"
    return "IPv4" if ip.version == 4 else "IPv6"


def read_ims(node: Characteristic, where: str, rcs: Characteristic | None) -> ImsSettings:
    """Read :class:`ImsSettings` from the IMS node (and the joyn transport fallback)."""
    base: ImsSettings = read_section(ImsSettings, node, where)
    impus = tuple(
        value.strip()
        for holder in node.children_of("Public_User_Identity_List")
        for value in holder.parm_values("Public_User_Identity")
        if value.strip()
    )
    pcscf: list[PcscfAddress] = []
    for index, holder in enumerate(node.children_of("LBO_P-CSCF_Address")):
        at = f"{where}/LBO_P-CSCF_Address#{index + 1}"
        types = holder.parm_values("AddressType")
        for n, address in enumerate(holder.parm_values("Address")):
            if address.strip():
                kind = types[n] if n < len(types) and types[n].strip() else None
                pcscf.append(parse_pcscf(address, kind, at))
    transport = base.transport
    if transport is None and rcs is not None:
        raw = rcs.get("OTHER/transportProto/psSignalling")
        if raw is not None:
            word = read_word(raw, TRANSPORTS, "OTHER/transportProto/psSignalling")
            transport = next((t for t in TRANSPORTS if t == word), None)
    return replace(base, impus=impus, pcscf=tuple(pcscf), transport=transport)


# --------------------------------------------------------------------------- RCS


def read_services(node: Characteristic | None, where: str) -> Services:
    """Read every SERVICES parm; flags (``…Auth``) must be numbers, other text is kept."""
    if node is None:
        return Services()
    values: list[tuple[str, int]] = []
    text: list[tuple[str, str]] = []
    for parm in node.parms:
        raw = parm.value.strip()
        if not raw:
            continue
        key = parm.name.casefold()
        if _INT.fullmatch(raw):
            values.append((parm.name, int(raw)))
        elif key.endswith("auth") or key in _FLAG_NAMES:
            raise ProvisioningDocumentError(
                f"{raw!r} is not a number", where=f"{where}/{parm.name}"
            )
        else:
            text.append((parm.name, parm.value))
    data_off: list[tuple[str, int]] = []
    holder = node.find("Ext/DataOff")
    if holder is not None:
        for parm in holder.parms:
            number = read_int(parm.value, f"{where}/Ext/DataOff/{parm.name}")
            if number is not None:
                data_off.append((parm.name, number))
    return Services(tuple(values), tuple(text), tuple(data_off))


def read_access_control(roots: tuple[Characteristic, ...]) -> tuple[AdditionalServer, ...]:
    """Read the DEFAULT and SERVER entries of every top-level ``ACCESS-CONTROL``."""
    servers: list[AdditionalServer] = []
    for top in roots:
        if top.type.casefold() != "access-control":
            continue
        for entry in top.children:
            kind = entry.type.casefold()
            if kind not in ("default", "server"):
                continue
            fqdn = (entry.parm("fqdn") or "").strip()
            if not fqdn:
                continue
            where = f"ACCESS-CONTROL/{entry.type}/id-provider"
            id_provider = read_bool(entry.parm("id-provider") or "", where) or False
            app_ids = tuple(
                value.strip()
                for _, node in iter_nodes((entry,))
                for value in node.parm_values("app-id")
                if value.strip()
            )
            servers.append(AdditionalServer(fqdn, id_provider, app_ids, kind == "default"))
    return tuple(servers)


def _top(roots: tuple[Characteristic, ...], type_: str) -> Characteristic | None:
    key = type_.casefold()
    for node in roots:
        if node.type.casefold() == key:
            return node
    return None


def read_rcs_config(roots: tuple[Characteristic, ...], version: int, validity: int) -> RcsConfig:
    """Build the typed view of a configuration document.

    Args:
        roots: the document's top-level characteristics.
        version: ``VERS/version``, already read by the document parser.
        validity: ``VERS/validity``, already read by the document parser.

    Raises:
        ProvisioningDocumentError: a present value is unreadable; the message names its path.
    """
    token_node = _top(roots, "TOKEN")
    token = token_node.parm("token") if token_node is not None else None
    token_validity = (
        read_int(token_node.parm("validity") or "", "TOKEN/validity")
        if token_node is not None
        else None
    )
    msg_node = _top(roots, "MSG")
    msg = read_section(TermsMessage, msg_node, "MSG") if msg_node is not None else None
    policy = _top(roots, "POLICY")
    sms_port = (
        read_int(policy.parm("SMS_port") or "", "POLICY/SMS_port") if policy is not None else None
    )
    user = _top(roots, "User")
    msisdn = (user.parm("msisdn") or "").strip() or None if user is not None else None

    rcs_found = find_rcs_node(roots)
    rcs, rcs_where = rcs_found if rcs_found is not None else (None, "APPLICATION")
    ims_found = find_ims_node(roots)
    ims = read_ims(ims_found[0], ims_found[1], rcs) if ims_found is not None else None

    sections: dict[str, Any] = {}
    for attr, type_, cls in RCS_SECTIONS:
        node = rcs.child(type_) if rcs is not None else None
        sections[attr] = read_section(cls, node, f"{rcs_where}/{type_}")
    services = read_services(
        rcs.child("SERVICES") if rcs is not None else None, f"{rcs_where}/SERVICES"
    )
    return RcsConfig(
        version=version,
        validity=validity,
        token=token,
        token_validity=token_validity,
        msg=msg,
        policy_sms_port=sms_port,
        msisdn=msisdn,
        ims=ims,
        services=services,
        access_control=read_access_control(roots),
        **sections,
    )
