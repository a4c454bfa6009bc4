"""Capability exchange: OPTIONS out, answers from the corpus, cache expiry on a FakeClock,
chatbot recognition, and our answer to incoming OPTIONS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_sip_endpoint_support import (
    FakeFlow,
    MiniRegistrar,
    Stack,
    digest_params,
    from_corpus,
    make_stack,
    settle,
)

from rcs_terminal.domain.events import CapabilitiesUpdated
from rcs_terminal.engine.capabilities import CapabilityService, normalize_target
from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.message import Request

WIRE = Path(__file__).parents[1] / "data" / "wire" / "endpoint"


class OptionsPeer:
    """A registrar that answers OPTIONS from the corpus file named in ``answer``."""

    def __init__(self) -> None:
        self.registrar = MiniRegistrar()
        self.answer: str | None = "options_200_rcs.sip"
        self.options: list[Request] = []

    def __call__(self, request: Request, flow: FakeFlow) -> Any:
        if request.method == "OPTIONS":
            self.options.append(request)
            return None if self.answer is None else from_corpus(self.answer, request)
        return self.registrar(request, flow)


async def registered(**params: Any) -> tuple[Stack, CapabilityService, OptionsPeer]:
    peer = OptionsPeer()
    stack = make_stack(digest_params(**params), peer)
    service = CapabilityService(stack.registration, bus=stack.bus, clock=stack.clock.now)
    await stack.registration.start()
    return stack, service, peer


async def test_options_request_carries_our_tags_and_route() -> None:
    stack, service, peer = await registered()
    result = await service.query("+8613800000002")
    (options,) = peer.options
    assert options.uri == "tel:+8613800000002" and options.to.uri == "tel:+8613800000002"
    assert options.from_.uri == "sip:alice@rcs.test"
    assert options.headers.get("Route") == "<sip:orig@scscf.rcs.test:6060;lr>"
    assert options.headers.get("P-Preferred-Identity") == "<sip:alice@rcs.test>"
    assert options.headers.get("Accept") == "application/sdp"
    tags = feature_tags(options.contacts[0].params)
    assert "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg" in (tags["+g.3gpp.icsi-ref"] or [])
    accept = options.addresses("Accept-Contact")[0]
    assert accept.is_wildcard and "+g.3gpp.icsi-ref" in accept.params
    assert "require" not in accept.params
    assert result.status == 200 and result.rcs and result.online and not result.chatbot
    assert result.services == ("chat", "chatbot", "fthttp", "geopush", "standalone")
    assert "+g.gsma.rcs.cpm.pager-large" in result.tags
    assert result.to_json()["services"] == list(result.services)
    event = stack.events[-1]
    assert isinstance(event, CapabilitiesUpdated) and event.rcs and event.target == result.target


@pytest.mark.parametrize(
    ("answer", "rcs", "online", "chatbot", "services"),
    [
        ("options_200_chatbot.sip", True, True, True, ("chatbot.sa", "standalone")),
        ("options_200_legacy_joyn.sip", True, True, False, ("chat", "ft")),
        ("options_200_automata.sip", True, False, False, ("standalone",)),
        ("options_200_linphone_bare.sip", False, True, False, ()),
        ("options_200_baresip_sdp.sip", False, True, False, ()),
        ("options_200_broken_tag.sip", False, True, False, ()),
        ("options_404.sip", False, False, False, ()),
        ("options_604.sip", False, False, False, ()),
        ("options_480.sip", True, False, False, ()),
        ("options_500.sip", False, False, False, ()),
        (None, True, False, False, ()),  # no answer: 408, RCS but offline
    ],
)
async def test_answers(
    answer: str | None, rcs: bool, online: bool, chatbot: bool, services: tuple[str, ...]
) -> None:
    stack, service, peer = await registered()
    peer.answer = answer
    task = stack.endpoint.send  # keep a reference for mypy
    del task
    if answer is None:
        import asyncio

        from test_sip_endpoint_support import advance

        query = asyncio.get_running_loop().create_task(service.query("sip:bob@rcs.test"))
        await advance(stack.endpoint, stack.clock, 32)
        result = await query
        assert result.status == 408
    else:
        result = await service.query("sip:bob@rcs.test")
    assert (result.rcs, result.online, result.chatbot, result.services) == (
        rcs,
        online,
        chatbot,
        services,
    )


async def test_cache_expiry_follows_cap_info_expiry() -> None:
    stack, service, peer = await registered(cap_info_expiry=600, non_rcs_cap_info_expiry=60)
    await service.query("sip:bob@rcs.test")
    stack.clock.advance(599)
    cached = await service.query("sip:BOB@RCS.TEST".replace("BOB", "bob"))
    assert cached.from_cache and len(peer.options) == 1
    stack.clock.advance(1)
    fresh = await service.query("sip:bob@rcs.test")
    assert not fresh.from_cache and len(peer.options) == 2
    forced = await service.query("sip:bob@rcs.test", force=True)
    assert not forced.from_cache and len(peer.options) == 3


async def test_non_rcs_answers_use_the_non_rcs_expiry() -> None:
    stack, service, peer = await registered(cap_info_expiry=600, non_rcs_cap_info_expiry=60)
    peer.answer = "options_404.sip"
    first = await service.query("tel:+8613800000009")
    assert first.expires_at == stack.clock.now() + 60
    assert service.cached("+8613800000009") is not None
    stack.clock.advance(60)
    assert service.cached("tel:+86-138-0000-0009") is None


async def test_offline_keeps_earlier_capabilities() -> None:
    _stack, service, peer = await registered()
    await service.query("sip:bob@rcs.test")
    peer.answer = "options_480.sip"
    offline = await service.query("sip:bob@rcs.test", force=True)
    assert offline.rcs and not offline.online
    assert "standalone" in offline.services


async def test_errors_are_not_cached() -> None:
    _stack, service, peer = await registered()
    peer.answer = "options_500.sip"
    await service.query("sip:bob@rcs.test")
    assert service.cached("sip:bob@rcs.test") is None


async def test_403_not_registered_registers_again() -> None:
    _stack, service, peer = await registered()
    peer.answer = "options_403_not_registered.sip"
    before = len(peer.registrar.registers)
    result = await service.query("sip:bob@rcs.test")
    await settle()
    assert result.status == 403 and not result.rcs
    assert len(peer.registrar.registers) == before + 1


@pytest.mark.parametrize(
    ("target", "chatbot"),
    [
        ("sip:12520@botplatform.rcs.chinamobile.com", True),
        ("sip:demo@botplatform.lab", True),
        ("sip:agent@rbm.example.test", True),
        ("sip:bob@rcs.test", False),
        ("tel:+86106000001", True),  # SpecificChatbotsList
        ("+86-106-000-001", True),
        ("tel:+86106000002", False),
    ],
)
async def test_chatbots_recognised_by_identity(target: str, chatbot: bool) -> None:
    _stack, service, peer = await registered(specific_chatbots=("+86106000001",))
    peer.answer = "options_404.sip"
    assert (await service.query(target)).chatbot is chatbot


async def test_incoming_options_are_answered_with_our_tags() -> None:
    stack, _service, _peer = await registered()
    flow = stack.network.flows[-1]
    flow.deliver((WIRE / "incoming_options.sip").read_bytes())
    await settle()
    response = stack.network.responses[-1]
    assert response.status == 200 and response.to.tag
    tags = feature_tags(response.contacts[0].params)
    assert tags["+g.gsma.rcs.botversion"] == ["#=1", "#=2"]
    assert (
        response.contacts[0].params.get("+sip.instance") == stack.registration.params.sip_instance
    )
    assert "reg-id" not in response.contacts[0].params
    assert "MESSAGE" in (response.headers.get("Allow") or "")
    assert "message/cpim" in (response.headers.get("Accept") or "")


async def test_incoming_options_when_offering_fewer_services() -> None:
    stack, _service, _peer = await registered(services=("standalone",))
    stack.network.flows[-1].deliver((WIRE / "incoming_options.sip").read_bytes())
    await settle()
    tags = feature_tags(stack.network.responses[-1].contacts[0].params)
    assert "+g.3gpp.iari-ref" not in tags and "+g.gsma.rcs.botversion" not in tags


def test_normalize_target() -> None:
    assert normalize_target(" +8613800000002 ") == "tel:+8613800000002"
    assert normalize_target("bob@rcs.test") == "sip:bob@rcs.test"
    assert normalize_target("sip:bob@rcs.test") == "sip:bob@rcs.test"
    for bad in ("bob", "mailto:bob@rcs.test", "tel:xyz"):
        with pytest.raises(SipParseError):
            normalize_target(bad)
