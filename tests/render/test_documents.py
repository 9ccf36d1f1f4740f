"""The JSON documents the many-account commands print, assembled from typed results without a
server: which account gets which fields, whose error wins, and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediate.core.errors import AwsError
from remediate.findings.securityhub import ImportResult
from remediate.org.accounts import Target
from remediate.org.sweep import AccountResult, SweepResult
from remediate.playbook.engine import AccountRun
from remediate.playbook.runner import Planned, RunReport
from remediate.render.documents import root_credentials_delete_document, sweep_remediation_document
from remediate.steps.base import Change

CHANGED, UNCHANGED, FAILED, UNJUDGED = (
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
)


@dataclass(frozen=True)
class Step:
    id: str = "admin-user"
    kind: str = "iam_user"


def run(account_id: str, *, applied: bool, failure: str | None = None) -> AccountRun:
    change = Change[Any]("user/alice", "create" if applied else "none")
    report = RunReport("root-use", dry_run=False, steps=[Planned(Step(), change, applied)])
    return AccountRun(
        Target(account_id, f"name-{account_id}"),
        report=report,
        failure=AwsError(failure) if failure else None,
    )


def unjudged(account_id: str, error: str) -> AccountResult:
    return AccountResult(account_id, f"name-{account_id}", None, error)


def test_sweep_document_joins_each_account_to_its_run_and_import() -> None:
    result = SweepResult(
        (
            unjudged(CHANGED, "no report"),
            unjudged(FAILED, "no report"),
            unjudged(UNJUDGED, "cannot assume the role"),
        )
    )
    runs = [run(CHANGED, applied=True), run(FAILED, applied=False, failure="AccessDenied")]
    hub = ImportResult(CHANGED, "us-east-1", imported=4)
    finished: list[str] = []

    def finish(account_id: str) -> str:
        finished.append(account_id)
        return f"remediate root-use --accounts {account_id} --mfa-codes CODE1 CODE2"

    doc = sweep_remediation_document(
        result,
        runs,
        show_secrets=False,
        sandbox=True,
        finish=finish,
        security_hub={CHANGED: hub},
    )

    changed, failed, unjudged_doc = doc["accounts"]
    assert doc["summary"] == result.summary()
    assert [d["account_id"] for d in doc["accounts"]] == [CHANGED, FAILED, UNJUDGED]
    assert all(d["sandbox"] is True for d in doc["accounts"])
    assert changed["remediation"]["changed"] == 1
    assert changed["error"] == "no report"  # the sweep's, as the run did not fail
    assert failed["error"] == "AccessDenied"  # the remediation's failure wins
    assert "remediation" not in unjudged_doc
    assert unjudged_doc["error"] == "cannot assume the role"
    assert changed["security_hub"] == hub.to_json()
    assert changed["security_hub"]["imported"] == 4
    assert failed["security_hub"] is None
    assert unjudged_doc["security_hub"] is None
    assert finished == [CHANGED, FAILED]


def test_sweep_document_without_security_hub_has_no_such_field() -> None:
    result = SweepResult((unjudged(CHANGED, "x"),))

    doc = sweep_remediation_document(
        result, [run(CHANGED, applied=True)], show_secrets=False, sandbox=False
    )

    (only,) = doc["accounts"]
    assert "security_hub" not in only
    assert only["sandbox"] is False
    assert only["handover"] is None


def test_root_credentials_delete_document_counts_each_outcome() -> None:
    runs = [
        run(CHANGED, applied=True),
        run(UNCHANGED, applied=False),
        run(FAILED, applied=False, failure="AccessDenied"),
    ]

    doc = root_credentials_delete_document({"trusted_access": True}, runs)

    assert doc["organization"] == {"trusted_access": True}
    assert doc["summary"] == {"total": 3, "changed": 1, "unchanged": 1, "failed": 1}
    assert [(d["account_id"], d["account_name"], d["error"]) for d in doc["accounts"]] == [
        (CHANGED, f"name-{CHANGED}", None),
        (UNCHANGED, f"name-{UNCHANGED}", None),
        (FAILED, f"name-{FAILED}", "AccessDenied"),
    ]
    assert [d["remediation"]["changed"] for d in doc["accounts"]] == [1, 0, 0]
    assert all(d["secrets"] == [] for d in doc["accounts"])
