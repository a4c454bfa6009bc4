from __future__ import annotations

import pytest

from rcs_terminal.clock import FakeClock
from rcs_terminal.errors import ImdnParseError, ParseError, RcsTerminalError, SipParseError
from rcs_terminal.protocol.xmlsafe import parse_xml


def test_parse_error_names_protocol_and_place() -> None:
    err = SipParseError("bad header", where=17, status_hint=400)
    assert isinstance(err, ParseError) and isinstance(err, RcsTerminalError)
    assert str(err) == "SIP: bad header (at byte 17)"
    assert err.status_hint == 400 and err.reason == "bad header"


def test_fake_clock_only_moves_forward() -> None:
    clock = FakeClock(10.0)
    assert clock.advance(2.5) == 12.5
    with pytest.raises(ValueError):
        clock.advance(-1)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<imdn>&lol2;</imdn>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><imdn>&xxe;</imdn>"""


@pytest.mark.parametrize("doc", [BOMB, XXE, b"<a><b></a>", b"", b"\xff\xfe<a/>", b"<a/>" * 2])
def test_unsafe_or_malformed_xml_is_refused(doc: bytes) -> None:
    with pytest.raises(ImdnParseError):
        parse_xml(doc, error=ImdnParseError)


def test_oversized_xml_is_refused_before_parsing() -> None:
    with pytest.raises(ParseError, match="exceeds"):
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", max_size=50)


def test_plain_xml_parses() -> None:
    root = parse_xml('<a xmlns="urn:x"><b>é</b></a>')
    assert root.tag == "{urn:x}a"


def test_unknown_declared_encoding_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_xml(b'<?xml version="1.0" encoding="T"?><a/>')
