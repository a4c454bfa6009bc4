"""The front ends: the TUI, the demo, and scripted scenario runs."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import handles_errors
from rcs_terminal.errors import (
    NetworkError,
    ProfileError,
)


@click.command()
@click.option("--profile", "-p", help="Profile name or path.")
@click.option(
    "--fake",
    is_flag=True,
    help="Run on an in-memory fake handset with demo conversations (no network).",
)
@click.option("--lab", "lab_url", help="HTTP URL of a running lab (default: lab.json).")
@click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write the trace as JSON lines."
)
@handles_errors
def tui(profile: str | None, fake: bool, lab_url: str | None, trace_file: str | None) -> None:
    """Open the handset's messaging app in the terminal.

    With --profile, the profile's handset runs on the real engine: its SIMs provision and
    register in the background (the status bar shows how far they are; OTP and operator terms
    are asked in dialogs) and stay registered until you quit (Ctrl+Q), then de-register.
    Profiles provisioned by the bundled lab need one running: `rcs-terminal lab` in another
    terminal (found through lab.json), or --lab URL. `rcs-terminal demo` starts a lab and the
    TUI together; --fake runs on an in-memory handset with demo data and no network.
    """
    from rcs_terminal.domain.profile import load_profile
    from rcs_terminal.ui.app import RcsTerminalApp

    if fake:
        if lab_url is not None or trace_file is not None:
            raise click.UsageError("--fake runs without a network: leave out --lab and --trace")
        from rcs_terminal.ui.fake_handset import FakeHandset

        loaded = load_profile(profile) if profile else None
        handset = FakeHandset(loaded, reply_delay=0.8)
        try:
            RcsTerminalApp(handset).run()
        finally:
            handset.close()
        return
    if not profile:
        raise ProfileError(
            "Which handset? Give its profile with --profile NAME.",
            title="No profile",
            hint="`rcs-terminal profile list` shows the profiles. `rcs-terminal demo` runs the "
            "bundled lab with a dual-SIM demo handset; `rcs-terminal tui --fake` needs no "
            "network.",
        )
    import asyncio

    from rcs_terminal.domain.profile import LAB
    from rcs_terminal.engine.labinfo import LabInfo, fetch_lab_info
    from rcs_terminal.engine.trace import TraceRecorder
    from rcs_terminal.ui.engine_port import EngineHandset

    loaded = load_profile(profile)
    uses_lab = any(
        sim.ims is None and sim.provisioning is not None and sim.provisioning.url == LAB
        for sim in loaded.enabled_sims
    )
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)

    async def session() -> None:
        lab_info = None
        if lab_url is not None:
            lab_info = await fetch_lab_info(lab_url)
        elif uses_lab:
            lab_info = LabInfo.load()
            if lab_info is None:
                raise NetworkError(
                    f"profile {profile!r} is provisioned by the bundled lab, and no lab is running",
                    hint="Start `rcs-terminal lab` in another terminal, give --lab URL, or run "
                    "`rcs-terminal demo` (a lab and the demo handset in one).",
                )
        handset = EngineHandset(loaded, lab=lab_info, trace=trace)
        try:
            await RcsTerminalApp(handset).run_async()
        finally:
            await handset.stop()

    try:
        asyncio.run(session())
    finally:
        trace.close()


@click.command()
@click.option(
    "--keep",
    is_flag=True,
    help="Use the usual data directory instead of a fresh one, so conversations stay.",
)
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False),
    help="Write the handset's protocol trace as JSON lines.",
)
@handles_errors
def demo(keep: bool, trace_file: str | None) -> None:
    """Start the bundled lab on loopback and the TUI with the dual-SIM demo profile.

    Both SIMs of the `demo` profile provision and register with the lab while the app opens
    (status bar, top). The conversation with the lab's demo chatbot (sip:demo@botplatform.lab)
    waits at the top of the list: press Enter, type "hi" and Enter. Ctrl+Q quits: the SIMs
    de-register and the lab stops.

    Every demo starts clean, in a fresh temporary data directory that is deleted on exit;
    --keep uses the usual data directory instead. While the demo runs, other commands find its
    lab, e.g. `rcs-terminal send -p lab-bob +8613800000001 hello` in another terminal.
    """
    import asyncio

    from rcs_terminal.ui.demo import run_demo

    asyncio.run(run_demo(keep=keep, trace_file=trace_file))


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--suite", "suites", multiple=True, metavar="NAME", help="A built-in suite (up24).")
@click.option("--junit", metavar="OUT.xml", help="Write a JUnit XML report (- for stdout).")
@click.option("--json", "json_out", metavar="OUT.json", help="Write a JSON report (- for stdout).")
@click.option(
    "--trace-dir", type=click.Path(file_okay=False), help="Write each scenario's traces here."
)
@click.option("--var", "variables", multiple=True, metavar="K=V", help="Set a ${K} variable.")
@click.option("-k", "pattern", metavar="PATTERN", help="Only scenarios whose id/name/tag match.")
@click.option("--fail-fast", is_flag=True, help="Stop after the first scenario that fails.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Scenarios at once (worker processes).",
)
@click.option("--verbose", "-v", is_flag=True, help="Show every step as it finishes.")
@click.option("--list", "list_only", is_flag=True, help="List the selected scenarios; run none.")
@handles_errors
def run(
    paths: tuple[str, ...],
    suites: tuple[str, ...],
    junit: str | None,
    json_out: str | None,
    trace_dir: str | None,
    variables: tuple[str, ...],
    pattern: str | None,
    fail_fast: bool,
    jobs: int,
    verbose: bool,
    list_only: bool,
) -> None:
    """Run scripted conformance scenarios (YAML files or folders); the exit code is the verdict.

    \b
    Exit codes: 0 all passed, 1 some failed, 2 invalid scenario/profile/option,
    3 infrastructure (lab did not start, network unreachable), 130 interrupted.
    Progress and the summary go to stderr; stdout carries only a report asked for with -.
    """
    from rcs_terminal.scenario.command import run_command

    code = run_command(
        paths,
        suites=suites,
        junit=junit,
        json_out=json_out,
        trace_dir=trace_dir,
        variables=variables,
        pattern=pattern,
        fail_fast=fail_fast,
        jobs=jobs,
        verbose=verbose,
        list_only=list_only,
    )
    sys.exit(code)
