"""The provisioning service against byte-exact server answers, and its persistence.

A fake configuration server on 127.0.0.1:0 replays the wire corpus in
``tests/data/wire/provisioning_http/`` (status line, headers and body exactly as written):
good documents, the OTP step, every refusal, XML bombs, lies about lengths, garbage. The
service must end in a result or a clear ProvisioningError, never anything else. The
per-IMSI store, the lab description and the profile-to-request mapping are tested here
too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcs_terminal.domain.profile import Profile, load_profile
from rcs_terminal.engine.identity import device_identity, sim_identity
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.provisioning import ProvisioningService
from rcs_terminal.engine.provisioning_store import ProvisioningStore
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import ProfileError, ProvisioningError
from rcs_terminal.protocol.provisioning import RetryPolicy, StoredState

WIRE = Path(__file__).parents[1] / "data" / "wire" / "provisioning_http"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
FAST = RetryPolicy(max_retries=2, max_511=1, max_otp_rounds=2)

PROFILE_YAML = """\
schema_version: 1
device:
  vendor: ZTE
  model: Axon 30
  sw_version: MyOS11.0.9
  os: {{name: Android, version: "11"}}
  client: {{vendor: ZTE, version: RCSAndrd-2.4}}
sims:
  - slot: 1
    imei: "860000000000116"
    operator: {{name: China Mobile, mcc: "460", mnc: "00"}}
    imsi: "460001234500077"
    msisdn: "+8613800000077"
    auth: {{scheme: digest, password: profile-pwd}}
    provisioning: {provisioning}
  - slot: 2
    imei: "860000000000298"
    operator: {{name: China Telecom, mcc: "460", mnc: "11"}}
    imsi: "460111234500078"
    msisdn: "+8618900000078"
    auth: {{scheme: digest, password: other-pwd}}
    ims:
      pcscf: ["127.0.0.1:5060"]
      home_domain: rcs.test
      impi: "460111234500078@rcs.test"
      impu: ["sip:+8618900000078@rcs.test"]
"""


def wire(name: str) -> bytes:
    return (WIRE / name).read_bytes()


@dataclass
class FakeServer:
    """Answers the cookie probe with ``probe`` and configuration requests from ``script``
    (the last entry repeats); remembers every request target."""

    script: list[bytes]
    probe: bytes = NOT_FOUND
    targets: list[str] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        target = head.split(b" ", 2)[1].decode()
        self.targets.append(target)
        if "?" not in target:
            answer = self.probe
        else:
            answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        writer.write(answer)
        await writer.drain()
        writer.close()

    def queries(self) -> list[dict[str, list[str]]]:
        return [parse_qs(urlsplit(t).query) for t in self.targets if "?" in t]


Serve = Callable[[FakeServer], Awaitable[FakeServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    started: list[asyncio.Server] = []

    async def start(fake: FakeServer) -> FakeServer:
        server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
        fake.port = server.sockets[0].getsockname()[1]
        started.append(server)
        return fake

    yield start
    for server in started:
        server.close()
        await server.wait_closed()


class FakeTime:
    """Unix time that moves only when the service sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def profile_for(tmp_path: Path, url: str | None, *, https: bool = True) -> Profile:
    settings = f'{{url: "{url}"}}' if url is not None else f"{{https: {str(https).lower()}}}"
    path = tmp_path / "wire-phone.yaml"
    path.write_text(PROFILE_YAML.format(provisioning=settings), encoding="utf-8")
    return load_profile(str(path))


async def provision(
    serve: Serve, tmp_path: Path, script: list[str], **options: object
) -> tuple[ProvisioningService, FakeServer, TraceRecorder, FakeTime]:
    fake = await serve(FakeServer([wire(name) for name in script]))
    profile = profile_for(tmp_path, f"http://127.0.0.1:{fake.port}")
    trace, fake_time = TraceRecorder(), FakeTime()
    service = ProvisioningService(
        profile,
        profile.sim(1),
        trace=trace,
        policy=FAST,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        request_timeout=5.0,
        **options,  # type: ignore[arg-type]
    )
    return service, fake, trace, fake_time


# ----------------------------------------------------------------------------- corpus


@pytest.mark.parametrize(
    "script",
    [
        ["02_config_digest.http"],
        ["06_unavailable_date.http", "02_config_digest.http"],
        ["07_not_acceptable.http", "02_config_digest.http"],
        ["14_lying_content_length.http", "02_config_digest.http"],
        ["15_bad_chunked.http", "02_config_digest.http"],
        ["17_empty_200.http", "02_config_digest.http"],
        ["18_not_http.http", "02_config_digest.http"],
        ["13_binary_garbage.http", "02_config_digest.http"],
    ],
    ids=lambda s: "+".join(name.split("_", 1)[0] for name in s),
)
async def test_recoverable_answers_end_in_the_configuration(
    serve: Serve, tmp_path: Path, script: list[str]
) -> None:
    service, _, _, _ = await provision(serve, tmp_path, script)
    result = await service.run()
    assert result.state == "provisioned" and result.version == 3 and not result.from_cache
    summary = result.to_json()
    assert summary["pcscf"] == ["127.0.0.1:5060", "pcscf2.rcs.test:5060"]
    assert summary["auth_type"] == "Digest" and summary["impu"][1] == "tel:+8613800000077"
    assert summary["services"] == ["standaloneMsgAuth", "ftAuth"]
    assert summary["standalone"] == {"MaxSize": 65536, "SwitchoverSize": 900}
    assert "wire-secret-pwd" not in json.dumps(summary)
    stored = service.store.load()
    assert stored is not None and stored.version == 3 and stored.token == "wire-token-1"


async def test_406_retries_with_the_offered_provisioning_version(
    serve: Serve, tmp_path: Path
) -> None:
    service, fake, _, _ = await provision(
        serve, tmp_path, ["07_not_acceptable.http", "02_config_digest.http"]
    )
    await service.run()
    versions = [q["provisioning_version"][0] for q in fake.queries()]
    assert versions == ["5.0", "4.0"]


async def test_503_with_a_past_http_date_retries_at_once(serve: Serve, tmp_path: Path) -> None:
    service, fake, _, fake_time = await provision(
        serve, tmp_path, ["06_unavailable_date.http", "02_config_digest.http"]
    )
    await service.run()
    assert fake_time.slept == [] and len(fake.queries()) == 2


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("08_xml_bomb.http", "unreadable configuration"),
        ("09_xxe.http", "unreadable configuration"),
        ("10_wrong_root.http", "unreadable configuration"),
        ("11_truncated.http", "unreadable configuration"),
        ("12_bad_version.http", "unreadable configuration"),
        ("04_forbidden.http", "403"),
        ("05_unauthorized_gba.http", "401"),
        ("16_version_minus2.http", "disabled"),
        ("14_lying_content_length.http", "no answer"),
    ],
)
async def test_refusals_and_bad_documents_fail_clearly(
    serve: Serve, tmp_path: Path, name: str, words: str
) -> None:
    service, _, _, _ = await provision(serve, tmp_path, [name])
    with pytest.raises(ProvisioningError, match=words) as caught:
        await service.run()
    assert caught.value.message.startswith("SIM 1: ")


async def test_no_answer_names_the_last_network_error(serve: Serve, tmp_path: Path) -> None:
    service, _, _, _ = await provision(serve, tmp_path, ["18_not_http.http"])
    with pytest.raises(ProvisioningError, match="last error"):
        await service.run()


async def test_otp_given_up_front_is_sent_with_the_otp_cookie(serve: Serve, tmp_path: Path) -> None:
    service, fake, trace, _ = await provision(
        serve, tmp_path, ["03_otp_reply.http", "02_config_digest.http"], otp="493817"
    )
    result = await service.run()
    assert result.version == 3
    assert fake.queries()[-1]["OTP"] == ["493817"]
    assert fake.queries()[0]["msisdn"] == ["+8613800000077"]  # no probe cookie: off cellular
    sent = [r for r in trace.records(protocol="HTTP") if r.direction == "out"]
    assert "Cookie: otpsess=b3RwMQ" in sent[-1].text
    assert all(b"493817" not in r.data for r in trace)


async def test_otp_from_the_provider(serve: Serve, tmp_path: Path) -> None:
    asked: list[bool] = []

    async def typed() -> str:
        asked.append(True)
        return "246810"

    service, fake, _, _ = await provision(
        serve, tmp_path, ["03_otp_reply.http", "02_config_digest.http"], otp_provider=typed
    )
    await service.run()
    assert asked == [True] and fake.queries()[-1]["OTP"] == ["246810"]


async def test_otp_without_any_source_names_the_flag(serve: Serve, tmp_path: Path) -> None:
    service, _, _, _ = await provision(serve, tmp_path, ["03_otp_reply.http"])
    with pytest.raises(ProvisioningError, match="one-time password") as caught:
        await service.run()
    assert "--otp" in (caught.value.hint or "")


async def test_probe_cookie_means_cellular(serve: Serve, tmp_path: Path) -> None:
    service, fake, _, _ = await provision(serve, tmp_path, ["02_config_digest.http"])
    fake.probe = wire("01_probe_cookie.http")
    await service.run()
    query = fake.queries()[0]
    assert "msisdn" not in query and query["IMSI"] == ["460001234500077"]
    assert query["IMEI"] == ["860000000000116"] and query["app"][2] == "urn:oma:mo:ext-3gpp-ims:1.0"


@settings(max_examples=40)
@given(data=st.data())
def test_mutated_answers_give_a_result_or_a_provisioning_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    base = wire(data.draw(st.sampled_from(sorted(p.name for p in WIRE.glob("*.http")))))
    position = data.draw(st.integers(0, len(base)))
    junk = data.draw(st.binary(max_size=40))
    cut = data.draw(st.booleans())
    body = base[:position] + junk + (b"" if cut else base[position + len(junk) :])
    tmp_path = tmp_path_factory.mktemp("mutated")

    async def scenario() -> None:
        fake = FakeServer([body])
        server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        profile = profile_for(tmp_path, f"http://127.0.0.1:{port}")
        fake_time = FakeTime()
        service = ProvisioningService(
            profile,
            profile.sim(1),
            trace=TraceRecorder(),
            policy=FAST,
            otp="123456",
            clock=fake_time.clock,
            sleep=fake_time.sleep,
            request_timeout=2.0,
            store=ProvisioningStore("460001234500077", tmp_path / "sim"),
        )
        try:
            result = await service.run()
            assert result.state == "provisioned"
        except ProvisioningError:
            pass
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


# ----------------------------------------------------------------------------- servers


def test_server_choice_follows_the_profile(tmp_path: Path) -> None:
    trace = TraceRecorder()
    profile = profile_for(tmp_path, "https://config.rcs.test/rcs")
    service = ProvisioningService(profile, profile.sim(1), trace=trace)
    assert service.endpoints() == ("http://config.rcs.test/rcs", "https://config.rcs.test/rcs")
    profile = profile_for(tmp_path, "https://config.rcs.test:8443")
    assert ProvisioningService(profile, profile.sim(1), trace=trace).endpoints() == (
        None,
        "https://config.rcs.test:8443",
    )
    derived = profile_for(tmp_path, None)
    host = "config.rcs.mnc000.mcc460.pub.3gppnetwork.org"
    assert ProvisioningService(derived, derived.sim(1), trace=trace).endpoints() == (
        f"http://{host}",
        f"https://{host}",
    )
    plain = profile_for(tmp_path, None, https=False)
    assert ProvisioningService(plain, plain.sim(1), trace=trace).endpoints() == (
        f"http://{host}",
        f"http://{host}",
    )


async def test_static_ims_sim_and_missing_lab_are_profile_errors(tmp_path: Path) -> None:
    profile = profile_for(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(ProfileError, match="static IMS"):
        await ProvisioningService(profile, profile.sim(2), trace=TraceRecorder()).run()
    demo = load_profile("demo")
    with pytest.raises(ProfileError, match="no lab is running"):
        await ProvisioningService(demo, demo.sim(1), trace=TraceRecorder()).run()


# ----------------------------------------------------------------------------- store


stored_states = st.builds(
    StoredState,
    version=st.integers(-3, 2**31),
    validity_until=st.none() | st.floats(0, 4e9),
    token=st.none() | st.text(min_size=1, max_size=40),
    token_until=st.none() | st.floats(0, 4e9),
    config_xml=st.none() | st.binary(max_size=200),
    last_positive_version=st.integers(0, 2**31),
)


@given(state=stored_states)
def test_store_round_trip(tmp_path_factory: pytest.TempPathFactory, state: StoredState) -> None:
    store = ProvisioningStore("460001234500077", tmp_path_factory.mktemp("sim"))
    store.save(state)
    assert store.load() == state


@given(junk=st.binary(max_size=300))
def test_store_reads_junk_as_never_provisioned(
    tmp_path_factory: pytest.TempPathFactory, junk: bytes
) -> None:
    folder = tmp_path_factory.mktemp("sim")
    (folder / "provisioning.json").write_bytes(junk)
    assert ProvisioningStore("460001234500077", folder).load() is None


def test_store_files_are_private_and_keyed_by_imsi(tmp_path: Path) -> None:
    store = ProvisioningStore("460001234500077")
    store.save(StoredState(version=4, token="t0k", config_xml=b"<x/>"))
    assert store.directory.name == "460001234500077"
    for name in ("provisioning.json", "config.xml"):
        assert (store.directory / name).stat().st_mode & 0o777 == 0o600
    assert ProvisioningStore("460111234500078").load() is None
    (store.directory / "config.xml").unlink()
    loaded = store.load()
    assert loaded is not None and loaded.version == 4 and loaded.config_xml is None
    store.save(StoredState(version=0, token="t0k"))
    assert not (store.directory / "config.xml").exists()
    store.clear()
    assert store.load() is None


def test_a_record_of_another_imsi_is_ignored(tmp_path: Path) -> None:
    ProvisioningStore("460001234500077", tmp_path).save(StoredState(version=2))
    assert ProvisioningStore("460001234500099", tmp_path).load() is None


# ----------------------------------------------------------------------------- lab info


lab_infos = st.builds(
    LabInfo,
    http_url=st.text(min_size=1, max_size=30),
    https_url=st.text(min_size=1, max_size=30),
    ca_file=st.none() | st.text(max_size=30),
    smsc_url=st.text(min_size=1, max_size=30),
    sip_udp=st.none() | st.text(max_size=20),
    sip_tcp=st.none() | st.text(max_size=20),
    names=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
    domains=st.lists(st.text(max_size=10), max_size=3).map(tuple),
)


@given(info=lab_infos)
def test_lab_info_json_round_trip(info: LabInfo) -> None:
    assert LabInfo.from_json(json.loads(json.dumps(info.to_json(pid=7)))) == info


@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
    )
)
def test_lab_info_from_junk_is_a_value_error(data: object) -> None:
    try:
        info = LabInfo.from_json(data)
    except ValueError:
        return
    assert isinstance(data, dict) and info.http_url == data["http_url"]


def test_lab_json_is_found_only_while_its_process_lives() -> None:
    info = LabInfo(
        "http://127.0.0.1:1",
        "https://127.0.0.1:2",
        None,
        "http://127.0.0.1:1",
        None,
        "127.0.0.1:5060",
        {"config.rcs.lab": "127.0.0.1"},
    )
    assert LabInfo.load() is None
    path = info.save()
    assert LabInfo.load() == info and path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    data["pid"] = 2**22 + 12345  # beyond pid_max: never alive
    path.write_text(json.dumps(data))
    assert LabInfo.load() is None
    info.remove()  # not ours any more: left alone
    assert path.exists()
    info.save()
    info.remove()
    assert not path.exists()


# ----------------------------------------------------------------------------- identity


def test_identity_comes_from_the_profile() -> None:
    demo = load_profile("demo")
    device = device_identity(demo)
    assert (device.terminal_vendor, device.terminal_model, device.terminal_sw_version) == (
        "ZTE",
        "Axon 30",
        "MyOS11.0.9",
    )
    assert device.client_version == "RCSAndrd-2.4" and device.rcs_version == "11.0"
    assert device.effective_user_agent() == demo.user_agent
    assert device.accept_language == "zh-CN"
    sim = sim_identity(demo, demo.sim(2))
    assert (sim.imsi, sim.imei, sim.msisdn, sim.sms_port) == (
        "460111234500002",
        "860000000000298",
        "+8618900000002",
        37273,
    )
    assert sim.default_sms_app
