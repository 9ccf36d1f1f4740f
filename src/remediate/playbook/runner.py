"""The steps of one account: plan every step, check before writing, apply in order, report.

The engine (remediate.engine) decides, once, whether a run applies at all; this module only
plans and applies what it is handed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from remediate.errors import RemediateError, StepFailedError
from remediate.steps.base import AnyStep, Change, StepContext, Unchanged

log = logging.getLogger(__name__)


@dataclass
class Planned:
    """One step and the change its plan found."""

    step: AnyStep
    change: Change[Any]
    applied: bool = False

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
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


def apply(
    report: RunReport,
    ctx: StepContext,
    *,
    on_applied: Callable[[Planned], None] | None = None,
) -> None:
    """Apply the pending steps in order; a failure names the step and what was already applied."""
    for p in report.pending:
        try:
            result = p.step.apply(ctx, p.change)
        except (RemediateError, KeyboardInterrupt) as exc:
            done = [q.step.id for q in report.steps if q.applied]
            reason = exc.message if isinstance(exc, RemediateError) else "interrupted"
            report.error = f"step {p.step.id!r} ({p.step.kind}) failed: {reason}"
            raise StepFailedError(
                f"{report.error}; already applied: {', '.join(done) or 'nothing'}",
                tip="fix the cause and rerun: the playbook continues from where it stopped",
                report=report,
            ) from exc
        if isinstance(result, Unchanged):
            # Nothing was changed after all: report it as such, and journal nothing.
            p.change = Change(p.change.resource, "none", [*p.change.details, result.reason])
            log.info("%s (%s): %s", p.step.id, p.step.kind, result.reason)
            continue
        p.applied = True
        log.info("applied %s (%s): %s", p.step.id, p.step.kind, p.change.resource)
        if on_applied is not None:
            on_applied(p)
