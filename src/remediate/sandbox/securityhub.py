"""AWS Security Hub in moto's server (in-process), made to keep the finding lifecycle AWS
documents where moto imports and overwrites whatever it is sent.

Imports (BatchImportFindings), as the API reference and the user guide ("Using
BatchImportFindings to create and update findings") document them:

- an account where Security Hub is not enabled is refused as a whole
  (``InvalidAccessException``);
- each finding needs the required top-level ASFF attributes, or it fails alone
  (``InvalidInput``) and the others are imported;
- with the default product, a finding is imported only from the account it is about (assumed to
  fail that finding alone, with ``AccessDeniedException``);
- a finding whose ``Id`` exists is updated only when its ``UpdatedAt`` is not older than the
  stored one (an older one is ignored, and still counted a success); the update replaces the
  provider's fields (assumed: AWS does not say whether absent ones are kept), never the
  customer's: ``Note``, ``UserDefinedFields``, ``VerificationState`` and ``Workflow`` stay as
  they were, and ``Confidence``, ``Criticality``, ``RelatedFindings``, ``Severity`` and
  ``Types`` too once a BatchUpdateFindings has set them;
- the workflow ("Setting the workflow status of findings"): a new finding starts ``NEW``; a
  ``RESOLVED`` or ``NOTIFIED`` one goes back to ``NEW`` when ``RecordState`` turns from
  ``ARCHIVED`` to ``ACTIVE`` or ``Compliance.Status`` from ``PASSED`` to ``FAILED``, ``WARNING``
  or ``NOT_AVAILABLE``; nothing else an import sends changes it. (For findings of Security
  Hub's own controls only, a ``PASSED`` import resolves them: not emulated, remediate's findings
  come from the account's default product.)

BatchUpdateFindings (not in moto), from botocore's model, for the caller's own account:
``FindingIdentifiers`` (``Id`` and ``ProductArn``, at most 100), then ``Workflow.Status``,
``Note`` (``Text`` of at most 512 characters and ``UpdatedBy``; Security Hub stamps its
``UpdatedAt``), ``Severity.Label``, ``VerificationState``, ``UserDefinedFields``, ``Confidence``,
``Criticality``, ``Types`` and ``RelatedFindings`` applied to each finding found; ``UpdatedAt``
left as it was; ``ProcessedFindings``, and ``UnprocessedFindings`` with ``FindingNotFound``,
``DuplicatedFindingIdentifier`` or ``InvalidInput``. IAM's condition keys on it
(``securityhub:ASFFSyntaxPath/...``) are not evaluated here: moto enforces no conditions.

GetFindings (moto has it without filters): refused where Security Hub is not enabled; the
``Filters`` remediate and its tests use, string filters (``EQUALS``, ``PREFIX``, ``NOT_EQUALS``,
``PREFIX_NOT_EQUALS``, ``CONTAINS``, ``NOT_CONTAINS``; positive values of one attribute are
ORed, negative ones ANDed, attributes ANDed) on ``Id``, ``ProductArn``, ``AwsAccountId``,
``GeneratorId``, ``ComplianceStatus``, ``WorkflowStatus``, ``RecordState``, ``SeverityLabel``
and ``Title``, at most 10 attributes and 20 values each ("AwsSecurityFindingFilters"); another
attribute is refused (``InvalidInputException``, naming it) rather than ignored; ``MaxResults``
(1-100) and ``NextToken``.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

REQUIRED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "Types",
    "CreatedAt",
    "UpdatedAt",
    "Severity",
    "Title",
    "Description",
    "Resources",
)

WORKFLOW_STATUSES = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")
MAX_IDENTIFIERS = 100
MAX_NOTE = 512

_lock = threading.Lock()
_installed = False


class FindingIdentifier(TypedDict):
    Id: str
    ProductArn: str


class UnprocessedFinding(TypedDict):
    """One of BatchUpdateFindings' ``UnprocessedFindings``."""

    FindingIdentifier: FindingIdentifier
    ErrorCode: str
    ErrorMessage: str


class StringFilter(TypedDict, total=False):
    """One value of a GetFindings string filter (``AwsSecurityFindingFilters``)."""

    Value: str
    Comparison: str


def enable(account_id: str, region: str) -> None:
    """Set-up, in process: Security Hub enabled in the account and region."""
    from moto.securityhub.models import securityhub_backends

    securityhub_backends[account_id][region].enable_security_hub(enable_default_standards=False)


def _refusal(finding: Any, account_id: str) -> tuple[str, str] | None:
    """(code, message) when Security Hub would not import this finding, else None."""
    if not isinstance(finding, dict):
        return "InvalidInput", "A finding must be an object."
    missing = [name for name in REQUIRED if not finding.get(name)]
    if missing:
        return "InvalidInput", f"Finding is missing required attributes: {', '.join(missing)}"
    arn = str(finding["ProductArn"])
    if arn.endswith("/default") and (
        str(finding["AwsAccountId"]) != account_id or f":{account_id}:product/" not in arn
    ):
        return (
            "AccessDeniedException",
            "With the default product, findings are imported from the account they are about.",
        )
    return None


# BatchImportFindings never changes these on a finding that exists (the customer's).
CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
# Nor these, once a BatchUpdateFindings has set them.
SHARED_FIELDS = ("Confidence", "Criticality", "RelatedFindings", "Severity", "Types")
# BatchUpdateFindings' request members that update a field of the same name (Workflow, Note and
# Severity are handled apart).
UPDATED_AS_GIVEN = (
    "VerificationState",
    "UserDefinedFields",
    "Confidence",
    "Criticality",
    "Types",
    "RelatedFindings",
)
# GetFindings' string filters emulated: filter name -> the finding's value.
STRING_FILTERS: dict[str, tuple[str, ...]] = {
    "Id": ("Id",),
    "ProductArn": ("ProductArn",),
    "AwsAccountId": ("AwsAccountId",),
    "GeneratorId": ("GeneratorId",),
    "ComplianceStatus": ("Compliance", "Status"),
    "WorkflowStatus": ("Workflow", "Status"),
    "RecordState": ("RecordState",),
    "SeverityLabel": ("Severity", "Label"),
    "Title": ("Title",),
}
MAX_FILTER_ATTRIBUTES = 10
MAX_FILTER_VALUES = 20
MAX_RESULTS = 100


def _body(self: Any) -> Any:
    raw = self.body.decode() if isinstance(self.body, bytes) else self.body
    return json.loads(raw or "{}")


def _require_enabled(self: Any) -> Any:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = self.securityhub_backend
    if not backend.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException",
            f"Account {self.current_account} is not subscribed to AWS Security Hub",
        )
    return backend


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _customer_set(stored: Any) -> set[str]:
    """The shared fields a BatchUpdateFindings has set on this stored finding (kept on moto's
    object: a reset drops both)."""
    found: set[str] | None = getattr(stored, "remediate_customer_fields", None)
    if found is None:
        found = set()
        stored.remediate_customer_fields = found
    return found


def _batch_import_findings(self: Any) -> Any:
    backend = _require_enabled(self)
    findings = _body(self).get("Findings") or []
    refused: list[dict[str, str]] = []
    accepted: list[Any] = []
    ignored = 0
    by_id = {f.id: f for f in backend.findings}
    for finding in findings:
        why = _refusal(finding, str(self.current_account))
        if why is not None:
            refused.append(
                {
                    "Id": str(finding.get("Id", "")) if isinstance(finding, dict) else "",
                    "ErrorCode": why[0],
                    "ErrorMessage": why[1],
                }
            )
            continue
        existing = by_id.get(finding["Id"])
        if existing is not None:
            new, old = _time(finding["UpdatedAt"]), _time(existing.data.get("UpdatedAt"))
            if new is not None and old is not None and new < old:
                ignored += 1  # "the update is ignored"
                continue
        accepted.append(finding)
    # What Security Hub keeps of each stored finding through the import.
    before = {
        f.id: (copy.deepcopy(f.data), set(_customer_set(f)))
        for f in backend.findings
        if f.id in {str(a["Id"]) for a in accepted}
    }
    for stored in backend.findings:
        if stored.id in before:
            stored.data.clear()  # an update replaces the provider's fields
    failed_count, success_count, failed = backend.batch_import_findings(findings=accepted)
    for stored in backend.findings:
        if stored.id not in before:
            # A new finding starts NEW (unless its provider set a workflow as it created it).
            stored.data.setdefault("Workflow", {"Status": "NEW"})
            continue
        old_data, customer = before[stored.id]
        if not stored.data:  # moto refused it after all: the finding stays as it was
            stored.data.update(old_data)
        else:
            _keep(stored.data, old_data, customer)
    return json.dumps(
        {
            "FailedCount": failed_count + len(refused),
            "SuccessCount": success_count + ignored,
            "FailedFindings": refused + list(failed),
        }
    )


# A stored finding's data, as moto keeps the JSON it was sent: any provider's or customer's.
def _keep(data: dict[str, Any], old: dict[str, Any], customer: set[str]) -> None:
    """An updated finding: the customer's fields as they were, then the workflow rule."""
    for name in CUSTOMER_FIELDS + tuple(customer):
        if name in old:
            data[name] = old[name]
        else:
            data.pop(name, None)
    data.setdefault("Workflow", {"Status": "NEW"})
    was_passed = old.get("Compliance", {}).get("Status") == "PASSED"
    now = data.get("Compliance", {}).get("Status")
    left_passed = was_passed and now in ("FAILED", "WARNING", "NOT_AVAILABLE")
    active_again = old.get("RecordState") == "ARCHIVED" and data.get("RecordState") == "ACTIVE"
    if (left_passed or active_again) and data["Workflow"].get("Status") in ("RESOLVED", "NOTIFIED"):
        data["Workflow"] = {"Status": "NEW"}


def _batch_update_findings(self: Any) -> Any:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = _require_enabled(self)
    body = _body(self)
    identifiers = body.get("FindingIdentifiers")
    if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= MAX_IDENTIFIERS:
        raise SecurityHubClientError(
            "InvalidInputException",
            f"FindingIdentifiers must list 1 to {MAX_IDENTIFIERS} findings",
        )
    workflow = body.get("Workflow")
    if workflow is not None and workflow.get("Status") not in WORKFLOW_STATUSES:
        raise SecurityHubClientError("InvalidInputException", "Invalid Workflow.Status")
    note = body.get("Note")
    by_id = {f.id: f for f in backend.findings}
    processed: list[FindingIdentifier] = []
    unprocessed: list[UnprocessedFinding] = []
    seen: set[tuple[str, str]] = set()
    for ident in identifiers:
        key = (str(ident.get("Id", "")), str(ident.get("ProductArn", "")))
        found = by_id.get(key[0])
        why = None
        if key in seen:
            why = "DuplicatedFindingIdentifier", "The request names this finding twice."
        elif found is None or found.data.get("ProductArn") != key[1]:
            why = "FindingNotFound", "No finding matches the FindingIdentifier."
        elif note is not None and (
            not note.get("Text") or not note.get("UpdatedBy") or len(note["Text"]) > MAX_NOTE
        ):
            why = "InvalidInput", f"Note needs Text (at most {MAX_NOTE} characters) and UpdatedBy."
        seen.add(key)
        if why is not None or found is None:
            unprocessed.append(
                {
                    "FindingIdentifier": {"Id": key[0], "ProductArn": key[1]},
                    "ErrorCode": why[0] if why else "FindingNotFound",
                    "ErrorMessage": why[1] if why else "No finding matches the FindingIdentifier.",
                }
            )
            continue
        _update(found, body)
        processed.append({"Id": key[0], "ProductArn": key[1]})
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


# body: BatchUpdateFindings' request, as sent (JSON), checked by _batch_update_findings.
def _update(found: Any, body: dict[str, Any]) -> None:
    """One finding's BatchUpdateFindings: the fields asked for; UpdatedAt as it was."""
    data = found.data
    if body.get("Workflow") is not None:
        data["Workflow"] = {"Status": body["Workflow"]["Status"]}
    note = body.get("Note")
    if note is not None:
        data["Note"] = {
            "Text": note["Text"],
            "UpdatedBy": note["UpdatedBy"],
            "UpdatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    severity = body.get("Severity")
    if severity is not None:
        data["Severity"] = {**data.get("Severity", {}), **severity}
        _customer_set(found).add("Severity")
    for name in UPDATED_AS_GIVEN:
        if body.get(name) is not None:
            data[name] = body[name]
            if name in SHARED_FIELDS:
                _customer_set(found).add(name)


def _value(data: Mapping[str, object], path: tuple[str, ...]) -> str | None:
    value: object = data
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return None if value is None else str(value)


def _matches(value: str | None, filters: list[StringFilter]) -> bool:
    """StringFilter semantics: positive comparisons ORed, negative ones ANDed."""
    positive = [
        f for f in filters if not str(f.get("Comparison", "")).startswith(("NOT", "PREFIX_NOT"))
    ]
    negative = [f for f in filters if f not in positive]
    text = value or ""

    def test(f: StringFilter) -> bool:
        want = str(f.get("Value", ""))
        comparison = f.get("Comparison", "EQUALS")
        return {
            "EQUALS": text == want,
            "PREFIX": text.startswith(want),
            "CONTAINS": want in text,
            "NOT_EQUALS": text != want,
            "PREFIX_NOT_EQUALS": not text.startswith(want),
            "NOT_CONTAINS": want not in text,
        }.get(comparison, False)

    if positive and not any(test(f) for f in positive):
        return False
    return all(test(f) for f in negative)


def _get_findings(self: Any) -> Any:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = _require_enabled(self)
    body = _body(self)
    filters = body.get("Filters") or {}
    if len(filters) > MAX_FILTER_ATTRIBUTES:
        raise SecurityHubClientError(
            "InvalidInputException", f"At most {MAX_FILTER_ATTRIBUTES} filter attributes"
        )
    for name, values in filters.items():
        if name not in STRING_FILTERS:
            raise SecurityHubClientError(
                "InvalidInputException", f"Filter {name} is not emulated by the sandbox"
            )
        if len(values) > MAX_FILTER_VALUES:
            raise SecurityHubClientError(
                "InvalidInputException",
                f"Filter {name}: at most {MAX_FILTER_VALUES} values, not {len(values)}",
            )
    limit = int(body.get("MaxResults") or MAX_RESULTS)
    if not 1 <= limit <= MAX_RESULTS:
        raise SecurityHubClientError(
            "InvalidInputException", f"MaxResults must be 1 to {MAX_RESULTS}"
        )
    found = [
        f.data
        for f in backend.findings
        if all(_matches(_value(f.data, STRING_FILTERS[n]), v) for n, v in filters.items())
    ]
    token = body.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = found[start : start + limit]
    answer: dict[str, object] = {"Findings": page}
    if start + limit < len(found):
        answer["NextToken"] = str(start + limit)
    return json.dumps(answer)


def install() -> None:
    """Put the emulation above in front of moto's Security Hub (in this process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.securityhub import urls
        from moto.securityhub.responses import SecurityHubResponse

        setattr(SecurityHubResponse, "batch_import_findings", _batch_import_findings)  # noqa: B010
        # PATCH /findings/batchupdate: botocore's model names the operation from the route.
        urls.url_paths.setdefault("{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
        setattr(SecurityHubResponse, "batch_update_findings", _batch_update_findings)  # noqa: B010
        setattr(SecurityHubResponse, "get_findings", _get_findings)  # noqa: B010
        _installed = True
