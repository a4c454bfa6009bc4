"""``rcs-terminal render`` and ``lint``: chatbot payloads without a network."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import handles_errors


@click.command()
@click.argument("file")
@click.option(
    "--width", "-w", type=click.IntRange(min=10), help="Columns (default: the terminal's, or 80)."
)
@click.option("--svg", metavar="OUT", type=click.Path(dir_okay=False), help="Also save an SVG.")
@click.option("--plain", is_flag=True, help="No colours or escapes; text labels for icons.")
@click.option(
    "--type",
    "content_type",
    metavar="T",
    help="FILE's content type, or botmessage|chips|menu|botinfo|fthttp|geopush|cpim|"
    "multipart|text (default: detected).",
)
@click.option("--full", is_flag=True, help="Show everything: no truncated descriptions or chips.")
@handles_errors
def render(
    file: str,
    width: int | None,
    svg: str | None,
    plain: bool,
    content_type: str | None,
    full: bool,
) -> None:
    """Draw a chatbot payload without a network.

    FILE is a botmessage (card or carousel), chip list, persistent menu or bot info JSON,
    an FT-HTTP or geolocation push XML, a multipart/mixed body or a whole CPIM message.
    Exits 2 when FILE cannot be read or is not a payload.
    """
    from rcs_terminal.errors import PayloadParseError
    from rcs_terminal.render.console import render_file

    try:
        render_file(file, width=width, plain=plain, full=full, content_type=content_type, svg=svg)
    except FileNotFoundError:
        raise PayloadParseError(f"no such file: {file}", title="Cannot render") from None
    except OSError as exc:
        raise PayloadParseError(
            f"cannot read {file} or write the SVG: {exc.strerror or exc}", title="Cannot render"
        ) from None
    if svg is not None:
        click.echo(f"wrote {svg}", err=True)


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--operator",
    type=click.Choice(["gsma", "cmcc", "cu", "ct"], case_sensitive=False),
    default="gsma",
    show_default=True,
    help="Whose limits apply.",
)
@click.option("--type", "content_type", metavar="T", help="The files' content type (see render).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one entry per file.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@handles_errors
def lint(
    files: tuple[str, ...], operator: str, content_type: str | None, as_json: bool, strict: bool
) -> None:
    """Check chatbot payloads against the UP schema and operator limits.

    Exits 0 when no file has errors (warnings are allowed unless --strict), 1 when one
    has, 2 when a file cannot be read or is not a payload.
    """
    from rcs_terminal.lint.report import exit_code, format_json, format_text, lint_file

    reports = [lint_file(f, operator=operator, content_type=content_type) for f in files]
    if as_json:
        click.echo(format_json(reports))
    else:
        for report in reports:
            click.echo(format_text(report), err=report.error is not None)
    sys.exit(int(exit_code(reports, strict=strict)))
