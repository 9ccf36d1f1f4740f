"""``remediate root-credentials audit``, ``centralize``, ``delete`` and ``deny-root``: their
options, and the calls to remediate.commands.root_credentials."""

from typing import TYPE_CHECKING, Annotated

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.cli.groups import aws_options
from remediate.cli.state import prompter

if TYPE_CHECKING:
    from remediate.commands.request import AwsChoice

app = typer.Typer(
    help="Put root away across an AWS Organization: centralize root access, audit and delete "
    "member accounts' root credentials, deny their root user (from the management account).",
    short_help="Put root away across an AWS Organization.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

AUDIT_EXIT_CODES = (
    "Exit codes: 0 no member account's root user holds credentials; 1 some root user holds "
    "credentials; 2 invalid input; 3 AWS failed, or an account could not be audited; 130 "
    "interrupted (Ctrl-C)."
)
CENTRALIZE_EXIT_CODES = (
    "Exit codes: 0 centralized root access is on (or nothing needed changing); 2 invalid input "
    "or not the management account, nothing was changed; 3 AWS failed (a rerun continues); 130 "
    "interrupted (Ctrl-C; the last line says what was changed)."
)
DELETE_EXIT_CODES = (
    "Exit codes: 0 done in every account (or nothing to delete); 2 invalid input, nothing was "
    "changed; 3 AWS failed in an account (a rerun continues); 130 interrupted (Ctrl-C; the last "
    "line says what was changed)."
)


@app.command(
    "audit",
    epilog=helptext.epilog(
        AUDIT_EXIT_CODES,
        ("Every member account, from the management account", "remediate root-credentials audit"),
        (
            "One account, for a program",
            "remediate root-credentials audit --accounts 111122223333 -o json",
        ),
    ),
    short_help="Show which member accounts' root users hold credentials.",
)
@aws_options
def root_credentials_audit(
    *,
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    concurrency: o.Concurrency = None,
    output: o.OutputFormat = o.Output.text,
    aws: "AwsChoice",
) -> None:
    """Which member accounts' root users hold a password, access keys, signing certificates or
    MFA devices (through sts:AssumeRoot with IAMAuditRootUserCredentials); every member account
    unless --accounts names some. Changes nothing."""
    from remediate.commands import root_credentials as commands

    request = commands.root_credentials_request(
        "audit",
        aws=aws,
        all_accounts=all_accounts,
        accounts=accounts,
        concurrency=concurrency,
        output=output.value,
    )
    raise typer.Exit(commands.root_credentials_audit(request))


@app.command(
    "centralize",
    epilog=helptext.epilog(
        CENTRALIZE_EXIT_CODES,
        (
            "What it would turn on: no write call is made",
            "remediate root-credentials centralize --dry-run",
        ),
        ("Turn it on without asking", "remediate root-credentials centralize --yes"),
    ),
    short_help="Enable centralized root access for the organization.",
)
@aws_options
def root_credentials_centralize(
    *,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    output: o.OutputFormat = o.Output.text,
    aws: "AwsChoice",
) -> None:
    """Enable centralized root access, from the management account: trusted access for IAM in
    Organizations, root credentials management, root sessions; each only if it is off."""
    from remediate.commands import root_credentials as commands
    from remediate.commands.remediation_request import playbook_run_request
    from remediate.commands.request import RemediationFlags

    request = playbook_run_request(
        "root-credentials-centralize",
        aws=aws,
        flags=RemediationFlags(dry_run=dry_run, yes=yes, lock_timeout=lock_timeout),
        output=output.value,
    )
    raise typer.Exit(commands.root_credentials_centralize(request, prompter()))


@app.command(
    "delete",
    epilog=helptext.epilog(
        DELETE_EXIT_CODES,
        (
            "Plan it for one member account: no write call is made",
            "remediate root-credentials delete --accounts 111122223333 --dry-run",
        ),
        (
            "Every member account whose root user holds credentials",
            "remediate root-credentials delete --all-accounts",
        ),
    ),
    short_help="Delete member accounts' root credentials.",
)
@aws_options
def root_credentials_delete(
    *,
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    concurrency: o.Concurrency = None,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    output: o.OutputFormat = o.Output.text,
    aws: "AwsChoice",
) -> None:
    """Delete member accounts' root credentials: signing certificates, access keys, the console
    password, then deactivate MFA devices (through sts:AssumeRoot with
    IAMDeleteRootUserCredentials). Plans every account, asks once. Never the management account:
    AssumeRoot cannot target it."""
    from remediate.commands import root_credentials as commands

    request = commands.root_credentials_request(
        "delete",
        aws=aws,
        all_accounts=all_accounts,
        accounts=accounts,
        concurrency=concurrency,
        output=output.value,
        dry_run=dry_run,
        yes=yes,
        lock_timeout=lock_timeout,
    )
    raise typer.Exit(commands.root_credentials_delete(request, prompter()))


DENY_ROOT_EXIT_CODES = (
    "Exit codes: 0 the policy is attached (or nothing needed changing); 2 invalid input, a bad "
    "target, or a policy of that name with another document: nothing was changed; 3 AWS failed "
    "or refused (not the management account or a delegated administrator for Organizations "
    "policies; a rerun continues); 130 interrupted (Ctrl-C; the last line says what was "
    "changed)."
)


@app.command(
    "deny-root",
    epilog=helptext.epilog(
        DENY_ROOT_EXIT_CODES,
        (
            "The policy and where it goes: no write call is made",
            "remediate root-credentials deny-root --dry-run",
        ),
        ("Attach it to the organization's root", "remediate root-credentials deny-root --yes"),
        (
            "Only to one organizational unit",
            "remediate root-credentials deny-root --target ou-ab12-cdef3456 --yes",
        ),
    ),
    short_help="Deny member accounts' root user with a service control policy.",
)
@aws_options
def root_credentials_deny_root(
    *,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            metavar="r-...|ou-...|ACCOUNT",
            help="Attach the policy here: a root, an OU or a member account id (repeatable) "
            "[default: the organization's root].",
        ),
    ] = None,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    output: o.OutputFormat = o.Output.text,
    aws: "AwsChoice",
) -> None:
    """Deny the root user of member accounts, from the management account: enable service
    control policies in the root if they are off, create the SCP RemediateDenyRootUser (every
    action denied to root, except sts:AssumeRoot sessions, so `root-credentials delete` keeps
    working) and attach it to the root or each --target. SCPs never apply to the management
    account: watch its root user with `remediate root-activity watch`."""
    from remediate.commands import root_credentials as commands
    from remediate.commands.request import RemediationFlags

    request = commands.deny_root_request(
        target or (),
        aws=aws,
        flags=RemediationFlags(dry_run=dry_run, yes=yes, lock_timeout=lock_timeout),
        output=output.value,
    )
    raise typer.Exit(commands.root_credentials_deny_root(request, prompter()))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="root-credentials")
