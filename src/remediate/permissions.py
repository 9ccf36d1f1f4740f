"""The least-privilege IAM policy for detection and a playbook, scoped to the resources the
playbook touches, from what each step declares (remediate.steps.base.Step.grants)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from remediate.steps.base import ANY_RESOURCE, Arns

if TYPE_CHECKING:
    from remediate.steps.base import Grant

# sts:GetCallerIdentity needs no permission, so it is not listed. IAM scopes none of these to a
# resource. GetAccountSummary is asked only when the report shows root MFA not active (does root
# still have a password for MFA to guard?).
DETECTION_ACTIONS = (
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:GetAccountSummary",
)

# Statement names by the resource type of their ARNs (arn:...:iam::ACCOUNT:TYPE/NAME).
_SID_BY_TYPE = {"user": "Users", "group": "Groups", "mfa": "MfaDevices", "policy": "Policies"}


def playbook_grants(
    playbook_ref: str, variables: Mapping[str, str], arns: Arns
) -> tuple[str, list[Grant]]:
    """The playbook's name, and what each step a run with these ``--var`` values may take needs
    (remediate.playbook.model.policy_steps: a required variable not given is any name). Steps
    that act as the root user need nothing of the operator: root's own credentials, or an
    sts:AssumeRoot task session whose permissions are its AWS task policy."""
    from remediate.errors import InputError
    from remediate.playbook.model import load_playbook, policy_steps

    book = load_playbook(playbook_ref)
    steps = [step for step in policy_steps(book, variables) if not step.acts_as_root]
    if not steps:
        raise InputError(
            f"every step of {book.name} acts as the root user (in an sts:AssumeRoot task "
            "session): the operator needs no IAM action for them",
            tip="`remediate permissions --root-credentials` prints what the management "
            "account needs to open those sessions",
        )
    return book.name, [grant for step in steps for grant in step.grants(arns)]


def statements(grants: Sequence[Grant], sid_prefix: str) -> list[dict[str, Any]]:
    """Grants merged into policy statements: one per set of resources and condition, unscoped
    actions first. An action that several steps need on different resources gets them all."""
    by_action: dict[tuple[str, str], set[str]] = {}
    conditions: dict[str, Mapping[str, Any]] = {}
    for grant in grants:
        key = json.dumps(grant.condition, sort_keys=True) if grant.condition else ""
        if grant.condition:
            conditions[key] = grant.condition
        for action in grant.actions:
            by_action.setdefault((action, key), set()).update(grant.resources)
    merged: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for (action, key), resources in by_action.items():
        scope = (ANY_RESOURCE,) if ANY_RESOURCE in resources else tuple(sorted(resources))
        merged.setdefault((scope, key), []).append(action)
    result: list[dict[str, Any]] = []
    sids: set[str] = set()
    for (scope, key), actions in sorted(merged.items(), key=_statement_order):
        sid = _sid(sid_prefix, scope, bool(key), sids)
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": ANY_RESOURCE if scope == (ANY_RESOURCE,) else list(scope),
        }
        if key:
            statement["Condition"] = json.loads(json.dumps(conditions[key]))
        result.append(statement)
    return result


def _statement_order(item: tuple[tuple[tuple[str, ...], str], list[str]]) -> tuple[Any, ...]:
    (scope, key), _ = item
    return (scope != (ANY_RESOURCE,), _resource_type(scope[0]), scope, key)


def _resource_type(arn: str) -> str:
    """``user`` for ``arn:aws:iam::123456789012:user/alice``; ``""`` for ``*``."""
    return arn.split(":", 5)[-1].split("/", 1)[0] if arn.startswith("arn:") else ""


def _sid(prefix: str, scope: tuple[str, ...], conditioned: bool, taken: set[str]) -> str:
    if scope == (ANY_RESOURCE,):
        base = prefix + "AnyResource"
    else:
        kind = _resource_type(scope[0])
        base = prefix + _SID_BY_TYPE.get(kind, kind.capitalize() + "s")
        if conditioned:
            base += "WithCondition"
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}{n}", n + 1
    taken.add(sid)
    return sid


def policy(
    playbook_ref: str,
    *,
    variables: Mapping[str, str] | None = None,
    account: str | None = None,
    partition: str = "aws",
    detect_only: bool = False,
    organization_role: str | None = None,
    cloudtrail: bool = False,
    security_hub: bool = False,
) -> dict[str, Any]:
    """An IAM policy document: detection, plus (unless ``detect_only``) the playbook's actions
    on the resources a run with ``variables`` touches in ``account`` (any account when
    ``None``), plus (with ``organization_role``) listing the organization's accounts and
    assuming that role in each; the role in each member account needs the rest of this policy.
    ``cloudtrail`` and ``security_hub`` add what those options of root-use need."""
    document: list[dict[str, Any]] = [
        {
            "Sid": "DetectRootUse",
            "Effect": "Allow",
            "Action": list(DETECTION_ACTIONS),
            "Resource": ANY_RESOURCE,
        }
    ]
    if not detect_only:
        arns = Arns(partition, account or "*")
        name, grants = playbook_grants(playbook_ref, variables or {}, arns)
        prefix = "Playbook" + "".join(word.capitalize() for word in name.split("-"))
        document.extend(statements(grants, prefix))
    if cloudtrail:
        document.extend(cloudtrail_statements())
    if security_hub:
        document.extend(security_hub_statements(account, partition, resolve=not detect_only))
    if organization_role is not None:
        document.extend(organization_statements(organization_role, partition))
    return {"Version": "2012-10-17", "Statement": document}


def cloudtrail_statements() -> list[dict[str, Any]]:
    """--cloudtrail: look root's events up in the event history (LookupEvents takes no resource),
    and, for --cloudtrail-regions all, list the account's enabled regions."""
    return [
        {
            "Sid": "LookUpRootActivity",
            "Effect": "Allow",
            "Action": ["cloudtrail:LookupEvents"],
            "Resource": ANY_RESOURCE,
        },
        {
            "Sid": "ListEnabledRegions",
            "Effect": "Allow",
            "Action": ["ec2:DescribeRegions"],
            "Resource": ANY_RESOURCE,
        },
    ]


def security_hub_statements(
    account: str | None, partition: str = "aws", *, resolve: bool = True
) -> list[dict[str, Any]]:
    """--security-hub: import findings as the account's default product (in any region), the
    only product an account may import its own findings as; and, unless detection only
    (``resolve`` false: it closes nothing), mark those a remediation closed RESOLVED, which the
    Service Authorization Reference scopes to the account's hub."""
    who = account or "*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ImportFindingsToSecurityHub",
            "Effect": "Allow",
            "Action": ["securityhub:BatchImportFindings"],
            "Resource": f"arn:{partition}:securityhub:*:{who}:product/{who}/default",
        }
    ]
    if resolve:
        statements.append(
            {
                "Sid": "ResolveFindingsInSecurityHub",
                "Effect": "Allow",
                "Action": ["securityhub:BatchUpdateFindings"],
                "Resource": f"arn:{partition}:securityhub:*:{who}:hub/default",
            }
        )
    return statements


def organization_statements(role: str, partition: str = "aws") -> list[dict[str, Any]]:
    """What a sweep needs in the account it runs from, besides detection's own actions (which the
    role in each member account needs too): list the accounts, assume the role in each."""
    return [
        {
            "Sid": "ListOrganizationAccounts",
            "Effect": "Allow",
            "Action": ["organizations:ListAccounts"],
            "Resource": ANY_RESOURCE,
        },
        {
            "Sid": "AssumeMemberAccountRole",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": f"arn:{partition}:iam::*:role/{role}",
        },
    ]


CENTRALIZE_PLAYBOOK = "root-credentials-centralize"
# What audit and delete read besides the centralize playbook's own reads: the member accounts,
# and (from a member account) whether it is the delegated administrator for IAM.
ROOT_CREDENTIALS_READS = ("organizations:ListAccounts", "organizations:ListDelegatedAdministrators")
_TRUST = "organizations:EnableAWSServiceAccess"


def root_credentials_policy(partition: str = "aws") -> dict[str, Any]:
    """What the management account needs for `root-credentials centralize`, `audit` and
    `delete` (the delegated administrator for IAM: audit and delete): read the organization,
    let it trust IAM (and nothing else), enable the two features, and open root task sessions
    with the audit and delete task policies only.

    In member accounts nothing is needed: a task session's permissions are its AWS task policy.
    """
    from remediate.root_credentials import (
        AUDIT_TASK,
        DELETE_TASK,
        IAM_SERVICE_PRINCIPAL,
        task_policy_arn,
    )

    _, grants = playbook_grants(CENTRALIZE_PLAYBOOK, {}, Arns(partition))
    actions = sorted({action for grant in grants for action in grant.actions})
    reads = sorted(
        {a for a in actions if a.split(":", 1)[1].startswith(("Describe", "List", "Get"))}
        | set(ROOT_CREDENTIALS_READS)
    )
    enables = sorted(a for a in actions if a not in reads and a != _TRUST)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOrganizationRootAccess",
                "Effect": "Allow",
                "Action": reads,
                "Resource": "*",
            },
            {
                "Sid": "TrustIamInOrganizations",
                "Effect": "Allow",
                "Action": [_TRUST],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"organizations:ServicePrincipal": IAM_SERVICE_PRINCIPAL}
                },
            },
            {
                "Sid": "CentralizeRootAccess",
                "Effect": "Allow",
                "Action": enables,
                "Resource": "*",
            },
            {
                "Sid": "AssumeRootForRootCredentialTasks",
                "Effect": "Allow",
                "Action": ["sts:AssumeRoot"],
                "Resource": f"arn:{partition}:iam::*:root",
                "Condition": {
                    "ArnEquals": {
                        "sts:TaskPolicyArn": [
                            task_policy_arn(AUDIT_TASK, partition),
                            task_policy_arn(DELETE_TASK, partition),
                        ]
                    }
                },
            },
        ],
    }
