"""The least-privilege IAM policy for detection and a playbook, scoped to the resources the
playbook touches, from what each step declares (remediate.steps.base.Step.grants)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from remediate.steps.base import ANY_RESOURCE, Arns

if TYPE_CHECKING:
    from remediate.steps.base import Grant

# sts:GetCallerIdentity needs no permission, so it is not listed. IAM scopes neither action to a
# resource.
DETECTION_ACTIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")

# Statement names by the resource type of their ARNs (arn:...:iam::ACCOUNT:TYPE/NAME).
_SID_BY_TYPE = {"user": "User", "group": "Group", "mfa": "MfaDevice"}


def playbook_grants(
    playbook_ref: str, variables: Mapping[str, str], arns: Arns
) -> tuple[str, list[Grant]]:
    """The playbook's name, and what each step a run with these ``--var`` values may take needs
    (remediate.playbook.model.policy_steps: a required variable not given is any name)."""
    from remediate.playbook.model import load_playbook, policy_steps

    book = load_playbook(playbook_ref)
    steps = policy_steps(book, variables)
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
        base = prefix + _SID_BY_TYPE.get(kind, kind.capitalize()) + "s"
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
) -> dict[str, Any]:
    """An IAM policy document: detection, plus (unless ``detect_only``) the playbook's actions
    on the resources a run with ``variables`` touches in ``account`` (any account when
    ``None``), plus (with ``organization_role``) listing the organization's accounts and
    assuming that role in each; the role in each member account needs the rest of this policy."""
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
    if organization_role is not None:
        document.extend(organization_statements(organization_role, partition))
    return {"Version": "2012-10-17", "Statement": document}


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
