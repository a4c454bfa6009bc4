"""ImsParams from profiles and provisioned configurations, and the persisted USIM SQN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rcs_terminal.domain.profile import Profile, check_profile_data, load_profile
from rcs_terminal.engine.ims_params import (
    AkaCredentials,
    DigestCredentials,
    ImsParams,
    PcscfTarget,
)
from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.transport import Address
from rcs_terminal.engine.usim_store import UsimStore
from rcs_terminal.errors import ProfileError, ProvisioningError
from rcs_terminal.protocol.provisioning.config import (
    CapDiscoverySettings,
    ChatbotSettings,
    ImsSettings,
    MessagingSettings,
    PcscfAddress,
    RcsConfig,
    Services,
)
from rcs_terminal.protocol.sip.milenage import compute_opc

STATIC = """
schema_version: 1
device:
  vendor: ZTE
  model: S30
  sw_version: MyOS11
  os: {name: Android, version: "11"}
  client: {vendor: ZTE, version: RCSAndrd-2.4}
sims:
  - slot: 1
    imei: "860000000000371"
    operator: {name: China Mobile, mcc: "460", mnc: "00"}
    imsi: "460001234500011"
    msisdn: "+8613800000011"
    auth: {scheme: digest}
    ims:
      pcscf: ["127.0.0.1:5070", "localhost", "[::1]:5080"]
      transport: tcp
      home_domain: rcs.test
      impi: alice
      impu: ["sip:alice@rcs.test", "tel:+8613800000011"]
      auth: {scheme: digest, username: alice, password: alicepw}
"""


def profile_from(text: str) -> Profile:
    return check_profile_data(text.encode(), file="test.yaml").raise_for_errors()


def test_from_static() -> None:
    profile = profile_from(STATIC)
    params = ImsParams.from_static(profile, profile.sims[0])
    assert params.pcscfs == (
        PcscfTarget(Address("127.0.0.1", 5070), "tcp"),
        PcscfTarget(Address("127.0.0.1", 5060), "tcp", "localhost"),
        PcscfTarget(Address("::1", 5080), "tcp"),
    )
    assert (params.home_domain, params.impi, params.impu) == (
        "rcs.test",
        "alice",
        "sip:alice@rcs.test",
    )
    assert params.auth == DigestCredentials("alice", "alicepw")
    assert "alicepw" not in repr(params) and "alicepw" not in repr(params.auth)
    assert params.sip_instance == "<urn:gsma:imei:86000000-000037-0>"
    assert params.user_agent == profile.user_agent
    assert params.verify_tls and not params.is_aka


def test_static_host_names_are_refused() -> None:
    text = STATIC.replace('"localhost"', '"pcscf.rcs.test"')
    profile = profile_from(text)
    with pytest.raises(ProfileError, match="never looks names up"):
        ImsParams.from_static(profile, profile.sims[0])


def test_static_with_the_sims_own_aka_keys() -> None:
    profile = load_profile("lab-alice")
    data = profile.model_dump(mode="json", context={"reveal_secrets": True})
    sim = data["sims"][0]
    sim.pop("provisioning")
    sim["ims"] = {
        "pcscf": ["127.0.0.1:5060"],
        "transport": "udp",
        "home_domain": "ims.mnc000.mcc460.3gppnetwork.org",
        "impi": "460001234500011@ims.mnc000.mcc460.3gppnetwork.org",
        "impu": ["sip:+8613800000011@ims.mnc000.mcc460.3gppnetwork.org"],
    }
    static = profile_from(json.dumps(data))
    params = ImsParams.from_static(static, static.sims[0])
    assert isinstance(params.auth, AkaCredentials) and params.is_aka
    assert params.auth.k == bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert params.pcscfs[0].transport == "udp"


def test_static_digest_without_password_is_a_profile_error() -> None:
    text = STATIC.replace("      auth: {scheme: digest, username: alice, password: alicepw}\n", "")
    profile = profile_from(text)
    with pytest.raises(ProfileError, match="no password"):
        ImsParams.from_static(profile, profile.sims[0])


def test_from_static_needs_ims() -> None:
    profile = load_profile("lab-alice")
    with pytest.raises(ProfileError):
        ImsParams.from_static(profile, profile.sims[0])


def config(**ims: Any) -> RcsConfig:
    settings = ImsSettings(
        impi="460001234500011@ims.mnc000.mcc460.3gppnetwork.org",
        impus=("sip:+8613800000011@ims.mnc000.mcc460.3gppnetwork.org", "tel:+8613800000011"),
        home_domain="ims.mnc000.mcc460.3gppnetwork.org",
        pcscf=(PcscfAddress("pcscf.rcs.lab"), PcscfAddress("127.0.0.9", 6000, "IPv4")),
        transport="SIPoTCP",
        auth_type="AKA",
        timer_t1=1000,
        reg_retry_base_time=10,
        reg_retry_max_time=100,
    )
    for key, value in ims.items():
        settings = _replace(settings, key, value)
    return RcsConfig(
        version=3,
        validity=86400,
        ims=settings,
        services=Services(values=(("ChatAuth", 0), ("standaloneMsgAuth", 1), ("ftAuth", 1))),
        messaging=MessagingSettings(
            chatbot=ChatbotSettings(specific_chatbots_list="+86106000001, sip:bot@x.test")
        ),
        capdiscovery=CapDiscoverySettings(cap_info_expiry=600, non_rcs_cap_info_expiry=60),
    )


def _replace(settings: ImsSettings, key: str, value: Any) -> ImsSettings:
    from dataclasses import replace

    return replace(settings, **{key: value})


LAB = LabInfo(
    http_url="http://127.0.0.1:1",
    https_url="https://127.0.0.1:2",
    ca_file="/tmp/lab-ca.pem",
    smsc_url="http://127.0.0.1:1",
    sip_udp="127.0.0.1:5999",
    sip_tcp="127.0.0.1:5998",
    names={"pcscf.rcs.lab": "127.0.0.1"},
)


def test_from_config_maps_lab_names_and_reads_the_document() -> None:
    profile = load_profile("lab-alice")
    params = ImsParams.from_config(profile, profile.sims[0], config(), lab=LAB)
    assert params.pcscfs == (
        PcscfTarget(Address("127.0.0.1", 5998), "tcp", "pcscf.rcs.lab"),
        PcscfTarget(Address("127.0.0.9", 6000), "tcp"),
    )
    assert params.impu == "sip:+8613800000011@ims.mnc000.mcc460.3gppnetwork.org"
    assert isinstance(params.auth, AkaCredentials)
    assert params.timers.t1 == 1.0
    assert (params.reg_retry_base_time, params.reg_retry_max_time) == (10, 100)
    assert params.services == ("standalone", "fthttp", "chatbot.sa")
    assert (params.cap_info_expiry, params.non_rcs_cap_info_expiry) == (600, 60)
    assert params.specific_chatbots == ("+86106000001", "sip:bot@x.test")
    assert params.reprovision_on_403
    assert params.verify_tls is False  # lab-alice: provisioning.verify_tls false


def test_from_config_udp_lab_port_and_defaults() -> None:
    profile = load_profile("lab-alice")
    params = ImsParams.from_config(
        profile, profile.sims[0], config(transport="SIPoUDP", impi=None, impus=()), lab=LAB
    )
    assert params.pcscfs[0] == PcscfTarget(Address("127.0.0.1", 5999), "udp", "pcscf.rcs.lab")
    assert params.impi == profile.sims[0].impi
    assert params.impu == profile.sims[0].impu


def test_from_config_errors() -> None:
    profile = load_profile("lab-alice")
    sim = profile.sims[0]
    with pytest.raises(ProfileError, match="never looks names up"):
        ImsParams.from_config(profile, sim, config(), lab=None)
    with pytest.raises(ProvisioningError):
        ImsParams.from_config(profile, sim, RcsConfig(version=1, validity=1), lab=LAB)
    with pytest.raises(ProvisioningError):
        ImsParams.from_config(profile, sim, config(pcscf=()), lab=LAB)
    digest_sim = profile_from(STATIC).sims[0]
    with pytest.raises(ProfileError, match="asks for IMS AKA"):
        ImsParams.from_config(profile_from(STATIC), digest_sim, config(), lab=LAB)


def test_from_config_digest_takes_the_documents_credentials() -> None:
    profile = profile_from(STATIC)
    params = ImsParams.from_config(
        profile,
        profile.sims[0],
        config(auth_type="Digest", username="u1", password="p1", realm="r.test"),
        lab=LAB,
    )
    assert params.auth == DigestCredentials("u1", "p1", "r.test")


def test_op_is_turned_into_opc() -> None:
    text = STATIC.replace(
        "auth: {scheme: digest}",
        "auth: {scheme: aka, k: 465b5ce8b199b49faa5f0a2ee238a6bc,"
        " op: cdc202d5123e20f62b6d676ac72cb318}",
    ).replace("      auth: {scheme: digest, username: alice, password: alicepw}\n", "")
    profile = profile_from(text)
    params = ImsParams.from_static(profile, profile.sims[0])
    assert isinstance(params.auth, AkaCredentials)
    assert params.auth.opc == compute_opc(
        bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
        bytes.fromhex("cdc202d5123e20f62b6d676ac72cb318"),
    )


# --------------------------------------------------------------------------- USIM store


def test_usim_store_round_trip(tmp_path: Path) -> None:
    store = UsimStore("460001234500011", tmp_path)
    assert store.load() is None
    store.save(0x123456789ABC)
    assert store.load() == 0x123456789ABC
    assert (store.path.stat().st_mode & 0o777) == 0o600
    assert UsimStore("460001234500099", tmp_path).load() is None  # another SIM's file


def test_usim_store_default_location() -> None:
    store = UsimStore("460001234500011")
    store.save(5)
    assert store.path.parent.name == "460001234500011" and store.load() == 5


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"imsi": "460001234500011", "sqn": 5}',
        b'{"imsi": "460001234500011", "sqn": "zzzzzzzzzzzz"}',
        b"x" * 5000,
    ],
)
def test_usim_store_unreadable_files_read_as_nothing(tmp_path: Path, content: bytes) -> None:
    store = UsimStore("460001234500011", tmp_path)
    store.path.write_bytes(content)
    assert store.load() is None


def test_usim_store_refuses_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        UsimStore("1", tmp_path).save(1 << 48)
