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
    from remediate.securityhub import ImportResult

# The step of root-use that deletes root's own access keys (--delete-root-keys).
ROOT_KEYS_STEP_KIND = "root-access-keys-deleted"


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
    instead), and root's access keys when the run deleted them (or found none to delete)."""
    if run is None or run.report is None or run.failure is not None or run.report.dry_run:
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
) -> ImportResult | None:
    """Import the verdict's findings (``only`` these checks) into Security Hub in the session's
    region, from the verdict's own account; None when there is nothing to import."""
    from remediate.asff import asff_findings
    from remediate.securityhub import import_findings

    if verdict.account_id is None:
        return None
    results = check_results(verdict, resolved=resolved)
    if only is not None:
        results = [r for r in results if r.check.id in only]
    if not results:
        return None
    found = asff_findings(results, region=aws.region, now=now or datetime.now(UTC))
    return import_findings(aws, verdict.account_id, found)


def merged(first: ImportResult | None, second: ImportResult | None) -> ImportResult | None:
    if first is None:
        return second
    return first if second is None else first + second
