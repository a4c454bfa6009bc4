"""The RCC.14 flow state machine, driven with scripted server answers and a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.clock import FakeClock
from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.provisioning import (
    Action,
    DeviceIdentity,
    Disabled,
    Done,
    Failed,
    HttpRequest,
    HttpResponse,
    ImsSettings,
    PcscfAddress,
    Phase,
    ProvisioningFlow,
    RcsConfig,
    SimIdentity,
    StoredState,
    TermsMessage,
    Wait,
    WaitForOtp,
    WaitForTerms,
    build_config,
    build_otp_reply,
)

DEVICE = DeviceIdentity("ZTE", "Axon 30", "MyOS 11", "ZTE", "RCSAndrd-2.4")
SIM = SimIdentity("460001234500001", "861234567890123", "+8613800000001")
HTTP, HTTPS = "http://config.rcs.test", "https://config.rcs.test"
START = 1_700_000_000.0

LAB = RcsConfig(
    version=5,
    validity=86400,
    token="tok-5",
    token_validity=3600,
    ims=ImsSettings(
        impi="460001234500001@rcs.test",
        impus=("sip:+8613800000001@rcs.test",),
        pcscf=(PcscfAddress("127.0.0.1", 5060, "IPv4"),),
        transport="SIPoTCP",
        auth_type="Digest",
        password="pw",
    ),
)
LAB_XML = build_config(LAB)


def ok(config: RcsConfig = LAB, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(200, headers, build_config(config))


COOKIE = HttpResponse(200, (("Set-Cookie", "enrich=460001234500001; Path=/"),))
OTP_REPLY = HttpResponse(200, (("Set-Cookie", "otp=pending"),), build_otp_reply(37273))
TIMEOUT = "timeout"


def params(request: HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))


def header(request: HttpRequest, name: str) -> str | None:
    return next((v for k, v in request.headers if k.lower() == name.lower()), None)


@dataclass
class Trace:
    """What a scripted run did."""

    final: Action
    requests: list[HttpRequest] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    otp_waits: list[WaitForOtp] = field(default_factory=list)


def run(flow: ProvisioningFlow, clock: FakeClock, script: list[Any]) -> Trace:
    """Answer each request with the next script item until the run ends and the script is
    used up. Items: an HttpResponse, TIMEOUT, ("otp", code), "late" (let the OTP expire),
    ("terms", bool)."""
    script = list(script)
    trace: Trace | None = None
    requests: list[HttpRequest] = []
    waits: list[float] = []
    otp_waits: list[WaitForOtp] = []
    for _ in range(200):
        action = flow.next_action(clock.now())
        if isinstance(action, HttpRequest):
            requests.append(action)
            item = script.pop(0)
            if item == TIMEOUT:
                flow.timeout(clock.now())
            else:
                flow.receive_response(item, clock.now())
        elif isinstance(action, WaitForOtp):
            otp_waits.append(action)
            item = script.pop(0)
            if item == "late":
                clock.set(action.deadline)
            else:
                assert flow.receive_otp(item[1])
        elif isinstance(action, WaitForTerms):
            item = script.pop(0)
            flow.accept_terms(item[1])
        elif isinstance(action, Wait):
            waits.append(action.until - clock.now())
            clock.set(action.until)
        else:
            if not script:
                trace = Trace(action, requests, waits, otp_waits)
                break
            due = (
                action.refresh_at
                if isinstance(action, Done)
                else (action.retry_at if isinstance(action, Failed) else action.poll_at)
            )
            assert due is not None, "script continues after a final action"
            clock.set(max(due, clock.now()))
    assert trace is not None, "the flow did not settle"
    return trace


def new_flow(
    stored: StoredState | None = None, *, http: str | None = HTTP, **kw: Any
) -> tuple[ProvisioningFlow, FakeClock]:
    clock = FakeClock(START)
    flow = ProvisioningFlow(
        DEVICE, SIM, base_url_http=http, base_url_https=HTTPS, stored=stored, now=clock.now(), **kw
    )
    return flow, clock


PREVIOUS = StoredState(
    version=4,
    validity_until=START - 1,
    token="tok-4",
    token_until=None,
    config_xml=build_config(replace(LAB, version=4)),
    last_positive_version=4,
)


# --------------------------------------------------------------------------- the table

ROWS: list[tuple[str, StoredState | None, list[Any], dict[str, Any]]] = [
    # name, stored, script, expectations
    (
        "cellular",
        None,
        [COOKIE, ok()],
        {
            "final": Done,
            "steps": ["cookie", "config"],
            "msisdn": False,
            "version": 5,
            "cookie": "enrich=460001234500001",
        },
    ),
    (
        "probe 511 -> msisdn",
        None,
        [HttpResponse(511), ok()],
        {"final": Done, "steps": ["cookie", "config"], "msisdn": True},
    ),
    ("probe 408 -> msisdn", None, [HttpResponse(408), ok()], {"final": Done, "msisdn": True}),
    ("probe no answer -> msisdn", None, [TIMEOUT, ok()], {"final": Done, "msisdn": True}),
    (
        "probe 200 without cookie -> msisdn",
        None,
        [HttpResponse(200), ok()],
        {"final": Done, "msisdn": True, "cookie": None},
    ),
    (
        "otp",
        None,
        [HttpResponse(511), OTP_REPLY, ("otp", " 123456 "), ok()],
        {
            "final": Done,
            "steps": ["cookie", "config", "otp"],
            "otp": "123456",
            "sms_port": 37273,
            "cookie": "otp=pending",
        },
    ),
    (
        "otp with empty 200",
        None,
        [HttpResponse(511), HttpResponse(200, (("Set-Cookie", "o=1"),)), ("otp", "9"), ok()],
        {"final": Done, "steps": ["cookie", "config", "otp"], "sms_port": None},
    ),
    (
        "otp too late -> ask again",
        None,
        [HttpResponse(511), OTP_REPLY, "late", OTP_REPLY, ("otp", "1"), ok()],
        {"final": Done, "steps": ["cookie", "config", "config", "otp"], "waits": [5.0]},
    ),
    (
        "otp forever",
        None,
        [HttpResponse(511)] + [OTP_REPLY, ("otp", "1")] * 3 + [OTP_REPLY],
        {"final": Failed, "status": 200},
    ),
    (
        "403 cellular -> reset to 0",
        PREVIOUS,
        [COOKIE, HttpResponse(403)],
        {"final": Failed, "status": 403, "version": 0, "config_xml": None, "retry_at": None},
    ),
    (
        "403 off cellular keeps data",
        PREVIOUS,
        [HttpResponse(511), HttpResponse(403)],
        {"final": Failed, "status": 403, "version": 4},
    ),
    (
        "503 retry-after seconds",
        None,
        [COOKIE, HttpResponse(503, (("Retry-After", "30"),)), ok()],
        {"final": Done, "waits": [30.0], "steps": ["cookie", "config", "config"]},
    ),
    (
        "503 retry-after date",
        None,
        [
            COOKIE,
            HttpResponse(
                503,
                (
                    ("Retry-After", "Wed, 21 Oct 2015 07:30:00 GMT"),
                    ("Date", "Wed, 21 Oct 2015 07:28:00 GMT"),
                ),
            ),
            ok(),
        ],
        {"final": Done, "waits": [120.0]},
    ),
    (
        "503 without retry-after backs off",
        None,
        [COOKIE, HttpResponse(503), ok()],
        {"final": Done, "waits": [5.0]},
    ),
    (
        "503 forever",
        None,
        [COOKIE] + [HttpResponse(503, (("Retry-After", "1"),))] * 6,
        {"final": Failed, "status": 503, "waits": [1.0] * 5},
    ),
    (
        "406 -> other provisioning_version",
        None,
        [COOKIE, HttpResponse(406, (("Supported-Versions", "2.0, 4.0, 5.0"),)), ok()],
        {"final": Done, "prov_versions": ["5.0", "4.0"]},
    ),
    (
        "406 with nothing else",
        None,
        [COOKIE, HttpResponse(406, (("Supported-Versions", "5.0"),))],
        {"final": Failed, "status": 406},
    ),
    (
        "511 drops the token",
        PREVIOUS,
        [COOKIE, HttpResponse(511), ok()],
        {"final": Done, "waits": [5.0], "tokens": ["tok-4", ""], "msisdns": [False, True]},
    ),
    (
        "511 forever",
        None,
        [COOKIE] + [HttpResponse(511)] * 6,
        {"final": Failed, "status": 511, "waits": [5.0] * 5},
    ),
    (
        "500 then ok",
        None,
        [COOKIE, HttpResponse(500), HttpResponse(502), ok()],
        {"final": Done, "waits": [5.0, 10.0]},
    ),
    (
        "500 forever",
        PREVIOUS,
        [COOKIE] + [HttpResponse(500)] * 6,
        {
            "final": Failed,
            "status": 500,
            "waits": [5.0, 10.0, 20.0, 40.0, 80.0],
            "version": 4,
            "config_kept": True,
        },
    ),
    ("404 backs off", None, [COOKIE, HttpResponse(404), ok()], {"final": Done, "waits": [5.0]}),
    (
        "no answer backs off",
        None,
        [COOKIE, TIMEOUT, TIMEOUT, ok()],
        {"final": Done, "waits": [5.0, 10.0]},
    ),
    (
        "garbage 200 backs off",
        None,
        [COOKIE, HttpResponse(200, (), b"<html>portal"), ok()],
        {"final": Done, "waits": [5.0]},
    ),
    (
        "bad value backs off",
        None,
        [COOKIE, HttpResponse(200, (), LAB_XML.replace(b'value="86400"', b'value="1 day"')), ok()],
        {"final": Done, "waits": [5.0]},
    ),
    (
        "empty 200 without cookie backs off",
        None,
        [COOKIE, HttpResponse(200), ok()],
        {"final": Done, "waits": [5.0]},
    ),
    ("401 fails", None, [COOKIE, HttpResponse(401)], {"final": Failed, "status": 401}),
    (
        "version 0",
        PREVIOUS,
        [COOKIE, ok(RcsConfig(version=0, validity=0))],
        {
            "final": Failed,
            "retry_at": START + 300,
            "version": 0,
            "config_xml": None,
            "token": "tok-4",
        },
    ),
    (
        "version -1",
        PREVIOUS,
        [COOKIE, ok(RcsConfig(version=-1, validity=0))],
        {"final": Disabled, "version": -1, "config_xml": None, "config_kept": False},
    ),
    (
        "version -2",
        PREVIOUS,
        [COOKIE, ok(RcsConfig(version=-2, validity=0))],
        {"final": Disabled, "version": -2, "config_kept": True},
    ),
    (
        "version -3",
        PREVIOUS,
        [COOKIE, ok(RcsConfig(version=-3, validity=7200, token="t3"))],
        {
            "final": Disabled,
            "version": -3,
            "poll_at": START + 7200,
            "config_kept": True,
            "token": "t3",
        },
    ),
    (
        "unknown version",
        None,
        [COOKIE, ok(RcsConfig(version=-9, validity=0)), ok()],
        {"final": Done, "waits": [5.0]},
    ),
]


@pytest.mark.parametrize(
    ("stored", "script", "expect"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_flow_table(stored: StoredState | None, script: list[Any], expect: dict[str, Any]) -> None:
    flow, clock = new_flow(stored)
    trace = run(flow, clock, script)
    final = trace.final
    assert isinstance(final, expect["final"]), final
    configs = [r for r in trace.requests if r.step != "cookie"]
    if "steps" in expect:
        assert [r.step for r in trace.requests] == expect["steps"]
    if "msisdn" in expect:
        assert ("msisdn" in params(configs[-1])) is expect["msisdn"]
    if "msisdns" in expect:
        assert [("msisdn" in params(r)) for r in configs] == expect["msisdns"]
    if "cookie" in expect:
        assert header(configs[-1], "Cookie") == expect["cookie"]
    if "otp" in expect:
        assert params(configs[-1])["OTP"] == expect["otp"]
        assert all("OTP" not in params(r) for r in configs[:-1])
    if "sms_port" in expect:
        assert trace.otp_waits[0].sms_port == expect["sms_port"]
        assert trace.otp_waits[0].deadline == START + 120  # the OTP reply came at START
    if "waits" in expect:
        assert trace.waits == expect["waits"]
    if "prov_versions" in expect:
        assert [params(r)["provisioning_version"] for r in configs] == expect["prov_versions"]
    if "tokens" in expect:
        assert [params(r)["token"] for r in configs] == expect["tokens"]
    if "status" in expect:
        assert isinstance(final, Failed) and final.status == expect["status"]
    if "retry_at" in expect:
        assert isinstance(final, Failed) and final.retry_at == expect["retry_at"]
    if "poll_at" in expect:
        assert isinstance(final, Disabled) and final.poll_at == expect["poll_at"]
    if "version" in expect:
        assert flow.stored.version == expect["version"]
    if "config_xml" in expect:
        assert flow.stored.config_xml is expect["config_xml"]
    if "token" in expect:
        assert flow.stored.token == expect["token"]
    if "config_kept" in expect:
        assert (flow.config is not None) is expect["config_kept"]
        if isinstance(final, Disabled):
            assert (final.config is not None) is expect["config_kept"]
    if isinstance(final, Done):
        assert final.config == LAB and flow.config == LAB
        assert final.refresh_at == clock.now() + 86400
        assert flow.stored.version == 5 and flow.stored.last_positive_version == 5
        assert flow.stored.config_xml == LAB_XML and flow.stored.token == "tok-5"
        assert flow.stored.token_until == clock.now() + 3600
    if not isinstance(final, Done) and "version" not in expect and stored is None:
        assert flow.stored.version == 0
    assert all(r.url.startswith(HTTPS + "/?") for r in configs)
    assert all(r.url == HTTP + "/" for r in trace.requests if r.step == "cookie")


# --------------------------------------------------------------------------- cache and timers


def test_first_request_details() -> None:
    flow, clock = new_flow()
    probe = flow.next_action(clock.now())
    assert isinstance(probe, HttpRequest) and probe.method == "GET" and probe.step == "cookie"
    assert header(
        probe,
        "User-Agent",
    ).startswith("CPM-client/OMA2.2")  # type: ignore[union-attr]
    assert header(probe, "Cookie") is None and header(probe, "X-3GPP-Intended-Identity") is None
    flow.receive_response(COOKIE, clock.now())
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest)
    query = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
    assert query[0] == ("vers", "0") and ("token", "") in query and query[-1][0] == "app"
    assert header(request, "X-3GPP-Intended-Identity") == "tel:+8613800000001"
    assert flow.on_cellular and flow.phase is Phase.AWAIT_RESPONSE


def test_valid_cache_gives_done_without_requests_and_force_asks_with_vers_0() -> None:
    stored = replace(PREVIOUS, validity_until=START + 60)
    flow, clock = new_flow(stored)
    action = flow.next_action(clock.now())
    assert action == Done(replace(LAB, version=4), START + 60)
    forced, clock = new_flow(stored, force=True)
    request = forced.next_action(clock.now())
    assert isinstance(request, HttpRequest) and request.step == "cookie"
    forced.receive_response(COOKIE, clock.now())
    request = forced.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["vers"] == "0"
    assert params(request)["token"] == "tok-4"  # a full refresh keeps the token
    assert forced.config == replace(LAB, version=4)  # still in use while refreshing


def test_refresh_when_validity_runs_out_and_same_version_keeps_data() -> None:
    flow, clock = new_flow(None, http=None)
    first = run(flow, clock, [ok()])
    assert isinstance(first.final, Done) and first.final.refresh_at == START + 86400
    assert flow.next_action(START + 86399) == first.final  # nothing to do yet
    clock.set(START + 86400)
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["vers"] == "5"
    assert params(request)["token"] == ""  # token_until was START + 3600: expired
    # The server answers "same version" with only VERS: the stored data stays.
    flow.receive_response(ok(RcsConfig(version=5, validity=100)), clock.now())
    action = flow.next_action(clock.now())
    assert action == Done(LAB, clock.now() + 100)
    assert flow.stored.config_xml == LAB_XML and flow.stored.validity_until == clock.now() + 100


def test_expired_token_is_not_sent() -> None:
    stored = replace(PREVIOUS, token_until=START - 1)
    flow, clock = new_flow(stored, http=None)
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["token"] == ""
    assert params(request)["vers"] == "4" and params(request)["msisdn"] == "+8613800000001"


@pytest.mark.parametrize("version", [-1, -2])
def test_stored_disabled_state_asks_nothing_until_forced(version: int) -> None:
    stored = replace(PREVIOUS, version=version, validity_until=None)
    flow, clock = new_flow(stored)
    action = flow.next_action(clock.now())
    assert isinstance(action, Disabled) and action.version == version
    assert (action.config is not None) is (version == -2)
    assert flow.next_action(clock.now() + 1e6) == action
    flow.restart(clock.now())
    assert isinstance(flow.next_action(clock.now()), Disabled)
    flow.restart(clock.now(), force=True)
    assert isinstance(flow.next_action(clock.now()), HttpRequest)


def test_dormant_polls_with_the_last_positive_version() -> None:
    stored = replace(PREVIOUS, version=-3, validity_until=START + 50)
    flow, clock = new_flow(stored, http=None)
    action = flow.next_action(clock.now())
    assert isinstance(action, Disabled) and action.poll_at == START + 50
    clock.set(START + 50)
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["vers"] == "4"
    flow.receive_response(ok(RcsConfig(version=-3, validity=0)), clock.now())
    again = flow.next_action(clock.now())
    assert isinstance(again, Disabled) and again.poll_at == clock.now() + 300
    clock.set(again.poll_at)
    flow.next_action(clock.now())
    flow.receive_response(ok(), clock.now())
    assert isinstance(flow.next_action(clock.now()), Done)


def test_version_zero_retries_later_with_vers_0() -> None:
    flow, clock = new_flow(PREVIOUS, http=None)
    result = run(flow, clock, [ok(RcsConfig(version=0, validity=0))])
    assert isinstance(result.final, Failed) and flow.config is None
    clock.set(result.final.retry_at)  # type: ignore[arg-type]
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["vers"] == "0"
    assert params(request)["token"] == "tok-4"


def test_unreadable_stored_document_forces_a_full_request() -> None:
    stored = replace(PREVIOUS, validity_until=START + 60, config_xml=b"<broken")
    flow, clock = new_flow(stored, http=None)
    assert flow.config is None
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["vers"] == "0"


def test_reset_drops_the_configuration_and_asks_again() -> None:
    flow, clock = new_flow(replace(PREVIOUS, validity_until=START + 60), http=None)
    assert isinstance(flow.next_action(clock.now()), Done)
    flow.reset(clock.now())
    assert flow.config is None and flow.stored.version == 0 and flow.stored.token == "tok-4"
    request = flow.next_action(clock.now())
    assert isinstance(request, HttpRequest) and params(request)["vers"] == "0"


# --------------------------------------------------------------------------- terms (MSG)

TERMS = TermsMessage("条款", "请接受", accept_btn=True, reject_btn=True)


def test_terms_with_buttons_wait_for_the_user_then_commit() -> None:
    flow, clock = new_flow(None, http=None)
    flow.next_action(clock.now())
    flow.receive_response(ok(replace(LAB, msg=TERMS)), clock.now())
    assert flow.next_action(clock.now()) == WaitForTerms(TERMS)
    assert flow.terms == TERMS and flow.config is None
    assert flow.stored.version == 0 and flow.stored.token == "tok-5"  # not committed yet
    flow.accept_terms(True)
    action = flow.next_action(clock.now())
    assert isinstance(action, Done) and action.config.msg == TERMS
    assert flow.stored.version == 5


def test_rejected_terms_disable_rcs_like_version_minus_1() -> None:
    flow, clock = new_flow(None, http=None)
    trace = run(flow, clock, [ok(replace(LAB, msg=TERMS)), ("terms", False)])
    assert isinstance(trace.final, Disabled) and trace.final.version == -1
    assert flow.config is None and flow.stored.version == -1 and flow.stored.config_xml is None
    restarted, clock = new_flow(flow.stored)
    assert isinstance(restarted.next_action(clock.now()), Disabled)


def test_terms_without_buttons_are_informational() -> None:
    info = TermsMessage("Welcome", "RCS is on")
    flow, clock = new_flow(None, http=None)
    trace = run(flow, clock, [ok(replace(LAB, msg=info))])
    assert isinstance(trace.final, Done) and flow.terms == info


# --------------------------------------------------------------------------- misuse


def test_inputs_out_of_turn_are_local_protocol_errors() -> None:
    flow, clock = new_flow()
    with pytest.raises(LocalProtocolError):
        flow.receive_response(HttpResponse(200), clock.now())
    with pytest.raises(LocalProtocolError):
        flow.timeout(clock.now())
    with pytest.raises(LocalProtocolError):
        flow.accept_terms(True)
    assert flow.receive_otp("1234") is False
    flow.next_action(clock.now())
    with pytest.raises(LocalProtocolError, match="outstanding"):
        flow.next_action(clock.now())
    flow.restart(clock.now())  # forgets the outstanding request
    with pytest.raises(LocalProtocolError):
        flow.receive_response(HttpResponse(200), clock.now())
    assert isinstance(flow.next_action(clock.now()), HttpRequest)


def test_empty_otp_is_ignored() -> None:
    flow, clock = new_flow(None, http=None)
    flow.next_action(clock.now())
    flow.receive_response(OTP_REPLY, clock.now())
    assert isinstance(flow.next_action(clock.now()), WaitForOtp)
    assert flow.receive_otp("  ") is False and flow.phase is Phase.AWAIT_OTP


def test_secrets_stay_out_of_stored_repr() -> None:
    assert "tok-4" not in repr(PREVIOUS) and "pw" not in repr(PREVIOUS)


# --------------------------------------------------------------------------- property

_BODIES = [
    LAB_XML,
    build_config(replace(LAB, version=6, msg=TERMS)),
    build_config(RcsConfig(version=0, validity=0)),
    build_config(RcsConfig(version=-1, validity=0)),
    build_config(RcsConfig(version=-2, validity=0)),
    build_config(RcsConfig(version=-3, validity=60)),
    build_config(RcsConfig(version=-3, validity=0)),
    build_config(RcsConfig(version=-8, validity=0)),
    build_otp_reply(37273),
    build_otp_reply(),
    b"",
    b"<html>",
    LAB_XML[:200],
]
_HEADERS = st.lists(
    st.sampled_from(
        [
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "bad cookie"),
            ("Retry-After", "3"),
            ("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("Retry-After", "later"),
            ("Date", "Wed, 21 Oct 2015 07:27:00 GMT"),
            ("Supported-Versions", "4.0, 5.0"),
            ("Supported-Versions", "2.0"),
            ("Supported-Versions", "x"),
        ]
    ),
    max_size=3,
).map(tuple)
_RESPONSES = st.one_of(
    st.just(TIMEOUT),
    st.builds(
        HttpResponse,
        st.sampled_from([200, 200, 200, 301, 401, 403, 404, 406, 408, 500, 503, 511]),
        _HEADERS,
        st.sampled_from(_BODIES),
    ),
)
_FINAL = (Done, Failed, Disabled)


@given(st.data(), st.booleans(), st.sampled_from([None, PREVIOUS]))
def test_random_answers_only_produce_documented_outcomes(
    data: st.DataObject, probe: bool, stored: StoredState | None
) -> None:
    flow, clock = new_flow(stored, http=HTTP if probe else None)
    settled = 0
    steps = 0
    while settled < 3:
        steps += 1
        assert steps < 150, "a run did not settle"
        action = flow.next_action(clock.now())
        if isinstance(action, HttpRequest):
            answer = data.draw(_RESPONSES)
            if isinstance(answer, HttpResponse):
                flow.receive_response(answer, clock.now())
            else:
                flow.timeout(clock.now())
        elif isinstance(action, WaitForOtp):
            if data.draw(st.booleans()):
                assert flow.receive_otp(data.draw(st.text(min_size=1, max_size=8)).strip() or "0")
            else:
                clock.set(action.deadline)
        elif isinstance(action, WaitForTerms):
            flow.accept_terms(data.draw(st.booleans()))
        elif isinstance(action, Wait):
            assert action.until > clock.now() and action.reason
            clock.set(action.until)
        else:
            assert isinstance(action, _FINAL)
            if isinstance(action, Done):
                assert action.config.version > 0 and flow.stored.version > 0
                assert flow.stored.config_xml is not None and flow.config == action.config
            settled += 1
            steps = 0
            due = (
                action.refresh_at
                if isinstance(action, Done)
                else (action.retry_at if isinstance(action, Failed) else action.poll_at)
            )
            if due is None:
                flow.restart(clock.now(), force=data.draw(st.booleans()))
            else:
                clock.set(max(due, clock.now()))
        assert flow.stored.version >= -3
        if flow.stored.version in (0, -1):  # reset: the configuration is gone
            assert flow.stored.config_xml is None and flow.config is None
