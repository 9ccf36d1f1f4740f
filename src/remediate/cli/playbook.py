"""``remediate playbook list``, ``show`` and ``run``: their options, and the calls to
remediate.commands.playbook."""

from typing import TYPE_CHECKING, Annotated

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.cli.groups import aws_options, remediation_flags
from remediate.cli.state import prompter

if TYPE_CHECKING:
    from remediate.commands.request import AwsChoice, RemediationFlags

RUN_EXIT_CODES = (
    "Exit codes: 0 the playbook completed, or had nothing to change; 2 invalid input, nothing "
    "was changed; 3 AWS failed, or a step failed (a rerun continues); 130 interrupted (Ctrl-C; "
    "the last line says what was changed)."
)
Name = Annotated[str, typer.Argument(metavar="NAME|PATH", help="A shipped name or a file.")]

app = typer.Typer(
    help="List, show and run playbooks.",
    short_help="List, show and run playbooks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command(
    "list",
    epilog=helptext.epilog(
        o.READ_EXIT_CODES,
        ("The shipped playbooks", "remediate playbook list"),
        ("The same, for a program", "remediate playbook list --output json"),
    ),
)
def playbook_list(output: o.OutputFormat = o.Output.text) -> None:
    """List the shipped playbooks."""
    from remediate.commands.playbook import playbook_list as run_list

    raise typer.Exit(run_list(output.value))


@app.command(
    "show",
    epilog=helptext.epilog(
        o.READ_EXIT_CODES,
        ("The steps root-use --create-admin runs", "remediate playbook show root-use"),
        ("Check a playbook of your own", "remediate playbook show ./my-playbook.yaml"),
    ),
)
def playbook_show(name: Name) -> None:
    """Print a playbook (after validating it)."""
    from remediate.commands.playbook import playbook_show as run_show

    raise typer.Exit(run_show(name))


@app.command(
    "run",
    epilog=helptext.epilog(
        RUN_EXIT_CODES,
        (
            "Plan the root-use playbook for alice: no write call is made",
            "remediate playbook run root-use --var user=alice --dry-run",
        ),
        (
            "Onboard bob into the Dev group, on the built-in emulator",
            "remediate playbook run onboard-user --var user=bob --var group=Dev --sandbox",
        ),
        (
            "Run a playbook of your own without asking",
            "remediate playbook run ./my-playbook.yaml --yes",
        ),
    ),
)
@aws_options
@remediation_flags
def playbook_run(
    name: Name,
    *,
    var: o.Variables = None,
    tag: o.Tags = None,
    flags: "RemediationFlags",
    output: o.OutputFormat = o.Output.text,
    aws: "AwsChoice",
) -> None:
    """Run a playbook: plan, confirm, apply. Rerunning changes nothing."""
    from remediate.commands.playbook import playbook_run as run_playbook
    from remediate.commands.remediation_request import playbook_run_request

    request = playbook_run_request(
        name, aws=aws, variables=var or (), tags=tag or (), flags=flags, output=output.value
    )
    raise typer.Exit(run_playbook(request, prompter()))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="playbook")
