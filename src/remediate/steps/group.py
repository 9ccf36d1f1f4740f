"""IAM group step kinds: a group exists, a managed policy is attached to it, a user is its
member. Each reads the current state, computes the change, and writes only if needed."""

from __future__ import annotations

from dataclasses import dataclass

from remediate.aws.calls import call_or_none
from remediate.core.errors import InputError
from remediate.steps.access import Access, Arns, only_policy, the_group, the_user
from remediate.steps.base import Change, StepContext, Unchanged
from remediate.steps.iam import create_entity, managed_policy_arn
from remediate.steps.kind import Step, register
from remediate.steps.params import param


@dataclass(frozen=True)
class GroupArgs:
    group: str = param(format="iam-group-name")
    # The group must already exist: the step never creates it.
    existing: bool = param(default=False)


@register
class GroupStep(Step[None]):
    """An IAM group exists.

    ```yaml
    - id: admin-group
      kind: iam-group
      with: {group: Administrators}
    ```
    With ``existing: true`` the group must already exist (the step never creates it).
    """

    kind = "iam-group"
    args: GroupArgs
    access = (
        Access(("iam:GetGroup",), the_group),
        Access(("iam:CreateGroup",), the_group, needed=lambda args: not args.existing),
    )

    def resource(self, ctx: StepContext) -> str:
        return self.args.group

    def plan(self, ctx: StepContext) -> Change[None]:
        group = self.args.group
        if call_or_none(ctx.iam, "GetGroup", GroupName=group, MaxItems=1) is not None:
            ctx.saw("group", group)
            return Change(group, "none")
        if self.args.existing:
            raise InputError(
                f"step {self.id!r}: IAM group {group!r} does not exist in account {ctx.account_id}",
                tip="create it first, or name an existing group",
            )
        ctx.plan_create("group", group)
        return Change(group, "create", [f"create IAM group {group}"])

    def apply(self, ctx: StepContext, change: Change[None]) -> Unchanged | None:
        group = self.args.group
        create_entity(ctx, "group", group, "CreateGroup", GroupName=group)
        if ctx.turned_out_to_exist("group", group):
            return Unchanged(f"IAM group {group} existed already")
        return None


@dataclass(frozen=True)
class GroupPolicyArgs:
    group: str = param(format="iam-group-name")
    # An AWS managed policy's name, or any managed policy's ARN.
    policy: str = param(format="managed-policy")


def _managed_policy(args: GroupPolicyArgs, arns: Arns) -> str:
    return managed_policy_arn(args.policy, arns.partition)


@register
class GroupPolicyStep(Step[None]):
    """A managed policy is attached to a group (the ARN uses the account's partition).

    ```yaml
    - id: admin-policy
      kind: group-managed-policy
      with: {group: Administrators, policy: AdministratorAccess}
    ```
    """

    kind = "group-managed-policy"
    args: GroupPolicyArgs
    access = (
        Access(("iam:ListAttachedGroupPolicies",), the_group),
        # AttachGroupPolicy is scoped to the group only: the condition is what keeps it from
        # attaching any other policy (IAMFullAccess, a policy of the operator's own).
        Access(("iam:AttachGroupPolicy",), the_group, only_policy(_managed_policy)),
    )

    def resource(self, ctx: StepContext) -> str:
        return managed_policy_arn(self.args.policy, ctx.partition)

    def plan(self, ctx: StepContext) -> Change[None]:
        group, arn = self.args.group, self.resource(ctx)
        attach: Change[None] = Change(arn, "create", [f"attach {arn} to group {group}"])
        if ctx.will_create("group", group):
            return attach
        attached = ctx.list(
            "ListAttachedGroupPolicies",
            "AttachedPolicies",
            about=(("group", group),),
            GroupName=group,
        )
        if any(p["PolicyArn"] == arn for p in attached):
            return Change(arn, "none")
        return attach

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        group = self.args.group
        # Attaching an attached policy changes nothing: a resent request is harmless.
        ctx.call(
            "AttachGroupPolicy",
            about=(("group", group),),
            GroupName=group,
            PolicyArn=change.resource,
        )


@dataclass(frozen=True)
class MembershipArgs:
    user: str = param(format="iam-user-name")
    group: str = param(format="iam-group-name")
    # The group grants administrator power: joining it without a second factor is warned about.
    privileged: bool = param(default=False)


@register
class MembershipStep(Step[None]):
    """A user is a member of a group.

    ```yaml
    - id: membership
      kind: group-membership
      with: {user: alice, group: Administrators, privileged: true}
    ```
    With ``privileged`` (the group grants administrator power), the plan and the summary warn
    when the user joins it without a second factor: no MFA device, and none enrolled by this run
    (self-service MFA holds this step back until IAM shows the user's own device enabled).
    Shipped playbooks run this step last, once console access and MFA are in place.
    """

    kind = "group-membership"
    args: MembershipArgs
    access = (
        Access(("iam:ListGroupsForUser", "iam:ListMFADevices"), the_user),
        # AddUserToGroup is authorized on the group alone: IAM cannot limit which user joins.
        Access(("iam:AddUserToGroup",), the_group),
    )
    # The user's groups; and, for a privileged group the run enrolls no MFA for, their MFA devices.
    reads_per_plan = 2

    @property
    def user(self) -> str:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return f"{self.args.user} in {self.args.group}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("member", f"{self.args.user} in {self.args.group}")})

    def plan(self, ctx: StepContext) -> Change[None]:
        user, group = self.args.user, self.args.group
        ctx.outcome.group = group
        member = False
        if not ctx.will_create("user", user):
            groups = ctx.list("ListGroupsForUser", "Groups", about=(("user", user),), UserName=user)
            member = any(g["GroupName"].casefold() == group.casefold() for g in groups)
        warnings = []
        if self.args.privileged and not self._second_factor(ctx, user):
            warnings.append(
                f"{user} {'is in' if member else 'joins'} {group} with no MFA device, and this "
                "run enrolls none: the account's most powerful user has no second factor (for "
                "root-use: rerun without --no-mfa, or with --mfa-self-service)"
            )
        if member:
            return Change(self.resource(ctx), "none", warnings=warnings)
        return Change(
            self.resource(ctx), "create", [f"add {user} to group {group}"], warnings=warnings
        )

    @staticmethod
    def _second_factor(ctx: StepContext, user: str) -> bool:
        """Whether the user has an MFA device IAM shows enabled, or will once the earlier steps
        have run (a device this run enrolls, or self-service MFA, which ends the run until the
        user's own device is enabled)."""
        if ("mfa", user) in ctx.ensured:
            return True
        if ctx.will_create("user", user):
            return False
        devices = ctx.list("ListMFADevices", "MFADevices", about=(("user", user),), UserName=user)
        return bool(devices)

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        user, group = self.args.user, self.args.group
        # Adding a member twice changes nothing: a resent request is harmless.
        ctx.call(
            "AddUserToGroup",
            about=(("user", user), ("group", group)),
            UserName=user,
            GroupName=group,
        )
