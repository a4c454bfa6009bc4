"""SDP: the general model, MSRP media, offers and answers (RFC 4566, RFC 4975 §8, RFC 6135)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, SdpParseError
from rcs_terminal.protocol.msrp.media import answer_direction
from rcs_terminal.protocol.msrp.uri import MsrpUri, parse_uri
from rcs_terminal.protocol.sip.sdp import (
    DIRECTIONS,
    SETUP_ROLES,
    UP_WRAPPED_TYPES,
    Connection,
    MediaDescription,
    MsrpMedia,
    Origin,
    SessionDescription,
    build_msrp_answer,
    build_msrp_offer,
    describe_msrp,
    negotiate_setup,
    parse_msrp_media,
    parse_sdp,
)

WIRE = Path(__file__).parent.parent / "data" / "wire" / "sdp"
VALID = sorted(WIRE.glob("*.sdp"))
ME = parse_uri("msrp://192.0.2.10:20000/a7Fq2kL9xZ;tcp")
BOT = parse_uri("msrp://198.51.100.20:20001/Pq9dWm3Rt0;tcp")


def load(name: str) -> bytes:
    return (WIRE / name).read_bytes()


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_corpus_round_trips(path: Path) -> None:
    raw = path.read_bytes()
    description = parse_sdp(raw)
    again = parse_sdp(description.to_bytes())
    assert again == description
    if b"\r\n" in raw:
        assert description.to_bytes() == raw


def test_bare_lf_is_read_and_crlf_written() -> None:
    raw = load("offer_largemsg_lf.sdp")
    assert b"\r" not in raw
    out = parse_sdp(raw).to_bytes()
    assert out == raw.replace(b"\n", b"\r\n")
    assert parse_sdp(raw.decode()) == parse_sdp(raw)


def test_general_model_keeps_every_line_in_order() -> None:
    description = parse_sdp(load("audio_then_message.sdp"))
    assert description.origin == Origin("-", "9", "9", "IN", "IP4", "192.0.2.10")
    assert description.session_name == "mixed"
    assert description.connection == Connection("IN", "IP4", "192.0.2.10")
    assert [kind for kind, _ in description.lines] == list("vosiuebctakx")
    assert description.value("x") == "unknown-line-kept"
    assert description.attribute("group") == "BUNDLE 0"
    audio, message = description.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio",
        49170,
        "RTP/AVP",
        ("0", "8", "97"),
    )
    assert audio.attribute("rtpmap") == "97 iLBC/8000" and audio.value("b") == "AS:32"
    assert audio.direction is None and audio.connection is None
    assert (message.port, message.port_count, message.m_line) == (
        20000,
        1,
        "message 20000/1 TCP/MSRP *",
    )
    assert message.connection == Connection("IN", "IP4", "192.0.2.11")
    assert message.direction == "recvonly"


def test_up_chat_offer() -> None:
    media = parse_msrp_media(load("offer_chat_actpass.sdp"))
    assert media.port == 20000 and media.transport == "TCP/MSRP" and not media.secure
    assert media.path == (ME,) and media.first_hop == ME
    assert media.accept_types == ("message/cpim", "application/im-iscomposing+xml")
    assert media.accept_wrapped_types == UP_WRAPPED_TYPES
    assert media.setup == "actpass" and media.direction == "sendrecv"
    assert media.connection_address == "192.0.2.10"
    assert media.max_size is None and media.other_attributes == ()


def test_answer_with_unknown_attributes() -> None:
    media = parse_msrp_media(load("answer_chat_active.sdp"))
    assert media.setup == "active" and media.max_size == 1048576
    assert media.accept_wrapped_types == ("*",)
    assert media.other_attributes == ("msrp-cema",)


def test_file_transfer_attributes_are_kept() -> None:
    media = parse_msrp_media(load("offer_file_transfer.sdp"))
    assert media.direction == "sendonly" and media.setup is None
    assert media.file_selector is not None and "size:32349" in media.file_selector
    assert media.file_transfer_id == "vBnG916bdberum2fFEABR1FR3ExZMUrd"
    assert media.other_attributes[0] == "file-disposition:render"


def test_tls_ipv6_and_relay_path() -> None:
    media = parse_msrp_media(load("offer_tls_ipv6_relay.sdp"))
    assert media.secure and media.transport == "TCP/TLS/MSRP"
    assert [uri.host for uri in media.path] == ["relay.rcs.test", "[2001:db8::10]"]
    assert media.first_hop.host == "relay.rcs.test"
    assert media.connection_address == "2001:db8::10" and media.setup == "passive"
    assert media.other_attributes[0].startswith("fingerprint:SHA-256 ")


def test_rejected_stream_has_no_path() -> None:
    media = parse_msrp_media(load("answer_rejected.sdp"))
    assert media.port == 0 and media.path == () and media.accept_types == ()
    assert media.connection_address is None


def test_message_section_after_audio() -> None:
    media = parse_msrp_media(parse_sdp(load("audio_then_message.sdp")))
    assert media.connection_address == "192.0.2.11" and media.direction == "recvonly"


@pytest.mark.parametrize("path", sorted((WIRE / "broken").glob("*.sdp")), ids=lambda p: p.name)
def test_broken_corpus_is_refused(path: Path) -> None:
    with pytest.raises(SdpParseError) as info:
        parse_msrp_media(path.read_bytes())
    assert info.value.status_hint == 400 and info.value.where is not None


@pytest.mark.parametrize(
    ("name", "general_ok"),
    [("msrp_no_path.sdp", True), ("no_version.sdp", False), ("bad_line.sdp", False)],
)
def test_general_parse_versus_msrp_parse(name: str, general_ok: bool) -> None:
    raw = (WIRE / "broken" / name).read_bytes()
    if general_ok:
        assert parse_sdp(raw).media[0].media == "message"
    else:
        with pytest.raises(SdpParseError):
            parse_sdp(raw)


def test_oversized_sdp_is_refused() -> None:
    with pytest.raises(SdpParseError):
        parse_sdp(b"v=0\r\n" + b"a=x\r\n" * 100_000)
    with pytest.raises(SdpParseError):
        parse_sdp(b"v=0\r\n" + b"a=x\r\n" * 1000)


@pytest.mark.parametrize(
    ("offered", "prefer", "answer"),
    [
        ("actpass", "active", "active"),
        ("actpass", "passive", "passive"),
        ("ACTPASS", "active", "active"),
        ("active", "active", "passive"),
        ("passive", "passive", "active"),
        ("holdconn", "active", "holdconn"),
        (None, "active", "passive"),  # no a=setup: the offerer connects (RFC 4975)
    ],
)
def test_setup_negotiation(offered: str | None, prefer: str, answer: str) -> None:
    assert negotiate_setup(offered, prefer=prefer) == answer


@pytest.mark.parametrize(
    ("offered", "answer"),
    [
        ("sendonly", "recvonly"),
        ("recvonly", "sendonly"),
        ("inactive", "inactive"),
        ("sendrecv", None),
    ],
)
def test_direction_answers(offered: str, answer: str | None) -> None:
    assert answer_direction(offered) == answer


@pytest.mark.parametrize(
    "m_line",
    [
        "m=message \u00b2 TCP/MSRP *",
        "m=message 9/\u0663 TCP/MSRP *",
        "m=message 70000 TCP/MSRP *",
        "m=message 9",
    ],
)
def test_odd_ports_are_refused(m_line: str) -> None:
    raw = f"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n{m_line}\r\n".encode()
    with pytest.raises(SdpParseError):
        parse_sdp(raw)


def test_non_ascii_digits_in_max_size_are_refused() -> None:
    raw = load("offer_chat_actpass.sdp") + "a=max-size:\u00b2\r\n".encode()
    with pytest.raises(SdpParseError):
        parse_msrp_media(raw)


def test_setup_preference_must_be_a_role() -> None:
    with pytest.raises(LocalProtocolError):
        negotiate_setup("actpass", prefer="actpass")


def test_build_offer_for_up_chat() -> None:
    raw = build_msrp_offer(ME)
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.decode().split("\r\n")
    assert lines[:5] == [
        "v=0",
        lines[1],
        "s=-",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
    ]
    assert lines[1].startswith("o=- ") and lines[1].endswith(" IN IP4 192.0.2.10")
    assert "m=message 20000 TCP/MSRP *" in lines
    assert "a=accept-types:message/cpim" in lines
    assert "a=setup:actpass" in lines and f"a=path:{ME}" in lines
    media = parse_msrp_media(raw)
    assert media.accept_wrapped_types == UP_WRAPPED_TYPES and media.path == (ME,)
    assert build_msrp_offer(ME) == raw  # deterministic without a random source


def test_build_offer_options() -> None:
    own = parse_uri("msrps://[2001:db8::10]:20002/jshA7weztas;tcp")
    relay = parse_uri("msrps://relay.rcs.test:2855/relaySess1;tcp")
    raw = build_msrp_offer(
        [relay, own],
        accept_types=["message/cpim", "application/im-iscomposing+xml"],
        accept_wrapped_types=(),
        setup=None,
        max_size=4096,
        direction="sendonly",
        session_id="1234",
        extra_attributes=["file-transfer-id:abc"],
    )
    description = parse_sdp(raw)
    assert description.origin == Origin("-", "1234", "1234", "IN", "IP6", "2001:db8::10")
    media = parse_msrp_media(description)
    assert media.secure and media.path == (relay, own) and media.setup is None
    assert media.accept_wrapped_types == () and media.max_size == 4096
    assert media.direction == "sendonly" and media.file_transfer_id == "abc"
    named = parse_sdp(build_msrp_offer(parse_uri("msrp://ue.rcs.test:9/s1;tcp")))
    assert named.connection == Connection("IN", "IP4", "ue.rcs.test")


@pytest.mark.parametrize(
    "kwargs",
    [{"setup": "sometimes"}, {"direction": "sideways"}],
)
def test_build_offer_refuses_bad_values(kwargs: dict[str, str]) -> None:
    with pytest.raises(LocalProtocolError):
        build_msrp_offer(ME, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        build_msrp_offer([])


def test_answer_to_up_chat_offer_is_active() -> None:
    answer = build_msrp_answer(load("offer_chat_actpass.sdp"), BOT)
    media = parse_msrp_media(answer)
    assert media.setup == "active" and media.path == (BOT,)
    assert media.accept_types == ("message/cpim",) and media.direction == "sendrecv"
    passive = parse_msrp_media(
        build_msrp_answer(load("offer_chat_actpass.sdp"), BOT, prefer_setup="passive")
    )
    assert passive.setup == "passive"


def test_answer_to_legacy_and_file_transfer_offers() -> None:
    legacy = parse_msrp_media(build_msrp_answer(load("offer_no_setup.sdp"), BOT))
    assert legacy.setup == "passive"
    offer = parse_msrp_media(load("offer_file_transfer.sdp"))
    answer = parse_msrp_media(build_msrp_answer(offer, BOT))
    assert answer.direction == "recvonly"
    assert answer.file_selector == offer.file_selector
    assert answer.file_transfer_id == offer.file_transfer_id
    inactive = MsrpMedia(9, "TCP/MSRP", (ME,), ("message/cpim",), direction="inactive")
    assert parse_msrp_media(build_msrp_answer(inactive, BOT)).direction == "inactive"


def test_answer_to_garbage_raises() -> None:
    with pytest.raises(SdpParseError):
        build_msrp_answer(b"not sdp", BOT)


def test_serialising_refuses_line_breaks_in_values() -> None:
    description = SessionDescription((("v", "0"), ("s", "a\r\nb=c")))
    with pytest.raises(LocalProtocolError):
        description.to_bytes()


# --------------------------------------------------------------------------- properties

values = st.text(
    st.characters(blacklist_characters="\r\n\x00", blacklist_categories=["Cs"]), max_size=30
)
kinds = st.sampled_from(list("abcdeikprtuxz"))
lines = st.lists(st.tuples(kinds, values), max_size=6)
media = st.builds(
    MediaDescription,
    media=st.sampled_from(["message", "audio", "video", "application"]),
    port=st.integers(0, 65535),
    proto=st.sampled_from(["TCP/MSRP", "TCP/TLS/MSRP", "RTP/AVP"]),
    formats=st.lists(st.from_regex(r"[a-z0-9*]{1,4}", fullmatch=True), max_size=3).map(tuple),
    lines=lines.map(tuple),
    port_count=st.none() | st.integers(1, 9),
)


@st.composite
def descriptions(draw: st.DrawFn) -> SessionDescription:
    head = (("v", "0"), ("o", "- 1 2 IN IP4 192.0.2.1"), ("s", draw(values)))
    session = head + tuple(draw(lines))
    return SessionDescription(session, tuple(draw(st.lists(media, max_size=3))))


@given(descriptions())
def test_model_round_trip(description: SessionDescription) -> None:
    assert parse_sdp(description.to_bytes()) == description


@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_sdp_error(data: bytes) -> None:
    with contextlib.suppress(SdpParseError):
        parse_msrp_media(data)


@given(
    st.sampled_from(VALID), st.integers(0, 2000), st.binary(min_size=1, max_size=6), st.booleans()
)
def test_mutated_corpus_parses_or_raises_sdp_error(
    path: Path, at: int, junk: bytes, replace: bool
) -> None:
    raw = path.read_bytes()
    at %= len(raw) + 1
    mutated = raw[:at] + junk + raw[at + (len(junk) if replace else 0) :]
    try:
        media = parse_msrp_media(mutated)
    except SdpParseError:
        return
    assert media.transport in ("TCP/MSRP", "TCP/TLS/MSRP")


tokens = st.from_regex(r"[a-z]{1,8}/[a-z0-9.+\-]{1,12}", fullmatch=True)
msrp_uris = st.builds(
    MsrpUri,
    host=st.ip_addresses(v=4).map(str) | st.from_regex(r"[a-z]{1,8}\.test", fullmatch=True),
    port=st.integers(1, 65535),
    session_id=st.from_regex(r"[A-Za-z0-9]{4,16}", fullmatch=True),
    scheme=st.sampled_from(["msrp", "msrps"]),
)
plain_text = st.text(
    st.characters(blacklist_characters="\r\n\x00", blacklist_categories=["Cs"]), max_size=20
)
msrp_media = st.builds(
    MsrpMedia,
    port=st.integers(0, 65535),
    transport=st.sampled_from(["TCP/MSRP", "TCP/TLS/MSRP"]),
    path=st.lists(msrp_uris, min_size=1, max_size=3).map(tuple),
    accept_types=st.lists(tokens, max_size=3).map(tuple),
    accept_wrapped_types=st.lists(tokens, max_size=3).map(tuple),
    setup=st.none() | st.sampled_from(SETUP_ROLES),
    max_size=st.none() | st.integers(0, 2**40),
    connection_address=st.ip_addresses().map(str),
    direction=st.sampled_from(DIRECTIONS),
    file_selector=st.none() | plain_text,
    file_transfer_id=st.none() | st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True),
    other_attributes=st.lists(
        st.from_regex(r"x-[a-z]{1,8}(:[a-z0-9 ]{0,10})?", fullmatch=True), max_size=3
    ).map(tuple),
)


@given(msrp_media)
def test_msrp_media_round_trip(media: MsrpMedia) -> None:
    description = describe_msrp(media)
    assert parse_msrp_media(description.to_bytes()) == media


def test_offer_answer_paths_drive_a_session_pair() -> None:
    from rcs_terminal.protocol.msrp import MessageReceived, MessageSent, MsrpSession

    offer = parse_msrp_media(build_msrp_offer(ME))
    answer = parse_msrp_media(build_msrp_answer(offer, BOT))
    assert answer.setup == "active"  # so the bot side connects to offer.first_hop
    alice = MsrpSession(ME, answer.path, id_source=iter(f"a{n:07d}" for n in range(99)).__next__)
    bot = MsrpSession(BOT, offer.path, id_source=iter(f"b{n:07d}" for n in range(99)).__next__)
    bot.send_empty(0.0)
    assert alice.receive_data(bot.data_to_send(0.0), 0.0) == [] and alice.bound
    alice.send_message("message/cpim", b"hi", 0.0)
    bound, received = bot.receive_data(alice.data_to_send(0.0), 0.0)  # 200 for the empty SEND
    assert isinstance(bound, MessageSent)
    assert isinstance(received, MessageReceived) and received.body == b"hi"
