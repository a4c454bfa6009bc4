"""The ``rcs-terminal`` command line.

The root group only wires commands; each command imports its machinery lazily inside its
body, so that ``rcs-terminal --help`` stays fast and the headless commands never import
Textual. Errors from the project's hierarchy are shown in one place (:func:`_fail`) as a
panel on stderr, and map to the documented :class:`~rcs_terminal.exit_codes.ExitCode`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from rcs_terminal import __version__
from rcs_terminal.errors import (
    NetworkError,
    NotBuiltError,
    ParseError,
    ProfileError,
    RcsTerminalError,
    ScenarioError,
)
from rcs_terminal.exit_codes import ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def exit_code_for(error: RcsTerminalError) -> ExitCode:
    """Map an error of the project's hierarchy to the exit-code contract."""
    if isinstance(error, NotBuiltError):
        return ExitCode.NOT_BUILT
    if isinstance(error, ProfileError | ScenarioError | ParseError):
        return ExitCode.INVALID_INPUT
    if isinstance(error, NetworkError):
        return ExitCode.INFRASTRUCTURE
    return ExitCode.FAILED


def _fail(error: RcsTerminalError) -> NoReturn:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    body = Text(error.message)
    if error.hint:
        body.append("\n\n")
        body.append(error.hint, style="dim")
    Console(stderr=True).print(Panel(body, title=error.title, title_align="left", style="red"))
    sys.exit(int(exit_code_for(error)))


def handles_errors(func: F) -> F:
    """Decorate a command so project errors and Ctrl-C end with the contract's exit code."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RcsTerminalError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


def not_built(command: str, issue: str) -> NoReturn:
    """Refuse a command of the contract that is not implemented yet (no fake output)."""
    raise NotBuiltError(
        f"`rcs-terminal {command}` is not implemented in version {__version__}.",
        hint=f"It is planned ({issue}). Nothing was done.",
    )


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="rcs-terminal")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """A terminal-side 5G Message (GSMA RCS UP 2.4) handset emulator.

    \b
    Front ends:   tui, demo, run
    Network:      lab, provision, register, options, send, listen
    Payloads:     render, lint
    Profiles:     profile validate | list | show | schema
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui)


# ----------------------------------------------------------------------------- front ends


@cli.command()
@click.option("--profile", "-p", help="Profile name or path.")
@handles_errors
def tui(profile: str | None) -> None:
    """Open the handset's messaging app in the terminal."""
    not_built("tui", "issue: Textual TUI")


@cli.command()
@handles_errors
def demo() -> None:
    """Start the bundled lab on loopback and the TUI with the dual-SIM demo profile."""
    not_built("demo", "issue: Textual TUI and lab chatbots")


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--junit", type=click.Path(dir_okay=False), help="Write a JUnit XML report.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write a JSON report.")
@handles_errors
def run(paths: tuple[str, ...], junit: str | None, json_out: str | None) -> None:
    """Run scripted conformance scenarios; the exit code is the verdict."""
    not_built("run", "issue: scripted conformance runs")


# ----------------------------------------------------------------------------- network


@cli.command()
@handles_errors
def lab() -> None:
    """Run the bundled local 5G Message network on loopback and print its addresses."""
    not_built("lab", "issue: lab config server and registrar")


@cli.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@handles_errors
def provision(profile: str) -> None:
    """Provision the profile's SIMs over RCC.14 (HTTP/HTTPS)."""
    not_built("provision", "issue: profiles and RCC.14 provisioning")


@cli.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@handles_errors
def register(profile: str) -> None:
    """Register the profile's SIMs with the IMS core."""
    not_built("register", "issue: IMS registration and capability exchange")


@cli.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.argument("target")
@handles_errors
def options(profile: str, target: str) -> None:
    """Query a peer's capabilities with SIP OPTIONS."""
    not_built("options", "issue: IMS registration and capability exchange")


@cli.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.argument("target")
@click.argument("text", required=False)
@handles_errors
def send(profile: str, target: str, text: str | None) -> None:
    """Send a message to a person or a chatbot."""
    not_built("send", "issue: messaging and chatbots")


@cli.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@handles_errors
def listen(profile: str) -> None:
    """Register and print incoming messages as JSON lines."""
    not_built("listen", "issue: messaging and chatbots")


# ----------------------------------------------------------------------------- payloads


@cli.command()
@click.argument("file")
@handles_errors
def render(file: str) -> None:
    """Draw a chatbot payload (card, carousel, chips, menu) without a network."""
    not_built("render", "issue: card rendering")


@cli.command()
@click.argument("files", nargs=-1, required=True)
@handles_errors
def lint(files: tuple[str, ...]) -> None:
    """Check chatbot payloads against the UP schema and operator limits."""
    not_built("lint", "issue: payload linter")


# ----------------------------------------------------------------------------- profiles


@cli.group()
def profile() -> None:
    """Check, list and show device profiles, and print their JSON Schema."""


@profile.command("validate")
@click.argument("files", nargs=-1, required=True)
@handles_errors
def profile_validate(files: tuple[str, ...]) -> None:
    """Validate profile files (or built-in profile names).

    Prints one block per file with every error found; unset env: variables are warnings.
    Exits 0 when all files are valid, 1 otherwise.
    """
    from rcs_terminal.domain.profile import check_profile

    failed = False
    for index, file in enumerate(files):
        check = check_profile(file, resolve_env=False)
        if index:
            click.echo()
        if check.ok:
            count = len(check.warnings)
            note = f" ({count} warning{'s' if count != 1 else ''})" if count else ""
            click.echo(f"{check.file}: valid{note}")
        else:
            failed = True
            count = len(check.errors)
            click.echo(f"{check.file}: invalid, {count} error{'s' if count != 1 else ''}")
            for issue in check.errors:
                click.echo(f"  error: {issue}")
        for warning in check.warnings:
            click.echo(f"  warning: {warning}")
    sys.exit(int(ExitCode.FAILED if failed else ExitCode.OK))


@profile.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handles_errors
def profile_list(as_json: bool) -> None:
    """List the built-in profiles: handset, SIMs with their operators and auth schemes."""
    import json

    from rcs_terminal.domain.profile import builtin_profiles

    summaries = builtin_profiles()
    if as_json:
        data = [summary.to_json() for summary in summaries]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    wide = console.width >= 120
    table = Table(title="Built-in profiles", title_justify="left")
    table.add_column("Name", style="bold", no_wrap=True)
    table.add_column("Handset")
    table.add_column("SIMs (slot, operator, MCC-MNC, auth)")
    if wide:
        table.add_column("Description")
    for summary in summaries:
        sims = "\n".join(
            f"{sim.slot}: {sim.operator} {sim.mcc}-{sim.mnc} {sim.auth}"
            + ("" if sim.enabled else " (off)")
            for sim in summary.sims
        )
        row = [summary.name, summary.handset, sims]
        if wide:
            row.append(summary.description)
        table.add_row(*row)
    console.print(table)


@profile.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@click.option("--derived", is_flag=True, help="Also show the identities derived from it.")
@handles_errors
def profile_show(name: str, as_json: bool, derived: bool) -> None:
    """Show a profile (built-in name or path) with its secrets masked."""
    import json

    import yaml

    from rcs_terminal.domain.profile import derived_identities, dump_profile, load_profile

    loaded = load_profile(name, resolve_env=False)
    if as_json:
        data: dict[str, object] = loaded.model_dump(mode="json", exclude_none=True)
        if derived:
            data = {"profile": data, "derived": derived_identities(loaded)}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(dump_profile(loaded), nl=False)
    if derived:
        click.echo("---\n# derived from the profile (not part of it)")
        text = yaml.safe_dump(
            derived_identities(loaded), sort_keys=False, allow_unicode=True, width=100
        )
        click.echo(text, nl=False)


@profile.command("schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the schema to FILE.")
@handles_errors
def profile_schema(output: str | None) -> None:
    """Print the JSON Schema of profiles (for editor completion and validation)."""
    import json

    from rcs_terminal.domain.profile import profile_json_schema

    text = json.dumps(profile_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror) from None
    click.echo(f"wrote {output}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rcs-terminal")
