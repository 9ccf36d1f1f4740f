"""The least-privilege IAM policy for detection and a playbook, built from what steps declare."""

from __future__ import annotations

from typing import Any

# sts:GetCallerIdentity needs no permission, so it is not listed.
DETECTION_ACTIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")


def playbook_actions(playbook_ref: str) -> tuple[str, list[str]]:
    """The playbook's name and every action its steps declare (whatever their conditions),
    except the steps that act as the root user: root's own credentials (or a root task session,
    scoped by its AWS task policy) need no IAM permission of the operator."""
    from remediate.errors import InputError
    from remediate.playbook.model import load_playbook
    from remediate.steps.base import registry

    kinds = registry()
    book = load_playbook(playbook_ref)
    operator = [kinds[spec.kind] for spec in book.steps if not kinds[spec.kind].acts_as_root]
    if not operator:
        raise InputError(
            f"every step of {book.name} acts as the root user (in an sts:AssumeRoot task "
            "session): the operator needs no IAM action for them",
            tip="`remediate permissions --root-credentials` prints what the management "
            "account needs to open those sessions",
        )
    actions = {action for cls in operator for action in cls.permissions}
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


CENTRALIZE_PLAYBOOK = "root-credentials-centralize"
# What audit and delete read besides the centralize playbook's own reads: the member accounts.
ROOT_CREDENTIALS_READS = ("organizations:ListAccounts",)
_TRUST = "organizations:EnableAWSServiceAccess"


def root_credentials_policy(partition: str = "aws") -> dict[str, Any]:
    """What the management account needs for `root-credentials centralize`, `audit` and
    `delete`: read the organization, let it trust IAM (and nothing else), enable the two
    features, and open root task sessions with the audit and delete task policies only.

    In member accounts nothing is needed: a task session's permissions are its AWS task policy.
    """
    from remediate.root_credentials import (
        AUDIT_TASK,
        DELETE_TASK,
        IAM_SERVICE_PRINCIPAL,
        task_policy_arn,
    )

    _, actions = playbook_actions(CENTRALIZE_PLAYBOOK)
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
