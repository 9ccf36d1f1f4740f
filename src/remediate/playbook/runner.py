"""The steps of one account: plan every step, check before writing, apply in order, report.

The engine (remediate.playbook.engine) decides, once, whether a run applies at all; this module only
plans and applies what it is handed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from remediate.core.errors import InputError, Interrupted, RemediateError, StepFailedError
from remediate.core.terminal import safe
from remediate.credentials.passwords import check_password
from remediate.steps.base import Change, ChangeKind, StepContext, Unchanged
from remediate.steps.kind import AnyStep

if TYPE_CHECKING:
    from remediate.aws.audit import WriteCall

# Passwords typed with --password-prompt: tries before the run stops (nothing changed yet).
MAX_PASSWORD_TRIES = 3

log = logging.getLogger(__name__)


class PlannedStep(TypedDict):
    """A step of the JSON document's ``remediation``: what its plan found, and whether applied."""

    id: str
    kind: str
    resource: str
    change: ChangeKind
    applied: bool
    details: list[str]
    warnings: list[str]


class ReportDocument(TypedDict):
    """The JSON document's ``remediation``."""

    playbook: str
    dry_run: bool
    changed: int
    steps: list[PlannedStep]
    error: NotRequired[str]


@dataclass
class Planned:
    """One step and the change its plan found."""

    step: AnyStep
    change: Change[Any]
    applied: bool = False

    def to_json(self) -> PlannedStep:
        return {
            "id": self.step.id,
            "kind": self.step.kind,
            "resource": self.change.resource,
            "change": self.change.change,
            "applied": self.applied,
            "details": list(self.change.details),
            "warnings": list(self.change.warnings),
        }


@dataclass
class RunReport:
    """What a run planned and did; the ``remediation`` object of the JSON document."""

    playbook: str
    dry_run: bool
    steps: list[Planned] = field(default_factory=list)
    error: str | None = None

    @property
    def pending(self) -> list[Planned]:
        return [p for p in self.steps if p.change.change != "none"]

    @property
    def changed(self) -> int:
        return sum(p.applied for p in self.steps)

    def to_json(self) -> ReportDocument:
        doc: ReportDocument = {
            "playbook": self.playbook,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "steps": [p.to_json() for p in self.steps],
        }
        if self.error:
            doc["error"] = self.error
        return doc


def plan(steps: Sequence[AnyStep], ctx: StepContext, playbook: str, *, dry_run: bool) -> RunReport:
    """Read the current state of every step. Never writes (in dry run the session refuses to)."""
    report = RunReport(playbook, dry_run=dry_run)
    ends: str | None = None
    for step in steps:
        change = step.plan(ctx)
        if ends is not None and change.change != "none":
            # A step before it ends the run (an MFA hand-off): planned, so that its checks hold
            # now, but held back for the run that continues.
            change = Change(
                change.resource,
                "none",
                [f"held back for a later run: {ends}", *change.details],
                warnings=change.warnings,
            )
        report.steps.append(Planned(step, change))
        ends = ends or change.ends_run
        # Applied in order, a run stops at its first failure: a later step runs only once this
        # one holds.
        ctx.ensured.update(step.ensures())
    return report


def preflight(report: RunReport, ctx: StepContext) -> None:
    """Everything that must hold before the first write: exit 2 here changes nothing."""
    needs_secret = any(p.change.makes_secret for p in report.pending)
    if needs_secret and not ctx.options.show_secrets:
        ctx.secrets.require_usable()
    for p in report.pending:
        p.step.preflight(ctx, p.change)


def ask(report: RunReport, ctx: StepContext) -> None:
    """What the person must type before the first write, once the plan is confirmed: the
    console password with --password-prompt, checked against the password policy the plan read
    and asked again when it does not meet it. Nothing is changed yet: failing here is exit 2."""
    if not ctx.options.password_prompt or ctx.options.password is not None:
        return
    for p in report.pending:
        policy = p.step.password_policy(p.change)
        if policy is None:
            continue
        user = p.step.user
        prompt = f"Console password for {user}" if user else "Console password"
        for attempt in range(1, MAX_PASSWORD_TRIES + 1):
            password = ctx.prompter.password(prompt)
            try:
                check_password(password, policy)
            except InputError as exc:
                left = MAX_PASSWORD_TRIES - attempt
                if not left:
                    raise InputError(
                        f"{exc.message}; nothing was changed",
                        tip="rerun and choose a password that meets the policy, or leave out "
                        "--password-prompt to have one generated",
                    ) from None
                ctx.ui.print(
                    f"[red]{safe(exc.message)}.[/] Try again "
                    f"({left} more {'try' if left == 1 else 'tries'})."
                )
                continue
            ctx.options = replace(ctx.options, password=password)
            return


def apply(
    report: RunReport,
    ctx: StepContext,
    *,
    on_step: Callable[[Planned], None] | None = None,
) -> None:
    """Apply the pending steps in order; a failure names the step and what was already applied.

    ``on_step`` hears of each step before it is applied (the journal: the writes that follow
    are that step's). Ctrl-C is an :class:`Interrupted` that says what was and was not changed.
    """
    for p in report.pending:
        writes_before = len(ctx.aws.writes)
        try:
            if on_step is not None:
                on_step(p)
            result = p.step.apply(ctx, p.change)
        except KeyboardInterrupt:
            # A write on its way may or may not have been applied: recorded as such.
            ctx.aws.interrupted_write()
            made = ctx.aws.writes[writes_before:]
            report.error = f"step {p.step.id!r} ({p.step.kind}) interrupted"
            afresh = ctx.secrets.ends_with_the_command
            message = interruption(report, p, made, afresh=afresh)
            kept = [x for x in ctx.outcome.secrets if x.stored_in]
            if kept and not afresh:
                # Their values are shown nowhere: say where they are.
                secrets = ", ".join(f"{x.user}'s {x.kind}" for x in kept)
                message += f"; kept in {kept[0].stored_in}: {secrets}"
            raise Interrupted(message, report=report) from None
        except RemediateError as exc:
            done = [q.step.id for q in report.steps if q.applied]
            report.error = f"step {p.step.id!r} ({p.step.kind}) failed: {exc.message}"
            rerun = (
                f"rerun; {_RERUN_AFRESH}"
                if ctx.secrets.ends_with_the_command
                else "rerun: the playbook continues from where it stopped"
            )
            # The step's own tip (the action to grant, the device to delete) says how to fix it.
            fix = f"{exc.tip.rstrip('.')}, then" if exc.tip else "fix the cause and"
            raise StepFailedError(
                f"{report.error}; already applied: {', '.join(done) or 'nothing'}",
                tip=f"{fix} {rerun}",
                report=report,
            ) from exc
        if isinstance(result, Unchanged):
            # Nothing was changed after all: report it as such.
            p.change = Change(p.change.resource, "none", [*p.change.details, result.reason])
            log.info("%s (%s): %s", p.step.id, p.step.kind, result.reason)
            continue
        p.applied = True
        log.info("applied %s (%s): %s", p.step.id, p.step.kind, p.change.resource)


# --sandbox: the emulator, and the keyring with it, end with the command.
_RERUN_AFRESH = (
    "a --sandbox rerun starts afresh (`remediate sandbox serve` keeps one running to resume in)"
)


def interruption(
    report: RunReport, at: Planned, made: Sequence[WriteCall], *, afresh: bool = False
) -> str:
    """One line: the step Ctrl-C stopped, what was changed before and in it, what was not, and
    what a rerun does (``afresh``: the sandbox ended with the command, and all of it with it)."""
    done = [q.step.id for q in report.steps if q.applied]
    left = [q.step.id for q in report.pending if not q.applied]
    parts = [f"interrupted during step {at.step.id!r} ({at.step.kind})"]
    if done:
        parts.append(f"applied: {', '.join(done)}")
    if made:
        calls = ", ".join(f"{w.action} {w.outcome}" for w in made)
        parts.append(f"in step {at.step.id!r}: {calls}")
    if not done and not made:
        parts.append("nothing was changed")
    parts.append(f"not applied: {', '.join(left)}")
    if done or made:
        parts.append(_RERUN_AFRESH if afresh else "rerun to continue from there")
    return "; ".join(parts)
