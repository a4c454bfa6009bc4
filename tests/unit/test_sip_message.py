"""SIP messages: the wire corpus, Headers, parsing, writing, build_response and StreamFramer."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.errors import LocalProtocolError, SipParseError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.sip import (
    Headers,
    Request,
    Response,
    StreamFramer,
    build_response,
    parse_message,
)
from rcs_terminal.protocol.sip.headers import CSeq, feature_tags
from rcs_terminal.protocol.sip.uri import SipUri, TelUri

CORPUS = Path(__file__).parent.parent / "data" / "wire" / "sip"
GOOD = sorted(CORPUS.glob("*.sip"))
BROKEN = sorted((CORPUS / "broken").glob("*.sip"))
IMS = "ims.mnc000.mcc460.3gppnetwork.org"


def load(name: str) -> Request | Response:
    return parse_message((CORPUS / name).read_bytes())


def load_request(name: str) -> Request:
    message = load(name)
    assert isinstance(message, Request)
    return message


def load_response(name: str) -> Response:
    message = load(name)
    assert isinstance(message, Response)
    return message


def read_everything(message: Request | Response) -> None:
    """Read every typed view, as an engine would, so a lazy error shows up."""
    message.validate()
    for via in message.vias:
        via.rport  # noqa: B018
    for name in ("Contact", "Route", "Record-Route", "Path", "Service-Route", "Accept-Contact"):
        for address in message.addresses(name):
            if not address.is_wildcard:
                address.parsed_uri  # noqa: B018
            address.expires  # noqa: B018
            address.q  # noqa: B018
            feature_tags(address.params)
    if isinstance(message, Request):
        message.request_uri  # noqa: B018


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_is_there() -> None:
    assert len(GOOD) >= 12 and len(BROKEN) >= 15
    for path in GOOD + BROKEN:
        assert b"\r\n" in path.read_bytes(), path.name


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_every_good_message_parses_and_round_trips(path: Path) -> None:
    data = path.read_bytes()
    message = parse_message(data)
    read_everything(message)
    again = parse_message(message.to_bytes())
    assert again == message
    assert again.to_bytes() == message.to_bytes()
    length = message.headers.get("Content-Length")
    assert length is not None and int(length) == len(message.body)


@pytest.mark.parametrize(
    "name",
    [
        "01_register_initial.sip",
        "05_register_200.sip",
        "08_message_cpim_chatbot_card.sip",
        "13_notify_regevent.sip",
    ],
)
def test_canonical_messages_are_written_back_byte_for_byte(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    assert parse_message(data).to_bytes() == data


@pytest.mark.parametrize("path", BROKEN, ids=lambda path: path.name)
def test_every_broken_message_raises_sip_parse_error(path: Path) -> None:
    with pytest.raises(SipParseError) as caught:
        read_everything(parse_message(path.read_bytes()))
    if not path.name.startswith("bad_status"):
        assert caught.value.status_hint in (400, 505, 513)


def test_initial_register() -> None:
    register = load_request("01_register_initial.sip")
    assert register.method == "REGISTER"
    assert register.request_uri == SipUri("sip", None, IMS)
    assert register.cseq == CSeq(1, "REGISTER")
    assert register.from_.tag == "4fa3b2c1" and register.to.tag is None
    assert register.top_via.rport is True and register.top_via.branch is not None
    authorization = register.headers.get_all("Authorization")
    assert len(authorization) == 1 and 'nonce="",response=""' in authorization[0]
    assert register.headers.get_all("Supported") == ["path", "gruu"]
    assert register.headers.get_all("Allow")[-1] == "OPTIONS"
    (contact,) = register.contacts
    assert contact.expires == 600000 and contact.params.get("reg-id") == "1"
    tags = feature_tags(contact.params)
    assert tags["+sip.instance"] == ["<urn:gsma:imei:86000000-000001-0>"]
    assert "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg" in (tags["+g.3gpp.icsi-ref"] or [])
    assert tags["+g.gsma.rcs.botversion"] == ["#=1", "#=2"]
    assert tags["+g.gsma.rcs.cpm.pager-large"] is None


def test_401_challenges_are_never_split() -> None:
    aka = load_response("02_register_401_aka.sip")
    assert (aka.status, aka.reason) == (401, "Unauthorized")
    (challenge,) = aka.headers.get_all("WWW-Authenticate")
    assert "algorithm=AKAv1-MD5" in challenge and 'qop="auth"' in challenge
    assert aka.top_via.rport == 49152 and aka.top_via.received == "198.51.100.23"
    digest = load_response("03_register_401_digest.sip")
    challenges = digest.headers.get_all("www-authenticate")
    assert len(challenges) == 2 and 'qop="auth,auth-int"' in challenges[1]
    assert digest.headers.get_all("Date") == ["Wed, 01 May 2024 08:30:00 GMT"]


def test_folded_authorization_is_joined() -> None:
    register = load_request("04_register_credentials.sip")
    authorization = register.headers.get("Authorization") or ""
    assert "\r" not in authorization and "\n" not in authorization
    assert 'uri="sip:ims.mnc000.mcc460.3gppnetwork.org", nonce="' in authorization
    assert authorization.endswith('opaque="5ccc069c403ebaf9f0171e9517f40e41"')


def test_register_200_routes_and_identities() -> None:
    ok = load_response("05_register_200.sip")
    routes = ok.addresses("Service-Route")
    assert [route.uri for route in routes] == [
        f"sip:orig@scscf.{IMS}:6060;lr",
        f"sip:orig@icscf.{IMS};lr",
    ]
    identities = [address.parsed_uri for address in ok.addresses("P-Associated-URI")]
    assert isinstance(identities[0], SipUri) and isinstance(identities[1], TelUri)
    assert ok.headers.get_all("Path") == ["<sip:term@pcscf.rcs.test:5060;lr>"]
    assert ok.contacts[0].expires == 600000


def test_options_200_from_a_chatbot_uses_compact_forms_and_ipv6() -> None:
    ok = load_response("07_options_200_chatbot.sip")
    assert [name for name, _ in ok.headers][6:8] == ["Contact", "Supported"]
    assert ok.headers.get_all("k") == ["timer", "100rel"]
    first, second = ok.vias
    assert first.received == "[2001:db8::53]" and second.host == "[2001:db8::7]"
    tags = feature_tags(ok.contacts[0].params)
    assert tags["+g.gsma.rcs.isbot"] is None and "automata" in tags


def test_chatbot_message_with_cpim_and_multipart_body() -> None:
    message = load_request("08_message_cpim_chatbot_card.sip")
    assert len(message.vias) == 3 and message.content_type == "message/cpim"
    accept = message.addresses("Accept-Contact")
    assert len(accept) == 2 and all(value.is_wildcard for value in accept)
    assert "require" in accept[1].params and "explicit" in accept[1].params
    assert feature_tags(accept[1].params)["+g.3gpp.iari-ref"] == [
        "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa"
    ]
    assert message.addresses("P-Asserted-Identity")[0].display_name == "5G消息 演示"
    assert message.body.startswith(b"From: <sip:12599000001@botplatform.lab>\r\n")
    assert "欢迎使用".encode() in message.body and message.body.endswith(b"--next--\r\n")


def test_compact_and_lower_case_names_are_canonical() -> None:
    message = load_request("09_message_cpim_to_bot_compact.sip")
    names = [name for name, _ in message.headers]
    assert names[:9] == [
        "Via",
        "Max-Forwards",
        "Route",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Accept-Contact",
        "Accept-Contact",
    ]
    assert "P-Preferred-Identity" in names and names[-2:] == ["Content-Type", "Content-Length"]
    assert message.call_id == "3c9f1a2b-msg-0042@192.0.2.7"
    assert message.body.endswith("查询话费".encode())


def test_invite_with_folded_via_list_record_route_and_sdp() -> None:
    invite = load_request("11_invite_msrp.sip")
    assert [via.host for via in invite.vias] == [
        "pcscf.rcs.test",
        f"scscf.{IMS}",
        "botplatform.lab",
    ]
    assert len(invite.addresses("Record-Route")) == 2
    assert invite.body.startswith(b"v=0\r\n") and b"m=message 7394 TCP/MSRP *" in invite.body
    assert invite.headers.get("Session-Expires") == "1800;refresher=uac"


def test_notify_reg_event() -> None:
    notify = load_request("13_notify_regevent.sip")
    assert notify.headers.get("Event") == "reg"
    assert notify.content_type == "application/reginfo+xml"
    assert notify.body.startswith(b"<?xml") and notify.body.endswith(b"</reginfo>\r\n")


# --------------------------------------------------------------------------- Headers


def test_headers_multimap() -> None:
    headers = Headers(
        [("Via", "SIP/2.0/UDP a;branch=z9hG4bK1"), ("v", "SIP/2.0/UDP b;branch=z9hG4bK2")]
    )
    headers.add("i", "abc@host")
    headers.add("X-Custom", "one")
    headers.add("x-custom", "two")
    assert len(headers) == 5
    assert headers.get("VIA") == "SIP/2.0/UDP a;branch=z9hG4bK1"
    assert headers.get("call-id") == "abc@host" and "CALL-ID" in headers and "i" in headers
    assert headers.get_all("X-CUSTOM") == ["one", "two"]
    assert list(headers)[2] == ("Call-ID", "abc@host")
    assert headers.get("Missing") is None and headers.get_all("Missing") == []
    assert 3 not in headers


def test_headers_set_remove_copy() -> None:
    headers = Headers([("X-A", "1"), ("X-B", "2"), ("x-a", "3"), ("X-C", "4")])
    copy = headers.copy()
    headers.set("x-A", "9")
    assert list(headers) == [("x-A", "9"), ("X-B", "2"), ("X-C", "4")]
    headers.set("X-D", "5")
    assert list(headers)[-1] == ("X-D", "5")
    headers.remove("x-b")
    headers.remove("nothing")
    assert "X-B" not in headers and len(headers) == 3
    assert copy.get_all("X-A") == ["1", "3"] and copy != headers
    assert copy == Headers([("x-a", "1"), ("x-b", "2"), ("X-A", "3"), ("x-c", "4")])
    compact = Headers([("m", "<sip:a@b>")])
    assert list(compact) == [("Contact", "<sip:a@b>")]


def test_get_all_splits_only_list_headers_outside_quotes_and_brackets() -> None:
    headers = Headers(
        [
            ("Contact", '"Smith, J" <sip:a@x;p=1,2>;q=0.5, <sip:b@y>, "x\\",y" <sip:c@z>'),
            ("Route", "<sip:p1;lr>,<sip:p2;lr>"),
            ("Accept-Contact", '*;+g.gsma.rcs.botversion="#=1,#=2";require'),
            ("WWW-Authenticate", 'Digest realm="a", nonce="b", qop="auth,auth-int"'),
            ("Date", "Wed, 01 May 2024 08:30:00 GMT"),
            ("Supported", "path , , gruu"),
            ("Contact", "<sip:d@w>"),
        ]
    )
    assert headers.get_all("Contact") == [
        '"Smith, J" <sip:a@x;p=1,2>;q=0.5',
        "<sip:b@y>",
        '"x\\",y" <sip:c@z>',
        "<sip:d@w>",
    ]
    assert headers.get_all("route") == ["<sip:p1;lr>", "<sip:p2;lr>"]
    assert headers.get_all("Accept-Contact") == ['*;+g.gsma.rcs.botversion="#=1,#=2";require']
    assert len(headers.get_all("WWW-Authenticate")) == 1
    assert headers.get_all("Date") == ["Wed, 01 May 2024 08:30:00 GMT"]
    assert headers.get_all("Supported") == ["path", "gruu"]
    assert headers.raw_values("Contact")[1] == "<sip:d@w>"


@pytest.mark.parametrize(
    ("name", "value"), [("Bad Name", "x"), ("", "x"), ("X", "a\r\nB: c"), ("X", "nul\x00")]
)
def test_headers_refuse_what_would_corrupt_the_message(name: str, value: str) -> None:
    with pytest.raises(LocalProtocolError):
        Headers().add(name, value)


# --------------------------------------------------------------------------- parsing details


def _message(*lines: str, body: bytes = b"") -> bytes:
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


BASE = (
    "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1",
    "From: <sip:a@rcs.test>;tag=1",
    "To: <sip:b@rcs.test>",
    "Call-ID: c1",
    "CSeq: 7 MESSAGE",
)


def test_request_fields_and_typed_views() -> None:
    message = parse_message(
        _message("MESSAGE sip:b@rcs.test SIP/2.0", *BASE, "Content-Length: 2", body=b"hi")
    )
    assert isinstance(message, Request)
    assert (message.method, message.uri, message.body) == ("MESSAGE", "sip:b@rcs.test", b"hi")
    assert message.vias[0] is message.top_via or message.vias[0] == message.top_via
    assert message.contacts == [] and message.content_type is None
    message.validate()


def test_leading_crlf_bare_lf_and_folding_are_accepted() -> None:
    data = (
        b"\r\n\r\nOPTIONS sip:b@rcs.test SIP/2.0\n"
        + "\n".join(BASE).encode()
        + b"\nSubject: a\n  long\n\tsubject\n\n"
    )
    message = parse_message(data)
    assert message.headers.get("Subject") == "a long subject"
    assert message.headers.get("Content-Length") == "0"
    assert parse_message(message.to_bytes()) == message


def test_datagram_body_follows_content_length() -> None:
    extra = parse_message(_message("MESSAGE sip:b SIP/2.0", *BASE, "l: 3", body=b"abcdef"))
    assert extra.body == b"abc"
    absent = parse_message(_message("MESSAGE sip:b SIP/2.0", *BASE, body=b"\x00\xffbinary"))
    assert absent.body == b"\x00\xffbinary" and absent.headers.get("Content-Length") == "8"
    assert absent.to_bytes().endswith(b"Content-Length: 8\r\n\r\n\x00\xffbinary")
    same = parse_message(
        _message("MESSAGE sip:b SIP/2.0", *BASE, "Content-Length: 002", "l: 002", body=b"ok")
    )
    assert same.headers.raw_values("Content-Length") == ["2"]


@pytest.mark.parametrize(
    ("start", "status", "reason"),
    [
        ("SIP/2.0 100 Trying", 100, "Trying"),
        ("SIP/2.0 699 Whatever it is", 699, "Whatever it is"),
        ("sip/2.0 200 ", 200, ""),
        ("SIP/2.0 183", 183, ""),
        ("SIP/2.0 480 暂时无法接通", 480, "暂时无法接通"),
    ],
)
def test_status_lines(start: str, status: int, reason: str) -> None:
    response = parse_message(_message(start, *BASE))
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (status, reason)


@pytest.mark.parametrize(
    ("start", "hint"),
    [
        ("SIP/2.0 099 Low", None),
        ("SIP/2.0 2000 OK", None),
        ("SIP/2.0 20x OK", None),
        ("SIP/1.0 200 OK", None),
        ("MESSAGE sip:b SIP/2.1", 505),
        ("MESSAGE sip:b HTTP/1.1", 400),
        ("MESSAGE sip:b", 400),
        ("MESSAGE  sip:b SIP/2.0", 400),
        ("MESSAGE nouri SIP/2.0", 400),
        ("", 400),
    ],
)
def test_bad_start_lines(start: str, hint: int | None) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(_message(start, *BASE))
    assert caught.value.status_hint == hint


def test_limits_are_enforced() -> None:
    too_big = _message("MESSAGE sip:b SIP/2.0", *BASE, body=b"x" * limits.MAX_SIP_MESSAGE)
    with pytest.raises(SipParseError, match="exceeds") as caught:
        parse_message(too_big)
    assert caught.value.status_hint == 513
    fields = [f"X-{index}: {index}" for index in range(limits.MAX_SIP_HEADERS)]
    with pytest.raises(SipParseError, match="header fields"):
        parse_message(_message("MESSAGE sip:b SIP/2.0", *BASE, *fields))
    just_fits = [f"X-{index}: {index}" for index in range(limits.MAX_SIP_HEADERS - len(BASE))]
    fits = parse_message(_message("MESSAGE sip:b SIP/2.0", *BASE, *just_fits))
    assert len(fits.headers) == limits.MAX_SIP_HEADERS + 1  # the model gains Content-Length


def test_missing_and_malformed_headers_raise_when_read() -> None:
    request = parse_message(_message("MESSAGE sip:b SIP/2.0", "CSeq: x", "From: <broken"))
    response = parse_message(_message("SIP/2.0 200 OK"))
    for message, hint in ((request, 400), (response, None)):
        for view in ("call_id", "cseq", "vias", "top_via", "from_", "to"):
            with pytest.raises(SipParseError) as caught:
                getattr(message, view)
            assert caught.value.status_hint == hint
        with pytest.raises(SipParseError):
            message.validate()
    mismatch = parse_message(_message("INVITE sip:b SIP/2.0", *BASE))
    with pytest.raises(SipParseError, match="CSeq method"):
        mismatch.validate()


def test_views_see_header_changes() -> None:
    request = parse_message(_message("MESSAGE sip:b SIP/2.0", *BASE))
    assert request.cseq.seq == 7
    request.headers.set("CSeq", "8 MESSAGE")
    assert request.cseq == CSeq(8, "MESSAGE")


# --------------------------------------------------------------------------- writing


def test_to_bytes_writes_the_true_content_length() -> None:
    headers = Headers(
        [("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("Content-Length", "999"), ("Subject", "x")]
    )
    request = Request("MESSAGE", "sip:b@rcs.test", headers, "你好".encode())
    data = request.to_bytes()
    assert data == (
        b"MESSAGE sip:b@rcs.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"Content-Length: 6\r\nSubject: x\r\n\r\n" + "你好".encode()
    )
    response = Response(202, "Accepted", Headers())
    assert response.to_bytes() == b"SIP/2.0 202 Accepted\r\nContent-Length: 0\r\n\r\n"


# --------------------------------------------------------------------------- build_response


def test_build_response_copies_the_dialog_headers() -> None:
    invite = load_request("11_invite_msrp.sip")
    ringing = build_response(invite, 180, to_tag="ue-41")
    assert (ringing.status, ringing.reason, ringing.body) == (180, "Ringing", b"")
    assert [via.branch for via in ringing.vias] == [via.branch for via in invite.vias]
    assert ringing.from_ == invite.from_ and ringing.call_id == invite.call_id
    assert ringing.cseq == invite.cseq and ringing.to.tag == "ue-41"
    assert ringing.to.uri == invite.to.uri
    assert ringing.headers.raw_values("Record-Route") == invite.headers.raw_values("Record-Route")
    names = [name for name, _ in ringing.headers]
    assert names == ["Via", "Via", "From", "To", "Call-ID", "CSeq", "Record-Route", "Record-Route"]
    rejected = build_response(invite, 486, to_tag="ue-41")
    assert "Record-Route" not in rejected.headers and rejected.reason == "Busy Here"
    trying = build_response(invite, 100)
    assert "Record-Route" not in trying.headers and trying.to.tag is None


def test_build_response_reason_tags_and_timestamp() -> None:
    request = parse_message(_message("MESSAGE sip:b SIP/2.0", *BASE, "Timestamp: 54.2"))
    assert isinstance(request, Request)
    assert build_response(request, 202).reason == "Accepted"
    assert build_response(request, 499).reason == "Request Failure"
    assert build_response(request, 603, "Nope").reason == "Nope"
    assert build_response(request, 100).headers.get("Timestamp") == "54.2"
    assert "Timestamp" not in build_response(request, 200).headers
    tagged = parse_message(
        _message("MESSAGE sip:b SIP/2.0", *BASE[:2], "To: <sip:b@rcs.test>;tag=old", *BASE[3:])
    )
    assert isinstance(tagged, Request)
    assert build_response(tagged, 200, to_tag="new").to.tag == "old"
    sent = parse_message(build_response(request, 200, to_tag="t9").to_bytes())
    assert isinstance(sent, Response) and sent.to.tag == "t9"


@pytest.mark.parametrize(("status", "tag"), [(99, None), (700, None), (200, "bad tag")])
def test_build_response_refuses_bad_arguments(status: int, tag: str | None) -> None:
    request = load_request("06_options.sip")
    with pytest.raises(LocalProtocolError):
        build_response(request, status, to_tag=tag)


# --------------------------------------------------------------------------- StreamFramer


def test_framer_returns_several_messages_per_read_and_skips_keepalives() -> None:
    first = (CORPUS / "01_register_initial.sip").read_bytes()
    second = (CORPUS / "08_message_cpim_chatbot_card.sip").read_bytes()
    framer = StreamFramer()
    messages = framer.feed(b"\r\n\r\n" + first + b"\r\n\r\n" + second + b"\r\n")
    assert [type(message) for message in messages] == [Request, Request]
    assert messages[1].body == parse_message(second).body
    assert framer.pings_received == 2 and framer.pongs_received == 1
    assert framer.feed(b"") == [] and not framer.broken


def test_framer_assembles_one_message_from_many_reads() -> None:
    data = (CORPUS / "11_invite_msrp.sip").read_bytes()
    framer = StreamFramer()
    out: list[Request | Response] = []
    for index in range(len(data)):
        out += framer.feed(data[index : index + 1])
    assert out == [parse_message(data)]


def test_framer_keeps_messages_framed_before_a_bad_one() -> None:
    good = (CORPUS / "10_message_202.sip").read_bytes()
    bad = b"NOT A START LINE\r\nContent-Length: 0\r\n\r\n"
    framer = StreamFramer()
    with pytest.raises(SipParseError):
        framer.feed(good + bad + good)
    assert not framer.broken
    assert framer.feed(b"") == [parse_message(good), parse_message(good)]
    assert framer.feed(b"") == []


@pytest.mark.parametrize(
    "data",
    [
        b"MESSAGE sip:b SIP/2.0\r\nCall-ID: x\r\n\r\nbody",
        b"MESSAGE sip:b SIP/2.0\r\nContent-Length: x1\r\n\r\n",
        b"MESSAGE sip:b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n",
        b"MESSAGE sip:b SIP/2.0\r\nContent-Length: 999999999\r\n\r\n",
        b"MESSAGE sip:b SIP/2.0\r\nX: " + b"y" * limits.MAX_SIP_MESSAGE,
    ],
    ids=["no-length", "bad-length", "two-lengths", "too-long", "endless-headers"],
)
def test_framing_errors_break_the_stream(data: bytes) -> None:
    framer = StreamFramer()
    with pytest.raises(SipParseError):
        framer.feed(data)
    assert framer.broken
    with pytest.raises(SipParseError, match="unusable"):
        framer.feed(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")


def test_broken_framer_still_hands_over_earlier_messages() -> None:
    good = (CORPUS / "10_message_202.sip").read_bytes()
    framer = StreamFramer()
    with pytest.raises(SipParseError):
        framer.feed(good + b"MESSAGE sip:b SIP/2.0\r\n\r\n")
    assert framer.broken
    assert framer.feed(b"") == [parse_message(good)]
    with pytest.raises(SipParseError):
        framer.feed(b"")
