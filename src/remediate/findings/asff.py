"""Check results as AWS Security Finding Format (ASFF) documents, for Security Hub.

Pure: the documents are built from check results, a region and a time. Each finding's ``Id`` is
deterministic per account and check and its ``ProductArn`` is the account's default product, so
BatchImportFindings of a rerun updates the finding instead of adding one. ``CreatedAt`` and
``FirstObservedAt`` are when the finding was first imported (and, for root's use, first seen):
a rerun passes the stored ones back (remediate.findings.export), as SLAs count from them. A provider
never sets ``Workflow`` or ``Note``: they are the customer's (remediate.findings.workflow).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict

from remediate import __version__
from remediate.core.clock import utc
from remediate.findings.checks import TYPES, CheckResult

SCHEMA_VERSION = "2018-10-08"
# ASFF's length limits for the fields filled with text.
MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_RECOMMENDATION = 512


def product_arn(partition: str, region: str, account_id: str) -> str:
    """The account's default product: findings a customer's own tools send."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def timestamp(value: datetime) -> str:
    """ASFF's timestamp form, UTC with milliseconds: ``2026-11-29T10:00:00.000Z``."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class AsffSeverity(TypedDict):
    Label: str
    Original: str


class AsffRecommendation(TypedDict):
    Text: str
    Url: str


class AsffRemediation(TypedDict):
    Recommendation: AsffRecommendation


class AsffResource(TypedDict):
    Type: str
    Id: str
    Partition: str
    Region: str


class AsffCompliance(TypedDict):
    Status: str


class AsffProviderFields(TypedDict):
    Severity: AsffSeverity
    Types: list[str]


class AsffFinding(TypedDict):
    """An ASFF finding as remediate builds it: the attributes BatchImportFindings requires and
    those remediate fills; ``LastObservedAt`` only when the check observed something."""

    SchemaVersion: str
    Id: str
    ProductArn: str
    ProductName: str
    CompanyName: str
    GeneratorId: str
    AwsAccountId: str
    Types: list[str]
    CreatedAt: str
    FirstObservedAt: str
    UpdatedAt: str
    Severity: AsffSeverity
    Title: str
    Description: str
    Remediation: AsffRemediation
    # "remediate/check", "remediate/version": names with a slash, as ASFF's examples spell them.
    ProductFields: dict[str, str]
    Resources: list[AsffResource]
    Compliance: AsffCompliance
    FindingProviderFields: AsffProviderFields
    RecordState: str
    LastObservedAt: NotRequired[str]


@dataclass(frozen=True)
class Times:
    """A finding's times as Security Hub holds them (ASFF timestamps), to keep on a rerun."""

    created_at: str | None = None
    first_observed_at: str | None = None
    updated_at: str | None = None


def asff_finding(
    result: CheckResult, *, region: str, now: datetime, kept: Times | None = None
) -> AsffFinding:
    """One check result as an ASFF finding, imported into ``region``; ``kept``: the times of the
    finding Security Hub holds already."""
    kept = kept or Times()
    updated = timestamp(now)
    if kept.updated_at and _later_or_same(kept.updated_at, now):
        # Security Hub ignores an update older than the stored finding: a clock behind the one
        # that wrote it must not make the evidence vanish.
        updated = _just_after(kept.updated_at)
    # First observed: when the failed check's evidence dates from (root's use, the report that
    # shows the problem), else now.
    first_seen = result.evidence_at if result.evidence_at is not None else now
    check = result.check
    severity: AsffSeverity = {"Label": result.severity.value, "Original": check.severity.value}
    finding: AsffFinding = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": result.uid,
        "ProductArn": product_arn(result.partition, region, result.account_id),
        "ProductName": "remediate",
        "CompanyName": "remediate",
        "GeneratorId": f"remediate/{check.id}",
        "AwsAccountId": result.account_id,
        "Types": list(TYPES),
        "CreatedAt": kept.created_at or timestamp(now),
        "FirstObservedAt": kept.first_observed_at or timestamp(min(first_seen, now)),
        "UpdatedAt": updated,
        "Severity": severity,
        "Title": _clip(check.title, MAX_TITLE),
        "Description": _clip(result.description, MAX_DESCRIPTION),
        "Remediation": {
            "Recommendation": {
                "Text": _clip(check.remediation, MAX_RECOMMENDATION),
                "Url": check.url,
            }
        },
        "ProductFields": {
            "remediate/check": check.id,
            "remediate/version": __version__,
        },
        "Resources": [
            {
                "Type": "AwsAccount",
                "Id": f"AWS::::Account:{result.account_id}",
                "Partition": result.partition,
                "Region": region,
            }
        ],
        "Compliance": {"Status": result.status},
        # Severity and Types as the provider set them, kept apart from a customer's changes.
        "FindingProviderFields": {"Severity": severity, "Types": list(TYPES)},
        "RecordState": "ACTIVE",
    }
    if result.observed_at is not None:
        finding["LastObservedAt"] = timestamp(result.observed_at)
    return finding


def _parse(text: str) -> datetime | None:
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _later_or_same(stored: str, now: datetime) -> bool:
    when = _parse(stored)
    return when is not None and when >= utc(now)


def _just_after(stored: str) -> str:
    when = _parse(stored)
    assert when is not None
    return timestamp(when + timedelta(milliseconds=1))


def asff_findings(
    results: Iterable[CheckResult],
    *,
    region: str,
    now: datetime,
    kept: Mapping[str, Times] | None = None,
) -> list[AsffFinding]:
    """The results as ASFF findings; ``kept``: the stored times of those Security Hub holds, by
    finding id."""
    kept = kept or {}
    return [asff_finding(r, region=region, now=now, kept=kept.get(r.uid)) for r in results]
