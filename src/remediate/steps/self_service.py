"""The mfa-self-service step: the user enrolls their own MFA device, and until they sign in with
it they can do nothing else.

A customer-managed policy, created once per account from AWS's documented example "AWS: Allows
MFA-authenticated IAM users to manage their own MFA device on the Security credentials page" (IAM
User Guide, reference_policies_examples_aws_my-sec-creds-self-manage-mfa-only), is attached to the
user: it lets them create a virtual MFA device of any name, enable and resync it on their own
user, and denies everything else while they are not signed in with MFA. The operator never holds
the seed. A policy an earlier version of remediate created from the example as it was then is
brought up to date with a new default version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from remediate.aws.calls import ALREADY_EXISTS
from remediate.errors import AwsError, InputError
from remediate.steps.base import (
    Arns,
    Change,
    EntityKind,
    FieldSpec,
    Grant,
    Step,
    StepContext,
    Unchanged,
    register,
)

DESCRIPTION = (
    "Created by remediate from the IAM User Guide example: denies everything but managing one's "
    "own MFA device and password until signed in with MFA."
)


def self_service_document(partition: str) -> dict[str, Any]:
    """AWS's example policy as documented now, with ARNs in the account's partition.

    One addition, the one AWS documents for its sibling example ("...manage their own credentials
    on the Security credentials page"): ``iam:ChangePassword`` and ``iam:GetAccountPasswordPolicy``
    are exempt from the deny, or the password handed over, which must be reset at first sign-in,
    could never be reset (the reset comes before any MFA device can be assigned)."""
    arn = f"arn:{partition}:iam::*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowViewAccountInfo",
                "Effect": "Allow",
                "Action": "iam:ListVirtualMFADevices",
                "Resource": "*",
            },
            {
                "Sid": "AllowManageOwnVirtualMFADevice",
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice"],
                # Any device name: only their own user can be given the device (next statement).
                "Resource": f"{arn}:mfa/*",
            },
            {
                "Sid": "AllowManageOwnUserMFA",
                "Effect": "Allow",
                "Action": [
                    "iam:DeactivateMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetUser",
                    "iam:GetMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice",
                ],
                "Resource": f"{arn}:user/${{aws:username}}",
            },
            {
                "Sid": "DenyAllExceptListedIfNoMFA",
                "Effect": "Deny",
                "NotAction": [
                    "iam:CreateVirtualMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetUser",
                    "iam:ListMFADevices",
                    "iam:ListVirtualMFADevices",
                    "iam:ResyncMFADevice",
                    "sts:GetSessionToken",
                    "iam:ChangePassword",
                    "iam:GetAccountPasswordPolicy",
                ],
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            },
        ],
    }


def outdated_documents(partition: str) -> list[dict[str, Any]]:
    """What earlier versions of remediate wrote (AWS's example as it was then): a policy saying
    one of these is remediate's, and is brought up to date rather than refused."""
    arn = f"arn:{partition}:iam::*"
    return [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowViewAccountInfo",
                    "Effect": "Allow",
                    "Action": "iam:ListVirtualMFADevices",
                    "Resource": "*",
                },
                {
                    "Sid": "AllowManageOwnVirtualMFADevice",
                    "Effect": "Allow",
                    # Only a device named after the user: "phone" was denied.
                    "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"],
                    "Resource": f"{arn}:mfa/${{aws:username}}",
                },
                {
                    "Sid": "AllowManageOwnUserMFA",
                    "Effect": "Allow",
                    "Action": [
                        "iam:DeactivateMFADevice",
                        "iam:EnableMFADevice",
                        "iam:GetUser",
                        "iam:ListMFADevices",
                        "iam:ResyncMFADevice",
                    ],
                    "Resource": f"{arn}:user/${{aws:username}}",
                },
                {
                    "Sid": "DenyAllExceptListedIfNoMFA",
                    "Effect": "Deny",
                    "NotAction": [
                        "iam:ChangePassword",
                        "iam:CreateVirtualMFADevice",
                        "iam:EnableMFADevice",
                        "iam:GetUser",
                        "iam:ListMFADevices",
                        "iam:ListVirtualMFADevices",
                        "iam:ResyncMFADevice",
                        "sts:GetSessionToken",
                    ],
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ],
        }
    ]


# IAM keeps at most five versions of a managed policy.
MAX_POLICY_VERSIONS = 5


def policy_arn(name: str, account_id: str, partition: str) -> str:
    """A customer-managed policy's ARN (remediate creates it at the root path)."""
    return f"arn:{partition}:iam::{account_id}:policy/{name}"


def _document(raw: Any) -> Any:
    # botocore decodes a policy version's document; a raw one is URL-encoded JSON.
    if isinstance(raw, str):
        from urllib.parse import unquote

        return json.loads(unquote(raw))
    return raw


@dataclass(frozen=True)
class SelfServicePlan:
    """Whether to create the policy, to bring remediate's outdated one up to date, and to attach
    it (its ARN)."""

    create: bool
    attach: bool
    arn: str
    update: bool = False


@register
class MfaSelfServiceStep(Step[SelfServicePlan]):
    """The user must enroll their own MFA device before doing anything else.

    ```yaml
    - id: mfa-self-service
      kind: mfa-self-service
      with: {user: alice, policy: RemediateSelfServiceMFA}
    ```
    Creates the customer-managed policy ``policy`` from AWS's example (once per account) and
    attaches it to the user. No device is created: at first sign-in the user assigns their own.
    A policy of that name an earlier remediate created from the example as it was then gets a new
    default version; one saying anything else is refused.
    """

    kind = "mfa-self-service"
    fields = {
        "user": FieldSpec("string", format="iam-user-name"),
        "policy": FieldSpec("string", format="iam-policy-name"),
    }
    permissions = (
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:CreatePolicy",
        "iam:ListPolicyVersions",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:ListAttachedUserPolicies",
        "iam:AttachUserPolicy",
    )
    # CreatePolicy, or DeletePolicyVersion and CreatePolicyVersion; then AttachUserPolicy.
    writes_per_change = 3

    def grants(self, arns: Arns) -> list[Grant]:
        user = (arns.user(self.params["user"]),)
        policy = policy_arn(self.params["policy"], arns.account, arns.partition)
        # AttachUserPolicy is scoped to the user only: the condition keeps it to this policy.
        operator = "ArnLike" if "*" in policy else "ArnEquals"
        return [
            Grant(
                (
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:CreatePolicy",
                    "iam:ListPolicyVersions",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                ),
                (policy,),
            ),
            Grant(("iam:ListAttachedUserPolicies",), user),
            Grant(("iam:AttachUserPolicy",), user, {operator: {"iam:PolicyARN": policy}}),
        ]

    def resource(self, ctx: StepContext) -> str:
        return f"self-service MFA policy of {self.params['user']}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        # Not a device: until the user signs in with one of their own, the policy denies them
        # everything else (privileged steps after this one may count on it).
        return frozenset({("mfa-required", str(self.params["user"]))})

    def plan(self, ctx: StepContext) -> Change[SelfServicePlan]:
        user, name = self.params["user"], self.params["policy"]
        arn = policy_arn(name, ctx.account_id, ctx.partition)
        found = self._exists(ctx, name, arn)
        create = found is None
        update = found == "outdated"
        if create:
            ctx.plan_create("policy", name)
        attach = create or ctx.will_create("user", user) or not self._attached(ctx, user, arn)
        details = []
        if create:
            details.append(
                f"create the customer-managed policy {name} from AWS's example: it denies "
                "everything but managing one's own MFA device and password until signed in "
                "with MFA"
            )
        if update:
            details.append(
                f"update the customer-managed policy {name} (made by an earlier remediate) to "
                "AWS's current example, as its new default version: the MFA device may have any "
                "name, not only the user's"
            )
        if attach:
            details.append(
                f"attach it to {user}: at first sign-in {user} assigns their own MFA device, and "
                "can do nothing else until signed in with it"
            )
        if not (create or update or attach):
            return Change(arn, "none", [f"{name} is attached to {user}"])
        return Change(
            arn,
            "create" if create else "update",
            details,
            state=SelfServicePlan(create, attach, arn, update),
        )

    def _exists(self, ctx: StepContext, name: str, arn: str) -> str | None:
        """``None`` when the policy does not exist, ``"current"`` when it says AWS's example,
        ``"outdated"`` when it says what an earlier remediate wrote. Anything else is refused: a
        policy of that name made by someone else may grant anything."""
        from remediate.aws.calls import call_or_none

        found = call_or_none(ctx.iam, "GetPolicy", PolicyArn=arn)
        if found is None:
            return None
        version = ctx.call(
            "GetPolicyVersion",
            about=(("policy", name),),
            PolicyArn=arn,
            VersionId=found["Policy"]["DefaultVersionId"],
        )
        document = _document(version["PolicyVersion"]["Document"])
        ctx.saw("policy", name)
        if document == self_service_document(ctx.partition):
            return "current"
        if document in outdated_documents(ctx.partition):
            return "outdated"
        raise InputError(
            f"step {self.id!r}: the customer-managed policy {name} exists in account "
            f"{ctx.account_id} and says something other than AWS's self-service MFA example: "
            "it is not attached",
            tip=f"check it (aws iam get-policy-version --policy-arn {arn} ...) and delete it "
            "if it is a leftover, or name another policy in the playbook",
        )

    @staticmethod
    def _attached(ctx: StepContext, user: str, arn: str) -> bool:
        attached = ctx.list(
            "ListAttachedUserPolicies", "AttachedPolicies", about=(("user", user),), UserName=user
        )
        return any(p["PolicyArn"] == arn for p in attached)

    def _update(self, ctx: StepContext, name: str, arn: str) -> None:
        """A new default version saying AWS's current example; IAM keeps five versions at most,
        so the oldest one not in use makes room."""
        about: tuple[tuple[EntityKind, str], ...] = (("policy", name),)
        versions = ctx.list("ListPolicyVersions", "Versions", about=about, PolicyArn=arn)
        if len(versions) >= MAX_POLICY_VERSIONS:
            oldest = min(
                (v for v in versions if not v["IsDefaultVersion"]),
                key=lambda v: v["CreateDate"],
            )
            ctx.call(
                "DeletePolicyVersion", about=about, PolicyArn=arn, VersionId=oldest["VersionId"]
            )
        ctx.call(
            "CreatePolicyVersion",
            about=about,
            PolicyArn=arn,
            PolicyDocument=json.dumps(self_service_document(ctx.partition)),
            SetAsDefault=True,
        )

    def apply(self, ctx: StepContext, change: Change[SelfServicePlan]) -> Unchanged | None:
        user, name = self.params["user"], self.params["policy"]
        plan = change.planned
        ctx.outcome.user = user
        ctx.outcome.self_service_policy = plan.arn
        if plan.update:
            self._update(ctx, name, plan.arn)
        if plan.create:
            try:
                ctx.call(
                    "CreatePolicy",
                    PolicyName=name,
                    PolicyDocument=json.dumps(self_service_document(ctx.partition)),
                    # No tags: tagging on create would need iam:TagPolicy too; what makes the
                    # policy remediate's is its document, which every run checks.
                    Description=DESCRIPTION,
                )
            except AwsError as exc:
                if exc.code != ALREADY_EXISTS:
                    raise
                # Made by a concurrent run, or by this run's own request resent after a lost
                # answer: attached only if it says what remediate writes (or wrote).
                ctx.found_existing("policy", name)
                if self._exists(ctx, name, plan.arn) == "outdated":
                    self._update(ctx, name, plan.arn)
                if not plan.attach:
                    return Unchanged(f"the policy {name} existed already")
        if plan.attach:
            # Attaching an attached policy changes nothing: a resent request is harmless.
            ctx.call(
                "AttachUserPolicy",
                about=(("user", user), ("policy", name)),
                UserName=user,
                PolicyArn=plan.arn,
            )
        return None
