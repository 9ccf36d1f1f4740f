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

moto then stores and updates findings by ``Id`` (a rerun updates, as in AWS).
"""

from __future__ import annotations

import json
import threading
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
    failed_count, success_count, failed = backend.batch_import_findings(findings=accepted)
    return json.dumps(
        {
            "FailedCount": failed_count + len(refused),
            "SuccessCount": success_count,
            "FailedFindings": refused + list(failed),
        }
    )


def install() -> None:
    """Put the checks above in front of moto's BatchImportFindings (in this process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.securityhub.responses import SecurityHubResponse

        setattr(SecurityHubResponse, "batch_import_findings", _batch_import_findings)  # noqa: B010
        _installed = True
