"""``remediate root-use``: its options, and the call to remediate.commands.root_use.

No ``from __future__ import annotations`` here or in the other command modules of the CLI: typer
would evaluate every annotation string when it builds the commands, which `remediate --help`
would pay for."""

from typing import TYPE_CHECKING

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.cli.groups import aws_options, remediation_flags
from remediate.cli.state import prompter
from remediate.core import limits

if TYPE_CHECKING:
    from remediate.commands.remediation_request import RemediationFlags
    from remediate.commands.request import AwsChoice

EXIT_CODES = (
    "Exit codes: 0 root not in use, or a remediation completed; 1 root in use (detection "
    "only), or with --fail-on hygiene a hygiene finding; 2 invalid input, nothing was changed; "
    "3 root use could not be determined, AWS failed, or a step failed (a rerun continues); 130 "
    "interrupted (Ctrl-C; the last line says what was changed)."
)

EPILOG = helptext.epilog(
    EXIT_CODES,
    (
        "Is root in use in the account of profile prod? (exit 1 if it is)",
        "remediate root-use --profile prod",
    ),
    (
        "The fix for it, planned: no write call is made",
        "remediate root-use --create-admin alice --dry-run",
    ),
    (
        "Every account of the organization, for a program",
        "remediate root-use --all-accounts -o json",
    ),
    (
        "All of it on the built-in emulator, unattended",
        "remediate root-use --sandbox --create-admin alice --mfa-auto --yes",
    ),
)


@aws_options
@remediation_flags
def root_use(
    *,
    days: o.Days = limits.DEFAULT_DAYS,
    report_timeout: o.ReportTimeout = None,
    credential_report: o.CredentialReport = None,
    fail_on: o.FailOnOption = None,
    create_admin: o.CreateAdmin = None,
    flags: "RemediationFlags",
    group: o.Group = None,
    access: o.AccessKind = None,
    tag: o.Tags = None,
    no_mfa: o.NoMfa = False,
    delete_root_keys: o.DeleteRootKeys = False,
    output: o.RootUseOutputFormat = o.ROOT_USE_TEXT,
    aws: "AwsChoice",
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    role_name: o.RoleName = None,
    external_id: o.ExternalId = None,
    concurrency: o.Concurrency = None,
    every_account: o.EveryAccount = False,
    cloudtrail: o.CloudTrail = False,
    cloudtrail_regions: o.CloudTrailRegions = None,
    security_hub: o.SecurityHub = False,
    mfa_self_service: o.MfaSelfService = False,
    explain: o.Explain = None,
) -> None:
    """Detect use of the root user; with --create-admin NAME, also fix it: an administrators
    group with AdministratorAccess, and an IAM user in it with console and/or programmatic
    access and a virtual MFA device."""
    from remediate.commands.root_use import root_use as run_root_use
    from remediate.commands.root_use_request import root_use_request

    request = root_use_request(
        aws=aws,
        days=days,
        report_timeout=report_timeout,
        credential_report=credential_report,
        output=output.value,
        create_admin=create_admin,
        group=group,
        access=access.value if access is not None else None,
        tags=tag or (),
        no_mfa=no_mfa,
        flags=flags,
        all_accounts=all_accounts,
        accounts=accounts,
        role_name=role_name,
        external_id=external_id,
        concurrency=concurrency,
        every_account=every_account,
        fail_on=fail_on.value if fail_on is not None else None,
        delete_root_keys=delete_root_keys,
        cloudtrail=cloudtrail,
        cloudtrail_regions=cloudtrail_regions,
        security_hub=security_hub,
        mfa_self_service=mfa_self_service,
        explain=explain,
    )
    raise typer.Exit(run_root_use(request, prompter()))


def register(app: typer.Typer) -> None:
    app.command(
        "root-use", epilog=EPILOG, short_help="Detect root use; with --create-admin, fix it."
    )(root_use)
