"""The service control policy that denies the root user of member accounts: its name and document
(AWS's own sample, which exempts sts:AssumeRoot sessions), how two documents compare, and the AWS
Organizations reads and waits the deny-root steps work with.

Sources (docs/root-credentials.md cites them): AWS's sample SCP "Prevent root credentials
management in member accounts" (aws-samples/service-control-policy-examples) is this document;
the IAM global condition key ``aws:AssumedRoot`` is present (true) only in requests made with
sts:AssumeRoot credentials; AWS Control Tower's AWS-GR_RESTRICT_ROOT_USER control exempts those
sessions the same way (its ExemptAssumeRoot parameter), since a privileged root session's
principal is the member account's root ARN, which the deny would otherwise match. SCPs never
apply to the management account.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from remediate.aws.calls import call, paginate
from remediate.core.errors import AwsError, InputError

if TYPE_CHECKING:
    from remediate.aws.session import Aws

DENY_ROOT_POLICY_NAME = "RemediateDenyRootUser"
SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
DENY_ROOT_DESCRIPTION = (
    "Denies every action to the root user of member accounts, except in privileged root sessions "
    "(sts:AssumeRoot). Written by remediate root-credentials deny-root."
)
# Every action, on every resource, when the caller is an account's root user and the request
# did not come from an sts:AssumeRoot session (aws:AssumedRoot absent): privileged root tasks
# from the management account (remediate root-credentials delete) keep working.
DENY_ROOT_DOCUMENT: Mapping[str, object] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyRootUser",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": "arn:*:iam::*:root"},
                "Null": {"aws:AssumedRoot": "true"},
            },
        }
    ],
}
MANAGEMENT_ACCOUNT_NOT_DENIED = (
    "SCPs do not apply to the management account {account}: its root user is not denied by "
    "this policy; watch it instead (`remediate root-activity watch --notify EMAIL`)"
)
# EnablePolicyType is asynchronous: how long to wait for ListRoots to show the type ENABLED.
POLICY_TYPE_TIMEOUT = 120.0
_FIRST_WAIT = 0.5
_MAX_WAIT = 8.0
# Organizations' answers for a target that is not in the organization.
_NO_SUCH_TARGET = frozenset(
    {
        "TargetNotFoundException",
        "AccountNotFoundException",
        "OrganizationalUnitNotFoundException",
    }
)


def document_text(document: Mapping[str, Any] = DENY_ROOT_DOCUMENT) -> str:
    """The document as sent to CreatePolicy (compact: an SCP holds at most 5,120 characters)."""
    return json.dumps(document, separators=(",", ":"))


def document_lines(document: Mapping[str, Any] = DENY_ROOT_DOCUMENT) -> list[str]:
    """The document as the plan prints it, one line each."""
    return json.dumps(document, indent=2).splitlines()


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _normal_statement(statement: Mapping[str, Any]) -> dict[str, object]:
    """A statement as IAM reads it: a single value is a list of one, values are a set, condition
    operators and keys are not case-sensitive; the Sid changes nothing."""
    normal: dict[str, object] = {}
    for key, value in statement.items():
        if key == "Sid":
            continue
        if key == "Condition" and isinstance(value, Mapping):
            normal[key] = {
                operator.casefold(): {
                    k.casefold(): sorted(str(v) for v in _as_list(vs)) for k, vs in keys.items()
                }
                for operator, keys in value.items()
                if isinstance(keys, Mapping)
            }
        elif key in ("Action", "NotAction", "Resource", "NotResource"):
            normal[key] = sorted(str(v) for v in _as_list(value))
        else:
            normal[key] = value
    return normal


def same_document(text: str, document: Mapping[str, Any] = DENY_ROOT_DOCUMENT) -> bool:
    """Whether the policy text says what ``document`` says (as IAM reads both), whatever its
    spacing, order of statements and values, or Sids."""
    try:
        given = json.loads(text)
    except ValueError:
        return False
    if not isinstance(given, dict) or given.get("Version") != document.get("Version"):
        return False

    def statements(doc: Mapping[str, Any]) -> list[str]:
        found = doc.get("Statement", [])
        items = found if isinstance(found, list) else [found]
        if not all(isinstance(s, Mapping) for s in items):
            return ["not a statement"]
        return sorted(json.dumps(_normal_statement(s), sort_keys=True) for s in items)

    return statements(given) == statements(document)


class PolicyTypeSummary(TypedDict):
    """A policy type's state in the organization's root (ListRoots)."""

    Type: str
    Status: str


class OrganizationRoot(TypedDict, total=False):
    """The organization's root as ListRoots answers it."""

    Id: str
    Arn: str
    Name: str
    PolicyTypes: list[PolicyTypeSummary]


class PolicySummary(TypedDict, total=False):
    """A policy as ListPolicies answers it."""

    Id: str
    Arn: str
    Name: str
    Description: str
    Type: str
    AwsManaged: bool


def organization_root(aws: Aws) -> OrganizationRoot:
    """The organization's root (an organization has exactly one), with its policy types."""
    roots = paginate(aws.client("organizations"), "ListRoots", "Roots")
    if len(roots) != 1:
        raise AwsError(f"AWS Organizations listed {len(roots)} roots: expected exactly one")
    root: OrganizationRoot = roots[0]
    return root


def policy_type_status(root: OrganizationRoot, policy_type: str) -> str | None:
    """``ENABLED``, ``PENDING_ENABLE`` or ``PENDING_DISABLE`` for ``policy_type`` in the root;
    ``None`` while it is not enabled there."""
    for entry in root.get("PolicyTypes", []):
        if entry.get("Type") == policy_type:
            return str(entry.get("Status"))
    return None


def wait_for_policy_type(
    aws: Aws,
    policy_type: str,
    *,
    timeout: float = POLICY_TYPE_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll ListRoots until ``policy_type`` is ENABLED in the root (EnablePolicyType completes in
    the background); an AwsError after ``timeout`` seconds."""
    deadline = clock() + timeout
    delay = _FIRST_WAIT
    while True:
        status = policy_type_status(organization_root(aws), policy_type)
        if status == "ENABLED":
            return
        if clock() + delay > deadline:
            raise AwsError(
                f"AWS Organizations still shows {policy_type} as {status or 'not enabled'} "
                f"after {timeout:g} s",
                tip="rerun later: EnablePolicyType completes in the background, and a rerun "
                "continues from where this one stopped",
            )
        sleep(delay)
        delay = min(delay * 2, _MAX_WAIT)


def find_policy(
    aws: Aws, name: str, policy_type: str = SERVICE_CONTROL_POLICY
) -> PolicySummary | None:
    """The summary (Id, Arn, Name, AwsManaged...) of the policy of that type named ``name``."""
    policies = paginate(aws.client("organizations"), "ListPolicies", "Policies", Filter=policy_type)
    found: PolicySummary | None = next((p for p in policies if p.get("Name") == name), None)
    return found


def policy_content(aws: Aws, policy_id: str) -> str:
    """A policy's document, as AWS Organizations keeps it."""
    answer = call(aws.client("organizations"), "DescribePolicy", PolicyId=policy_id)
    return str(answer["Policy"].get("Content", ""))


def attached_policy_ids(
    aws: Aws, target_id: str, policy_type: str = SERVICE_CONTROL_POLICY
) -> set[str]:
    """The ids of the policies of that type attached directly to a root, OU or account; an
    InputError (exit 2, before any write) when the organization has no such target."""
    try:
        policies = paginate(
            aws.client("organizations"),
            "ListPoliciesForTarget",
            "Policies",
            TargetId=target_id,
            Filter=policy_type,
        )
    except AwsError as exc:
        if exc.code in _NO_SUCH_TARGET:
            raise InputError(
                f"target {target_id} is not in this organization ({exc.code})",
                tip="give a root (r-...), an OU (ou-...) or a member account id of this "
                "organization: `aws organizations list-roots`, `list-accounts`",
            ) from exc
        raise
    return {str(p["Id"]) for p in policies}
