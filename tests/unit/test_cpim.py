"""message/cpim parsing and building (rcs_terminal.protocol.cpim) over the wire corpus."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import CpimParseError, LocalProtocolError
from rcs_terminal.protocol import cpim, limits
from rcs_terminal.protocol.cpim import (
    ANONYMOUS,
    CPIM_NS,
    CPM_NS,
    IMDN_NS,
    MAAP_NS,
    CpimAddress,
    CpimMessage,
    format_rfc3339,
    parse_rfc3339,
)
from rcs_terminal.protocol.mime import parse_content_type
from rcs_terminal.protocol.multipart import parse_multipart

WIRE = Path(__file__).parents[1] / "data" / "wire" / "cpim"
GOOD = sorted(WIRE.glob("*.cpim"))
BROKEN = sorted((WIRE / "broken").glob("*.cpim"))
CST = dt.timezone(dt.timedelta(hours=8))


def read_every_view(message: CpimMessage) -> tuple[Any, ...]:
    """Touch every lazily computed view, as a consumer of the message would."""
    return (
        message.from_,
        message.to,
        message.to_all,
        message.datetime,
        message.subject,
        message.message_id,
        message.disposition_notification,
        message.traffic_type,
        message.content_type,
        message.content_disposition,
        message.is_imdn,
        message.decoded_body(),
        message.text() if message.content_type.type == "text" else None,
    )


def test_corpus_is_present() -> None:
    assert len(GOOD) >= 10 and len(BROKEN) >= 10


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_good_capture_parses_and_round_trips(path: Path) -> None:
    data = path.read_bytes()
    message = cpim.parse(data)
    read_every_view(message)
    again = cpim.parse(message.to_bytes())
    assert again == message
    if b"\r\n" in data and b"\r\n " not in data:
        assert message.to_bytes() == data  # unfolded CRLF captures come back byte for byte


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_every_broken_capture_raises_cpim_parse_error(path: Path) -> None:
    with pytest.raises(CpimParseError) as info:
        read_every_view(cpim.parse(path.read_bytes()))
    assert info.value.where is not None


def load(name: str) -> CpimMessage:
    return cpim.parse((WIRE / name).read_bytes())


def test_chinese_text_message() -> None:
    message = load("text_chinese.cpim")
    assert message.from_ == CpimAddress("sip:+8613800000001@rcs.test", "张三")
    assert message.to == CpimAddress("tel:+8613900000002")
    assert message.datetime == dt.datetime(2024, 5, 1, 9, 30, 15, 123000, tzinfo=CST)
    assert message.message_id == "Mx7Fq2ZbT0aQ"
    assert message.disposition_notification == {"positive-delivery", "display"}
    assert message.content_type.media_type == "text/plain"
    assert message.text() == "你好，明天下午三点开会，记得带上资料。"
    assert message.notes == () and not message.is_imdn


def test_chatbot_card_with_chip_list() -> None:
    message = load("chatbot_card_chips.cpim")
    assert message.from_ is not None and message.from_.uri == "sip:12520040001@botplatform.lab"
    assert message.disposition_notification == {"positive-delivery", "negative-delivery", "display"}
    parts = parse_multipart(message.decoded_body(), message.content_type)
    assert [p.content_type.media_type for p in parts] == [
        "application/vnd.gsma.botmessage.v1.0+json",
        "application/vnd.gsma.botsuggestion.v1.0+json",
    ]
    assert "新品上市".encode() in parts[0].body and "查看更多".encode() in parts[1].body


def test_base64_body_is_decoded_on_request() -> None:
    message = load("base64_text.cpim")
    assert message.body != message.decoded_body()
    assert message.text() == "欢迎使用5G消息！回复“菜单”查看全部服务。"


def test_advertisement_traffic_type() -> None:
    message = load("advertisement.cpim")
    assert message.traffic_type == "advertisement"
    assert message.get(MAAP_NS, "Traffic-Type") == "advertisement"
    assert message.get("http://www.gsma.com/rcs/maap", "traffic-type") == "advertisement"


def test_any_prefix_declared_for_imdn_is_the_imdn_namespace() -> None:
    message = load("odd_prefix.cpim")
    assert message.message_id == "0000017f3a9c"
    assert message.disposition_notification == {"positive-delivery", "display"}
    assert [h.local_name for h in message.headers if h.namespace == IMDN_NS] == [
        "Message-ID",
        "Disposition-Notification",
    ]


def test_anonymous_addresses() -> None:
    message = load("anonymous.cpim")
    assert message.from_ == ANONYMOUS and message.to == ANONYMOUS
    assert str(ANONYMOUS) == "<sip:anonymous@anonymous.invalid>"


def test_lf_only_message() -> None:
    message = load("lf_only.cpim")
    assert message.text() == "菜单" and message.message_id == "lf-0001"
    assert b"\n" in message.to_bytes() and message.to_bytes().count(b"\r\n") == 9


def test_sloppy_case_folding_and_space_separated_datetime() -> None:
    message = load("sloppy_case_and_folding.cpim")
    assert message.from_ is not None and message.from_.uri == "tel:+8613900000002"
    assert message.message_id == "fold-0001"
    assert message.disposition_notification == {"positive-delivery", "display"}
    assert message.datetime == dt.datetime(2024, 5, 1, 9, 40, tzinfo=CST)
    assert message.subject == "测试"
    assert message.content_type.charset == "utf-8"


def test_content_length_mismatch_is_noted_not_fatal() -> None:
    message = load("length_mismatch.cpim")
    assert message.text() == "字符数不是字节数"
    assert len(message.notes) == 1 and "Content-Length 8" in message.notes[0]


def test_unreadable_datetime_is_kept_raw() -> None:
    message = load("bad_datetime.cpim")
    assert message.datetime is None
    assert message.datetime_raw == "Wed, 01 May 2024 09:41:00 +0800"


def test_iscomposing_wrapped_in_cpim() -> None:
    message = load("iscomposing.cpim")
    assert message.content_type.media_type == "application/im-iscomposing+xml"
    assert message.message_id is None and message.disposition_notification == frozenset()


def test_missing_content_type_defaults_to_text_plain() -> None:
    message = cpim.parse(b"From: <sip:a@rcs.test>\r\n\r\n\r\nhi")
    assert message.content_type.media_type == "text/plain" and message.text() == "hi"
    assert message.content_headers.fields == () and message.to is None


def test_exact_case_wins_then_any_case() -> None:
    message = cpim.parse(
        b"NS: p <urn:example:lab>\r\np.Key: lower-first\r\np.key: exact\r\n\r\n"
        b"Content-Type: text/plain\r\n\r\n"
    )
    assert message.get("urn:example:lab", "key") == "exact"
    assert message.get("urn:example:lab", "KEY") == "lower-first"
    assert message.get("urn:example:other", "key") is None


def test_default_namespace_declaration_applies_to_unprefixed_extension_headers() -> None:
    message = cpim.parse(
        b"From: <sip:a@rcs.test>\r\nNS: <urn:example:lab>\r\nColour: red\r\n"
        b"To: <sip:b@rcs.test>\r\n"
        b"\r\nContent-Type: text/plain\r\n\r\n"
    )
    assert message.get("urn:example:lab", "Colour") == "red"
    assert message.to == CpimAddress("sip:b@rcs.test")  # core headers stay in the CPIM namespace


def test_late_ns_declaration_is_tolerated() -> None:
    message = cpim.parse(b"imdn.Message-ID: late\r\nNS: imdn <urn:ietf:params:imdn>\r\n\r\n\r\n")
    assert message.message_id == "late"


def test_quoted_printable_and_unknown_charset() -> None:
    qp = cpim.parse(
        b"From: <sip:a@rcs.test>\r\n\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=E4=BD=A0=E5=A5=BD"
    )
    assert qp.text() == "你好"
    odd = cpim.parse(b"\r\nContent-Type: text/plain; charset=x-martian\r\n\r\nhi")
    with pytest.raises(CpimParseError, match="charset"):
        odd.text()
    gbk_body = cpim.parse(b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xc4\xe3")
    with pytest.raises(CpimParseError):
        gbk_body.text()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<sip:a@rcs.test>", CpimAddress("sip:a@rcs.test")),
        ("sip:a@rcs.test", CpimAddress("sip:a@rcs.test")),
        ("Bob <tel:+8613900000002>", CpimAddress("tel:+8613900000002", "Bob")),
        ('"李 \\"四\\"" <sip:b@rcs.test>', CpimAddress("sip:b@rcs.test", '李 "四"')),
    ],
)
def test_address_forms(value: str, expected: CpimAddress) -> None:
    assert CpimAddress.parse(value) == expected
    assert CpimAddress.parse(str(expected)) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "<>",
        "<sip:a@rcs.test",
        '"open <sip:a@rcs.test>',
        '"x" sip:a@rcs.test',
        "no uri",
        "<a b:c>",
        "<sip:a> x",
    ],
)
def test_bad_addresses(value: str) -> None:
    with pytest.raises(CpimParseError):
        CpimAddress.parse(value)


@pytest.mark.parametrize(
    "data",
    [
        b"NS: x <>\r\n\r\n\r\n",
        b"NS: x <a b>\r\n\r\n\r\n",
        b"imdn.\r\n\r\n\r\n".replace(b".", b".: v"),
        b".Message-ID: v\r\n\r\n\r\n",
    ],
)
def test_more_malformed_headers(data: bytes) -> None:
    with pytest.raises(CpimParseError):
        cpim.parse(data)


def test_non_numeric_content_length_is_noted() -> None:
    message = cpim.parse(b"\r\nContent-Length: twelve\r\n\r\nhi")
    assert message.body == b"hi" and "not a number" in message.notes[0]


def test_base64_with_a_stray_character_is_refused() -> None:
    message = cpim.parse(b"\r\nContent-Transfer-Encoding: BASE64\r\n\r\n5L2g5\r\n")
    with pytest.raises(CpimParseError, match="stray"):
        message.decoded_body()
    unpadded = cpim.parse(b"\r\nContent-Transfer-Encoding: base64\r\n\r\n5L2g5aW9")
    assert unpadded.text() == "你好"


def test_oversized_message_is_refused_with_413() -> None:
    with pytest.raises(CpimParseError) as info:
        cpim.parse(b"\r\n\r\n" + b"x" * limits.MAX_CPIM)
    assert info.value.status_hint == 413


def test_malformed_message_carries_status_400() -> None:
    with pytest.raises(CpimParseError) as info:
        cpim.parse(b"garbage")
    assert info.value.status_hint == 400


# --------------------------------------------------------------------------- RFC 3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T09:30:15Z", dt.datetime(2024, 5, 1, 9, 30, 15, tzinfo=dt.UTC)),
        ("2024-05-01t09:30:15.5z", dt.datetime(2024, 5, 1, 9, 30, 15, 500000, tzinfo=dt.UTC)),
        (
            "2024-05-01T09:30:15.123456789+08:00",
            dt.datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=CST),
        ),
        ("2024-05-01 09:30:15+0800", dt.datetime(2024, 5, 1, 9, 30, 15, tzinfo=CST)),
        ("2024-05-01T09:30:15", dt.datetime(2024, 5, 1, 9, 30, 15, tzinfo=dt.UTC)),
        ("2024-05-01T09:30:15-05:30", dt.datetime(2024, 5, 1, 15, 0, 15, tzinfo=dt.UTC)),
    ],
)
def test_rfc3339_variants(text: str, expected: dt.datetime) -> None:
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T23:59:60Z",
        "2024-05-01T00:00:00+25:00",
        "2024-05-01",
        "２０２４-05-01T00:00:00Z",
    ],
)
def test_unreadable_rfc3339_gives_none(text: str) -> None:
    assert parse_rfc3339(text) is None


def test_format_rfc3339() -> None:
    assert format_rfc3339(dt.datetime(2024, 5, 1, 1, 2, 3, tzinfo=dt.UTC)) == "2024-05-01T01:02:03Z"
    assert (
        format_rfc3339(dt.datetime(2024, 5, 1, 1, 2, 3, 120000, tzinfo=CST))
        == "2024-05-01T01:02:03.120+08:00"
    )
    assert (
        format_rfc3339(dt.datetime(2024, 5, 1, 1, 2, 3, 1, tzinfo=CST))
        == "2024-05-01T01:02:03.000001+08:00"
    )
    west = dt.timezone(-dt.timedelta(hours=3, minutes=30))
    assert format_rfc3339(dt.datetime(2024, 5, 1, tzinfo=west)) == "2024-05-01T00:00:00-03:30"
    with pytest.raises(LocalProtocolError):
        format_rfc3339(dt.datetime(2024, 5, 1))
    with pytest.raises(LocalProtocolError):
        format_rfc3339(dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(seconds=30))))


# --------------------------------------------------------------------------- building

WHEN = dt.datetime(2024, 5, 1, 9, 30, tzinfo=CST)


def test_build_chinese_text_message_layout() -> None:
    data = cpim.build(
        from_=CpimAddress("sip:+8613800000001@rcs.test", "张三"),
        to="tel:+8613900000002",
        datetime=WHEN,
        body="你好".encode(),
        message_id="m-1",
        disposition_notification=["positive-delivery", "Display"],
    )
    assert (
        data
        == (
            'From: "张三" <sip:+8613800000001@rcs.test>\r\n'
            "To: <tel:+8613900000002>\r\n"
            "DateTime: 2024-05-01T09:30:00+08:00\r\n"
            "NS: imdn <urn:ietf:params:imdn>\r\n"
            "imdn.Message-ID: m-1\r\n"
            "imdn.Disposition-Notification: positive-delivery, display\r\n"
            "\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 6\r\n"
            "\r\n"
            "你好"
        ).encode()
    )


def test_build_with_maap_cpm_and_custom_namespaces() -> None:
    data = cpim.build(
        from_=ANONYMOUS,
        to=["<sip:bot@botplatform.lab>", CpimAddress("sip:c@rcs.test")],
        datetime=None,
        body=b"{}",
        content_type="application/vnd.gsma.botmessage.v1.0+json",
        traffic_type="advertisement",
        subject="促销",
        extra_headers=[
            (CPM_NS, "Payload-Type", "x"),
            ("urn:example:lab", "Trace", "on"),
            (CPIM_NS, "Require", "x"),
        ],
        content_headers=[("Content-ID", "<card@botplatform.lab>")],
    )
    message = cpim.parse(data)
    assert b"DateTime" not in data and message.datetime is None
    assert [a.uri for a in message.to_all] == ["sip:bot@botplatform.lab", "sip:c@rcs.test"]
    assert message.traffic_type == "advertisement" and message.subject == "促销"
    assert message.get(CPM_NS, "Payload-Type") == "x"
    assert message.get("urn:example:lab", "Trace") == "on"
    assert message.get(CPIM_NS, "Require") == "x"
    assert b"NS: cpm <http://www.openmobilealliance.org/cpm/>\r\n" in data
    assert b"NS: ns3 <urn:example:lab>\r\nNS" not in data and b"ns3.Trace: on" in data
    assert message.content_headers.get("content-id") == "<card@botplatform.lab>"


def test_build_base64() -> None:
    body = "很长的消息".encode() * 20
    data = cpim.build(
        from_=ANONYMOUS, to=ANONYMOUS, datetime=WHEN, body=body, content_transfer_encoding="base64"
    )
    message = cpim.parse(data)
    assert message.decoded_body() == body and message.notes == ()
    assert all(len(line) <= 76 for line in message.body.split(b"\r\n"))
    assert base64.b64decode(message.body) == body


@pytest.mark.parametrize(
    "kwargs",
    [
        {"from_": "sip:a b@rcs.test"},
        {"from_": ""},
        {"to": "<sip:a@rcs.test>\r\nX: y"},
        {"subject": "line\r\nbreak"},
        {"message_id": "a\nb"},
        {"extra_headers": [("urn:x", "a.b", "v")]},
        {"extra_headers": [("urn:x", "a:b", "v")]},
        {"datetime": dt.datetime(2024, 5, 1)},
    ],
)
def test_build_refuses_what_it_cannot_write(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"from_": ANONYMOUS, "to": ANONYMOUS, "datetime": WHEN, "body": b""}
    args.update(kwargs)
    with pytest.raises(LocalProtocolError):
        cpim.build(**args)


# --------------------------------------------------------------------------- properties

_uri = st.from_regex(
    r"(sip:\+86\d{11}@rcs\.test|tel:\+86\d{11}|sip:\d{8,12}@botplatform\.lab)", fullmatch=True
)
_name = st.none() | st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=16)
_address = st.builds(CpimAddress, _uri, _name)
_when = st.none() | st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([dt.UTC, CST, dt.timezone(-dt.timedelta(hours=5, minutes=30))]),
)
_text = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=24).map(
    lambda s: s.strip(" \t")
)
_extra = st.lists(
    st.tuples(
        st.sampled_from([CPM_NS, "urn:example:lab:a", "urn:example:lab:b"]),
        st.from_regex(r"[A-Z][A-Za-z0-9-]{0,12}", fullmatch=True),
        _text,
    ),
    max_size=3,
    unique_by=lambda t: (t[0], t[1].lower()),
)


@given(
    from_=_address,
    to=st.lists(_address, min_size=1, max_size=3),
    when=_when,
    body=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "text/plain; charset=utf-8",
            "application/vnd.gsma.botmessage.v1.0+json",
            'multipart/mixed; boundary="next"',
        ]
    ),
    message_id=st.none() | st.from_regex(r"[A-Za-z0-9._@-]{1,36}", fullmatch=True),
    dispositions=st.sets(st.sampled_from(sorted(cpim.DISPOSITIONS))),
    traffic_type=st.none()
    | st.sampled_from(["advertisement", "payment", "premium", "subscription", "plugin"]),
    extra=_extra,
    encoding=st.sampled_from([None, "base64", "8bit"]),
)
def test_build_then_parse_gives_back_every_field(
    from_: CpimAddress,
    to: list[CpimAddress],
    when: dt.datetime | None,
    body: bytes,
    content_type: str,
    message_id: str | None,
    dispositions: set[str],
    traffic_type: str | None,
    extra: list[tuple[str, str, str]],
    encoding: str | None,
) -> None:
    data = cpim.build(
        from_=from_,
        to=to,
        datetime=when,
        body=body,
        content_type=content_type,
        message_id=message_id,
        disposition_notification=sorted(dispositions),
        traffic_type=traffic_type,
        extra_headers=extra,
        content_transfer_encoding=encoding,
    )
    message = cpim.parse(data)
    assert message.from_ == from_ and list(message.to_all) == to
    assert message.datetime == when
    assert message.message_id == message_id
    assert message.disposition_notification == dispositions
    assert message.traffic_type == traffic_type
    assert str(message.content_type) == str(parse_content_type(content_type))
    assert message.decoded_body() == body and message.notes == ()
    for namespace, name, value in extra:
        assert message.get(namespace, name) == value
    assert cpim.parse(message.to_bytes()) == message


_header_line = st.one_of(
    st.tuples(st.sampled_from(["From", "To", "cc", "Subject", "DateTime", "X-Lab"]), _text),
    st.tuples(st.sampled_from(["imdn.Message-ID", "p.Thing", "maap.Traffic-Type"]), _text),
)


@given(
    lines=st.lists(_header_line, max_size=6),
    content=st.lists(
        st.tuples(st.sampled_from(["Content-Type", "Content-ID", "X-Y"]), _text), max_size=3
    ),
    body=st.binary(max_size=64),
    newline=st.sampled_from([b"\r\n", b"\n"]),
    fold=st.booleans(),
)
def test_parse_serialise_parse_is_identity(
    lines: list[tuple[str, str]],
    content: list[tuple[str, str]],
    body: bytes,
    newline: bytes,
    fold: bool,
) -> None:
    ns = [
        "NS: imdn <urn:ietf:params:imdn>",
        "NS: p <urn:example:lab>",
        "NS: maap <http://www.gsma.com/rcs/maap/>",
    ]
    text_lines = ns + [f"{n}: {v}" for n, v in lines]
    if fold and lines:
        text_lines[-1] = text_lines[-1].replace(": ", ":" + newline.decode() + "  ", 1)
    block = newline.join(s.encode() for s in text_lines) + newline + newline
    block += b"".join(f"{n}: {v}".encode() + newline for n, v in content) + newline + body
    message = cpim.parse(block)
    assert cpim.parse(message.to_bytes()) == message
    assert message.body == body
