"""``rcs-terminal profile``: validate, list, show and export device profiles."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import handles_errors
from rcs_terminal.exit_codes import ExitCode


@click.group()
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
