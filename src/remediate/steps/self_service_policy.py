"""The mfa-self-service-policy step, an administrator's: the customer-managed policy for
self-service MFA exists and says AWS's example.

Administrative (Step.administrative): a principal that may write a policy's document and also
attach that policy can give anybody anything, so the operator's least-privilege policy never
holds these grants; `remediate permissions --administrative` prints them on their own. The
operator's mfa-self-service step only reads the policy and attaches it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from remediate.aws.calls import paginate
from remediate.aws.errors import ACCESS_DENIED_CODES, ALREADY_EXISTS, NOT_FOUND_CODES
from remediate.core.errors import AwsError
from remediate.steps.access import Access, Arns, the_user
from remediate.steps.base import Change, StepContext, Unchanged
from remediate.steps.kind import Step, register
from remediate.steps.params import param
from remediate.steps.self_service import (
    ADMINISTRATIVE_PLAYBOOK,
    DESCRIPTION,
    administrator_command,
    policy_arn,
    policy_in_place,
    self_service_document,
)


@dataclass(frozen=True)
class SelfServicePolicyArgs:
    policy: str = param(format="iam-policy-name")
    # The user a run writes it for: nothing is written while they have an MFA device.
    user: str | None = param(format="iam-user-name", default=None)


def _the_policy(args: SelfServicePolicyArgs, arns: Arns) -> str:
    return policy_arn(args.policy, arns.account, arns.partition)


@register
class MfaSelfServicePolicyStep(Step[None]):
    """The self-service MFA policy exists and says AWS's example (administrative).

    ```yaml
    - id: mfa-self-service-policy
      kind: mfa-self-service-policy
      with: {policy: RemediateSelfServiceMFA}
    ```
    Creates the customer-managed policy ``policy`` from AWS's example, once per account; one
    saying anything else is refused. Attaching it is the mfa-self-service step's. With ``user``
    (the user a run writes it for), nothing is written while IAM shows an MFA device enabled for
    that user: they need no self-service policy.
    """

    kind = "mfa-self-service-policy"
    args: SelfServicePolicyArgs
    access = (
        # That one policy, and no attach action of any kind.
        Access(("iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicy"), _the_policy),
        # Whether the user has a device already (then nothing needs writing): a read.
        Access(("iam:ListMFADevices",), the_user, needed=lambda args: bool(args.user)),
    )
    administrative = True
    reads_per_plan = 2  # the policy, and its default version's document

    @property
    def user(self) -> str | None:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return policy_arn(self.args.policy, ctx.account_id, ctx.partition)

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("self-service-policy", self.args.policy)})

    def plan(self, ctx: StepContext) -> Change[None]:
        name, user = self.args.policy, self.args.user
        arn = self.resource(ctx)
        if user and self._has_device(ctx, user):
            return Change(arn, "none", [f"{user} has an MFA device: no self-service policy needed"])
        if policy_in_place(ctx, self.id, name, arn):
            return Change(arn, "none", [f"{name} says AWS's self-service MFA example"])
        ctx.plan_create("policy", name)
        return Change(
            arn,
            "create",
            [
                f"create the customer-managed policy {name} from AWS's example: it denies "
                "everything but managing one's own MFA device and password until signed in "
                f"with MFA (an administrative step: `remediate permissions "
                f"{ADMINISTRATIVE_PLAYBOOK} --administrative` prints what it needs, which the "
                "operator's policy never holds)",
            ],
        )

    @staticmethod
    def _has_device(ctx: StepContext, user: str) -> bool:
        """Whether IAM shows an MFA device enabled for ``user``; a user who does not exist yet
        (a later step of the run creates them) has none."""
        try:
            return bool(paginate(ctx.iam, "ListMFADevices", "MFADevices", UserName=user))
        except AwsError as exc:
            if exc.code in NOT_FOUND_CODES:
                return False
            raise

    def apply(self, ctx: StepContext, change: Change[None]) -> Unchanged | None:
        name = self.args.policy
        try:
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
                # answer: kept only if it says what remediate writes.
                ctx.found_existing("policy", name)
                policy_in_place(ctx, self.id, name, change.resource)
                return Unchanged(f"the policy {name} existed already")
        except AwsError as exc:
            if exc.code not in ACCESS_DENIED_CODES:
                raise
            raise AwsError(
                f"writing the customer-managed policy {name} is an administrator's task, and "
                f"the caller may not ({exc.message})",
                tip=f"an administrator runs `{administrator_command(name)}` in account "
                f"{ctx.account_id} once (`remediate permissions {ADMINISTRATIVE_PLAYBOOK} "
                "--administrative` prints the policy that needs)",
                code=exc.code,
                action=exc.action,
            ) from exc
        return None
