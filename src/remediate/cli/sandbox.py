"""``remediate sandbox serve``: its options, and the call to remediate.commands.sandbox."""

from pathlib import Path
from typing import Annotated

import typer

from remediate.cli import helptext

app = typer.Typer(
    help="The built-in sandbox: a local AWS emulator (no account needed).",
    short_help="Run the built-in AWS emulator for other commands.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SANDBOX_EXIT_CODES = (
    "Exit codes: 0 stopped with Ctrl-C; 2 invalid input (a port in use, a --dir that is not "
    "empty, the sandbox extra not installed)."
)


@app.command(
    "serve",
    epilog=helptext.epilog(
        SANDBOX_EXIT_CODES,
        (
            "Serve until Ctrl-C; paste the lines it prints into another shell",
            "remediate sandbox serve",
        ),
        (
            "Keep its keyring and journal in a folder of your own",
            "remediate sandbox serve --dir ./sandbox --port 4566",
        ),
    ),
    short_help="Run the sandbox until Ctrl-C, for other commands.",
)
def sandbox_serve(
    port: Annotated[
        int | None,
        typer.Option("--port", help="Listen on this loopback port [default: a free one]."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="PATH",
            help="The sandbox's own directory, new or empty: its keyring file and journal "
            "[default: a new temporary one].",
        ),
    ] = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C, and print the lines that point other
    commands at it: its accounts and organization stay between commands, so resuming, reruns,
    secrets and the journal can be tried without an AWS account."""
    from remediate.commands.sandbox import sandbox_serve as serve
    from remediate.commands.sandbox import sandbox_serve_request

    raise typer.Exit(serve(sandbox_serve_request(port=port, directory=directory)))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sandbox")
