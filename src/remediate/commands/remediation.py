"""A remediation from request to engine: the playbook loaded and checked, a given password read,
and the run in the caller's own account (root-use, playbook run, root-credentials centralize)
with its output and exit code. Across accounts, remediate.commands.sweep runs the same engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remediate.commands.exits import hub_exit, trail_exit
from remediate.commands.remediation_request import (
    PasswordSource,
    PlaybookRunRequest,
    RemediationRequest,
    check_steps,
)
from remediate.commands.root_use_request import RootUseRequest, rerun_command
from remediate.commands.wiring import hub_journal, never_shown, services
from remediate.core import limits
from remediate.core.errors import EXIT_OK, InputError
from remediate.findings.export import merged, record_remediation, resolved_by
from remediate.org.accounts import OwnAccount, Target
from remediate.playbook import engine
from remediate.playbook.binding import bind, instantiate
from remediate.playbook.engine import Remediation
from remediate.playbook.loading import load_playbook
from remediate.render.outcome import TextView
from remediate.render.securityhub import render_security_hub
from remediate.steps.base import RunOptions

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from remediate.aws.identity import Identity
    from remediate.aws.session import Aws
    from remediate.core.prompt import Prompter
    from remediate.detect.judge import Verdict
    from remediate.findings.securityhub import ImportResult
    from remediate.render.outputs import Output
    from remediate.steps.kind import AnyStep

Remediating = RootUseRequest | PlaybookRunRequest


@dataclass(frozen=True)
class PreparedPlaybook:
    """A playbook loaded, its variables bound and its steps built: ready for the engine."""

    name: str
    steps: tuple[AnyStep, ...]


def prepare(request: RemediationRequest, *, across_accounts: bool = False) -> PreparedPlaybook:
    """Load and check the playbook, and the rules that depend on what its steps can do
    (remediate.commands.remediation_request.check_steps)."""
    playbook = load_playbook(request.playbook)
    steps = tuple(instantiate(playbook, bind(playbook, request.variables)))
    check_steps(request, playbook.name, steps, across_accounts=across_accounts)
    return PreparedPlaybook(playbook.name, steps)


def read_password(request: RemediationRequest, prompter: Prompter) -> str | None:
    """The password piped in with --password-stdin (read before anything else: a pipe is there
    already). --password-prompt asks later, once the plan is confirmed
    (remediate.playbook.engine)."""
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
    """The remediation the engine runs: every input error comes out here, before any AWS
    call."""
    prepared = prepare(request, across_accounts=across_accounts)
    options = RunOptions(
        password=read_password(request, prompter),
        password_prompt=request.password_source is PasswordSource.PROMPT,
        show_secrets=request.show_secrets,
        mfa=request.mfa,
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


def finisher(request: Remediating) -> Callable[[str], str] | None:
    """The command that reruns the remediation in an account, for the summary: it finishes a
    run that ended early (self-service MFA; with --mfa-codes, a pending enrollment); none for a
    playbook without a remediation request."""
    if request.remediation is None:
        return None
    return lambda account_id: rerun_command(request, account_id)


def lock_timeout(request: Remediating) -> float:
    if request.remediation is None:
        return limits.DEFAULT_LOCK_TIMEOUT
    return request.remediation.lock_timeout


def allow_plaintext(request: Remediating) -> bool:
    return request.remediation is not None and request.remediation.allow_plaintext_keyring


def remediate_one_account(
    remediation: Remediation,
    aws: Aws,
    identity: Identity,
    prompter: Prompter,
    request: Remediating,
    output: Output,
    base: Mapping[str, Any],
    *,
    verdict: Verdict | None = None,
    hub: ImportResult | None = None,
) -> int:
    """Run the remediation in the caller's account. ``base`` is the account's document so far;
    ``verdict`` (root-use) the detection the findings come from, ``hub`` its import into
    Security Hub (--security-hub), to which a completed run adds the findings it resolved."""
    finish = finisher(request)
    show = remediation.options.show_secrets
    view = TextView(
        output.console,
        many=False,
        show_secrets=output.show_secrets(show),
        sandbox=request.aws.sandbox,
        finish=finish,
    )
    wired = services(
        OwnAccount(aws, identity),
        prompter,
        view,
        sandbox=request.aws.sandbox,
        allow_plaintext_keyring=allow_plaintext(request),
        lock_timeout=lock_timeout(request),
    )
    view.held = output.held = never_shown(wired.secrets)
    [run] = engine.run(remediation, [Target(identity.account_id)], wired)
    if run.report is None:
        assert run.failure is not None
        raise run.failure
    resolved: frozenset[str] = frozenset()
    if verdict is not None:
        resolved = resolved_by(run)
        if hub is not None and resolved:
            # The findings a completed remediation closed keep what detection measured; the
            # remediation records itself beside it, in their workflow (remediate.findings.workflow).
            record = hub_journal(request.aws.sandbox, identity.account_id, identity.arn)
            hub = merged(
                hub,
                record_remediation(
                    aws, verdict, run, resolved, hub, updated_by=identity.arn, record=record
                ),
            )
    output.remediated(
        base,
        run,
        verdict=verdict,
        resolved=resolved,
        hub=hub,
        region=aws.region,
        show_secrets=show,
        finish=finish(run.account_id) if finish else None,
    )
    if hub is not None:
        render_security_hub(output.console, [hub])
    if run.failure is not None:
        raise run.failure
    return trail_exit(hub_exit(EXIT_OK, [hub]), [verdict])
