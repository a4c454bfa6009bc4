"""``rcs-terminal provision``: RCC.14 provisioning of a profile's SIMs."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import handles_errors
from rcs_terminal.errors import (
    RcsTerminalError,
)


@click.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.option(
    "--sim",
    "slot",
    type=click.IntRange(1, 2),
    help="SIM slot (default: the profile's default SIM).",
)
@click.option("--all", "all_sims", is_flag=True, help="Every enabled SIM, concurrently.")
@click.option("--otp", help="The one-time password, if the server sends one.")
@click.option("--force", is_flag=True, help="Ignore a valid cached configuration.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per SIM.")
@click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write the trace as JSON lines."
)
@click.option("--lab", "lab_url", help="HTTP URL of a running lab (default: lab.json).")
@click.option(
    "--accept-terms/--reject-terms",
    "accept_terms",
    default=None,
    help="How to answer the operator's terms, if it shows some.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 3600),
    default=60.0,
    show_default=True,
    help="Longest total wait for retries and the OTP SMS, in seconds.",
)
@handles_errors
def provision(
    profile: str,
    slot: int | None,
    all_sims: bool,
    otp: str | None,
    force: bool,
    as_json: bool,
    trace_file: str | None,
    lab_url: str | None,
    accept_terms: bool | None,
    max_wait: float,
) -> None:
    """Provision the profile's SIMs over RCC.14 (HTTP/HTTPS).

    Exits 0 when every SIM is provisioned, 2 for a profile problem, 3 when a server refused
    or could not be reached (the other SIMs are still provisioned and printed).
    """
    import asyncio
    import json

    from rcs_terminal.domain.profile import LAB, load_profile
    from rcs_terminal.engine.labinfo import LabInfo, fetch_lab_info
    from rcs_terminal.engine.provisioning import ProvisioningResult, ProvisioningService
    from rcs_terminal.engine.trace import TraceRecorder

    if slot is not None and all_sims:
        raise click.UsageError("give --sim N or --all, not both")
    loaded = load_profile(profile)
    sims = (
        list(loaded.enabled_sims)
        if all_sims
        else [loaded.sim(slot) if slot is not None else loaded.default_sim]
    )
    if all_sims:
        static = [sim for sim in sims if sim.ims is not None]
        for sim in static:
            click.echo(f"SIM {sim.slot}: static IMS settings, nothing to provision", err=True)
        sims = [sim for sim in sims if sim.ims is None]
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)
    otp_provider = None
    if otp is None and sys.stdin.isatty():

        async def otp_provider() -> str:
            return str(await asyncio.to_thread(click.prompt, "One-time password (SMS)"))

    async def provision_all() -> list[ProvisioningResult | BaseException]:
        uses_lab = any(s.provisioning is not None and s.provisioning.url == LAB for s in sims)
        lab_info = None
        if uses_lab:
            lab_info = await fetch_lab_info(lab_url) if lab_url else LabInfo.load()
        services = [
            ProvisioningService(
                loaded,
                sim,
                trace=trace,
                lab=lab_info,
                otp=otp,
                otp_provider=otp_provider,
                force=force,
                accept_terms=accept_terms,
                max_wait=max_wait,
            )
            for sim in sims
        ]
        return await asyncio.gather(*(s.run() for s in services), return_exceptions=True)

    try:
        outcomes = asyncio.run(provision_all())
    finally:
        trace.close()
    errors: list[RcsTerminalError] = []
    rows = []
    for sim, outcome in zip(sims, outcomes, strict=True):
        if isinstance(outcome, ProvisioningResult):
            rows.append(outcome.to_json())
        elif isinstance(outcome, RcsTerminalError):
            errors.append(outcome)
            rows.append(
                {"sim": sim.slot, "imsi": sim.imsi, "state": "failed", "error": outcome.message}
            )
        else:
            raise outcome
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from rcs_terminal.render.sanitize import sanitize

        console = Console()
        for row in rows:
            if row["state"] == "failed":
                continue
            state = "provisioned from the cache" if row["from_cache"] else row["state"]
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()
            fields = [
                ("Version", f"{row['version']} (valid {row['validity']} s)"),
                ("IMPI", row["impi"]),
                ("IMPU", "\n".join(row["impu"])),
                ("Home domain", row["home_domain"]),
                ("P-CSCF", " ".join(row["pcscf"]) or "-"),
                ("Transport", row["transport"]),
                ("Auth", row["auth_type"]),
                ("Services", ", ".join(row["services"]) or "-"),
                ("Chatbots", row["chatbot"]["ChatbotDirectory"]),
                ("Pager mode", f"up to {row['standalone']['SwitchoverSize']} bytes"),
                ("FT server", row["ft"]["ftHTTPCSURI"]),
            ]
            for name, value in fields:
                table.add_row(name, Text(sanitize(str(value or "-"), multiline=True)))
            console.print(Text(f"SIM {row['sim']} ({row['imsi']}): {state}", style="green bold"))
            console.print(table)
    if len(errors) > 1:
        from rich.console import Console

        for extra in errors[1:]:
            Console(stderr=True).print(extra.message, style="red", markup=False, highlight=False)
    if errors:
        sys.stdout.flush()
        raise errors[0]
