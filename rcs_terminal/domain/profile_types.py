"""Value types of the device profile schema: what a valid string or number looks like.

Each type is an ``Annotated`` ``str`` (or ``int``) with a validator that says, in its error,
what was expected without quoting the value, and with a ``pattern`` for the JSON Schema where
one can express it. Identity checks (IMEI Luhn digit, IMSI, MCC/MNC, E.164) come from
:mod:`rcs_terminal.domain.sim`; the others cover text that ends up on the wire (no control
characters, so nothing can inject a header line), host:port pairs, domain names, SIP/tel
URIs and provisioning URLs.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from rcs_terminal.domain import sim as ids

LAB = "lab"
"""``provisioning.url`` value meaning "the bundled lab's config server" (given at run time)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TOKEN = re.compile(r"[!-~]{1,64}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}$)(?:{_LABEL}\.)*{_LABEL}")
_HOST_PORT = re.compile(
    r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:\[\]]+))(?::(?P<port>[0-9]{1,5}))?"
)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


# ----------------------------------------------------------------------------- field types


def _text(value: str) -> str:
    if not value.strip():
        raise _fail("text", "expected a non-empty string")
    if len(value) > 256:
        raise _fail("text", "expected at most 256 characters")
    if _CONTROL.search(value):
        raise _fail("text", "control characters (newlines, tabs, escapes) are not allowed")
    return value


def _token(value: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise _fail("token", "expected 1-64 printable ASCII characters without spaces")
    return value


def _hex(digits: int) -> Any:
    def check(value: str) -> str:
        if len(value) != digits or not _HEX.fullmatch(value):
            raise _fail("hex", f"expected {digits} hex digits")
        return value

    return check


def _host_port(value: str) -> str:
    match = _HOST_PORT.fullmatch(value)
    if match is None:
        raise _fail("host_port", "expected host:port (a domain name, IPv4 or [IPv6] address)")
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        raise _fail("host_port", "expected host:port with a port from 1 to 65535")
    if match.group("v6") is not None:
        try:
            ipaddress.IPv6Address(match.group("v6"))
        except ValueError:
            raise _fail("host_port", "expected an IPv6 address inside [ ]") from None
    elif not _DNS_NAME.fullmatch(match.group("name")):
        raise _fail("host_port", "expected host:port (a domain name, IPv4 or [IPv6] address)")
    return value


def _domain(value: str) -> str:
    if not _DNS_NAME.fullmatch(value):
        raise _fail("domain", "expected a domain name such as ims.mnc000.mcc460.3gppnetwork.org")
    return value


def _public_uri(value: str) -> str:
    _text(value)
    if " " in value or not value.startswith(("sip:", "sips:", "tel:+")):
        raise _fail("uri", "expected a sip:, sips: or global tel:+ URI without spaces")
    return value


def _provisioning_url(value: str) -> str:
    if value == LAB:
        return value
    _text(value)
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise _fail("url", 'expected "lab" or an http:// or https:// URL with a host')
    if parts.username is not None or " " in value:
        raise _fail("url", "the URL must not contain spaces or credentials (use token)")
    return value


def _language(value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        raise _fail("language", 'expected a language tag such as "zh-CN"')
    return value


def _pattern(regex: str) -> Any:
    return Field(json_schema_extra={"pattern": regex})


Text = Annotated[str, AfterValidator(_text)]
Token = Annotated[str, AfterValidator(_token), _pattern(r"^[!-~]{1,64}$")]
Mcc = Annotated[str, AfterValidator(ids.check_mcc), _pattern(r"^[0-9]{3}$")]
Mnc = Annotated[str, AfterValidator(ids.check_mnc), _pattern(r"^[0-9]{2,3}$")]
Imei = Annotated[str, AfterValidator(ids.check_imei), _pattern(r"^[0-9]{15}$")]
Imsi = Annotated[str, AfterValidator(ids.check_imsi), _pattern(r"^[0-9]{15}$")]
Msisdn = Annotated[str, AfterValidator(ids.check_msisdn), _pattern(r"^\+[1-9][0-9]{6,14}$")]
Hex4 = Annotated[str, AfterValidator(_hex(4)), _pattern(r"^[0-9A-Fa-f]{4}$")]
Hex12 = Annotated[str, AfterValidator(_hex(12)), _pattern(r"^[0-9A-Fa-f]{12}$")]
HostPort = Annotated[str, AfterValidator(_host_port)]
Domain = Annotated[str, AfterValidator(_domain)]
PublicUri = Annotated[str, AfterValidator(_public_uri), _pattern(r"^(sips?:|tel:\+)\S+$")]
ProvisioningUrl = Annotated[str, AfterValidator(_provisioning_url)]
Language = Annotated[str, AfterValidator(_language)]
Port = Annotated[int, Field(ge=0, le=65535)]
Minutes = Annotated[int, Field(ge=0, le=100_000)]


def count_items(value: Any, low: int, high: int, noun: str) -> Any:
    """Check a list's length before its items are validated.

    pydantic's own length check runs after the items and reports a misleading length when
    items fail; this one runs first, with a message such as "expected 1 or 2 SIMs, got 3".
    """
    if isinstance(value, list) and not low <= len(value) <= high:
        wanted = f"{low} or {high}" if high == low + 1 else f"{low} to {high}"
        raise PydanticCustomError(
            "count", f"expected {wanted} {noun}, got {{count}}", {"count": len(value)}
        )
    return value
