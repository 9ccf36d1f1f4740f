"""The iam-user step kind: an IAM user exists with the given tags, and one remediate did not
create is changed only when the person says so (--adopt-existing-user)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from remediate.aws.calls import call_or_none
from remediate.core.errors import InputError
from remediate.steps.access import Access, the_user
from remediate.steps.base import Change, EntityKind, StepContext, Unchanged
from remediate.steps.iam import (
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    create_entity,
    is_managed,
    login_profile,
    tag_changes,
)
from remediate.steps.kind import Step, register
from remediate.steps.params import param

# IAM's limit of tags on one user.
MAX_USER_TAGS = 50


def _date(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else "on an unknown date"


@dataclass(frozen=True)
class UserArgs:
    user: str = param(format="iam-user-name")
    # Added or updated, never removed.
    tags: Mapping[str, str] = param(default={})


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
    args: UserArgs
    access = (
        Access(
            (
                "iam:GetUser",
                "iam:CreateUser",
                "iam:TagUser",
                # What an existing user has, for the plan to say before it is adopted.
                "iam:ListGroupsForUser",
                "iam:ListAccessKeys",
                "iam:GetLoginProfile",
            ),
            the_user,
        ),
    )
    adopts_users = True

    @property
    def user(self) -> str:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return self.args.user

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("user", self.args.user)})

    def _desired(self) -> dict[str, str]:
        given = dict(self.args.tags or {})
        if any(k.casefold() == MANAGED_BY_KEY.casefold() for k in given):
            raise InputError(
                f"step {self.id!r}: the tag key {MANAGED_BY_KEY} is remediate's own: it marks "
                "the users remediate created",
                tip="leave it out of the tags",
            )
        return {**given, MANAGED_BY_KEY: MANAGED_BY_VALUE}

    def plan(self, ctx: StepContext) -> Change[UserPlan]:
        user, desired = self.args.user, self._desired()
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
        facts = self._facts(ctx, user, found["User"].get("CreateDate"))
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
    def _facts(ctx: StepContext, user: str, created: object) -> str:
        """What an existing user has: when it was created, its groups, access keys and console
        access (what taking it over puts at stake)."""
        about: tuple[tuple[EntityKind, str], ...] = (("user", user),)
        groups = ctx.list("ListGroupsForUser", "Groups", about=about, UserName=user)
        keys = ctx.list("ListAccessKeys", "AccessKeyMetadata", about=about, UserName=user)
        profile = login_profile(ctx, user)
        group_text = ", ".join(sorted(str(g["GroupName"]) for g in groups)) or "none"
        key_text = (
            ", ".join(
                f"{k['AccessKeyId']} ({k.get('Status', 'unknown')}, created "
                f"{_date(k.get('CreateDate'))})"
                for k in keys
            )
            or "none"
        )
        console = f"yes (password set {_date(profile.created)})" if profile else "no"
        return (
            f"created {_date(created)}; groups: {group_text}; access keys: "
            f"{key_text}; console access: {console}"
        )

    def preflight(self, ctx: StepContext, change: Change[UserPlan]) -> None:
        if change.planned.adopt and not ctx.options.adopt_existing_user:
            raise InputError(
                f"IAM user {self.args.user} already exists and remediate did not create it (the "
                "plan says what it has): nothing was changed",
                tip="if it is the user you mean, rerun with --adopt-existing-user; otherwise "
                "choose another name",
            )

    def apply(self, ctx: StepContext, change: Change[UserPlan]) -> Unchanged | None:
        user = self.args.user
        tags = [{"Key": k, "Value": v} for k, v in sorted(change.planned.tags.items())]
        if change.change == "create":
            create_entity(ctx, "user", user, "CreateUser", UserName=user, Tags=tags)
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
