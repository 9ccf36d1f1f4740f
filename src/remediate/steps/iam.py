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

from remediate.aws.errors import ALREADY_EXISTS
from remediate.core.errors import AwsError, InputError
from remediate.core.terminal import safe
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
    from remediate.credentials.passwords import PasswordPolicy

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
        group = (arns.group(self.params["group"]),)
        if self.params.get("existing"):
            return [Grant(("iam:GetGroup",), group)]  # it never creates the group
        return [Grant(self.permissions, group)]

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


# Every user remediate creates carries this tag besides its own: a user without it is someone
# else's, and remediate changes it only when told to (--adopt-existing-user).
MANAGED_BY_KEY = "remediate:managed-by"
MANAGED_BY_VALUE = "remediate"
# IAM's limit of tags on one user.
MAX_USER_TAGS = 50


def is_managed(tags: dict[str, str]) -> bool:
    """Whether a user's tags say remediate created (or adopted) it."""
    return any(
        k.casefold() == MANAGED_BY_KEY.casefold() and v == MANAGED_BY_VALUE for k, v in tags.items()
    )


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else "on an unknown date"


@dataclass(frozen=True)
class UserPlan:
    """The tags to set on the user (all of them for a new user, the changed ones otherwise);
    ``adopt``: the user exists and remediate did not create it."""

    tags: dict[str, str]
    adopt: bool = False


@register
class UserStep(Step[UserPlan]):
    """An IAM user exists with the given tags (added or updated, never removed).

    ```yaml
    - id: user
      kind: iam-user
      with: {user: alice, tags: {Team: security}}
    ```
    A user it creates is also tagged ``remediate:managed-by=remediate``. An existing user without
    that tag is someone else's: the plan says what it has (groups, access keys, console access),
    and applying adopts it (tags it) only with --adopt-existing-user.
    """

    kind = "iam-user"
    fields = {
        "user": FieldSpec("string", format="iam-user-name"),
        "tags": FieldSpec("tags", required=False, default={}),
    }
    permissions = (
        "iam:GetUser",
        "iam:CreateUser",
        "iam:TagUser",
        # What an existing user has, for the plan to say before it is adopted.
        "iam:ListGroupsForUser",
        "iam:ListAccessKeys",
        "iam:GetLoginProfile",
    )
    adopts_users = True

    def grants(self, arns: Arns) -> list[Grant]:
        return [Grant(self.permissions, (arns.user(self.params["user"]),))]

    def resource(self, ctx: StepContext) -> str:
        return str(self.params["user"])

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("user", str(self.params["user"]))})

    def _desired(self) -> dict[str, str]:
        given = dict(self.params.get("tags") or {})
        if any(k.casefold() == MANAGED_BY_KEY.casefold() for k in given):
            raise InputError(
                f"step {self.id!r}: the tag key {MANAGED_BY_KEY} is remediate's own: it marks "
                "the users remediate created",
                tip="leave it out of the tags",
            )
        return {**given, MANAGED_BY_KEY: MANAGED_BY_VALUE}

    def plan(self, ctx: StepContext) -> Change[UserPlan]:
        from remediate.aws.calls import call_or_none

        user, desired = self.params["user"], self._desired()
        found = call_or_none(ctx.iam, "GetUser", UserName=user)
        if found is None:
            _check_tag_count(user, desired)
            ctx.plan_create("user", user)
            details = [f"create IAM user {user}"]
            details += [f"tag {k}={v}" for k, v in sorted(desired.items())]
            return Change(user, "create", details, state=UserPlan(desired))
        ctx.saw("user", user)
        arn = found["User"]["Arn"]
        current = {t["Key"]: t["Value"] for t in found["User"].get("Tags", [])}
        changes = tag_changes(current, desired)
        if not changes:
            return Change(arn, "none")
        _check_tag_count(user, {**current, **changes})
        was = {k.casefold(): v for k, v in current.items()}
        details = [
            f"tag {k}={v}" + (f" (was {was[k.casefold()]})" if k.casefold() in was else "")
            for k, v in sorted(changes.items())
        ]
        if is_managed(current):
            return Change(arn, "update", details, state=UserPlan(changes))
        facts = self._facts(ctx, user, found["User"])
        warning = (
            f"IAM user {user} already exists and remediate did not create it (it has no tag "
            f"{MANAGED_BY_KEY}={MANAGED_BY_VALUE}): {facts}. Applying adopts it: remediate tags "
            "it as its own and changes it as this playbook says, which needs "
            "--adopt-existing-user"
        )
        return Change(
            arn,
            "update",
            [f"adopt the existing IAM user {user}", *details],
            state=UserPlan(changes, adopt=True),
            warnings=[warning],
        )

    @staticmethod
    def _facts(ctx: StepContext, user: str, found: dict[str, Any]) -> str:
        """What an existing user has: when it was created, its groups, access keys and console
        access (what taking it over puts at stake)."""
        about: tuple[tuple[EntityKind, str], ...] = (("user", user),)
        groups = ctx.list("ListGroupsForUser", "Groups", about=about, UserName=user)
        keys = ctx.list("ListAccessKeys", "AccessKeyMetadata", about=about, UserName=user)
        profile = _login_profile(ctx, user)
        group_text = ", ".join(sorted(str(g["GroupName"]) for g in groups)) or "none"
        key_text = (
            ", ".join(
                f"{k['AccessKeyId']} ({k.get('Status', 'unknown')}, created "
                f"{_date(k.get('CreateDate'))})"
                for k in keys
            )
            or "none"
        )
        console = f"yes (password set {_date(profile.get('CreateDate'))})" if profile else "no"
        return (
            f"created {_date(found.get('CreateDate'))}; groups: {group_text}; access keys: "
            f"{key_text}; console access: {console}"
        )

    def preflight(self, ctx: StepContext, change: Change[UserPlan]) -> None:
        if change.planned.adopt and not ctx.options.adopt_existing_user:
            user = self.params["user"]
            raise InputError(
                f"IAM user {user} already exists and remediate did not create it (the plan says "
                "what it has): nothing was changed",
                tip="if it is the user you mean, rerun with --adopt-existing-user; otherwise "
                "choose another name",
            )

    def apply(self, ctx: StepContext, change: Change[UserPlan]) -> Unchanged | None:
        user = self.params["user"]
        tags = [{"Key": k, "Value": v} for k, v in sorted(change.planned.tags.items())]
        if change.change == "create":
            _create(ctx, "user", user, "CreateUser", UserName=user, Tags=tags)
            if not ctx.turned_out_to_exist("user", user):
                return None
            # The plan found no user, yet one is there: this run's own CreateUser resent after a
            # lost answer, or a concurrent remediate run (both tagged it); or someone else's,
            # which is adopted only when the person said so.
            found = ctx.call("GetUser", about=(("user", user),), UserName=user)
            current = {t["Key"]: t["Value"] for t in found["User"].get("Tags", [])}
            if not is_managed(current) and not ctx.options.adopt_existing_user:
                raise InputError(
                    f"IAM user {user} was created by someone else after the plan was made: it "
                    "is left alone",
                    tip="check that it is the user you mean, then rerun with --adopt-existing-user",
                )
            if not tag_changes(current, change.planned.tags):
                return Unchanged(f"IAM user {user} existed already")
        # Tagging with the tags it has changes nothing: a resent request is harmless.
        ctx.call("TagUser", about=(("user", user),), UserName=user, Tags=tags)
        return None


def _check_tag_count(user: str, tags: dict[str, str]) -> None:
    count = len({k.casefold() for k in tags})
    if count > MAX_USER_TAGS:
        raise InputError(
            f"too many tags for IAM user {user}: {count}, with remediate's own "
            f"{MANAGED_BY_KEY} (IAM allows {MAX_USER_TAGS} on a user)",
            tip=f"give at most {MAX_USER_TAGS - 1} tags",
        )


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
    fields = {
        "user": FieldSpec("string", format="iam-user-name"),
        "group": FieldSpec("string", format="iam-group-name"),
        "privileged": FieldSpec("bool", required=False, default=False),
    }
    permissions = ("iam:ListGroupsForUser", "iam:AddUserToGroup", "iam:ListMFADevices")
    # The user's groups; and, for a privileged group the run enrolls no MFA for, their MFA devices.
    reads_per_plan = 2

    def grants(self, arns: Arns) -> list[Grant]:
        # AddUserToGroup is authorized on the group alone: IAM cannot limit which user joins.
        return [
            Grant(
                ("iam:ListGroupsForUser", "iam:ListMFADevices"), (arns.user(self.params["user"]),)
            ),
            Grant(("iam:AddUserToGroup",), (arns.group(self.params["group"]),)),
        ]

    def resource(self, ctx: StepContext) -> str:
        return f"{self.params['user']} in {self.params['group']}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("member", f"{self.params['user']} in {self.params['group']}")})

    def plan(self, ctx: StepContext) -> Change[None]:
        user, group = self.params["user"], self.params["group"]
        ctx.outcome.group = group
        member = False
        if not ctx.will_create("user", user):
            groups = ctx.list("ListGroupsForUser", "Groups", about=(("user", user),), UserName=user)
            member = any(g["GroupName"].casefold() == group.casefold() for g in groups)
        warnings = []
        if self.params.get("privileged") and not self._second_factor(ctx, user):
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
        user, group = self.params["user"], self.params["group"]
        # Adding a member twice changes nothing: a resent request is harmless.
        ctx.call(
            "AddUserToGroup",
            about=(("user", user), ("group", group)),
            UserName=user,
            GroupName=group,
        )


def _account_password_policy(ctx: StepContext) -> dict[str, Any] | None:
    """The account's own password policy, or ``None`` where none is set (AWS's default applies)."""
    from remediate.aws.calls import call_or_none

    found = call_or_none(ctx.iam, "GetAccountPasswordPolicy")
    return dict(found["PasswordPolicy"]) if found else None


def console_sign_in_url(account_id: str, partition: str) -> str | None:
    """The account's IAM user sign-in page, where the partition's is documented."""
    domain = _SIGN_IN_DOMAINS.get(partition)
    return f"https://{account_id}.{domain}/console" if domain else None


def _login_profile(ctx: StepContext, user: str) -> dict[str, Any] | None:
    from remediate.aws.calls import call_or_none

    found = call_or_none(ctx.iam, "GetLoginProfile", UserName=user)
    return found["LoginProfile"] if found else None


@dataclass(frozen=True)
class PendingPassword:
    """A password an earlier run kept before setting it, when, and whether it was for a reset
    (UpdateLoginProfile) rather than a new login profile."""

    password: str
    stored: datetime
    reset: bool = False


def _pending_password(ctx: StepContext, user: str) -> PendingPassword | None:
    """A password an earlier run kept before it set it (created the login profile, or reset
    its password)."""
    if not ctx.secrets.usable():
        return None
    raw = ctx.secrets.get(ctx.account_id, user, "pending-password")
    if not raw:
        return None
    try:
        kept = json.loads(raw)
        return PendingPassword(
            str(kept["password"]),
            datetime.fromisoformat(kept["stored"]),
            reset=kept.get("reset") is True,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _keep_pending(ctx: StepContext, user: str, password: str, *, reset: bool) -> None:
    """Keep a generated password before it is set, under a pending name: a run that dies right
    after setting it still leaves it where the next run finds it, and a password that never took
    effect never replaces the one that did."""
    if ctx.secrets.usable():
        stored = datetime.now(UTC).isoformat()
        kept: dict[str, Any] = {"password": password, "stored": stored}
        if reset:
            kept["reset"] = True
        ctx.secrets.put(ctx.account_id, user, "pending-password", json.dumps(kept))


# The AWS managed policy the console attaches to a user who must reset their password when the
# account's password policy does not let users change their own.
CHANGE_PASSWORD_POLICY = "IAMUserChangePassword"  # noqa: S105 (a policy name)


@dataclass(frozen=True)
class LoginProfilePlan:
    """What the step does, in order: ``attach`` IAMUserChangePassword (its ARN) first; then a
    new login profile with a password meeting ``policy``; or ``promote`` the pending password of
    an interrupted run that created the login profile; or set a new password on the existing one
    (``reset``, or ``finish_reset`` with the pending password of an interrupted reset)."""

    policy: PasswordPolicy | None = None
    promote: bool = False
    reset: bool = False
    finish_reset: bool = False
    attach: str | None = None


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
    alone (a rerun never resets a password) unless --reset-password asks for a new generated one.
    When the account's password policy does not let users change their own password, the AWS
    managed policy IAMUserChangePassword is attached to the user first, as the console does, so
    that they can complete the forced reset.
    """

    kind = "login-profile"
    fields = {"user": FieldSpec("string", format="iam-user-name")}
    # The login profile; and, until the user has reset their password, the account's password
    # policy and the user's attached policies (is IAMUserChangePassword still there?).
    reads_per_plan = 3
    permissions = (
        "iam:GetLoginProfile",
        "iam:GetAccountPasswordPolicy",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:ListAttachedUserPolicies",
        "iam:AttachUserPolicy",
    )
    takes_password = True
    resets_password = True
    writes_per_change = 2  # AttachUserPolicy, then CreateLoginProfile or UpdateLoginProfile

    def grants(self, arns: Arns) -> list[Grant]:
        user = (arns.user(self.params["user"]),)
        policy = managed_policy_arn(CHANGE_PASSWORD_POLICY, arns.partition)
        return [
            Grant(
                (
                    "iam:GetLoginProfile",
                    "iam:CreateLoginProfile",
                    "iam:UpdateLoginProfile",
                    "iam:ListAttachedUserPolicies",
                ),
                user,
            ),
            # AttachUserPolicy is scoped to the user only: the condition keeps it to this policy.
            Grant(("iam:AttachUserPolicy",), user, {"ArnEquals": {"iam:PolicyARN": policy}}),
            Grant(("iam:GetAccountPasswordPolicy",), (ANY_RESOURCE,)),
        ]

    def resource(self, ctx: StepContext) -> str:
        return f"login profile of {self.params['user']}"

    def plan(self, ctx: StepContext) -> Change[LoginProfilePlan]:
        from remediate.credentials.passwords import PasswordPolicy, check_password

        user = self.params["user"]
        new_user = ctx.will_create("user", user)
        profile = None if new_user else _login_profile(ctx, user)
        if profile is not None and not ctx.options.reset_password:
            return self._existing(ctx, user, profile)
        account_policy = _account_password_policy(ctx)
        attach = self._change_password_policy(ctx, user, account_policy, new_user=new_user)
        details = [self._attach_detail(user, account_policy)] if attach else []
        policy = PasswordPolicy.from_aws(account_policy)
        if profile is not None:
            return Change(
                self.resource(ctx),
                "update",
                [
                    *details,
                    f"set a new password for {user}, generated to the {policy.source}, to be "
                    "reset at first sign-in (--reset-password); the keyring's is replaced",
                ],
                makes_secret=True,
                state=LoginProfilePlan(policy, reset=True, attach=attach),
            )
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
        details.append(f"console access for {user} with {how}, to be reset at first sign-in")
        if ctx.options.reset_password:
            details.append("(--reset-password: there is no login profile yet, so one is created)")
        return Change(
            self.resource(ctx),
            "create",
            details,
            makes_secret=given is None and not ctx.options.password_prompt,
            state=LoginProfilePlan(policy, attach=attach),
        )

    def _existing(
        self, ctx: StepContext, user: str, profile: dict[str, Any]
    ) -> Change[LoginProfilePlan]:
        """A login profile exists and no new password was asked for."""
        pending = _pending_password(ctx, user)
        finish = pending is not None and pending.reset
        promote = pending is not None and not finish and _created_since(profile, pending.stored)
        # Until the user sets their own password, they need the right to (an interrupted run
        # may have created the profile before attaching it).
        reset_required = bool(profile.get("PasswordResetRequired")) or finish or promote
        attach = None
        details: list[str] = []
        if reset_required:
            account_policy = _account_password_policy(ctx)
            attach = self._change_password_policy(ctx, user, account_policy, new_user=False)
            if attach:
                details.append(self._attach_detail(user, account_policy))
        if finish:
            details.append("set again the new password of the interrupted run that reset it")
        elif promote:
            details.append("keep the password of the interrupted run that created it")
        else:
            details.append("existing login profile left alone")
            if (
                reset_required
                and ctx.secrets.usable()
                and ctx.secrets.get(ctx.account_id, user, "password") is None
            ):
                details.append(
                    f"{user} has not set their own password yet (a reset is still required) "
                    "and the keyring holds none: if it never reached them, nobody knows it; "
                    "--reset-password sets a new one"
                )
        if not (attach or finish or promote):
            return Change(self.resource(ctx), "none", details)
        return Change(
            self.resource(ctx),
            "update",
            details,
            state=LoginProfilePlan(promote=promote, finish_reset=finish, attach=attach),
        )

    @staticmethod
    def _change_password_policy(
        ctx: StepContext, user: str, account_policy: dict[str, Any] | None, *, new_user: bool
    ) -> str | None:
        """IAMUserChangePassword's ARN when the user must be given it: the account's password
        policy does not let users change their own (none set: AWS's default does not either),
        and it is not attached yet."""
        if account_policy is not None and account_policy.get("AllowUsersToChangePassword"):
            return None
        arn = managed_policy_arn(CHANGE_PASSWORD_POLICY, ctx.partition)
        if not new_user:
            attached = ctx.list(
                "ListAttachedUserPolicies",
                "AttachedPolicies",
                about=(("user", user),),
                UserName=user,
            )
            if any(p["PolicyArn"] == arn for p in attached):
                return None
        return arn

    @staticmethod
    def _attach_detail(user: str, account_policy: dict[str, Any] | None) -> str:
        why = (
            "without an account password policy users may not change their own"
            if account_policy is None
            else "the account's password policy does not let users change their own"
        )
        return (
            f"attach the AWS managed policy {CHANGE_PASSWORD_POLICY} to {user}, as the console "
            f"does: {user} must set a new password at first sign-in, and {why}"
        )

    def password_policy(self, change: Change[LoginProfilePlan]) -> PasswordPolicy | None:
        plan = change.state
        return plan.policy if plan is not None and not plan.promote else None

    def apply(self, ctx: StepContext, change: Change[LoginProfilePlan]) -> Unchanged | None:
        from remediate.credentials.passwords import generate_password

        user = self.params["user"]
        plan = change.planned
        ctx.outcome.user = user
        if plan.attach:
            # Before the password is set: whoever signs in with it can then complete the reset.
            # Attaching an attached policy changes nothing: a resent request is harmless.
            ctx.call(
                "AttachUserPolicy", about=(("user", user),), UserName=user, PolicyArn=plan.attach
            )
        if plan.promote or plan.finish_reset:
            pending = _pending_password(ctx, user)
            if pending is None:
                if plan.attach:
                    return None
                return Unchanged("the pending password is no longer in the keyring")
            if plan.finish_reset:
                self._update(ctx, user, pending.password)
            self._promote(ctx, user, pending.password)
            return None
        if plan.reset:
            assert plan.policy is not None
            password = generate_password(plan.policy)
            _keep_pending(ctx, user, password, reset=True)
            self._update(ctx, user, password)
            self._promote(ctx, user, password)
            return None
        if plan.policy is None:
            return None  # only the attachment was missing
        given = ctx.options.password
        generated = given is None
        password = generate_password(plan.policy) if given is None else given
        if generated:
            _keep_pending(ctx, user, password, reset=False)
        started = datetime.now(UTC)
        if not self._create(ctx, user, password, started):
            if generated and ctx.secrets.usable():
                ctx.secrets.delete(ctx.account_id, user, "pending-password")
            ctx.ui.print(
                f"[yellow]Warning:[/] {safe(user)} already has a login profile that this run did "
                "not create: it is left alone, and the keyring keeps what it held."
            )
            if plan.attach:
                change.details.append("the user already had a login profile: left alone")
                return None
            return Unchanged("the user already had a login profile: left alone")
        if generated:
            self._promote(ctx, user, password)
        self._sign_in_url(ctx, user)
        return None

    @staticmethod
    def _update(ctx: StepContext, user: str, password: str) -> None:
        # Setting the same password again changes nothing: a resent request is harmless.
        ctx.call(
            "UpdateLoginProfile",
            about=(("user", user),),
            UserName=user,
            Password=password,
            PasswordResetRequired=True,
        )

    @staticmethod
    def _sign_in_url(ctx: StepContext, user: str) -> None:
        url = console_sign_in_url(ctx.account_id, ctx.partition)
        ctx.outcome.console_sign_in_url = url
        if url and ctx.secrets.usable() and ctx.secrets.get(ctx.account_id, user, "password"):
            # `secrets show --what console` hands it over with the password.
            ctx.secrets.note_sign_in_url(ctx.account_id, user, url)

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
                    return self._ours_after_loss(ctx, user, started)
                if not exc.ambiguous:
                    raise
                lost = True
        raise AwsError(
            f"AWS lost the answer to CreateLoginProfile for {user} {MAX_CREATE_TRIES} times",
            tip="rerun: the keyring keeps the password sent, as pending, until it is known "
            "to be in effect",
            action="iam:CreateLoginProfile",
        )

    @staticmethod
    def _ours_after_loss(ctx: StepContext, user: str, started: datetime) -> bool:
        """After a lost answer, "already exists" may be this run's own login profile, which IAM
        may not show yet: a "no such entity" then proves nothing, so wait until IAM shows it. It
        is ours if IAM dates it from when this run was sending."""
        from remediate.aws.calls import eventually

        profile = eventually(f"the login profile of {user}", lambda: _login_profile(ctx, user))
        if profile is None:
            # Unknown whose it is: the password sent stays pending, for the rerun to judge.
            raise AwsError(
                f"IAM says {user} has a login profile but does not show it: whether it is this "
                "run's is unknown",
                tip="rerun: the keyring keeps the password sent, as pending, until it is known "
                "to be in effect",
                action="iam:GetLoginProfile",
            )
        return _created_since(profile, started)

    def _promote(self, ctx: StepContext, user: str, password: str) -> None:
        """The password is the one in effect: keep it under its own name."""
        ctx.keep_secret(user, "password", password)
        if ctx.secrets.usable():
            ctx.secrets.delete(ctx.account_id, user, "pending-password")
        self._sign_in_url(ctx, user)


def _created_since(profile: dict[str, Any], since: datetime) -> bool:
    created = profile.get("CreateDate")
    if not isinstance(created, datetime):
        return False
    from remediate.core.clock import utc

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
    gives_access_key = True

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
                details = [f"{user} already has access key{'s' * (len(keys) != 1)} {ids}"]
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
                keys = "access key" + "s" * (len(before) != 1)
                return Unchanged(f"{user} already had {keys} {', '.join(sorted(before))}")
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
