"""Root task sessions: a session as a member account's root user, opened with ``sts:AssumeRoot``
and scoped by an AWS task policy, for at most 15 minutes (renewed before it expires).

AWS's model (IAM user guide, "Perform a privileged task on an AWS Organizations member
account"): the management account, or its delegated administrator for IAM, calls AssumeRoot with
``TargetPrincipal`` the member account and ``TaskPolicyArn`` one of the task policies under
``arn:PARTITION:iam::aws:policy/root-task/``; AssumeRoot refuses the global STS endpoint and the
management account itself.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call
from remediate.aws.identity import Identity
from remediate.core.errors import AwsError
from remediate.org.accounts import AccountSession, ThreadCaller

if TYPE_CHECKING:
    from remediate.aws.session import Aws

# A task session lasts at most 900 s (15 minutes): ask for all of it.
TASK_SESSION_SECONDS = 900


def task_policy_arn(task: str, partition: str) -> str:
    """``IAMAuditRootUserCredentials`` -> its ARN in ``partition``."""
    return f"arn:{partition}:iam::aws:policy/root-task/{task}"


class MemberRootSessions(ThreadCaller):
    """Opens a session as a member account's root user, in the calling thread:
    ``sts:AssumeRoot`` with ``TargetPrincipal`` the account and ``TaskPolicyArn`` the AWS task
    policy ``task`` (e.g. IAMDeleteRootUserCredentials), for its maximum of 900 seconds, on the
    regional STS endpoint (AssumeRoot refuses the global one). AssumeRoot cannot target the
    organization's management account: asking for it is a bug of the caller."""

    def __init__(
        self,
        base: Aws,
        own: Identity,
        *,
        task: str,
        management_account_id: str,
        read_only: bool,
    ) -> None:
        self.base = base
        self.own = own
        self.task = task
        self.task_policy_arn = task_policy_arn(task, base.partition)
        self.management_account_id = management_account_id
        self.read_only = read_only
        self._local = threading.local()

    def __call__(self, account_id: str) -> AccountSession:
        # aws.session imports boto3: paid when a session is opened, not when this module is.
        from remediate.aws.session import Aws, sts_credentials

        if account_id == self.management_account_id:
            raise AssertionError(f"{account_id} is the management account: AssumeRoot refuses it")
        caller = self._caller()
        seconds = TASK_SESSION_SECONDS

        def assume_root() -> Any:
            return self._assume_root(caller, account_id, seconds)["Credentials"]

        credentials = sts_credentials(assume_root, method="sts-assume-root", short_lived=True)
        aws = Aws.sharing(caller, credentials, read_only=self.read_only)
        aws.root_task = self.task
        root = Identity(account_id, f"arn:{self.base.partition}:iam::{account_id}:root")
        return AccountSession(aws, root, operator=self.own.arn)

    def _assume_root(self, caller: Aws, account_id: str, seconds: int) -> Any:
        try:
            return call(
                caller.sts,
                "AssumeRoot",
                TargetPrincipal=account_id,
                TaskPolicyArn={"arn": self.task_policy_arn},
                DurationSeconds=seconds,
            )
        except AwsError as exc:
            raise AwsError(
                f"cannot open a root session ({self.task}) in account {account_id}: {exc.message}",
                tip=(
                    "the account must be an active member of the organization, centralized root "
                    "access enabled (`remediate root-credentials centralize`), and the caller "
                    "allowed sts:AssumeRoot with this task policy "
                    "(`remediate permissions --root-credentials`)"
                ),
                code=exc.code,
                action=exc.action,
            ) from exc
