"""Acting on the bundled lab from a scenario: faults, reg events, pushed bot messages.

A conformance run has to see the network misbehave: the config server's faults
(:mod:`rcs_terminal.lab.faults`: ``403``, ``503`` with Retry-After, ``version`` 0/-1/-2/-3,
``terms``, ``otp``...), the registrar's (:mod:`rcs_terminal.lab.sip_faults`: ``503``,
``403``, ``drop`` on REGISTER), the reg events a network sends (deactivated, rejected,
shortened) and messages pushed by a chatbot through the lab's MaaP-style API. A fault that
names a handset applies to that handset's SIM only (by IMSI); without one, to everyone.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rcs_terminal.scenario.results import ExpectationFailed
from rcs_terminal.scenario.step_models import FaultSpec, LabStep, PushSpec, RegEventSpec

if TYPE_CHECKING:
    from rcs_terminal.scenario.steps import StepContext

__all__ = ["apply", "apply_fault", "title"]


def _imsi(ctx: StepContext, handset: str | None, sim: int | None) -> str | None:
    if handset is None:
        return None
    scenario_handset = ctx.handset(handset)
    slot = ctx.slot(scenario_handset, sim)
    return scenario_handset.profile.sim(slot).imsi


def apply_fault(ctx: StepContext, fault: FaultSpec) -> None:
    """Switch one fault on in the lab.

    Raises:
        ExpectationFailed: the lab refuses the fault (unknown kind or option).
    """
    lab = ctx.lab
    if lab is None:
        raise ExpectationFailed("faults need the lab", expected="lab: true")
    imsi = _imsi(ctx, fault.handset, fault.sim)
    try:
        if fault.server == "registrar":
            if lab.registrar is None:
                raise ExpectationFailed("the lab runs without a SIP registrar")
            lab.registrar.set_fault(
                fault.kind,
                target=imsi,
                once=fault.once,
                retry_after=fault.retry_after if fault.retry_after is not None else 1,
            )
            return
        options = {
            key: value
            for key, value in fault.model_dump(
                include={
                    "once",
                    "retry_after",
                    "version",
                    "validity",
                    "accept_version",
                    "title",
                    "message",
                }
            ).items()
            if value is not None
        }
        lab.config_server.set_fault(fault.kind, imsi=imsi, **options)
    except ValueError as exc:
        raise ExpectationFailed(f"the lab refused the fault: {exc}") from None


def _reg_event(ctx: StepContext, spec: RegEventSpec) -> None:
    lab = ctx.lab
    if lab is None or lab.registrar is None:
        raise ExpectationFailed("reg events need the lab's registrar")
    imsi = _imsi(ctx, spec.handset or next(iter(ctx.handsets)), spec.sim)
    assert imsi is not None
    if spec.action == "deactivate":
        count = lab.registrar.deactivate(imsi)
    elif spec.action == "reject":
        count = lab.registrar.reject(imsi)
    else:
        count = lab.registrar.shorten(imsi, spec.seconds)
    if count == 0:
        raise ExpectationFailed(
            f"the registrar has no binding to {spec.action}", expected="a registered SIM"
        )


async def _push(ctx: StepContext, spec: PushSpec) -> None:
    from rcs_terminal.engine.http import HttpClient

    lab = ctx.lab
    if lab is None:
        raise ExpectationFailed("pushing bot messages needs the lab")
    body: Any = spec.json_body if spec.json_body is not None else (spec.body or "")
    payload: dict[str, Any] = {
        "from": spec.bot,
        "to": ctx.peer(spec.to),
        "contentType": spec.content_type,
        "body": body,
    }
    if spec.traffic_type:
        payload["trafficType"] = spec.traffic_type
    client = HttpClient(hosts={"localhost": "127.0.0.1"}, allow_dns=False, timeout=15)
    try:
        response = await client.request(
            "POST",
            f"{lab.info.http_url}/maap/messages",
            headers=[("Content-Type", "application/json")],
            body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        )
    finally:
        await client.close()
    if response.status != 202:
        raise ExpectationFailed(
            "the lab did not push the message",
            expected="202 from POST /maap/messages",
            actual=f"{response.status}: {response.body[:200].decode('utf-8', 'replace')}",
        )


async def apply(ctx: StepContext, args: LabStep) -> None:
    """Run one ``lab`` step."""
    if args.fault is not None:
        apply_fault(ctx, args.fault)
    elif args.clear_faults:
        if ctx.lab is None:
            raise ExpectationFailed("the scenario runs without the lab")
        ctx.lab.config_server.clear_faults()
        if ctx.lab.registrar is not None:
            ctx.lab.registrar.clear_faults()
    elif args.reg_event is not None:
        _reg_event(ctx, args.reg_event)
    elif args.push is not None:
        await _push(ctx, args.push)


def title(args: LabStep) -> str:
    """The step in words."""
    if args.fault is not None:
        who = f" for {args.fault.handset}" if args.fault.handset else ""
        return f"lab: {args.fault.server} fault {args.fault.kind}{who}"
    if args.clear_faults:
        return "lab: clear faults"
    if args.reg_event is not None:
        return f"lab: reg event {args.reg_event.action}"
    assert args.push is not None
    return f"lab: {args.push.bot} pushes {args.push.content_type} to {args.push.to}"
