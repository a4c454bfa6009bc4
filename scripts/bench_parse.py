#!/usr/bin/env python3
"""Measure how fast the protocol core parses and writes typical RCS traffic.

Prints messages per second for ``parse`` and ``parse + serialise`` of:

- a REGISTER 200 OK as an IMS core sends it (Service-Route, Path, P-Associated-URI and a
  Contact full of UP 2.4 feature tags);
- a pager-mode SIP MESSAGE from a chatbot carrying CPIM around a multipart/mixed body with
  a rich card and suggestion chips;
- an MSRP SEND carrying CPIM (skipped when the MSRP module is not available).

Usage: ``python scripts/bench_parse.py [iterations]`` (default 20000; each rate is the best
of three runs). The numbers depend on
the machine; nothing here judges them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rcs_terminal.protocol.sip import parse_message as parse_sip

DOMAIN = "ims.mnc000.mcc460.3gppnetwork.org"
IMPU = f"sip:+8613800000001@{DOMAIN}"
ICSI = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm"
IARI = "urn%3Aurn-7%3A3gpp-application.ims.iari"
BOT_VERSION = '+g.gsma.rcs.botversion="#=1,#=2"'


def _crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n"


def _sip(head: str, body: bytes = b"") -> bytes:
    return _crlf(head.replace("{CL}", str(len(body)))) + b"\r\n" + body


def register_200() -> bytes:
    """A 200 OK to REGISTER as a 5G-message IMS core sends it."""
    contact = (
        f"<sip:+8613800000001@192.0.2.7:5060;transport=tcp>"
        f';+sip.instance="<urn:gsma:imei:86000000-000001-0>"'
        f';+g.3gpp.icsi-ref="{ICSI}.session,{ICSI}.msg,{ICSI}.largemsg,{ICSI}.filetransfer"'
        f';+g.3gpp.iari-ref="{IARI}.rcs.fthttp,{IARI}.rcs.chatbot.sa,{IARI}.rcs.geopush"'
        f';+g.gsma.rcs.cpm.pager-large;+g.gsma.rcs.botversion="#=1,#=2";reg-id=1'
        f";expires=600000"
    )
    return _sip(f"""
SIP/2.0 200 OK
Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK-524287-1---77c0e5d1;rport=49152;received=198.51.100.2
From: <{IMPU}>;tag=4fa3b2c1
To: <{IMPU}>;tag=as7e1b02a9
Call-ID: 8d2c4b1a-6e3f-4c2a-9b7d-1f0e5a3c2b19
CSeq: 2 REGISTER
Contact: {contact}
Path: <sip:term@pcscf.rcs.test:5060;lr>
Service-Route: <sip:orig@scscf.{DOMAIN}:6060;lr>, <sip:orig@icscf.{DOMAIN};lr>
P-Associated-URI: <{IMPU}>, <tel:+8613800000001>
P-Charging-Function-Addresses: ccf=192.0.2.200;ecf=192.0.2.201
Date: Wed, 01 May 2024 08:30:02 GMT
Content-Length: {{CL}}
""")


def _cpim_chatbot_body() -> bytes:
    card = (
        '{"message":{"generalPurposeCard":{"layout":{"cardOrientation":"VERTICAL"},'
        '"content":{"title":"5G消息 演示","description":"欢迎使用，请选择服务。",'
        '"suggestions":[{"reply":{"displayText":"查询话费","postback":{"data":"balance"}}}]}}}}'
    ).encode()
    chips = (
        '{"suggestions":[{"reply":{"displayText":"更多","postback":{"data":"more"}}},'
        '{"action":{"displayText":"打开网站","postback":{"data":"open"},'
        '"urlAction":{"openUrl":{"url":"https://botplatform.lab/"}}}}]}'
    ).encode()
    multipart = b"".join(
        [
            b"--next\r\nContent-Type: application/vnd.gsma.botmessage.v1.0+json\r\n",
            b"Content-Length: %d\r\n\r\n%s\r\n" % (len(card), card),
            b"--next\r\nContent-Type: application/vnd.gsma.botsuggestion.v1.0+json\r\n",
            b"Content-Length: %d\r\n\r\n%s\r\n" % (len(chips), chips),
            b"--next--\r\n",
        ]
    )
    cpim_head = _crlf(f"""
From: <sip:12599000001@botplatform.lab>
To: <{IMPU}>
NS: imdn <urn:ietf:params:imdn>
imdn.Message-ID: Xs8yGf2kLQ7v
DateTime: 2024-05-01T08:31:00.000Z
imdn.Disposition-Notification: positive-delivery, display
""")
    content_head = _crlf(f"""
Content-Type: multipart/mixed; boundary="next"
Content-Length: {len(multipart)}
""")
    return cpim_head + b"\r\n" + content_head + b"\r\n" + multipart


def cpim_message() -> bytes:
    """A pager-mode MESSAGE from a chatbot with a card and chips in CPIM."""
    return _sip(
        f"""
MESSAGE sip:+8613800000001@192.0.2.7:5060;transport=tcp SIP/2.0
Via: SIP/2.0/TCP pcscf.rcs.test:5060;branch=z9hG4bK91ab.pc1
Via: SIP/2.0/TCP scscf.{DOMAIN}:6060;branch=z9hG4bK91ab.sc1
Via: SIP/2.0/TCP botplatform.lab:5060;branch=z9hG4bK-maap-3341;received=203.0.113.40
Max-Forwards: 67
From: <sip:12599000001@botplatform.lab>;tag=maap-9f21
To: <{IMPU}>
Call-ID: maap-5e0b7a1c2d3f@botplatform.lab
CSeq: 1 MESSAGE
P-Asserted-Identity: <sip:12599000001@botplatform.lab>
Accept-Contact: *;+g.3gpp.icsi-ref="{ICSI}.msg"
Accept-Contact: *;+g.3gpp.iari-ref="{IARI}.rcs.chatbot.sa";{BOT_VERSION};require;explicit
Conversation-ID: 7b1c3a52-0d4e-4f6a-8b9c-1d2e3f4a5b6c
Contribution-ID: 2f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f
Content-Type: message/cpim
Content-Length: {{CL}}
""",
        _cpim_chatbot_body(),
    )


def msrp_send() -> bytes:
    """An MSRP SEND of a whole CPIM message in one chunk."""
    body = _cpim_chatbot_body()
    head = _crlf(f"""
MSRP a786hjs2 SEND
To-Path: msrp://192.0.2.7:9/u7x2v1;tcp
From-Path: msrp://203.0.113.40:7394/k9s1lq0v2w;tcp
Message-ID: 87652491
Byte-Range: 1-{len(body)}/{len(body)}
Success-Report: no
Failure-Report: yes
Content-Type: message/cpim
""")
    return head + b"\r\n" + body + b"\r\n-------a786hjs2$\r\n"


def rate(function: Callable[[], object], iterations: int, repeats: int = 3) -> float:
    """Run ``function`` ``iterations`` times, ``repeats`` times over; return the best rate
    in calls per second (the least disturbed run)."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            function()
        best = max(best, iterations / (time.perf_counter() - start))
    return best


def bench(name: str, parse: Callable[[bytes], object], data: bytes, iterations: int) -> None:
    """Print parse and parse+serialise rates for one message."""

    def parse_only() -> object:
        return parse(data)

    def round_trip() -> object:
        return parse(data).to_bytes()  # type: ignore[attr-defined]

    parse_rate = rate(parse_only, iterations)
    both_rate = rate(round_trip, iterations)
    print(
        f"{name:<22} {len(data):>6} bytes  parse {parse_rate:>10,.0f} msg/s"
        f"  parse+serialise {both_rate:>10,.0f} msg/s"
    )


def main() -> None:
    """Run the benchmark."""
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    bench("SIP REGISTER 200 OK", parse_sip, register_200(), iterations)
    bench("SIP MESSAGE CPIM card", parse_sip, cpim_message(), iterations)
    try:
        from rcs_terminal.protocol.msrp import parse_message as parse_msrp
    except ImportError:
        return
    bench("MSRP SEND CPIM", parse_msrp, msrp_send(), iterations)


if __name__ == "__main__":
    main()
