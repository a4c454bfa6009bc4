"""The lab's RCC.14 config server and the lab assembly, over real HTTP/HTTPS on loopback."""

from __future__ import annotations

import importlib.util
import json
import ssl
from collections.abc import AsyncIterator
from functools import cache
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.labinfo import LabInfo, fetch_lab_info
from rcs_terminal.engine.sms import ReceivedSms, extract_otp
from rcs_terminal.errors import NetworkError
from rcs_terminal.lab.config_server import COOKIE_NAME, ConfigServer
from rcs_terminal.lab.faults import FAULT_KINDS, Fault, fault_from_json, make_fault
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.smsc import Smsc
from rcs_terminal.lab.subscribers import SubscriberDirectory, default_directory
from rcs_terminal.protocol.provisioning import ProvisioningDocument, parse_config

AKA_IMSI, AKA_MSISDN = "460001234500001", "+8613800000001"  # demo SIM 1
DIGEST_IMSI = "460111234500002"  # demo SIM 2


@cache
def directory() -> SubscriberDirectory:
    return default_directory()


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    network = Lab(directory=directory())
    await network.start()
    yield network
    await network.stop()


@pytest.fixture
async def http(lab: Lab) -> AsyncIterator[aiohttp.ClientSession]:
    context = ssl.create_default_context(cafile=lab.info.ca_file)
    connector = aiohttp.TCPConnector(ssl=context)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        yield session


def query(imsi: str = AKA_IMSI, **extra: str) -> str:
    params = {"vers": "0", "IMSI": imsi, "provisioning_version": "5.0", "token": ""}
    params.update(extra)
    return "?" + urlencode(params)


async def probe(lab: Lab, http: aiohttp.ClientSession) -> str:
    async with http.get(lab.info.http_url + "/") as resp:
        assert resp.status == 200
        cookie = resp.cookies[COOKIE_NAME].value
        assert "Max-Age=300" in resp.headers["Set-Cookie"]
    return cookie


async def get(
    lab: Lab, http: aiohttp.ClientSession, q: str, cookie: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    async with http.get(lab.info.https_url + "/" + q, headers=headers) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def document(body: bytes) -> ProvisioningDocument:
    parsed = parse_config(body)
    assert parsed.is_config
    return parsed


# ----------------------------------------------------------------------------- the flow


async def test_probe_cookie_identifies_the_subscriber(
    lab: Lab, http: aiohttp.ClientSession
) -> None:
    status, headers, body = await get(lab, http, query(), await probe(lab, http))
    assert status == 200 and headers["Content-Type"].startswith("text/vnd.wap.connectivity-xml")
    config = document(body).config
    assert (config.version, config.validity) == (1, 86400) and config.token
    ims = config.ims
    assert ims is not None
    assert ims.impi == f"{AKA_IMSI}@ims.mnc000.mcc460.3gppnetwork.org"
    assert ims.impus == (f"sip:{AKA_MSISDN}@ims.mnc000.mcc460.3gppnetwork.org", f"tel:{AKA_MSISDN}")
    assert ims.auth_type == "AKA" and ims.password is None and ims.transport == "SIPoTCP"
    assert ims.timer_t1 == 2000 and ims.app_ref == "IMS-Settings"
    assert config.services.enabled_services() == [
        "ChatAuth",
        "standaloneMsgAuth",
        "ftAuth",
        "geolocPushAuth",
    ]
    messaging = config.messaging
    port = lab.config_server.endpoints.http_port  # type: ignore[union-attr]
    assert messaging.standalone.switchover_size == 900
    assert messaging.file_transfer.ft_http_cs_uri == f"http://ft.rcs.lab:{port}/ft"
    assert messaging.file_transfer.ft_http_cs_pwd == lab.config_server.ft_password(AKA_IMSI)
    assert messaging.chatbot.botinfo_fqdn_root == f"botplatform.lab:{port}"
    assert (messaging.chatbot.chatbot_directory or "").startswith(f"http://botplatform.lab:{port}/")
    assert config.capdiscovery.cap_info_expiry == 2592000 and config.capdiscovery.default_disc == 0
    assert set(lab.info.names) >= {"botplatform.lab", "ft.rcs.lab", "config.rcs.lab"}


async def test_digest_subscriber_gets_user_password_and_realm(
    lab: Lab, http: aiohttp.ClientSession
) -> None:
    status, _, body = await get(lab, http, query(DIGEST_IMSI), await probe(lab, http))
    ims = document(body).config.ims
    assert status == 200 and ims is not None
    sub = directory().by_imsi(DIGEST_IMSI)
    assert sub is not None
    assert (ims.auth_type, ims.username, ims.password, ims.realm) == (
        "Digest",
        sub.impi,
        sub.password,
        sub.home_domain,
    )


async def test_pcscf_is_the_registrar_when_there_is_one(
    lab: Lab, http: aiohttp.ClientSession
) -> None:
    _, _, body = await get(lab, http, query(), await probe(lab, http))
    ims = document(body).config.ims
    assert ims is not None
    if lab.info.sip_tcp is None:
        assert importlib.util.find_spec("rcs_terminal.lab.registrar") is None or (
            lab.registrar_problem is not None
        )
        assert lab.registrar_problem and ims.pcscf == ()
    else:
        (pcscf,) = ims.pcscf
        assert f"{pcscf.host}:{pcscf.port}" == lab.info.sip_tcp and pcscf.address_type == "IPv4"


async def test_same_version_gets_only_vers_and_token(lab: Lab, http: aiohttp.ClientSession) -> None:
    cookie = await probe(lab, http)
    lab.config_server.set_version(AKA_IMSI, 4)
    _, _, first = await get(lab, http, query(), cookie)
    _, _, again = await get(lab, http, query(vers="4"), cookie)
    full, short = document(first).config, document(again).config
    assert full.version == short.version == 4 and full.ims is not None
    assert short.ims is None and short.token == full.token
    assert lab.config_server.version_of(AKA_IMSI) == 4


async def test_refusals(lab: Lab, http: aiohttp.ClientSession) -> None:
    cookie = await probe(lab, http)
    assert (await get(lab, http, query("460009999999999"), cookie))[0] == 403
    assert (await get(lab, http, "?vers=0", cookie))[0] == 400
    assert (await get(lab, http, query(msisdn="+8613999999999"), cookie))[0] == 403
    assert (await get(lab, http, query(token="forged"), None))[0] == 511


async def test_otp_by_data_sms_then_resubmission(lab: Lab, http: aiohttp.ClientSession) -> None:
    status, headers, body = await get(lab, http, query(msisdn=AKA_MSISDN, SMS_port="37273"))
    reply = parse_config(body)
    assert status == 200 and not reply.is_config and reply.sms_port == 37273
    otp_cookie = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    (sms,) = lab.smsc.messages(AKA_MSISDN)
    code = extract_otp(ReceivedSms(sms.seq, sms.sender, sms.text, sms.port), 37273)
    assert code is not None and len(code) == 6 and sms.port == 37273
    status, _, body = await get(lab, http, query(OTP=code), otp_cookie)
    assert status == 200 and document(body).config.token
    # One use per code.
    assert (await get(lab, http, query(OTP=code), otp_cookie))[0] == 403


async def test_otp_as_text_when_sms_port_is_zero(lab: Lab, http: aiohttp.ClientSession) -> None:
    status, _, body = await get(lab, http, query(msisdn=AKA_MSISDN, SMS_port="0"))
    assert status == 200 and parse_config(body).sms_port == 0
    (sms,) = lab.smsc.messages(AKA_MSISDN)
    assert sms.port == 0 and "verification code" in sms.text
    assert extract_otp(ReceivedSms(sms.seq, sms.sender, sms.text, 0), 0) is not None


async def test_wrong_otp_is_403_and_burns_the_code(lab: Lab, http: aiohttp.ClientSession) -> None:
    _, headers, _ = await get(lab, http, query(msisdn=AKA_MSISDN))
    otp_cookie = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    code = lab.smsc.messages(AKA_MSISDN)[0].text
    assert (await get(lab, http, query(OTP="x" + code), otp_cookie))[0] == 403
    assert (await get(lab, http, query(OTP=code), otp_cookie))[0] == 403


async def test_token_reuse_skips_the_otp(lab: Lab, http: aiohttp.ClientSession) -> None:
    _, _, body = await get(lab, http, query(), await probe(lab, http))
    token = document(body).config.token
    assert token
    status, _, body = await get(lab, http, query(token=token, msisdn=AKA_MSISDN))
    assert status == 200 and document(body).config.token == token
    assert lab.smsc.messages(AKA_MSISDN) == []


async def test_otp_fault_forces_the_sms_even_on_cellular(
    lab: Lab, http: aiohttp.ClientSession
) -> None:
    lab.config_server.set_fault("otp", imsi=AKA_IMSI, once=1)
    cookie = await probe(lab, http)
    _, _, body = await get(lab, http, query(), cookie)
    assert not parse_config(body).is_config and len(lab.smsc.messages(AKA_MSISDN)) == 1
    assert lab.config_server.faults == []


async def test_lab_trace_masks_otp_and_token(lab: Lab, http: aiohttp.ClientSession) -> None:
    _, headers, _ = await get(lab, http, query(msisdn=AKA_MSISDN))
    otp_cookie = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    code = lab.smsc.messages(AKA_MSISDN)[0].text
    _, _, body = await get(lab, http, query(OTP=code), otp_cookie)
    token = document(body).config.token
    assert token
    texts = [record.data for record in lab.trace]
    assert any(b"OTP=***" in data for data in texts)
    assert any(record.protocol == "SMS" for record in lab.trace)
    assert not any(code.encode() in data or token.encode() in data for data in texts)
    ft = lab.config_server.ft_password(AKA_IMSI).encode()
    assert not any(ft in data for data in texts)


# ----------------------------------------------------------------------------- faults


async def test_faults_over_http(lab: Lab, http: aiohttp.ClientSession) -> None:
    faults = lab.info.http_url + "/lab/faults"
    async with http.post(faults, json={"kind": "503", "retry_after": 1, "once": 1}) as resp:
        assert resp.status == 201 and (await resp.json())["fault"]["retry_after"] == 1
    async with http.get(faults) as resp:
        assert [f["kind"] for f in (await resp.json())["faults"]] == ["503"]
    cookie = await probe(lab, http)
    status, headers, _ = await get(lab, http, query(), cookie)
    assert status == 503 and headers["Retry-After"] == "1"
    assert (await get(lab, http, query(), cookie))[0] == 200
    async with http.post(faults, json={"kind": "teapot"}) as resp:
        assert resp.status == 400 and "unknown fault" in await resp.text()
    async with http.post(faults, data=b"{not json") as resp:
        assert resp.status == 400
    for kind in ("403", "500"):
        async with http.post(faults, json={"kind": kind, "imsi": DIGEST_IMSI}) as resp:
            assert resp.status == 201
    assert (await get(lab, http, query(), cookie))[0] == 200  # another IMSI: unaffected
    assert (await get(lab, http, query(DIGEST_IMSI), cookie))[0] == 403
    async with http.post(faults, json={"clear": True, "imsi": DIGEST_IMSI}) as resp:
        assert (await resp.json())["cleared"] == 2
    lab.config_server.set_fault("511")
    async with http.delete(faults) as resp:
        assert (await resp.json())["cleared"] == 1


@pytest.mark.parametrize(
    ("kind", "options", "status"),
    [("403", {}, 403), ("511", {}, 511), ("500", {}, 500), ("503", {"retry_after": 0}, 503)],
)
async def test_status_faults(
    lab: Lab, http: aiohttp.ClientSession, kind: str, options: dict[str, Any], status: int
) -> None:
    lab.config_server.set_fault(kind, once=2, **options)
    cookie = await probe(lab, http)
    assert [(await get(lab, http, query(), cookie))[0] for _ in range(3)] == [status, status, 200]


async def test_406_fault_until_the_accepted_version(lab: Lab, http: aiohttp.ClientSession) -> None:
    lab.config_server.set_fault("406")
    cookie = await probe(lab, http)
    status, headers, _ = await get(lab, http, query(), cookie)
    assert status == 406 and headers["Supported-Versions"] == "4.0"
    assert (await get(lab, http, query(provisioning_version="4.0"), cookie))[0] == 200


@pytest.mark.parametrize("version", [0, -1, -2, -3])
async def test_version_faults(lab: Lab, http: aiohttp.ClientSession, version: int) -> None:
    lab.config_server.set_fault("version", version=version, validity=60, once=1)
    cookie = await probe(lab, http)
    config = document((await get(lab, http, query(), cookie))[2]).config
    assert (config.version, config.validity, config.ims) == (version, 60, None)
    assert config.token  # the token is kept through a reset
    assert document((await get(lab, http, query(), cookie))[2]).config.version == 1


async def test_terms_fault_adds_msg(lab: Lab, http: aiohttp.ClientSession) -> None:
    lab.config_server.set_fault("terms", title="条款", reject_btn=False)
    _, _, body = await get(lab, http, query(vers="1"), await probe(lab, http))
    msg = document(body).config.msg
    assert msg is not None and msg.title == "条款" and msg.accept_btn and not msg.reject_btn


async def test_drop_fault_closes_without_answer(lab: Lab, http: aiohttp.ClientSession) -> None:
    lab.config_server.set_fault("drop")  # (aiohttp repeats a GET once on a disconnect)
    cookie = await probe(lab, http)
    with pytest.raises(aiohttp.ClientError):
        await get(lab, http, query(), cookie)
    lab.config_server.clear_faults()
    assert (await get(lab, http, query(), cookie))[0] == 200


def test_fault_model_checks_values() -> None:
    assert make_fault("version", version=-3).to_json()["version"] == -3
    for bad in (
        {"kind": "version", "version": 5},
        {"kind": "503", "retry_after": -1},
        {"kind": "403", "once": 0},
        {"kind": "403", "imsi": "abc"},
        {"kind": "403", "colour": "red"},
        {"kind": "terms", "accept_btn": 1},
        {"kind": "403", "once": True},
        ["403"],
    ):
        with pytest.raises(ValueError):
            fault_from_json(bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 100)
    | st.sampled_from(FAULT_KINDS)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["kind", "imsi", "once", "retry_after", "version", "title", "x"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=8,
)


@given(data=json_values)
def test_any_json_is_a_fault_or_a_value_error(data: object) -> None:
    try:
        fault = fault_from_json(data)
    except ValueError:
        return
    assert isinstance(fault, Fault) and fault.kind in FAULT_KINDS
    assert fault_from_json(json.loads(json.dumps(fault.to_json()))) == fault


@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(["IMSI", "vers", "OTP", "token", "msisdn", "SMS_port", "x", "imsi"]),
            st.sampled_from([AKA_IMSI, "0", "-1", "+86", "", "%", "99999999"])
            | st.text(max_size=12),
        ),
        max_size=6,
    ),
    cookie=st.text(max_size=10),
)
async def test_any_query_gets_a_deliberate_answer(
    params: list[tuple[str, str]], cookie: str
) -> None:
    server = ConfigServer(directory(), Smsc())
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie.isalnum() else {}
    request = make_mocked_request("GET", "/?" + urlencode(params), headers=headers)
    response = await server._handle(request)
    assert response.status in (200, 400, 403, 511)


@given(
    raw=st.text(alphabet="IMSIOTPvers=&%+0123456789ABCDEFtokenmsisdn_;", max_size=60),
    cookie=st.text(alphabet="%ED0A8=;", max_size=12),
)
async def test_any_raw_query_gets_a_deliberate_answer(raw: str, cookie: str) -> None:
    server = ConfigServer(directory(), Smsc())
    request = make_mocked_request(
        "GET", f"/?IMSI={AKA_IMSI}&{raw}", headers={"Cookie": f"{COOKIE_NAME}={cookie}"}
    )
    response = await server._handle(request)
    assert response.status in (200, 400, 403, 511)


# ----------------------------------------------------------------------------- the lab


async def test_lab_info_endpoint_and_fetch(lab: Lab) -> None:
    assert await fetch_lab_info(lab.info.http_url + "/") == lab.info
    assert lab.info.smsc_url == lab.info.http_url and lab.info.https_url.startswith("https://")
    assert "ims.mnc000.mcc460.3gppnetwork.org" in lab.info.domains
    with pytest.raises(NetworkError, match="not a running lab"):
        await fetch_lab_info(lab.info.http_url + "/nothing-here")


async def test_fetch_from_nowhere_is_a_network_error() -> None:
    with pytest.raises(NetworkError, match="no lab answers"):
        await fetch_lab_info("http://127.0.0.1:9")


def test_lab_stays_on_loopback() -> None:
    with pytest.raises(NetworkError, match="loopback"):
        Lab(directory=SubscriberDirectory(), host="0.0.0.0")


async def test_lab_info_requires_a_started_lab() -> None:
    network = Lab(directory=SubscriberDirectory(), host="::1")
    with pytest.raises(NetworkError, match="not running"):
        _ = network.info
    info = await network.start()
    try:
        assert info.http_url.startswith("http://[::1]:") and info.names["config.rcs.lab"] == "::1"
        assert isinstance(LabInfo.from_json(info.to_json()), LabInfo)
    finally:
        await network.stop()
