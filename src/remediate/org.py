"""The organization sweep: root-use detection in many accounts at once, one session per account."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call, paginate
from remediate.detect.judge import Verdict
from remediate.errors import (
    EXIT_AWS,
    EXIT_OK,
    EXIT_ROOT_IN_USE,
    AwsError,
    InputError,
    RemediateError,
)

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.session import Aws

log = logging.getLogger(__name__)

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
ROLE_SESSION_NAME = "remediate"

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)

_ORGANIZATIONS_TIP = (
    "sweep from the organization's management account or a delegated administrator, "
    "or name the accounts with --accounts ID,ID,..."
)

# The row order of a sweep: accounts in use first, then those that could not be judged.
_RANK = {True: 0, None: 1, False: 2}


def parse_account_ids(text: str) -> list[str]:
    """``--accounts ID,ID,...``: 12-digit account ids, at least one, none twice, in given order."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise InputError("--accounts: no account id given", tip="e.g. --accounts 111122223333")
    seen: set[str] = set()
    for item in items:
        if not item:
            raise InputError(f"--accounts {text[:80]!r}: an empty account id (a stray comma?)")
        if not _ACCOUNT_ID.fullmatch(item):
            raise InputError(f"--accounts: {item[:40]!r} is not an AWS account id (12 digits)")
        if item in seen:
            raise InputError(f"--accounts: account {item} given twice")
        seen.add(item)
    return items


def role_name(value: str) -> str:
    """The IAM role to assume in member accounts: 1-64 letters, digits and ``+=,.@_-``."""
    if not _ROLE_NAME.fullmatch(value):
        raise InputError(
            f"invalid --role-name {value[:80]!r}: use 1-64 letters, digits and +=,.@_- "
            "(a role name, not an ARN or a path)"
        )
    return value


def external_id(value: str) -> str:
    """An ``sts:AssumeRole`` external id: 2-1224 letters, digits and ``+=,.@:/-``."""
    if not _EXTERNAL_ID.fullmatch(value):
        raise InputError("invalid --external-id: use 2-1224 letters, digits and +=,.@:/_-")
    return value


def policy_statements(
    role: str = DEFAULT_ROLE_NAME, partition: str = "aws"
) -> list[dict[str, Any]]:
    """What a sweep needs in the account it runs from, besides detection's own actions (which the
    role in each member account needs too): list the accounts, assume the role in each."""
    return [
        {
            "Sid": "ListOrganizationAccounts",
            "Effect": "Allow",
            "Action": ["organizations:ListAccounts"],
            "Resource": "*",
        },
        {
            "Sid": "AssumeMemberAccountRole",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": f"arn:{partition}:iam::*:role/{role}",
        },
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class AccountResult:
    """One account of a sweep: its verdict, or why it could not be judged."""

    account_id: str
    account_name: str | None
    verdict: Verdict | None  # None when the account failed
    error: str | None  # one line: why the account could not be judged
    # The account's own session, kept so a remediation can reuse it (None if none was made).
    aws: Aws | None = field(default=None, repr=False, compare=False)
    # Who the sweep is in that account (the assumed role's ARN), for the audit trail.
    caller_arn: str | None = field(default=None, repr=False, compare=False)

    @property
    def root_in_use(self) -> bool | None:
        """The verdict's ``root_in_use``; ``None`` (undetermined) for a failed account too."""
        return self.verdict.root_in_use if self.verdict is not None else None

    def to_json(self) -> dict[str, Any]:
        """The single-account document (nulls where a failed account has no verdict), plus
        ``account_name`` and ``error``."""
        if self.verdict is not None:
            document: dict[str, Any] = dict(self.verdict.to_json())
        else:
            # Verdict.to_json's keys are its field names: the same shape, nothing known.
            document = {f.name: None for f in fields(Verdict)}
            document.update(account_id=self.account_id, evidence=[], notes=[])
        document["account_name"] = self.account_name
        document["error"] = self.error
        return document


@dataclass
class SweepResult:
    """Every swept account, in use first, then undetermined or failed, then not in use."""

    accounts: list[AccountResult]

    def summary(self) -> dict[str, int]:
        """Counts by verdict; a failed account counts as undetermined."""
        states = [a.root_in_use for a in self.accounts]
        return {
            "total": len(states),
            "in_use": states.count(True),
            "not_in_use": states.count(False),
            "undetermined": sum(s is None for s in states),
        }

    def exit_code(self) -> int:
        """1 if root is in use anywhere, else 3 if any account could not be judged, else 0."""
        counts = self.summary()
        if counts["in_use"]:
            return EXIT_ROOT_IN_USE
        return EXIT_AWS if counts["undetermined"] else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {"accounts": [a.to_json() for a in self.accounts], "summary": self.summary()}


def sort_results(results: Iterable[AccountResult]) -> list[AccountResult]:
    """In use first, then undetermined or failed, then not in use; ties by account id."""
    return sorted(results, key=lambda a: (_RANK[a.root_in_use], a.account_id))


def _organization_accounts(base: Aws) -> list[dict[str, Any]]:
    """``organizations:ListAccounts``, every page, with a tip for the usual refusals."""
    try:
        return paginate(base.client("organizations"), "ListAccounts", "Accounts")
    except AwsError as exc:
        raise AwsError(
            exc.message, tip=_ORGANIZATIONS_TIP, code=exc.code, action=exc.action
        ) from exc


def _is_active(account: dict[str, Any]) -> bool:
    # ``State`` replaces the deprecated ``Status``; either says ACTIVE for a live account.
    return str(account.get("State") or account.get("Status")) == "ACTIVE"


def list_accounts(base: Aws) -> list[tuple[str, str]]:
    """The organization's ACTIVE accounts as ``(id, name)``, in ListAccounts order."""
    return [
        (str(a["Id"]), str(a.get("Name", "")))
        for a in _organization_accounts(base)
        if _is_active(a)
    ]


def _account_names(base: Aws) -> dict[str, str]:
    """Account names from Organizations, or none when it is not in use or not allowed."""
    try:
        return {str(a["Id"]): str(a.get("Name", "")) for a in _organization_accounts(base)}
    except RemediateError as exc:
        log.info("account names unavailable: %s", exc.message)
        return {}


def account_session(
    base: Aws,
    account_id: str,
    own_account_id: str,
    *,
    role_name: str,
    external_id: str | None,
    read_only: bool,
) -> tuple[Aws, str | None]:
    """A new session in ``account_id`` (the caller's own credentials in its own account, else
    ``sts:AssumeRole`` on ``role_name`` there), and the assumed role's ARN (what
    GetCallerIdentity would say in the account; ``None`` for the caller's own account)."""
    if account_id == own_account_id:
        return base.copy(read_only=read_only), None
    role_arn = f"arn:{base.partition}:iam::{account_id}:role/{role_name}"
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": ROLE_SESSION_NAME}
    if external_id is not None:
        params["ExternalId"] = external_id
    try:
        answer = call(base.sts, "AssumeRole", **params)
    except AwsError as exc:
        raise AwsError(
            f"cannot assume {role_arn}: {exc.message}",
            tip=(
                f"the role must exist in account {account_id} and trust account "
                f"{own_account_id}" + (" with this external id" if external_id else "")
            ),
            code=exc.code,
            action=exc.action,
        ) from exc
    credentials = {k: str(v) for k, v in answer["Credentials"].items() if k != "Expiration"}
    options = replace(base.options, region=base.region)
    arn = answer.get("AssumedRoleUser", {}).get("Arn")
    from remediate.aws.session import Aws

    aws = Aws.from_credentials(options, credentials, read_only=read_only)
    return aws, str(arn) if arn else None


def _judge_account(
    caller: Aws,
    account_id: str,
    account_name: str | None,
    own_identity: dict[str, str],
    *,
    role_name: str,
    external_id: str | None,
    read_only: bool,
    days: int,
    report_timeout: float,
) -> AccountResult:
    from remediate.core import detect

    aws: Aws | None = None
    try:
        aws, role_arn = account_session(
            caller,
            account_id,
            own_identity["Account"],
            role_name=role_name,
            external_id=external_id,
            read_only=read_only,
        )
        # The caller's identity in the account is known already: no GetCallerIdentity there.
        if account_id == own_identity["Account"]:
            identity: dict[str, str] | None = own_identity
        else:
            identity = {"Account": account_id, "Arn": role_arn} if role_arn else None
        verdict = detect(aws, days=days, report_timeout=report_timeout, identity=identity)
    except RemediateError as exc:
        log.info("account %s: %s", account_id, exc.message)
        return AccountResult(account_id, account_name, None, _one_line(exc.message), aws)
    caller_arn = identity["Arn"] if identity else None
    return AccountResult(account_id, account_name, verdict, None, aws, caller_arn)


def sweep(
    base: Aws,
    *,
    account_ids: list[str] | None,
    role_name: str = DEFAULT_ROLE_NAME,
    external_id: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    days: int = 7,
    report_timeout: float = 60.0,
    read_only: bool = False,
    progress: Callable[[AccountResult], None] | None = None,
) -> SweepResult:
    """Judge root use in every ACTIVE account of the organization, or in ``account_ids``.

    Accounts run ``concurrency`` at a time, each with its own session; a failure in one account
    becomes that account's ``error`` and the sweep goes on. ``progress`` is called in the calling
    thread as each account finishes.
    """
    if isinstance(concurrency, bool) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"--concurrency must be 1-{MAX_CONCURRENCY}, not {concurrency!r}")
    from remediate.core import caller_identity

    own_identity = caller_identity(base)
    targets: list[tuple[str, str | None]]
    if account_ids is None:
        targets = [(i, n) for i, n in list_accounts(base)]
        if not targets:
            # An organization always has its management account: an empty list is an answer
            # not to trust, and a sweep of nothing must not pass as "root not in use".
            raise AwsError("AWS Organizations listed no active account", tip=_ORGANIZATIONS_TIP)
    else:
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            raise InputError("no account to sweep")
        names = _account_names(base)
        targets = [(i, names.get(i)) for i in ids]

    # Each worker thread gets one caller session for its AssumeRole calls: no client is shared
    # across threads, and a pool of N threads builds N of them, not one per account.
    local = threading.local()

    def caller() -> Aws:
        aws: Aws | None = getattr(local, "aws", None)
        if aws is None:
            aws = local.aws = base.copy(read_only=read_only)
        return aws

    def job(account_id: str, account_name: str | None) -> AccountResult:
        return _judge_account(
            caller(),
            account_id,
            account_name,
            own_identity,
            role_name=role_name,
            external_id=external_id,
            read_only=read_only,
            days=days,
            report_timeout=report_timeout,
        )

    results: list[AccountResult] = []
    pool = ThreadPoolExecutor(
        max_workers=min(concurrency, max(len(targets), 1)), thread_name_prefix="remediate-sweep"
    )
    try:
        pending: set[Future[AccountResult]] = {pool.submit(job, i, n) for i, n in targets}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results.append(result)
                if progress is not None:
                    progress(result)
    except BaseException:
        # Ctrl-C or a bug: do not start the accounts still queued.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return SweepResult(sort_results(results))


def _verdict_label(result: AccountResult) -> str:
    if result.verdict is None:
        return "[bold red]error[/]"
    if result.verdict.root_in_use is None:
        return "[yellow]undetermined[/]"
    return "[bold red]IN USE[/]" if result.verdict.root_in_use else "[green]ok[/]"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "[red]no[/]"


def render_sweep(console: Console, result: SweepResult) -> None:
    """One row per account, in the sweep's order, then a summary line."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False)
    for column in ("Account", "Name", "Verdict", "Last root use"):
        table.add_column(column, no_wrap=True)
    for column in ("Evidence", "Root MFA", "Root keys"):
        table.add_column(column, overflow="fold")
    for a in result.accounts:
        v = a.verdict
        name = escape(a.account_name) if a.account_name else "-"
        if v is None:
            error = escape(a.error or "unknown error")
            table.add_row(a.account_id, name, _verdict_label(a), "-", f"[red]{error}[/]", "-", "-")
            continue
        # Without a <root_account> row "never" would claim too much.
        last = (
            v.last_used.strftime("%Y-%m-%d %H:%M")
            if v.last_used
            else "never"
            if v.root_in_use is not None
            else "unknown"
        )
        keys = v.root_access_keys_active
        table.add_row(
            a.account_id,
            name,
            _verdict_label(a),
            last,
            ", ".join(e.credential for e in v.evidence) or "-",
            _yes_no(v.root_mfa_active),
            "-" if keys is None else f"[red]{keys}[/]" if keys else "0",
        )
    console.print(table)
    s = result.summary()
    console.print(
        f"{s['total']} account{'s' * (s['total'] != 1)}: {s['in_use']} in use, "
        f"{s['not_in_use']} not in use, {s['undetermined']} undetermined"
    )
