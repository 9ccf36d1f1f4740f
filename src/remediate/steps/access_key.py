"""The access-key step kind: programmatic access, one access key created only when the user has
none; a key whose secret nobody holds (its answer lost) is deleted."""

from __future__ import annotations

import json
from dataclasses import dataclass

from remediate.aws.calls import eventually
from remediate.core.errors import AwsError
from remediate.steps.access import Access, the_user
from remediate.steps.base import Change, StepContext, Unchanged
from remediate.steps.iam import MAX_CREATE_TRIES
from remediate.steps.kind import Step, register
from remediate.steps.params import param


@dataclass(frozen=True)
class AccessKeyArgs:
    user: str = param(format="iam-user-name")


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
    args: AccessKeyArgs
    access = (
        Access(("iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey"), the_user),
    )
    gives_access_key = True

    @property
    def user(self) -> str:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return f"access key of {self.args.user}"

    def plan(self, ctx: StepContext) -> Change[AccessKeyPlan]:
        user = self.args.user
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
        user = self.args.user
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
