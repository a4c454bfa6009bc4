"""The small value checks every lint rule is built from: lengths, URLs, numbers, times.

Lengths are counted in characters (Unicode code points), as the UP JSON schemas count
``minLength``/``maxLength``; a Chinese title of 200 characters is within its limit even
though it takes 600 UTF-8 bytes. URL checks look at the scheme only (the emulator resolves
nothing). Telephone numbers are "plausible" when, after the visual separators RFC 3966
allows are removed, they are an optional ``+`` and 3 to 20 digits (short codes such as
10086 included). Times must be RFC 3339 date-times with an offset (``Z`` or ``±hh:mm``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from rcs_terminal.lint.findings import Finding, Severity, quoted
from rcs_terminal.protocol.cpim import parse_rfc3339

_PHONE = re.compile(r"\+?[0-9]{3,20}\Z")
_PHONE_SEPARATORS = str.maketrans("", "", " -.()")
_RFC3339_STRICT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)
WEB_SCHEMES = ("http", "https")


def length(
    path: str,
    rule: str,
    value: str | None,
    low: int,
    high: int,
    what: str,
    *,
    severity: Severity = "error",
) -> Iterator[Finding]:
    """A finding when ``value`` (if present) is not ``low..high`` characters long."""
    if value is None:
        return
    count = len(value)
    if low <= count <= high:
        return
    problem = "is empty" if count == 0 else f"is {count} characters long"
    yield Finding(path, rule, severity, f"{what} {problem}", f"{low}..{high} characters")


def scheme_of(url: str) -> str:
    """The lower-cased scheme of ``url`` (empty when it has none or cannot be split)."""
    try:
        return urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""


def web_url(path: str, rule: str, url: str | None, what: str) -> Iterator[Finding]:
    """An error when ``url`` (if present) is not an http/https URL with a host."""
    if url is None:
        return
    scheme = scheme_of(url)
    if scheme not in WEB_SCHEMES:
        shown = f"{quoted(scheme)}" if scheme else "no scheme"
        yield Finding(
            path, rule, "error", f"{what} has {shown}; only http and https open", "http/https"
        )
        return
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        host = None
    if not host:
        yield Finding(path, rule, "error", f"{what} has no host", "http/https")


def phone_number(path: str, rule: str, number: str) -> Iterator[Finding]:
    """An error when ``number`` is not a plausible telephone number (``tel:`` allowed)."""
    value = number.strip()
    if value[:4].lower() == "tel:":
        value = value[4:].split(";", 1)[0]
    digits = value.translate(_PHONE_SEPARATORS)
    if not _PHONE.match(digits):
        yield Finding(
            path,
            rule,
            "error",
            f"{quoted(number)} is not a plausible telephone number",
            "+ and 3..20 digits",
        )


def rfc3339(path: str, rule: str, value: str, what: str) -> Iterator[Finding]:
    """An error for a time that is not RFC 3339; a warning for a lenient form of one."""
    if _RFC3339_STRICT.match(value.strip()) and parse_rfc3339(value) is not None:
        return
    if parse_rfc3339(value) is not None:
        yield Finding(
            path,
            rule,
            "warning",
            f"{what} {quoted(value)} is readable but not strict RFC 3339 (T separator and offset)",
            "RFC 3339 date-time",
        )
        return
    yield Finding(
        path,
        rule,
        "error",
        f"{what} {quoted(value)} is not an RFC 3339 date-time",
        "RFC 3339 date-time",
    )


def parse_time(value: str) -> dt.datetime | None:
    """``value`` as an aware datetime, or ``None`` when unreadable."""
    return parse_rfc3339(value)


def base_type(content_type: str) -> str:
    """A MIME type without parameters, lower-cased."""
    return content_type.split(";", 1)[0].strip().lower()
