"""The login-profile step kind: console access, with a password that must be reset at first
sign-in, kept in the keyring as pending until it is known to be in effect.

A password is kept before it is sent: a run that dies right after setting it still leaves it
where the next run finds it (and promotes it once IAM dates the login profile from that run), and
a password that never took effect never replaces the one that did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remediate.aws.calls import call_or_none, eventually
from remediate.aws.errors import ALREADY_EXISTS
from remediate.core.clock import utc
from remediate.core.errors import AwsError
from remediate.core.terminal import safe
from remediate.credentials import passwords
from remediate.credentials.passwords import PasswordPolicy, check_password
from remediate.steps.access import Access, Arns, anywhere, only_policy, the_user
from remediate.steps.base import Change, StepContext, Unchanged
from remediate.steps.iam import (
    MAX_CREATE_TRIES,
    LoginProfile,
    console_sign_in_url,
    login_profile,
    managed_policy_arn,
)
from remediate.steps.kind import Step, register
from remediate.steps.params import param

# A login profile created this long before the run sent its own is not the run's (clock skew
# between this machine and AWS is warned about above 30 s).
CREATED_BY_US_MARGIN = timedelta(seconds=60)
# The AWS managed policy the console attaches to a user who must reset their password when the
# account's password policy does not let users change their own.
CHANGE_PASSWORD_POLICY = "IAMUserChangePassword"  # noqa: S105 (a policy name)


@dataclass(frozen=True)
class AccountPasswordPolicy:
    """The account's own password policy, as IAM's GetAccountPasswordPolicy answers: the
    passwords it asks for (AWS's default where ``is_set`` is false), and whether it lets users
    change their own password."""

    passwords: PasswordPolicy
    is_set: bool = False
    users_may_change: bool = False


def _account_password_policy(ctx: StepContext) -> AccountPasswordPolicy:
    found = call_or_none(ctx.iam, "GetAccountPasswordPolicy")
    if not found:
        return AccountPasswordPolicy(PasswordPolicy.from_aws(None))
    policy = dict(found["PasswordPolicy"])
    return AccountPasswordPolicy(
        PasswordPolicy.from_aws(policy),
        is_set=True,
        users_may_change=bool(policy.get("AllowUsersToChangePassword")),
    )


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
        kept: dict[str, str | bool] = {"password": password, "stored": stored}
        if reset:
            kept["reset"] = True
        ctx.secrets.put(ctx.account_id, user, "pending-password", json.dumps(kept))


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


@dataclass(frozen=True)
class LoginProfileArgs:
    user: str = param(format="iam-user-name")


def _change_password_policy_arn(args: LoginProfileArgs, arns: Arns) -> str:
    return managed_policy_arn(CHANGE_PASSWORD_POLICY, arns.partition)


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
    args: LoginProfileArgs
    access = (
        Access(
            (
                "iam:GetLoginProfile",
                "iam:CreateLoginProfile",
                "iam:UpdateLoginProfile",
                "iam:ListAttachedUserPolicies",
            ),
            the_user,
        ),
        # AttachUserPolicy is scoped to the user only: the condition keeps it to this policy.
        Access(("iam:AttachUserPolicy",), the_user, only_policy(_change_password_policy_arn)),
        Access(("iam:GetAccountPasswordPolicy",), anywhere),
    )
    # The login profile; and, until the user has reset their password, the account's password
    # policy and the user's attached policies (is IAMUserChangePassword still there?).
    reads_per_plan = 3
    takes_password = True
    resets_password = True
    writes_per_change = 2  # AttachUserPolicy, then CreateLoginProfile or UpdateLoginProfile

    @property
    def user(self) -> str:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return f"login profile of {self.args.user}"

    def plan(self, ctx: StepContext) -> Change[LoginProfilePlan]:
        user = self.args.user
        new_user = ctx.will_create("user", user)
        profile = None if new_user else login_profile(ctx, user)
        if profile is not None and not ctx.options.reset_password:
            return self._existing(ctx, user, profile)
        account_policy = _account_password_policy(ctx)
        attach = self._change_password_policy(ctx, user, account_policy, new_user=new_user)
        details = [self._attach_detail(user, account_policy)] if attach else []
        policy = account_policy.passwords
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
        self, ctx: StepContext, user: str, profile: LoginProfile
    ) -> Change[LoginProfilePlan]:
        """A login profile exists and no new password was asked for."""
        pending = _pending_password(ctx, user)
        finish = pending is not None and pending.reset
        promote = pending is not None and not finish and _created_since(profile, pending.stored)
        # Until the user sets their own password, they need the right to (an interrupted run
        # may have created the profile before attaching it).
        reset_required = profile.reset_required or finish or promote
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
        ctx: StepContext, user: str, account_policy: AccountPasswordPolicy, *, new_user: bool
    ) -> str | None:
        """IAMUserChangePassword's ARN when the user must be given it: the account's password
        policy does not let users change their own (none set: AWS's default does not either),
        and it is not attached yet."""
        if account_policy.users_may_change:
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
    def _attach_detail(user: str, account_policy: AccountPasswordPolicy) -> str:
        why = (
            "without an account password policy users may not change their own"
            if not account_policy.is_set
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
        user = self.args.user
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
            password = passwords.generate_password(plan.policy)
            _keep_pending(ctx, user, password, reset=True)
            self._update(ctx, user, password)
            self._promote(ctx, user, password)
            return None
        if plan.policy is None:
            return None  # only the attachment was missing
        given = ctx.options.password
        generated = given is None
        password = passwords.generate_password(plan.policy) if given is None else given
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
        profile = eventually(f"the login profile of {user}", lambda: login_profile(ctx, user))
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


def _created_since(profile: LoginProfile, since: datetime) -> bool:
    if profile.created is None:
        return False
    return utc(profile.created) >= since - CREATED_BY_US_MARGIN
