"""MSRP URIs: parsing, serialising and RFC 4975 §6.1 comparison."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import MsrpParseError
from rcs_terminal.protocol.msrp.uri import (
    DEFAULT_PORT,
    MsrpUri,
    format_path,
    parse_path,
    parse_uri,
)


def test_parse_typical_uri() -> None:
    uri = parse_uri("msrp://192.0.2.10:20000/a7Fq2kL9xZ;tcp")
    assert uri == MsrpUri("192.0.2.10", 20000, "a7Fq2kL9xZ")
    assert (uri.scheme, uri.transport, uri.secure) == ("msrp", "tcp", False)
    assert str(uri) == "msrp://192.0.2.10:20000/a7Fq2kL9xZ;tcp"


def test_parse_full_uri_with_userinfo_ipv6_and_params() -> None:
    text = "MSRPS://bob@[2001:db8::1]:2856/s+d=/x;TCP;foo=bar;flag"
    uri = parse_uri(text)
    assert uri.scheme == "msrps" and uri.secure
    assert (uri.userinfo, uri.host, uri.port) == ("bob", "[2001:db8::1]", 2856)
    assert uri.session_id == "s+d=/x"
    assert uri.params == (("foo", "bar"), ("flag", None))
    assert str(uri) == "msrps://bob@[2001:db8::1]:2856/s+d=/x;TCP;foo=bar;flag"
    assert parse_uri(str(uri)) == uri


def test_missing_transport_is_read_as_tcp_and_written_back() -> None:
    uri = parse_uri("msrp://relay.rcs.test/abc")
    assert uri.transport == "tcp" and uri.port is None
    assert uri.effective_port == DEFAULT_PORT
    assert str(uri) == "msrp://relay.rcs.test/abc;tcp"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("msrp://HOST.example.com:1/abc;tcp", "MSRP://host.EXAMPLE.com:1/abc;TCP"),
        ("msrp://[2001:db8:0:0::1]:9/x;tcp", "msrp://[2001:DB8::1]:9/x;tcp"),
        ("msrp://alice@h:1/x;tcp", "msrp://h:1/x;tcp"),  # userinfo is not compared
        ("msrp://h:1/x;tcp;a=b", "msrp://h:1/x;tcp"),  # nor other parameters
        ("msrp://h%41:1/x;tcp", "msrp://hA:1/x;tcp"),  # percent-decoding in the authority
    ],
)
def test_equal_per_rfc4975_6_1(left: str, right: str) -> None:
    a, b = parse_uri(left), parse_uri(right)
    assert a == b and hash(a) == hash(b)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("msrp://h:1/abc;tcp", "msrp://h:1/ABC;tcp"),  # session-id is case-sensitive
        ("msrp://h:2855/x;tcp", "msrp://h/x;tcp"),  # an explicit port never equals none
        ("msrp://h:1/x;tcp", "msrps://h:1/x;tcp"),
        ("msrp://h:1/x;tcp", "msrp://h:1/x;sctp"),
        ("msrp://h:1/x;tcp", "msrp://h:1;tcp"),  # with and without a session-id
        ("msrp://h:1/x;tcp", "msrp://h:2/x;tcp"),
    ],
)
def test_not_equal_per_rfc4975_6_1(left: str, right: str) -> None:
    assert parse_uri(left) != parse_uri(right)


def test_not_equal_to_other_types() -> None:
    assert parse_uri("msrp://h:1/x;tcp") != "msrp://h:1/x;tcp"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip:bob@rcs.test",
        "http://h/x;tcp",
        "msrp:/h/x;tcp",
        "msrp://h:99999/x;tcp",
        "msrp://h:port/x;tcp",
        "msrp://[::1/x;tcp",
        "msrp://[zz::1]:1/x;tcp",
        "msrp://[::1]x/x;tcp",
        "msrp://h h:1/x;tcp",
        "msrp://h:1/x y;tcp",
        "msrp://h:1/x;t cp",
        "msrp://h:1/x;tcp;=v",
        "msrp://a b@h:1/x;tcp",
        "msrp://h:1/" + "x" * 2000 + ";tcp",
    ],
)
def test_malformed_uris_are_refused(text: str) -> None:
    with pytest.raises(MsrpParseError):
        parse_uri(text)


def test_paths() -> None:
    path = parse_path(" msrp://relay.rcs.test:2855/r1;tcp  msrp://192.0.2.10:20000/me;tcp ")
    assert [uri.host for uri in path] == ["relay.rcs.test", "192.0.2.10"]
    assert format_path(path) == "msrp://relay.rcs.test:2855/r1;tcp msrp://192.0.2.10:20000/me;tcp"
    with pytest.raises(MsrpParseError):
        parse_path("   ")


hosts = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9\-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
uris = st.builds(
    MsrpUri,
    host=hosts,
    port=st.none() | st.integers(0, 65535),
    session_id=st.none() | st.from_regex(r"[A-Za-z0-9\-._~+=/]{1,24}", fullmatch=True),
    scheme=st.sampled_from(["msrp", "msrps"]),
    transport=st.sampled_from(["tcp", "TCP", "ws"]),
    params=st.lists(
        st.tuples(
            st.from_regex(r"[a-z]{1,6}", fullmatch=True),
            st.none() | st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True),
        ),
        max_size=2,
    ).map(tuple),
)


@given(uris)
def test_round_trip(uri: MsrpUri) -> None:
    again = parse_uri(str(uri))
    assert again == uri
    assert str(again) == str(uri)


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_parse_error(text: str) -> None:
    with contextlib.suppress(MsrpParseError):
        parse_uri(text)
