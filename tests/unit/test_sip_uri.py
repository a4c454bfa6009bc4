"""SIP, SIPS, tel and other URIs: parsing, writing, escaping and RFC 3261 §19.1.4 comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.params import Params
from rcs_terminal.protocol.sip.uri import (
    AbsoluteUri,
    SipUri,
    TelUri,
    Uri,
    parse_uri,
    uri_equal,
)

IMS = "ims.mnc000.mcc460.3gppnetwork.org"


# --------------------------------------------------------------------------- parsing


def test_plain_sip_uri() -> None:
    uri = parse_uri(f"sip:+8613800000001@{IMS}")
    assert uri == SipUri("sip", "+8613800000001", IMS)
    assert isinstance(uri, SipUri)
    assert uri.port is None and uri.password is None and not uri.params and not uri.headers
    assert uri.aor == f"sip:+8613800000001@{IMS}"


def test_sips_uri_with_port_and_transport() -> None:
    uri = parse_uri("sips:alice@pcscf.rcs.test:5061;transport=TLS")
    assert isinstance(uri, SipUri)
    assert (uri.scheme, uri.host, uri.port) == ("sips", "pcscf.rcs.test", 5061)
    assert uri.is_secure and uri.transport == "tls"


def test_password_and_host_port_without_user() -> None:
    with_password = parse_uri("sip:alice:secretword@atlanta.com;transport=tcp")
    assert isinstance(with_password, SipUri)
    assert (with_password.user, with_password.password) == ("alice", "secretword")
    hostport = parse_uri("sip:pcscf.rcs.test:5060;lr")
    assert isinstance(hostport, SipUri)
    assert hostport.user is None and hostport.port == 5060
    assert "lr" in hostport.params and hostport.params.get("lr") is None


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("sip:alice@[2001:db8::7]:5060;transport=tcp", "[2001:db8::7]", 5060),
        ("sip:[::1]", "[::1]", None),
        ("sip:bob@[2001:db8::192.0.2.1]", "[2001:db8::192.0.2.1]", None),
        ("sip:192.0.2.7:5070", "192.0.2.7", 5070),
    ],
)
def test_ip_literals(text: str, host: str, port: int | None) -> None:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    assert (uri.host, uri.port) == (host, port)
    assert str(uri) == text


def test_uri_parameters_and_headers() -> None:
    uri = parse_uri("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com")
    assert isinstance(uri, SipUri)
    assert uri.params.get("method") == "REGISTER"
    assert uri.headers == (("to", "sip:bob@biloxi.com"),)
    many = parse_uri("sip:alice@atlanta.com?subject=project%20x&priority=urgent")
    assert isinstance(many, SipUri)
    assert many.headers == (("subject", "project x"), ("priority", "urgent"))
    assert str(many) == "sip:alice@atlanta.com?subject=project%20x&priority=urgent"


def test_user_with_telephone_subscriber_parameters() -> None:
    uri = parse_uri("sip:+86-10-1234;phone-context=ims.test@rcs.test;user=phone")
    assert isinstance(uri, SipUri)
    assert uri.user == "+86-10-1234;phone-context=ims.test"
    assert uri.params.get("user") == "phone"


def test_escapes_are_decoded_and_written_back() -> None:
    uri = parse_uri("sip:%61lice%20smith%23@host.rcs.test")
    assert isinstance(uri, SipUri)
    assert uri.user == "alice smith#"
    assert str(uri) == "sip:alice%20smith%23@host.rcs.test"
    assert str(SipUri("sip", "张三", "rcs.test")) == "sip:%E5%BC%A0%E4%B8%89@rcs.test"
    assert parse_uri(str(SipUri("sip", "a@b:c", "x"))) == SipUri("sip", "a@b:c", "x")


def test_scheme_is_case_insensitive_but_user_keeps_case() -> None:
    uri = parse_uri("SIP:Alice@Atlanta.COM")
    assert isinstance(uri, SipUri)
    assert (uri.scheme, uri.user, uri.host) == ("sip", "Alice", "Atlanta.COM")


@pytest.mark.parametrize(
    ("text", "number", "is_global", "digits"),
    [
        ("tel:+86-138-0000-0001", "+86-138-0000-0001", True, "+8613800000001"),
        ("tel:10086;phone-context=+86", "10086", False, "10086"),
        ("tel:7042;phone-context=example.com", "7042", False, "7042"),
        ("tel:*86%23;phone-context=rcs.test", "*86%23", False, "*86#"),
    ],
)
def test_tel_uris(text: str, number: str, is_global: bool, digits: str) -> None:
    uri = parse_uri(text)
    assert isinstance(uri, TelUri)
    assert (uri.number, uri.is_global, uri.digits) == (number, is_global, digits)
    assert str(uri) == text


def test_tel_phone_context() -> None:
    uri = parse_uri("tel:7042;ext=22;phone-context=example.com")
    assert isinstance(uri, TelUri)
    assert uri.phone_context == "example.com" and uri.params.get("ext") == "22"


@pytest.mark.parametrize(
    "text",
    [
        "urn:gsma:imei:86000000-000001-0",
        "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "mailto:bot@botplatform.lab",
        "https://botplatform.lab/path?x=1",
        "im:bob@rcs.test",
    ],
)
def test_other_schemes_are_kept_as_text(text: str) -> None:
    uri = parse_uri(text)
    assert isinstance(uri, AbsoluteUri)
    assert str(uri) == text
    assert uri.scheme == text.split(":", 1)[0]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip:",
        "sip:@host",
        "sip:alice@",
        "sip:alice@host:99999",
        "sip:alice@host:port",
        "sip:alice@[2001:db8::zz]",
        "sip:alice@[1.2.3.4]",
        "sip:al ice@host",
        "sip:alice@host junk",
        "sip:alice@host/path",
        'sip:"alice"@host',
        "sip:a%zz@host",
        "sip:a%ff@host",
        "sip:alice@host?subject",
        'sip:alice@host;a="open',
        "tel:",
        "tel:+",
        "tel:++86",
        "tel:+86 138",
        "tel:hello",
        "1sip:x",
        ":nothing",
        "urn:",
        "no scheme at all",
        "sip:alice@host\x00",
    ],
)
def test_malformed_uris_raise_sip_parse_error(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


# --------------------------------------------------------------------------- comparison

EQUAL = [
    # RFC 3261 §19.1.4 examples of equivalent URIs
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
    # more
    ("sip:alice@[2001:db8::1]", "sip:alice@[2001:0DB8:0:0::1]"),
    ("sip:alice@host;maddr=239.255.255.1", "sip:alice@host;MADDR=239.255.255.1"),
    ("sip:alice@host;lr", "sip:alice@host;LR"),
    ("tel:+86-138-0000-0001", "tel:+8613800000001"),
    ("tel:7042;phone-context=example.com", "tel:7042;phone-context=EXAMPLE.com"),
    ("tel:10086;phone-context=+86", "tel:10086;phone-context=+8-6"),
    ("tel:+1-201-555-0123;ext=7", "tel:+12015550123;EXT=7"),
    ("urn:gsma:imei:1-2-0", "URN:gsma:imei:1-2-0"),
]

NOT_EQUAL = [
    # RFC 3261 §19.1.4 examples of URIs that differ
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    # more
    ("sip:alice@host", "sips:alice@host"),
    ("sip:alice@host", "sip:alice@host;user=phone"),
    ("sip:alice@host", "sip:alice@host;maddr=1.2.3.4"),
    ("sip:alice@host;ttl=1", "sip:alice@host"),
    ("sip:alice@host;method=INVITE", "sip:alice@host"),
    ("sip:alice@host;foo=1", "sip:alice@host;foo=2"),
    ("sip:alice:pw@host", "sip:alice@host"),
    ("sip:+8613800000001@rcs.test;user=phone", "tel:+8613800000001"),
    ("tel:+8613800000001", "tel:8613800000001;phone-context=+86"),
    ("tel:7042;phone-context=example.com", "tel:7042;phone-context=example.org"),
    ("tel:7042;phone-context=example.com", "tel:7042;phone-context=example.com;ext=1"),
    ("tel:+8613800000001", "tel:+8613800000002"),
    ("urn:a:b", "urn:a:B"),
    ("mailto:a@b", "urn:a@b"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_uris(a: str, b: str) -> None:
    assert uri_equal(a, b) and uri_equal(b, a)
    assert uri_equal(parse_uri(a), parse_uri(b))


@pytest.mark.parametrize(("a", "b"), NOT_EQUAL)
def test_different_uris(a: str, b: str) -> None:
    assert not uri_equal(a, b) and not uri_equal(b, a)


def test_uri_equal_refuses_bad_strings() -> None:
    with pytest.raises(SipParseError):
        uri_equal("sip:", "sip:alice@host")


# --------------------------------------------------------------------------- properties

_DOMAIN = st.from_regex(
    r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z][a-z0-9-]{0,8}){0,3}", fullmatch=True
)
_HOST = st.one_of(
    _DOMAIN,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
)
_PARAM_NAME = st.tuples(st.sampled_from("abmtuz"), st.text("abcxyz0189-.", max_size=8)).map("".join)
_PARAM_VALUE = st.one_of(st.none(), st.text("aAzZ09-.!%*_+`'~:[]/", min_size=1, max_size=12))
_PARAMS = st.lists(st.tuples(_PARAM_NAME, _PARAM_VALUE), max_size=4, unique_by=lambda p: p[0]).map(
    Params
)
_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)


@st.composite
def sip_uris(draw: st.DrawFn) -> SipUri:
    user = draw(st.none() | _TEXT)
    password = None if user is None else draw(st.none() | st.text(max_size=8))
    return SipUri(
        scheme=draw(st.sampled_from(["sip", "sips"])),
        user=user,
        host=draw(_HOST),
        port=draw(st.none() | st.integers(0, 65535)),
        password=password,
        params=draw(_PARAMS),
        headers=tuple(draw(st.lists(st.tuples(_TEXT, st.text(max_size=10)), max_size=3))),
    )


_TEL = st.builds(
    TelUri,
    st.one_of(
        st.from_regex(r"\+[0-9][0-9\-.()]{0,14}", fullmatch=True),
        st.from_regex(r"[0-9A-F*#][0-9A-F*#\-.()]{0,8}", fullmatch=True),
    ),
    _PARAMS,
)


@given(sip_uris())
def test_sip_uri_round_trips(uri: SipUri) -> None:
    again = parse_uri(str(uri))
    assert again == uri
    assert uri_equal(again, uri)
    assert str(again) == str(uri)


@given(_TEL)
def test_tel_uri_round_trips(uri: TelUri) -> None:
    again = parse_uri(str(uri))
    assert again == uri and uri_equal(again, uri)


def _parse_or_error(text: str) -> Uri | None:
    try:
        return parse_uri(text)
    except SipParseError:
        return None


@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_sip_parse_error(text: str) -> None:
    uri = _parse_or_error(text)
    if uri is not None:
        assert _parse_or_error(str(uri)) == uri


@given(sip_uris(), st.integers(0, 200), st.text(max_size=3))
def test_mutated_uris_parse_or_raise_sip_parse_error(uri: SipUri, at: int, junk: str) -> None:
    text = str(uri)
    at %= len(text) + 1
    for mutated in (text[:at] + junk + text[at:], text[:at] + text[at + 1 :]):
        parsed = _parse_or_error(mutated)
        if parsed is not None:
            assert _parse_or_error(str(parsed)) == parsed
            if isinstance(parsed, SipUri | TelUri):
                uri_equal(parsed, uri)
