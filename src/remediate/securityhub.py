"""Findings into AWS Security Hub: ``securityhub:BatchImportFindings``, at most 100 a call.

Every finding's ``Id`` and ``ProductArn`` are the same on every run (remediate.asff), so an
import is idempotent: a rerun updates the findings it imported before, and botocore's retries of
a call whose answer was lost cannot duplicate one. Security Hub answers per finding; a finding
it refuses is reported with its id, code and message, and the others are imported.

A finding a remediation closed is imported again as ``PASSED``, then marked ``RESOLVED`` with
``securityhub:BatchUpdateFindings`` and a note saying what remediate did: Security Hub resolves a
``PASSED`` finding by itself only for its own controls, and remediate's come from the account's
default product, where the workflow is the customer's to set (which remediate, run by the
customer, is). Every call is a write, journaled (``record``) like the playbook's. That mark is a
courtesy on top of the remediation and its ``PASSED`` import: a finding it misses (a role from an
older printed policy, without BatchUpdateFindings) is a warning, not a failed import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from remediate.errors import AwsError

if TYPE_CHECKING:
    from remediate.aws.session import Aws

MAX_BATCH = 100  # findings per BatchImportFindings, identifiers per BatchUpdateFindings
IMPORT = "securityhub:BatchImportFindings"
UPDATE = "securityhub:BatchUpdateFindings"
# Journal.record: one line per write call.
Record = Callable[..., None]


@dataclass(frozen=True)
class FailedFinding:
    """A finding Security Hub did not import, and why."""

    id: str
    code: str
    message: str
    action: str = "import"  # or "resolve": the BatchUpdateFindings that follows a remediation
    # Set when the call failed as a whole (its AwsError's tip, "" without one), not per finding.
    call_tip: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "code": self.code, "message": self.message, "action": self.action}


@dataclass(frozen=True)
class ImportResult:
    """What one account's import did: how many findings Security Hub took, how many it marked
    resolved, which it refused."""

    account_id: str
    region: str
    imported: int = 0
    failed: tuple[FailedFinding, ...] = ()
    calls: int = 0
    ids: tuple[str, ...] = field(default=(), repr=False)
    resolved: int = 0

    @property
    def refused(self) -> tuple[FailedFinding, ...]:
        """The findings Security Hub did not import."""
        return tuple(f for f in self.failed if f.action == "import")

    @property
    def unresolved(self) -> tuple[FailedFinding, ...]:
        """The findings imported PASSED that Security Hub did not mark RESOLVED."""
        return tuple(f for f in self.failed if f.action == "resolve")

    @property
    def call_failures(self) -> tuple[tuple[str, str], ...]:
        """Each distinct failure of an import call as a whole (message, tip): the endpoint, the
        caller's rights or Security Hub itself, not one finding."""
        seen = {(f.message, f.call_tip): None for f in self.refused if f.call_tip is not None}
        return tuple((message, tip or "") for message, tip in seen)

    @property
    def ok(self) -> bool:
        """Every finding imported: one left unresolved does not count (see the module)."""
        return not self.refused

    def __add__(self, other: ImportResult) -> ImportResult:
        return ImportResult(
            self.account_id,
            self.region,
            self.imported + other.imported,
            self.failed + other.failed,
            self.calls + other.calls,
            self.ids + other.ids,
            self.resolved + other.resolved,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "imported": self.imported,
            "resolved": self.resolved,
            "failed": [f.to_json() for f in self.refused],
            "resolve_failed": [f.to_json() for f in self.unresolved],
        }


def batches(items: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
    """``items`` in order, ``size`` at a time."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _journal(
    record: Record | None, action: str, ids: Sequence[str], failed: Sequence[FailedFinding]
) -> None:
    if record is None:
        return
    refused = {f.id for f in failed}
    outcome = "applied" if not refused else f"failed ({failed[0].code})"
    if refused and len(refused) < len(ids):
        outcome = f"applied to {len(ids) - len(refused)} of {len(ids)} findings"
    record(
        action=action,
        resource=f"Security Hub findings {', '.join(ids)}",
        change="update",
        outcome=outcome,
        details=[f"not {f.action}d {f.id}: {f.code}" for f in failed],
    )


def import_findings(
    aws: Aws,
    account_id: str,
    findings: Sequence[dict[str, Any]],
    *,
    record: Record | None = None,
) -> ImportResult:
    """Import ASFF ``findings`` into Security Hub in the session's region. A call that fails as a
    whole (Security Hub not enabled, access denied) fails each of its findings with its message:
    the import goes on with the next batch, and the caller reports every refusal."""
    from remediate.aws.calls import call

    client = aws.client("securityhub")
    imported = calls = 0
    failed: list[FailedFinding] = []
    for batch in batches(findings):
        calls += 1
        ids = [str(f["Id"]) for f in batch]
        try:
            answer = call(client, "BatchImportFindings", Findings=list(batch))
        except AwsError as exc:
            refused = [
                FailedFinding(i, exc.code or "Error", exc.message, call_tip=exc.tip or "")
                for i in ids
            ]
        else:
            imported += int(answer.get("SuccessCount") or 0)
            refused = [
                FailedFinding(
                    str(f.get("Id", "")),
                    str(f.get("ErrorCode", "")),
                    str(f.get("ErrorMessage", "")),
                )
                for f in answer.get("FailedFindings") or []
            ]
        failed += refused
        _journal(record, IMPORT, ids, refused)
    return ImportResult(
        account_id,
        aws.region,
        imported,
        tuple(failed),
        calls,
        tuple(str(f["Id"]) for f in findings),
    )


def resolve_findings(
    aws: Aws,
    account_id: str,
    identifiers: Sequence[Mapping[str, str]],
    *,
    note: str,
    updated_by: str,
    record: Record | None = None,
) -> ImportResult:
    """Set the workflow of these findings (``Id`` and ``ProductArn`` each) to ``RESOLVED`` with
    ``note``, 100 a call; a finding Security Hub did not process is reported with its code."""
    from remediate.aws.calls import call

    client = aws.client("securityhub")
    resolved = calls = 0
    failed: list[FailedFinding] = []
    for batch in batches(identifiers):
        calls += 1
        ids = [i["Id"] for i in batch]
        try:
            answer = call(
                client,
                "BatchUpdateFindings",
                FindingIdentifiers=[{"Id": i["Id"], "ProductArn": i["ProductArn"]} for i in batch],
                Workflow={"Status": "RESOLVED"},
                Note={"Text": note, "UpdatedBy": updated_by},
            )
        except AwsError as exc:
            refused = [FailedFinding(i, exc.code or "Error", exc.message, "resolve") for i in ids]
        else:
            resolved += len(answer.get("ProcessedFindings") or [])
            refused = [
                FailedFinding(
                    str(f.get("FindingIdentifier", {}).get("Id", "")),
                    str(f.get("ErrorCode", "")),
                    str(f.get("ErrorMessage", "")),
                    "resolve",
                )
                for f in answer.get("UnprocessedFindings") or []
            ]
        failed += refused
        _journal(record, UPDATE, ids, refused)
    return ImportResult(
        account_id, aws.region, failed=tuple(failed), calls=calls, resolved=resolved
    )
