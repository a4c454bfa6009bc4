"""SIP dialogs (RFC 3261 §12): creation, route sets, CSeq rules, target refresh."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_sip_transaction_support import load_request, load_response, make_request, over_wire

from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.sip.dialog import Dialog, DialogId
from rcs_terminal.protocol.sip.message import Request, Response, build_response, parse_message

ALICE_CONTACT_URI = "sip:+8613800000001@192.0.2.10:5060;transport=tcp"
BOB_CONTACT_URI = "sip:+8613800000002@192.0.2.20:5060;transport=tcp"
PCSCF = "sip:pcscf.rcs.test:5060;transport=tcp;lr"
SCSCF = "sip:scscf.rcs.test:5060;transport=tcp;lr"


def uac_dialog() -> Dialog:
    return Dialog.from_uac(
        load_request("invite_chat_uac.sip"), load_response("invite_chat_200.sip")
    )


def uas_dialog() -> Dialog:
    return Dialog.from_uas(
        load_request("invite_chat.sip"),
        "chat-b-9",
        local_contact=f"<{BOB_CONTACT_URI}>",
    )


def in_dialog_request(
    dialog: Dialog, method: str, cseq: int, *, contact: str | None = None
) -> Request:
    """A request the peer sends inside ``dialog``."""
    lines = [
        f"{method} {dialog.local_uri} SIP/2.0",
        "Via: SIP/2.0/TCP 192.0.2.20:5060;branch=z9hG4bKpeer" + str(cseq),
        f"From: <{dialog.remote_uri}>;tag={dialog.remote_tag}",
        f"To: <{dialog.local_uri}>;tag={dialog.local_tag}",
        f"Call-ID: {dialog.call_id}",
        f"CSeq: {cseq} {method}",
    ]
    if contact is not None:
        lines.append(f"Contact: <{contact}>")
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


# --------------------------------------------------------------------------- creation


def test_uac_dialog_from_a_2xx() -> None:
    dialog = uac_dialog()
    assert dialog.call_id == "chat-1@192.0.2.10"
    assert (dialog.local_tag, dialog.remote_tag) == ("chat-a-1", "chat-b-9")
    assert dialog.local_uri == "sip:+8613800000001@rcs.test"
    assert dialog.remote_uri == "sip:+8613800000002@rcs.test"
    assert dialog.remote_target == BOB_CONTACT_URI
    # §12.1.2: the Record-Route of the response, in reverse order
    assert dialog.route_set == (PCSCF, SCSCF)
    assert (dialog.local_seq, dialog.remote_seq) == (1, None)
    assert not dialog.early and not dialog.secure
    assert dialog.local_display == "Alice"
    assert dialog.local_contact is not None and "+sip.instance" in dialog.local_contact
    assert dialog.id == DialogId("chat-1@192.0.2.10", "chat-a-1", "chat-b-9")
    assert DialogId.of_response(load_response("invite_chat_200.sip")) == dialog.id


def test_uas_dialog_from_an_invite() -> None:
    dialog = uas_dialog()
    assert (dialog.local_tag, dialog.remote_tag) == ("chat-b-9", "chat-a-1")
    assert dialog.local_uri == "sip:+8613800000002@rcs.test"
    assert dialog.remote_uri == "sip:+8613800000001@rcs.test"
    assert dialog.remote_target == ALICE_CONTACT_URI
    # §12.1.1: the Record-Route of the request, in order
    assert dialog.route_set == (SCSCF, PCSCF)
    assert (dialog.local_seq, dialog.remote_seq) == (None, 1)
    assert dialog.remote_display == "Alice"


def test_the_two_ends_of_one_dialog_mirror_each_other() -> None:
    uac, uas = uac_dialog(), uas_dialog()
    assert (uac.local_tag, uac.remote_tag) == (uas.remote_tag, uas.local_tag)
    assert (uac.local_uri, uac.remote_uri) == (uas.remote_uri, uas.local_uri)
    assert uac.route_set == tuple(reversed(uas.route_set))


def test_early_dialog_from_a_180_is_confirmed_by_the_200() -> None:
    invite = load_request("invite_chat_uac.sip")
    dialog = Dialog.from_uac(invite, load_response("invite_chat_180.sip"))
    assert dialog.early
    assert dialog.route_set == (SCSCF,)
    assert dialog.remote_target == "sip:+8613800000002@192.0.2.21:5060;transport=tcp"
    ok = load_response("invite_chat_200.sip")
    ack = dialog.create_ack(ok)
    assert not dialog.early
    assert dialog.route_set == (PCSCF, SCSCF)  # recomputed from the 2xx (§13.2.2.4)
    assert dialog.remote_target == BOB_CONTACT_URI
    assert ack.uri == BOB_CONTACT_URI


@pytest.mark.parametrize(
    ("status", "tag", "message"),
    [(100, "x", "creates no dialog"), (486, "x", "creates no dialog"), (180, None, "To tag")],
)
def test_responses_that_create_no_dialog(status: int, tag: str | None, message: str) -> None:
    invite = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd")
    with pytest.raises(LocalProtocolError, match=message):
        Dialog.from_uac(invite, build_response(invite, status, to_tag=tag))


def test_from_uac_checks_that_the_response_answers_the_request() -> None:
    invite = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd")
    other = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd", cseq=2)
    with pytest.raises(LocalProtocolError, match="does not answer"):
        Dialog.from_uac(invite, build_response(other, 200, to_tag="t"))
    untagged = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd")
    untagged.headers.set("From", "<sip:+8613800000001@rcs.test>")
    with pytest.raises(LocalProtocolError, match="From tag"):
        Dialog.from_uac(untagged, build_response(untagged, 200, to_tag="t"))


def test_missing_contact_falls_back_to_the_request_uri() -> None:
    invite = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd")
    dialog = Dialog.from_uac(invite, build_response(invite, 200, to_tag="t"))
    assert dialog.remote_target == invite.uri
    uas = Dialog.from_uas(invite, "mine")
    assert uas.remote_target == "sip:+8613800000001@rcs.test"  # From URI


def test_rfc2543_peer_without_to_tag_in_its_2xx() -> None:
    invite = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd")
    ok = build_response(invite, 200)
    dialog = Dialog.from_uac(invite, ok)
    assert dialog.remote_tag is None
    bye = dialog.create_request("BYE")
    assert bye.to.tag is None


def test_sips_request_uri_makes_a_secure_dialog() -> None:
    invite = make_request(
        "INVITE", via="SIP/2.0/TLS 192.0.2.10", branch="z9hG4bKs", uri="sips:bob@rcs.test"
    )
    assert Dialog.from_uac(invite, build_response(invite, 200, to_tag="t")).secure
    assert Dialog.from_uas(invite, "l").secure


# --------------------------------------------------------------------------- requests


def test_requests_carry_the_dialog_state_and_loose_routes() -> None:
    dialog = uac_dialog()
    bye = dialog.create_request("BYE")
    assert bye.method == "BYE"
    assert bye.uri == BOB_CONTACT_URI  # loose routing: the remote target
    assert bye.headers.get_all("Route") == [f"<{PCSCF}>", f"<{SCSCF}>"]
    assert bye.from_.uri == dialog.local_uri and bye.from_.tag == "chat-a-1"
    assert bye.from_.display_name == "Alice"
    assert bye.to.uri == dialog.remote_uri and bye.to.tag == "chat-b-9"
    assert bye.call_id == dialog.call_id
    assert (bye.cseq.seq, bye.cseq.method) == (2, "BYE")
    assert bye.headers.get("Max-Forwards") == "70"
    assert "Contact" not in bye.headers  # BYE is not a target refresh request
    assert "Via" not in bye.headers  # the transaction layer adds it
    assert dialog.local_seq == 2
    # the request survives the wire
    again = over_wire(bye)
    assert isinstance(again, Request)
    assert again.headers.get_all("Route") == bye.headers.get_all("Route")


def test_local_cseq_goes_up_by_one_and_starts_at_one_for_a_uas() -> None:
    dialog = uas_dialog()
    numbers = [dialog.create_request(m).cseq.seq for m in ("INFO", "UPDATE", "BYE")]
    assert numbers == [1, 2, 3]


def test_target_refresh_requests_carry_the_local_contact() -> None:
    dialog = uas_dialog()
    reinvite = dialog.create_request("INVITE", body=b"v=0\r\n", content_type="application/sdp")
    assert reinvite.headers.get("Contact") == f"<{BOB_CONTACT_URI}>"
    assert reinvite.headers.get("Content-Type") == "application/sdp"
    assert reinvite.body == b"v=0\r\n"
    assert reinvite.uri == ALICE_CONTACT_URI
    assert reinvite.headers.get_all("Route") == [f"<{SCSCF}>", f"<{PCSCF}>"]
    own = dialog.create_request("UPDATE", extra_headers=[("Contact", "<sip:other@192.0.2.99>")])
    assert own.headers.get_all("Contact") == ["<sip:other@192.0.2.99>"]


def test_extra_headers_are_appended_in_order() -> None:
    dialog = uac_dialog()
    message = dialog.create_request(
        "MESSAGE",
        body=b"hi",
        extra_headers=[("Content-Type", "text/plain"), ("Subject", "a"), ("Subject", "b")],
    )
    assert message.content_type == "text/plain"
    assert message.headers.get_all("Subject") == ["a", "b"]


def test_create_request_refuses_what_it_cannot_build() -> None:
    dialog = uac_dialog()
    for method in ("ACK", "CANCEL"):
        with pytest.raises(LocalProtocolError):
            dialog.create_request(method)
    with pytest.raises(LocalProtocolError, match="Content-Type"):
        dialog.create_request("MESSAGE", body=b"x")
    assert dialog.local_seq == 1  # nothing was consumed
    dialog.local_seq = 2**31 - 1
    with pytest.raises(LocalProtocolError, match="exhausted"):
        dialog.create_request("BYE")


def test_strict_router_first_in_the_route_set() -> None:
    ok = load_response("invite_strict_route_200.sip")
    invite = make_request(
        "INVITE",
        via="SIP/2.0/UDP 192.0.2.10:5060",
        branch="z9hG4bK.ue.strict1",
        call_id="strict-1@192.0.2.10",
        from_tag="strict-a",
        cseq=7,
    )
    dialog = Dialog.from_uac(invite, ok)
    strict = "sip:legacy.rcs.test:5070;method=INVITE;maddr=192.0.2.50"
    assert dialog.route_set == (strict, "sip:edge.rcs.test;lr")
    bye = dialog.create_request("BYE")
    # §12.2.1.1: the strict router becomes the Request-URI (without the method parameter)
    assert bye.uri == "sip:legacy.rcs.test:5070;maddr=192.0.2.50"
    assert bye.headers.get_all("Route") == [
        "<sip:edge.rcs.test;lr>",
        "<sip:+8613800000002@192.0.2.20:5062>",
    ]
    ack = dialog.create_ack(ok)
    assert ack.uri == bye.uri and (ack.cseq.seq, ack.cseq.method) == (7, "ACK")


def test_strict_router_uri_headers_are_dropped_from_the_request_uri() -> None:
    dialog = uac_dialog()
    dialog.route_set = ("sip:old.rcs.test?Subject=x", PCSCF)
    request = dialog.create_request("INFO")
    assert request.uri == "sip:old.rcs.test"
    dialog.route_set = ("sip:plain.rcs.test",)
    request = dialog.create_request("INFO")
    assert request.uri == "sip:plain.rcs.test"
    assert request.headers.get_all("Route") == [f"<{BOB_CONTACT_URI}>"]


def test_a_malformed_route_set_is_a_local_error() -> None:
    dialog = uac_dialog()
    dialog.route_set = ("sip:",)
    with pytest.raises(LocalProtocolError):
        dialog.create_request("BYE")


def test_no_route_set_sends_straight_to_the_remote_target() -> None:
    invite = make_request("INVITE", via="SIP/2.0/UDP 192.0.2.10", branch="z9hG4bKd")
    ok = build_response(invite, 200, to_tag="t")
    ok.headers.add("Contact", "<sip:bob@192.0.2.20>")
    dialog = Dialog.from_uac(invite, ok)
    bye = dialog.create_request("BYE")
    assert bye.uri == "sip:bob@192.0.2.20"
    assert "Route" not in bye.headers


def test_ack_uses_the_invite_cseq_and_carries_an_answer() -> None:
    dialog = uac_dialog()
    ok = load_response("invite_chat_200.sip")
    dialog.create_request("INFO")  # later requests do not change the ACK's number
    ack = dialog.create_ack(
        ok, body=b"v=0\r\n", content_type="application/sdp", extra_headers=[("X-Id", "1")]
    )
    assert (ack.cseq.seq, ack.cseq.method) == (1, "ACK")
    assert ack.headers.get_all("Route") == [f"<{PCSCF}>", f"<{SCSCF}>"]
    assert ack.body == b"v=0\r\n" and ack.headers.get("X-Id") == "1"
    assert "Contact" not in ack.headers
    assert dialog.local_seq == 2


def test_ack_is_only_for_a_2xx_to_invite_of_this_dialog() -> None:
    dialog = uac_dialog()
    ok = load_response("invite_chat_200.sip")
    busy = Response(486, "Busy Here", ok.headers.copy())
    with pytest.raises(LocalProtocolError):
        dialog.create_ack(busy)
    stranger = Response(200, "OK", ok.headers.copy())
    stranger.headers.set("To", "<sip:+8613800000002@rcs.test>;tag=someone-else")
    with pytest.raises(LocalProtocolError, match="another dialog"):
        dialog.create_ack(stranger)
    elsewhere = Response(200, "OK", ok.headers.copy())
    elsewhere.headers.set("Call-ID", "other-call")
    with pytest.raises(LocalProtocolError, match="another dialog"):
        dialog.create_ack(elsewhere)


# --------------------------------------------------------------------------- receiving


def test_in_dialog_bye_is_accepted() -> None:
    dialog = uac_dialog()
    bye = load_request("bye_in_dialog.sip")
    assert DialogId.of_request(bye) == dialog.id
    assert dialog.receive_request(bye) is None
    assert dialog.remote_seq == 2


def test_lower_remote_cseq_is_answered_with_500() -> None:
    dialog = uac_dialog()
    assert dialog.receive_request(in_dialog_request(dialog, "INFO", 10)) is None
    assert dialog.receive_request(in_dialog_request(dialog, "INFO", 9)) == 500
    assert dialog.remote_seq == 10
    assert dialog.receive_request(in_dialog_request(dialog, "INFO", 11)) is None
    # ACK and CANCEL keep their INVITE's number and are not ordered
    assert dialog.receive_request(in_dialog_request(dialog, "ACK", 3)) is None
    assert dialog.remote_seq == 11


def test_requests_of_another_dialog_get_481() -> None:
    dialog = uac_dialog()
    request = in_dialog_request(dialog, "BYE", 5)
    request.headers.set("To", f"<{dialog.local_uri}>;tag=not-mine")
    assert dialog.receive_request(request) == 481
    assert dialog.remote_seq is None


def test_target_refresh_request_updates_the_remote_target() -> None:
    dialog = uas_dialog()
    assert dialog.receive_request(in_dialog_request(dialog, "INFO", 2, contact="sip:x@h1")) is None
    assert dialog.remote_target == ALICE_CONTACT_URI  # INFO refreshes nothing
    assert (
        dialog.receive_request(in_dialog_request(dialog, "UPDATE", 3, contact="sip:a@h2")) is None
    )
    assert dialog.remote_target == "sip:a@h2"
    assert dialog.receive_request(in_dialog_request(dialog, "INVITE", 4)) is None
    assert dialog.remote_target == "sip:a@h2"  # no Contact: kept


def test_2xx_to_a_target_refresh_updates_the_remote_target() -> None:
    dialog = uac_dialog()
    reinvite = dialog.create_request("INVITE")
    reinvite.headers.add("Via", "SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKre")
    ok = build_response(reinvite, 200)
    ok.headers.add("Contact", "<sip:+8613800000002@192.0.2.30:5060>")
    dialog.receive_response(ok)
    assert dialog.remote_target == "sip:+8613800000002@192.0.2.30:5060"
    assert dialog.route_set == (PCSCF, SCSCF)  # fixed once the dialog is confirmed
    ringing = build_response(reinvite, 180)
    ringing.headers.add("Contact", "<sip:elsewhere@192.0.2.31>")
    dialog.receive_response(ringing)
    assert dialog.remote_target == "sip:+8613800000002@192.0.2.30:5060"


def test_responses_of_another_dialog_are_refused() -> None:
    dialog = uac_dialog()
    request = dialog.create_request("INFO")
    request.headers.add("Via", "SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKi")
    response = build_response(request, 200)
    response.headers.set("From", "<sip:+8613800000001@rcs.test>;tag=other")
    with pytest.raises(LocalProtocolError):
        dialog.receive_response(response)


def test_dialog_id_of_requests_outside_a_dialog_is_none() -> None:
    assert DialogId.of_request(load_request("invite_chat.sip")) is None
    response = build_response(make_request("OPTIONS", via="SIP/2.0/UDP h", branch="z9hG4bKo"), 200)
    response.headers.set("From", "<sip:a@rcs.test>")
    assert DialogId.of_response(response) is None


def test_confirm_ends_the_early_state_of_a_uas_dialog() -> None:
    dialog = Dialog.from_uas(load_request("invite_chat.sip"), "b", early=True)
    assert dialog.early
    dialog.confirm()
    assert not dialog.early


# --------------------------------------------------------------------------- properties


@given(st.lists(st.integers(1, 2**31 - 1), max_size=30))
def test_remote_cseq_never_goes_down(numbers: list[int]) -> None:
    dialog = uac_dialog()
    highest: int | None = None
    for number in numbers:
        verdict = dialog.receive_request(in_dialog_request(dialog, "INFO", number))
        if highest is not None and number < highest:
            assert verdict == 500
        else:
            assert verdict is None
            highest = number
        assert dialog.remote_seq == highest


@given(
    st.lists(st.sampled_from(["BYE", "INFO", "UPDATE", "MESSAGE", "INVITE", "REFER"]), max_size=20)
)
def test_local_cseq_is_consecutive(methods: list[str]) -> None:
    dialog = uac_dialog()
    numbers = [dialog.create_request(method).cseq.seq for method in methods]
    assert numbers == list(range(2, 2 + len(methods)))


_HOSTS = st.from_regex(r"[a-z]{1,8}\.rcs\.test", fullmatch=True)


@given(
    st.lists(st.tuples(_HOSTS, st.booleans(), st.sampled_from([None, 5060, 5070])), max_size=5),
    _HOSTS,
)
def test_route_set_rules_survive_the_wire(
    routes: list[tuple[str, bool, int | None]], target_host: str
) -> None:
    uris = tuple(
        f"sip:{host}{'' if port is None else f':{port}'}{';lr' if loose else ''}"
        for host, loose, port in routes
    )
    dialog = uac_dialog()
    dialog.route_set = uris
    dialog.remote_target = f"sip:bob@{target_host}"
    request = over_wire(dialog.create_request("BYE"))
    assert isinstance(request, Request)
    sent_routes = [entry.uri for entry in request.addresses("Route")]
    if not uris or routes[0][1]:
        assert request.uri == dialog.remote_target
        assert sent_routes == list(uris)
    else:
        assert request.uri == uris[0]
        assert sent_routes == [*uris[1:], dialog.remote_target]


def test_a_wildcard_contact_is_no_remote_target() -> None:
    dialog = uac_dialog()
    request = in_dialog_request(dialog, "UPDATE", 4)
    request.headers.set("Contact", "*")
    assert dialog.receive_request(request) is None
    assert dialog.remote_target == BOB_CONTACT_URI
