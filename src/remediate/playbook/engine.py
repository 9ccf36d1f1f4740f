"""The remediation engine, the same for one account and for many: lock, plan, preflight,
confirm, apply.

Every account's lock is taken before anything is planned (in account id order, so two runs
cannot deadlock) and held until its changes are applied, so what the person confirmed is what
gets applied. Dry run is decided here, once: a dry run plans and stops, and its sessions refuse
any write besides. Sessions are opened in the thread that uses them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from remediate.core.errors import InputError, Interrupted, RemediateError
from remediate.core.prompt import confirm_or_refuse
from remediate.core.terminal import close_prompt_line
from remediate.playbook import runner
from remediate.steps.base import RunOutcome, StepContext
from remediate.steps.enrollment import NO_TERMINAL, Enrollment

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.core.prompt import Prompter
    from remediate.credentials.store import SecretStore
    from remediate.org.accounts import AccountSession, Target
    from remediate.playbook.journal import Journal
    from remediate.playbook.runner import RunReport
    from remediate.steps.base import RunOptions
    from remediate.steps.kind import AnyStep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Remediation:
    """A playbook ready to run: its steps, the run's options, and whether to apply at all."""

    playbook: str
    steps: tuple[AnyStep, ...]
    options: RunOptions
    dry_run: bool
    yes: bool


@dataclass
class AccountRun:
    """One account's part of a remediation: its plan and outcome, or why it has none."""

    target: Target
    report: RunReport | None = None
    outcome: RunOutcome = field(default_factory=RunOutcome)
    failure: RemediateError | None = None
    _ctx: StepContext | None = field(default=None, repr=False)
    _session: AccountSession | None = field(default=None, repr=False)
    _thread: int | None = field(default=None, repr=False)
    _journal: Journal | None = field(default=None, repr=False)

    @property
    def account_id(self) -> str:
        return self.target.account_id

    @property
    def pending(self) -> bool:
        return self.report is not None and bool(self.report.pending)


class View(Protocol):
    """Where the engine shows its progress: each account's plan, then each outcome."""

    def planned(self, run: AccountRun) -> None: ...

    def applied(self, run: AccountRun) -> None: ...


@dataclass(frozen=True)
class Services:
    """What the engine works with, injected by the command (or a test)."""

    open_account: Callable[[str], AccountSession]
    secrets: SecretStore
    prompter: Prompter
    view: View
    ui: Console  # where steps write their messages
    journal: Callable[[AccountSession, str], Journal | None]
    lock: Callable[[str], AbstractContextManager[None]]
    concurrency: int = 1
    # Whoever enrolls a virtual MFA device in person (remediate.render.enrollment's terminal).
    enrollment: Enrollment = NO_TERMINAL


def run(
    remediation: Remediation, targets: Sequence[Target], services: Services
) -> list[AccountRun]:
    """Run the remediation in every target account; a failure stays with its account.

    Raises InputError before any write (a preflight check, no confirmation).
    """
    runs = [AccountRun(t) for t in targets]
    with contextlib.ExitStack() as locks:
        for account_id in sorted({t.account_id for t in targets}):
            locks.enter_context(services.lock(account_id))
        _plan_all(remediation, runs, services)
        for r in runs:
            services.view.planned(r)
        pending = [r for r in runs if r.pending]
        if remediation.dry_run or not pending:
            return runs
        for r in pending:
            assert r.report is not None
            assert r._ctx is not None
            assert r._session is not None
            runner.preflight(r.report, r._ctx)
            # Opened now, not at the first change: a journal that must be refused (a link,
            # another user's file) stops the run before anything is confirmed or changed.
            r._journal = services.journal(r._session, remediation.playbook)
        confirm_or_refuse(services.prompter, _question(pending), yes=remediation.yes)
        for r in pending:
            assert r.report is not None
            assert r._ctx is not None
            # Asked now, not before the plan: the person has seen what will change.
            runner.ask(r.report, r._ctx)
        _apply_all(remediation, pending, services)
    return runs


def _apply_all(remediation: Remediation, pending: Sequence[AccountRun], services: Services) -> None:
    """Apply account by account; Ctrl-C stops here, and the accounts not reached say so."""
    for n, r in enumerate(pending):
        try:
            _apply(remediation, r, services)
            if not isinstance(r.failure, Interrupted):
                services.view.applied(r)
            elif r.outcome.secrets and remediation.options.show_secrets:
                # Secrets it made that were to be shown: shown, or they would be lost.
                close_prompt_line()
                services.view.applied(r)
        except KeyboardInterrupt:
            if r.failure is None:
                r.failure = Interrupted(
                    f"interrupted after the changes in account {r.account_id} were applied"
                )
        if isinstance(r.failure, Interrupted):
            for later in pending[n + 1 :]:
                later.failure = Interrupted(
                    f"not started: interrupted before account {later.account_id}"
                )
            return


def interrupted(runs: Sequence[AccountRun]) -> Interrupted | None:
    """The one line for Ctrl-C across the accounts of a run: where it stopped, what it had
    changed, which accounts it never reached; ``None`` when it was not interrupted."""
    cut = [r for r in runs if isinstance(r.failure, Interrupted)]
    if not cut:
        return None
    first = cut[0]
    assert isinstance(first.failure, Interrupted)
    if len(runs) == 1:
        return first.failure
    done = [r.account_id for r in runs if r.failure is None and r.report and r.report.changed]
    later = [r.account_id for r in cut[1:]]
    message = first.failure.message.removeprefix("interrupted")
    parts = [f"interrupted in account {first.account_id}{message}"]
    if done:
        parts.append(f"accounts changed before it: {', '.join(done)}")
    if later:
        parts.append(f"accounts not started: {', '.join(later)}")
    return Interrupted("; ".join(parts), report=first.failure.report)


def _question(pending: Sequence[AccountRun]) -> str:
    changes = sum(len(r.report.pending) for r in pending if r.report is not None)
    what = f"{changes} change{'s' * (changes != 1)}"
    if len(pending) == 1:
        return f"Apply {what} to account {pending[0].account_id}?"
    ids = ", ".join(r.account_id for r in pending)
    return f"Apply {what} in {len(pending)} accounts ({ids})?"


def _plan(remediation: Remediation, run: AccountRun, services: Services) -> None:
    try:
        session = services.open_account(run.account_id)
        ctx = StepContext(
            aws=session.aws,
            account_id=run.account_id,
            partition=session.identity.partition,
            secrets=services.secrets,
            options=remediation.options,
            ui=services.ui,
            prompter=services.prompter,
            outcome=run.outcome,
            caller_arn=session.identity.arn,
            enrollment=services.enrollment,
        )
        run.report = runner.plan(
            remediation.steps, ctx, remediation.playbook, dry_run=remediation.dry_run
        )
    except InputError:
        raise
    except RemediateError as exc:
        log.info("account %s: cannot plan: %s", run.account_id, exc.message)
        run.failure = exc
        return
    run._ctx, run._session, run._thread = ctx, session, threading.get_ident()


def _plan_all(remediation: Remediation, runs: list[AccountRun], services: Services) -> None:
    """Plan every account: in this thread for one account, else ``concurrency`` at a time."""
    workers = min(services.concurrency, len(runs))
    if workers <= 1:
        for r in runs:
            _plan(remediation, r, services)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="remediate-plan") as pool:
        futures = [pool.submit(_plan, remediation, r, services) for r in runs]
        try:
            for future in futures:
                future.result()  # an input error (exit 2) or a bug ends the run here
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _apply(remediation: Remediation, run: AccountRun, services: Services) -> None:
    assert run.report is not None
    assert run._ctx is not None
    assert run._session is not None
    ctx = run._ctx
    journal = run._journal
    try:
        if run._thread != threading.get_ident():
            # Planned in a worker thread: a session of this thread's own, which knows the tags
            # the plan read (the journal says what a tag update changed).
            planned_with = run._session.aws
            session = run._session = services.open_account(run.account_id)
            session.aws.tags_seen.update(planned_with.tags_seen)
            ctx.aws = session.aws
        if journal is not None:
            # Every write call, as it ends: deletions, and those of a run that stops, too.
            ctx.aws.on_write = journal.write
        runner.apply(run.report, ctx, on_step=journal.step if journal else None)
    except Interrupted as exc:
        run.failure = exc
    except KeyboardInterrupt:
        # Before the runner took over: this account was not changed.
        run.failure = Interrupted(
            f"interrupted before account {run.account_id} was changed: nothing was changed there"
        )
    except RemediateError as exc:
        log.info("account %s: %s", run.account_id, exc.message)
        run.failure = exc
    finally:
        ctx.aws.on_write = None
        _note_mfa(ctx)


def _note_mfa(ctx: StepContext) -> None:
    """Note in the keyring whether the user's MFA device was left pending: `secrets forget` must
    not delete the seed the finishing run (--mfa-codes) still needs."""
    device = ctx.outcome.mfa
    if device is None or device.user is None or not ctx.secrets.usable():
        return
    if device.enabled or device.seed_kept:
        ctx.secrets.note_mfa(
            ctx.account_id, device.user, device.serial_number, enabled=device.enabled
        )
