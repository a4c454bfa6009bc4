"""The ``rcs-terminal`` command line.

The root group only wires commands; each command imports its machinery lazily inside its
body, so that ``rcs-terminal --help`` stays fast and the headless commands never import
Textual. Errors from the project's hierarchy are shown in one place (:func:`_fail`) as a
panel on stderr, and map to the documented :class:`~rcs_terminal.exit_codes.ExitCode`."""

from __future__ import annotations

import click

from rcs_terminal import __version__
from rcs_terminal.commands import frontends, lab, messaging, payloads, profiles, provision, register
from rcs_terminal.commands.common import exit_code_for, handles_errors, not_built

__all__ = ["cli", "exit_code_for", "handles_errors", "main", "not_built"]


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
        ctx.invoke(frontends.tui)


cli.add_command(frontends.tui)
cli.add_command(frontends.demo)
cli.add_command(frontends.run)
cli.add_command(lab.lab)
cli.add_command(provision.provision)
cli.add_command(register.register)
cli.add_command(register.options)
cli.add_command(messaging.send)
cli.add_command(messaging.listen)
cli.add_command(payloads.render)
cli.add_command(payloads.lint)
cli.add_command(profiles.profile)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rcs-terminal")
