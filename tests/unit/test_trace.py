from __future__ import annotations

import json
from pathlib import Path

import pytest

from rcs_terminal.engine.masking import mask, mask_text
from rcs_terminal.engine.trace import TraceRecorder

AUTH = (
    b"REGISTER sip:rcs.test SIP/2.0\r\n"
    b'Authorization: Digest username="alice", realm="rcs.test", nonce="abc", '
    b'uri="sip:rcs.test", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, '
    b'cnonce="xyz"\r\n'
    b'Proxy-Authorization: Digest username="a", response=deadbeef, auts="QUJD"\r\n\r\n'
)


def test_digest_response_and_auts_are_masked_nonce_stays() -> None:
    out = mask(AUTH)
    assert b"0123456789abcdef" not in out and b"deadbeef" not in out and b"QUJD" not in out
    assert b'nonce="abc"' in out and b'cnonce="xyz"' in out and b'response="***"' in out


@pytest.mark.parametrize(
    ("secret", "text"),
    [
        ("s3cr3tTok", "GET /?vers=0&token=s3cr3tTok&IMSI=460 HTTP/1.1"),
        ("482913", "GET /?vers=0&OTP=482913 HTTP/1.1"),
        ("pa55", '<parm name="UserPwd" value="pa55"/>'),
        ("ftpw", '<parm name="ftHTTPCSPwd" value="ftpw"/>'),
        ("tok99", '<characteristic type="TOKEN"><parm name="token" value="tok99"/>'),
        ("QmFzaWM=", "Authorization: Basic QmFzaWM="),
        ("775533", "Your RCS OTP is 775533"),
        ("775533", "您的验证码是775533"),
    ],
)
def test_http_and_provisioning_secrets_are_masked(secret: str, text: str) -> None:
    assert secret not in mask_text(text)


def test_recorder_masks_before_storing_and_streams_jsonl(tmp_path: Path) -> None:
    rec = TraceRecorder(capacity=10, clock=lambda: 1.5)
    seen: list[int] = []
    unsubscribe = rec.subscribe(lambda r: seen.append(r.seq))
    path = tmp_path / "trace.jsonl"
    rec.write_jsonl(path)
    r = rec.record("out", "SIP", AUTH, transport="udp", local="127.0.0.1:1", remote="127.0.0.1:2",
                   sim=1)
    assert r.first_line == "REGISTER sip:rcs.test SIP/2.0"
    assert b"0123456789abcdef" not in r.data
    unsubscribe()
    rec.record("in", "SIP", b"SIP/2.0 200 OK\r\n\r\n", transport="udp", local="a", remote="b")
    rec.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [entry["first_line"] for entry in lines] == [
        "REGISTER sip:rcs.test SIP/2.0", "SIP/2.0 200 OK"]
    assert seen == [1]
    assert len(rec.records(protocol="SIP", sim=1)) == 1


def test_query_masking_stops_at_the_parameter() -> None:
    out = mask_text("GET /?vers=0&OTP=123456&app=ap2001&app=ap2002 HTTP/1.1")
    assert out == "GET /?vers=0&OTP=***&app=ap2001&app=ap2002 HTTP/1.1"
