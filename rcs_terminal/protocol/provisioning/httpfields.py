"""The few HTTP header fields the RCC.14 flow must understand.

- ``Set-Cookie`` (RFC 6265 §4.1): the configuration server identifies the subscriber with
  a cookie (from header enrichment on cellular, or with the OTP reply) that must be sent
  back. Only ``name=value`` and a zero ``Max-Age`` (delete) matter here; anything that
  could not be sent back safely in a ``Cookie`` header is dropped.
- ``Retry-After`` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. A date is measured
  against the response's own ``Date`` header when present, else against ``now`` taken as
  Unix time.
- ``Supported-Versions`` (sent with a 406; provisioning_sip.md §1): the
  ``provisioning_version`` values the server accepts.

Every function here takes untrusted text and never raises: garbage yields "nothing".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import parsedate_to_datetime

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r'"?[!#-+\--:<-\[\]-~]*"?')
_VERSION = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3})?")
_MAX_DELAY_DIGITS = 10


def merge_set_cookies(jar: dict[str, str], values: Iterable[str]) -> int:
    """Apply ``Set-Cookie`` header values to ``jar`` (name -> value).

    Returns:
        How many cookies were set (deletions not counted).
    """
    count = 0
    for header in values:
        pair, _, attributes = header.partition(";")
        name, eq, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not _TOKEN.fullmatch(name) or not _COOKIE_VALUE.fullmatch(value):
            continue
        if _deletes(attributes):
            jar.pop(name, None)
            continue
        jar[name] = value
        count += 1
    return count


def _deletes(attributes: str) -> bool:
    for attribute in attributes.split(";"):
        key, _, value = attribute.partition("=")
        if key.strip().casefold() == "max-age":
            text = value.strip()
            return text.startswith("-") or (
                text.isascii() and text.isdigit() and not text.strip("0")
            )
    return False


def cookie_header(jar: dict[str, str]) -> str | None:
    """Return the ``Cookie`` value for ``jar`` (``a=1; b=2``), or None when empty."""
    return "; ".join(f"{name}={value}" for name, value in jar.items()) or None


def _http_date(value: str) -> float | None:
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def retry_after_delay(value: str | None, date: str | None, now: float) -> float | None:
    """Return the delay a ``Retry-After`` asks for, in seconds, or None if unreadable.

    Args:
        value: the ``Retry-After`` value.
        date: the response's ``Date`` value, the reference for an HTTP-date.
        now: used as Unix time when there is no usable ``Date``.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= _MAX_DELAY_DIGITS else None
    target = _http_date(text)
    if target is None:
        return None
    reference = _http_date(date) if date is not None else None
    return max(0.0, target - (reference if reference is not None else now))


def supported_versions(value: str | None) -> list[str]:
    """Return the versions listed in a ``Supported-Versions`` value, in order."""
    if value is None:
        return []
    items = re.split(r"[\s,;]+", value.strip())
    return [item for item in items if _VERSION.fullmatch(item)]


def version_key(version: str) -> tuple[int, ...]:
    """Order ``5.0`` above ``4.0`` above ``2.0`` (numeric, part by part)."""
    return tuple(int(part) for part in version.split("."))
