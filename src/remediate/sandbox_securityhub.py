"""AWS Security Hub's BatchImportFindings, made stricter in moto's server (in-process) where moto
accepts what AWS refuses.

moto imports any finding that has a resource, into an account whether or not Security Hub is
enabled there. This module puts in front of it what the Security Hub API reference and user
guide document:

- an account where Security Hub is not enabled is refused as a whole
  (``InvalidAccessException``);
- each finding needs the required top-level ASFF attributes (``SchemaVersion``, ``Id``,
  ``ProductArn``, ``GeneratorId``, ``AwsAccountId``, ``Types``, ``CreatedAt``, ``UpdatedAt``,
  ``Severity``, ``Title``, ``Description``, ``Resources``), or it fails alone
  (``InvalidInput``) and the others are imported;
- with the default product, a finding is imported only from the account it is about
  (``AwsAccountId`` and the product ARN's account are the caller's); assumed here to fail that
  finding alone, with ``AccessDeniedException``.

moto then stores and updates findings by ``Id`` (a rerun updates, as in AWS). The workflow is
Security Hub's, as the user guide's "workflow status" page and the ``Workflow`` type document: a
new finding starts ``NEW``; a ``RESOLVED`` or ``NOTIFIED`` one goes back to ``NEW`` when an import
changes its ``Compliance.Status`` from ``PASSED`` to anything else; nothing else an import sends
sets it (for findings of Security Hub's own controls only, a ``PASSED`` import resolves them: not
emulated, remediate's findings come from the account's default product).

moto has no ``BatchUpdateFindings``: it is emulated here from botocore's model, for the caller's
own account (a member account updates only its findings): ``FindingIdentifiers`` (``Id`` and
``ProductArn``, at most 100), ``Workflow.Status`` and ``Note`` (``Text`` of at most 512
characters, ``UpdatedBy``) applied to each finding found, ``UpdatedAt`` left as it was;
``ProcessedFindings``, and ``UnprocessedFindings`` with ``FindingNotFound``,
``DuplicatedFindingIdentifier`` or ``InvalidInput``. ``GetFindings`` then shows them (moto
answers with what it stores).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

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


def _batch_import_findings(self: Any) -> Any:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = self.securityhub_backend
    if not backend.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException",
            f"Account {self.current_account} is not subscribed to AWS Security Hub",
        )
    body = json.loads(self.body.decode() if isinstance(self.body, bytes) else self.body)
    findings = body.get("Findings") or []
    refused: list[dict[str, str]] = []
    accepted: list[Any] = []
    for finding in findings:
        why = _refusal(finding, str(self.current_account))
        if why is None:
            accepted.append(finding)
        else:
            refused.append(
                {
                    "Id": str(finding.get("Id", "")) if isinstance(finding, dict) else "",
                    "ErrorCode": why[0],
                    "ErrorMessage": why[1],
                }
            )
    # Each stored finding's compliance before the import (moto updates the stored dict).
    before = {f.id: f.data.get("Compliance", {}).get("Status") for f in backend.findings}
    failed_count, success_count, failed = backend.batch_import_findings(findings=accepted)
    for stored in backend.findings:
        _set_workflow(stored.data, new=stored.id not in before, was=before.get(stored.id))
    return json.dumps(
        {
            "FailedCount": failed_count + len(refused),
            "SuccessCount": success_count,
            "FailedFindings": refused + list(failed),
        }
    )


def _set_workflow(data: dict[str, Any], *, new: bool, was: str | None) -> None:
    """The workflow Security Hub keeps for an imported finding (see the module docstring)."""
    if new:
        data["Workflow"] = {"Status": "NEW"}
        return
    status = data.get("Compliance", {}).get("Status")
    reopened = was == "PASSED" and status != "PASSED"
    if reopened and data.get("Workflow", {}).get("Status") in ("RESOLVED", "NOTIFIED"):
        data["Workflow"] = {"Status": "NEW"}


def _batch_update_findings(self: Any) -> Any:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = self.securityhub_backend
    if not backend.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException",
            f"Account {self.current_account} is not subscribed to AWS Security Hub",
        )
    body = json.loads(self.body.decode() if isinstance(self.body, bytes) else self.body or "{}")
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
    processed: list[dict[str, str]] = []
    unprocessed: list[dict[str, Any]] = []
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
        if workflow is not None:
            found.data["Workflow"] = {"Status": workflow["Status"]}
        if note is not None:
            found.data["Note"] = {
                "Text": note["Text"],
                "UpdatedBy": note["UpdatedBy"],
                "UpdatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
        processed.append({"Id": key[0], "ProductArn": key[1]})
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def install() -> None:
    """Put the checks above in front of moto's BatchImportFindings (in this process)."""
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
        _installed = True
