"""The least-privilege IAM policy for detection and a playbook, scoped to the resources the
playbook touches, from what each step kind declares (remediate.steps.kind.Step.access)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from remediate.core.errors import InputError
from remediate.org.root_credentials import AUDIT_TASK, DELETE_TASK, IAM_SERVICE_PRINCIPAL
from remediate.org.root_sessions import task_policy_arn
from remediate.playbook.binding import policy_steps
from remediate.playbook.loading import load_playbook
from remediate.steps.access import ANY_RESOURCE, Arns, Condition, Grant
from remediate.steps.kind import AnyStep, registry


class Statement(TypedDict):
    """One statement of an IAM policy document, as printed."""

    Sid: str
    Effect: str
    Action: list[str]
    Resource: str | list[str]
    Condition: NotRequired[Mapping[str, Mapping[str, str | list[str]]]]


class PolicyDocument(TypedDict):
    """An IAM policy document, as printed."""

    Version: str
    Statement: list[Statement]


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
    playbook_ref: str, variables: Mapping[str, str], arns: Arns, *, administrative: bool = False
) -> tuple[str, list[Grant]]:
    """The playbook's name, and what each step a run with these ``--var`` values takes needs
    (remediate.playbook.model.policy_steps): the operator's steps, or with ``administrative``
    the administrator's. Steps that act as the root user need nothing of anybody's policy:
    root's own credentials, or an sts:AssumeRoot task session whose permissions are its AWS task
    policy."""
    book = load_playbook(playbook_ref)
    steps = policy_steps(book, variables, administrative=administrative)
    if not steps:
        kinds = [registry()[spec.kind] for spec in book.steps]
        raise _nothing_to_grant(book.name, kinds, administrative=administrative)
    return book.name, [grant for step in steps for grant in step.grants(arns)]


def _nothing_to_grant(
    name: str, kinds: Sequence[type[AnyStep]], *, administrative: bool
) -> InputError:
    if all(kind.acts_as_root for kind in kinds):
        return InputError(
            f"every step of {name} acts as the root user (in an sts:AssumeRoot task "
            "session): the operator needs no IAM action for them",
            tip="`remediate permissions --root-credentials` prints what the management "
            "account needs to open those sessions",
        )
    if administrative:
        return InputError(
            f"no step of {name} that such a run takes is administrative: the operator's "
            "policy is all it needs",
            tip=f"`remediate permissions {name}` without --administrative prints it",
        )
    if all(kind.administrative or kind.acts_as_root for kind in kinds):
        return InputError(
            f"every step of {name} is administrative: its policy is an administrator's",
            tip=f"`remediate permissions {name} --administrative` prints it",
        )
    return InputError(
        f"no step of {name} needs the operator's IAM actions in a run with these --var values",
        tip="check the --var values against `remediate playbook show " + name + "`",
    )


def statements(grants: Sequence[Grant], sid_prefix: str) -> list[Statement]:
    """Grants merged into policy statements: one per set of resources and condition, unscoped
    actions first. An action that several steps need on different resources gets them all."""
    by_action: dict[tuple[str, str], set[str]] = {}
    conditions: dict[str, Condition] = {}
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
    result: list[Statement] = []
    sids: set[str] = set()
    for (scope, key), actions in sorted(merged.items(), key=_statement_order):
        sid = _sid(sid_prefix, scope, bool(key), sids)
        statement: Statement = {
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
    """``user`` for ``arn:aws:iam::123456789012:user/alice``, ``rule`` for an EventBridge
    rule, ``log-group`` for a log group, ``topic`` for an SNS topic (whose ARN names no type);
    ``""`` for ``*``."""
    if not arn.startswith("arn:"):
        return ""
    parts = arn.split(":", 5)
    rest = parts[-1]
    if parts[2] == "sns" and "/" not in rest and ":" not in rest:
        return "topic"
    return re.split(r"[/:]", rest, maxsplit=1)[0]


def _sid(prefix: str, scope: tuple[str, ...], conditioned: bool, taken: set[str]) -> str:
    if scope == (ANY_RESOURCE,):
        base = prefix + "AnyResource"
    else:
        kind = _resource_type(scope[0])
        # A Sid is letters and digits only: log-group -> LogGroups.
        named = "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", kind) if w)
        base = prefix + _SID_BY_TYPE.get(kind, named + "s")
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
    administrative: bool = False,
) -> PolicyDocument:
    """An IAM policy document: detection, plus (unless ``detect_only``) the playbook's actions
    on the resources a run with ``variables`` touches in ``account`` (any account when
    ``None``), plus (with ``organization_role``) listing the organization's accounts and
    assuming that role in each; the role in each member account needs the rest of this policy.
    ``cloudtrail`` and ``security_hub`` add what those options of root-use need.

    With ``administrative``, only what the playbook's administrative steps need (writing the
    self-service MFA policy): an administrator's, never in the operator's policy."""
    arns = Arns(partition, account or "*")
    if administrative:
        name, grants = playbook_grants(playbook_ref, variables or {}, arns, administrative=True)
        prefix = "Administrative" + "".join(word.capitalize() for word in name.split("-"))
        return {"Version": "2012-10-17", "Statement": statements(grants, prefix)}
    document: list[Statement] = [
        {
            "Sid": "DetectRootUse",
            "Effect": "Allow",
            "Action": list(DETECTION_ACTIONS),
            "Resource": ANY_RESOURCE,
        }
    ]
    if not detect_only:
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


# What a name given as "*" opens up, by resource type: the holder may do the write actions the
# policy grants there to every one of them.
_EVERY = {
    "user": "every IAM user in the account, administrators included",
    "group": "every IAM group in the account, administrators groups included",
    "mfa": "every virtual MFA device in the account, other users' included",
}
_READS = ("Get", "List")


def wildcard_warnings(document: PolicyDocument, variables: Mapping[str, str]) -> list[str]:
    """What ``--var NAME='*'`` makes ``document`` grant: the write actions on every user, group
    or MFA device of the account, and what its holder can do with them. One line each."""
    wild = sorted(name for name, value in variables.items() if value == "*")
    if not wild:
        return []
    writes: dict[str, set[str]] = {}
    for statement in document["Statement"]:
        resources = statement["Resource"]
        for arn in [resources] if isinstance(resources, str) else resources:
            kind, _, name = arn.split(":", 5)[-1].partition("/")
            if name == "*" and kind in _EVERY:
                writes.setdefault(kind, set()).update(
                    a for a in statement["Action"] if not a.split(":")[1].startswith(_READS)
                )
    given = ", ".join(f"--var {name}='*'" for name in wild)
    lines = [
        f"{given} grants {', '.join(sorted(actions))} on {_EVERY[kind]}"
        for kind, actions in sorted(writes.items(), key=lambda item: list(_EVERY).index(item[0]))
        if actions
    ]
    takeover = writes.get("user", set()) & {
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
    }
    if takeover:
        lines.append(
            "whoever holds this policy can create access keys for and reset the password of any "
            "user, administrators included, and so act as any of them: name the user instead "
            "(--var user=NAME) unless that is what you mean"
        )
    elif "iam:AddUserToGroup" in writes.get("group", set()):
        lines.append(
            "whoever holds this policy can add users to any group, an administrators group "
            "included: name the group instead (--var group=NAME) unless that is what you mean"
        )
    return lines


def cloudtrail_statements() -> list[Statement]:
    """--cloudtrail: look root's events up in the event history (LookupEvents takes no resource)
    of every enabled region (which DescribeRegions lists)."""
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


# The fields a customer may update with BatchUpdateFindings (Security Hub user guide, "Available
# fields for BatchUpdateFindings") besides the two remediate sets (Workflow.Status and Note), as
# the securityhub:ASFFSyntaxPath/ condition keys name them: AWS's own managed policy
# AWSSystemsManagerOpsDataSyncServiceRolePolicy names these paths (Severity's from the user guide's
# "Severity.Label" and BatchUpdateFindings' SeverityUpdate). A request that sets any of them
# carries the key, so the grant's Null "true" on each refuses it.
ASFF_PATH = "securityhub:ASFFSyntaxPath/"
NOT_UPDATED_FIELDS = (
    "Confidence",
    "Criticality",
    "RelatedFindings",
    "Severity.Label",
    "Severity.Normalized",
    "Severity.Product",
    "Types",
    "UserDefinedFields.key",
    "UserDefinedFields.value",
    "VerificationState",
)
# A detection run reopens a finding (root used after a recorded remediation); a remediation
# resolves it. Each with a note saying why.
REOPEN = "NEW"
RESOLVE = "RESOLVED"


def security_hub_statements(
    account: str | None, partition: str = "aws", *, resolve: bool = True
) -> list[Statement]:
    """--security-hub: import findings as the account's default product (in any region), the
    only product an account may import its own findings as; read the account's findings (to
    find remediate's own and their workflow); and update a finding's workflow status and note,
    nothing else: NEW (reopen) or, unless detection only (``resolve`` false), RESOLVED.

    GetFindings and BatchUpdateFindings are authorized on the account's hub, which holds every
    product's findings (and, in a Security Hub administrator account, its members'): no
    condition key limits them to a product or an account. The ASFF path keys limit what an
    update may change, so at most a finding's workflow status goes to NEW or RESOLVED with a
    note, whichever product it is from."""
    who = account or "*"
    hub = f"arn:{partition}:securityhub:*:{who}:hub/default"
    statuses = [REOPEN, RESOLVE] if resolve else [REOPEN]
    return [
        {
            "Sid": "ImportFindingsToSecurityHub",
            "Effect": "Allow",
            "Action": ["securityhub:BatchImportFindings"],
            "Resource": f"arn:{partition}:securityhub:*:{who}:product/{who}/default",
        },
        {
            "Sid": "ReadFindingsInSecurityHub",
            "Effect": "Allow",
            "Action": ["securityhub:GetFindings"],
            "Resource": hub,
        },
        {
            "Sid": "UpdateFindingWorkflowInSecurityHub",
            "Effect": "Allow",
            "Action": ["securityhub:BatchUpdateFindings"],
            "Resource": hub,
            "Condition": {
                "StringEquals": {ASFF_PATH + "Workflow.Status": statuses},
                "Null": {ASFF_PATH + field: "true" for field in NOT_UPDATED_FIELDS},
            },
        },
    ]


def organization_statements(role: str, partition: str = "aws") -> list[Statement]:
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


def root_credentials_policy(partition: str = "aws") -> PolicyDocument:
    """What the management account needs for `root-credentials centralize`, `audit` and
    `delete` (the delegated administrator for IAM: audit and delete): read the organization,
    let it trust IAM (and nothing else), enable the two features, and open root task sessions
    with the audit and delete task policies only.

    In member accounts nothing is needed: a task session's permissions are its AWS task policy.
    """
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


DENY_ROOT_PLAYBOOK = "root-credentials-deny-root"


def deny_root_policy(
    *, targets: str = "", account: str | None = None, partition: str = "aws"
) -> PolicyDocument:
    """What `root-credentials deny-root` needs where it runs (the management account, or the
    delegated administrator for AWS Organizations policies), from its steps' access: read the
    organization and its root, enable service control policies there, read and create service
    control policies, and attach them to the ``targets`` (comma-separated roots, OUs and account
    ids; none: the organization's root), nothing else. ``account`` is the management account
    (Organizations ARNs name it; any when ``None``).

    A policy's ARN holds its id, not its name, so CreatePolicy cannot be scoped to the name a
    run creates: the grants hold every action to the SCP policy type (organizations:PolicyType).
    An SCP only ever takes permissions away, so these grants give their holder no permission of
    its own; no UpdatePolicy, DetachPolicy, DeletePolicy or DisablePolicyType."""
    variables = {"targets": targets} if targets else {}
    _, grants = playbook_grants(DENY_ROOT_PLAYBOOK, variables, Arns(partition, account or "*"))
    return {"Version": "2012-10-17", "Statement": statements(grants, "DenyRoot")}
