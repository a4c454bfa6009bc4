"""Is-composing indications (rcs_terminal.protocol.iscomposing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, XmlParseError
from rcs_terminal.protocol import cpim
from rcs_terminal.protocol.iscomposing import (
    CONTENT_TYPE,
    IsComposing,
    build_iscomposing,
    parse_iscomposing,
)

CST = dt.timezone(dt.timedelta(hours=8))
NS = b'xmlns="urn:ietf:params:xml:ns:im-iscomposing"'


def doc(inner: bytes, *, ns: bytes = NS) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<isComposing '
        + ns
        + b">"
        + inner
        + b"</isComposing>"
    )


def test_active_with_refresh_and_contenttype() -> None:
    indication = parse_iscomposing(
        doc(b"<state>active</state><contenttype>text/plain</contenttype><refresh>60</refresh>")
    )
    assert indication == IsComposing("active", None, "text/plain", 60)


def test_idle_with_lastactive() -> None:
    indication = parse_iscomposing(
        doc(b"<state>idle</state><lastactive>2024-05-01T09:30:00+08:00</lastactive>")
    )
    assert indication.state == "idle"
    assert indication.lastactive == dt.datetime(2024, 5, 1, 9, 30, tzinfo=CST)


def test_lenient_variants() -> None:
    bare = doc(b"<state> Active </state><lastactive>not a date</lastactive>", ns=b"")
    assert parse_iscomposing(bare) == IsComposing("active")
    with_schema_noise = doc(
        b'<state>idle</state><x:extra xmlns:x="urn:example:lab">1</x:extra>',
        ns=NS + b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    )
    assert parse_iscomposing(with_schema_noise) == IsComposing("idle")
    assert parse_iscomposing(doc(b"<state>idle</state>").decode()) == IsComposing("idle")


def test_wrapped_in_cpim_from_the_corpus() -> None:
    wire = Path(__file__).parents[1] / "data" / "wire" / "cpim" / "iscomposing.cpim"
    message = cpim.parse(wire.read_bytes())
    assert message.content_type.media_type == CONTENT_TYPE
    assert parse_iscomposing(message.decoded_body()) == IsComposing(
        "active", None, "text/plain", 60
    )


@pytest.mark.parametrize(
    "data",
    [
        doc(b""),
        doc(b"<state>typing</state>"),
        doc(b"<state>active</state><state>idle</state>"),
        doc(b"<state>active</state><refresh>0</refresh>"),
        doc(b"<state>active</state><refresh>-5</refresh>"),
        doc(b"<state>active</state><refresh>soon</refresh>"),
        doc(b"<state>active</state><refresh>" + b"9" * 5000 + b"</refresh>"),
        b'<imdn xmlns="urn:ietf:params:xml:ns:imdn"/>',
        b'<isComposing xmlns="urn:example:other"><state>active</state></isComposing>',
        b"<isComposing><state>active</state>",
        b'<?xml version="1.0"?><!DOCTYPE isComposing [<!ENTITY a "active">]>'
        b"<isComposing><state>&a;</state></isComposing>",
        b"",
        "正在输入".encode(),
        b'<?xml version="1.0" encoding="x-nope"?><isComposing><state>idle</state></isComposing>',
    ],
)
def test_broken_documents_raise_xml_parse_error(data: bytes) -> None:
    with pytest.raises(XmlParseError):
        parse_iscomposing(data)


def test_build_layout() -> None:
    data = build_iscomposing(IsComposing("active", contenttype="text/plain", refresh=60))
    assert data == doc(
        b"<state>active</state><contenttype>text/plain</contenttype><refresh>60</refresh>"
    )


def test_construction_and_build_refuse_bad_values() -> None:
    with pytest.raises(LocalProtocolError):
        IsComposing("typing")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        IsComposing("active", refresh=0)
    with pytest.raises(LocalProtocolError):
        build_iscomposing(IsComposing("active", contenttype="text/plain\x00"))
    with pytest.raises(LocalProtocolError):
        build_iscomposing(IsComposing("idle", lastactive=dt.datetime(2024, 5, 1)))


@given(
    state=st.sampled_from(["active", "idle"]),
    lastactive=st.none()
    | st.datetimes(
        min_value=dt.datetime(1970, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from([dt.UTC, CST]),
    ),
    contenttype=st.none()
    | st.sampled_from(
        ["text/plain", "image/jpeg", "application/vnd.gsma.botsuggestion.response.v1.0+json"]
    )
    | st.text(
        alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zs")), min_size=1, max_size=20
    ),
    refresh=st.none() | st.integers(min_value=1, max_value=86400),
)
def test_build_then_parse_is_identity(
    state: str, lastactive: dt.datetime | None, contenttype: str | None, refresh: int | None
) -> None:
    if contenttype is not None and (
        contenttype.strip() != contenttype or "\ufffe" in contenttype or "\uffff" in contenttype
    ):
        return
    indication = IsComposing(state, lastactive, contenttype, refresh)  # type: ignore[arg-type]
    assert parse_iscomposing(build_iscomposing(indication)) == indication
