"""Identities of a SIM and its handset slot, and what the network derives from them.

A profile gives the few identities a real USIM and handset carry (IMSI, MCC/MNC, MSISDN, the
slot's IMEI); everything else the emulator sends is derived from them the way a handset does
when nothing was provisioned. The derivations are pure functions so that the engine, the lab
and the tests agree on them:

- the home network domain ``ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org``, the private user
  identity ``<IMSI>@<domain>`` and the temporary public user identity ``sip:<IMSI>@<domain>``
  (3GPP TS 23.003 §13, used before the configuration names the real ones);
- the default configuration server ``config.rcs.mnc<MNC>.mcc<MCC>.pub.3gppnetwork.org``
  (GSMA RCC.14, built like the TS 23.003 §13 names);
- the ``+sip.instance`` Contact parameter ``<urn:gsma:imei:TAC-SNR-0>`` from the slot's IMEI
  (IMEI layout: TS 23.003 §6.2; URN: RFC 7254; use as an instance ID: RFC 7255);
- the UP User-Agent string (GSMA RCC.07 pattern as observed on Chinese networks);
- which Chinese operator an MCC/MNC pair belongs to.

MNCs are padded to three digits in domain names (TS 23.003: a two-digit MNC gets a leading
zero), so 460/00 gives ``mnc000.mcc460``. The module also holds the identity checks the profile
schema applies (IMEI Luhn check digit, IMSI and MSISDN shape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = re.compile(r"[0-9]+")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

IMEI_LENGTH = 15
"""An IMEI is TAC (8 digits), SNR (6 digits) and a Luhn check digit (TS 23.003 §6.2.1)."""

IMSI_LENGTH = 15
"""Length of the IMSIs the emulator accepts (MCC + MNC + MSIN, TS 23.003 §2.2)."""


@dataclass(frozen=True)
class KnownOperator:
    """A mobile operator recognised from its MCC/MNC.

    Attributes:
        code: short code used in logs and profile names (``CMCC``, ``CU``, ``CT``, ``CBN``).
        name: English name as written in profiles.
        name_zh: Chinese name as shown on handsets.
        mcc: mobile country code (3 digits).
        mncs: the mobile network codes allocated to the operator (2 digits each).
    """

    code: str
    name: str
    name_zh: str
    mcc: str
    mncs: tuple[str, ...]


KNOWN_OPERATORS: tuple[KnownOperator, ...] = (
    KnownOperator("CMCC", "China Mobile", "中国移动", "460", ("00", "02", "07", "08")),
    KnownOperator("CU", "China Unicom", "中国联通", "460", ("01", "06", "09")),
    KnownOperator("CT", "China Telecom", "中国电信", "460", ("03", "05", "11")),
    KnownOperator("CBN", "China Broadnet", "中国广电", "460", ("15",)),
)
"""The Chinese 5G Message operators and their MNCs (uncertain extra MNCs left out)."""


# ----------------------------------------------------------------------------- checks


def is_digits(value: str, length: int | None = None) -> bool:
    """Tell whether ``value`` is ASCII digits only (of exactly ``length``, if given)."""
    if not _DIGITS.fullmatch(value):
        return False
    return length is None or len(value) == length


def luhn_check_digit(body: str) -> str:
    """Compute the Luhn check digit that completes ``body`` (ISO/IEC 7812-1 Annex B).

    Args:
        body: the digits before the check digit (for an IMEI: TAC and SNR, 14 digits).

    Returns:
        The check digit, as a one-character string.

    Raises:
        ValueError: ``body`` is empty or not ASCII digits.
    """
    if not is_digits(body):
        raise ValueError("a Luhn body is one or more ASCII digits")
    total = 0
    # The digit next to the check digit is doubled, then every second one leftwards.
    for position, char in enumerate(reversed(body)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_imei(imei: str) -> bool:
    """Tell whether ``imei`` is 15 digits whose last one is the Luhn check digit."""
    return is_digits(imei, IMEI_LENGTH) and luhn_check_digit(imei[:-1]) == imei[-1]


def is_valid_mcc(mcc: str) -> bool:
    """Tell whether ``mcc`` is a 3-digit mobile country code."""
    return is_digits(mcc, 3)


def is_valid_mnc(mnc: str) -> bool:
    """Tell whether ``mnc`` is a 2- or 3-digit mobile network code."""
    return is_digits(mnc) and len(mnc) in (2, 3)


def is_valid_imsi(imsi: str, mcc: str | None = None, mnc: str | None = None) -> bool:
    """Tell whether ``imsi`` is 15 digits, starting with ``mcc`` + ``mnc`` when given."""
    if not is_digits(imsi, IMSI_LENGTH):
        return False
    prefix = (mcc or "") + (mnc or "")
    return imsi.startswith(prefix)


def is_valid_msisdn(msisdn: str) -> bool:
    """Tell whether ``msisdn`` is an E.164 number in ``+<country code><number>`` form.

    ITU-T E.164 allows at most 15 digits after the ``+``; the country code never starts
    with 0. Fewer than 7 digits is not a subscriber number.
    """
    return _E164.fullmatch(msisdn) is not None


# ----------------------------------------------------------------------------- validators
# Used by the profile schema; each returns its argument or raises ValueError saying what a
# valid value looks like (never echoing the value).


def check_mcc(value: str) -> str:
    """Return ``value`` if it is a valid MCC, else raise ``ValueError``."""
    if not is_valid_mcc(value):
        raise ValueError('expected a 3-digit mobile country code such as "460"')
    return value


def check_mnc(value: str) -> str:
    """Return ``value`` if it is a valid MNC, else raise ``ValueError``."""
    if not is_valid_mnc(value):
        raise ValueError('expected a 2- or 3-digit mobile network code such as "00"')
    return value


def check_imei(value: str) -> str:
    """Return ``value`` if it is a valid IMEI (15 digits, Luhn), else raise ``ValueError``."""
    if not is_digits(value, IMEI_LENGTH):
        raise ValueError("expected 15 digits (TAC, serial number, Luhn check digit)")
    if not is_valid_imei(value):
        right = luhn_check_digit(value[:-1])
        raise ValueError(f"the Luhn check digit is wrong (for this IMEI it is {right})")
    return value


def check_imsi(value: str) -> str:
    """Return ``value`` if it is a 15-digit IMSI, else raise ``ValueError``."""
    if not is_digits(value, IMSI_LENGTH):
        raise ValueError("expected 15 digits (MCC, MNC, MSIN)")
    return value


def check_msisdn(value: str) -> str:
    """Return ``value`` if it is an E.164 number, else raise ``ValueError``."""
    if not is_valid_msisdn(value):
        raise ValueError('expected an E.164 number such as "+8613800000001"')
    return value


# ----------------------------------------------------------------------------- derivations


def pad_mnc(mnc: str) -> str:
    """Return the 3-digit form of an MNC used in domain names (``"00"`` -> ``"000"``)."""
    return mnc if len(mnc) == 3 else "0" + mnc


def home_network_domain(mcc: str, mnc: str) -> str:
    """Derive the IMS home network domain (TS 23.003 §13).

    Example: ``home_network_domain("460", "00") == "ims.mnc000.mcc460.3gppnetwork.org"``.
    """
    return f"ims.mnc{pad_mnc(mnc)}.mcc{mcc}.3gppnetwork.org"


def config_server_fqdn(mcc: str, mnc: str) -> str:
    """Derive the default RCC.14 configuration server name.

    Example: ``config_server_fqdn("460", "11") ==
    "config.rcs.mnc011.mcc460.pub.3gppnetwork.org"``.
    """
    return f"config.rcs.mnc{pad_mnc(mnc)}.mcc{mcc}.pub.3gppnetwork.org"


def default_impi(imsi: str, mcc: str, mnc: str) -> str:
    """Derive the private user identity ``<IMSI>@<home domain>`` (TS 23.003 §13)."""
    return f"{imsi}@{home_network_domain(mcc, mnc)}"


def temporary_impu(imsi: str, mcc: str, mnc: str) -> str:
    """Derive the temporary public user identity ``sip:<IMSI>@<home domain>`` (TS 23.003 §13)."""
    return f"sip:{imsi}@{home_network_domain(mcc, mnc)}"


def tel_uri(msisdn: str) -> str:
    """Return the global ``tel:`` URI of an E.164 number (RFC 3966)."""
    return f"tel:{msisdn}"


def imei_urn(imei: str) -> str:
    """Return the IMEI URN ``urn:gsma:imei:<TAC>-<SNR>-0`` (RFC 7254 §3).

    The check digit is not sent: the last field is the spare digit, always 0 when a handset
    sends it (TS 23.003 §6.2.1).

    Raises:
        ValueError: ``imei`` is not 15 digits (14 are accepted: the check digit is unused).
    """
    if not (is_digits(imei) and len(imei) in (14, 15)):
        raise ValueError("an IMEI is 14 or 15 ASCII digits")
    return f"urn:gsma:imei:{imei[:8]}-{imei[8:14]}-0"


def sip_instance(imei: str) -> str:
    """Return the ``+sip.instance`` value for a slot's IMEI: ``<urn:gsma:imei:...>`` (RFC 7255).

    The caller quotes it in the Contact header: ``+sip.instance="<urn:gsma:imei:...>"``.
    """
    return f"<{imei_urn(imei)}>"


def operator_for(mcc: str, mnc: str) -> KnownOperator | None:
    """Find the Chinese operator that owns ``mcc``/``mnc``, or ``None`` if unknown.

    A 3-digit MNC with a leading zero matches its 2-digit form (``"000"`` is ``"00"``).
    """
    short = mnc[1:] if len(mnc) == 3 and mnc.startswith("0") else mnc
    for operator in KNOWN_OPERATORS:
        if operator.mcc == mcc and short in operator.mncs:
            return operator
    return None


def up_user_agent(
    *,
    terminal_vendor: str,
    terminal_model: str,
    terminal_sw_version: str,
    client_vendor: str,
    client_version: str,
    os_name: str,
    os_version: str,
    rcs_profile: str = "UP_2.4",
) -> str:
    """Build the UP User-Agent / Server header value.

    Format: ``CPM-client/OMA2.2 RCS-client/<profile> term-<vendor>/<model>-<sw>
    client-<client vendor>/<client version> OS-<os>/<os version>``, as sent in REGISTER and
    in RCC.14 configuration requests.
    """
    return (
        f"CPM-client/OMA2.2 RCS-client/{rcs_profile} "
        f"term-{terminal_vendor}/{terminal_model}-{terminal_sw_version} "
        f"client-{client_vendor}/{client_version} OS-{os_name}/{os_version}"
    )
