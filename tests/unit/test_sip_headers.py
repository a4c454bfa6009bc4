"""Typed SIP header values: parameters, Via, name-addr / addr-spec, CSeq and feature tags."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, SipParseError
from rcs_terminal.protocol.sip.headers import (
    CSeq,
    NameAddr,
    Params,
    Via,
    feature_tags,
    format_feature_tags,
    parse_cseq,
    parse_name_addr,
    parse_params,
    parse_via,
)
from rcs_terminal.protocol.sip.uri import SipUri, TelUri

ICSI_MSG = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"
IARI_BOT = "urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.chatbot.sa"


# --------------------------------------------------------------------------- Params


def test_params_are_case_insensitive_and_ordered() -> None:
    params = parse_params(';Tag=a1b2;LR;maddr=[2001:db8::1];+sip.instance="<urn:uuid:1>"')
    assert list(params) == ["Tag", "LR", "maddr", "+sip.instance"]
    assert params.get("tag") == "a1b2" and params["TAG"] == "a1b2"
    assert "lr" in params and params.get("lr") is None
    assert params.get("maddr") == "[2001:db8::1]"
    assert params.get("+SIP.INSTANCE") == "<urn:uuid:1>"
    assert params.raw("+sip.instance") == '"<urn:uuid:1>"'
    assert params.get("absent") is None and params.get("absent", "x") == "x"
    assert "absent" not in params and len(params) == 4
    assert str(params) == ';Tag=a1b2;LR;maddr=[2001:db8::1];+sip.instance="<urn:uuid:1>"'


def test_params_lws_quotes_and_escapes() -> None:
    params = parse_params(' ; a = 1 ;b= "x \\" y; z" ; c')
    assert params.get("a") == "1"
    assert params.get("b") == 'x " y; z'
    assert params.get("c") is None
    assert parse_params("tag=x") == parse_params(";tag=x")
    assert parse_params("") == Params() and not parse_params("  ")


def test_params_equality_hash_and_copies() -> None:
    a = parse_params(";tag=1;lr")
    b = parse_params(";TAG=1;lr")
    assert a == b and hash(a) == hash(b)
    assert a != parse_params(";lr;tag=1")
    changed = a.with_param("tag", "2")
    assert changed.get("tag") == "2" and list(changed) == ["tag", "lr"] and a.get("tag") == "1"
    assert a.with_param("new", "v w").raw("new") == '"v w"'
    assert a.with_param("q", "x", quoted=True).raw("q") == '"x"'
    assert a.without("TAG") == parse_params(";lr") and a.without("nothing") is a


def test_params_built_from_plain_values() -> None:
    params = Params([("transport", "tcp"), ("lr", None), ("display", "a b"), ("e", "")])
    assert str(params) == ';transport=tcp;lr;display="a b";e=""'
    assert Params({"tag": "x"}) == parse_params("tag=x")
    with pytest.raises(LocalProtocolError):
        Params([("bad name", "x")])
    with pytest.raises(LocalProtocolError):
        Params([("ok", "line\r\nbreak")])


def test_repeated_parameter_keeps_first_for_lookup_and_all_for_writing() -> None:
    params = parse_params(";x=1;X=2")
    assert params.get("x") == "1" and len(params) == 1
    assert str(params) == ";x=1;X=2"


@pytest.mark.parametrize("text", ['a="open', "a=1 b=2", "=x", 'a="x"y', "a=1,b=2", '"x"'])
def test_bad_params_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_params(text)


# --------------------------------------------------------------------------- Via


def test_via_with_branch_received_and_rport() -> None:
    via = parse_via(
        "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK776asdhds;received=198.51.100.23;rport=49152"
    )
    assert via == Via("UDP", "192.0.2.7", 5060, via.params)
    assert via.branch == "z9hG4bK776asdhds"
    assert via.received == "198.51.100.23"
    assert via.rport == 49152
    assert via.sent_by == "192.0.2.7:5060"


def test_via_rport_flag_ipv6_and_spacing() -> None:
    via = parse_via("sip / 2.0 / tcp   [2001:db8::7]:5060 ; branch=z9hG4bK1 ; rport")
    assert (via.transport, via.host, via.port) == ("TCP", "[2001:db8::7]", 5060)
    assert via.rport is True and via.received is None
    assert str(via) == "SIP/2.0/TCP [2001:db8::7]:5060;branch=z9hG4bK1;rport"
    assert parse_via(str(via)) == via
    no_port = parse_via("SIP/2.0/TLS pcscf.rcs.test;branch=z9hG4bK2")
    assert no_port.port is None and no_port.rport is None and no_port.sent_by == "pcscf.rcs.test"


def test_via_received_may_be_bare_ipv6() -> None:
    via = parse_via("SIP/2.0/TCP [2001:db8::7]:5060;branch=z9hG4bK3;received=2001:db8::7")
    assert via.received == "2001:db8::7"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SIP/2.0 192.0.2.7",
        "SIP/2.0/UDP",
        "SIP/3.0/UDP host",
        "HTTP/2.0/UDP host",
        "SIP/2.0/UDP host:70000",
        "SIP/2.0/UDP host junk",
        'SIP/2.0/UDP host;branch="z9hG4bK-open',
        "SIP/2.0/UDP host;rport=abc",
        "SIP/2.0/UDP host;rport=²",
        "SIP/2.0/UDP [::zz]",
    ],
)
def test_bad_vias_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(text)


# --------------------------------------------------------------------------- name-addr


def test_name_addr_with_quoted_display_name() -> None:
    value = parse_name_addr('"Bob \\"B\\" 李" <sip:bob@rcs.test;transport=tcp>;tag=a73kszlfl')
    assert value.display_name == 'Bob "B" 李'
    assert value.uri == "sip:bob@rcs.test;transport=tcp"
    assert value.tag == "a73kszlfl"
    parsed = value.parsed_uri
    assert isinstance(parsed, SipUri) and parsed.transport == "tcp"
    assert parse_name_addr(str(value)) == value


def test_name_addr_with_token_display_name_and_none() -> None:
    assert parse_name_addr("Alice Smith <sip:alice@rcs.test>").display_name == "Alice Smith"
    assert parse_name_addr("张三 <tel:+8613800000001>").display_name == "张三"
    bare = parse_name_addr("<sip:alice@rcs.test>")
    assert bare.display_name is None and str(bare) == "<sip:alice@rcs.test>"
    empty = parse_name_addr('"" <sip:alice@rcs.test>')
    assert empty.display_name == "" and parse_name_addr(str(empty)) == empty


def test_addr_spec_parameters_belong_to_the_header() -> None:
    value = parse_name_addr("sip:+8613800000001@rcs.test;tag=887s;expires=600")
    assert value.uri == "sip:+8613800000001@rcs.test"
    assert value.tag == "887s" and value.expires == 600
    assert str(value) == "<sip:+8613800000001@rcs.test>;tag=887s;expires=600"
    assert isinstance(parse_name_addr("tel:+8613800000001").parsed_uri, TelUri)


def test_contact_expires_q_and_wildcards() -> None:
    contact = parse_name_addr("<sip:ue@192.0.2.7:5060>;q=0.7;expires=3600;reg-id=1")
    assert contact.q == 0.7 and contact.expires == 3600
    star = parse_name_addr("*")
    assert star.is_wildcard and str(star) == "*"
    with pytest.raises(SipParseError):
        star.parsed_uri  # noqa: B018
    accept = parse_name_addr(f'*;+g.3gpp.icsi-ref="{ICSI_MSG}";require;explicit')
    assert accept.is_wildcard and "require" in accept.params
    assert str(accept) == f'*;+g.3gpp.icsi-ref="{ICSI_MSG}";require;explicit'


@pytest.mark.parametrize("value", ["q=1.5", "q=abc", "expires=-1", "expires=x", "expires=²"])
def test_bad_contact_numbers_raise(value: str) -> None:
    contact = parse_name_addr(f"<sip:ue@rcs.test>;{value}")
    with pytest.raises(SipParseError):
        contact.q if value.startswith("q") else contact.expires


def test_with_tag() -> None:
    to = parse_name_addr("<sip:bob@rcs.test>")
    assert to.with_tag("x1").tag == "x1" and to.tag is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"Alice <sip:alice@rcs.test>',
        '"Alice" sip:alice@rcs.test',
        "Alice <sip:alice@rcs.test",
        "<>",
        "<sip:alice@rcs.test> junk",
        'Al"ice <sip:alice@rcs.test>',
        "<sip:alice @rcs.test>",
        "alice",
        "sip:alice@rcs.test junk",
        '<sip:alice@rcs.test>;tag="open',
    ],
)
def test_bad_addresses_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(text)


def test_bad_uri_inside_good_name_addr_raises_when_parsed() -> None:
    value = parse_name_addr("<sip:alice@[::zz]>")
    with pytest.raises(SipParseError):
        value.parsed_uri  # noqa: B018


# --------------------------------------------------------------------------- CSeq


def test_cseq() -> None:
    assert parse_cseq("1 REGISTER") == CSeq(1, "REGISTER")
    assert parse_cseq("  4711   INVITE ") == CSeq(4711, "INVITE")
    assert str(CSeq(2147483647, "MESSAGE")) == "2147483647 MESSAGE"


@pytest.mark.parametrize(
    "text", ["", "1", "INVITE", "x INVITE", "2147483648 INVITE", "1 IN VITE", "-1 BYE"]
)
def test_bad_cseq_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_cseq(text)


# --------------------------------------------------------------------------- feature tags


def test_feature_tags_of_an_rcs_contact() -> None:
    contact = parse_name_addr(
        "<sip:+8613800000001@192.0.2.7:5060;transport=tcp>"
        ';+sip.instance="<urn:gsma:imei:86000000-000001-0>"'
        f';+g.3gpp.icsi-ref="{ICSI_MSG},urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"'
        ';+g.gsma.rcs.botversion="#=1,#=2";+G.GSMA.RCS.ISBOT;automata;video'
        ";expires=600000;reg-id=1;q=0.5"
    )
    assert feature_tags(contact.params) == {
        "+sip.instance": ["<urn:gsma:imei:86000000-000001-0>"],
        "+g.3gpp.icsi-ref": [
            "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg",
            "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session",
        ],
        "+g.gsma.rcs.botversion": ["#=1", "#=2"],
        "+g.gsma.rcs.isbot": None,
        "automata": None,
        "video": None,
    }


def test_feature_tags_of_accept_contact_skip_require_and_explicit() -> None:
    accept = parse_name_addr(
        f'*;+g.3gpp.iari-ref="{IARI_BOT}";+g.gsma.rcs.botversion="#=1,#=2";require;explicit'
    )
    assert feature_tags(accept.params) == {
        "+g.3gpp.iari-ref": ["urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa"],
        "+g.gsma.rcs.botversion": ["#=1", "#=2"],
    }


def test_feature_tag_token_value_and_bad_escape() -> None:
    assert feature_tags(parse_params(';+g.x=token;+g.y="50%"')) == {
        "+g.x": ["token"],
        "+g.y": ["50%"],
    }
    with pytest.raises(SipParseError):
        feature_tags(parse_params(';+g.x="%FF"'))


def test_format_feature_tags() -> None:
    text = format_feature_tags(
        {
            "+g.3gpp.icsi-ref": ["urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"],
            "+g.3gpp.iari-ref": ["urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa"],
            "+g.gsma.rcs.botversion": ["#=1", "#=2"],
            "+sip.instance": ["<urn:gsma:imei:86000000-000001-0>"],
            "+g.gsma.rcs.isbot": None,
        }
    )
    assert text == (
        f';+g.3gpp.icsi-ref="{ICSI_MSG}";+g.3gpp.iari-ref="{IARI_BOT}"'
        ';+g.gsma.rcs.botversion="#=1,#=2";+sip.instance="<urn:gsma:imei:86000000-000001-0>"'
        ";+g.gsma.rcs.isbot"
    )
    assert str(parse_name_addr("*" + text)) == "*" + text


@pytest.mark.parametrize("tags", [{"bad name": None}, {"+g.x": []}, {"+g.x": "not-a-list"}])
def test_format_feature_tags_refuses_bad_input(tags: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        format_feature_tags(tags)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties

_TAG_NAME = st.text("abcz09.-", min_size=1, max_size=12).map(lambda s: f"+g.{s}") | st.sampled_from(
    ["+g.3gpp.icsi-ref", "+g.3gpp.iari-ref", "+sip.instance", "video", "automata"]
)
_TAG_VALUES = st.none() | st.lists(st.text(max_size=12), min_size=1, max_size=4)


@given(st.dictionaries(_TAG_NAME, _TAG_VALUES, max_size=5))
def test_format_feature_tags_is_the_inverse_of_feature_tags(
    tags: dict[str, list[str] | None],
) -> None:
    assert feature_tags(parse_params(format_feature_tags(tags))) == tags


_TOKEN = st.text("abcxyzABCXYZ0189-.!%*_+`'~", min_size=1, max_size=10)
_VALUE = st.none() | _TOKEN | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)
_PARAMS = st.lists(st.tuples(_TOKEN, _VALUE), max_size=5, unique_by=lambda p: p[0].lower()).map(
    Params
)
_URI = st.sampled_from(
    [
        "sip:alice@rcs.test",
        "sip:+8613800000001@192.0.2.7:5060;transport=tcp",
        "tel:+8610086",
        "sips:[::1]",
    ]
)


@given(_PARAMS)
def test_params_round_trip(params: Params) -> None:
    assert parse_params(str(params)) == params


@given(
    st.builds(
        NameAddr,
        _URI,
        st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
        _PARAMS,
    )
)
def test_name_addr_round_trip(value: NameAddr) -> None:
    assert parse_name_addr(str(value)) == value


@given(
    st.builds(
        Via,
        st.sampled_from(["UDP", "TCP", "TLS", "WS"]),
        st.sampled_from(["192.0.2.7", "pcscf.rcs.test", "[2001:db8::1]"]),
        st.none() | st.integers(0, 65535),
        _PARAMS.map(lambda p: p.without("rport")),
    )
)
def test_via_round_trip(via: Via) -> None:
    assert parse_via(str(via)) == via


@given(st.text(max_size=40))
def test_header_parsers_raise_only_sip_parse_error(text: str) -> None:
    for parser in (parse_via, parse_name_addr, parse_cseq, parse_params):
        try:
            value = parser(text)
        except SipParseError:
            continue
        if isinstance(value, NameAddr):
            for view in ("tag", "expires", "q", "parsed_uri"):
                with contextlib.suppress(SipParseError):
                    getattr(value, view)
            with contextlib.suppress(SipParseError):
                feature_tags(value.params)
