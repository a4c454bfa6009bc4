"""``rcs-terminal lab``: the bundled local network on loopback."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import handles_errors
from rcs_terminal.errors import (
    NetworkError,
)


@click.command()
@click.option(
    "--profile",
    "-p",
    "profiles",
    multiple=True,
    help="Also serve this profile's lab SIMs (repeatable; built-in ones are always served).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address.")
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False),
    help="Write the lab's trace as JSON lines.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the addresses as one JSON line.")
@handles_errors
def lab(profiles: tuple[str, ...], host: str, trace_file: str | None, as_json: bool) -> None:
    """Run the bundled local 5G Message network on loopback and print its addresses.

    Runs until Ctrl-C (or SIGTERM), then stops cleanly and exits 0. While it runs, other
    commands find it through lab.json in the rcs-terminal home.
    """
    import asyncio
    import json
    import os
    import signal

    from rcs_terminal.engine.labinfo import LabInfo
    from rcs_terminal.engine.trace import TraceRecorder
    from rcs_terminal.lab.lab import Lab
    from rcs_terminal.lab.subscribers import default_directory

    running = LabInfo.load()
    if running is not None:
        raise NetworkError(
            f"a lab is already running at {running.http_url}",
            hint="Stop it first (Ctrl-C in its terminal), or use it.",
        )
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)

    def show(network: Lab) -> None:
        info = network.info
        if network.registrar_problem:
            click.echo(f"warning: {network.registrar_problem}", err=True)
        if as_json:
            click.echo(json.dumps(info.to_json(pid=os.getpid())), nl=True)
            sys.stdout.flush()
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title="rcs-terminal lab (Ctrl-C stops it)", title_justify="left")
        table.add_column("Service", style="bold")
        table.add_column("Address")
        table.add_row("RCC.14 step 1 (HTTP)", info.http_url)
        table.add_row("RCC.14 step 2 (HTTPS)", info.https_url)
        table.add_row("Lab CA", info.ca_file or "-")
        table.add_row("SMS centre", info.smsc_url)
        table.add_row("SIP registrar UDP", info.sip_udp or "-")
        table.add_row("SIP registrar TCP", info.sip_tcp or "-")
        table.add_row("Lab names", ", ".join(info.names))
        table.add_row("Home domains", "\n".join(info.domains))
        table.add_row("Subscribers", str(len(network.directory)))
        Console().print(table)
        sys.stdout.flush()

    async def serve() -> None:
        network = Lab(directory=default_directory(profiles), host=host, trace=trace)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            info = await network.start()
            info.save()
            try:
                show(network)
                await stop.wait()
            finally:
                info.remove()
        finally:
            await network.stop()
            trace.close()

    asyncio.run(serve())
