"""``remediate root-use`` across accounts (--accounts, --all-accounts): every account judged
concurrently in its own session, the findings imported into each account's own Security Hub,
and, with --create-admin, the remediation run through the same engine as for one account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from remediate.aws.identity import caller_identity
from remediate.commands.exits import hub_exit, trail_exit
from remediate.commands.remediation import allow_plaintext, finisher, lock_timeout
from remediate.commands.root_use_request import RootUseRequest
from remediate.commands.wiring import caller, hub_journal, never_shown, services
from remediate.core.concurrency import each_concurrently
from remediate.core.errors import EXIT_AWS, EXIT_OK, RemediateError
from remediate.core.spinner import progress_bar
from remediate.core.terminal import safe
from remediate.findings.export import (
    import_verdict,
    merged,
    record_remediation,
    resolved_by,
    with_cloudtrail,
)
from remediate.findings.securityhub import FailedFinding, ImportResult
from remediate.org import accounts
from remediate.org.accounts import AccountSession, Target
from remediate.org.sweep import one_line, sweep
from remediate.playbook import engine
from remediate.render.outcome import DRY_RUN_END, TextView
from remediate.render.outputs import render_sweep_detection

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rich.console import Console

    from remediate.aws.session import Aws
    from remediate.core.prompt import Prompter
    from remediate.detect.judge import Verdict
    from remediate.org.sweep import SweepResult
    from remediate.playbook.engine import AccountRun, Remediation
    from remediate.render.outputs import Output


def root_use_many_accounts(
    request: RootUseRequest,
    output: Output,
    remediation: Remediation | None,
    aws: Aws,
    prompter: Prompter,
) -> int:
    """Judge every account; import, show, and remediate where asked for."""
    assert request.accounts is not None
    opener = accounts.MemberAccounts(
        aws,
        caller_identity(aws),
        role_name=request.accounts.role_name,
        external_id=request.accounts.external_id,
        read_only=aws.read_only,
    )
    result = _sweep(request, aws, opener)
    hubs = (
        _import_sweep(
            opener, result, concurrency=request.accounts.concurrency, sandbox=request.aws.sandbox
        )
        if request.security_hub
        else {}
    )
    verdicts = [a.verdict for a in result.accounts]
    if remediation is None:
        output.swept(result, region=aws.region, hubs=hubs)
        output.trail_failures(verdicts)
        output.imports(hubs.values())
        code = hub_exit(result.exit_code(fail_on_hygiene=request.fail_on_hygiene), hubs.values())
        return trail_exit(code, verdicts)
    render_sweep_detection(output.console, result)
    output.trail_failures(verdicts)
    return _remediate_many_accounts(
        request, output, remediation, result, aws, opener, prompter, hubs=hubs
    )


def _sweep(
    request: RootUseRequest, aws: Aws, opener: Callable[[str], AccountSession]
) -> SweepResult:
    """Every target account judged, ``concurrency`` at a time, with CloudTrail's evidence where
    asked for."""
    assert request.accounts is not None
    targets = accounts.targets(aws, request.accounts.account_ids)
    enrich = None
    if request.cloudtrail is not None:
        regions = request.cloudtrail.regions

        def enrich(session: AccountSession, verdict: Verdict) -> Verdict:
            # In the account's worker thread, with its session: its regions concurrently,
            # each account and region within its own LookupEvents limit.
            return with_cloudtrail(
                session.aws, session.identity.account_id, verdict, regions, days=request.days
            )

    with progress_bar("Judging accounts") as progress:
        return sweep(
            opener,
            targets,
            concurrency=request.accounts.concurrency,
            days=request.days,
            report_timeout=request.report_timeout,
            progress=progress,
            enrich=enrich,
        )


def _import_sweep(
    opener: Callable[[str], AccountSession],
    result: SweepResult,
    *,
    concurrency: int,
    sandbox: bool,
) -> dict[str, ImportResult]:
    """Each judged account's findings imported into its own Security Hub (an account imports
    findings about itself only), ``concurrency`` accounts at a time, each with its own session."""

    def job(verdict: Verdict) -> tuple[str, ImportResult | None]:
        assert verdict.account_id is not None
        try:
            session = opener(verdict.account_id)
        except RemediateError as exc:
            # Judged a moment ago, but no session now: every finding of the account failed.
            failed = FailedFinding(
                f"remediate/{verdict.account_id}/*", "Error", one_line(exc.message)
            )
            return verdict.account_id, ImportResult(verdict.account_id, "-", failed=(failed,))
        record = hub_journal(sandbox, verdict.account_id, caller(session))
        found = import_verdict(session.aws, verdict, record=record, updated_by=session.identity.arn)
        return verdict.account_id, found

    judged = [a.verdict for a in result.accounts if a.verdict is not None and a.verdict.account_id]
    done = each_concurrently(judged, job, concurrency=concurrency, name="remediate-securityhub")
    return {account_id: found for account_id, found in done if found is not None}


def _remediation_targets(
    result: SweepResult, *, every_account: bool, console: Console
) -> tuple[list[Target], bool]:
    """The accounts to remediate, and whether an account had to be left out (root may be in use
    there: the run cannot say it completed)."""
    chosen: list[Target] = []
    left_out = False
    for a in result.accounts:
        if a.verdict is None:
            console.print(f"[red]Account {safe(a.account_id)}: not remediated: {safe(a.error)}[/]")
            left_out = True
        elif every_account or a.root_in_use:
            chosen.append(Target(a.account_id, a.account_name))
        elif a.root_in_use is None:
            console.print(
                f"[yellow]Account {safe(a.account_id)}: root use undetermined, not remediated "
                "(--all remediates every account)[/]"
            )
            left_out = True
    if not chosen:
        console.print("No account needs the playbook (pass --all to run it in every account).")
    return chosen, left_out


def _remediate_many_accounts(
    request: RootUseRequest,
    output: Output,
    remediation: Remediation,
    result: SweepResult,
    aws: Aws,
    opener: Callable[[str], AccountSession],
    prompter: Prompter,
    *,
    hubs: Mapping[str, ImportResult],
) -> int:
    """The remediation in the accounts chosen, through the engine: every plan first, one
    confirmation, then each account's changes."""
    assert request.accounts is not None
    out = output.console
    targets, failed = _remediation_targets(
        result, every_account=request.accounts.every_account, console=out
    )
    finish = finisher(request)
    show = remediation.options.show_secrets
    view = TextView(
        out,
        many=True,
        show_secrets=output.show_secrets(show),
        sandbox=request.aws.sandbox,
        finish=finish,
    )
    wired = services(
        opener,
        prompter,
        view,
        sandbox=request.aws.sandbox,
        allow_plaintext_keyring=allow_plaintext(request),
        concurrency=request.accounts.concurrency,
        lock_timeout=lock_timeout(request),
    )
    view.held = output.held = never_shown(wired.secrets)
    runs: list[AccountRun] = engine.run(remediation, targets, wired) if targets else []
    if runs and not any(r.pending for r in runs) and all(r.report for r in runs):
        out.print("Nothing needs changing in any account.")
    elif remediation.dry_run and any(r.pending for r in runs):
        out.print(DRY_RUN_END)
    failed = failed or any(r.failure is not None for r in runs)
    resolved = {r.account_id: resolved_by(r) for r in runs}
    imported = dict(hubs)
    if request.security_hub:
        by_account = {r.account_id: r for r in runs}
        _import_resolved(
            opener, result, resolved, imported, by_account, sandbox=request.aws.sandbox
        )
    output.swept_remediated(
        result,
        runs,
        resolved=resolved,
        hubs=imported,
        region=aws.region,
        show_secrets=show,
        finish=finish,
    )
    output.imports(imported.values())
    stopped = engine.interrupted(runs)
    if stopped is not None:
        raise stopped
    code = hub_exit(EXIT_AWS if failed else EXIT_OK, imported.values())
    return trail_exit(code, [a.verdict for a in result.accounts])


def _import_resolved(
    opener: Callable[[str], AccountSession],
    result: SweepResult,
    resolved: Mapping[str, frozenset[str]],
    hubs: dict[str, ImportResult],
    runs: Mapping[str, AccountRun],
    *,
    sandbox: bool,
) -> None:
    """Each completed remediation recorded on the findings it closed (in the account's own
    Security Hub, remediate.findings.workflow); added to that account's import in ``hubs``."""
    for a in result.accounts:
        closed = resolved.get(a.account_id)
        imported = hubs.get(a.account_id)
        if a.verdict is None or not closed or imported is None:
            continue
        try:
            session = opener(a.account_id)
            record = hub_journal(sandbox, a.account_id, caller(session))
            found = record_remediation(
                session.aws,
                a.verdict,
                runs[a.account_id],
                closed,
                imported,
                updated_by=session.identity.arn,
                record=record,
            )
        except RemediateError as exc:
            # No session to record with: the import stands, the workflow is left (a warning).
            failed = FailedFinding(
                f"remediate/{a.account_id}/*", "Error", one_line(exc.message), "resolve"
            )
            found = ImportResult(a.account_id, "-", failed=(failed,))
        both = merged(hubs.get(a.account_id), found)
        if both is not None:
            hubs[a.account_id] = both
