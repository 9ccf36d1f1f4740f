"""Findings into AWS Security Hub: ``securityhub:BatchImportFindings``, at most 100 a call.

Every finding's ``Id`` and ``ProductArn`` are the same on every run (remediate.asff), so an
import is idempotent: a rerun updates the findings it imported before, and botocore's retries of
a call whose answer was lost cannot duplicate one. Security Hub answers per finding; a finding
it refuses is reported with its id, code and message, and the others are imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from remediate.errors import AwsError

if TYPE_CHECKING:
    from remediate.aws.session import Aws

MAX_BATCH = 100


@dataclass(frozen=True)
class FailedFinding:
    """A finding Security Hub did not import, and why."""

    id: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ImportResult:
    """What one account's import did: how many findings Security Hub took, which it refused."""

    account_id: str
    region: str
    imported: int = 0
    failed: tuple[FailedFinding, ...] = ()
    calls: int = 0
    ids: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __add__(self, other: ImportResult) -> ImportResult:
        return ImportResult(
            self.account_id,
            self.region,
            self.imported + other.imported,
            self.failed + other.failed,
            self.calls + other.calls,
            self.ids + other.ids,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "imported": self.imported,
            "failed": [f.to_json() for f in self.failed],
        }


def batches(items: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
    """``items`` in order, ``size`` at a time."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def import_findings(aws: Aws, account_id: str, findings: Sequence[dict[str, Any]]) -> ImportResult:
    """Import ASFF ``findings`` into Security Hub in the session's region. A call that fails as a
    whole (Security Hub not enabled, access denied) fails each of its findings with its message:
    the import goes on with the next batch, and the caller reports every refusal."""
    from remediate.aws.calls import call

    client = aws.client("securityhub")
    imported = calls = 0
    failed: list[FailedFinding] = []
    for batch in batches(findings):
        calls += 1
        try:
            answer = call(client, "BatchImportFindings", Findings=list(batch))
        except AwsError as exc:
            failed += [FailedFinding(str(f["Id"]), exc.code or "Error", exc.message) for f in batch]
            continue
        imported += int(answer.get("SuccessCount") or 0)
        failed += [
            FailedFinding(
                str(f.get("Id", "")), str(f.get("ErrorCode", "")), str(f.get("ErrorMessage", ""))
            )
            for f in answer.get("FailedFindings") or []
        ]
    return ImportResult(
        account_id,
        aws.region,
        imported,
        tuple(failed),
        calls,
        tuple(str(f["Id"]) for f in findings),
    )
