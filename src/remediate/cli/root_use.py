"""``remediate root-use``: its options, and the call to remediate.commands.root_use.

No ``from __future__ import annotations`` here or in the other command modules of the CLI: typer
would evaluate every annotation string when it builds the commands, which `remediate --help`
would pay for."""

from typing import TYPE_CHECKING, cast

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.cli.groups import aws_options, remediation_flags
from remediate.cli.state import prompter
from remediate.core import limits

if TYPE_CHECKING:
    from remediate.commands.request import AwsChoice, RemediationFlags

EXIT_CODES = (
    "Exit codes: 0 root not in use, or a remediation completed; 1 root in use (detection "
    "only), or with --fail-on hygiene a hygiene finding; 2 invalid input, nothing was changed; "
    "3 root use could not be determined, AWS failed, or a step failed (a rerun continues); 130 "
    "interrupted (Ctrl-C; the last line says what was changed)."
)

# What remediate.commands.detection takes: the outputs it prints (a findings format is root-use's
# whole path's), and the options (parameters of root_use below) it reads; any other given
# makes the run root-use's whole path (remediate.commands.root_use).
DETECTION_OUTPUTS = ("text", "json")
DETECTION_OPTIONS = frozenset({"days", "report_timeout", "fail_on", "output", "aws"})

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
    options = dict(locals())  # first: root-use's options as given
    if output.value in DETECTION_OUTPUTS and not beyond_detection(options):
        # Detection alone: a command module that loads only what detection uses (start-up).
        from remediate.commands.detection import detect_root_use, detection_request

        detection = detection_request(
            aws=aws,
            days=days,
            report_timeout=report_timeout,
            output=output.value,
            fail_on=fail_on.value if fail_on is not None else None,
        )
        raise typer.Exit(detect_root_use(detection))
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


def beyond_detection(options: dict[str, object]) -> bool:
    """Whether any option of root-use but detection's was given: each is None, False or empty
    when not (--allow-plaintext-keyring, which may come from the environment, asks for nothing
    by itself). An option added to root-use counts here without being named."""
    for name, value in options.items():
        if name in DETECTION_OPTIONS:
            continue
        if name == "flags":
            if cast("RemediationFlags", value).any_given():
                return True
        elif not (value is None or value is False or value == []):
            return True
    return False


def register(app: typer.Typer) -> None:
    app.command(
        "root-use", epilog=EPILOG, short_help="Detect root use; with --create-admin, fix it."
    )(root_use)
