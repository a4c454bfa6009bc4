"""``expect_trace``: assertions on the protocol trace.

What the handset (or the lab) put on the wire is the final word on conformance: a MESSAGE
must carry the chatbot Accept-Contact, a REGISTER the UP 2.4 feature tags, a bot-info request
its ``If-None-Match``. The step looks at the trace records of a handset (its SIP, MSRP and
HTTP) or of the lab, filters them by protocol, direction, method or status, start line,
headers, Contact/Accept-Contact feature tags, body and HTTP query parameters
(:func:`~rcs_terminal.scenario.matchers.match_trace_record`), and counts the matches; it
waits up to ``within`` seconds for enough of them (or, with ``absent: true``, keeps the whole
window and fails on the first one).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rcs_terminal.engine.trace import TraceRecord, TraceRecorder
from rcs_terminal.scenario.matchers import describe_text, match_trace_record
from rcs_terminal.scenario.results import ExpectationFailed
from rcs_terminal.scenario.step_models import ExpectTraceStep

if TYPE_CHECKING:
    from rcs_terminal.scenario.steps import StepContext

__all__ = ["expect_trace", "trace_title"]


def _recorder(ctx: StepContext, args: ExpectTraceStep) -> tuple[str, TraceRecorder]:
    if args.source == "lab":
        if ctx.lab is None:
            raise ExpectationFailed("the scenario runs without the lab", expected="a lab trace")
        return "lab", ctx.lab.trace
    handset = ctx.handset(args.handset)
    name = next((n for n, h in ctx.handsets.items() if h is handset), handset.name)
    return name, handset.trace


def _matches(args: ExpectTraceStep, records: list[TraceRecord]) -> list[TraceRecord]:
    out = []
    for record in records:
        if record.protocol != args.protocol:
            continue
        if args.direction is not None and record.direction != args.direction:
            continue
        if args.sim is not None and record.sim not in (None, args.sim):
            continue
        if match_trace_record(
            record.text,
            record.first_line,
            method=args.method,
            status=args.status,
            first_line_rule=args.first_line,
            headers=args.headers,
            feature_tags=args.feature_tags,
            body=args.body,
            query=args.query,
        ):
            out.append(record)
    return out


def _enough(args: ExpectTraceStep, count: int) -> bool:
    if args.absent:
        return count == 0
    rule = args.count
    if rule is None:
        return count >= 1
    return (rule.min is None or count >= rule.min) and (rule.max is None or count <= rule.max)


def _wanted(args: ExpectTraceStep) -> str:
    if args.absent:
        return "no such record"
    rule = args.count
    if rule is None:
        return "at least one such record"
    if rule.min == rule.max:
        return f"exactly {rule.min:g} such records"
    low = f"{rule.min:g}" if rule.min is not None else "0"
    high = f"{rule.max:g}" if rule.max is not None else "*"
    return f"{low}..{high} records"


async def expect_trace(ctx: StepContext, args: ExpectTraceStep) -> None:
    """Run one ``expect_trace`` step (see the module docstring).

    Raises:
        ExpectationFailed: not the expected number of matching records in time.
    """
    name, recorder = _recorder(ctx, args)
    since = ctx.trace_marks.get(name, 0) if args.since == "step" else 0
    within = ctx.within(args.within)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    arrived = asyncio.Event()
    unsubscribe = recorder.subscribe(lambda record: arrived.set())
    try:
        while True:
            records = [r for r in recorder if r.seq > since]
            found = _matches(args, records)
            if args.absent and found:
                break
            if not args.absent and _enough(args, len(found)):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                if args.absent:
                    return
                break
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                continue
    finally:
        unsubscribe()
    same_kind = [r for r in records if r.protocol == args.protocol]
    shown = [f"{r.direction} {r.first_line}" for r in (found or same_kind)[-4:]]
    raise ExpectationFailed(
        f"the {name} trace does not have {_wanted(args)}: {trace_title(args)}",
        expected=_wanted(args),
        actual=f"{len(found)} matching; last {args.protocol}: " + (" | ".join(shown) or "none"),
    )


def trace_title(args: Any) -> str:
    """The step in words."""
    parts = [f"{'no ' if args.absent else ''}{args.protocol}"]
    if args.direction:
        parts.append({"in": "received", "out": "sent"}[args.direction])
    if args.method:
        parts.append(args.method)
    if args.status is not None:
        parts.append(str(args.status))
    if args.first_line is not None:
        parts.append(f"first line {describe_text(args.first_line)}")
    for header, rule in args.headers.items():
        parts.append(f"{header}: {describe_text(rule)}")
    if args.feature_tags:
        parts.append("tags " + ", ".join(args.feature_tags))
    if args.body is not None:
        parts.append(f"body {describe_text(args.body)}")
    for key, rule in args.query.items():
        parts.append(f"?{key}={describe_text(rule)}")
    source = "lab trace" if args.source == "lab" else "trace"
    return f"expect in the {source}: " + " ".join(parts)
