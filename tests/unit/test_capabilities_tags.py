"""The UP 2.4 feature-tag table both ways, and the services a configuration enables."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.engine.feature_tags import (
    BOTVERSION,
    DEFAULT_SERVICES,
    IARI,
    ICSI,
    KNOWN_SERVICES,
    accept_contact,
    contact_tags,
    is_automata,
    is_bot,
    is_rcs,
    services_from_config,
    services_from_tags,
    tag_strings,
)
from rcs_terminal.protocol.provisioning.config import (
    ChatbotSettings,
    MessagingSettings,
    RcsConfig,
    Services,
)
from rcs_terminal.protocol.sip.features import feature_tags, format_feature_tags
from rcs_terminal.protocol.sip.headers import parse_name_addr


def test_default_china_set() -> None:
    tags = contact_tags(DEFAULT_SERVICES)
    assert tags[ICSI] == [
        "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session",
        "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg",
        "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg",
    ]
    assert tags[IARI] == [
        "urn:urn-7:3gpp-application.ims.iari.rcs.fthttp",
        "urn:urn-7:3gpp-application.ims.iari.rcs.geopush",
        "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot",
        "urn:urn-7:3gpp-application.ims.iari.rcs.chatbot.sa",
    ]
    assert tags["+g.gsma.rcs.cpm.pager-large"] is None
    assert tags[BOTVERSION] == ["#=1", "#=2"]
    written = format_feature_tags(tags)
    assert "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg" in written
    assert ';+g.gsma.rcs.botversion="#=1,#=2"' in written


def test_nothing_enabled_means_no_tags() -> None:
    assert contact_tags(()) == {} and accept_contact(()) is None
    assert contact_tags(["unknown"]) == {}


@given(st.sets(st.sampled_from(KNOWN_SERVICES)))
def test_our_tags_read_back_as_our_services(services: set[str]) -> None:
    header = f"<sip:a@h>{format_feature_tags(contact_tags(services))}"
    found = set(services_from_tags(feature_tags(parse_name_addr(header).params)))
    assert found == services


def test_peer_tags() -> None:
    legacy = {IARI: ["urn:urn-7:3gpp-application.ims.iari.rcse.im"], "+g.oma.sip-im": None}
    assert services_from_tags(legacy) == ("chat",)
    assert is_rcs(services_from_tags(legacy))
    bot = {"+g.gsma.rcs.isbot": None, BOTVERSION: ["#=1"]}
    assert is_bot(bot) and services_from_tags(bot) == ("chatbot",)
    assert services_from_tags({ICSI: ["urn:urn-7:3gpp-service.ims.icsi.mmtel"]}) == ("ipcall",)
    assert services_from_tags({ICSI: ["urn:other"], IARI: ["x"]}) == ()
    assert not is_rcs(("fthttp", "geopush"))
    assert is_automata({"automata": None})
    assert tag_strings({"a": None, "b": ["1", "2"]}) == ["a", "b=1", "b=2"]


def test_accept_contact_is_a_preference() -> None:
    value = accept_contact(("standalone", "chatbot.sa"))
    assert value is not None and value.startswith("*;")
    parsed = parse_name_addr(value)
    assert parsed.is_wildcard and "require" not in parsed.params
    assert BOTVERSION not in parsed.params


def _config(switches: tuple[tuple[str, int], ...], tech: int | None = None) -> RcsConfig:
    return RcsConfig(
        version=1,
        validity=1,
        services=Services(values=switches),
        messaging=MessagingSettings(chatbot=ChatbotSettings(chatbot_msg_tech=tech)),
    )


def test_services_from_config() -> None:
    assert services_from_config(RcsConfig(version=1, validity=1)) == DEFAULT_SERVICES
    everything = (("ChatAuth", 1), ("standaloneMsgAuth", 1), ("ftAuth", 1), ("geolocPushAuth", 1))
    assert services_from_config(_config(everything)) == DEFAULT_SERVICES
    assert services_from_config(_config(everything, tech=3)) == (
        "chat", "standalone", "fthttp", "geopush", "chatbot.sa",
    )  # fmt: skip
    assert services_from_config(_config(everything, tech=1))[-1] == "chatbot"
    off = (("ChatAuth", 0), ("standaloneMsgAuth", 1), ("composerAuth", 1), ("rcsDisabledState", 0))
    assert services_from_config(_config(off)) == ("standalone", "chatbot.sa", "callcomposer")
