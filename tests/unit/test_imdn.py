"""IMDN documents and their CPIM wrapper (rcs_terminal.protocol.imdn) over the wire corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import CpimParseError, ImdnParseError, LocalProtocolError, XmlParseError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.imdn import (
    CONTENT_TYPE,
    STATUSES_BY_KIND,
    ImdnNotification,
    build_imdn,
    build_imdn_cpim,
    parse_imdn,
    parse_imdn_payload,
)

WIRE = Path(__file__).parents[1] / "data" / "wire" / "imdn"
CST = dt.timezone(dt.timedelta(hours=8))


def test_corpus_is_present() -> None:
    assert len(list(WIRE.glob("*.*"))) >= 12 and len(list((WIRE / "broken").glob("*"))) >= 12


@pytest.mark.parametrize(
    ("name", "message_id", "kind", "status"),
    [
        ("delivered", "Mx7Fq2ZbT0aQ", "delivery", "delivered"),
        ("displayed", "5f1b7c0e-2a44-4cfa-9d55-8b0a3f1e2c01", "display", "displayed"),
        ("processed", "ad-20240501-0001", "processing", "processed"),
        ("failed", "b64-000001", "delivery", "failed"),
    ],
)
@pytest.mark.parametrize("form", ["xml", "cpim"])
def test_bare_and_wrapped_notifications(
    name: str, message_id: str, kind: str, status: str, form: str
) -> None:
    data = (WIRE / f"{name}.{form}").read_bytes()
    notification = parse_imdn_payload(data)
    assert (notification.message_id, notification.kind, notification.status) == (
        message_id,
        kind,
        status,
    )
    assert notification.datetime is not None and notification.datetime.tzinfo is not None
    ctype = CONTENT_TYPE if form == "xml" else "message/cpim"
    assert parse_imdn_payload(data, ctype) == notification
    if form == "cpim":
        wrapper = cpim.parse(data)
        assert wrapper.is_imdn and wrapper.content_disposition == "notification"
        assert wrapper.message_id == f"imdn-{name}-0001"
        assert wrapper.disposition_notification == frozenset()


def test_delivered_keeps_the_original_timestamp() -> None:
    notification = parse_imdn((WIRE / "delivered.xml").read_bytes())
    assert notification.datetime == dt.datetime(2024, 5, 1, 9, 30, 15, 123000, tzinfo=CST)
    assert notification.is_success


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("stored.xml", "processing", "stored"),
        ("display_forbidden.xml", "display", "forbidden"),
        ("bare_no_namespace.xml", "delivery", "delivered"),
        ("with_extension.xml", "delivery", "error"),
        ("lf_only_delivered.cpim", "delivery", "delivered"),
    ],
)
def test_other_good_documents(name: str, kind: str, status: str) -> None:
    notification = parse_imdn_payload((WIRE / name).read_bytes())
    assert (notification.kind, notification.status) == (kind, status)


def test_recipient_uris_and_subject() -> None:
    notification = parse_imdn((WIRE / "with_recipients.xml").read_bytes())
    assert notification.recipient_uri == "sip:+8613800000001@rcs.test"
    assert notification.original_recipient_uri == "sip:+8613800000001@rcs.test"
    assert notification.subject == "订单确认"


def test_forbidden_and_error_are_not_success() -> None:
    assert not parse_imdn((WIRE / "display_forbidden.xml").read_bytes()).is_success


@pytest.mark.parametrize("path", sorted((WIRE / "broken").glob("*.xml")), ids=lambda p: p.name)
def test_broken_documents_raise_imdn_parse_error(path: Path) -> None:
    with pytest.raises(ImdnParseError):
        parse_imdn(path.read_bytes())


@pytest.mark.parametrize("path", sorted((WIRE / "broken").glob("*.cpim")), ids=lambda p: p.name)
def test_broken_wrapped_notifications_raise_a_parse_error(path: Path) -> None:
    with pytest.raises((CpimParseError, ImdnParseError)):
        parse_imdn_payload(path.read_bytes(), "message/cpim")


def test_bomb_and_xxe_are_refused_not_expanded() -> None:
    for name in ("xml_bomb.xml", "xxe.xml"):
        with pytest.raises(ImdnParseError, match="forbidden"):
            parse_imdn((WIRE / "broken" / name).read_bytes())
    assert issubclass(ImdnParseError, XmlParseError)


def test_unreadable_datetime_is_not_fatal() -> None:
    doc = (
        b'<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>m</message-id>'
        b"<datetime>soon</datetime>"
        b"<delivery-notification><status><delivered/></status></delivery-notification></imdn>"
    )
    assert parse_imdn(doc).datetime is None
    assert parse_imdn(doc.replace(b"<datetime>soon</datetime>", b"")).datetime is None


def test_repeated_message_id_is_refused() -> None:
    doc = (
        b"<imdn><message-id>a</message-id><message-id>b</message-id><datetime>2024-05-01T00:00:00Z</datetime>"
        b"<delivery-notification><status><delivered/></status></delivery-notification></imdn>"
    )
    with pytest.raises(ImdnParseError, match="more than one"):
        parse_imdn(doc)


def test_unknown_declared_encoding_is_a_parse_error() -> None:
    with pytest.raises(ImdnParseError, match="encoding"):
        parse_imdn(b'<?xml version="1.0" encoding="x-nope"?><imdn/>')


def test_text_input_is_accepted() -> None:
    doc = (WIRE / "displayed.xml").read_text(encoding="utf-8")
    assert (
        parse_imdn(doc.replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")).status
        == "displayed"
    )


# --------------------------------------------------------------------------- building

WHEN = dt.datetime(2024, 5, 1, 9, 30, 15, 123000, tzinfo=CST)


def test_build_imdn_document() -> None:
    doc = build_imdn(ImdnNotification("Mx7Fq2ZbT0aQ", WHEN, "display", "displayed"))
    assert doc == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>Mx7Fq2ZbT0aQ</message-id>'
        b"<datetime>2024-05-01T09:30:15.123+08:00</datetime>"
        b"<display-notification><status><displayed/></status></display-notification></imdn>"
    )


def test_build_imdn_cpim_wrapper() -> None:
    notification = ImdnNotification("Mx7Fq2ZbT0aQ", WHEN, "delivery", "delivered")
    now = dt.datetime(2024, 5, 1, 1, 35, 2, tzinfo=dt.UTC)
    data = build_imdn_cpim(
        notification,
        from_=cpim.ANONYMOUS,
        to="sip:+8613800000001@rcs.test",
        new_message_id="r-1",
        datetime=now,
    )
    wrapper = cpim.parse(data)
    assert wrapper.message_id == "r-1" and wrapper.datetime == now
    assert wrapper.content_type.media_type == CONTENT_TYPE
    assert wrapper.content_headers.get("Content-Disposition") == "notification"
    assert wrapper.disposition_notification == frozenset() and wrapper.notes == ()
    assert b"Disposition-Notification" not in data
    assert parse_imdn_payload(data) == notification


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("delivery", "displayed"),
        ("display", "delivered"),
        ("processing", "failed"),
        ("reading", "error"),
    ],
)
def test_invalid_kind_status_pairs_cannot_be_built(kind: str, status: str) -> None:
    with pytest.raises(LocalProtocolError):
        ImdnNotification("m", WHEN, kind, status)  # type: ignore[arg-type]


def test_build_refuses_missing_datetime_empty_id_and_control_characters() -> None:
    with pytest.raises(LocalProtocolError):
        build_imdn(ImdnNotification("m", None, "delivery", "delivered"))
    with pytest.raises(LocalProtocolError):
        ImdnNotification("  ", WHEN, "delivery", "delivered")
    with pytest.raises(LocalProtocolError):
        build_imdn(ImdnNotification("m\x01", WHEN, "delivery", "delivered"))


_pairs = st.sampled_from(
    [(k, s) for k, statuses in STATUSES_BY_KIND.items() for s in sorted(statuses)]
)
_xml_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
    max_size=24,
)
_id = _xml_text.map(str.strip).filter(bool)
_optional_uri = st.none() | st.from_regex(
    r"(sip:\+86\d{11}@rcs\.test|tel:\+86\d{11})", fullmatch=True
)
_when = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([dt.UTC, CST]),
)


@given(
    pair=_pairs,
    message_id=_id,
    when=_when,
    recipient=_optional_uri,
    original=_optional_uri,
    subject=st.none()
    | st.text(
        alphabet=st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\r\n&<>"),
        min_size=1,
        max_size=24,
    ),
)
def test_build_then_parse_is_identity(
    pair: tuple[str, str],
    message_id: str,
    when: dt.datetime,
    recipient: str | None,
    original: str | None,
    subject: str | None,
) -> None:
    kind, status = pair
    notification = ImdnNotification(message_id, when, kind, status, recipient, original, subject)  # type: ignore[arg-type]
    document = build_imdn(notification)
    assert parse_imdn(document) == notification
    wrapped = build_imdn_cpim(
        notification, from_=cpim.ANONYMOUS, to=cpim.ANONYMOUS, new_message_id="n", datetime=when
    )
    assert parse_imdn_payload(wrapped) == notification
    assert parse_imdn(build_imdn(parse_imdn(document))) == notification
