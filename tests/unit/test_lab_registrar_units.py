"""The registrar's sans-I/O pieces: bindings, proxy contexts, routing names, authentication,
reg-event documents and fault switches (no sockets)."""

from __future__ import annotations

import itertools

import pytest
from test_lab_registrar_ua import DOMAIN, directory

from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import SipParseError
from rcs_terminal.lab.bindings import Binding, BindingTable, Hop, binding_key, contact_key
from rcs_terminal.lab.proxy import ResponseContext, forward_copy, max_forwards, pop_top_via
from rcs_terminal.lab.reg_auth import AuthOutcome, RegAuthenticator
from rcs_terminal.lab.reg_event import reginfo_document
from rcs_terminal.lab.routing import LabRouting
from rcs_terminal.lab.sip_faults import SipFaultSwitch, make_sip_fault
from rcs_terminal.protocol.sip.auth import build_authorization, parse_challenge, parse_credentials
from rcs_terminal.protocol.sip.headers import parse_name_addr
from rcs_terminal.protocol.sip.message import Headers, Request, build_response
from rcs_terminal.protocol.sip.reginfo import parse_reginfo
from rcs_terminal.protocol.sip.transaction import Role, TransactionKey
from rcs_terminal.protocol.sip.uri import parse_uri


class FakeFlow:
    def __init__(self, transport: str = "udp") -> None:
        self.transport = transport
        self.sent: list[bytes] = []

    def send(self, data: bytes, dest: Address | None = None) -> None:
        self.sent.append(data)

    @property
    def is_closed(self) -> bool:
        return False


def counter_bytes() -> object:
    counter = itertools.count(1)
    return lambda size: next(counter).to_bytes(size, "big")


def make_binding(
    table: BindingTable, owner: str, uri: str, expires_at: float, *, flow: FakeFlow | None = None
) -> Binding:
    contact = parse_name_addr(f"<{uri}>")
    hop = Hop.of(flow or FakeFlow(), Address("127.0.0.1", 5070))
    return Binding(
        owner=owner,
        key=binding_key(contact),
        contact=contact,
        hop=hop,
        source=hop.address,
        expires_at=expires_at,
        registered_at=0.0,
        call_id="c",
        cseq=1,
        id=table.new_id(),
    )


# --------------------------------------------------------------------------- bindings


def test_binding_table_put_refresh_expire() -> None:
    table = BindingTable(max_per_owner=2)
    first = make_binding(table, "a", "sip:u@127.0.0.1:5070", 100.0)
    assert table.put(first) == ("registered", [])
    refreshed = make_binding(table, "a", "sip:u@127.0.0.1:5070;transport=udp", 200.0)
    assert table.put(refreshed)[0] == "refreshed"
    assert table.next_expiry() == 200.0  # the stale heap entry is skipped
    assert table.find_contact(parse_uri("sip:u@127.0.0.1:5070")) is refreshed
    second = make_binding(table, "a", "sip:v@127.0.0.1:5071", 50.0)
    third = make_binding(table, "a", "sip:w@127.0.0.1:5072", 300.0)
    table.put(second)
    _, evicted = table.put(third)
    assert evicted == [refreshed]  # the oldest goes first (registered_at, then id)
    assert table.expire(60.0) == [second]
    assert [b.uri for b in table.of("a")] == ["sip:w@127.0.0.1:5072"]
    assert table.of("a", now=400.0) == []
    assert table.remove_owner("a") == [third] and len(table) == 0
    assert table.next_expiry() is None


def test_registered_over_compares_flow_and_udp_source() -> None:
    table = BindingTable()
    flow = FakeFlow()
    binding = make_binding(table, "a", "sip:u@127.0.0.1:5070", 100.0, flow=flow)
    table.put(binding)
    assert table.registered_over("a", Hop.of(flow, Address("127.0.0.1", 5070)), 0.0)
    assert not table.registered_over("a", Hop.of(flow, Address("127.0.0.1", 5999)), 0.0)
    assert not table.registered_over("a", Hop.of(FakeFlow(), Address("127.0.0.1", 5070)), 0.0)
    assert not table.registered_over("a", Hop.of(flow, Address("127.0.0.1", 5070)), 100.0)
    assert table.remove_flow(flow) == []  # UDP sockets are shared: never "closed" per peer
    stream = FakeFlow("tcp")
    over_tcp = make_binding(table, "b", "sip:t@127.0.0.1:5080", 100.0, flow=stream)
    table.put(over_tcp)
    assert table.registered_over("b", Hop.of(stream, Address("127.0.0.1", 1)), 0.0)
    assert table.remove_flow(stream) == [over_tcp]
    assert table.of("b") == [] and table.of("a") == [binding]


def test_binding_keys_and_contact_keys() -> None:
    with_instance = parse_name_addr('<sip:u@h:1>;+sip.instance="<urn:uuid:1>";reg-id=2')
    assert binding_key(with_instance) == ("instance", "<urn:uuid:1>|2")
    assert binding_key(parse_name_addr("<sip:U@Host>")) == ("uri", "U@host:5060")
    assert contact_key(parse_uri("sips:h")) == "@h:5061"
    assert contact_key(parse_uri("tel:+1")) is None


# --------------------------------------------------------------------------- proxy


def request(method: str = "MESSAGE", vias: int = 1) -> Request:
    headers = Headers()
    for index in range(vias):
        headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{5000 + index};branch=z9hG4bK{index}")
    headers.add("Route", "<sip:orig@scscf.x;lr>")
    headers.add("From", "<sip:a@x>;tag=1")
    headers.add("To", "<sip:b@x>")
    headers.add("Call-ID", "c1")
    headers.add("CSeq", f"1 {method}")
    headers.add("P-Asserted-Identity", "<sip:forged@x>")
    return Request(method, "sip:b@x", headers, b"body")


def test_forward_copy_rewrites_only_the_copy() -> None:
    original = request()
    copy = forward_copy(
        original,
        uri="sip:b@127.0.0.1:5070",
        via="SIP/2.0/TCP 127.0.0.1:5060",
        routes=["<sip:next@127.0.0.1:6000;lr>"],
        record_route="<sip:127.0.0.1:5060;lr>",
        asserted_identity="<sip:a@x>",
    )
    assert copy.uri == "sip:b@127.0.0.1:5070"
    assert [v.sent_by for v in copy.vias] == ["127.0.0.1:5060", "127.0.0.1:5000"]
    assert copy.headers.get("Max-Forwards") == "69"
    assert copy.headers.get_all("Route") == ["<sip:next@127.0.0.1:6000;lr>"]
    assert copy.headers.get_all("Record-Route") == ["<sip:127.0.0.1:5060;lr>"]
    assert copy.headers.get_all("P-Asserted-Identity") == ["<sip:a@x>"]
    assert original.headers.get("Max-Forwards") is None and original.uri == "sip:b@x"
    original.headers.set("Max-Forwards", "5")
    assert (
        forward_copy(original, uri="sip:b@x", via="SIP/2.0/UDP h").headers.get("Max-Forwards")
        == "4"
    )
    original.headers.set("Max-Forwards", "many")
    with pytest.raises(SipParseError):
        max_forwards(original)


def test_pop_top_via_splits_joined_values() -> None:
    response = build_response(request(vias=1), 200)
    response.headers.set("Via", "SIP/2.0/UDP p:1;branch=z9hG4bKp, SIP/2.0/UDP a:2;branch=z9hG4bKa")
    relayed = pop_top_via(response)
    assert relayed is not None and [v.sent_by for v in relayed.vias] == ["a:2"]
    assert pop_top_via(build_response(request(vias=1), 200)) is None


def keys(count: int) -> list[TransactionKey]:
    return [TransactionKey(Role.CLIENT, f"z9hG4bKb{i}", "INVITE") for i in range(count)]


def test_response_context_invite_fork() -> None:
    invite = request("INVITE")
    ctx = ResponseContext(TransactionKey(Role.SERVER, "z9hG4bK0", "INVITE"), invite, to_tag="t")
    first, second = keys(2)
    ctx.add_branch(first)
    ctx.add_branch(second)
    upstream = request("INVITE", vias=2)  # as the branch sent it: our Via on top
    assert ctx.on_response(first, build_response(upstream, 100)).forward == []
    ringing = ctx.on_response(first, build_response(upstream, 180, to_tag="r"))
    assert [r.status for r in ringing.forward] == [180]
    assert len(ringing.forward[0].vias) == 1
    ok = ctx.on_response(first, build_response(upstream, 200, to_tag="r"))
    assert [r.status for r in ok.forward] == [200] and ok.cancel == [second]
    assert not ctx.done
    late = ctx.on_response(second, build_response(upstream, 487, to_tag="s"))
    assert late.forward == [] and ctx.done


def test_response_context_best_final_response() -> None:
    ctx = ResponseContext(TransactionKey(Role.SERVER, "z9hG4bK0", "MESSAGE"), request(), to_tag="t")
    branches = keys(3)
    for key in branches:
        ctx.add_branch(key)
    upstream = request(vias=2)
    assert ctx.on_response(branches[0], build_response(upstream, 503)).forward == []
    assert ctx.on_failure(branches[1], 408).forward == []
    final = ctx.on_response(branches[2], build_response(upstream, 404)).forward
    assert [r.status for r in final] == [404]  # real 4xx beats the made-up 408 and any 5xx
    only_503 = ResponseContext(TransactionKey(Role.SERVER, "z", "MESSAGE"), request(), to_tag="t")
    only_503.add_branch(branches[0])
    assert [
        r.status for r in only_503.on_response(branches[0], build_response(upstream, 503)).forward
    ] == [500]


# --------------------------------------------------------------------------- routing


def test_routing_names() -> None:
    routing = LabRouting(directory(), ["other.lab"])
    routing.bind("127.0.0.1", 5060)
    own = routing.is_own_node
    assert own(parse_uri("sip:127.0.0.1:5060;lr")) and own(parse_uri("sip:127.0.0.1"))
    assert not own(parse_uri("sip:127.0.0.1:5070"))
    assert own(parse_uri(f"sip:orig@scscf.{DOMAIN};lr")) and own(parse_uri(f"sip:{DOMAIN}"))
    assert not own(parse_uri(f"sip:+8613800000001@{DOMAIN}"))
    assert not own(parse_uri("sip:scscf.example.org")) and not own(parse_uri("tel:+1"))
    assert routing.served("OTHER.lab") and routing.served("botplatform.lab")
    assert DOMAIN in routing.domains
    resolve = routing.resolve
    assert resolve("tel:+86-138-0000-0001")[1] == 0
    assert resolve("tel:+8613899999999") == (None, 404, "Not Found")
    assert resolve("tel:1234;phone-context=x")[1] == 404
    assert resolve(f"sip:+8613800000004@{DOMAIN};user=phone")[1] == 0
    assert resolve("sip:alice@example.org") == (None, 403, "Relaying Forbidden")
    assert resolve(f"sip:{DOMAIN}")[1] == 404
    assert resolve("mailto:a@b")[1] == 416
    assert resolve("sip:bad uri")[1] == 400
    imsi_owner = resolve(f"sip:460001234500002@{DOMAIN}")[0]
    assert imsi_owner == f"460001234500002@{DOMAIN}".lower()
    routing.route_domain("other.lab", "owner@x")
    assert routing.owner_of("sip:anything@other.lab") == "owner@x"


# --------------------------------------------------------------------------- authentication


def digest_answer(challenge_header: str, password: str, nc: int = 1) -> object:
    challenge = parse_challenge(challenge_header)
    value = build_authorization(
        challenge,
        method="REGISTER",
        uri=f"sip:{DOMAIN}",
        username=f"460001234500001@{DOMAIN}",
        password=password,
        cnonce="cn",
        nc=nc,
    )
    return parse_credentials(value)


def test_authenticator_digest_and_stale_nonces() -> None:
    alice = next(iter(directory()))
    auth = RegAuthenticator(random_bytes=counter_bytes(), nonce_lifetime=10.0)  # type: ignore[arg-type]
    first = auth.authenticate(alice, None, now=0.0)
    assert first.outcome is AuthOutcome.CHALLENGE
    ok = auth.authenticate(alice, digest_answer(first.challenges[0], "alice-secret"), now=1.0)  # type: ignore[arg-type]
    assert ok.outcome is AuthOutcome.ACCEPTED
    late = auth.authenticate(alice, digest_answer(first.challenges[0], "alice-secret", 2), now=20.0)  # type: ignore[arg-type]
    assert late.outcome is AuthOutcome.CHALLENGE
    assert parse_challenge(late.challenges[0]).stale
    wrong = auth.authenticate(alice, digest_answer(late.challenges[0], "nope"), now=21.0)  # type: ignore[arg-type]
    assert wrong.outcome is AuthOutcome.CHALLENGE
    refused = auth.authenticate(alice, digest_answer(wrong.challenges[0], "nope"), now=22.0)  # type: ignore[arg-type]
    assert refused.outcome is AuthOutcome.FORBIDDEN
    with pytest.raises(ValueError):
        RegAuthenticator(digest_algorithms=())


def test_authenticator_aka_refusals() -> None:
    bob = [s for s in directory()][1]
    auth = RegAuthenticator(random_bytes=counter_bytes())  # type: ignore[arg-type]
    challenge = parse_challenge(auth.authenticate(bob, None, now=0.0).challenges[0])
    assert challenge.algorithm == "AKAv1-MD5"
    base = (
        f'Digest username="{bob.impi}",realm="{DOMAIN}",uri="sip:{DOMAIN}",'
        f'nonce="{challenge.nonce}"'
    )
    empty = auth.authenticate(bob, parse_credentials(base + ',response=""'), now=1.0)
    assert (empty.outcome, empty.reason) == (AuthOutcome.FORBIDDEN, "Authentication Failed")
    challenge = parse_challenge(auth.authenticate(bob, None, now=2.0).challenges[0])
    base = base.replace(base.split('nonce="')[1].split('"')[0], challenge.nonce or "")
    bad_auts = auth.authenticate(bob, parse_credentials(base + ',response="",auts="AAAA"'), now=3.0)
    assert (bad_auts.outcome, bad_auts.reason) == (AuthOutcome.FORBIDDEN, "Bad AUTS")
    bob.k = None
    assert auth.authenticate(bob, None, now=4.0).outcome is AuthOutcome.FORBIDDEN


# --------------------------------------------------------------------------- reg event documents


def test_reginfo_document_reports_terminated_contacts() -> None:
    sub = next(iter(directory()))
    table = BindingTable()
    live = make_binding(table, "a", "sip:u@127.0.0.1:5070", 100.0)
    gone = make_binding(table, "a", "sip:v@127.0.0.1:5071", 50.0)
    body = reginfo_document(
        sub,
        [live],
        [(live, "active", "refreshed"), (gone, "terminated", "expired")],
        version=3,
        now=40.0,
    )
    info = parse_reginfo(body)
    assert info.version == 3 and [r.aor for r in info.registrations] == list(sub.impus)
    contacts = {c.uri: (c.state, c.event, c.expires) for c in info.registrations[0].contacts}
    assert contacts == {
        "sip:u@127.0.0.1:5070": ("active", "refreshed", 60),
        "sip:v@127.0.0.1:5071": ("terminated", "expired", 0),
    }
    empty = parse_reginfo(reginfo_document(sub, [], [], version=0, now=0.0))
    assert empty.registrations[0].state == "init"


# --------------------------------------------------------------------------- faults


def test_fault_switch_order_kinds_and_counts() -> None:
    switch = SipFaultSwitch()
    shared = switch.add(make_sip_fault("503"))
    own = switch.add(make_sip_fault("403", target="IMPI@X", once=2))
    assert switch.peek(["impi@x"]) is own
    assert switch.peek(["other"]) is shared
    assert switch.peek(["impi@x"], ("drop",)) is None
    assert switch.take(["impi@x"]) is own
    assert next(iter(switch)).once is None and len(switch) == 2
    assert [f.once for f in switch if f.kind == "403"] == [1]
    switch.take(["impi@x"], ("403",))
    assert [f.kind for f in switch] == ["503"]
    cases: list[dict[str, object]] = [
        {"kind": "x"},
        {"kind": "503", "retry_after": -1},
        {"kind": "403", "target": "a b"},
    ]
    for bad in cases:
        with pytest.raises(ValueError):
            make_sip_fault(**bad)  # type: ignore[arg-type]
