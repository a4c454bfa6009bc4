"""RFC 3680 reginfo documents: the corpus, broken variants, round trips and fuzzing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, RegInfoParseError
from rcs_terminal.protocol.sip.reginfo import (
    ContactInfo,
    RegInfo,
    RegistrationInfo,
    build_reginfo,
    parse_reginfo,
)

CORPUS = Path(__file__).parents[1] / "data" / "wire" / "reginfo"
GOOD = sorted(CORPUS.glob("*.xml"))
BROKEN = sorted((CORPUS / "broken").glob("*.xml"))


def test_corpus_is_present() -> None:
    assert len(GOOD) >= 6 and len(BROKEN) >= 10


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_corpus_parses_and_round_trips(path: Path) -> None:
    info = parse_reginfo(path.read_bytes())
    assert parse_reginfo(build_reginfo(info)) == info


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_corpus_is_refused(path: Path) -> None:
    with pytest.raises(RegInfoParseError):
        parse_reginfo(path.read_bytes())


def test_full_document_fields() -> None:
    info = parse_reginfo((CORPUS / "01_full_registered.xml").read_bytes())
    assert (info.version, info.state) == (0, "full")
    sip = info.registration("SIP:+8613800000011@ims.mnc000.mcc460.3gppnetwork.org")
    assert sip is not None and sip.state == "active" and sip.id == "r1"
    contact = sip.contacts[0]
    assert contact.uri == "sip:+8613800000011@127.0.0.1:40112;transport=tcp"
    assert (contact.state, contact.event, contact.expires) == ("active", "registered", 3600)
    assert (contact.cseq, contact.callid, contact.q) == (2, "reg-5f2c@127.0.0.1", "1.0")
    assert contact.instance == "<urn:gsma:imei:86000000-000037-0>"
    assert contact.param("REG-ID") == "1"
    assert contact.param("+g.gsma.rcs.cpm.pager-large") is None
    assert contact.param("missing") is None
    assert info.registration("tel:+8613800000011") is not None
    assert info.registration("sip:nobody@rcs.test") is None


def test_events_of_interest() -> None:
    shortened = parse_reginfo((CORPUS / "02_partial_shortened.xml").read_bytes())
    contact = shortened.registrations[0].contacts[0]
    assert (shortened.state, contact.event, contact.expires) == ("partial", "shortened", 120)
    deactivated = parse_reginfo((CORPUS / "03_deactivated.xml").read_bytes())
    reg = deactivated.registrations[0]
    assert reg.state == "terminated" and reg.contacts[0].event == "deactivated"
    assert reg.contacts[0].retry_after == 0
    rejected = parse_reginfo((CORPUS / "04_rejected.xml").read_bytes())
    assert rejected.registrations[0].contacts[0].event == "rejected"
    assert rejected.registrations[0].contacts[0].display_name == "爱丽丝"


def test_lenient_variants() -> None:
    info = parse_reginfo((CORPUS / "05_no_namespace_mixed_case.xml").read_bytes())
    assert info.state == "full" and info.version == 7
    reg = info.registrations[0]
    assert (reg.state, reg.id) == ("active", "")
    contact = reg.contacts[0]
    assert (contact.state, contact.event, contact.expires) == ("active", "refreshed", 600)
    assert contact.uri == "sip:bob@127.0.0.1:5090"


def test_extensions_are_skipped() -> None:
    info = parse_reginfo((CORPUS / "06_extensions_gruu.xml").read_bytes())
    assert [r.state for r in info.registrations] == ["init", "active"]
    dave = info.registration("sip:dave@rcs.test")
    assert dave is not None
    assert [(c.state, c.event) for c in dave.contacts] == [
        ("active", "created"),
        ("terminated", "expired"),
    ]


def test_missing_version_and_state_default() -> None:
    info = parse_reginfo(b'<reginfo xmlns="urn:ietf:params:xml:ns:reginfo"/>')
    assert info == RegInfo(version=0, state="full")


def test_errors_say_where() -> None:
    with pytest.raises(RegInfoParseError) as caught:
        parse_reginfo((CORPUS / "broken" / "negative_expires.xml").read_bytes())
    assert "contact[0]@expires" in str(caught.value.where)
    with pytest.raises(RegInfoParseError) as caught:
        parse_reginfo(b"x" * 300_000)
    assert "exceeds" in caught.value.reason


def test_build_refuses_unwritable_values() -> None:
    bad_char = RegInfo(0, "full", (RegistrationInfo("sip:a\x01@h", "active"),))
    with pytest.raises(LocalProtocolError):
        build_reginfo(bad_char)
    with pytest.raises(LocalProtocolError):
        build_reginfo(RegInfo(-1, "full"))
    with pytest.raises(LocalProtocolError):
        build_reginfo(RegInfo(0, "full", (RegistrationInfo("", "active"),)))
    contact = ContactInfo(uri="", state="active")
    with pytest.raises(LocalProtocolError):
        build_reginfo(RegInfo(0, "full", (RegistrationInfo("sip:a@h", "active", "", (contact,)),)))


def test_built_document_is_namespaced() -> None:
    data = build_reginfo(RegInfo(2, "partial", (RegistrationInfo("sip:a@h", "init", "x"),)))
    assert b'xmlns="urn:ietf:params:xml:ns:reginfo"' in data
    assert data.startswith(b"<?xml")


# --------------------------------------------------------------------------- properties

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), max_codepoint=0x2FFF),
    max_size=20,
).map(str.strip)
_NONEMPTY = _TEXT.filter(bool)
_NUMBER = st.none() | st.integers(0, 2**32 - 1)

_contacts = st.builds(
    ContactInfo,
    uri=_NONEMPTY,
    state=st.sampled_from(["active", "terminated"]),
    event=st.none()
    | st.sampled_from(
        [
            "registered",
            "created",
            "refreshed",
            "shortened",
            "expired",
            "deactivated",
            "probation",
            "unregistered",
            "rejected",
        ]
    ),
    id=_TEXT,
    expires=_NUMBER,
    retry_after=_NUMBER,
    duration_registered=_NUMBER,
    q=st.none() | _TEXT,
    callid=st.none() | _TEXT,
    cseq=_NUMBER,
    display_name=st.none() | _TEXT,
    unknown_params=st.lists(st.tuples(_NONEMPTY, st.none() | _NONEMPTY), max_size=3).map(tuple),
)
_registrations = st.builds(
    RegistrationInfo,
    aor=_NONEMPTY,
    state=st.sampled_from(["init", "active", "terminated"]),
    id=_TEXT,
    contacts=st.lists(_contacts, max_size=3).map(tuple),
)
_documents = st.builds(
    RegInfo,
    version=st.integers(0, 2**32 - 1),
    state=st.sampled_from(["full", "partial"]),
    registrations=st.lists(_registrations, max_size=3).map(tuple),
)


@given(_documents)
def test_round_trip_is_identity(info: RegInfo) -> None:
    assert parse_reginfo(build_reginfo(info)) == info


@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_document_or_a_parse_error(data: bytes) -> None:
    with contextlib.suppress(RegInfoParseError):
        parse_reginfo(data)


@given(st.sampled_from(GOOD), st.data())
def test_mutated_documents_give_a_document_or_a_parse_error(
    path: Path, data: st.DataObject
) -> None:
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position]
        else:
            raw.insert(position, data.draw(st.sampled_from(list(b'<>"=&/ x9-'))))
    with contextlib.suppress(RegInfoParseError):
        parse_reginfo(bytes(raw))
