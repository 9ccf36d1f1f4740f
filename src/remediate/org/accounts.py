"""Accounts: the organization's active accounts, and a session in each one.

A session is opened in the thread that uses it: the caller's own credentials in its own
account, else ``sts:AssumeRole`` on the member role (:class:`MemberAccounts`), or
``sts:AssumeRoot`` as the member's root user (:class:`remediate.org.root_sessions.
MemberRootSessions`). Both kinds of credentials renew themselves before they expire: a
confirmation can take longer than the hour a role session lasts.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call, paginate
from remediate.aws.identity import Identity
from remediate.core.errors import AwsError, InputError, RemediateError

if TYPE_CHECKING:
    from remediate.aws.session import Aws

log = logging.getLogger(__name__)

ORGANIZATIONS_TIP = (
    "sweep from the organization's management account or a delegated administrator, "
    "or name the accounts with --accounts ID,ID,..."
)
# ListAccounts' answers to a caller that is not the management account or a delegated
# administrator, or to an account in no organization.
_NOT_FROM_HERE = frozenset(
    {"AWSOrganizationsNotInUseException", "AccessDeniedException", "AccessDenied"}
)
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]", re.ASCII)
MAX_SESSION_NAME = 64


@dataclass(frozen=True)
class Target:
    """An account to work on: its id and, where Organizations says, its name."""

    account_id: str
    account_name: str | None = None


@dataclass(frozen=True)
class AccountSession:
    """A session in one account and who the caller is there (for the audit trail).

    ``operator`` is who opened the session when that is not ``identity`` itself: in a root task
    session the calls come from the member's root user, on behalf of the operator's ARN.
    """

    aws: Aws
    identity: Identity
    operator: str | None = None


def _organization_accounts(base: Aws) -> list[dict[str, Any]]:
    """``organizations:ListAccounts``, every page, with a tip for the usual refusals."""
    try:
        return paginate(base.client("organizations"), "ListAccounts", "Accounts")
    except AwsError as exc:
        # Only these mean "not from here"; any other failure (an endpoint that is not AWS, a
        # timeout) keeps its own tip, which names the real cause.
        if exc.code not in _NOT_FROM_HERE:
            raise
        raise AwsError(
            exc.message, tip=ORGANIZATIONS_TIP, code=exc.code, action=exc.action
        ) from exc


def is_active(account: Mapping[str, object]) -> bool:
    """Whether Organizations lists the account as live: ``State`` ACTIVE (the ``Status`` field
    it replaces is retired from 2026-09-09, so it only stands in where ``State`` is missing)."""
    state = account.get("State") or account.get("Status")
    if not state:
        raise AwsError(
            f"AWS Organizations listed account {account.get('Id', '?')} with neither State nor "
            "Status: cannot tell whether it is active",
            tip="upgrade boto3 and botocore (pip install -U boto3), then rerun",
            action="organizations:ListAccounts",
        )
    return str(state) == "ACTIVE"


def targets(base: Aws, account_ids: tuple[str, ...] | None) -> list[Target]:
    """The accounts to work on: ``account_ids`` in the given order (named from Organizations
    where it answers), or every ACTIVE account of the organization, in ListAccounts order."""
    if account_ids is not None:
        if not account_ids:
            raise InputError("no account to sweep")
        try:
            listed = _organization_accounts(base)
        except RemediateError as exc:
            log.info("account names unavailable: %s", exc.message)
            listed = []
        names = {str(a["Id"]): str(a.get("Name", "")) for a in listed}
        return [Target(i, names.get(i)) for i in account_ids]
    found = [
        Target(str(a["Id"]), str(a.get("Name", "")))
        for a in _organization_accounts(base)
        if is_active(a)
    ]
    if not found:
        # An organization always has its management account: an empty list is an answer not to
        # trust, and a sweep of nothing must not pass as "root not in use".
        raise AwsError("AWS Organizations listed no active account", tip=ORGANIZATIONS_TIP)
    return found


def role_session_name(caller_arn: str) -> str:
    """``remediate-WHO``, WHO being the last part of the caller's ARN (a user, an assumed role's
    session, ``root``), so CloudTrail in the member account shows who ran it; within STS's rules
    (at most 64 of letters, digits and ``+=,.@-``)."""
    who = caller_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1] or "caller"
    return f"remediate-{_SESSION_NAME_CHARS.sub('-', who)}"[:MAX_SESSION_NAME]


class OwnAccount:
    """The session the command already has, in the caller's own account (one account)."""

    def __init__(self, aws: Aws, identity: Identity) -> None:
        self._session = AccountSession(aws, identity)

    def __call__(self, account_id: str) -> AccountSession:
        if account_id != self._session.identity.account_id:
            raise AssertionError(f"{account_id} is not the caller's account")
        return self._session


class ThreadCaller:
    """A session with the caller's credentials for each thread that asks: no client is shared
    across threads, and a pool of N threads builds N of them, not one per account. The sessions
    an opener hands out in a thread share that thread's boto3 session (Aws.sharing)."""

    base: Aws
    read_only: bool
    _local: threading.local

    def _caller(self) -> Aws:
        aws: Aws | None = getattr(self._local, "aws", None)
        if aws is None:
            aws = self._local.aws = self.base.copy(read_only=self.read_only)
        return aws


class MemberAccounts(ThreadCaller):
    """Opens a session in any account, in the calling thread: the caller's own credentials in
    its own account, else ``sts:AssumeRole`` on ``role_name`` there."""

    def __init__(
        self,
        base: Aws,
        own: Identity,
        *,
        role_name: str,
        external_id: str | None,
        read_only: bool,
    ) -> None:
        self.base = base
        self.own = own
        self.role_name = role_name
        self.external_id = external_id
        self.read_only = read_only
        self.session_name = role_session_name(own.arn)
        self._local = threading.local()

    def __call__(self, account_id: str) -> AccountSession:
        if account_id == self.own.account_id:
            # A session of its own: the thread's caller session also assumes roles elsewhere.
            return AccountSession(self.base.copy(read_only=self.read_only), self.own)
        caller = self._caller()
        # aws.session imports boto3: paid when a session is opened, not when this module is.
        from remediate.aws.session import Aws, sts_credentials

        role_arn = f"arn:{self.base.partition}:iam::{account_id}:role/{self.role_name}"
        assumed: list[str] = []

        def assume_role() -> Any:
            answer = self._assume_role(caller, account_id, role_arn)
            assumed.append(str(answer.get("AssumedRoleUser", {}).get("Arn") or role_arn))
            return answer["Credentials"]

        credentials = sts_credentials(assume_role, method="sts-assume-role")
        # The thread's caller session is shared: the account's session is used in this thread.
        aws = Aws.sharing(caller, credentials, read_only=self.read_only)
        return AccountSession(aws, Identity(account_id, assumed[0]))

    def _assume_role(self, caller: Aws, account_id: str, role_arn: str) -> Any:
        external = {} if self.external_id is None else {"ExternalId": self.external_id}
        try:
            return call(
                caller.sts,
                "AssumeRole",
                RoleArn=role_arn,
                RoleSessionName=self.session_name,
                **external,
            )
        except AwsError as exc:
            raise AwsError(
                f"cannot assume {role_arn}: {exc.message}",
                tip=(
                    f"the role must exist in account {account_id} and trust account "
                    f"{self.own.account_id}"
                    + (" with this external id" if self.external_id else "")
                ),
                code=exc.code,
                action=exc.action,
            ) from exc
