"""MIME type constants and the payload-file guesser used by ``rcs-terminal render``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_terminal.protocol.up import contenttypes as ct

CORPUS = Path(__file__).parents[1] / "data" / "payloads"

EXPECTED = {
    "botmessage": ct.BOTMESSAGE,
    "chips": ct.BOTSUGGESTION,
    "response": ct.BOTSUGGESTION_RESPONSE,
    "menu": ct.PERSISTENT_MENU,
    "botinfo": ct.BOTINFO,
    "shared": ct.BOTSHAREDCLIENTDATA,
    "fthttp": ct.FTHTTP,
    "geopush": ct.GEOPUSH,
}


def test_constants() -> None:
    assert ct.BOTMESSAGE == "application/vnd.gsma.botmessage.v1.0+json"
    assert ct.BOTSUGGESTION == "application/vnd.gsma.botsuggestion.v1.0+json"
    assert ct.BOTSUGGESTION_RESPONSE == "application/vnd.gsma.botsuggestion.response.v1.0+json"
    assert ct.BOTSHAREDCLIENTDATA == "application/vnd.gsma.botsharedclientdata.v1.0+json"
    assert ct.FTHTTP == "application/vnd.gsma.rcs-ft-http+xml"
    assert ct.GEOPUSH == "application/vnd.gsma.rcspushlocation+xml"
    assert (ct.IMDN, ct.ISCOMPOSING, ct.CPIM, ct.MULTIPART_MIXED) == (
        "message/imdn+xml",
        "application/im-iscomposing+xml",
        "message/cpim",
        "multipart/mixed",
    )


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_every_corpus_folder_is_recognised(folder: str) -> None:
    for path in (CORPUS / folder).iterdir():
        assert ct.detect(path.read_bytes()) == EXPECTED[folder], path.name


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'\xef\xbb\xbf\r\n {"message":{}}', ct.BOTMESSAGE),
        (b'{"persistent-menu":{"menu":{"entries":[]}}}', ct.BOTINFO),
        (b'<?xml version="1.0"?><imdn xmlns="urn:ietf:params:xml:ns:imdn"/>', ct.IMDN),
        (b'<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"/>', ct.ISCOMPOSING),
        (b"<rcsenveloppe/>", ct.GEOPUSH),
        (b'{"other":1}', None),
        (b"{broken", None),
        (b"<broken", None),
        (b"<html/>", None),
        (b"hello", None),
        (b"", None),
    ],
)
def test_detect(data: bytes, expected: str | None) -> None:
    assert ct.detect(data) == expected


def test_base_type() -> None:
    assert ct.base_type("Application/VND.gsma.botmessage.v1.0+json; charset=UTF-8") == ct.BOTMESSAGE
