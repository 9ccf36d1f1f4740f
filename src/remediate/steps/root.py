"""Step kinds that delete the root user's own credentials: access keys, signing certificates,
login profile; MFA devices deactivated.

They act on the root user by omitting ``UserName``, which IAM allows only to root itself: with
root's own access keys, or in an ``sts:AssumeRoot`` task session opened by an organization's
management account. Each refuses to plan under any other caller, since the same calls would then
act on the caller's own IAM user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from remediate.aws.errors import ACCESS_DENIED_CODES, NOT_FOUND_CODES
from remediate.core.errors import AwsError, InputError
from remediate.detect.judge import is_root_arn
from remediate.org.root_credentials import (
    access_keys,
    login_profile,
    mfa_devices,
    signing_certificates,
)
from remediate.steps.access import Access, anywhere
from remediate.steps.base import Change, StepContext
from remediate.steps.kind import Step, register
from remediate.steps.params import NoParams, param

if TYPE_CHECKING:
    from datetime import datetime

ROOT_CALLER_TIP = (
    "in an AWS Organization, `remediate root-credentials delete --accounts ACCOUNT_ID` from the "
    "management account deletes a member account's root credentials (through sts:AssumeRoot); "
    "in a standalone account, root's own access keys can delete only root's access keys and "
    "signing certificates: remove its password and MFA devices in the console"
)

# IAM lets only an AssumeRoot session omit UserName for these (botocore's IAM model, on
# GetLoginProfile, DeleteLoginProfile and DeactivateMFADevice): root's own keys cannot.
CONSOLE_ONLY = (
    "with root's own credentials IAM removes neither root's console password nor its MFA "
    "devices (only an sts:AssumeRoot session can): sign in to the AWS Management Console as the "
    "root user, open the account menu (top right), choose Security credentials, then under "
    "Multi-factor authentication (MFA) remove each device and under Console password choose "
    "Remove (keep a way to recover root: the account's email address)"
)


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "unknown date"


def _delete_tolerating_gone(ctx: StepContext, operation: str, **params: Any) -> bool:
    """Delete something; ``False`` when it was already gone (a concurrent run, or a retried
    request whose first attempt worked): the same end state. A 409 is waited out."""
    try:
        ctx.call(operation, **params)
    except AwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return False
        raise
    return True


@dataclass(frozen=True)
class Doomed:
    """What the plan found to delete (or deactivate), in the order to do it."""

    ids: tuple[str, ...]


class _RootCredentialStep(Step[Doomed]):
    """Acts on the root user: plans only when the caller is root.

    Its ``access`` is what root's own credentials, or an AssumeRoot task session whose task
    policy is its permissions, need: the operator's policy needs nothing for these calls."""

    acts_as_root = True
    noun: ClassVar[str]  # e.g. "access keys"

    def resource(self, ctx: StepContext) -> str:
        return f"root user's {self.noun} in {ctx.account_id}"

    def require_root(self, ctx: StepContext) -> None:
        if ctx.caller_arn is None or not is_root_arn(ctx.caller_arn):
            raise InputError(
                f"only the root user itself can delete root's {self.noun} (omitting UserName "
                f"would act on the caller), and the caller is {ctx.caller_arn or 'unknown'}",
                tip=ROOT_CALLER_TIP,
            )

    # IAM allows it only in an sts:AssumeRoot session (not with root's own keys).
    needs_root_session: ClassVar[bool] = False
    # GetAccountSummary's flag for this credential: what root's own keys can still learn.
    summary_flag: ClassVar[str] = ""

    def plan(self, ctx: StepContext) -> Change[Doomed]:
        self.require_root(ctx)
        if self.needs_root_session and ctx.aws.root_task is None:
            if self._present(ctx) is False:
                return Change(self.resource(ctx), "none", [f"the root user has no {self.noun}"])
            # Planned as nothing to do, and said so: the API cannot, only the console can.
            return Change(self.resource(ctx), "none", [CONSOLE_ONLY], warnings=[CONSOLE_ONLY])
        found = self.find(ctx)
        if not found:
            return Change(self.resource(ctx), "none", [f"the root user has no {self.noun}"])
        ids = tuple(i for i, _ in found)
        return Change(self.resource(ctx), "delete", [text for _, text in found], state=Doomed(ids))

    def find(self, ctx: StepContext) -> list[tuple[str, str]]:
        """(id, what the plan says about it) of each credential to remove, in order."""
        raise NotImplementedError

    def _present(self, ctx: StepContext) -> bool | None:
        """Whether root has this credential, by GetAccountSummary (root's own keys may call it;
        not declared in ``permissions``: an AssumeRoot session never asks), or None if unknown."""
        try:
            summary = ctx.call("GetAccountSummary").get("SummaryMap") or {}
        except AwsError as exc:
            # An SCP may deny it: then the console warning stands, as without the answer.
            if exc.code not in ACCESS_DENIED_CODES:
                raise
            return None
        value = summary.get(self.summary_flag)
        return None if value is None else bool(value)


@dataclass(frozen=True)
class RootAccessKeysArgs:
    # The IAM user who takes over from root: its keys go only once this run makes sure that
    # user exists, has an MFA device and (with ``group``) is in that group.
    administrator: str | None = param(format="iam-user-name", default=None)
    group: str | None = param(format="iam-group-name", default=None)


@register
class RootAccessKeysStep(_RootCredentialStep):
    """The root user has no access keys.

    ```yaml
    - id: root-access-keys
      kind: root-access-keys-deleted
      with: {administrator: alice, group: Administrators}
    ```
    Runs as root (its own keys, or an sts:AssumeRoot task session). With ``administrator``, the
    keys are deleted only if the earlier steps of the run ensure that this IAM user exists, has an
    MFA device and (with ``group``) is in that group, and the keyring keeps no seed of that device
    (a second factor beside the password is none); otherwise the run stops before any change.
    The key the run itself signs with is deleted last.
    """

    kind = "root-access-keys-deleted"
    args: RootAccessKeysArgs
    access = (Access(("iam:ListAccessKeys", "iam:DeleteAccessKey"), anywhere),)
    writes_per_change = 2  # root has at most two access keys
    noun = "access keys"
    needs_unheld_mfa = True
    removes_root_access_keys = True

    @property
    def user(self) -> str | None:
        return self.args.administrator

    def find(self, ctx: StepContext) -> list[tuple[str, str]]:
        own = ctx.aws.access_key_id
        keys = sorted(access_keys(ctx.iam), key=lambda k: k.access_key_id == own)
        return [
            (
                k.access_key_id,
                f"delete root access key {k.access_key_id} ({k.status}, created "
                f"{_date(k.create_date)})"
                + (": the key this run signs with, deleted last" if k.access_key_id == own else ""),
            )
            for k in keys
        ]

    def plan(self, ctx: StepContext) -> Change[Doomed]:
        change = super().plan(ctx)
        if change.change != "none":
            # At plan time, so that a dry run says so too: exit 2 before any change.
            self._require_administrator(ctx)
        return change

    def _require_administrator(self, ctx: StepContext) -> None:
        admin = self.args.administrator
        if not admin:
            return
        group = self.args.group
        required = {
            ("user", admin): f"the IAM user {admin} exists",
            ("mfa", admin): f"{admin} has an MFA device",
        }
        if group:
            required[("member", f"{admin} in {group}")] = f"{admin} is in group {group}"
        missing = [text for need, text in required.items() if need not in ctx.ensured]
        if missing:
            raise InputError(
                "root's access keys are deleted only once the administrator can take over, and "
                f"this run does not make sure that {' and that '.join(missing)}",
                tip="keep those steps in the run (for root-use: drop --no-mfa), then rerun",
            )
        self._require_unheld_seed(ctx, admin)

    @staticmethod
    def _require_unheld_seed(ctx: StepContext, admin: str) -> None:
        """The administrator's second factor must be one the keyring does not hold: a seed an
        earlier --mfa-auto run kept beside the password makes one keyring a way in. A pending
        device's seed is forgotten by the run that enables it with its owner's codes (--mfa-auto
        itself is refused before any plan: remediate.commands.requests)."""
        secrets = ctx.secrets
        if not secrets.usable() or secrets.get(ctx.account_id, admin, "mfa-seed") is None:
            return
        if secrets.pending_mfa(ctx.account_id, admin) is not None:
            return
        raise InputError(
            f"the keyring keeps the seed of {admin}'s MFA device: it defeats MFA until "
            f"forgotten, and root's access keys are deleted only once {admin} has a second "
            "factor the keyring does not hold",
            tip=f"once {admin} has scanned it (remediate secrets show {admin} --what mfa-qr), "
            f"forget it with `remediate secrets forget {admin}`, then rerun",
        )

    def apply(self, ctx: StepContext, change: Change[Doomed]) -> None:
        own = ctx.aws.access_key_id
        for key_id in change.planned.ids:
            _delete_tolerating_gone(ctx, "DeleteAccessKey", AccessKeyId=key_id)
        if own in change.planned.ids:
            admin = self.args.administrator
            ctx.ui.print(
                "The root access key this run signed with is deleted: it no longer works"
                + (f"; sign in as {admin} from now on." if admin else ".")
            )


@register
class RootSigningCertificatesStep(_RootCredentialStep):
    """The root user has no signing certificates.

    ```yaml
    - id: root-signing-certificates
      kind: root-signing-certificates-deleted
    ```
    Runs as root (its own keys, or an sts:AssumeRoot task session).
    """

    kind = "root-signing-certificates-deleted"
    args: NoParams
    access = (Access(("iam:ListSigningCertificates", "iam:DeleteSigningCertificate"), anywhere),)
    writes_per_change = 2
    noun = "signing certificates"

    def find(self, ctx: StepContext) -> list[tuple[str, str]]:
        return [
            (
                c.certificate_id,
                f"delete root signing certificate {c.certificate_id} ({c.status}, uploaded "
                f"{_date(c.upload_date)})",
            )
            for c in signing_certificates(ctx.iam)
        ]

    def apply(self, ctx: StepContext, change: Change[Doomed]) -> None:
        for cert_id in change.planned.ids:
            _delete_tolerating_gone(ctx, "DeleteSigningCertificate", CertificateId=cert_id)


@register
class RootLoginProfileStep(_RootCredentialStep):
    """The root user has no console password (login profile).

    ```yaml
    - id: root-login-profile
      kind: root-login-profile-deleted
    ```
    Runs in an sts:AssumeRoot task session only: with root's own keys (a standalone account) IAM
    cannot remove root's password, so the plan says how to, in the console. In an organization
    with root sessions enabled, the member's root password can be recovered later if needed.
    """

    kind = "root-login-profile-deleted"
    args: NoParams
    access = (Access(("iam:GetLoginProfile", "iam:DeleteLoginProfile"), anywhere),)
    noun = "console password"
    needs_root_session = True
    summary_flag = "AccountPasswordPresent"

    def find(self, ctx: StepContext) -> list[tuple[str, str]]:
        created = login_profile(ctx.iam)
        if created is None:
            return []
        return [("login-profile", f"delete root's console password (set {_date(created)})")]

    def apply(self, ctx: StepContext, change: Change[Doomed]) -> None:
        _delete_tolerating_gone(ctx, "DeleteLoginProfile")


@register
class RootMfaDevicesStep(_RootCredentialStep):
    """The root user has no MFA device.

    ```yaml
    - id: root-mfa-devices
      kind: root-mfa-devices-deactivated
    ```
    Runs in an sts:AssumeRoot task session only (with root's own keys the plan gives the console
    steps instead). Meant to run after root's password and keys are gone: MFA protects nothing
    once there is nothing to sign in with.
    """

    kind = "root-mfa-devices-deactivated"
    args: NoParams
    access = (Access(("iam:ListMFADevices", "iam:DeactivateMFADevice"), anywhere),)
    writes_per_change = 8  # root may have up to eight MFA devices
    noun = "MFA devices"
    needs_root_session = True
    summary_flag = "AccountMFAEnabled"

    def find(self, ctx: StepContext) -> list[tuple[str, str]]:
        return [
            (
                d.serial_number,
                f"deactivate root MFA device {d.serial_number} (enabled {_date(d.enable_date)})",
            )
            for d in mfa_devices(ctx.iam)
        ]

    def apply(self, ctx: StepContext, change: Change[Doomed]) -> None:
        for serial in change.planned.ids:
            _delete_tolerating_gone(ctx, "DeactivateMFADevice", SerialNumber=serial)
