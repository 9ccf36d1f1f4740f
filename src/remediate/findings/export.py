"""Findings on their way out of root-use: printed as ASFF or OCSF, imported into Security Hub,
reopened when the evidence is newer than a remediation, and a completed remediation recorded
on them. Also CloudTrail's evidence, added to a verdict.

The commands call these with what they already have (a verdict, a session, the engine's run);
nothing here decides what to detect or remediate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from remediate import __version__
from remediate.core.errors import AwsError
from remediate.detect.cloudtrail import global_events_region, root_activity
from remediate.detect.findings import ROOT_ACCESS_KEYS_ACTIVE
from remediate.detect.judge import apply_cloudtrail
from remediate.findings.asff import Times, asff_findings, product_arn
from remediate.findings.checks import ROOT_USER_IN_USE, check_results
from remediate.findings.formats import build
from remediate.findings.securityhub import (
    ImportResult,
    ReadFailure,
    import_findings,
    read_findings,
    update_workflow,
)
from remediate.findings.workflow import (
    NEW,
    RESOLVED,
    Stored,
    new_finding,
    parse_note,
    remediation_note,
    reopen_note,
    reopens,
    resolves,
)

if TYPE_CHECKING:
    from remediate.aws.session import Aws
    from remediate.detect.judge import Verdict
    from remediate.findings.securityhub import Record
    from remediate.playbook.engine import AccountRun


def with_cloudtrail(
    aws: Aws, account_id: str, verdict: Verdict, regions: tuple[str, ...] | None, *, days: int
) -> Verdict:
    """The verdict with root's events from CloudTrail's event history (remediate.detect.cloudtrail):
    every enabled region unless ``regions`` were named; those not read are named in it."""
    evidence = root_activity(aws, account_id, regions, now=datetime.now(UTC), days=days)
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
    if any(p.step.removes_root_access_keys for p in run.report.steps):
        closed.add(ROOT_ACCESS_KEYS_ACTIVE)
    return frozenset(closed)


def documents(
    fmt: str,
    verdicts: Sequence[tuple[Verdict, Collection[str]]],
    *,
    region: str,
    now: datetime | None = None,
) -> Sequence[Mapping[str, object]]:
    """Every check's finding for each (verdict, checks resolved) as the documents of the
    findings format registered as ``fmt`` (remediate.findings.formats)."""
    results = [
        r for verdict, resolved in verdicts for r in check_results(verdict, resolved=resolved)
    ]
    return build(fmt, results, region=region, now=now or datetime.now(UTC))


def report_region(verdict: Verdict) -> str:
    """The region findings judged from a credential report file are attributed to: the
    partition's global-events region (IAM is global; there is no session region)."""
    arn = verdict.root_arn or ""
    partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
    return global_events_region(partition)


def import_verdict(
    aws: Aws,
    verdict: Verdict,
    *,
    only: Collection[str] | None = None,
    now: datetime | None = None,
    record: Record | None = None,
    updated_by: str | None = None,
) -> ImportResult | None:
    """The verdict's findings (``only`` these checks) into Security Hub in the session's region,
    from the verdict's own account; None when there is nothing to import.

    The findings Security Hub holds are read first (their CreatedAt and FirstObservedAt are
    kept, and remediate's record on them known), then imported with what detection measured;
    a finding whose evidence is newer than the remediation recorded on it is reopened (NEW,
    with a note naming the evidence; ``updated_by`` signs the note)."""
    account = verdict.account_id
    if account is None:
        return None
    now = now or datetime.now(UTC)
    results = check_results(verdict)
    if only is not None:
        results = [r for r in results if r.check.id in only]
    if not results:
        return None
    product = product_arn(results[0].partition, aws.region, account)
    read_failure = None
    stored: dict[str, Stored] | None = None
    read_calls = 0
    try:
        found, read_calls = read_findings(aws, product, [r.uid for r in results])
    except AwsError as exc:
        read_failure = ReadFailure(exc.code or "Error", exc.message, exc.tip or "")
        read_calls = 1
    else:
        stored = {i: Stored.from_finding(f) for i, f in found.items()}
    kept = {
        i: Times(s.created_at, s.first_observed_at, s.updated_at) for i, s in (stored or {}).items()
    }
    documents = asff_findings(results, region=aws.region, now=now, kept=kept)
    imported = import_findings(aws, account, documents, record=record)
    done = replace(imported, calls=imported.calls + read_calls, read_failure=read_failure)
    if stored is None:
        return done
    refused = {f.id for f in imported.refused}
    state: dict[str, Stored] = {}
    for r in results:
        before = stored.get(r.uid)
        if r.uid in refused:
            if before is not None:
                state[r.uid] = before
        else:
            state[r.uid] = before.imported(r.status) if before else new_finding(r.uid, r.status)
    for r in results:
        current = state.get(r.uid)
        if updated_by is None or current is None or not reopens(r, current):
            continue
        assert current.record is not None
        note = reopen_note(now, r, current.record)
        reopened = _set_workflow(aws, account, product, [r.uid], NEW, note, updated_by, record)
        if reopened.reopened:
            state[r.uid] = replace(
                current, workflow=NEW, record=parse_note({"Text": note, "UpdatedBy": updated_by})
            )
        done = done + reopened
    return replace(done, state=state)


def _set_workflow(
    aws: Aws,
    account: str,
    product: str,
    ids: Sequence[str],
    status: str,
    note: str,
    updated_by: str,
    record: Record | None,
) -> ImportResult:
    return update_workflow(
        aws,
        account,
        [{"Id": i, "ProductArn": product} for i in ids],
        status=status,
        note=note,
        updated_by=updated_by,
        action="reopen" if status == "NEW" else "resolve",
        record=record,
    )


def record_remediation(
    aws: Aws,
    verdict: Verdict,
    run: AccountRun,
    resolved: Collection[str],
    hub: ImportResult,
    *,
    updated_by: str,
    record: Record | None = None,
    now: datetime | None = None,
) -> ImportResult | None:
    """A completed remediation recorded on the findings of the ``resolved`` checks that this
    run's import took: RESOLVED, with a note saying what ``run`` did and when
    (remediate.findings.workflow decides which: once). None when there is nothing to record."""
    account = verdict.account_id
    if account is None or not resolved or run.report is None:
        return None
    applied = [p.step.id for p in run.report.steps if p.applied]
    refused = {f.id for f in hub.refused}
    results = [r for r in check_results(verdict) if r.check.id in resolved]
    state = dict(hub.state) if hub.state is not None else None
    chosen = [
        r.uid
        for r in results
        if r.uid not in refused
        and resolves(state.get(r.uid) if state is not None else None, changed=bool(applied))
    ]
    if not chosen:
        return None
    note = remediation_note(
        now or datetime.now(UTC),
        playbook=run.report.playbook,
        applied=applied,
        version=__version__,
    )
    product = product_arn(results[0].partition, aws.region, account)
    done = _set_workflow(aws, account, product, chosen, RESOLVED, note, updated_by, record)
    if state is not None and done.resolved:
        failed = {f.id for f in done.failed}
        recorded = parse_note({"Text": note, "UpdatedBy": updated_by})
        for finding_id in chosen:
            if finding_id not in failed and finding_id in state:
                state[finding_id] = replace(state[finding_id], workflow=RESOLVED, record=recorded)
    return replace(done, state=state)


def merged(first: ImportResult | None, second: ImportResult | None) -> ImportResult | None:
    if first is None:
        return second
    return first if second is None else first + second
