"""The least-privilege IAM policy for detection and a playbook, built from what steps declare."""

from __future__ import annotations

from typing import Any

# sts:GetCallerIdentity needs no permission, so it is not listed.
DETECTION_ACTIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")


def playbook_actions(playbook_ref: str) -> tuple[str, list[str]]:
    """The playbook's name and every IAM action its steps declare (whatever their conditions)."""
    from remediate.playbook.model import load_playbook
    from remediate.steps.base import registry

    kinds = registry()
    book = load_playbook(playbook_ref)
    actions = {action for spec in book.steps for action in kinds[spec.kind].permissions}
    return book.name, sorted(actions)


def policy(
    playbook_ref: str,
    *,
    detect_only: bool = False,
    organization_role: str | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """An IAM policy document: detection, plus the playbook's actions unless ``detect_only``,
    plus (with ``organization_role``) listing the organization's accounts and assuming that role
    in each; the role in each member account needs the rest of this policy."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DetectRootUse",
            "Effect": "Allow",
            "Action": list(DETECTION_ACTIONS),
            "Resource": "*",
        }
    ]
    if not detect_only:
        name, actions = playbook_actions(playbook_ref)
        sid = "Playbook" + "".join(word.capitalize() for word in name.split("-"))
        statements.append({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"})
    if organization_role is not None:
        statements.extend(organization_statements(organization_role, partition))
    return {"Version": "2012-10-17", "Statement": statements}


def organization_statements(role: str, partition: str = "aws") -> list[dict[str, Any]]:
    """What a sweep needs in the account it runs from, besides detection's own actions (which the
    role in each member account needs too): list the accounts, assume the role in each."""
    return [
        {
            "Sid": "ListOrganizationAccounts",
            "Effect": "Allow",
            "Action": ["organizations:ListAccounts"],
            "Resource": "*",
        },
        {
            "Sid": "AssumeMemberAccountRole",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": f"arn:{partition}:iam::*:role/{role}",
        },
    ]
