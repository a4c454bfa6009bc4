"""RCC.14 request building (query, encoding, headers, default host) and header fields."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.provisioning import (
    DeviceIdentity,
    HttpRequest,
    HttpResponse,
    SimIdentity,
    build_headers,
    build_query,
    default_config_host,
    default_config_urls,
    encode_query,
)
from rcs_terminal.protocol.provisioning.httpfields import (
    cookie_header,
    merge_set_cookies,
    retry_after_delay,
    supported_versions,
)
from rcs_terminal.protocol.provisioning.request import join_url

DEVICE = DeviceIdentity(
    terminal_vendor="ZTE",
    terminal_model="Axon 30",
    terminal_sw_version="MyOS 11",
    client_vendor="ZTE",
    client_version="RCSAndrd-2.4",
)
SIM = SimIdentity(imsi="460001234500001", imei="861234567890123", msisdn="+8613800000001")


def test_query_on_cellular_has_every_parameter_in_order() -> None:
    query = build_query(DEVICE, SIM, vers=0, token=None, msisdn_included=False)
    assert query == [
        ("vers", "0"),
        ("rcs_version", "11.0"),
        ("rcs_profile", "UP_2.4"),
        ("provisioning_version", "5.0"),
        ("client_vendor", "ZTE"),
        ("client_version", "RCSAndrd-2.4"),
        ("terminal_vendor", "ZTE"),
        ("terminal_model", "Axon 30"),
        ("terminal_sw_version", "MyOS 11"),
        ("IMSI", "460001234500001"),
        ("IMEI", "861234567890123"),
        ("token", ""),
        ("default_sms_app", "1"),
        ("app", "ap2001"),
        ("app", "ap2002"),
        ("app", "urn:oma:mo:ext-3gpp-ims:1.0"),
    ]


def test_query_off_cellular_with_token_otp_and_rcs_state() -> None:
    sim = SimIdentity("460110000000002", "861234567890131", None, sms_port=0, default_sms_app=False)
    query = build_query(
        DEVICE,
        sim,
        vers=7,
        token="t0k",
        otp="123456",
        msisdn_included=True,
        rcs_state=-4,
        provisioning_version="4.0",
    )
    names = [name for name, _ in query]
    assert names[9:] == [
        "IMSI",
        "IMEI",
        "msisdn",
        "SMS_port",
        "token",
        "default_sms_app",
        "rcs_state",
        "OTP",
        "app",
        "app",
        "app",
    ]
    values = dict(query)
    assert values["vers"] == "7" and values["provisioning_version"] == "4.0"
    assert values["msisdn"] == "" and values["SMS_port"] == "0" and values["token"] == "t0k"
    assert values["default_sms_app"] == "2" and values["rcs_state"] == "-4"
    assert values["OTP"] == "123456"


def test_encoding_escapes_plus_colon_and_spaces() -> None:
    query = build_query(DEVICE, SIM, vers=3, token="a+b/c=", msisdn_included=True)
    encoded = encode_query(query)
    assert "msisdn=%2B8613800000001" in encoded
    assert "terminal_model=Axon%2030" in encoded
    assert "token=a%2Bb%2Fc%3D" in encoded
    assert encoded.endswith("app=ap2001&app=ap2002&app=urn%3Aoma%3Amo%3Aext-3gpp-ims%3A1.0")
    assert parse_qsl(encoded, keep_blank_values=True) == query


@given(st.text(max_size=30), st.text(max_size=30))
def test_encoding_round_trips_any_text(token: str, model: str) -> None:
    device = DeviceIdentity("V", model, "1", "C", "2")
    query = build_query(device, SIM, vers=1, token=token, otp=token, msisdn_included=True)
    encoded = encode_query(query)
    assert all(c not in encoded for c in " +#\n")
    decoded = parse_qsl(encoded, keep_blank_values=True, errors="surrogatepass")
    assert decoded == query


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://config.rcs.test", "https://config.rcs.test/?vers=0"),
        ("https://config.rcs.test/", "https://config.rcs.test/?vers=0"),
        ("http://127.0.0.1:8080/rcc14", "http://127.0.0.1:8080/rcc14?vers=0"),
        ("http://127.0.0.1:8080/rcc14?sim=1", "http://127.0.0.1:8080/rcc14?sim=1&vers=0"),
    ],
)
def test_join_url(base: str, url: str) -> None:
    assert join_url(base, [("vers", "0")]) == url
    assert urlsplit(join_url(base, [])).path != ""


def test_headers() -> None:
    assert build_headers(DEVICE) == [
        (
            "User-Agent",
            "CPM-client/OMA2.2 RCS-client/UP_2.4 term-ZTE/Axon 30-MyOS 11 client-ZTE/RCSAndrd-2.4",
        ),
        ("Accept-Language", "zh-CN"),
    ]
    custom = DeviceIdentity("V", "M", "S", "C", "1", user_agent="UA/1", accept_language="en")
    headers = build_headers(custom, msisdn="+8613800000001", cookie="a=1")
    assert headers == [
        ("User-Agent", "UA/1"),
        ("Accept-Language", "en"),
        ("X-3GPP-Intended-Identity", "tel:+8613800000001"),
        ("Cookie", "a=1"),
    ]


@pytest.mark.parametrize(
    ("mcc", "mnc", "host"),
    [
        ("460", "00", "config.rcs.mnc000.mcc460.pub.3gppnetwork.org"),
        ("460", "11", "config.rcs.mnc011.mcc460.pub.3gppnetwork.org"),
        ("310", "260", "config.rcs.mnc260.mcc310.pub.3gppnetwork.org"),
    ],
)
def test_default_config_host(mcc: str, mnc: str, host: str) -> None:
    assert default_config_host(mcc, mnc) == host
    assert default_config_urls(mcc, mnc) == (f"http://{host}", f"https://{host}")


@pytest.mark.parametrize(
    ("mcc", "mnc"), [("46", "00"), ("460", "0"), ("460", "0000"), ("4a0", "00"), ("460", "٠٠")]
)
def test_default_config_host_refuses_bad_codes(mcc: str, mnc: str) -> None:
    with pytest.raises(LocalProtocolError):
        default_config_host(mcc, mnc)


def test_redacted_url_masks_token_and_otp() -> None:
    request = HttpRequest(
        "GET", "https://c.rcs.test/?vers=1&token=s3cret&OTP=999&app=ap2001", (), "otp"
    )
    assert request.redacted_url() == "https://c.rcs.test/?vers=1&token=***&OTP=***&app=ap2001"


# --------------------------------------------------------------------------- header fields


def test_set_cookie_merging() -> None:
    jar: dict[str, str] = {}
    count = merge_set_cookies(
        jar,
        [
            "SESSION=abc123; Path=/; HttpOnly",
            'quoted="v1"',
            "bad name=1",
            "novalue",
            "evil=a\r\nX-Injected: 1",
            "semi=a;b",
        ],
    )
    assert count == 3 and jar == {"SESSION": "abc123", "quoted": '"v1"', "semi": "a"}
    merge_set_cookies(jar, ["SESSION=; Max-Age=000", "quoted=v2", "x=1; Max-Age=" + "9" * 5000])
    assert jar == {"quoted": "v2", "semi": "a", "x": "1"}
    assert cookie_header(jar) == "quoted=v2; semi=a; x=1" and cookie_header({}) is None


@given(st.lists(st.text(max_size=40), max_size=5))
def test_set_cookie_never_raises_and_never_yields_unsafe_values(values: list[str]) -> None:
    jar: dict[str, str] = {}
    merge_set_cookies(jar, values)
    header = cookie_header(jar) or ""
    assert all(32 < ord(c) < 127 or c == " " for c in header)


@pytest.mark.parametrize(
    ("value", "date", "now", "delay"),
    [
        ("120", None, 0.0, 120.0),
        (" 0 ", None, 0.0, 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:27:00 GMT", 0.0, 60.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None, 1445412470.0, 10.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "garbage", 1445412470.0, 10.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None, 1445412490.0, 0.0),
        ("soon", None, 0.0, None),
        ("-5", None, 0.0, None),
        ("99999999999999999999", None, 0.0, None),
        (None, None, 0.0, None),
    ],
)
def test_retry_after(value: str | None, date: str | None, now: float, delay: float | None) -> None:
    assert retry_after_delay(value, date, now) == delay


@given(st.text(max_size=40), st.text(max_size=40) | st.none())
def test_retry_after_never_raises(value: str, date: str | None) -> None:
    result = retry_after_delay(value, date, 1e9)
    assert result is None or result >= 0


def test_supported_versions_and_response_headers() -> None:
    assert supported_versions("4.0, 2.0;5.0 bogus 1.2.3") == ["4.0", "2.0", "5.0"]
    assert supported_versions(None) == []
    response = HttpResponse(200, (("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("Date", "x")))
    assert response.header("SET-COOKIE") == "a=1" and response.header("nope") is None
    assert response.header_values("Set-Cookie") == ["a=1", "b=2"]
