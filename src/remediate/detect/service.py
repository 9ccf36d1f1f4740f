"""Detection driven by an injected AWS session: fetch the credential report, parse, judge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from remediate.aws.calls import call
from remediate.aws.errors import ACCESS_DENIED_CODES
from remediate.core.errors import AwsError, ReportFormatError
from remediate.core.files import read_limited
from remediate.detect.fetch import FetchedReport, fetch_credential_report
from remediate.detect.judge import RootSignIn, Verdict, judge_root_use
from remediate.detect.report import CredentialReport, parse_credential_report

if TYPE_CHECKING:
    from typing import Any

    from remediate.aws.identity import Identity
    from remediate.aws.session import Aws

MAX_REPORT_BYTES = 64 * 1024 * 1024


def detect(
    aws: Aws,
    identity: Identity,
    *,
    days: int,
    report_timeout: float,
    now: datetime | None = None,
) -> Verdict:
    """Judge root use from the account's credential report and the caller's identity.

    ``now`` is the time to judge at; by default the moment the report arrived. A ``now`` taken
    before the call is earlier than a report generated during it, which would read as clock skew.
    """
    fetched = fetch_credential_report(aws.iam, timeout=report_timeout)
    return judge_fetched(fetched, identity, days=days, now=now, iam=aws.iam)


def judge_fetched(
    fetched: FetchedReport,
    identity: Identity,
    *,
    days: int,
    now: datetime | None = None,
    iam: Any = None,
) -> Verdict:
    """Judge root use from a credential report AWS answered; with ``iam``, ask whether root can
    sign in when the report shows its MFA not active."""
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
        caller_arn=identity.arn,
        account_id=identity.account_id,
        sign_in=root_sign_in(iam, report) if iam is not None else None,
    )


def root_sign_in(iam: Any, report: CredentialReport) -> RootSignIn | None:
    """``iam:GetAccountSummary``'s word on root's password and MFA, asked only when the report
    shows root MFA not active (a healthy account pays no extra call)."""
    row = report.root()
    if row is None or row.mfa_active is not False:
        return None
    try:
        summary = call(iam, "GetAccountSummary").get("SummaryMap") or {}
    except AwsError as exc:
        # Only a refusal: the finding stands unrefined, with a note. Anything else fails as before.
        if exc.code not in ACCESS_DENIED_CODES:
            raise
        return RootSignIn(None, None, denied=True)

    def flag(name: str) -> bool | None:
        value = summary.get(name)
        return None if value is None else bool(value)

    return RootSignIn(flag("AccountPasswordPresent"), flag("AccountMFAEnabled"))


def detect_from_file(path: Path, *, days: int, now: datetime | None = None) -> Verdict:
    """Judge root use from a credential report (no AWS call): the CSV downloaded from the
    console or the JSON `aws iam get-credential-report` prints; ``-`` is standard input."""
    if str(path) == "-":
        content = _read_stdin()
        name = "standard input"
    else:
        content = read_limited(path, MAX_REPORT_BYTES, what="credential report")
        name = str(path)
    try:
        report = parse_credential_report(content)
    except ReportFormatError as exc:
        raise ReportFormatError(f"{name}: {exc.message}", tip=exc.tip) from exc
    return judge_root_use(report, now=now or datetime.now(UTC), days=days)


def _read_stdin() -> bytes:
    """Standard input, up to the same limit as a file (a pipe has no size to check first)."""
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None or sys.stdin.isatty():
        raise ReportFormatError(
            "--credential-report - reads the report from standard input, which is a terminal",
            tip="pipe it in: aws iam get-credential-report | remediate root-use "
            "--credential-report -",
        )
    content: bytes = stream.read(MAX_REPORT_BYTES + 1)
    if len(content) > MAX_REPORT_BYTES:
        raise ReportFormatError(
            f"standard input: credential report larger than {MAX_REPORT_BYTES // 2**20} MiB"
        )
    return content
