"""IAM authorization of IAM actions as real IAM decides it, taught to the moto server that runs
in the test process.

moto 5.2 enforces identity policies once INITIAL_NO_AUTH_ACTION_COUNT is reached, but it checks
every IAM action against the resource ``*`` (only role actions get their ARN) and ignores
``ArnEquals``: a policy scoped to ``user/alice`` would deny everything, and a condition on
``iam:PolicyARN`` would allow anything. Here each IAM action gets the resource the IAM service
authorization reference names for it ("Actions, resources, and condition keys for AWS Identity
and Access Management"), built from the request's own parameters, and statements are evaluated
with their Resource and Condition. The table is written from that reference, not from the
product's step declarations, so the product is checked against it rather than against itself.

A create that carries Tags is also authorized as its tagging action (CreateVirtualMFADevice as
iam:TagMFADevice on the same device), with ``aws:RequestTag/KEY`` from the request's tags, as the
IAM user guide says for tagging on create ("you must have permission for both").

Security Hub's BatchImportFindings is authorized on the product the findings are imported as
(resource type ``product`` in the Security Hub service authorization reference), taken from the
request's findings; GetFindings and BatchUpdateFindings on the account's hub; and
BatchUpdateFindings carries a ``securityhub:ASFFSyntaxPath/<field>`` key for each field the
request sets (Security Hub user guide, "Configuring access to BatchUpdateFindings"; the paths as
AWS's managed policy AWSSystemsManagerOpsDataSyncServiceRolePolicy names them). moto would check
them all against ``*``.

Statements are evaluated by iampolicy.py (written from the IAM policy evaluation logic); what it
does not model fails the test instead of being guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from support.iampolicy import ContextValue, Request, decide

# action -> (resource type, request parameter holding the name); every other IAM action this
# suite sends takes no resource type ("*" is the only Resource that allows it).
USER = ("user", "UserName")
GROUP = ("group", "GroupName")
RESOURCE_OF: dict[str, tuple[str, str]] = {
    "AddUserToGroup": GROUP,  # group* only: the user is not a resource of this action
    "AttachGroupPolicy": GROUP,
    "AttachUserPolicy": USER,  # user* only: the policy is the iam:PolicyARN condition key
    "CreateAccessKey": USER,
    "CreateGroup": GROUP,
    "CreateLoginProfile": USER,
    "CreateUser": USER,
    "DeactivateMFADevice": USER,
    "DeleteAccessKey": USER,
    "DeleteGroup": GROUP,
    "DeleteLoginProfile": USER,
    "DeleteUser": USER,
    "DetachGroupPolicy": GROUP,
    "DetachUserPolicy": USER,
    "EnableMFADevice": USER,  # user* only
    "GetGroup": GROUP,
    "GetLoginProfile": USER,
    "GetUser": USER,
    "ListAccessKeys": USER,
    "ListAttachedGroupPolicies": GROUP,
    "ListAttachedUserPolicies": USER,
    "ListGroupsForUser": USER,
    "ListMFADevices": USER,
    "PutGroupPolicy": GROUP,
    "PutUserPolicy": USER,
    "RemoveUserFromGroup": GROUP,
    "TagUser": USER,
    "UpdateLoginProfile": USER,
}
NO_RESOURCE_TYPE = frozenset(
    {
        "GenerateCredentialReport",
        "GetCredentialReport",
        "GetAccountPasswordPolicy",
        "ListVirtualMFADevices",
        "ListUsers",
        "ListGroups",
    }
)
# Services of remediate's findings, which speak JSON: authorized here, refused as they refuse.
JSON_SERVICES = frozenset({"cloudtrail", "securityhub"})
# Actions on a customer-managed policy (resource type policy*), named by its ARN.
POLICY_BY_ARN = frozenset(
    {
        "GetPolicy",
        "GetPolicyVersion",
        "DeletePolicy",
        "CreatePolicyVersion",
        "ListPolicyVersions",
        "DeletePolicyVersion",
        "SetDefaultPolicyVersion",
    }
)
# Condition keys an action carries, from the request parameter that holds their value.
CONDITION_KEYS: dict[str, dict[str, str]] = {
    "AttachGroupPolicy": {"iam:PolicyARN": "PolicyArn"},
    "DetachGroupPolicy": {"iam:PolicyARN": "PolicyArn"},
    "AttachUserPolicy": {"iam:PolicyARN": "PolicyArn"},
    "DetachUserPolicy": {"iam:PolicyARN": "PolicyArn"},
    "AttachRolePolicy": {"iam:PolicyARN": "PolicyArn"},
    "DetachRolePolicy": {"iam:PolicyARN": "PolicyArn"},
}


def _param(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def iam_resource(action: str, data: Mapping[str, Any], account: str, partition: str) -> str:
    """The ARN an IAM request acts on, as IAM authorizes it."""
    arn = f"arn:{partition}:iam::{account}"
    if action in RESOURCE_OF:
        resource_type, parameter = RESOURCE_OF[action]
        name = _param(data, parameter)
        assert name is not None, f"{action} without {parameter}: not modelled here"
        return f"{arn}:{resource_type}/{name}"
    if action == "CreatePolicy":  # policy*, named by its path and name
        path = _param(data, "Path") or "/"
        return f"{arn}:policy{path}{_param(data, 'PolicyName')}"
    if action in POLICY_BY_ARN:
        policy = _param(data, "PolicyArn")
        assert policy is not None
        return policy
    if action == "CreateVirtualMFADevice":
        path = _param(data, "Path") or "/"
        return f"{arn}:mfa{path}{_param(data, 'VirtualMFADeviceName')}"
    if action in ("DeleteVirtualMFADevice", "TagMFADevice", "ListMFADeviceTags"):
        serial = _param(data, "SerialNumber")  # a virtual device's serial number is its ARN
        assert serial is not None
        return serial
    if action in NO_RESOURCE_TYPE:
        return "*"
    # Not in the table: only a Resource "*" statement can allow it, never a scoped one.
    return f"{arn}:unmodelled/{action}"


# Creates that tag what they create need the tagging action too (the IAM user guide, "Tagging
# IAM resources": permission for both the create and the tag action).
TAGS_ON_CREATE = {"CreateVirtualMFADevice": "TagMFADevice"}


def request_tags(data: Mapping[str, Any]) -> dict[str, str]:
    """A request's Tags (``Tags.member.N.Key``/``.Value`` in the query form), as the condition
    keys ``aws:RequestTag/KEY`` give them."""
    tags: dict[str, str] = {}
    n = 1
    while (key := _param(data, f"Tags.member.{n}.Key")) is not None:
        tags[f"aws:RequestTag/{key}"] = _param(data, f"Tags.member.{n}.Value") or ""
        n += 1
    return tags


# How a BatchUpdateFindings request's fields become securityhub:ASFFSyntaxPath/ keys: an
# object's scalar members by their dotted path, a list by its field, the UserDefinedFields map by
# ".key" and ".value" (as AWS's managed policy names them).
ASFF_PATH = "securityhub:ASFFSyntaxPath/"
UPDATABLE = (
    "Confidence",
    "Criticality",
    "Note",
    "RelatedFindings",
    "Severity",
    "Types",
    "UserDefinedFields",
    "VerificationState",
    "Workflow",
)


def asff_context(body: Mapping[str, Any]) -> dict[str, ContextValue]:
    """The ASFF path keys of a BatchUpdateFindings request body."""
    context: dict[str, ContextValue] = {}
    for name in UPDATABLE:
        if name not in body:
            continue
        value = body[name]
        if name == "UserDefinedFields" and isinstance(value, dict):
            context[ASFF_PATH + name + ".key"] = [str(k) for k in value]
            context[ASFF_PATH + name + ".value"] = [str(v) for v in value.values()]
        elif isinstance(value, dict):
            for member, inner in value.items():
                context[f"{ASFF_PATH}{name}.{member}"] = str(inner)
        elif isinstance(value, list):
            context[ASFF_PATH + name] = [json.dumps(v, sort_keys=True) for v in value]
        else:
            context[ASFF_PATH + name] = str(value)
    return context


def allowed(
    documents: list[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
) -> bool:
    """Identity-policy evaluation (iampolicy.py): an explicit Deny wins, else an Allow is needed."""
    return decide(documents, Request(action, resource, context)) == "Allow"


def authorize_like_iam(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on (until ``monkeypatch`` undoes it) moto's server, in this process, authorizes
    IAM actions with their resources and conditions whenever its enforcement is on
    (INITIAL_NO_AUTH_ACTION_COUNT)."""
    from moto.core.exceptions import JsonRESTError
    from moto.iam.access_control import IAMPolicy, IAMRequest
    from moto.iam.responses import IamResponse
    from moto.securityhub.responses import SecurityHubResponse

    original_resource = IamResponse._determine_resource
    original_check = IAMRequest.check_action_permitted

    def determine_resource(self: Any) -> str:
        action = self._get_action()
        if (
            action in RESOURCE_OF
            or action in NO_RESOURCE_TYPE
            or action in POLICY_BY_ARN
            or action == "CreatePolicy"
            or "MFADevice" in action
        ):
            return iam_resource(action, self.data, self.current_account, self.partition)
        return str(original_resource(self))

    def check_action_permitted(self: Any, resource: str) -> None:
        service, _, action = self._action.partition(":")
        if service in JSON_SERVICES:
            # moto would answer its XML AccessDenied, which botocore cannot read for a JSON
            # service (the code comes out as "403"): answer as these services do.
            documents = [
                IAMPolicy(policy)._policy_json for policy in self._access_key.collect_policies()
            ]
            context: dict[str, ContextValue] = {}
            if self._action == "securityhub:BatchUpdateFindings":
                raw = self._body.decode() if isinstance(self._body, bytes) else self._body
                context = asff_context(json.loads(raw or "{}"))
            if not allowed(documents, self._action, resource, context):
                denied = JsonRESTError(
                    "AccessDeniedException",
                    f"User: {self._access_key.arn} is not authorized to perform: "
                    f"{self._action} on resource: {resource}",
                )
                denied.code = 403
                raise denied
            return
        if service != "iam":
            original_check(self, resource)
            return
        context: dict[str, ContextValue] = {
            key: value
            for key, parameter in CONDITION_KEYS.get(action, {}).items()
            if (value := _param(self._data, parameter)) is not None
        }
        documents = [
            IAMPolicy(policy)._policy_json for policy in self._access_key.collect_policies()
        ]
        if not allowed(documents, self._action, resource, context):
            self._raise_access_denied()
        tags = request_tags(self._data)
        if action in TAGS_ON_CREATE and tags:
            tagging = f"iam:{TAGS_ON_CREATE[action]}"
            if not allowed(documents, tagging, resource, tags):
                self._action = tagging  # IAM names the action it refused
                self._raise_access_denied()

    def security_hub_product(self: Any) -> str:
        if self._get_action() in ("BatchUpdateFindings", "GetFindings"):
            # Authorized on the account's hub (Service Authorization Reference).
            return (
                f"arn:{self.partition}:securityhub:{self.region}:{self.current_account}:hub/default"
            )
        if self._get_action() != "BatchImportFindings":
            return "*"
        body = json.loads(self.body or "{}")
        products = {str(f.get("ProductArn")) for f in body.get("Findings") or []}
        assert len(products) == 1, "findings of several products in one request: not modelled"
        return products.pop()

    monkeypatch.setattr(IamResponse, "_determine_resource", determine_resource)
    monkeypatch.setattr(IAMRequest, "check_action_permitted", check_action_permitted)
    monkeypatch.setattr(
        SecurityHubResponse, "_determine_resource", security_hub_product, raising=False
    )
