"""``remediate permissions``: the least-privilege IAM policy for a run (detection, a playbook's
steps scoped to its variables, the sweep's, CloudTrail's and Security Hub's needs), a playbook's
administrative steps' on their own, or the management account's for root-credentials."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from remediate.commands.request import playbook_variables
from remediate.core import limits, validate
from remediate.core.errors import EXIT_OK, InputError
from remediate.core.terminal import print_json, write_line
from remediate.playbook.permissions import (
    deny_root_policy,
    policy,
    root_credentials_policy,
    wildcard_warnings,
)
from remediate.playbook.watch_permissions import watch_policy


@dataclass(frozen=True)
class PermissionsRequest:
    """``remediate permissions``: the policy for detection and a playbook, scoped to the run
    described by ``variables`` in ``account`` (any account when ``None``) in ``partition``, and
    the sweep's needs; or the management account's needs for root-credentials."""

    playbook: str = "root-use"
    variables: Mapping[str, str] = field(default_factory=dict)
    account: str | None = None
    partition: str = "aws"
    detect_only: bool = False
    organization_role: str | None = None
    root_credentials: bool = False
    cloudtrail: bool = False
    security_hub: bool = False
    administrative: bool = False
    deny_root: bool = False
    # --watch: root-activity watch and status (--cis-alarm: with the CIS alarm).
    watch: bool = False
    cis_alarm: bool = False


def permissions_request(
    playbook: str = "root-use",
    *,
    variables: Sequence[str] = (),
    account: str | None = None,
    region: str | None = None,
    detect_only: bool = False,
    organization: bool = False,
    role_name: str | None = None,
    root_credentials: bool = False,
    cloudtrail: bool = False,
    security_hub: bool = False,
    administrative: bool = False,
    deny_root: bool = False,
    watch: bool = False,
    cis_alarm: bool = False,
) -> PermissionsRequest:
    """``permissions``' options: ``--var KEY=VALUE`` once per key, a 12-digit ``--account``, the
    partition of ``--region``, else of the region the AWS configuration gives (``aws`` without
    one). --root-credentials prints a policy of its own: it takes no other choice but the region.
    --administrative prints the playbook's administrative steps' alone: what detection, a sweep,
    CloudTrail and Security Hub need is the operator's."""
    # botocore's configuration: imported by this command only.
    from remediate.aws.loader import partition_of_region
    from remediate.aws.options import configured_region

    if root_credentials and (
        detect_only or organization or playbook != "root-use" or variables or account
    ):
        raise InputError(
            "--root-credentials prints the management account's policy for `remediate "
            "root-credentials`: it takes no PLAYBOOK, --var, --account, --detect-only or "
            "--organization"
        )
    if root_credentials and (cloudtrail or security_hub):
        raise InputError(
            "--cloudtrail and --security-hub add to root-use's policy: `remediate "
            "root-credentials` needs neither"
        )
    if administrative and (
        root_credentials or detect_only or organization or cloudtrail or security_hub
    ):
        raise InputError(
            "--administrative prints what a playbook's administrative steps need, and nothing "
            "else: it takes no --root-credentials, --detect-only, --organization, --cloudtrail "
            "or --security-hub",
            tip="print the operator's policy with those options, and the administrator's on its "
            "own",
        )
    if deny_root and (
        watch
        or root_credentials
        or detect_only
        or organization
        or cloudtrail
        or security_hub
        or administrative
        or playbook != "root-use"
    ):
        raise InputError(
            "--deny-root prints the policy for `remediate root-credentials deny-root`: it takes "
            "no PLAYBOOK, --watch, --root-credentials, --detect-only, --organization, "
            "--cloudtrail, --security-hub or --administrative",
            tip="scope it with --account MANAGEMENT_ACCOUNT and --var targets=r-...,ou-...,ID",
        )
    _check_watch(
        playbook,
        watch=watch,
        cis_alarm=cis_alarm,
        other=root_credentials or detect_only or cloudtrail,
    )
    given = playbook_variables(variables)
    if deny_root and set(given) - {"targets"}:
        raise InputError(
            "--deny-root takes one --var: targets=r-...,ou-...,ACCOUNT (where the policy is "
            "attached)"
        )
    region = region or configured_region()
    # --security-hub scopes its statement to --account's default product, detection or not.
    if detect_only and (given or (account is not None and not security_hub)):
        raise InputError(
            "--detect-only prints no playbook statements: it takes no --var or --account"
        )
    return PermissionsRequest(
        playbook=playbook,
        variables=given,
        account=validate.account_id(account, "--account") if account is not None else None,
        partition=partition_of_region(region) if region else "aws",
        detect_only=detect_only,
        organization_role=(
            validate.role_name(role_name if role_name is not None else limits.DEFAULT_ROLE_NAME)
            if organization
            else None
        ),
        root_credentials=root_credentials,
        cloudtrail=cloudtrail,
        security_hub=security_hub,
        administrative=administrative,
        deny_root=deny_root,
        watch=watch,
        cis_alarm=cis_alarm,
    )


def _check_watch(playbook: str, *, watch: bool, cis_alarm: bool, other: bool) -> None:
    if cis_alarm and not watch:
        raise InputError("--cis-alarm adds to --watch's policy: give --watch too")
    if watch and (other or playbook != "root-use"):
        raise InputError(
            "--watch prints what `remediate root-activity watch` and `status` need: it takes "
            "no PLAYBOOK, --root-credentials, --detect-only or --cloudtrail",
            tip="`remediate permissions root-activity-watch` prints the playbook's alone",
        )


def permissions(request: PermissionsRequest) -> int:
    """Print the least-privilege IAM policy (JSON): detection and a playbook's steps (and the
    sweep's needs), its administrative steps' on their own, or what the management account
    needs for root-credentials. A name given as ``*`` is warned about on standard error."""
    if request.root_credentials:
        print_json(root_credentials_policy(request.partition))
        return EXIT_OK
    if request.deny_root:
        print_json(
            deny_root_policy(
                targets=request.variables.get("targets", ""),
                account=request.account,
                partition=request.partition,
            )
        )
        return EXIT_OK
    if request.watch:
        print_json(
            watch_policy(
                cis_alarm=request.cis_alarm,
                variables=request.variables,
                account=request.account,
                partition=request.partition,
                security_hub=request.security_hub,
                organization_role=request.organization_role,
                administrative=request.administrative,
            )
        )
        return EXIT_OK
    document = policy(
        request.playbook,
        variables=request.variables,
        account=request.account,
        partition=request.partition,
        detect_only=request.detect_only,
        organization_role=request.organization_role,
        cloudtrail=request.cloudtrail,
        security_hub=request.security_hub,
        administrative=request.administrative,
    )
    for warning in wildcard_warnings(document, request.variables):
        write_line(f"Warning: {warning}.", sys.stderr)
    print_json(document)
    return EXIT_OK
