"""``remediate permissions``: its options, and the call to remediate.commands.permissions."""

from typing import Annotated

import typer

import remediate.cli.options as o
from remediate.cli import helptext


def permissions(
    playbook: Annotated[
        str, typer.Argument(metavar="[PLAYBOOK]", help="A shipped playbook name or a file.")
    ] = "root-use",
    var: o.Variables = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account", metavar="ID", help="Scope to this account [default: any account]."
        ),
    ] = None,
    region: o.Region = None,
    detect_only: Annotated[
        bool, typer.Option("--detect-only", help="Only what detection needs.")
    ] = False,
    organization: Annotated[
        bool,
        typer.Option(
            "--organization",
            help="Add what --all-accounts needs where it runs: list accounts, assume the role.",
        ),
    ] = False,
    role_name: o.RoleName = None,
    root_credentials: Annotated[
        bool,
        typer.Option(
            "--root-credentials",
            help="Instead: what the management account needs for `remediate root-credentials` "
            "(Organizations, IAM's organization features, sts:AssumeRoot with the task policies).",
        ),
    ] = False,
    cloudtrail: Annotated[
        bool,
        typer.Option(
            "--cloudtrail",
            help="Add what root-use --cloudtrail needs: cloudtrail:LookupEvents, and "
            "ec2:DescribeRegions to list the enabled regions it reads by default.",
        ),
    ] = False,
    security_hub: Annotated[
        bool,
        typer.Option(
            "--security-hub",
            help="Add what root-use --security-hub needs: securityhub:BatchImportFindings as the "
            "account's default product, securityhub:GetFindings, and "
            "securityhub:BatchUpdateFindings of the workflow status (NEW, or RESOLVED after a "
            "remediation) and note only.",
        ),
    ] = False,
    administrative: Annotated[
        bool,
        typer.Option(
            "--administrative",
            help="Instead: what the playbook's administrative steps need (writing the "
            "self-service MFA policy), which the operator's policy never holds.",
        ),
    ] = False,
    deny_root: Annotated[
        bool,
        typer.Option(
            "--deny-root",
            help="Instead: what `remediate root-credentials deny-root` needs (service control "
            "policies: enable, create, attach to --var targets=r-...,ou-...,ID or the root); "
            "--account names the management account.",
        ),
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Instead of a playbook's: what `root-activity watch` and `status` need (the "
            "rules, topic and role a run names; iam:PassRole to EventBridge only).",
        ),
    ] = False,
    cis_alarm: Annotated[
        bool,
        typer.Option("--cis-alarm", help="With --watch: the CIS metric filter and alarm too."),
    ] = False,
) -> None:
    """Print the least-privilege IAM policy (JSON) for detection and a playbook's steps, scoped
    to the users, groups and MFA devices a run with these --var values touches: a required
    variable must be given (--var user='*' asks for any user, with a warning), and a step counts
    only when its `when` holds for the given values and the playbook's defaults."""
    from remediate.commands.permissions import permissions as run_permissions
    from remediate.commands.permissions import permissions_request

    request = permissions_request(
        playbook,
        variables=var or (),
        account=account,
        region=region,
        detect_only=detect_only,
        organization=organization,
        role_name=role_name,
        root_credentials=root_credentials,
        cloudtrail=cloudtrail,
        security_hub=security_hub,
        administrative=administrative,
        deny_root=deny_root,
        watch=watch,
        cis_alarm=cis_alarm,
    )
    raise typer.Exit(run_permissions(request))


def register(app: typer.Typer) -> None:
    app.command(
        "permissions",
        epilog=helptext.epilog(
            o.READ_EXIT_CODES,
            ("What root-use --create-admin alice needs", "remediate permissions --var user=alice"),
            ("Only what detection needs", "remediate permissions --detect-only"),
            (
                "Detection across the organization, with CloudTrail evidence",
                "remediate permissions --detect-only --organization --cloudtrail",
            ),
        ),
        short_help="Print the least-privilege IAM policy for a run.",
    )(permissions)
