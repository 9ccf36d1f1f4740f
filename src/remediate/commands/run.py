"""One function per command: a checked request in, services built, the core called, the result
rendered, an exit code out. The command line (remediate.cli) only parses and calls these."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remediate.core import limits
from remediate.core.errors import EXIT_AWS, EXIT_OK, EXIT_ROOT_IN_USE, InputError, RemediateError

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.session import Aws
    from remediate.commands.requests import (
        AwsChoice,
        JournalRequest,
        OutputFormat,
        PermissionsRequest,
        PlaybookRunRequest,
        RemediationRequest,
        RootCredentialsRequest,
        RootUseRequest,
        SandboxServeRequest,
    )
    from remediate.core.prompt import Prompter
    from remediate.credentials.store import SecretStore
    from remediate.detect.judge import Verdict
    from remediate.findings.securityhub import ImportResult, Record
    from remediate.org.accounts import AccountSession, Target
    from remediate.org.root_credentials import AccountAudit
    from remediate.org.sweep import SweepResult
    from remediate.playbook.engine import AccountRun, Remediation, Services
    from remediate.playbook.journal import Journal

# The journal's ``playbook`` for Security Hub's write calls: the command's, with or without one.
HUB_JOURNAL = "root-use"


# --- shared wiring ------------------------------------------------------------------------------


@contextlib.contextmanager
def open_aws(choice: AwsChoice, *, read_only: bool, organization: bool = False) -> Iterator[Aws]:
    """The command's AWS session; with ``sandbox``, one pointed at a fresh local emulator (seeded
    with an organization when the command works across accounts)."""
    from remediate.aws.session import Aws, AwsOptions

    if not choice.sandbox:
        options = AwsOptions(
            choice.profile, choice.region, choice.endpoint_url, choice.allow_insecure_endpoint
        )
        aws = Aws(options, read_only=read_only)
        check_sandbox_keyring(aws)
        yield aws
        return
    from remediate.core.terminal import note
    from remediate.sandbox.server import SANDBOX_CREDENTIALS, SANDBOX_REGION, Sandbox

    with Sandbox(organization=organization) as sb:
        members = " in an organization with three member accounts" if organization else ""
        note(
            f"SANDBOX: a local AWS emulator at {sb.endpoint_url}: an account whose root "
            f"password was used 2 days ago{members}. Nothing here touches a real AWS account, "
            "and it all ends with this command."
        )
        options = AwsOptions(None, choice.region or SANDBOX_REGION, sb.endpoint_url, isolated=True)
        yield Aws.from_credentials(options, SANDBOX_CREDENTIALS, read_only=read_only)


def plan_console(output: OutputFormat) -> Console:
    """Where plans and outcomes go: stdout for people, stderr when stdout holds JSON (a document,
    or a list of ASFF or OCSF findings)."""
    from remediate.core.terminal import stderr_console, stdout_console

    return stderr_console() if output != "text" else stdout_console()


def _secret_store(sandbox: bool, *, allow_plaintext: bool) -> SecretStore:
    from remediate.credentials.store import SecretStore, memory_keyring

    # The sandbox's keyring is said once, with the secrets it holds (remediate.render.views).
    return SecretStore(
        memory_keyring() if sandbox else None,
        allow_plaintext=allow_plaintext,
        ends_with_the_command=sandbox,
    )


def _read_password(request: RemediationRequest, prompter: Prompter) -> str | None:
    """The password piped in with --password-stdin (read before anything else: a pipe is there
    already). --password-prompt asks later, once the plan is confirmed
    (remediate.playbook.engine)."""
    from remediate.commands.requests import PasswordSource

    if request.password_source is PasswordSource.STDIN:
        if prompter.stdin_is_terminal:
            # Typed there, the password would echo on the screen (and stay in its scrollback).
            raise InputError(
                "--password-stdin reads a password piped in, but standard input is a terminal",
                tip="use --password-prompt to type it without echo",
            )
        line = prompter.stdin_line()
        if not line:
            raise InputError("--password-stdin: standard input held no password")
        return line
    if request.password_source is PasswordSource.PROMPT and not prompter.interactive:
        raise InputError("--password-prompt needs a terminal", tip="use --password-stdin")
    return None


def prepare_remediation(
    request: RemediationRequest, prompter: Prompter, *, across_accounts: bool = False
) -> Remediation:
    """The playbook loaded and checked, and a given password read: every input error comes out
    here, before any AWS call."""
    from remediate.commands.requests import PasswordSource, prepare
    from remediate.playbook.engine import Remediation
    from remediate.steps.base import MfaOptions, RunOptions

    prepared = prepare(request, across_accounts=across_accounts)
    mfa = request.mfa
    options = RunOptions(
        password=_read_password(request, prompter),
        password_prompt=request.password_source is PasswordSource.PROMPT,
        show_secrets=request.show_secrets,
        mfa=MfaOptions(
            mode=mfa.mode,
            codes=mfa.codes,
            qr_file=str(mfa.qr_file) if mfa.qr_file else None,
            show_secret=mfa.show_secret,
        ),
        adopt_existing_user=request.adopt_existing_user,
        reset_password=request.reset_password,
    )
    return Remediation(
        playbook=prepared.name,
        steps=prepared.steps,
        options=options,
        dry_run=request.dry_run,
        yes=request.yes,
    )


def _hub_journal(sandbox: bool, account_id: str, caller_arn: str) -> Record | None:
    """Where a run's Security Hub write calls are journaled (remediate.findings.securityhub):
    the run's journal, as for the playbook's writes; none on the sandbox, whose emulator ends
    with it."""
    if sandbox:
        return None
    from remediate.playbook.journal import Journal

    return Journal(account_id=account_id, caller_arn=caller_arn, playbook=HUB_JOURNAL).record


def _caller(session: AccountSession) -> str:
    return str(session.operator or session.identity.arn)


def _services(
    remediation: Remediation,
    open_account: Any,
    prompter: Prompter,
    console: Console,
    *,
    sandbox: bool,
    many: bool,
    concurrency: int = 1,
    output: OutputFormat,
    allow_plaintext_keyring: bool,
    keyring_note: bool = True,
    finish: Callable[[str], str] | None = None,
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT,
) -> Services:
    """The engine's services: the sandbox has no journal and no lock (its emulator lives only as
    long as the command), a real account has both."""
    from remediate.core.terminal import stderr_console
    from remediate.playbook.engine import Services
    from remediate.playbook.journal import Journal
    from remediate.playbook.lock import account_lock
    from remediate.render.enrollment import TerminalEnrollment
    from remediate.render.views import TextView

    def journal(session: AccountSession, playbook: str) -> Journal | None:
        if sandbox:
            return None
        return Journal(
            account_id=session.identity.account_id,
            caller_arn=session.operator or session.identity.arn,
            playbook=playbook,
            acting_as=session.identity.arn if session.operator else None,
        )

    def lock(account_id: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if sandbox else account_lock(account_id, wait=lock_timeout)

    # With JSON, the document carries the secrets: print each one once, not on stderr too.
    view = TextView(
        console,
        many=many,
        show_secrets=remediation.options.show_secrets and output == "text",
        sandbox=sandbox,
        finish=finish,
    )
    ui = stderr_console()
    return Services(
        open_account=open_account,
        secrets=_secret_store(sandbox, allow_plaintext=allow_plaintext_keyring),
        prompter=prompter,
        view=view,
        ui=ui,
        journal=journal,
        lock=lock,
        concurrency=concurrency,
        enrollment=TerminalEnrollment(ui, prompter),
    )


def _finish(request: RootUseRequest | PlaybookRunRequest) -> Callable[[str], str] | None:
    """The command that reruns the remediation in an account, for the summary: it finishes a
    run that ended early (self-service MFA; with --mfa-codes, a pending enrollment); none for a
    playbook without a remediation request."""
    from remediate.commands.requests import rerun_command

    if request.remediation is None:
        return None
    return lambda account_id: rerun_command(request, account_id)


def _lock_timeout(request: RootUseRequest | PlaybookRunRequest) -> float:
    if request.remediation is None:
        return limits.DEFAULT_LOCK_TIMEOUT
    return request.remediation.lock_timeout


def _allow_plaintext(request: RootUseRequest | PlaybookRunRequest) -> bool:
    return request.remediation is not None and request.remediation.allow_plaintext_keyring


def _verdict_exit(verdict: Verdict, *, fail_on_hygiene: bool = False) -> int:
    """1 when root is in use (or, with --fail-on hygiene, has a finding), else 3 when root use
    cannot be determined, else 0."""
    if verdict.root_in_use or (fail_on_hygiene and verdict.findings):
        return EXIT_ROOT_IN_USE
    return EXIT_AWS if verdict.root_in_use is None else EXIT_OK


def _hub_exit(code: int, imports: Iterable[ImportResult | None]) -> int:
    """A finding Security Hub did not import makes the run exit 3 (AWS failed), whatever the
    verdict: the import asked for did not complete. One it did not mark RESOLVED after a
    remediation leaves ``code`` as it is: a warning (remediate.findings.securityhub)."""
    return EXIT_AWS if any(i is not None and not i.ok for i in imports) else code


def _trail_exit(code: int, verdicts: Iterable[Verdict | None]) -> int:
    """CloudTrail's event history asked for and not read everywhere (a region that failed,
    enabled regions that could not be listed) makes the run exit 3 whatever the verdict, as a
    refused import does: the evidence is incomplete. A region cut at the bound is not a failure:
    it is said, and the exit code is the verdict's."""
    failed = any(
        v is not None and v.cloudtrail is not None and v.cloudtrail.failures for v in verdicts
    )
    return EXIT_AWS if failed else code


def _show_trail_failures(verdicts: Iterable[Verdict | None]) -> None:
    """Each account's regions not read, on stderr (remediate.render.views)."""
    from remediate.render.views import render_cloudtrail_failures

    looked_up = [v for v in verdicts if v is not None and v.cloudtrail is not None]
    render_cloudtrail_failures(looked_up)


def _show_imports(request: RootUseRequest, imports: Iterable[ImportResult | None]) -> None:
    """Each account's Security Hub import, where plans go (stderr unless the output is text)."""
    from remediate.render.views import render_security_hub

    done = sorted((i for i in imports if i is not None), key=lambda i: i.account_id)
    if request.security_hub and done:
        render_security_hub(plan_console(request.output), done)


# --- root-use and playbook run -------------------------------------------------------------------


def root_use(request: RootUseRequest, prompter: Prompter) -> int:
    """Detect root use in one account or many; with a remediation, fix it."""
    from remediate.core.terminal import print_json, stdout_console
    from remediate.render.views import render_verdict

    if request.credential_report is not None:
        from remediate.detect.service import detect_from_file

        verdict = detect_from_file(request.credential_report, days=request.days)
        if request.output == "json":
            print_json({**verdict.to_json(), "sandbox": False})
        elif request.output != "text":
            from remediate.core.terminal import print_documents
            from remediate.findings.export import documents, report_region

            print_documents(
                documents(request.output, [(verdict, ())], region=report_region(verdict))
            )
        else:
            render_verdict(stdout_console(), verdict, datetime.now(UTC))
        return _verdict_exit(verdict, fail_on_hygiene=request.fail_on_hygiene)
    remediation = None
    if request.remediation is not None:
        remediation = prepare_remediation(
            request.remediation, prompter, across_accounts=request.accounts is not None
        )
    read_only = remediation is not None and remediation.dry_run
    with open_aws(
        request.aws, read_only=read_only, organization=request.accounts is not None
    ) as aws:
        if request.accounts is None:
            return _root_use_one_account(request, remediation, aws, prompter)
        return _root_use_many_accounts(request, remediation, aws, prompter)


def _root_use_one_account(
    request: RootUseRequest, remediation: Remediation | None, aws: Aws, prompter: Prompter
) -> int:
    from remediate.aws.identity import caller_identity
    from remediate.core.terminal import print_json
    from remediate.detect.service import detect

    identity = caller_identity(aws)
    verdict = detect(aws, identity, days=request.days, report_timeout=request.report_timeout)
    if request.cloudtrail is not None:
        from remediate.findings.export import with_cloudtrail

        verdict = with_cloudtrail(
            aws, identity.account_id, verdict, request.cloudtrail, days=request.days
        )
    document = {**verdict.to_json(), "sandbox": request.aws.sandbox}
    hub = None
    if request.security_hub:
        from remediate.findings.export import import_verdict

        record = _hub_journal(request.aws.sandbox, identity.account_id, identity.arn)
        hub = import_verdict(aws, verdict, record=record, updated_by=identity.arn)
    if remediation is None:
        if request.output == "json":
            if request.security_hub:
                document["security_hub"] = hub.to_json() if hub is not None else None
            print_json(document)
        elif request.output != "text":
            from remediate.core.terminal import print_documents
            from remediate.findings.export import documents

            print_documents(documents(request.output, [(verdict, ())], region=aws.region))
        else:
            _render_verdict(plan_console(request.output), verdict)
        _show_trail_failures([verdict])
        _show_imports(request, [hub])
        code = _verdict_exit(verdict, fail_on_hygiene=request.fail_on_hygiene)
        return _trail_exit(_hub_exit(code, [hub]), [verdict])
    # --create-admin is the next step: not suggested, taken.
    _render_verdict(plan_console(request.output), verdict, next_step=False)
    _show_trail_failures([verdict])
    return _remediate_one_account(
        remediation, aws, identity, prompter, request, document, verdict=verdict, hub=hub
    )


def _render_verdict(console: Console, verdict: Verdict, *, next_step: bool = True) -> None:
    """The verdict, then what CloudTrail shows root did (with --cloudtrail)."""
    from remediate.render.views import render_root_activity, render_verdict

    now = datetime.now(UTC)
    render_verdict(console, verdict, now, next_step=next_step)
    render_root_activity(console, verdict, now)


def _remediate_one_account(
    remediation: Remediation,
    aws: Aws,
    identity: Any,
    prompter: Prompter,
    request: RootUseRequest | PlaybookRunRequest,
    document: dict[str, Any],
    *,
    keyring_note: bool = True,
    verdict: Verdict | None = None,
    hub: ImportResult | None = None,
) -> int:
    """``verdict`` (root-use) is the detection the findings come from; ``hub`` its import into
    Security Hub (--security-hub), to which a completed run adds the findings it resolved."""
    from remediate.core.terminal import print_json
    from remediate.org.accounts import OwnAccount, Target
    from remediate.playbook import engine
    from remediate.render.documents import remediation_fields

    finish = _finish(request)
    services = _services(
        remediation,
        OwnAccount(aws, identity),
        prompter,
        plan_console(request.output),
        sandbox=request.aws.sandbox,
        many=False,
        output=request.output,
        allow_plaintext_keyring=_allow_plaintext(request),
        keyring_note=keyring_note,
        finish=finish,
        lock_timeout=_lock_timeout(request),
    )
    [run] = engine.run(remediation, [Target(identity.account_id)], services)
    if run.report is None:
        assert run.failure is not None
        raise run.failure
    resolved: frozenset[str] = frozenset()
    if verdict is not None:
        from remediate.findings.export import merged, record_remediation, resolved_by

        resolved = resolved_by(run)
        if hub is not None and resolved:
            # The findings a completed remediation closed keep what detection measured; the
            # remediation records itself beside it, in their workflow (remediate.findings.workflow).
            record = _hub_journal(request.aws.sandbox, identity.account_id, identity.arn)
            hub = merged(
                hub,
                record_remediation(
                    aws, verdict, run, resolved, hub, updated_by=identity.arn, record=record
                ),
            )
    if request.output == "json":
        document.update(
            remediation_fields(
                run,
                show_secrets=remediation.options.show_secrets,
                finish=finish(run.account_id) if finish else None,
                sandbox=request.aws.sandbox,
            )
        )
        if hub is not None:
            document["security_hub"] = hub.to_json()
        print_json(document)
    elif request.output != "text" and verdict is not None:
        from remediate.core.terminal import print_documents
        from remediate.findings.export import documents

        print_documents(documents(request.output, [(verdict, resolved)], region=aws.region))
    if hub is not None:
        from remediate.render.views import render_security_hub

        render_security_hub(plan_console(request.output), [hub])
    if run.failure is not None:
        raise run.failure
    return _trail_exit(_hub_exit(EXIT_OK, [hub]), [verdict])


def _root_use_many_accounts(
    request: RootUseRequest, remediation: Remediation | None, aws: Aws, prompter: Prompter
) -> int:
    from remediate.aws.identity import caller_identity
    from remediate.core.spinner import progress_bar
    from remediate.core.terminal import print_json, stdout_console
    from remediate.org import accounts
    from remediate.org.sweep import sweep
    from remediate.render.views import render_sweep

    assert request.accounts is not None
    own = caller_identity(aws)
    opener = accounts.MemberAccounts(
        aws,
        own,
        role_name=request.accounts.role_name,
        external_id=request.accounts.external_id,
        read_only=aws.read_only,
    )
    targets = accounts.targets(aws, request.accounts.account_ids)
    enrich = None
    if request.cloudtrail is not None:
        from remediate.findings.export import with_cloudtrail

        trail = request.cloudtrail

        def enrich(session: AccountSession, verdict: Verdict) -> Verdict:
            # In the account's worker thread, with its session: its regions concurrently,
            # each account and region within its own LookupEvents limit.
            return with_cloudtrail(
                session.aws, session.identity.account_id, verdict, trail, days=request.days
            )

    with progress_bar("Judging accounts") as progress:
        result = sweep(
            opener,
            targets,
            concurrency=request.accounts.concurrency,
            days=request.days,
            report_timeout=request.report_timeout,
            progress=progress,
            enrich=enrich,
        )
    hubs = (
        _import_sweep(
            opener, result, concurrency=request.accounts.concurrency, sandbox=request.aws.sandbox
        )
        if request.security_hub
        else {}
    )
    if remediation is None:
        if request.output == "json":
            document = result.to_json()
            for account in document["accounts"]:
                account["sandbox"] = request.aws.sandbox
                if request.security_hub:
                    found = hubs.get(account["account_id"])
                    account["security_hub"] = found.to_json() if found is not None else None
            print_json(document)
        elif request.output != "text":
            _print_sweep_findings(request, result, aws.region, {})
        else:
            render_sweep(stdout_console(), result)
            _render_sweep_activity(stdout_console(), result)
        verdicts = [a.verdict for a in result.accounts]
        _show_trail_failures(verdicts)
        _show_imports(request, hubs.values())
        code = _hub_exit(result.exit_code(fail_on_hygiene=request.fail_on_hygiene), hubs.values())
        return _trail_exit(code, verdicts)
    render_sweep(plan_console(request.output), result)
    _render_sweep_activity(plan_console(request.output), result)
    _show_trail_failures([a.verdict for a in result.accounts])
    return _remediate_many_accounts(request, remediation, result, opener, prompter, hubs=hubs)


def _import_sweep(
    opener: Any, result: SweepResult, *, concurrency: int, sandbox: bool
) -> dict[str, ImportResult]:
    """Each judged account's findings imported into its own Security Hub (an account imports
    findings about itself only), ``concurrency`` accounts at a time, each with its own session."""
    from remediate.findings.export import import_verdict
    from remediate.findings.securityhub import FailedFinding, ImportResult
    from remediate.org.sweep import each_concurrently, one_line

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
        record = _hub_journal(sandbox, verdict.account_id, _caller(session))
        found = import_verdict(session.aws, verdict, record=record, updated_by=session.identity.arn)
        return verdict.account_id, found

    judged = [a.verdict for a in result.accounts if a.verdict is not None and a.verdict.account_id]
    done = each_concurrently(judged, job, concurrency=concurrency, name="remediate-securityhub")
    return {account_id: found for account_id, found in done if found is not None}


def _print_sweep_findings(
    request: RootUseRequest,
    result: SweepResult,
    region: str,
    resolved: dict[str, frozenset[str]],
) -> None:
    """Every judged account's findings as one JSON list (--output asff or ocsf); an account
    that could not be judged has none."""
    from remediate.core.terminal import print_documents
    from remediate.findings.export import documents

    verdicts = [
        (a.verdict, resolved.get(a.account_id, frozenset()))
        for a in result.accounts
        if a.verdict is not None
    ]
    print_documents(documents(request.output, verdicts, region=region))


def _render_sweep_activity(console: Console, result: SweepResult) -> None:
    """After the sweep's table: what CloudTrail shows root did, account by account (accounts
    looked up with --cloudtrail that have root events, or regions not read)."""
    from remediate.core.terminal import safe
    from remediate.render.views import render_root_activity

    now = datetime.now(UTC)
    for a in result.accounts:
        v = a.verdict
        if v is None or v.cloudtrail is None or (v.cloudtrail.complete and not v.cloudtrail.events):
            continue
        name = f" ({safe(a.account_name)})" if a.account_name else ""
        console.print(f"[bold]Account {safe(a.account_id)}{name}[/]:")
        render_root_activity(console, v, now)


def _remediation_targets(
    result: SweepResult, *, every_account: bool, console: Console
) -> tuple[list[Target], bool]:
    """The accounts to remediate, and whether an account had to be left out (root may be in use
    there: the run cannot say it completed)."""
    from remediate.core.terminal import safe
    from remediate.org.accounts import Target

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
    remediation: Remediation,
    result: SweepResult,
    opener: Any,
    prompter: Prompter,
    *,
    hubs: dict[str, ImportResult] | None = None,
) -> int:
    from remediate.commands.requests import FINDINGS_FORMATS
    from remediate.core.terminal import print_json
    from remediate.findings.export import resolved_by
    from remediate.playbook import engine
    from remediate.render.documents import sweep_remediation_document

    assert request.accounts is not None
    out = plan_console(request.output)
    targets, failed = _remediation_targets(
        result, every_account=request.accounts.every_account, console=out
    )
    finish = _finish(request)
    services = _services(
        remediation,
        opener,
        prompter,
        out,
        sandbox=request.aws.sandbox,
        many=True,
        concurrency=request.accounts.concurrency,
        output=request.output,
        allow_plaintext_keyring=_allow_plaintext(request),
        finish=finish,
        lock_timeout=_lock_timeout(request),
    )
    runs: list[AccountRun] = engine.run(remediation, targets, services) if targets else []
    if runs and not any(r.pending for r in runs) and all(r.report for r in runs):
        out.print("Nothing needs changing in any account.")
    failed = failed or any(r.failure is not None for r in runs)
    resolved = {r.account_id: resolved_by(r) for r in runs}
    hubs = dict(hubs or {})
    if request.security_hub:
        by_account = {r.account_id: r for r in runs}
        _import_resolved(opener, result, resolved, hubs, by_account, sandbox=request.aws.sandbox)
    if request.output in FINDINGS_FORMATS:
        _print_sweep_findings(request, result, opener.base.region, resolved)
    if request.output == "json":
        print_json(
            sweep_remediation_document(
                result,
                runs,
                show_secrets=remediation.options.show_secrets,
                sandbox=request.aws.sandbox,
                finish=finish,
                security_hub=hubs if request.security_hub else None,
            )
        )
    _show_imports(request, hubs.values())
    stopped = engine.interrupted(runs)
    if stopped is not None:
        raise stopped
    code = _hub_exit(EXIT_AWS if failed else EXIT_OK, hubs.values())
    return _trail_exit(code, [a.verdict for a in result.accounts])


def _import_resolved(
    opener: Any,
    result: SweepResult,
    resolved: dict[str, frozenset[str]],
    hubs: dict[str, ImportResult],
    runs: dict[str, AccountRun],
    *,
    sandbox: bool,
) -> None:
    """Each completed remediation recorded on the findings it closed (in the account's own
    Security Hub, remediate.findings.workflow); added to that account's import in ``hubs``."""
    from remediate.findings.export import merged, record_remediation
    from remediate.findings.securityhub import FailedFinding, ImportResult
    from remediate.org.sweep import one_line

    for a in result.accounts:
        closed = resolved.get(a.account_id)
        imported = hubs.get(a.account_id)
        if a.verdict is None or not closed or imported is None:
            continue
        try:
            session = opener(a.account_id)
            record = _hub_journal(sandbox, a.account_id, _caller(session))
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


def playbook_run(request: PlaybookRunRequest, prompter: Prompter) -> int:
    """Run a playbook in the caller's account: plan, confirm, apply."""
    from remediate.aws.identity import caller_identity

    remediation = prepare_remediation(request.remediation, prompter)
    with open_aws(request.aws, read_only=remediation.dry_run) as aws:
        identity = caller_identity(aws)
        document: dict[str, Any] = {
            "account_id": identity.account_id,
            "sandbox": request.aws.sandbox,
        }
        return _remediate_one_account(remediation, aws, identity, prompter, request, document)


# --- root-credentials ---------------------------------------------------------------------------


def root_credentials_centralize(request: PlaybookRunRequest, prompter: Prompter) -> int:
    """Centralize root access, from the management account: the shipped playbook
    root-credentials-centralize through the engine (plan, confirm, apply, journal)."""
    from remediate.aws.identity import caller_identity

    remediation = prepare_remediation(request.remediation, prompter)
    with open_aws(request.aws, read_only=remediation.dry_run, organization=True) as aws:
        identity = caller_identity(aws)
        document: dict[str, Any] = {
            "account_id": identity.account_id,
            "sandbox": request.aws.sandbox,
        }
        return _remediate_one_account(remediation, aws, identity, prompter, request, document)


def root_credentials_audit(request: RootCredentialsRequest) -> int:
    """Which member accounts' root users hold credentials, read through root audit sessions."""
    from remediate.aws.identity import caller_identity
    from remediate.core.spinner import progress_bar
    from remediate.core.terminal import print_json, stdout_console
    from remediate.org import accounts
    from remediate.org.root_credentials import (
        AUDIT_TASK,
        AuditResult,
        audit,
        member_targets,
        organization_root_access,
        require_root_credentials_management,
    )
    from remediate.render.views import render_root_audit

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
            opener = accounts.MemberRootSessions(
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
    if request.output == "json":
        print_json(result.to_json())
    else:
        render_root_audit(stdout_console(), result)
    return result.exit_code()


def _unaudited(target: Target, why: str) -> AccountAudit:
    """An account that was not audited, and why (one line)."""
    from remediate.org.root_credentials import AccountAudit
    from remediate.org.sweep import one_line

    return AccountAudit(target.account_id, target.account_name, None, one_line(why))


def root_credentials_delete(request: RootCredentialsRequest, prompter: Prompter) -> int:
    """Delete member accounts' root credentials: the shipped playbook root-credentials-delete
    through the engine, in each account in a root session with the delete task policy."""
    from remediate.aws.identity import caller_identity
    from remediate.commands.requests import RemediationRequest
    from remediate.core.terminal import print_json
    from remediate.org import accounts
    from remediate.org.root_credentials import (
        DELETE_TASK,
        MANAGEMENT_ACCOUNT_NOTE,
        member_targets,
        organization_root_access,
        require_root_credentials_management,
    )
    from remediate.playbook import engine
    from remediate.render.documents import root_credentials_delete_document

    remediation = prepare_remediation(
        RemediationRequest("root-credentials-delete", {}, dry_run=request.dry_run, yes=request.yes),
        prompter,
        across_accounts=True,
    )
    out = plan_console(request.output)
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
        opener = accounts.MemberRootSessions(
            aws,
            own,
            task=DELETE_TASK,
            management_account_id=state.management_account_id,
            read_only=aws.read_only,
        )
        services = _services(
            remediation,
            opener,
            prompter,
            out,
            sandbox=request.aws.sandbox,
            many=True,
            concurrency=request.concurrency,
            output=request.output,
            allow_plaintext_keyring=False,  # deleting root credentials keeps no secret
            lock_timeout=request.lock_timeout,
        )
        runs = engine.run(remediation, targets, services) if targets else []
    if not targets:
        out.print("No member account to delete root credentials in.")
    elif not any(r.pending for r in runs) and all(r.report for r in runs):
        out.print("Nothing needs changing: no member account's root user holds credentials.")
    failed = any(r.failure is not None for r in runs)
    if request.output == "json":
        print_json(root_credentials_delete_document(state.to_json(), runs))
    stopped = engine.interrupted(runs)
    if stopped is not None:
        raise stopped
    return EXIT_AWS if failed else EXIT_OK


# --- secrets, permissions, journal ---------------------------------------------------------------


def _usable_store(*, allow_plaintext: bool) -> SecretStore:
    from remediate.credentials.store import SecretStore

    store = SecretStore(allow_plaintext=allow_plaintext)
    store.require_usable()
    return store


def _account_for(store: SecretStore, user: str, account: str | None) -> str:
    """The account whose secrets for ``user`` are meant: given, or the only one there is."""
    from remediate.core import validate

    validate.user_name(user)
    if account is not None:
        validate.account_id(account, "--account")
    accounts = sorted({a for a, u, _ in store.entries() if u == user})
    if account is not None:
        if account not in accounts:
            raise InputError(f"the keyring holds no secret of {user} in account {account}")
        return account
    if not accounts:
        raise InputError(
            f"the keyring holds no secret of {user}", tip="see `remediate secrets list`"
        )
    if len(accounts) > 1:
        raise InputError(
            f"{user} has secrets in several accounts ({', '.join(accounts)})",
            tip="choose one with --account ID",
        )
    return accounts[0]


def secrets_list(output: OutputFormat, *, allow_plaintext: bool = False) -> int:
    """Which secrets the keyring holds, by account and user (never the values)."""
    from remediate.core.terminal import print_json, write_line
    from remediate.credentials.store import HANDOVER

    store = _usable_store(allow_plaintext=allow_plaintext)
    grouped: dict[tuple[str, str], list[str]] = {}
    for account, user, kind in store.entries():
        if kind != HANDOVER:  # remediate's notes about the secrets, not a secret
            grouped.setdefault((account, user), []).append(kind)
    warnings = {
        (a, u): _kept_seed_warnings(store, a, u, kinds) for (a, u), kinds in grouped.items()
    }
    if output == "json":
        print_json(
            {
                "keyring": store.description(),
                "secrets": [
                    {"account_id": a, "user": u, "kinds": kinds, "warnings": warnings[(a, u)]}
                    for (a, u), kinds in sorted(grouped.items())
                ],
            }
        )
        return EXIT_OK
    if not grouped:
        write_line(f"No secrets in {store.description()}.")
    for (account, user), kinds in sorted(grouped.items()):
        # The index is a keyring entry like any other: anything may have been written there.
        marks = "".join(f"  ({w})" for w in warnings[(account, user)])
        write_line(f"{account}  {user}  {', '.join(kinds)}{marks}")
    return EXIT_OK


def _kept_seed_warnings(store: SecretStore, account: str, user: str, kinds: list[str]) -> list[str]:
    """A kept MFA seed is the user's second factor in the keyring, beside the password: said
    with how it goes (a pending device's by the run that enables it)."""
    from remediate.render.handover import secrets_command

    if "mfa-seed" not in kinds:
        return []
    if store.pending_mfa(account, user) is not None:
        how = f"the run that enables {user}'s pending device with --mfa-codes forgets it"
    else:
        how = secrets_command("forget", user, account)
    return [f"the mfa-seed defeats MFA until forgotten: {how}"]


# What each `secrets show --what` hands over, by the kind of secret it reads.
_SHOW_KIND = {
    "password": "password",
    "console": "password",
    "access-key": "access-key",
    "mfa-qr": "mfa-seed",
    "mfa-secret": "mfa-seed",
}


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed, or no stream at all
        return False


def secrets_show(
    user: str, what: str, account: str | None, qr_file: Any, *, allow_plaintext: bool = False
) -> int:
    """Print (or render) a secret, to hand it to its owner: exactly as kept, never as markup.
    ``console`` is everything a console sign-in takes (URL, user name, password); an access key
    is a ``~/.aws/credentials`` profile. remediate notes that it was shown (handed over)."""
    from remediate.core.terminal import write_line
    from remediate.render.views import credentials_profile

    if what == "mfa-qr" and qr_file is None and not _stdout_is_terminal():
        # Drawn for a terminal, the QR code is no use in a file or a pipe, and a seed any reader
        # of it can scan.
        raise InputError(
            "--what mfa-qr draws the QR code on a terminal, and standard output is not one",
            tip="pass --qr-file PATH for a PNG to scan or send (mode 0600), or --what mfa-secret "
            "for the key to type in",
        )
    store = _usable_store(allow_plaintext=allow_plaintext)
    account_id = _account_for(store, user, account)
    kind = _SHOW_KIND[what]
    value = store.get(account_id, user, kind)
    if value is None:
        raise InputError(f"the keyring holds no {kind} for {user} in account {account_id}")
    if what == "password":
        write_line(value)
    elif what == "console":
        url = store.handover(account_id, user).get("sign_in_url")
        if not isinstance(url, str):
            from remediate.steps.iam import console_sign_in_url

            # Noted by runs since the hand-over notes exist; before that, the aws partition's.
            url = console_sign_in_url(account_id, "aws")
        write_line(f"Sign-in URL: {url}")
        write_line(f"User name:   {user}")
        write_line(f"Password:    {value}")
    elif what == "access-key":
        for line in credentials_profile(user, value):
            write_line(line)
    elif what == "mfa-secret":
        write_line(value)
    else:
        from remediate.credentials.totp import (
            otpauth_uri,
            render_qr_terminal,
            seed_is_valid,
            write_qr_png,
        )

        if not seed_is_valid(value):
            raise InputError(
                f"the keyring's mfa-seed for {user} in account {account_id} is not a valid seed",
                tip=f"remove it with `remediate secrets forget {user}` and rerun to enroll afresh",
            )
        uri = otpauth_uri(value, user, account_id)
        if qr_file is not None:
            write_qr_png(uri, qr_file)
            write_line(f"QR code written to {qr_file} (mode 0600).", sys.stderr)
        else:
            sys.stdout.write(render_qr_terminal(uri))
    store.mark_shown(account_id, user, kind)
    return EXIT_OK


def _forget_warnings(store: SecretStore, account_id: str, user: str, kinds: list[str]) -> list[str]:
    """What is lost with secrets remediate never showed to anybody: nobody else has them."""
    from remediate.render.handover import secrets_command

    shown = store.shown(account_id, user)
    show = secrets_command("show", user, account_id, "--what")
    warnings = []
    if "password" in kinds and "password" not in shown:
        warnings.append(
            f"{user}'s console password was never shown (no --show-secrets, no `secrets show`), "
            "so nobody can have signed in with it: its login profile still requires a reset, "
            f"and once forgotten nobody knows it. Hand it over first ({show} console), or set a "
            f"new one on the next run: remediate root-use --create-admin {user} --reset-password"
        )
    if "access-key" in kinds and "access-key" not in shown:
        warnings.append(
            f"{user}'s secret access key was never shown: once forgotten nobody holds it. Hand "
            f"it over first ({show} access-key), or delete the key afterwards (aws iam "
            "delete-access-key) and rerun to get a new one"
        )
    if "mfa-seed" in kinds and "mfa-seed" not in shown:
        warnings.append(
            f"{user}'s MFA seed was never shown (--mfa-auto): once forgotten, only an app that "
            f"already scanned it can make codes. Hand it over first ({show} mfa-qr)"
        )
    return warnings


def secrets_forget(
    user: str,
    account: str | None,
    *,
    yes: bool,
    prompter: Prompter,
    allow_plaintext: bool = False,
    include_pending_mfa: bool = False,
) -> int:
    """Delete a user's secrets from the keyring (after a confirmation), warning first about any
    that were never handed over. The seed of an MFA device a run left pending is kept unless
    ``include_pending_mfa``: finishing its enrollment (--mfa-codes) needs it."""
    from remediate.core.prompt import confirm_or_refuse
    from remediate.core.terminal import write_line
    from remediate.credentials.store import HANDOVER

    store = _usable_store(allow_plaintext=allow_plaintext)
    account_id = _account_for(store, user, account)
    entries = [k for a, u, k in store.entries() if a == account_id and u == user]
    pending = store.pending_mfa(account_id, user) if "mfa-seed" in entries else None
    if pending is not None and not include_pending_mfa:
        # The notes go with the seed: they say the device is pending.
        entries = [k for k in entries if k not in ("mfa-seed", HANDOVER)]
        write_line(
            f"Keeping {user}'s MFA seed: the device {pending} is pending (not enabled), and the "
            f"run that finishes its enrollment (--mfa-codes CODE1 CODE2) needs it. Forget it "
            "after that run, or now with --include-pending-mfa (the device must then be "
            "enrolled afresh).",
            sys.stderr,
        )
    kinds = [k for k in entries if k != HANDOVER]
    if not kinds:
        write_line(f"Nothing else to forget for {user} (account {account_id}).")
        return EXIT_OK
    for warning in _forget_warnings(store, account_id, user, kinds):
        write_line(f"Warning: {warning}", sys.stderr)
    confirm_or_refuse(
        prompter,
        f"Delete {', '.join(kinds)} of {user} (account {account_id}) from the keyring?",
        yes=yes,
        unchanged="nothing was deleted",
    )
    for kind in entries:
        store.delete(account_id, user, kind)
    write_line(f"Deleted {', '.join(kinds)} of {user} (account {account_id}).")
    return EXIT_OK


def permissions(request: PermissionsRequest) -> int:
    """Print the least-privilege IAM policy (JSON): detection and a playbook's steps (and the
    sweep's needs), its administrative steps' on their own, or what the management account
    needs for root-credentials. A name given as ``*`` is warned about on standard error."""
    from remediate.core.terminal import print_json, write_line
    from remediate.playbook.permissions import policy, root_credentials_policy, wildcard_warnings

    if request.root_credentials:
        print_json(root_credentials_policy(request.partition))
        return EXIT_OK
    document = policy(
        request.playbook,
        variables=request.variables,
        account=request.account,
        partition=request.partition,
        detect_only=request.detect_only,
        organization_role=request.organization_role,
        cloudtrail=request.cloudtrail,
        security_hub=request.security_hub,
        administrative=request.administrative,
    )
    for warning in wildcard_warnings(document, request.variables):
        write_line(f"Warning: {warning}.", sys.stderr)
    print_json(document)
    return EXIT_OK


def journal(request: JournalRequest) -> int:
    """Show the audit trail: one entry per write call remediate made (never a secret), those
    that match the request's filters, newest ``limit`` of them. Unreadable lines are skipped and
    counted."""
    from remediate.core.terminal import print_json, write_line
    from remediate.playbook.journal import JournalFilter, journal_path, read_journal

    reading = read_journal(JournalFilter(request.account, request.user, request.since))
    entries = reading.entries[-request.limit :]
    skipped = reading.unreadable
    if skipped:
        lines = ", ".join(str(n) for n in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        write_line(
            f"Skipped {len(skipped)} unreadable line{'s' * (len(skipped) != 1)} of "
            f"{journal_path()} (line{'s' * (len(skipped) != 1)} {lines}): not journal entries.",
            sys.stderr,
        )
    if request.output == "json":
        print_json(
            {"journal": str(journal_path()), "entries": entries, "unreadable_lines": skipped}
        )
        return EXIT_OK
    if not entries:
        filtered = request.account or request.user or request.since
        write_line(f"No {'matching ' if filtered else ''}changes recorded in {journal_path()}.")
    for e in entries:
        # A journal line is a file anyone with access to it may have edited: text, made safe.
        step = f"{e.get('playbook')}/{e.get('step')}" if e.get("step") else e.get("playbook")
        write_line(f"{e.get('time')}  {e.get('account')}  {step}")
        write_line(f"    {e.get('change')} {e.get('resource')}")
        by = f"by {e.get('caller')}" + (f" as {e['acting_as']}" if e.get("acting_as") else "")
        write_line(f"    {e['action']}: {e.get('outcome')}; {by}" if "action" in e else f"    {by}")
        for detail in e.get("details") or []:
            write_line(f"    {detail}")
    return EXIT_OK


# --- sandbox serve ----------------------------------------------------------------------------

SANDBOX_ENDPOINT_FILE = "endpoint"
SANDBOX_KEYRING_FILE = "sandbox-keyring.json"


def sandbox_environment(endpoint_url: str, directory: Path) -> list[str]:
    """The shell lines that point remediate (and the AWS CLI) at a serving sandbox: its
    endpoint and fake keys, no profile, its own keyring file and its own state directory."""
    import shlex

    from remediate.credentials.store import SANDBOX_KEYRING_ENV
    from remediate.sandbox.server import SANDBOX_CREDENTIALS, SANDBOX_REGION

    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": SANDBOX_CREDENTIALS["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": SANDBOX_CREDENTIALS["SecretAccessKey"],
        "AWS_REGION": SANDBOX_REGION,
        "AWS_DEFAULT_REGION": SANDBOX_REGION,
        # Sandbox only: a plain file of its fake secrets, in the sandbox's own directory.
        SANDBOX_KEYRING_ENV: str(directory / SANDBOX_KEYRING_FILE),
        # The journal and the locks of runs against the sandbox stay with it.
        "XDG_STATE_HOME": str(directory / "state"),
    }
    lines = ["unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    return lines


def check_sandbox_keyring(aws: Aws) -> None:
    """With the sandbox's keyring in the environment, refuse to talk to anything but that
    sandbox: secrets of a real account must never land in its plain file."""
    import os

    from remediate.credentials.store import SANDBOX_KEYRING_ENV

    keyring_file = os.environ.get(SANDBOX_KEYRING_ENV)
    if not keyring_file:
        return
    try:
        served = (Path(keyring_file).parent / SANDBOX_ENDPOINT_FILE).read_text().strip()
    except OSError:
        served = None
    target = str(aws.iam.meta.endpoint_url)
    if served is None or target.rstrip("/") != served.rstrip("/"):
        raise InputError(
            f"{SANDBOX_KEYRING_ENV} is set (the keyring of `remediate sandbox serve`), but this "
            f"command talks to {target}, not to that sandbox ({served or 'not serving'})",
            tip=f"unset {SANDBOX_KEYRING_ENV} and the sandbox's other lines (a new shell) before "
            "working on a real account",
        )


def _serve(sb: Any, directory: Path) -> None:
    """Seed the Developers group, say where the sandbox is, and wait for Ctrl-C."""
    import time

    from remediate.core.terminal import note
    from remediate.sandbox.server import SANDBOX_ACCOUNT_ID

    # The group the README's onboard-user example adds people to.
    sb.client("iam").create_group(GroupName="Developers")
    (directory / SANDBOX_ENDPOINT_FILE).write_text(sb.endpoint_url + "\n")
    note(
        f"SANDBOX: a local AWS emulator at {sb.endpoint_url}: account {SANDBOX_ACCOUNT_ID} "
        "(its root password used 2 days ago; an IAM group Developers), the management "
        "account of an organization with three member accounts. Nothing here touches a real "
        "AWS account."
    )
    note(
        "Paste these lines into another shell to point remediate and the AWS CLI at it; its "
        f"keyring and journal stay in {directory}:"
    )
    for line in sandbox_environment(sb.endpoint_url, directory):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    note("Serving until Ctrl-C; everything in the emulator ends then.")
    while True:
        time.sleep(3600)


def sandbox_serve(request: SandboxServeRequest) -> int:
    """Run the sandbox in the foreground until Ctrl-C: its accounts, organization and a
    Developers group, and the lines that point other commands at it."""
    import os
    import tempfile

    from remediate.core.terminal import note
    from remediate.sandbox.server import Sandbox

    if request.directory is None:
        directory = Path(tempfile.mkdtemp(prefix="remediate-sandbox-"))  # 0700
    else:
        directory = request.directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Ctrl-C is how a server in the foreground is stopped, once it runs: not an interruption of
    # a change, and exit 0.
    with (
        Sandbox(organization=True, port=request.port) as sb,
        contextlib.suppress(KeyboardInterrupt),
    ):
        _serve(sb, directory)
    with contextlib.suppress(OSError):
        os.remove(directory / SANDBOX_ENDPOINT_FILE)
    note(f"\nSANDBOX: stopped. Its keyring and journal are in {directory} (delete it when done).")
    return EXIT_OK
