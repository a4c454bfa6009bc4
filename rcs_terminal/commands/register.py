"""``rcs-terminal register`` and ``options``: IMS registration and capability queries."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import find_lab, handles_errors, raise_start_error
from rcs_terminal.errors import (
    RcsTerminalError,
)
from rcs_terminal.exit_codes import ExitCode


@click.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.option(
    "--sim",
    "slot",
    type=click.IntRange(1, 2),
    help="SIM slot (default: the profile's default SIM).",
)
@click.option("--all", "all_sims", is_flag=True, help="Every enabled SIM, concurrently.")
@click.option(
    "--hold",
    type=click.FloatRange(0),
    metavar="SECONDS",
    help="Stay registered this long (0: until Ctrl-C), answering OPTIONS; then de-register.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per SIM.")
@click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write the trace as JSON lines."
)
@click.option("--lab", "lab_url", help="HTTP URL of a running lab (default: lab.json).")
@click.option("--otp", help="The one-time password, if provisioning asks for one.")
@handles_errors
def register(
    profile: str,
    slot: int | None,
    all_sims: bool,
    hold: float | None,
    as_json: bool,
    trace_file: str | None,
    lab_url: str | None,
    otp: str | None,
) -> None:
    """Register the profile's SIMs with the IMS core (provisioning them first if needed).

    Prints per SIM its status, default IMPU, granted expiry, Service-Route and associated
    URIs; then stays registered for --hold seconds (0: until Ctrl-C) and de-registers.
    Exits 0 when every SIM registered, 1 when the network refused (e.g. 403), 2 for a
    profile problem, 3 when the network could not be reached or did not answer.
    """
    import asyncio
    import contextlib
    import json
    import signal

    from rcs_terminal.domain.profile import load_profile
    from rcs_terminal.engine.handset import Handset
    from rcs_terminal.engine.trace import TraceRecorder

    if slot is not None and all_sims:
        raise click.UsageError("give --sim N or --all, not both")
    loaded = load_profile(profile)
    sims = (
        list(loaded.enabled_sims)
        if all_sims
        else [loaded.sim(slot) if slot is not None else loaded.default_sim]
    )
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)

    def row(handset: Handset, number: int) -> dict[str, object]:
        stack = handset.sims[number]
        reg = stack.registration
        data: dict[str, object] = {
            "sim": number,
            "status": reg.state if reg is not None else "failed",
            "impu": reg.default_impu if reg is not None else stack.sim.impu,
            "expires": reg.expires if reg is not None else None,
            "service_route": list(reg.service_route) if reg is not None else [],
            "associated_uris": list(reg.associated_uris) if reg is not None else [],
        }
        if stack.error is not None:
            data["status"] = "failed"
            data["error"] = stack.error.message
            data["sip_status"] = getattr(stack.error, "status", None)
        return data

    def show(rows: list[dict[str, object]]) -> None:
        if as_json:
            for item in rows:
                click.echo(json.dumps(item, ensure_ascii=False))
            sys.stdout.flush()
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from rcs_terminal.render.sanitize import sanitize

        table = Table(title=f"IMS registration ({loaded.name or profile})", title_justify="left")
        for column in ("SIM", "Status", "IMPU", "Expires", "Service-Route", "Associated URIs"):
            table.add_column(column, overflow="fold")
        for item in rows:
            routes = item["service_route"]
            uris = item["associated_uris"]
            cells = [
                str(item["sim"]),
                str(item["status"]),
                str(item["impu"]),
                "-" if item["expires"] is None else f"{item['expires']} s",
                "\n".join(routes) if isinstance(routes, list) and routes else "-",
                "\n".join(uris) if isinstance(uris, list) and uris else "-",
            ]
            table.add_row(*(Text(sanitize(cell, multiline=True)) for cell in cells))
        Console().print(table)
        sys.stdout.flush()

    async def session() -> RcsTerminalError | None:
        lab_info = await find_lab(lab_url, sims)
        handset = Handset(loaded, trace=trace, lab=lab_info, otp=otp, max_attempts=0)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            starting = asyncio.ensure_future(handset.start([s.slot for s in sims]))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
                raise KeyboardInterrupt
            stopped.cancel()
            results = starting.result()
            show([row(handset, s.slot) for s in sims])
            errors = [error for error in results.values() if error is not None]
            if errors:
                return errors[0]
            if hold is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), None if hold == 0 else hold)
            return None
        finally:
            await handset.stop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    try:
        error = asyncio.run(session())
    finally:
        trace.close()
    raise_start_error(error)


@click.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.option(
    "--sim",
    "slot",
    type=click.IntRange(1, 2),
    help="SIM slot (default: the profile's default SIM).",
)
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write the trace as JSON lines."
)
@click.option("--lab", "lab_url", help="HTTP URL of a running lab (default: lab.json).")
@click.option("--otp", help="The one-time password, if provisioning asks for one.")
@handles_errors
def options(
    profile: str,
    slot: int | None,
    target: str,
    as_json: bool,
    trace_file: str | None,
    lab_url: str | None,
    otp: str | None,
) -> None:
    """Query a peer's capabilities with SIP OPTIONS (TARGET: tel:/sip: URI or +86 number).

    Registers the SIM, sends OPTIONS with our feature tags, prints whether the target is an
    RCS user, online, a chatbot, and its services and tags, then de-registers. Exits 0 when
    the target answered (whatever it answered), 1 when the network refused our registration,
    2 for a bad profile or target, 3 when the network or the target did not answer.
    """
    import asyncio
    import json

    from rcs_terminal.domain.profile import load_profile
    from rcs_terminal.engine.capabilities import Capabilities, normalize_target
    from rcs_terminal.engine.handset import Handset
    from rcs_terminal.engine.trace import TraceRecorder

    loaded = load_profile(profile)
    sim = loaded.sim(slot) if slot is not None else loaded.default_sim
    uri = normalize_target(target)
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)

    async def query() -> Capabilities:
        lab_info = await find_lab(lab_url, [sim])
        handset = Handset(loaded, trace=trace, lab=lab_info, otp=otp, max_attempts=0)
        try:
            error = (await handset.start([sim.slot]))[sim.slot]
            raise_start_error(error)
            service = handset.sims[sim.slot].capabilities
            assert service is not None
            return await service.query(uri, force=True)
        finally:
            await handset.stop()

    try:
        result = asyncio.run(query())
    finally:
        trace.close()
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from rcs_terminal.render.sanitize import sanitize

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        status = "no answer" if result.status is None else f"{result.status} {result.reason or ''}"
        fields = [
            ("Target", result.target),
            ("Answer", status),
            ("RCS user", "yes" if result.rcs else "no"),
            ("Online", "yes" if result.online else "no"),
            ("Chatbot", "yes" if result.chatbot else "no"),
            ("Services", ", ".join(result.services) or "-"),
            ("Tags", "\n".join(result.tags) or "-"),
        ]
        for name, value in fields:
            table.add_row(name, Text(sanitize(value, multiline=True)))
        Console().print(table)
    sys.stdout.flush()
    if result.status == 408 and result.reason in ("timeout", "Request Timeout"):
        sys.exit(int(ExitCode.INFRASTRUCTURE))
    if result.status == 503 and (result.reason or "").startswith("transport"):
        sys.exit(int(ExitCode.INFRASTRUCTURE))
