"""The pure registration rules: refresh time, back-off, verdicts, granted expiry, reg event."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.registration_policy import (
    Verdict,
    classify,
    granted_expires,
    min_expires,
    refresh_delay,
    reginfo_action,
    retry_after,
    retry_delay,
)
from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.message import Response, parse_message
from rcs_terminal.protocol.sip.reginfo import ContactInfo, RegInfo, RegistrationInfo

OURS = "sip:alice@127.0.0.1:40000"
INSTANCE = "<urn:gsma:imei:86000000-000037-0>"


def response(*headers: str, status: int = 200) -> Response:
    head = [
        f"SIP/2.0 {status} X",
        "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1",
        "From: <sip:alice@rcs.test>;tag=1",
        "To: <sip:alice@rcs.test>;tag=2",
        "Call-ID: c",
        "CSeq: 2 REGISTER",
        *headers,
        "Content-Length: 0",
    ]
    message = parse_message(("\r\n".join(head) + "\r\n\r\n").encode())
    assert isinstance(message, Response)
    return message


@pytest.mark.parametrize(
    ("granted", "delay"),
    [(600, 300), (3600, 3000), (1200, 600), (1201, 601), (600000, 599400), (1, 0.5)],
)
def test_refresh_delay(granted: int, delay: float) -> None:
    assert refresh_delay(granted) == delay


@given(st.integers(1, 2**32))
def test_refresh_always_before_expiry(granted: int) -> None:
    assert 0 < refresh_delay(granted) < granted


def test_retry_delay_doubles_up_to_the_maximum() -> None:
    delays = [retry_delay(n, base=30, maximum=1800) for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]
    assert retry_delay(3, base=30, maximum=1800, retry_after=7) == 7
    assert retry_delay(10_000, base=1, maximum=5) == 5


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (None, Verdict.RETRY),
        (200, Verdict.REGISTERED),
        (202, Verdict.REGISTERED),
        (302, Verdict.RETRY),
        (401, Verdict.CHALLENGED),
        (407, Verdict.CHALLENGED),
        (403, Verdict.FORBIDDEN),
        (404, Verdict.RETRY),
        (408, Verdict.RETRY),
        (423, Verdict.INTERVAL_TOO_BRIEF),
        (480, Verdict.RETRY),
        (400, Verdict.REFUSED),
        (488, Verdict.REFUSED),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (600, Verdict.RETRY),
        (603, Verdict.RETRY),
    ],
)
def test_classify(status: int | None, verdict: Verdict) -> None:
    assert classify(status) is verdict


def test_retry_after_and_min_expires() -> None:
    assert retry_after(response("Retry-After: 120 (later);duration=10")) == 120
    assert retry_after(response("Retry-After: soon")) is None
    assert retry_after(response()) is None
    assert retry_after(None) is None
    assert min_expires(response("Min-Expires: 3600", status=423)) == 3600
    assert min_expires(response("Min-Expires: x", status=423)) is None


def test_granted_expires_prefers_our_contact() -> None:
    both = response(
        "Contact: <sip:alice@192.0.2.9:5060>;expires=100",
        f"Contact: <{OURS}>;expires=300",
        "Expires: 900",
    )
    assert granted_expires(both, OURS, None, 600000) == 300
    by_instance = response(
        f'Contact: <sip:alice@10.1.1.1:5>;expires=250;+sip.instance="{INSTANCE}"'
    )
    assert granted_expires(by_instance, OURS, INSTANCE, 600000) == 250
    assert granted_expires(response("Expires: 900"), OURS, None, 600000) == 900
    assert granted_expires(response(), OURS, None, 600000) == 600000
    assert granted_expires(response(f"Contact: <{OURS}>"), OURS, None, 70) == 70
    with pytest.raises(SipParseError):
        granted_expires(response("Expires: never"), OURS, None, 1)


def _info(
    state: str, event: str | None, *, uri: str = OURS, reg: str = "active", **kw: int
) -> RegInfo:
    contact = ContactInfo(uri=uri, state=state, event=event, **kw)  # type: ignore[arg-type]
    return RegInfo(0, "full", (RegistrationInfo("sip:alice@rcs.test", reg, "r", (contact,)),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("info", "kind"),
    [
        (_info("active", "registered", expires=3600), "expires"),
        (_info("active", "created", expires=3600), "expires"),
        (_info("active", "refreshed", expires=600), "expires"),
        (_info("active", "shortened", expires=60), "refresh"),
        (_info("active", "registered"), "none"),
        (_info("terminated", "deactivated", reg="terminated"), "reregister"),
        (_info("terminated", "probation", reg="terminated", retry_after=30), "reregister"),
        (_info("terminated", "unregistered", reg="terminated"), "reregister"),
        (_info("terminated", "expired", reg="terminated"), "reregister"),
        (_info("terminated", "rejected", reg="terminated"), "stop"),
        (_info("terminated", "rejected", uri="sip:alice@10.9.9.9"), "none"),
        (_info("terminated", "rejected", uri="sip:alice@10.9.9.9", reg="terminated"), "reregister"),
    ],
)
def test_reginfo_action(info: RegInfo, kind: str) -> None:
    assert reginfo_action(info, ("sip:alice@rcs.test",), OURS, None).kind == kind


def test_reginfo_action_details() -> None:
    probation = _info("terminated", "probation", reg="terminated", retry_after=30)
    action = reginfo_action(probation, ("sip:alice@rcs.test",), OURS, None)
    assert action.delay == 30 and action.event == "probation"
    shortened = reginfo_action(
        _info("active", "shortened", expires=60), ("sip:alice@rcs.test",), OURS, None
    )
    assert shortened.expires == 60
    other_aor = reginfo_action(_info("terminated", "rejected"), ("sip:bob@rcs.test",), OURS, None)
    assert other_aor.kind == "none"
    by_instance = RegInfo(
        0,
        "full",
        (
            RegistrationInfo(
                "sip:alice@rcs.test",
                "active",
                "r",
                (
                    ContactInfo(
                        uri="sip:alice@10.0.0.1:1",
                        state="terminated",
                        event="deactivated",
                        unknown_params=(("+sip.instance", f'"{INSTANCE}"'),),
                    ),
                ),
            ),
        ),
    )
    assert reginfo_action(by_instance, ("sip:alice@rcs.test",), OURS, INSTANCE).kind == "reregister"
