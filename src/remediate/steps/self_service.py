"""The mfa-self-service step: the user enrolls their own MFA device, and until they sign in with
it they can do nothing else.

A customer-managed policy, made once per account from AWS's documented example "AWS: Allows
MFA-authenticated IAM users to manage their own MFA device on the Security credentials page" (IAM
User Guide, reference_policies_examples_aws_my-sec-creds-self-manage-mfa-only), is attached to the
user: it lets them create a virtual MFA device of any name, enable and resync it on their own
user, and denies everything else while they are not signed in with MFA. The operator never holds
the seed.

Writing that policy is an administrator's task (remediate.steps.self_service_policy): whoever may
both change a policy's document and attach it can attach ``"Action": "*"`` to anybody. This step
only reads the policy, refuses one that says anything but AWS's example, and attaches it.

The policy is a second factor only until the user has one: it also lets whoever first uses the
user's password (or any key of theirs) create and enable a device without an MFA session. So the
run ends at this step until IAM shows an MFA device enabled for the user (the membership that
grants power is held back), and the rerun that finds one detaches the policy before it adds the
membership.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import NotRequired, TypedDict
from urllib.parse import unquote

from remediate.aws.calls import call_or_none
from remediate.aws.errors import NOT_FOUND_CODES
from remediate.core.errors import AwsError, InputError
from remediate.steps.access import Access, Arns, Condition, only_policy, the_user
from remediate.steps.base import Change, StepContext, Unchanged
from remediate.steps.kind import Step, register
from remediate.steps.params import param

DESCRIPTION = (
    "Created by remediate from the IAM User Guide example: denies everything but managing one's "
    "own MFA device and password until signed in with MFA."
)


class SelfServiceStatement(TypedDict):
    """A statement of the self-service policy: an Allow of ``Action`` or a Deny of all but
    ``NotAction``, as AWS's example writes them."""

    Sid: str
    Effect: str
    Action: NotRequired[str | list[str]]
    NotAction: NotRequired[list[str]]
    Resource: str
    Condition: NotRequired[Condition]


class SelfServicePolicy(TypedDict):
    """The self-service policy's document."""

    Version: str
    Statement: list[SelfServiceStatement]


def self_service_document(partition: str) -> SelfServicePolicy:
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


def policy_arn(name: str, account_id: str, partition: str) -> str:
    """A customer-managed policy's ARN (remediate creates it at the root path)."""
    return f"arn:{partition}:iam::{account_id}:policy/{name}"


def _document(raw: object) -> object:
    # botocore decodes a policy version's document; a raw one is URL-encoded JSON.
    if isinstance(raw, str):
        return json.loads(unquote(raw))
    return raw


# The policy's default name, and the shipped playbook that only writes it (an administrator's).
DEFAULT_POLICY = "RemediateSelfServiceMFA"
ADMINISTRATIVE_PLAYBOOK = "mfa-self-service-policy"


def policy_in_place(ctx: StepContext, step_id: str, name: str, arn: str) -> bool:
    """Whether the policy exists, saying AWS's example; ``False`` when it does not exist. One
    saying anything else is refused: a policy of that name made by someone else may grant
    anything."""
    found = call_or_none(ctx.iam, "GetPolicy", PolicyArn=arn)
    if found is None:
        return False
    version = ctx.call(
        "GetPolicyVersion",
        about=(("policy", name),),
        PolicyArn=arn,
        VersionId=found["Policy"]["DefaultVersionId"],
    )
    document = _document(version["PolicyVersion"]["Document"])
    ctx.saw("policy", name)
    if document == self_service_document(ctx.partition):
        return True
    raise InputError(
        f"step {step_id!r}: the customer-managed policy {name} exists in account "
        f"{ctx.account_id} and says something other than AWS's self-service MFA example: "
        "it is not attached",
        tip=f"check it (aws iam get-policy-version --policy-arn {arn} ...) and delete it "
        "if it is a leftover, or name another policy in the playbook",
    )


def administrator_command(name: str) -> str:
    """The command an administrator runs to create or update the policy ``name``."""
    given = "" if name == DEFAULT_POLICY else f" --var self_service_policy={name}"
    return f"remediate playbook run {ADMINISTRATIVE_PLAYBOOK}{given}"


@dataclass(frozen=True)
class SelfServicePlan:
    """The policy's ARN, to attach; or (``detach``) to detach, the user having an MFA device
    now."""

    arn: str
    detach: bool = False


def _date(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else "on an unknown date"


@dataclass(frozen=True)
class SelfServiceArgs:
    user: str = param(format="iam-user-name")
    # The customer-managed policy to attach (it must say AWS's example).
    policy: str = param(format="iam-policy-name")


def _the_policy(args: SelfServiceArgs, arns: Arns) -> str:
    return policy_arn(args.policy, arns.account, arns.partition)


@register
class MfaSelfServiceStep(Step[SelfServicePlan]):
    """The user must enroll their own MFA device before doing anything else.

    ```yaml
    - id: mfa-self-service
      kind: mfa-self-service
      with: {user: alice, policy: RemediateSelfServiceMFA}
    ```
    Attaches the customer-managed policy ``policy``, which must say AWS's example: written by an
    earlier ``mfa-self-service-policy`` step of the run (an administrator's), or already there.
    No device is created: at first sign-in the user assigns their own. A policy of that name
    saying anything else is refused.

    Until IAM shows an MFA device enabled for the user, the run ends here: the steps after it
    (the membership that grants power) wait for a rerun. The rerun that finds a device detaches
    the policy, which would let its holder create and enable more devices without MFA.
    """

    kind = "mfa-self-service"
    args: SelfServiceArgs
    access = (
        # Reading the policy lets the run compare its document; writing it is administrative.
        Access(("iam:GetPolicy", "iam:GetPolicyVersion"), _the_policy),
        Access(("iam:ListAttachedUserPolicies",), the_user),
        # AttachUserPolicy is scoped to the user only: the condition keeps it to this policy.
        Access(("iam:AttachUserPolicy",), the_user, only_policy(_the_policy)),
        # Whether the user has enabled a device yet; then the policy is detached (only it).
        Access(("iam:ListMFADevices",), the_user),
        Access(("iam:DetachUserPolicy",), the_user, only_policy(_the_policy)),
    )
    self_service_mfa = True

    @property
    def user(self) -> str:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return f"self-service MFA policy of {self.args.user}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        # A device IAM shows enabled: until there is one, the run ends at this step (ends_run),
        # so no later step applies without it.
        return frozenset({("mfa", self.args.user)})

    @staticmethod
    def waits(user: str) -> str:
        """Why the run ends at this step while the user has no MFA device."""
        return (
            f"{user} joins no group until IAM shows an MFA device enabled for {user} "
            f"(self-service): rerun once {user} has enabled one"
        )

    def plan(self, ctx: StepContext) -> Change[SelfServicePlan]:
        user, name = self.args.user, self.args.policy
        arn = policy_arn(name, ctx.account_id, ctx.partition)
        device = self._enabled_device(ctx, user)
        if device is not None:
            return self._enrolled(ctx, user, name, arn, device)
        ctx.outcome.user = user
        ctx.outcome.self_service_policy = arn
        created = ctx.will_create("policy", name)
        if ("self-service-policy", name) not in ctx.ensured:
            # No earlier step of this run writes it: it must be there and say AWS's example.
            self._require_current(ctx, name, arn)
        attach = created or ctx.will_create("user", user) or not self._attached(ctx, user, arn)
        if not attach:
            details = [f"{name} is attached to {user}"]
            details.append(f"IAM shows no MFA device enabled for {user} yet")
            return Change(arn, "none", details, ends_run=self.waits(user))
        return Change(
            arn,
            "update",
            [
                f"attach the customer-managed policy {name} to {user}: at first sign-in {user} "
                "assigns their own MFA device, and can do nothing else until signed in with it"
            ],
            state=SelfServicePlan(arn),
            ends_run=self.waits(user),
        )

    @staticmethod
    def _enabled_device(ctx: StepContext, user: str) -> str | None:
        """The user's MFA device, as IAM lists it enabled (ListMFADevices): its serial number and
        when it was enabled; None while the user has none."""
        if ctx.will_create("user", user):
            return None
        devices = ctx.list("ListMFADevices", "MFADevices", about=(("user", user),), UserName=user)
        if not devices:
            return None
        device = devices[0]
        return f"{device['SerialNumber']} (enabled {_date(device.get('EnableDate'))})"

    def _enrolled(
        self, ctx: StepContext, user: str, name: str, arn: str, device: str
    ) -> Change[SelfServicePlan]:
        """The user has a device: the policy has done its part, and is detached if attached."""
        if not self._attached(ctx, user, arn):
            return Change(arn, "none", [f"{user} has MFA device {device}: {name} is not attached"])
        ctx.outcome.user = user
        ctx.outcome.self_service_policy = arn
        ctx.outcome.self_service_device = device.split(" ", 1)[0]
        return Change(
            self.resource(ctx),
            "delete",
            [
                f"{user} has MFA device {device}: check with {user} that it is theirs",
                f"detach {name} from {user}: it lets its holder create and enable MFA devices "
                f"without an MFA session, and {user} has one",
            ],
            state=SelfServicePlan(arn, detach=True),
        )

    def _require_current(self, ctx: StepContext, name: str, arn: str) -> None:
        if policy_in_place(ctx, self.id, name, arn):
            return
        raise InputError(
            f"step {self.id!r}: the customer-managed policy {name} does not exist in account "
            f"{ctx.account_id}: writing it is an administrator's task, and no step of this run "
            "does it; nothing was changed",
            tip=f"an administrator runs `{administrator_command(name)}` in the account once "
            f"(`remediate permissions {ADMINISTRATIVE_PLAYBOOK} --administrative` prints the "
            "policy that needs), then rerun",
        )

    @staticmethod
    def _attached(ctx: StepContext, user: str, arn: str) -> bool:
        attached = ctx.list(
            "ListAttachedUserPolicies", "AttachedPolicies", about=(("user", user),), UserName=user
        )
        return any(p["PolicyArn"] == arn for p in attached)

    def apply(self, ctx: StepContext, change: Change[SelfServicePlan]) -> Unchanged | None:
        user, name = self.args.user, self.args.policy
        plan = change.planned
        ctx.outcome.user = user
        ctx.outcome.self_service_policy = plan.arn
        if plan.detach:
            return self._detach(ctx, user, name, plan.arn)
        # Attaching an attached policy changes nothing: a resent request is harmless.
        ctx.call(
            "AttachUserPolicy",
            about=(("user", user), ("policy", name)),
            UserName=user,
            PolicyArn=plan.arn,
        )
        return None

    @staticmethod
    def _detach(ctx: StepContext, user: str, name: str, arn: str) -> Unchanged | None:
        try:
            # Not "about" the user: a resent request whose first try worked answers "no such
            # entity", which is the end state, not IAM lagging.
            ctx.call("DetachUserPolicy", UserName=user, PolicyArn=arn)
        except AwsError as exc:
            if exc.code not in NOT_FOUND_CODES:
                raise
            return Unchanged(f"{name} was detached from {user} already")
        return None
