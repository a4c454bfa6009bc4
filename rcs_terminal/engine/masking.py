"""Secret masking for everything that is recorded or shown.

Traces, logs, reports and snapshots must never carry a secret: digest responses and AUTS
values, passwords inside provisioning documents, tokens and OTPs in query strings, bearer or
basic credentials in HTTP headers, OTP codes in SMS texts. :func:`mask` rewrites a recorded
message so that the structure stays readable (the parameter is still there, its value is
``***``); nonces, realms and cnonces stay, as they carry no secret.
"""

from __future__ import annotations

import re

MASK = b"***"

_RULES: tuple[tuple[re.Pattern[bytes], bytes], ...] = (
    # SIP/HTTP digest credentials: keep every parameter but the proof of the password.
    (re.compile(rb'(?i)(\b(?:response|auts)\s*=\s*")[^"]*(")'), rb"\1***\2"),
    (re.compile(rb"(?i)(\b(?:response|auts)\s*=\s*)(?!\")[^,\s\r\n]+"), rb"\1***"),
    # HTTP Basic / Bearer credentials.
    (re.compile(rb"(?im)^((?:proxy-)?authorization:\s*(?:basic|bearer)\s+)\S+"), rb"\1***"),
    # RCC.14 query parameters.
    (re.compile(rb"(?i)([?&](?:otp|token)=)[^&\s#]*"), rb"\1***"),
    # Provisioning document parameters holding secrets (UserPwd, ftHTTPCSPwd, token...).
    (
        re.compile(
            rb'(?i)(<parm\s+name\s*=\s*"(?:[a-z_-]*pwd|[a-z_-]*password|token|otp)"\s+value\s*=\s*")'
            rb'[^"]*(")'
        ),
        rb"\1***\2",
    ),
    # Set-Cookie / Cookie stay (session identifiers, not credentials); OTP SMS texts do not.
    (
        re.compile(
            rb"(?i)((?:\botp|\bone-time password|\bverification code|"
            rb"\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81)[^0-9\r\n&=]{0,16})\d{4,8}"
        ),
        rb"\1***",
    ),
)


def mask(data: bytes) -> bytes:
    """Return ``data`` with every secret the rules know of replaced by ``***``."""
    for pattern, replacement in _RULES:
        data = pattern.sub(replacement, data)
    return data


def mask_text(text: str) -> str:
    """:func:`mask` for text."""
    return mask(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
