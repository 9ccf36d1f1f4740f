"""IAM step kinds: group, managed policy attachment, user with tags, membership, login profile,
access key. Each reads the current state, computes the change, and writes only if needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call, call_or_none, paginate
from remediate.errors import AwsError, InputError
from remediate.steps.base import Change, FieldSpec, Step, StepContext, register

if TYPE_CHECKING:
    from remediate.secrets import PasswordPolicy

ALREADY_EXISTS = "EntityAlreadyExists"


def managed_policy_arn(policy: str, partition: str) -> str:
    """``AdministratorAccess`` -> ``arn:<partition>:iam::aws:policy/AdministratorAccess``."""
    return policy if policy.startswith("arn:") else f"arn:{partition}:iam::aws:policy/{policy}"


def tag_changes(current: dict[str, str], desired: dict[str, str]) -> dict[str, str]:
    """Tags to add or update so ``current`` holds ``desired``; tags are never removed."""
    return {k: v for k, v in desired.items() if current.get(k) != v}


def _create_tolerating_race(ctx: StepContext, operation: str, **params: Any) -> bool:
    """Create something; ``False`` when a concurrent run created it first (same end state)."""
    try:
        call(ctx.iam, operation, **params)
    except AwsError as exc:
        if exc.code == ALREADY_EXISTS:
            return False
        raise
    return True


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
    fields = {
        "group": FieldSpec("string", format="iam-group-name"),
        "existing": FieldSpec("bool", required=False, default=False),
    }
    permissions = ("iam:GetGroup", "iam:CreateGroup")

    def resource(self, ctx: StepContext) -> str:
        return str(self.params["group"])

    def plan(self, ctx: StepContext) -> Change[None]:
        group = self.params["group"]
        if call_or_none(ctx.iam, "GetGroup", GroupName=group, MaxItems=1) is not None:
            return Change(group, "none")
        if self.params.get("existing"):
            raise InputError(
                f"step {self.id!r}: IAM group {group!r} does not exist in account {ctx.account_id}",
                tip="create it first, or name an existing group",
            )
        ctx.planned.add(("group", group))
        return Change(group, "create", [f"create IAM group {group}"])

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        _create_tolerating_race(ctx, "CreateGroup", GroupName=self.params["group"])


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
    fields = {
        "group": FieldSpec("string", format="iam-group-name"),
        "policy": FieldSpec("string", format="managed-policy"),
    }
    permissions = ("iam:ListAttachedGroupPolicies", "iam:AttachGroupPolicy")

    def resource(self, ctx: StepContext) -> str:
        return managed_policy_arn(self.params["policy"], ctx.partition)

    def plan(self, ctx: StepContext) -> Change[None]:
        group, arn = self.params["group"], self.resource(ctx)
        attach: Change[None] = Change(arn, "create", [f"attach {arn} to group {group}"])
        if ctx.will_create("group", group):
            return attach
        attached = paginate(
            ctx.iam, "ListAttachedGroupPolicies", "AttachedPolicies", GroupName=group
        )
        if any(p["PolicyArn"] == arn for p in attached):
            return Change(arn, "none")
        return attach

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        call(
            ctx.iam, "AttachGroupPolicy", GroupName=self.params["group"], PolicyArn=change.resource
        )


@dataclass(frozen=True)
class UserPlan:
    """The tags to set on the user (all of them for a new user, the changed ones otherwise)."""

    tags: dict[str, str]


@register
class UserStep(Step[UserPlan]):
    """An IAM user exists with the given tags (added or updated, never removed).

    ```yaml
    - id: user
      kind: iam-user
      with: {user: alice, tags: {Team: security}}
    ```
    """

    kind = "iam-user"
    fields = {
        "user": FieldSpec("string", format="iam-user-name"),
        "tags": FieldSpec("tags", required=False, default={}),
    }
    permissions = ("iam:GetUser", "iam:CreateUser", "iam:TagUser")

    def resource(self, ctx: StepContext) -> str:
        return str(self.params["user"])

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("user", str(self.params["user"]))})

    def plan(self, ctx: StepContext) -> Change[UserPlan]:
        user, desired = self.params["user"], dict(self.params.get("tags") or {})
        found = call_or_none(ctx.iam, "GetUser", UserName=user)
        if found is None:
            ctx.planned.add(("user", user))
            details = [f"create IAM user {user}"]
            details += [f"tag {k}={v}" for k, v in sorted(desired.items())]
            return Change(user, "create", details, state=UserPlan(desired))
        current = {t["Key"]: t["Value"] for t in found["User"].get("Tags", [])}
        changes = tag_changes(current, desired)
        if not changes:
            return Change(found["User"]["Arn"], "none")
        details = [
            f"tag {k}={v}" + (f" (was {current[k]})" if k in current else "")
            for k, v in sorted(changes.items())
        ]
        return Change(found["User"]["Arn"], "update", details, state=UserPlan(changes))

    def apply(self, ctx: StepContext, change: Change[UserPlan]) -> None:
        user = self.params["user"]
        tags = [{"Key": k, "Value": v} for k, v in sorted(change.planned.tags.items())]
        if change.change == "create":
            params: dict[str, Any] = {"UserName": user}
            if tags:
                params["Tags"] = tags
            if _create_tolerating_race(ctx, "CreateUser", **params) or not tags:
                return
        call(ctx.iam, "TagUser", UserName=user, Tags=tags)


@register
class MembershipStep(Step[None]):
    """A user is a member of a group.

    ```yaml
    - id: membership
      kind: group-membership
      with: {user: alice, group: Administrators}
    ```
    """

    kind = "group-membership"
    fields = {
        "user": FieldSpec("string", format="iam-user-name"),
        "group": FieldSpec("string", format="iam-group-name"),
    }
    permissions = ("iam:ListGroupsForUser", "iam:AddUserToGroup")

    def resource(self, ctx: StepContext) -> str:
        return f"{self.params['user']} in {self.params['group']}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("member", f"{self.params['user']} in {self.params['group']}")})

    def plan(self, ctx: StepContext) -> Change[None]:
        user, group = self.params["user"], self.params["group"]
        add: Change[None] = Change(self.resource(ctx), "create", [f"add {user} to group {group}"])
        if ctx.will_create("user", user):
            return add
        groups = paginate(ctx.iam, "ListGroupsForUser", "Groups", UserName=user)
        if any(g["GroupName"] == group for g in groups):
            return Change(self.resource(ctx), "none")
        return add

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        call(
            ctx.iam, "AddUserToGroup", UserName=self.params["user"], GroupName=self.params["group"]
        )


def _password_policy(ctx: StepContext) -> PasswordPolicy:
    from remediate.secrets import PasswordPolicy

    found = call_or_none(ctx.iam, "GetAccountPasswordPolicy")
    return PasswordPolicy.from_aws(found["PasswordPolicy"] if found else None)


def console_sign_in_url(account_id: str, partition: str) -> str:
    """The account's IAM user sign-in page."""
    domain = {
        "aws-us-gov": "signin.amazonaws-us-gov.com",
        "aws-cn": "signin.amazonaws.cn",
    }.get(partition, "signin.aws.amazon.com")
    return f"https://{account_id}.{domain}/console"


@dataclass(frozen=True)
class LoginProfilePlan:
    """The password policy the new password must meet."""

    policy: PasswordPolicy


@register
class LoginProfileStep(Step[LoginProfilePlan]):
    """Console access: a login profile whose password must be reset at first sign-in.

    ```yaml
    - id: console
      kind: login-profile
      with: {user: alice}
    ```
    The password is generated to satisfy the account's password policy (or AWS's default), unless
    one was given with --password-prompt or --password-stdin. An existing login profile is left
    alone: a rerun never resets a password.
    """

    kind = "login-profile"
    fields = {"user": FieldSpec("string", format="iam-user-name")}
    permissions = (
        "iam:GetLoginProfile",
        "iam:GetAccountPasswordPolicy",
        "iam:CreateLoginProfile",
    )
    takes_password = True

    def resource(self, ctx: StepContext) -> str:
        return f"login profile of {self.params['user']}"

    def plan(self, ctx: StepContext) -> Change[LoginProfilePlan]:
        from remediate.secrets import check_password

        user = self.params["user"]
        if (
            not ctx.will_create("user", user)
            and call_or_none(ctx.iam, "GetLoginProfile", UserName=user) is not None
        ):
            return Change(self.resource(ctx), "none", ["existing login profile left alone"])
        policy = _password_policy(ctx)
        given = ctx.options.password
        if given is not None:
            check_password(given, policy)
        how = (
            "the given password"
            if given is not None
            else f"a password generated to the {policy.source}"
        )
        return Change(
            self.resource(ctx),
            "create",
            [f"console access for {user} with {how}, to be reset at first sign-in"],
            makes_secret=given is None,
            state=LoginProfilePlan(policy),
        )

    def apply(self, ctx: StepContext, change: Change[LoginProfilePlan]) -> None:
        from remediate.secrets import generate_password

        user = self.params["user"]
        password = ctx.options.password
        if password is None:
            password = generate_password(change.planned.policy)
            # Kept before the login profile exists: a run that dies right after creating it
            # still leaves the password where its owner can find it.
            ctx.keep_secret(user, "password", password)
        if not _create_tolerating_race(
            ctx, "CreateLoginProfile", UserName=user, Password=password, PasswordResetRequired=True
        ):
            ctx.ui.print(
                f"[yellow]Warning:[/] {user} already had a login profile (a concurrent run, or a "
                "retried request): the password kept by this run may not be the one in effect."
            )
        ctx.outcome.console_sign_in_url = console_sign_in_url(ctx.account_id, ctx.partition)


@register
class AccessKeyStep(Step[None]):
    """Programmatic access: one access key, created only when the user has none.

    ```yaml
    - id: access-key
      kind: access-key
      with: {user: alice}
    ```
    """

    kind = "access-key"
    fields = {"user": FieldSpec("string", format="iam-user-name")}
    permissions = ("iam:ListAccessKeys", "iam:CreateAccessKey")

    def resource(self, ctx: StepContext) -> str:
        return f"access key of {self.params['user']}"

    def plan(self, ctx: StepContext) -> Change[None]:
        user = self.params["user"]
        if not ctx.will_create("user", user):
            keys = paginate(ctx.iam, "ListAccessKeys", "AccessKeyMetadata", UserName=user)
            if keys:
                ids = ", ".join(k["AccessKeyId"] for k in keys)
                details = [f"{user} already has access key(s) {ids}"]
                if (
                    ctx.secrets.usable()
                    and ctx.secrets.get(ctx.account_id, user, "access-key") is None
                ):
                    # A run that died right after CreateAccessKey leaves a key whose secret is lost.
                    details.append(
                        "the keyring holds no secret for it: if that secret was lost, delete the "
                        "key and rerun to get a new one"
                    )
                return Change(ids, "none", details)
        return Change(
            self.resource(ctx), "create", [f"create an access key for {user}"], makes_secret=True
        )

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        import json

        user = self.params["user"]
        key = call(ctx.iam, "CreateAccessKey", UserName=user)["AccessKey"]
        value = json.dumps(
            {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
        )
        change.resource = key["AccessKeyId"]
        ctx.keep_secret(user, "access-key", value)
