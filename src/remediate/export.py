"""Findings on their way out of root-use: printed as ASFF or OCSF, imported into Security Hub,
and marked resolved after a remediation. Also CloudTrail's evidence, added to a verdict.

The commands call these with what they already have (a verdict, a session, the engine's run);
nothing here decides what to detect or remediate.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from remediate.checks import ROOT_USER_IN_USE, check_results
from remediate.detect.findings import ROOT_ACCESS_KEYS_ACTIVE

if TYPE_CHECKING:
    from remediate.aws.session import Aws
    from remediate.detect.judge import Verdict
    from remediate.engine import AccountRun
    from remediate.requests import CloudTrailRequest
    from remediate.securityhub import ImportResult, Record

# The step of root-use that deletes root's own access keys (--delete-root-keys).
ROOT_KEYS_STEP_KIND = "root-access-keys-deleted"
NOTE_LIMIT = 512  # a finding's Note.Text, in ASFF


def with_cloudtrail(
    aws: Aws, account_id: str, verdict: Verdict, request: CloudTrailRequest, *, days: int
) -> Verdict:
    """The verdict with root's events from CloudTrail's event history (remediate.cloudtrail)."""
    from remediate.cloudtrail import apply_cloudtrail, look_up_root_activity, regions_to_look_up

    regions = regions_to_look_up(aws, request.regions)
    evidence = look_up_root_activity(aws, account_id, regions, now=datetime.now(UTC), days=days)
    return apply_cloudtrail(verdict, evidence)


def resolved_by(run: AccountRun | None) -> frozenset[str]:
    """The checks a completed remediation closed: root use (an administrator now exists to use
    instead), and root's access keys when the run deleted them (or found none to delete).

    Completed: applied without failure, and nothing left for a later run: a run that ends at an
    MFA hand-off leaves the device pending and the membership held back, so root is still the
    only way in; the run that finishes it (--mfa-codes) closes the checks."""
    if run is None or run.report is None or run.failure is not None or run.report.dry_run:
        return frozenset()
    mfa = run.outcome.mfa
    if any(p.change.ends_run for p in run.report.steps) or (mfa is not None and not mfa.enabled):
        return frozenset()
    closed = {ROOT_USER_IN_USE}
    if any(p.step.kind == ROOT_KEYS_STEP_KIND for p in run.report.steps):
        closed.add(ROOT_ACCESS_KEYS_ACTIVE)
    return frozenset(closed)


def documents(
    fmt: str,
    verdicts: Sequence[tuple[Verdict, Collection[str]]],
    *,
    region: str,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every check's finding for each (verdict, checks resolved) as ASFF or OCSF documents."""
    now = now or datetime.now(UTC)
    results = [
        r for verdict, resolved in verdicts for r in check_results(verdict, resolved=resolved)
    ]
    if fmt == "asff":
        from remediate.asff import asff_findings

        return asff_findings(results, region=region, now=now)
    from remediate.ocsf import ocsf_findings  # pydantic: only when OCSF is asked for

    return ocsf_findings(results, region=region, now=now)


def report_region(verdict: Verdict) -> str:
    """The region findings judged from a credential report file are attributed to: the
    partition's global-events region (IAM is global; there is no session region)."""
    from remediate.cloudtrail import global_events_region

    arn = verdict.root_arn or ""
    partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
    return global_events_region(partition)


def import_verdict(
    aws: Aws,
    verdict: Verdict,
    *,
    resolved: Collection[str] = (),
    only: Collection[str] | None = None,
    now: datetime | None = None,
    record: Record | None = None,
) -> ImportResult | None:
    """Import the verdict's findings (``only`` these checks) into Security Hub in the session's
    region, from the verdict's own account; None when there is nothing to import."""
    from remediate.securityhub import import_findings

    found = _asff(aws, verdict, resolved, only, now)
    if verdict.account_id is None or not found:
        return None
    return import_findings(aws, verdict.account_id, found, record=record)


def _asff(
    aws: Aws,
    verdict: Verdict,
    resolved: Collection[str],
    only: Collection[str] | None,
    now: datetime | None,
) -> list[dict[str, Any]]:
    from remediate.asff import asff_findings

    if verdict.account_id is None:
        return []
    results = check_results(verdict, resolved=resolved)
    if only is not None:
        results = [r for r in results if r.check.id in only]
    return asff_findings(results, region=aws.region, now=now or datetime.now(UTC))


def resolve_verdict(
    aws: Aws,
    verdict: Verdict,
    run: AccountRun,
    resolved: Collection[str],
    *,
    updated_by: str,
    record: Record | None = None,
) -> ImportResult | None:
    """The findings of the ``resolved`` checks imported again as PASSED, then those Security Hub
    took marked RESOLVED with a note on what ``run`` did (see remediate.securityhub)."""
    from remediate.securityhub import import_findings, resolve_findings

    found = _asff(aws, verdict, resolved, resolved, None)
    if verdict.account_id is None or not found:
        return None
    imported = import_findings(aws, verdict.account_id, found, record=record)
    refused = {f.id for f in imported.failed}
    taken = [
        {"Id": f["Id"], "ProductArn": f["ProductArn"]} for f in found if f["Id"] not in refused
    ]
    if not taken:
        return imported
    updated = resolve_findings(
        aws,
        verdict.account_id,
        taken,
        note=resolution_note(run),
        updated_by=updated_by,
        record=record,
    )
    return imported + updated


def resolution_note(run: AccountRun) -> str:
    """What remediate did, for the note on a finding it resolved (at most 512 characters)."""
    from remediate import __version__

    assert run.report is not None
    applied = [p.step.id for p in run.report.steps if p.applied]
    did = f"applied {', '.join(applied)}" if applied else "found every step already in place"
    note = f"remediate {__version__}, playbook {run.report.playbook}: {did}."
    return note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 3] + "..."


def merged(first: ImportResult | None, second: ImportResult | None) -> ImportResult | None:
    if first is None:
        return second
    return first if second is None else first + second
