"""The RCC.14 configuration request: who is asking, and how the query is spelled.

A handset asks its operator's configuration server for a document with an HTTP(S) GET
whose query names the device, the client and the SIM (GSMA RCC.14 §2.3; parameters and
their use as seen on real networks in provisioning_sip.md §1). This module owns:

- :class:`DeviceIdentity` and :class:`SimIdentity`: the plain values a request needs. The
  engine maps a device profile onto them; nothing here knows the profile model.
- :func:`build_query`: the full, ordered parameter list (names are case-sensitive).
- :func:`encode_query`: percent-encoding every reserved character, so ``+86...`` goes out
  as ``%2B86...`` and the IMS AppID as ``urn%3Aoma%3Amo%3Aext-3gpp-ims%3A1.0``. URLs built
  here are final: the HTTP client must send them without re-encoding.
- :func:`build_headers` and :func:`default_config_host`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from rcs_terminal.errors import LocalProtocolError

APP_IDS = ("ap2001", "ap2002", "urn:oma:mo:ext-3gpp-ims:1.0")
"""The ``app`` values a UP 2.x client asks for: IMS, RCS, and the 3GPP IMS MO."""

DEFAULT_SMS_PORT = 37273
"""Port of the OTP data SMS (0 would mean a plain-text SMS)."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """The handset and its messaging client, as the configuration server sees them.

    Attributes:
        terminal_vendor: device make (``terminal_vendor``).
        terminal_model: device model (``terminal_model``).
        terminal_sw_version: firmware version (``terminal_sw_version``).
        client_vendor: short client vendor code (``client_vendor``, e.g. ``ZTE``).
        client_version: client version (``client_version``, e.g. ``RCSAndrd-2.4``).
        rcs_version: ``11.0`` for UP 2.4 (RCC.07 v11.0).
        rcs_profile: ``UP_2.4``.
        provisioning_version: ``5.0`` for UP 2.3/2.4.
        user_agent: the full User-Agent; derived from the fields when empty.
        accept_language: the ``Accept-Language`` value.
    """

    terminal_vendor: str
    terminal_model: str
    terminal_sw_version: str
    client_vendor: str
    client_version: str
    rcs_version: str = "11.0"
    rcs_profile: str = "UP_2.4"
    provisioning_version: str = "5.0"
    user_agent: str = ""
    accept_language: str = "zh-CN"

    def effective_user_agent(self) -> str:
        """Return :attr:`user_agent`, or the UP pattern built from the other fields."""
        if self.user_agent:
            return self.user_agent
        return (
            f"CPM-client/OMA2.2 RCS-client/{self.rcs_profile} "
            f"term-{self.terminal_vendor}/{self.terminal_model}-{self.terminal_sw_version} "
            f"client-{self.client_vendor}/{self.client_version}"
        )


@dataclass(frozen=True, slots=True)
class SimIdentity:
    """One SIM and its slot, as the configuration server sees them.

    Attributes:
        imsi: the SIM's IMSI (``IMSI``).
        imei: the IMEI of the slot holding it (``IMEI``; one per slot on dual-SIM phones).
        msisdn: the E.164 number if known (``msisdn``, ``+86...``).
        sms_port: where the OTP SMS is expected (``SMS_port``; 0 = plain SMS).
        default_sms_app: the client is the default SMS app (``default_sms_app`` 1, else 2).
    """

    imsi: str
    imei: str
    msisdn: str | None = None
    sms_port: int = DEFAULT_SMS_PORT
    default_sms_app: bool = True


def build_query(
    device: DeviceIdentity,
    sim: SimIdentity,
    *,
    vers: int,
    token: str | None,
    otp: str | None = None,
    msisdn_included: bool,
    rcs_state: int | None = None,
    provisioning_version: str | None = None,
) -> list[tuple[str, str]]:
    """Return the query parameters of a configuration request, in order, unencoded.

    Args:
        device: the handset and client.
        sim: the SIM asking.
        vers: the stored version (0 for a first or forced request; the last positive
            version while dormant).
        token: the stored token, or None/"" (sent as an empty ``token=``).
        otp: the one-time password, only in the OTP request.
        msisdn_included: send ``msisdn`` and ``SMS_port`` (off cellular or after a 511:
            the server has not identified the subscriber by the bearer).
        rcs_state: the ``rcs_state`` to report, if any.
        provisioning_version: overrides the device's (after a 406 from the server).
    """
    query: list[tuple[str, str]] = [
        ("vers", str(vers)),
        ("rcs_version", device.rcs_version),
        ("rcs_profile", device.rcs_profile),
        ("provisioning_version", provisioning_version or device.provisioning_version),
        ("client_vendor", device.client_vendor),
        ("client_version", device.client_version),
        ("terminal_vendor", device.terminal_vendor),
        ("terminal_model", device.terminal_model),
        ("terminal_sw_version", device.terminal_sw_version),
        ("IMSI", sim.imsi),
        ("IMEI", sim.imei),
    ]
    if msisdn_included:
        query.append(("msisdn", sim.msisdn or ""))
        query.append(("SMS_port", str(sim.sms_port)))
    query.append(("token", token or ""))
    query.append(("default_sms_app", "1" if sim.default_sms_app else "2"))
    if rcs_state is not None:
        query.append(("rcs_state", str(rcs_state)))
    if otp is not None:
        query.append(("OTP", otp))
    query.extend(("app", app_id) for app_id in APP_IDS)
    return query


def encode_query(query: list[tuple[str, str]]) -> str:
    """Percent-encode ``query`` as ``name=value&...`` (every reserved character escaped)."""
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in query)


def join_url(base: str, query: list[tuple[str, str]]) -> str:
    """Append ``query`` to ``base``, adding the ``/`` path when ``base`` has none."""
    _scheme, sep, rest = base.partition("://")
    if sep and "/" not in rest and "?" not in rest:
        base += "/"
    if not query:
        return base
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}{encode_query(query)}"


def build_headers(
    device: DeviceIdentity, *, msisdn: str | None = None, cookie: str | None = None
) -> list[tuple[str, str]]:
    """Return the request headers.

    Args:
        device: gives ``User-Agent`` and ``Accept-Language``.
        msisdn: when known, sent as ``X-3GPP-Intended-Identity: tel:<msisdn>``.
        cookie: the ``Cookie`` value to send back, if any.
    """
    headers = [
        ("User-Agent", device.effective_user_agent()),
        ("Accept-Language", device.accept_language),
    ]
    if msisdn:
        headers.append(("X-3GPP-Intended-Identity", f"tel:{msisdn}"))
    if cookie:
        headers.append(("Cookie", cookie))
    return headers


def default_config_host(mcc: str, mnc: str) -> str:
    """Return the RCC.14 default server, ``config.rcs.mnc<MNC>.mcc<MCC>.pub.3gppnetwork.org``.

    Both codes are written with three digits (460/00 gives ``mnc000.mcc460``).

    Raises:
        LocalProtocolError: ``mcc`` is not 3 digits or ``mnc`` not 2 or 3 digits.
    """
    if not (mcc.isascii() and mcc.isdigit() and len(mcc) == 3):
        raise LocalProtocolError(f"MCC must be 3 digits, not {mcc!r}")
    if not (mnc.isascii() and mnc.isdigit() and len(mnc) in (2, 3)):
        raise LocalProtocolError(f"MNC must be 2 or 3 digits, not {mnc!r}")
    return f"config.rcs.mnc{mnc.zfill(3)}.mcc{mcc}.pub.3gppnetwork.org"


def default_config_urls(mcc: str, mnc: str) -> tuple[str, str]:
    """Return the ``(http://..., https://...)`` base URLs of the default server."""
    host = default_config_host(mcc, mnc)
    return f"http://{host}", f"https://{host}"
