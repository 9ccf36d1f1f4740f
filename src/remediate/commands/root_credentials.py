"""``remediate root-credentials centralize``, ``audit``, ``delete`` and ``deny-root``: root put
away across an AWS Organization, from the management account. Centralizing, deleting and denying
root run shipped playbooks through the engine; the audit reads each member account in a root
audit session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from remediate.aws.identity import caller_identity
from remediate.commands.playbook import playbook_run
from remediate.commands.remediation import prepare_remediation
from remediate.commands.remediation_request import (
    PlaybookRunRequest,
    RemediationRequest,
    playbook_run_request,
)
from remediate.commands.request import (
    TEXT,
    AwsChoice,
    OutputFormat,
    RemediationFlags,
    check_output,
    check_range,
    named_accounts,
)
from remediate.commands.session import open_aws
from remediate.commands.wiring import services
from remediate.core import limits, validate
from remediate.core.errors import EXIT_AWS, EXIT_OK, InputError
from remediate.core.spinner import progress_bar
from remediate.org import root_sessions
from remediate.org.root_credentials import (
    AUDIT_TASK,
    DELETE_TASK,
    MANAGEMENT_ACCOUNT_NOTE,
    AccountAudit,
    AuditResult,
    audit,
    member_targets,
    organization_root_access,
    require_root_credentials_management,
)
from remediate.org.sweep import one_line
from remediate.playbook import engine
from remediate.render.listings import show_root_audit, show_root_credentials_deleted
from remediate.render.outcome import DRY_RUN_END, TextView
from remediate.render.outputs import output_for

if TYPE_CHECKING:
    from remediate.core.prompt import Prompter
    from remediate.org.accounts import Target


@dataclass(frozen=True)
class RootCredentialsRequest:
    """``root-credentials audit`` or ``delete``: which member accounts (``account_ids`` None:
    every member account), and how."""

    aws: AwsChoice = field(default_factory=AwsChoice)
    account_ids: tuple[str, ...] | None = None
    concurrency: int = limits.DEFAULT_CONCURRENCY
    output: OutputFormat = TEXT
    dry_run: bool = False
    yes: bool = False
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT


def root_credentials_request(
    command: Literal["audit", "delete"],
    *,
    aws: AwsChoice,
    all_accounts: bool = False,
    accounts: str | None = None,
    concurrency: int | None = None,
    output: OutputFormat = TEXT,
    dry_run: bool = False,
    yes: bool = False,
    lock_timeout: float | None = None,
) -> RootCredentialsRequest:
    """Audit defaults to every member account; delete, which cannot be undone, names them."""
    account_ids = named_accounts(
        all_accounts=all_accounts, accounts=accounts, concurrency=concurrency
    )
    if command == "delete" and not all_accounts and accounts is None:
        raise InputError(
            "name the accounts whose root credentials to delete: --accounts ID,ID,... or "
            "--all-accounts",
            tip="see them first with `remediate root-credentials audit`",
        )
    if command == "audit" and (dry_run or yes or lock_timeout is not None):
        raise InputError("audit changes nothing: it takes no --dry-run, --yes or --lock-timeout")
    if lock_timeout is not None:
        check_range("--lock-timeout", lock_timeout, 0, limits.MAX_LOCK_TIMEOUT)
    return RootCredentialsRequest(
        aws=aws,
        account_ids=account_ids,
        concurrency=concurrency or limits.DEFAULT_CONCURRENCY,
        output=check_output(output),
        dry_run=dry_run,
        yes=yes,
        lock_timeout=lock_timeout if lock_timeout is not None else limits.DEFAULT_LOCK_TIMEOUT,
    )


def root_credentials_centralize(request: PlaybookRunRequest, prompter: Prompter) -> int:
    """Centralize root access, from the management account: the shipped playbook
    root-credentials-centralize through the engine (plan, confirm, apply, journal)."""
    return playbook_run(request, prompter, organization=True)


DENY_ROOT_PLAYBOOK = "root-credentials-deny-root"


def deny_root_request(
    targets: Sequence[str],
    *,
    aws: AwsChoice,
    flags: RemediationFlags,
    output: OutputFormat = TEXT,
) -> PlaybookRunRequest:
    """``deny-root``'s options: each ``--target`` a root, an OU or an account id, none twice
    (none: the organization's root)."""
    checked = [validate.organization_target(t.strip()) for t in targets]
    if len(set(checked)) != len(checked):
        twice = next(t for t in checked if checked.count(t) > 1)
        raise InputError(f"--target {twice} is given twice")
    variables = [f"targets={','.join(checked)}"] if checked else []
    return playbook_run_request(
        DENY_ROOT_PLAYBOOK, aws=aws, variables=variables, flags=flags, output=output
    )


def root_credentials_deny_root(request: PlaybookRunRequest, prompter: Prompter) -> int:
    """Deny member accounts' root user with a service control policy, from the management
    account (or the delegated administrator for Organizations policies): the shipped playbook
    root-credentials-deny-root through the engine (plan, lock, confirm, apply, journal)."""
    return playbook_run(request, prompter, organization=True)


def root_credentials_audit(request: RootCredentialsRequest) -> int:
    """Which member accounts' root users hold credentials, read through root audit sessions."""
    with open_aws(request.aws, read_only=True, organization=True) as aws:
        own = caller_identity(aws)
        state = organization_root_access(aws, own.account_id)
        targets, left_out = member_targets(aws, request.account_ids, state.management_account_id)
        try:
            require_root_credentials_management(state)
        except InputError as exc:
            # Nothing can be audited, but the organization's state is the answer: say so for
            # every account, and exit 3 (undetermined).
            result = AuditResult(
                state,
                tuple(_unaudited(t, f"{exc.message}; {exc.tip}") for t in targets),
                left_out,
            )
        else:
            opener = root_sessions.MemberRootSessions(
                aws,
                own,
                task=AUDIT_TASK,
                management_account_id=state.management_account_id,
                read_only=True,
            )
            with progress_bar("Auditing accounts") as progress:
                result = audit(
                    state,
                    opener,
                    targets,
                    concurrency=request.concurrency,
                    progress=progress,
                    management_left_out=left_out,
                )
    show_root_audit(result, request.output, sandbox=request.aws.sandbox)
    return result.exit_code()


def _unaudited(target: Target, why: str) -> AccountAudit:
    """An account that was not audited, and why (one line)."""
    return AccountAudit(target.account_id, target.account_name, None, one_line(why))


def root_credentials_delete(request: RootCredentialsRequest, prompter: Prompter) -> int:
    """Delete member accounts' root credentials: the shipped playbook root-credentials-delete
    through the engine, in each account in a root session with the delete task policy."""
    remediation = prepare_remediation(
        RemediationRequest("root-credentials-delete", {}, dry_run=request.dry_run, yes=request.yes),
        prompter,
        across_accounts=True,
    )
    output = output_for(request.output, sandbox=request.aws.sandbox)
    out = output.console
    with open_aws(request.aws, read_only=request.dry_run, organization=True) as aws:
        own = caller_identity(aws)
        state = organization_root_access(aws, own.account_id)
        require_root_credentials_management(state)
        targets, left_out = member_targets(aws, request.account_ids, state.management_account_id)
        if left_out:
            out.print(
                f"Management account {state.management_account_id} left out: "
                f"{MANAGEMENT_ACCOUNT_NOTE}."
            )
        opener = root_sessions.MemberRootSessions(
            aws,
            own,
            task=DELETE_TASK,
            management_account_id=state.management_account_id,
            read_only=aws.read_only,
        )
        view = TextView(out, many=True, show_secrets=False, sandbox=request.aws.sandbox)
        wired = services(
            opener,
            prompter,
            view,
            sandbox=request.aws.sandbox,
            allow_plaintext_keyring=False,  # deleting root credentials keeps no secret
            concurrency=request.concurrency,
            lock_timeout=request.lock_timeout,
        )
        runs = engine.run(remediation, targets, wired) if targets else []
    if not targets:
        out.print("No member account to delete root credentials in.")
    elif not any(r.pending for r in runs) and all(r.report for r in runs):
        out.print("Nothing needs changing: no member account's root user holds credentials.")
    elif request.dry_run and any(r.pending for r in runs):
        out.print(DRY_RUN_END)
    failed = any(r.failure is not None for r in runs)
    show_root_credentials_deleted(state, runs, request.output)
    stopped = engine.interrupted(runs)
    if stopped is not None:
        raise stopped
    return EXIT_AWS if failed else EXIT_OK
