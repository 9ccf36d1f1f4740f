"""The core jobs, driven by an injected AWS session: detect root use (and, later, remediate it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from remediate.detect.judge import Verdict, judge_root_use
from remediate.detect.report import parse_credential_report
from remediate.errors import AwsError, InputError, ReportFormatError
from remediate.files import read_limited

if TYPE_CHECKING:
    from remediate.aws.session import Aws
    from remediate.playbook.runner import Planned, RunReport
    from remediate.steps.base import Step, StepContext

log = logging.getLogger(__name__)

MAX_REPORT_BYTES = 64 * 1024 * 1024


def caller_identity(aws: Aws) -> dict[str, str]:
    """``sts:GetCallerIdentity``: the account id and the caller's ARN."""
    from remediate.aws.calls import call

    answer = call(aws.sts, "GetCallerIdentity")
    return {"Account": str(answer["Account"]), "Arn": str(answer["Arn"])}


def detect(
    aws: Aws,
    *,
    days: int,
    report_timeout: float,
    now: datetime | None = None,
    identity: dict[str, str] | None = None,
) -> Verdict:
    """Judge root use from the account's credential report and the caller's identity.

    ``now`` is the time to judge at; by default the moment the report arrived. A ``now`` taken
    before the call is earlier than a report generated during it, which would read as clock skew.
    """
    from remediate.detect.fetch import fetch_credential_report

    identity = identity or caller_identity(aws)
    fetched = fetch_credential_report(aws.iam, timeout=report_timeout)
    try:
        report = parse_credential_report(fetched.content, fetched.generated_at)
    except ReportFormatError as exc:
        raise AwsError(
            f"AWS returned a credential report that cannot be read: {exc.message}",
            action="iam:GetCredentialReport",
        ) from exc
    return judge_root_use(
        report,
        now=now or datetime.now(UTC),
        days=days,
        caller_arn=identity["Arn"],
        account_id=identity["Account"],
    )


def detect_from_file(path: Path, *, days: int, now: datetime | None = None) -> Verdict:
    """Judge root use from a credential report CSV downloaded from the console (no AWS call)."""
    content = read_limited(path, MAX_REPORT_BYTES, what="credential report")
    try:
        report = parse_credential_report(content)
    except ReportFormatError as exc:
        raise ReportFormatError(f"{path}: {exc.message}", tip=exc.tip) from exc
    return judge_root_use(report, now=now or datetime.now(UTC), days=days)


def run_playbook(
    steps: list[Step],
    ctx: StepContext,
    playbook: str,
    *,
    dry_run: bool,
    confirm: Callable[[RunReport], bool],
    show_plan: Callable[[RunReport], None],
    on_applied: Callable[[Planned], None] | None = None,
) -> RunReport:
    """Plan, show, confirm and apply. Raises InputError before any write, StepFailedError after."""
    from remediate.playbook import runner

    report = runner.plan(steps, ctx, playbook, dry_run=dry_run)
    show_plan(report)
    if dry_run or not report.pending:
        return report
    runner.preflight(report, ctx)
    if not confirm(report):
        raise InputError("not confirmed: nothing was changed")
    runner.apply(report, ctx, on_applied=on_applied)
    return report
