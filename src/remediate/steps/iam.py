"""IAM step kinds: group, managed policy attachment, user with tags, membership, login profile,
access key. Each reads the current state, computes the change, and writes only if needed.

Written for real IAM, which answers late and loses answers: a create that finds its entity
already there goes on as if it had made it; "no such entity" about something this run just
created or saw is waited out; creates that must happen once (a login profile, an access key) are
never resent blindly, and after a lost answer the step looks before it tries again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import ALREADY_EXISTS
from remediate.errors import AwsError, InputError
from remediate.steps.base import (
    ANY_RESOURCE,
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

if TYPE_CHECKING:
    from remediate.secrets import PasswordPolicy

# Creates are retried this many times after an answer was lost (each try looks first).
MAX_CREATE_TRIES = 3
# A login profile created this long before the run sent its own is not the run's (clock skew
# between this machine and AWS is warned about above 30 s).
CREATED_BY_US_MARGIN = timedelta(seconds=60)

_SIGN_IN_DOMAINS = {
    "aws": "signin.aws.amazon.com",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
    "aws-cn": "signin.amazonaws.cn",
}


def managed_policy_arn(policy: str, partition: str) -> str:
    """``AdministratorAccess`` -> ``arn:<partition>:iam::aws:policy/AdministratorAccess``."""
    return policy if policy.startswith("arn:") else f"arn:{partition}:iam::aws:policy/{policy}"


def tag_changes(current: dict[str, str], desired: dict[str, str]) -> dict[str, str]:
    """Tags to add or update so ``current`` holds ``desired``; tags are never removed. Keys
    compare without regard to case, as IAM compares them."""
    by_key = {k.casefold(): v for k, v in current.items()}
    return {k: v for k, v in desired.items() if by_key.get(k.casefold()) != v}


def _create(ctx: StepContext, kind: EntityKind, name: str, operation: str, **params: Any) -> None:
    """Create an entity; one that exists already (a concurrent run, a resent request, or a stale
    read in the plan) is the same end state, and later steps learn it was there."""
    try:
        ctx.call(operation, **params)
    except AwsError as exc:
        if exc.code != ALREADY_EXISTS:
            raise
        ctx.found_existing(kind, name)


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

    def grants(self, arns: Arns) -> list[Grant]:
        return [Grant(self.permissions, (arns.group(self.params["group"]),))]

    def resource(self, ctx: StepContext) -> str:
        return str(self.params["group"])

    def plan(self, ctx: StepContext) -> Change[None]:
        from remediate.aws.calls import call_or_none

        group = self.params["group"]
        if call_or_none(ctx.iam, "GetGroup", GroupName=group, MaxItems=1) is not None:
            ctx.saw("group", group)
            return Change(group, "none")
        if self.params.get("existing"):
            raise InputError(
                f"step {self.id!r}: IAM group {group!r} does not exist in account {ctx.account_id}",
                tip="create it first, or name an existing group",
            )
        ctx.plan_create("group", group)
        return Change(group, "create", [f"create IAM group {group}"])

    def apply(self, ctx: StepContext, change: Change[None]) -> Unchanged | None:
        group = self.params["group"]
        _create(ctx, "group", group, "CreateGroup", GroupName=group)
        if ctx.turned_out_to_exist("group", group):
            return Unchanged(f"IAM group {group} existed already")
        return None


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

    def grants(self, arns: Arns) -> list[Grant]:
        group = (arns.group(self.params["group"]),)
        policy = managed_policy_arn(self.params["policy"], arns.partition)
        # AttachGroupPolicy is scoped to the group only: the condition is what keeps it from
        # attaching any other policy (IAMFullAccess, a policy of the operator's own).
        operator = "ArnLike" if "*" in policy else "ArnEquals"
        return [
            Grant(("iam:ListAttachedGroupPolicies",), group),
            Grant(("iam:AttachGroupPolicy",), group, {operator: {"iam:PolicyARN": policy}}),
        ]

    def resource(self, ctx: StepContext) -> str:
        return managed_policy_arn(self.params["policy"], ctx.partition)

    def plan(self, ctx: StepContext) -> Change[None]:
        group, arn = self.params["group"], self.resource(ctx)
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
        group = self.params["group"]
        # Attaching an attached policy changes nothing: a resent request is harmless.
        ctx.call(
            "AttachGroupPolicy",
            about=(("group", group),),
            GroupName=group,
            PolicyArn=change.resource,
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

    def grants(self, arns: Arns) -> list[Grant]:
        return [Grant(self.permissions, (arns.user(self.params["user"]),))]

    def resource(self, ctx: StepContext) -> str:
        return str(self.params["user"])

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("user", str(self.params["user"]))})

    def plan(self, ctx: StepContext) -> Change[UserPlan]:
        from remediate.aws.calls import call_or_none

        user, desired = self.params["user"], dict(self.params.get("tags") or {})
        found = call_or_none(ctx.iam, "GetUser", UserName=user)
        if found is None:
            ctx.plan_create("user", user)
            details = [f"create IAM user {user}"]
            details += [f"tag {k}={v}" for k, v in sorted(desired.items())]
            return Change(user, "create", details, state=UserPlan(desired))
        ctx.saw("user", user)
        current = {t["Key"]: t["Value"] for t in found["User"].get("Tags", [])}
        changes = tag_changes(current, desired)
        if not changes:
            return Change(found["User"]["Arn"], "none")
        was = {k.casefold(): v for k, v in current.items()}
        details = [
            f"tag {k}={v}" + (f" (was {was[k.casefold()]})" if k.casefold() in was else "")
            for k, v in sorted(changes.items())
        ]
        return Change(found["User"]["Arn"], "update", details, state=UserPlan(changes))

    def apply(self, ctx: StepContext, change: Change[UserPlan]) -> Unchanged | None:
        user = self.params["user"]
        tags = [{"Key": k, "Value": v} for k, v in sorted(change.planned.tags.items())]
        if change.change == "create":
            params: dict[str, Any] = {"UserName": user}
            if tags:
                params["Tags"] = tags
            _create(ctx, "user", user, "CreateUser", **params)
            if not ctx.turned_out_to_exist("user", user):
                return None
            if not tags:
                return Unchanged(f"IAM user {user} existed already")
        # Tagging with the tags it has changes nothing: a resent request is harmless.
        ctx.call("TagUser", about=(("user", user),), UserName=user, Tags=tags)
        return None


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

    def grants(self, arns: Arns) -> list[Grant]:
        # AddUserToGroup is authorized on the group alone: IAM cannot limit which user joins.
        return [
            Grant(("iam:ListGroupsForUser",), (arns.user(self.params["user"]),)),
            Grant(("iam:AddUserToGroup",), (arns.group(self.params["group"]),)),
        ]

    def resource(self, ctx: StepContext) -> str:
        return f"{self.params['user']} in {self.params['group']}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("member", f"{self.params['user']} in {self.params['group']}")})

    def plan(self, ctx: StepContext) -> Change[None]:
        user, group = self.params["user"], self.params["group"]
        add: Change[None] = Change(self.resource(ctx), "create", [f"add {user} to group {group}"])
        if ctx.will_create("user", user):
            return add
        groups = ctx.list("ListGroupsForUser", "Groups", about=(("user", user),), UserName=user)
        if any(g["GroupName"].casefold() == group.casefold() for g in groups):
            return Change(self.resource(ctx), "none")
        return add

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        user, group = self.params["user"], self.params["group"]
        # Adding a member twice changes nothing: a resent request is harmless.
        ctx.call(
            "AddUserToGroup",
            about=(("user", user), ("group", group)),
            UserName=user,
            GroupName=group,
        )


def _password_policy(ctx: StepContext) -> PasswordPolicy:
    from remediate.aws.calls import call_or_none
    from remediate.secrets import PasswordPolicy

    found = call_or_none(ctx.iam, "GetAccountPasswordPolicy")
    return PasswordPolicy.from_aws(found["PasswordPolicy"] if found else None)


def console_sign_in_url(account_id: str, partition: str) -> str | None:
    """The account's IAM user sign-in page, where the partition's is documented."""
    domain = _SIGN_IN_DOMAINS.get(partition)
    return f"https://{account_id}.{domain}/console" if domain else None


def _login_profile(ctx: StepContext, user: str) -> dict[str, Any] | None:
    from remediate.aws.calls import call_or_none

    found = call_or_none(ctx.iam, "GetLoginProfile", UserName=user)
    return found["LoginProfile"] if found else None


def _pending_password(ctx: StepContext, user: str) -> tuple[str, datetime] | None:
    """A password an earlier run kept before it created the login profile, and when."""
    if not ctx.secrets.usable():
        return None
    raw = ctx.secrets.get(ctx.account_id, user, "pending-password")
    if not raw:
        return None
    try:
        kept = json.loads(raw)
        return str(kept["password"]), datetime.fromisoformat(kept["stored"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class LoginProfilePlan:
    """The password policy a new password must meet; or (``promote``) a login profile made by an
    interrupted run, whose password the keyring holds as pending."""

    policy: PasswordPolicy | None = None
    promote: bool = False


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

    def grants(self, arns: Arns) -> list[Grant]:
        user = (arns.user(self.params["user"]),)
        return [
            Grant(("iam:GetLoginProfile", "iam:CreateLoginProfile"), user),
            Grant(("iam:GetAccountPasswordPolicy",), (ANY_RESOURCE,)),
        ]

    def resource(self, ctx: StepContext) -> str:
        return f"login profile of {self.params['user']}"

    def plan(self, ctx: StepContext) -> Change[LoginProfilePlan]:
        from remediate.secrets import check_password

        user = self.params["user"]
        if not ctx.will_create("user", user):
            profile = _login_profile(ctx, user)
            if profile is not None:
                pending = _pending_password(ctx, user)
                if pending and _created_since(profile, pending[1]):
                    # An interrupted run created it after keeping its password as pending.
                    return Change(
                        self.resource(ctx),
                        "update",
                        ["keep the password of the interrupted run that created it"],
                        state=LoginProfilePlan(promote=True),
                    )
                return Change(self.resource(ctx), "none", ["existing login profile left alone"])
        policy = _password_policy(ctx)
        given = ctx.options.password
        if given is not None:
            check_password(given, policy)
        how = (
            "the given password"
            if given is not None
            else f"a password you type after confirming (checked against the {policy.source})"
            if ctx.options.password_prompt
            else f"a password generated to the {policy.source}"
        )
        return Change(
            self.resource(ctx),
            "create",
            [f"console access for {user} with {how}, to be reset at first sign-in"],
            makes_secret=given is None and not ctx.options.password_prompt,
            state=LoginProfilePlan(policy),
        )

    def password_policy(self, change: Change[LoginProfilePlan]) -> PasswordPolicy | None:
        plan = change.state
        return plan.policy if plan is not None and not plan.promote else None

    def apply(self, ctx: StepContext, change: Change[LoginProfilePlan]) -> Unchanged | None:
        from remediate.secrets import generate_password

        user = self.params["user"]
        plan = change.planned
        if plan.promote:
            pending = _pending_password(ctx, user)
            if pending is None:
                return Unchanged("the pending password is no longer in the keyring")
            self._promote(ctx, user, pending[0])
            return None
        assert plan.policy is not None
        password = ctx.options.password
        generated = password is None
        if password is None:
            password = generate_password(plan.policy)
            # Kept before the login profile exists, under a pending name: a run that dies right
            # after creating it still leaves the password where the next run finds it, and a
            # password that never took effect never replaces the one that did.
            if ctx.secrets.usable():
                stored = datetime.now(UTC).isoformat()
                value = json.dumps({"password": password, "stored": stored})
                ctx.secrets.put(ctx.account_id, user, "pending-password", value)
        started = datetime.now(UTC)
        if not self._create(ctx, user, password, started):
            if generated and ctx.secrets.usable():
                ctx.secrets.delete(ctx.account_id, user, "pending-password")
            ctx.ui.print(
                f"[yellow]Warning:[/] {user} already has a login profile that this run did not "
                "create: it is left alone, and the keyring keeps what it held."
            )
            return Unchanged("the user already had a login profile: left alone")
        if generated:
            self._promote(ctx, user, password)
        ctx.outcome.console_sign_in_url = console_sign_in_url(ctx.account_id, ctx.partition)
        return None

    def _create(self, ctx: StepContext, user: str, password: str, started: datetime) -> bool:
        """CreateLoginProfile, sent once; True when the login profile now in place is this
        run's, False when someone else's was there already."""
        lost = False
        for _ in range(MAX_CREATE_TRIES):
            try:
                ctx.call(
                    "CreateLoginProfile",
                    once=True,
                    about=(("user", user),),
                    UserName=user,
                    Password=password,
                    PasswordResetRequired=True,
                )
                return True
            except AwsError as exc:
                if exc.code == ALREADY_EXISTS:
                    if not lost:
                        return False
                    # After a lost answer: ours if it was created while this run was sending.
                    profile = _login_profile(ctx, user)
                    return profile is not None and _created_since(profile, started)
                if not exc.ambiguous:
                    raise
                lost = True
        raise AwsError(
            f"AWS lost the answer to CreateLoginProfile for {user} {MAX_CREATE_TRIES} times",
            tip="rerun: the keyring keeps the password sent, as pending, until it is known "
            "to be in effect",
            action="iam:CreateLoginProfile",
        )

    def _promote(self, ctx: StepContext, user: str, password: str) -> None:
        """The password is the one in effect: keep it under its own name."""
        ctx.keep_secret(user, "password", password)
        if ctx.secrets.usable():
            ctx.secrets.delete(ctx.account_id, user, "pending-password")


def _created_since(profile: dict[str, Any], since: datetime) -> bool:
    created = profile.get("CreateDate")
    if not isinstance(created, datetime):
        return False
    from remediate.clock import utc

    return utc(created) >= since - CREATED_BY_US_MARGIN


@dataclass(frozen=True)
class AccessKeyPlan:
    """The ids of the user's access keys when the plan looked (none for a new user)."""

    before: frozenset[str]


@register
class AccessKeyStep(Step[AccessKeyPlan]):
    """Programmatic access: one access key, created only when the user has none.

    ```yaml
    - id: access-key
      kind: access-key
      with: {user: alice}
    ```
    A key created by a request whose answer was lost (so nobody holds its secret) is deleted
    before one is created again.
    """

    kind = "access-key"
    fields = {"user": FieldSpec("string", format="iam-user-name")}
    permissions = ("iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey")

    def grants(self, arns: Arns) -> list[Grant]:
        return [Grant(self.permissions, (arns.user(self.params["user"]),))]

    def resource(self, ctx: StepContext) -> str:
        return f"access key of {self.params['user']}"

    def plan(self, ctx: StepContext) -> Change[AccessKeyPlan]:
        user = self.params["user"]
        before: frozenset[str] = frozenset()
        if not ctx.will_create("user", user):
            keys = self._keys(ctx, user)
            if keys:
                ids = ", ".join(sorted(keys))
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
            before = frozenset(keys)
        return Change(
            self.resource(ctx),
            "create",
            [f"create an access key for {user}"],
            makes_secret=True,
            state=AccessKeyPlan(before),
        )

    @staticmethod
    def _keys(ctx: StepContext, user: str) -> set[str]:
        listed = ctx.list(
            "ListAccessKeys", "AccessKeyMetadata", about=(("user", user),), UserName=user
        )
        return {str(k["AccessKeyId"]) for k in listed}

    def apply(self, ctx: StepContext, change: Change[AccessKeyPlan]) -> Unchanged | None:
        user = self.params["user"]
        before = set(change.planned.before)
        if ctx.turned_out_to_exist("user", user):
            # The plan thought the user new (a stale read): look before making a second key.
            before = self._keys(ctx, user)
            if before:
                return Unchanged(f"{user} already had access key(s) {', '.join(sorted(before))}")
        lost = False
        for _ in range(MAX_CREATE_TRIES):
            try:
                key = ctx.call("CreateAccessKey", once=True, about=(("user", user),), UserName=user)
                break
            except AwsError as exc:
                if not exc.ambiguous and not (lost and exc.code == "LimitExceeded"):
                    raise
                lost = True
                self._delete_unheld(ctx, user, keep=before)
        else:
            raise AwsError(
                f"AWS lost the answer to CreateAccessKey for {user} {MAX_CREATE_TRIES} times",
                tip="rerun: keys made by lost requests were deleted, so none is left unheld",
                action="iam:CreateAccessKey",
            )
        new_id = str(key["AccessKey"]["AccessKeyId"])
        secret = key["AccessKey"]["SecretAccessKey"]
        value = json.dumps({"AccessKeyId": new_id, "SecretAccessKey": secret})
        change.resource = new_id
        ctx.keep_secret(user, "access-key", value)
        if lost:
            self._settle(ctx, user, held=new_id, keep=before)
        return None

    def _delete_unheld(self, ctx: StepContext, user: str, *, keep: set[str]) -> list[str]:
        """Delete the keys that appeared during this run's lost requests: nobody holds their
        secret. Returns their ids."""
        unheld = sorted(self._keys(ctx, user) - keep)
        for key_id in unheld:
            ctx.call("DeleteAccessKey", about=(("user", user),), UserName=user, AccessKeyId=key_id)
            ctx.ui.print(
                f"Deleted access key {key_id} of {user}: AWS created it but its answer, with the "
                "secret, was lost, so nobody could use it."
            )
        return unheld

    def _settle(self, ctx: StepContext, user: str, *, held: str, keep: set[str]) -> None:
        """After a lost answer: once IAM lists the key this run holds, any other new key is one
        of the lost requests' (IAM lists keys made before the one it shows)."""
        from remediate.aws.calls import eventually

        def listed() -> set[str] | None:
            keys = self._keys(ctx, user)
            return keys if held in keys else None

        if eventually(f"access key {held} of {user}", listed) is None:
            ctx.ui.print(
                f"[bold red]Warning:[/] IAM does not list access key {held} of {user} yet: "
                "check its keys with `aws iam list-access-keys` and delete any whose secret "
                "is not in the keyring."
            )
            return
        self._delete_unheld(ctx, user, keep=keep | {held})
