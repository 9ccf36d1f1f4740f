"""Check results as AWS Security Finding Format (ASFF) documents, for Security Hub.

Pure: the documents are built from check results, a region and a time. Each finding's ``Id`` is
deterministic per account and check and its ``ProductArn`` is the account's default product, so
BatchImportFindings of a rerun updates the finding instead of adding one. A provider never sets
``Workflow``: it is Security Hub's and the customer's (a PASSED finding of the default product
stays NEW; remediate.securityhub marks it RESOLVED with BatchUpdateFindings).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from remediate import __version__
from remediate.checks import TYPES, CheckResult

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


def asff_finding(result: CheckResult, *, region: str, now: datetime) -> dict[str, Any]:
    """One check result as an ASFF finding, imported into ``region``."""
    check = result.check
    severity = {"Label": result.severity.value, "Original": check.severity.value}
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": result.uid,
        "ProductArn": product_arn(result.partition, region, result.account_id),
        "ProductName": "remediate",
        "CompanyName": "remediate",
        "GeneratorId": f"remediate/{check.id}",
        "AwsAccountId": result.account_id,
        "Types": list(TYPES),
        "CreatedAt": timestamp(now),
        "UpdatedAt": timestamp(now),
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


def asff_findings(
    results: Iterable[CheckResult], *, region: str, now: datetime
) -> list[dict[str, Any]]:
    return [asff_finding(r, region=region, now=now) for r in results]
