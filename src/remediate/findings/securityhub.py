"""Findings into AWS Security Hub: read back (``securityhub:GetFindings``), imported
(``securityhub:BatchImportFindings``, at most 100 a call), and their workflow set
(``securityhub:BatchUpdateFindings``).

Every finding's ``Id`` and ``ProductArn`` are the same on every run (remediate.findings.asff), so an
import is idempotent: a rerun updates the findings it imported before, and botocore's retries of
a call whose answer was lost cannot duplicate one. Security Hub answers per finding; a finding
it refuses is reported with its id, code and message, and the others are imported.

A run first reads the findings it is about to import (one GetFindings per 20 ids: Security Hub
takes at most 20 values per filter attribute), to keep their ``CreatedAt`` and
``FirstObservedAt`` and to know what remediate recorded on them (remediate.findings.workflow). Only
then does it import, and set a workflow where a remediation or new evidence calls for it: the
workflow and its note are the customer's fields, which remediate, run by the customer, sets with
BatchUpdateFindings and only with ``Workflow.Status`` and ``Note``. Every write is journaled
(``record``) like the playbook's. The read and the workflow are a courtesy on top of the import:
a read or an update refused (a role from an older printed policy) is a warning, not a failed
import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from remediate.aws.calls import call
from remediate.core.errors import AwsError

if TYPE_CHECKING:
    from remediate.aws.session import Aws
    from remediate.findings.asff import AsffFinding
    from remediate.findings.workflow import Stored

MAX_BATCH = 100  # findings per BatchImportFindings, identifiers per BatchUpdateFindings
# Values per filter attribute of GetFindings ("AwsSecurityFindingFilters").
MAX_FILTER_VALUES = 20
IMPORT = "securityhub:BatchImportFindings"
UPDATE = "securityhub:BatchUpdateFindings"
READ = "securityhub:GetFindings"
DONE = {"import": "imported", "resolve": "resolved", "reopen": "reopened"}
# Journal.record: one line per write call.
Record = Callable[..., None]


@dataclass(frozen=True)
class FailedFinding:
    """A finding Security Hub did not import, and why."""

    id: str
    code: str
    message: str
    # "import", or the BatchUpdateFindings of a workflow: "resolve" (after a remediation),
    # "reopen" (evidence newer than the remediation's record)
    action: str = "import"
    # Set when the call failed as a whole (its AwsError's tip, "" without one), not per finding.
    call_tip: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "code": self.code, "message": self.message, "action": self.action}


@dataclass(frozen=True)
class ReadFailure:
    """GetFindings failed as a whole: the findings' times and remediate's record are unknown."""

    code: str
    message: str
    tip: str = ""

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class ImportJson(TypedDict):
    """An account's import in a JSON document: what Security Hub took, resolved and reopened,
    and what it refused or could not read."""

    region: str
    imported: int
    resolved: int
    reopened: int
    failed: list[dict[str, str]]
    resolve_failed: list[dict[str, str]]
    read_failed: dict[str, str] | None


@dataclass(frozen=True)
class ImportResult:
    """What one account's run did in Security Hub: how many findings it imported, marked
    resolved or reopened, which Security Hub refused, and (``state``) the findings as they
    stand after the run, for what follows (None: they could not be read)."""

    account_id: str
    region: str
    imported: int = 0
    failed: tuple[FailedFinding, ...] = ()
    calls: int = 0
    ids: tuple[str, ...] = field(default=(), repr=False)
    resolved: int = 0
    reopened: int = 0
    read_failure: ReadFailure | None = None
    state: Mapping[str, Stored] | None = field(default=None, repr=False, compare=False)

    @property
    def refused(self) -> tuple[FailedFinding, ...]:
        """The findings Security Hub did not import."""
        return tuple(f for f in self.failed if f.action == "import")

    @property
    def unresolved(self) -> tuple[FailedFinding, ...]:
        """The findings whose workflow Security Hub did not set (resolve or reopen)."""
        return tuple(f for f in self.failed if f.action != "import")

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
            self.reopened + other.reopened,
            self.read_failure or other.read_failure,
            other.state if other.state is not None else self.state,
        )

    def to_json(self) -> ImportJson:
        return {
            "region": self.region,
            "imported": self.imported,
            "resolved": self.resolved,
            "reopened": self.reopened,
            "failed": [f.to_json() for f in self.refused],
            "resolve_failed": [f.to_json() for f in self.unresolved],
            "read_failed": self.read_failure.to_json() if self.read_failure else None,
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
        details=[f"not {DONE[f.action]} {f.id}: {f.code}" for f in failed],
    )


def import_findings(
    aws: Aws,
    account_id: str,
    findings: Sequence[AsffFinding],
    *,
    record: Record | None = None,
) -> ImportResult:
    """Import ASFF ``findings`` into Security Hub in the session's region. A call that fails as a
    whole (Security Hub not enabled, access denied) fails each of its findings with its message:
    the import goes on with the next batch, and the caller reports every refusal."""
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


def read_findings(
    aws: Aws, product_arn: str, ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], int]:
    """The findings of ``product_arn`` with these ids that Security Hub holds, by id, and the
    GetFindings calls it took (one per 20 ids; a page holds 100). Raises AwsError."""
    client = aws.client("securityhub")
    # As GetFindings answers them: whatever any provider or customer set, read with care
    # (remediate.findings.workflow.Stored.from_finding).
    found: dict[str, dict[str, Any]] = {}
    calls = 0
    for chunk in batches(list(ids), MAX_FILTER_VALUES):
        filters = {
            "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
            "Id": [{"Value": i, "Comparison": "EQUALS"} for i in chunk],
        }
        token: str | None = None
        while True:
            page = {"NextToken": token} if token else {}
            answer = call(client, "GetFindings", Filters=filters, MaxResults=MAX_BATCH, **page)
            calls += 1
            for finding in answer.get("Findings") or []:
                found[str(finding.get("Id", ""))] = finding
            token = answer.get("NextToken")
            if not token:
                break
    return found, calls


def update_workflow(
    aws: Aws,
    account_id: str,
    identifiers: Sequence[Mapping[str, str]],
    *,
    status: str,
    note: str,
    updated_by: str,
    action: str,
    record: Record | None = None,
) -> ImportResult:
    """Set the workflow of these findings (``Id`` and ``ProductArn`` each) to ``status`` with
    ``note`` (nothing else: the printed policy allows no other field), 100 a call; a finding
    Security Hub did not process is reported with its code. ``action``: ``resolve`` or
    ``reopen``, counted as such."""
    client = aws.client("securityhub")
    done = calls = 0
    failed: list[FailedFinding] = []
    for batch in batches(identifiers):
        calls += 1
        ids = [i["Id"] for i in batch]
        try:
            answer = call(
                client,
                "BatchUpdateFindings",
                FindingIdentifiers=[{"Id": i["Id"], "ProductArn": i["ProductArn"]} for i in batch],
                Workflow={"Status": status},
                Note={"Text": note, "UpdatedBy": updated_by},
            )
        except AwsError as exc:
            refused = [FailedFinding(i, exc.code or "Error", exc.message, action) for i in ids]
        else:
            done += len(answer.get("ProcessedFindings") or [])
            refused = [
                FailedFinding(
                    str(f.get("FindingIdentifier", {}).get("Id", "")),
                    str(f.get("ErrorCode", "")),
                    str(f.get("ErrorMessage", "")),
                    action,
                )
                for f in answer.get("UnprocessedFindings") or []
            ]
        failed += refused
        _journal(record, UPDATE, ids, refused)
    return ImportResult(
        account_id,
        aws.region,
        failed=tuple(failed),
        calls=calls,
        resolved=done if action == "resolve" else 0,
        reopened=done if action == "reopen" else 0,
    )
