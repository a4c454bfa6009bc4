"""wap-provisioningdoc parsing, the generic tree, the typed RcsConfig view and the builder."""

from __future__ import annotations

import contextlib
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import LocalProtocolError, ProvisioningDocumentError
from rcs_terminal.protocol.provisioning import (
    AdditionalServer,
    Characteristic,
    ImsSettings,
    Parm,
    PcscfAddress,
    ProvisioningDocument,
    RcsConfig,
    Services,
    TermsMessage,
    build_config,
    build_otp_reply,
    parse_config,
    serialize_document,
)
from rcs_terminal.protocol.provisioning.config import (
    BOOL,
    INT,
    LIST,
    RCS_SECTIONS,
    WORD_SETS,
    WORDS,
)
from rcs_terminal.protocol.provisioning.document import MAX_DEPTH

CORPUS = Path(__file__).parents[1] / "data" / "provisioning"


def load(name: str) -> ProvisioningDocument:
    return parse_config((CORPUS / name).read_bytes())


# --------------------------------------------------------------------------- the full UP 2.4 doc


def test_full_document_version_token_and_terms() -> None:
    doc = load("up24_cmcc_full.xml")
    assert doc.is_config and (doc.version, doc.validity) == (12, 172800)
    config = doc.config
    assert (config.version, config.validity) == (12, 172800)
    assert config.token == "LabTok-460001234500001-7f3a" and config.token_validity == 604800
    assert config.msg == TermsMessage(
        title="5G消息服务条款",
        message="欢迎使用5G消息。继续即表示您同意《服务条款》&《隐私政策》。",
        accept_btn=True,
        reject_btn=True,
    )
    assert config.msg.needs_answer
    assert config.access_control == (
        AdditionalServer("config.rcs.mnc000.mcc460.pub.3gppnetwork.org", True, (), True),
        AdditionalServer("config.chatbot.botplatform.lab", False, ("ap2002",), False),
    )


def test_full_document_ims_settings() -> None:
    ims = load("up24_cmcc_full.xml").config.ims
    assert ims is not None
    domain = "gd.5gmc.ims.mnc000.mcc460.3gppnetwork.org"
    assert ims.impi == "460001234500001@ims.mnc000.mcc460.3gppnetwork.org"
    assert ims.impus == (f"sip:+8613800000001@{domain}", "tel:+8613800000001")
    assert ims.home_domain == domain
    assert ims.pcscf == (
        PcscfAddress(f"pcscf1.{domain}", 5060, "FQDN"),
        PcscfAddress("192.0.2.21", 5060, "IPv4"),
        PcscfAddress("2001:db8::21", 5060, "IPv6"),
    )
    assert (ims.transport, ims.wifi_transport, ims.media_transport) == (
        "SIPoTCP",
        "SIPoTLS",
        "MSRP",
    )
    assert ims.auth_type == "AKA" and ims.realm == "ims.mnc000.mcc460.3gppnetwork.org"
    assert ims.username is None and ims.password is None
    assert (ims.timer_t1, ims.timer_t2, ims.timer_t4) == (2000, 16000, 17000)
    assert (ims.reg_retry_base_time, ims.reg_retry_max_time) == (30, 1800)
    assert ims.keep_alive_enabled is True and ims.single_registration == 0
    assert ims.app_ref == "IMS-Settings"
    assert ims.uuid_value == "7d4f3c2e-1b0a-4e9f-8c7d-6b5a4f3e2d1c"


def test_full_document_services_and_messaging() -> None:
    config = load("up24_cmcc_full.xml").config
    services = config.services
    assert services.get("ftauth") == 1 and services.get("ChatAuth") == 0
    assert services.get("nope") is None and services.get("nope", 7) == 7
    assert services.enabled_services() == ["ftAuth", "standaloneMsgAuth", "geolocPushAuth"]
    assert services.text == (("SupportedRCSProfileVersions", "UP_2.4"),)
    assert services.data_off == (
        ("rcsMessagingDataOff", 1),
        ("fileTransferDataOff", 0),
        ("mmsDataOff", 1),
    )
    assert services.rcs_disabled_state == 0
    messaging = config.messaging
    assert (messaging.standalone.max_size, messaging.standalone.switchover_size) == (921600, 900)
    assert messaging.chat.max_size == 8192 and messaging.chat.timer_idle == 180
    assert messaging.max1_to_many_recipients == 200
    assert messaging.message_store_url is None  # empty value = not provisioned
    ft = messaging.file_transfer
    assert ft.ft_http_cs_uri == "https://ft.rcs.test/upload?sim=1&svc=fthttp"
    assert ft.ft_http_cs_pwd == "ft-secret-<lab>" and ft.ft_http_fallback is None
    assert (ft.ft_warn_size, ft.max_size_file_tr) == (10485760, 104857600)
    bot = messaging.chatbot
    assert bot.chatbot_directory == "https://directory.botplatform.lab/search"
    assert bot.botinfo_fqdn_root == "botinfo.botplatform.lab"
    assert (bot.identity_in_enriched_search, bot.privacy_disable, bot.chatbot_msg_tech) == (1, 0, 1)


def test_full_document_capdiscovery_clientcontrol_ux() -> None:
    config = load("up24_cmcc_full.xml").config
    cap = config.capdiscovery
    assert (cap.cap_info_expiry, cap.non_rcs_cap_info_expiry, cap.polling_period) == (
        2592000,
        86400,
        0,
    )
    assert cap.default_disc == 0 and cap.disable_initial_address_book_scan is True
    assert cap.allowed_prefixes == ("+86", "106")
    assert config.clientcontrol.service_availability_info_expiry == 60
    assert config.clientcontrol.ft_http_cap_always_on is True
    assert config.clientcontrol.im_cap_always_on is False
    assert (config.ux.messaging_ux, config.ux.user_alias_auth) == (1, 1)


def test_secrets_stay_out_of_repr() -> None:
    config = load("up24_cmcc_full.xml").config
    digest = load("up24_digest.xml").config
    text = repr(config) + repr(digest)
    assert "LabTok" not in text and "ft-secret" not in text and "lab-digest-pw" not in text
    assert digest.ims is not None and digest.ims.password == "lab-digest-pw"


# --------------------------------------------------------------------------- other layouts


def test_digest_variant_with_crlf_and_odd_case() -> None:
    raw = (CORPUS / "up24_digest.xml").read_bytes()
    assert b"\r\n" in raw
    config = parse_config(raw).config
    ims = config.ims
    assert ims is not None
    assert ims.impi == "8618900000002@ims.mnc011.mcc460.3gppnetwork.org"
    assert ims.impus == (
        "sip:+8618900000002@ims.mnc011.mcc460.3gppnetwork.org",
        "tel:+8618900000002",
    )
    assert ims.pcscf == (
        PcscfAddress("pcscf.rcs.test", None, "FQDN"),
        PcscfAddress("198.51.100.7", None, "IPv4"),
    )
    assert (ims.auth_type, ims.transport, ims.wifi_transport) == ("Digest", "SIPoTLS", "SIPoTLS")
    assert ims.username == "8618900000002@ims.mnc011.mcc460.3gppnetwork.org"
    assert config.token == "" and config.msg is not None and not config.msg.needs_answer
    assert config.messaging.standalone.switchover_size == 1300  # the default


def test_old_flat_ap2001_layout() -> None:
    config = load("ap2001_flat.xml").config
    ims = config.ims
    assert ims is not None
    assert ims.impi == "460009876500003@rcs.test" and ims.home_domain == "rcs.test"
    assert ims.pcscf == (PcscfAddress("2001:db8::5", None, "IPv6"),)
    assert (ims.auth_type, ims.realm, ims.password) == ("Digest", "rcs.test", "joyn-era-pw")
    assert ims.transport == "SIPoUDP"  # from the RCS application's OTHER/transportProto
    assert ims.timer_t1 == 500 and ims.timer_t2 is None
    assert config.services.enabled_services() == ["ChatAuth", "ftAuth"]


def test_rcs_sections_inside_the_ims_application() -> None:
    doc = load("rcs_inside_ims_app.xml")
    config = doc.config
    assert config.services.enabled_services() == ["ChatAuth", "standaloneMsgAuth"]
    assert config.messaging.standalone.max_size == 8192 and config.messaging.chat.max_size == 16384
    assert config.messaging.chatbot.specific_chatbots_list is None  # <part> is not a parm
    assert config.ims is not None and config.ims.single_registration == 1


@pytest.mark.parametrize(
    ("name", "version", "validity"),
    [
        ("version_0.xml", 0, 0),
        ("version_minus1.xml", -1, 0),
        ("version_minus2.xml", -2, 0),
        ("version_minus3.xml", -3, 86400),
    ],
)
def test_special_versions(name: str, version: int, validity: int) -> None:
    config = load(name).config
    assert (config.version, config.validity, config.is_active) == (version, validity, False)
    assert config.ims is None and config.services == Services()


@pytest.mark.parametrize(
    ("name", "port"),
    [("otp_step_policy.xml", 37273), ("otp_step_empty_vers.xml", 0), ("otp_step_bare.xml", None)],
)
def test_otp_step_replies_are_not_configs(name: str, port: int | None) -> None:
    doc = load(name)
    assert not doc.is_config and doc.sms_port == port
    with pytest.raises(ProvisioningDocumentError, match="not a configuration"):
        _ = doc.config


def test_positive_version_without_validity_is_accepted_as_no_timed_refresh() -> None:
    doc = parse_config(
        b'<wap-provisioningdoc><characteristic type="VERS"><parm name="version" value="4"/>'
        b"</characteristic></wap-provisioningdoc>"
    )
    assert doc.validity is None and doc.config.validity == 0


# --------------------------------------------------------------------------- lookups


def test_path_lookup_is_case_insensitive_and_searches_every_branch() -> None:
    doc = load("up24_cmcc_full.xml")
    assert doc.get("APPLICATION/MESSAGING/StandaloneMsg/SwitchoverSize") == "900"
    assert doc.get("application/messaging/standalonemsg/switchoversize") == "900"
    assert doc.get("APPLICATION/MESSAGING/Chat/MaxSize") == "8192"
    assert doc.get("APPLICATION/MESSAGING/StandaloneMsg/MaxSize") == "921600"
    assert doc.get("APPLICATION[ap2002]/Name") == "RCS settings"
    assert doc.get("APPLICATION[urn:oma:mo:ext-3gpp-ims:1.0]/Name") == "IMS Settings"
    assert doc.get("APPLICATION[ap2001]/Name") is None  # ap2001 is nested in this layout
    assert doc.get("APPLICATION/3GPP_IMS/Ext/GSMA/AuthType") == "AKA"
    assert doc.get("VERS/version") == "12" and doc.get("nothing/here") is None
    assert [c.app_id for c in doc.find_all("APPLICATION")] == [
        "urn:oma:mo:ext-3gpp-ims:1.0",
        "ap2002",
    ]
    pcscf = doc.find_all("APPLICATION/3GPP_IMS/LBO_P-CSCF_Address")
    assert [node.parm("address") for node in pcscf][1] == "192.0.2.21:5060"
    rcs = doc.application("AP2002")
    assert rcs is not None and rcs.child("services") is not None
    assert rcs.find("MESSAGING/Chatbot") is not None
    ims_list = doc.find("APPLICATION/3GPP_IMS/Public_User_Identity_List")
    assert ims_list is not None and len(ims_list.parm_values("public_user_identity")) == 2


def test_unknown_characteristics_are_kept() -> None:
    doc = load("up24_cmcc_full.xml")
    assert doc.get("X-LAB-EXTENSION/note") == "kept but not interpreted"
    assert doc.get("APPLICATION/SERVICEPROVIDEREXT/cmccMenuVersion") == "3"
    assert doc.get("APPLICATION/PRESENCE/PublishTimer") == "1200"
    types = [node.type for node in doc.characteristics]
    assert types == [
        "VERS",
        "TOKEN",
        "MSG",
        "ACCESS-CONTROL",
        "APPLICATION",
        "APPLICATION",
        "X-LAB-EXTENSION",
    ]


# --------------------------------------------------------------------------- broken documents


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("xml_bomb.xml", "forbidden"),
        ("xxe.xml", "forbidden"),
        ("not_xml.txt", "not well-formed"),
        ("truncated.xml", "not well-formed"),
        ("parm_without_name.xml", "parm without a name"),
        ("characteristic_without_type.xml", "characteristic without a type"),
        ("non_numeric_version.xml", "'twelve' is not a number"),
        ("wrong_root.xml", "root element is <provisioning>"),
        ("parm_at_root.xml", "parm outside any characteristic"),
        ("validity_without_version.xml", "no version"),
    ],
)
def test_broken_documents_are_refused(name: str, match: str) -> None:
    with pytest.raises(ProvisioningDocumentError, match=match):
        load(f"broken/{name}")


@pytest.mark.parametrize(
    ("name", "where"),
    [
        (
            "typed_switchover_not_number.xml",
            "APPLICATION[ap2002]/MESSAGING/StandaloneMsg/SwitchoverSize",
        ),
        (
            "typed_bad_transport.xml",
            "APPLICATION[urn:oma:mo:ext-3gpp-ims:1.0]/3GPP_IMS/Ext/GSMA/transportProto/psSignalling",
        ),
        (
            "typed_bad_pcscf_port.xml",
            "APPLICATION[urn:oma:mo:ext-3gpp-ims:1.0]/3GPP_IMS/LBO_P-CSCF_Address#1",
        ),
        ("typed_service_flag_not_number.xml", "APPLICATION[ap2002]/SERVICES/ChatAuth"),
        ("typed_token_validity_not_number.xml", "TOKEN/validity"),
    ],
)
def test_unreadable_values_name_their_path(name: str, where: str) -> None:
    doc = load(f"broken/{name}")  # the tree itself is fine
    with pytest.raises(ProvisioningDocumentError) as info:
        _ = doc.config
    assert info.value.where == where and where in str(info.value)


def test_too_deep_and_too_large_documents_are_refused() -> None:
    depth = MAX_DEPTH + 1
    deep = b"<wap-provisioningdoc>" + b'<characteristic type="a">' * depth
    deep += b"</characteristic>" * depth + b"</wap-provisioningdoc>"
    with pytest.raises(ProvisioningDocumentError, match="nested deeper"):
        parse_config(deep)
    big = b"<wap-provisioningdoc>" + b" " * (300 * 1024) + b"</wap-provisioningdoc>"
    with pytest.raises(ProvisioningDocumentError, match="exceeds"):
        parse_config(big)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("host:", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]5060", None),
        (":5060", None),
        ("host:0", None),
        ("host:x1", None),
        ("host:" + "9" * 5000, None),
        ("[::1]:", None),
        ("h", "dns"),
    ],
)
def test_malformed_pcscf_addresses(address: str, kind: str | None) -> None:
    from rcs_terminal.protocol.provisioning.reader import parse_pcscf

    with pytest.raises(ProvisioningDocumentError):
        parse_pcscf(address, kind, "LBO_P-CSCF_Address#1")


# --------------------------------------------------------------------------- builder


def test_builder_escapes_and_round_trips_the_corpus_config() -> None:
    config = load("up24_cmcc_full.xml").config
    built = build_config(config)
    assert "&amp;《隐私政策》".encode() in built and b"ft-secret-&lt;lab&gt;" in built
    assert parse_config(built).config == config


def test_builder_refuses_characters_xml_cannot_carry() -> None:
    with pytest.raises(LocalProtocolError, match="U\\+0001"):
        build_config(RcsConfig(version=1, validity=1, token="a\x01b"))


def test_builder_keeps_whitespace_exact_and_appends_extra_characteristics() -> None:
    extra = Characteristic("PRESENCE", (Parm("PublishTimer", "60"),))
    built = build_config(RcsConfig(version=1, validity=2, token=" a\tb\r\nc "), extra=(extra,))
    doc = parse_config(built)
    assert doc.config.token == " a\tb\r\nc " and doc.get("PRESENCE/PublishTimer") == "60"


def test_otp_reply_builder() -> None:
    assert parse_config(build_otp_reply(37273)).sms_port == 37273
    bare = parse_config(build_otp_reply())
    assert not bare.is_config and bare.characteristics == ()


def test_reset_documents_are_just_vers() -> None:
    doc = parse_config(build_config(RcsConfig(version=-1, validity=0)))
    assert [c.type for c in doc.characteristics] == ["VERS"]


# --------------------------------------------------------------------------- properties

# A small alphabet that still covers what needs escaping, XML whitespace, CJK and astral text.
_ALPHABET = [*"aZ09 _-.:/@+&<>\"'=;,[]\t\n\r", "é", "消", "息", "\u3000", "\U0001f600"]
_XML_TEXT = st.text(st.sampled_from(_ALPHABET), max_size=16)
_WORDY = _XML_TEXT.filter(lambda s: s.strip() != "")
_STRIPPED = _WORDY.map(str.strip)
_NO_COMMA = _STRIPPED.filter(lambda s: "," not in s)
_INTS = st.integers(-(2**40), 2**40)
_NAME = st.builds(
    str.__add__,
    st.sampled_from("AbcXyz"),
    st.text(st.sampled_from("AbcXyz09_-"), max_size=8),
)


def _field_strategy(f: Any) -> st.SearchStrategy[Any] | None:
    meta = f.metadata
    if "section" in meta:
        return _section_strategy(f.default_factory)
    kind = meta.get("kind")
    if kind is None:
        return None
    base: st.SearchStrategy[Any]
    if kind == INT:
        base = _INTS
    elif kind == BOOL:
        base = st.booleans()
    elif kind == WORDS:
        base = st.sampled_from(WORD_SETS[meta["words"]])
    elif kind == LIST:
        return st.lists(_NO_COMMA, max_size=3).map(tuple)
    else:
        base = _WORDY
    return base if f.default is not None else st.none() | base


def _section_strategy(cls: Any) -> st.SearchStrategy[Any]:
    kwargs = {}
    for f in fields(cls):
        strategy = _field_strategy(f)
        if strategy is not None:
            kwargs[f.name] = strategy
    # Half the time the section is left at its defaults: keeps examples small and fast.
    return st.just(cls()) | st.builds(cls, **kwargs)


_HOSTS = st.one_of(
    st.lists(st.sampled_from(("pcscf", "ims", "rcs", "test", "a-1")), min_size=1, max_size=4).map(
        ".".join
    ),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
_PCSCF = st.builds(
    PcscfAddress,
    _HOSTS,
    st.none() | st.integers(1, 65535),
    st.sampled_from(("FQDN", "IPv4", "IPv6")),
)
_IMS = _section_strategy(ImsSettings).flatmap(
    lambda ims: st.builds(
        lambda impus, pcscf: ImsSettings(
            **{
                **{f.name: getattr(ims, f.name) for f in fields(ims)},
                "impus": impus,
                "pcscf": pcscf,
            }
        ),
        st.lists(_STRIPPED, max_size=3).map(tuple),
        st.lists(_PCSCF, max_size=3).map(tuple),
    )
)
_TEXT_SERVICE = st.tuples(
    _NAME.filter(
        lambda n: (
            not n.casefold().endswith("auth")
            and n.casefold() not in ("presenceprfl", "rcsdisabledstate")
        )
    ),
    _WORDY.filter(lambda v: not v.strip().lstrip("+-").isdigit()),
)
_SERVICES = st.builds(
    Services,
    st.lists(st.tuples(_NAME, _INTS), max_size=5).map(tuple),
    st.lists(_TEXT_SERVICE, max_size=2).map(tuple),
    st.lists(st.tuples(_NAME, _INTS), max_size=3).map(tuple),
)
_CONFIGS = st.builds(
    RcsConfig,
    version=_INTS,
    validity=st.integers(0, 2**31),
    token=st.none() | _XML_TEXT,
    token_validity=st.none() | _INTS,
    msg=st.none() | _section_strategy(TermsMessage),
    policy_sms_port=st.none() | st.integers(0, 65535),
    msisdn=st.none() | _STRIPPED,
    ims=st.none() | _IMS,
    services=_SERVICES,
    access_control=st.lists(
        st.builds(
            AdditionalServer,
            _STRIPPED,
            st.booleans(),
            st.lists(_STRIPPED, max_size=2).map(tuple),
            st.booleans(),
        ),
        max_size=2,
    ).map(tuple),
    **{attr: _section_strategy(cls) for attr, _, cls in RCS_SECTIONS},
)


@given(_CONFIGS)
def test_typed_round_trip(config: RcsConfig) -> None:
    assert parse_config(build_config(config)).config == config


_TREES = st.recursive(
    st.builds(
        Characteristic,
        _NAME,
        st.lists(st.builds(Parm, _STRIPPED, _XML_TEXT), max_size=3).map(tuple),
    ),
    lambda children: st.builds(
        Characteristic,
        _NAME,
        st.lists(st.builds(Parm, _STRIPPED, _XML_TEXT), max_size=3).map(tuple),
        st.lists(children, max_size=3).map(tuple),
    ),
    max_leaves=12,
)


@given(st.lists(_TREES.filter(lambda c: c.type.casefold() != "vers"), max_size=4).map(tuple))
def test_generic_tree_round_trip(tops: tuple[Characteristic, ...]) -> None:
    doc = parse_config(serialize_document(tops))
    assert doc.characteristics == tops and not doc.is_config


_SEEDS = [
    (CORPUS / name).read_bytes()
    for name in (
        "up24_cmcc_full.xml",
        "up24_digest.xml",
        "ap2001_flat.xml",
        "otp_step_policy.xml",
        "version_minus3.xml",
    )
]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(("flip", "cut", "insert", "dup", "truncate")))
        if action == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b'"',
                        b"&",
                        b"\x00",
                        b"\xff",
                        b'<parm name="x"/>',
                        b'<characteristic type="VERS"><parm name="version" value="x"/>',
                        b"</characteristic>",
                        b"<characteristic>",
                        b"-1",
                        b"99999999999999999999",
                    ]
                )
            )
        elif action == "dup":
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end]
        else:
            del data[at:]
    return bytes(data)


def _parse_fully(data: bytes) -> None:
    try:
        doc = parse_config(data)
    except ProvisioningDocumentError:
        return
    assert isinstance(doc, ProvisioningDocument)
    doc.get("APPLICATION/MESSAGING/StandaloneMsg/SwitchoverSize")
    _ = doc.sms_port
    if doc.is_config:
        with contextlib.suppress(ProvisioningDocumentError):
            assert isinstance(doc.config, RcsConfig)


@given(_mutated())
def test_mutated_documents_give_a_document_or_the_parse_error(data: bytes) -> None:
    _parse_fully(data)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_document_or_the_parse_error(data: bytes) -> None:
    _parse_fully(data)
