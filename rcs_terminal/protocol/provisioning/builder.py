"""Writing wap-provisioningdoc XML: the server side of RCC.14 documents.

The lab's configuration server generates one document per subscriber, and tests generate
documents to drive the flow. This module owns that direction: a typed
:class:`~.config.RcsConfig` becomes a characteristic tree in the UP 2.x layout
(provisioning_sip.md §2: ``VERS``, ``TOKEN``, ``MSG``, ``POLICY``, ``User``,
``ACCESS-CONTROL``, the IMS ``APPLICATION`` with ``3GPP_IMS`` and the RCS ``APPLICATION``
``ap2002``), and any tree becomes XML text with every attribute value escaped. It walks the
same field metadata as :mod:`.reader`, so ``parse_config(build_config(c)).config == c``.

Fields equal to their default are left out (the reader gives the default back); a value
that XML 1.0 cannot carry (a control character) is a caller bug and raises
:class:`~rcs_terminal.errors.LocalProtocolError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import MISSING, fields
from typing import Any

from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.provisioning.config import (
    BOOL,
    LIST,
    RCS_SECTIONS,
    ImsSettings,
    PcscfAddress,
    RcsConfig,
    Services,
)
from rcs_terminal.protocol.provisioning.reader import IMS_APP_ID, IMS_SUB_APP_ID, RCS_APP_ID
from rcs_terminal.protocol.provisioning.tree import Characteristic, Parm

_ESCAPES = str.maketrans(
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
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Node:
    """A characteristic under construction."""

    __slots__ = ("children", "parms", "type")

    def __init__(self, type_: str) -> None:
        self.type = type_
        self.parms: list[Parm] = []
        self.children: list[_Node] = []

    def add(self, name: str, value: str) -> None:
        self.parms.append(Parm(name, value))

    def node(self, path: str) -> _Node:
        """Return the descendant at ``path``, creating missing characteristics."""
        current = self
        for type_ in (segment for segment in path.split("/") if segment):
            found = next((c for c in current.children if c.type == type_), None)
            if found is None:
                found = _Node(type_)
                current.children.append(found)
            current = found
        return current

    def freeze(self) -> Characteristic:
        return Characteristic(
            self.type, tuple(self.parms), tuple(child.freeze() for child in self.children)
        )


# --------------------------------------------------------------------------- typed -> tree


def _default(f: Any) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def _text(kind: str, value: Any) -> str:
    if kind == BOOL:
        return "1" if value else "0"
    if kind == LIST:
        return ",".join(value)
    return str(value)


def _write_section(obj: Any, node: _Node, *, keep_defaults: bool = False) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        if "section" in f.metadata:
            if value != _default(f):
                _write_section(value, node.node(f.metadata["section"]))
        elif "kind" in f.metadata and value is not None:
            if value == _default(f) and not keep_defaults:
                continue
            parents, _, name = f.metadata["paths"][0].rpartition("/")
            node.node(parents).add(name, _text(f.metadata["kind"], value))


def _pcscf_text(address: PcscfAddress) -> str:
    host = f"[{address.host}]" if ":" in address.host and address.port is not None else address.host
    return host if address.port is None else f"{host}:{address.port}"


def _ims_application(ims: ImsSettings) -> _Node:
    app = _Node("APPLICATION")
    app.add("AppID", IMS_APP_ID)
    app.add("Name", "IMS Settings")
    node = app.node("3GPP_IMS")
    node.add("AppID", IMS_SUB_APP_ID)
    node.add("Name", "RCS IMS Settings")
    _write_section(ims, node)
    if ims.impus:
        holder = node.node("Public_User_Identity_List")
        for impu in ims.impus:
            holder.add("Public_User_Identity", impu)
    for address in ims.pcscf:
        holder = _Node("LBO_P-CSCF_Address")
        holder.add("Address", _pcscf_text(address))
        holder.add("AddressType", address.address_type)
        node.children.append(holder)
    return app


def _rcs_application(config: RcsConfig) -> _Node | None:
    app = _Node("APPLICATION")
    app.add("AppID", RCS_APP_ID)
    app.add("Name", "RCS settings")
    if config.ims is not None and config.ims.app_ref:
        app.node("IMS").add("To-AppRef", config.ims.app_ref)
    services: Services = config.services
    if services != Services():
        node = app.node("SERVICES")
        for name, number in services.values:
            node.add(name, str(number))
        for name, text in services.text:
            node.add(name, text)
        for name, number in services.data_off:
            node.node("Ext/DataOff").add(name, str(number))
    for attr, type_, cls in RCS_SECTIONS:
        value = getattr(config, attr)
        if value != cls():
            _write_section(value, app.node(type_))
    return app if app.children else None


def config_tree(config: RcsConfig) -> tuple[Characteristic, ...]:
    """Lay ``config`` out as the top-level characteristics of a UP 2.x document."""
    tops: list[_Node] = []
    vers = _Node("VERS")
    vers.add("version", str(config.version))
    vers.add("validity", str(config.validity))
    tops.append(vers)
    if config.token is not None or config.token_validity is not None:
        token = _Node("TOKEN")
        if config.token is not None:
            token.add("token", config.token)
        if config.token_validity is not None:
            token.add("validity", str(config.token_validity))
        tops.append(token)
    if config.msg is not None:
        msg = _Node("MSG")
        _write_section(config.msg, msg, keep_defaults=True)
        tops.append(msg)
    if config.policy_sms_port is not None:
        policy = _Node("POLICY")
        policy.add("SMS_port", str(config.policy_sms_port))
        tops.append(policy)
    if config.msisdn is not None:
        user = _Node("User")
        user.add("msisdn", config.msisdn)
        tops.append(user)
    if config.access_control:
        access = _Node("ACCESS-CONTROL")
        for server in config.access_control:
            entry = _Node("DEFAULT" if server.is_default else "SERVER")
            entry.add("fqdn", server.fqdn)
            entry.add("id-provider", "1" if server.id_provider else "0")
            for app_id in server.app_ids:
                entry.add("app-id", app_id)
            access.children.append(entry)
        tops.append(access)
    if config.ims is not None:
        tops.append(_ims_application(config.ims))
    rcs = _rcs_application(config)
    if rcs is not None:
        tops.append(rcs)
    return tuple(node.freeze() for node in tops)


# --------------------------------------------------------------------------- tree -> XML


def escape_attribute(value: str) -> str:
    """Escape ``value`` for a double-quoted XML attribute (whitespace kept exactly).

    Raises:
        LocalProtocolError: ``value`` holds a character XML 1.0 cannot carry.
    """
    bad = _NOT_XML.search(value)
    if bad is not None:
        raise LocalProtocolError(f"character U+{ord(bad.group()):04X} cannot be sent in XML")
    return value.translate(_ESCAPES)


def serialize_document(characteristics: Iterable[Characteristic]) -> bytes:
    """Write a wap-provisioningdoc holding ``characteristics`` (UTF-8, indented)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<wap-provisioningdoc version="1.1">\n']
    # Items are nodes still to open, or closing tags already rendered (plain strings).
    stack: list[tuple[Characteristic | str, int]] = [
        (node, 1) for node in reversed(tuple(characteristics))
    ]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        pad = "  " * depth
        opening = f'{pad}<characteristic type="{escape_attribute(item.type)}"'
        if not item.parms and not item.children:
            out.append(opening + "/>\n")
            continue
        out.append(opening + ">\n")
        out.extend(
            f'{pad}  <parm name="{escape_attribute(p.name)}" '
            f'value="{escape_attribute(p.value)}"/>\n'
            for p in item.parms
        )
        stack.append((f"{pad}</characteristic>\n", depth))
        stack.extend((child, depth + 1) for child in reversed(item.children))
    out.append("</wap-provisioningdoc>\n")
    return "".join(out).encode("utf-8")


def build_config(config: RcsConfig, *, extra: Iterable[Characteristic] = ()) -> bytes:
    """Write ``config`` as a complete document, with ``extra`` characteristics appended.

    Args:
        config: the configuration to send (any version: 0/-1/-2/-3 documents are just a
            ``VERS`` and perhaps a ``TOKEN``).
        extra: further top-level characteristics (operator extensions, ``PRESENCE``...).
    """
    return serialize_document((*config_tree(config), *extra))


def build_otp_reply(sms_port: int | None = None) -> bytes:
    """Write the OTP-step reply: no ``VERS`` values, and ``POLICY/SMS_port`` if given."""
    if sms_port is None:
        return serialize_document(())
    policy = Characteristic("POLICY", (Parm("SMS_port", str(sms_port)),))
    return serialize_document((policy,))
