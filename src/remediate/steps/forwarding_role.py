"""The events-forwarding-role step kind: the IAM role EventBridge assumes to send root's events
from every region to the home region's default event bus (a cross-region bus target needs one).
Only EventBridge may assume it, and it may only put events on that one bus.

Writing a role's trust and inline policy is an administrator's grant (whoever may write both
could make a role for themselves): the step is administrative, so `remediate permissions
--watch` leaves it out of the operator's policy and `--administrative` prints it alone. The
operator only passes the role to EventBridge (iam:PassRole, iam:PassedToService)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from remediate.aws.calls import call, call_or_none, consistent
from remediate.core.errors import InputError
from remediate.detect.root_watch import (
    FORWARDING_POLICY,
    FORWARDING_ROLE,
    bus_arn,
    forwarding_policy,
    policy_document,
    trust_policy,
)
from remediate.steps.access import Access, Arns
from remediate.steps.base import Change, StepContext
from remediate.steps.iam import MANAGED_BY_KEY, MANAGED_BY_VALUE, create_entity, is_managed
from remediate.steps.kind import Step, register
from remediate.steps.params import param


@dataclass(frozen=True)
class RoleArgs:
    role: str = param(default=FORWARDING_ROLE)


def the_role(args: RoleArgs, arns: Arns) -> str:
    return f"arn:{arns.partition}:iam::{arns.account}:role/{args.role}"


@dataclass(frozen=True)
class RolePlan:
    create: bool
    policy: bool


@register
class ForwardingRoleStep(Step[RolePlan]):
    """The role EventBridge assumes to forward root's events to the home region's bus.

    ```yaml
    - id: forwarding-role
      kind: events-forwarding-role
      with: {role: RemediateRootActivityForwarding}
    ```
    """

    kind = "events-forwarding-role"
    args: RoleArgs
    administrative = True
    access = (
        Access(
            (
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:CreateRole",
                "iam:TagRole",
                "iam:PutRolePolicy",
            ),
            the_role,
        ),
    )
    writes_per_change = 2
    reads_per_plan = 2

    def resource(self, ctx: StepContext) -> str:
        return f"IAM role {self.args.role}"

    def _document(self, ctx: StepContext) -> dict[str, object]:
        home = bus_arn(partition=ctx.partition, region=ctx.aws.region, account=ctx.account_id)
        return forwarding_policy(home)

    def plan(self, ctx: StepContext) -> Change[RolePlan]:
        role = call_or_none(ctx.iam, "GetRole", RoleName=self.args.role)
        wanted = self._document(ctx)
        if role is None:
            return Change(
                self.resource(ctx),
                "create",
                [
                    f"create IAM role {self.args.role} that only EventBridge may assume, tagged "
                    f"{MANAGED_BY_KEY}={MANAGED_BY_VALUE}",
                    f"inline policy {FORWARDING_POLICY}: events:PutEvents on the "
                    f"{ctx.aws.region} default event bus only",
                ],
                state=RolePlan(True, True),
            )
        found = role["Role"]
        tags = {str(t["Key"]): str(t["Value"]) for t in found.get("Tags") or []}
        trust = policy_document(found.get("AssumeRolePolicyDocument"))
        if not is_managed(tags) or trust != trust_policy(ctx.partition):
            raise InputError(
                f"IAM role {self.args.role} exists and is not remediate's forwarding role "
                "(its tag or trust policy differ): it is left alone",
                tip="delete or rename that role, then rerun",
            )
        inline = call_or_none(
            ctx.iam, "GetRolePolicy", RoleName=self.args.role, PolicyName=FORWARDING_POLICY
        )
        current = policy_document(inline.get("PolicyDocument")) if inline else {}
        if current == wanted:
            return Change(self.resource(ctx), "none")
        return Change(
            self.resource(ctx),
            "update",
            [f"inline policy {FORWARDING_POLICY}: events:PutEvents on the home bus only"],
            state=RolePlan(False, True),
        )

    def apply(self, ctx: StepContext, change: Change[RolePlan]) -> None:
        name = self.args.role
        if change.planned.create:
            create_entity(
                ctx,
                "policy",
                f"role/{name}",
                "CreateRole",
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust_policy(ctx.partition)),
                Description="remediate: forwards root activity events to the home region",
                Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
            )
        document = json.dumps(self._document(ctx))
        consistent(
            f"role {name}",
            lambda: call(
                ctx.iam,
                "PutRolePolicy",
                RoleName=name,
                PolicyName=FORWARDING_POLICY,
                PolicyDocument=document,
            ),
            names=(name,),
        )
