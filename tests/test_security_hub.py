"""Findings into AWS Security Hub (moto's, made to refuse what AWS refuses by
remediate.sandbox_securityhub): imported once, updated on a rerun, resolved after a remediation;
batches of at most 100; every refusal reported with its finding."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orgs import Org
from remediate import sandbox_securityhub
from remediate.asff import asff_findings
from remediate.aws.session import Aws, AwsOptions
from remediate.checks import check_results
from remediate.detect.judge import judge_root_use
from remediate.securityhub import MAX_BATCH, import_findings

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
REGION = "us-east-1"
IDS = {
    f"remediate/{ACCOUNT}/{c}"
    for c in (
        "root-user-in-use",
        "root-access-keys-active",
        "root-mfa-not-active",
        "root-signing-certificates-active",
    )
}


def stored(account: str = ACCOUNT) -> dict[str, dict[str, Any]]:
    """The findings Security Hub holds in the account, by Id (read from the emulator)."""
    from moto.securityhub.models import securityhub_backends

    findings = securityhub_backends[account][REGION].findings
    return {f.id: copy.deepcopy(f.data) for f in findings}


@pytest.fixture
def hub(moto: Any) -> Any:
    sandbox_securityhub.enable(ACCOUNT, REGION)
    return moto


def root_use(cli: Any, moto: Any, *args: str) -> Any:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--security-hub", *args)
    assert "Traceback" not in r.err
    return r


def test_imported_once_then_updated_never_duplicated(hub: Any, cli: Any) -> None:
    first = root_use(cli, hub, "-o", "json")
    assert first.code == 1, first.err  # root in use: detection's exit code
    assert first.json()["security_hub"] == {"region": REGION, "imported": 4, "failed": []}
    found = stored()
    assert set(found) == IDS
    in_use = found[f"remediate/{ACCOUNT}/root-user-in-use"]
    assert in_use["Compliance"] == {"Status": "FAILED"}
    # The list GetFindings gives, as a Security Hub client reads it.
    listed = hub.client("securityhub").get_findings()["Findings"]
    assert {f["Id"] for f in listed} == IDS

    again = root_use(cli, hub, "-o", "json")
    assert again.code == 1
    after = stored()
    assert set(after) == IDS  # same ids: updated, not added
    assert len(hub.client("securityhub").get_findings()["Findings"]) == 4
    updated = after[f"remediate/{ACCOUNT}/root-user-in-use"]
    assert updated["UpdatedAt"] > in_use["UpdatedAt"]


def test_a_remediation_resolves_the_root_use_finding(hub: Any, cli: Any) -> None:
    assert root_use(cli, hub).code == 1
    assert stored()[f"remediate/{ACCOUNT}/root-user-in-use"]["Compliance"]["Status"] == "FAILED"

    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")

    assert r.code == 0, r.err
    # Detection's four findings, then the resolved one again.
    assert r.json()["security_hub"]["imported"] == 5
    found = stored()
    assert set(found) == IDS
    resolved = found[f"remediate/{ACCOUNT}/root-user-in-use"]
    assert resolved["Compliance"] == {"Status": "PASSED"}
    assert resolved["Severity"]["Label"] == "INFORMATIONAL"
    assert resolved["FindingProviderFields"]["Severity"]["Label"] == "INFORMATIONAL"
    assert resolved["Description"].startswith("Remediated:")
    assert "Workflow" not in resolved  # Security Hub sets the workflow, never the provider
    # What the run did not fix stays as it was.
    assert found[f"remediate/{ACCOUNT}/root-mfa-not-active"]["Compliance"]["Status"] == "FAILED"


def test_a_dry_run_cannot_import(hub: Any, cli: Any, sent: list[str]) -> None:
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--dry-run")
    assert r.code == 2
    assert "--dry-run makes no write call at all" in r.err
    assert sent == []


def test_a_failed_remediation_resolves_nothing(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.iam.models import IAMBackend

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.iam.exceptions import IAMConflictException

        raise IAMConflictException("LimitExceeded", "no more users")

    monkeypatch.setattr(IAMBackend, "create_user", refuse)
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes")
    assert r.code == 3
    assert stored()[f"remediate/{ACCOUNT}/root-user-in-use"]["Compliance"]["Status"] == "FAILED"


def test_security_hub_not_enabled_fails_every_finding(moto: Any, cli: Any) -> None:
    r = root_use(cli, moto, "-o", "json")
    assert r.code == 3  # the import asked for did not happen, whatever the verdict
    failed = r.json()["security_hub"]["failed"]
    assert {f["id"] for f in failed} == IDS
    assert {f["code"] for f in failed} == {"InvalidAccessException"}
    assert "Security Hub (us-east-1, account 123456789012): imported 0 findings" in r.err
    assert r.err.count("not imported remediate/") == 4
    assert stored() == {}


def test_a_refused_finding_is_reported_and_the_others_imported(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = sandbox_securityhub._refusal

    def refuse_mfa(finding: Any, account_id: str) -> Any:
        if str(finding.get("Id", "")).endswith("root-mfa-not-active"):
            return "InvalidInput", "emulated refusal"
        return refusal(finding, account_id)

    monkeypatch.setattr(sandbox_securityhub, "_refusal", refuse_mfa)
    r = root_use(cli, hub)
    assert r.code == 3
    assert "imported 3 findings, incomplete" in r.out
    assert (
        f"not imported remediate/{ACCOUNT}/root-mfa-not-active: InvalidInput: emulated refusal"
        in r.out
    )
    assert set(stored()) == IDS - {f"remediate/{ACCOUNT}/root-mfa-not-active"}


def test_batches_of_at_most_100(hub: Any, sent: list[str]) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    verdict = judge_root_use(None, now=now, days=7, account_id=ACCOUNT)
    [template, *_] = asff_findings(check_results(verdict), region=REGION, now=now)
    findings = [{**template, "Id": f"remediate/{ACCOUNT}/batch-{i}"} for i in range(250)]
    aws = Aws(AwsOptions(region=REGION, endpoint_url=hub.endpoint_url))

    result = import_findings(aws, ACCOUNT, findings)

    assert MAX_BATCH == 100
    assert (result.imported, result.failed, result.calls) == (250, (), 3)
    assert sent.count("securityhub:BatchImportFindings") == 3
    assert len(stored()) == 250


def test_across_accounts_each_account_imports_its_own(moto: Any, org: Org, cli: Any) -> None:
    for name in ("master", "password", "key", "quiet", "no-root-row"):
        sandbox_securityhub.enable(org.id(name), REGION)
    r = root_use(cli, moto, "--all-accounts", "-o", "json")
    assert r.code == 1, r.err
    accounts = {a["account_id"]: a for a in r.json()["accounts"]}
    assert accounts[org.id("locked")]["security_hub"] is None  # not judged: nothing to import
    for name in ("master", "password", "key", "quiet", "no-root-row"):
        account = org.id(name)
        assert accounts[account]["security_hub"]["imported"] == 4
        assert {f["AwsAccountId"] for f in stored(account).values()} == {account}
        assert len(stored(account)) == 4
    key_account = stored(org.id("key"))
    assert key_account[f"remediate/{org.id('key')}/root-user-in-use"]["Compliance"] == {
        "Status": "FAILED"
    }


def test_across_accounts_remediations_resolve_each_accounts_finding(
    moto: Any, admin_org: Org, cli: Any
) -> None:
    accounts = [ACCOUNT, admin_org.id("key")]
    for account in accounts:
        sandbox_securityhub.enable(account, REGION)
    r = root_use(
        cli,
        moto,
        "--accounts",
        ",".join(accounts),
        "--create-admin",
        "alice",
        "--mfa-auto",
        "--yes",
        "-o",
        "json",
    )
    assert r.code == 0, r.err
    for account in accounts:
        found = stored(account)[f"remediate/{account}/root-user-in-use"]
        assert found["Compliance"] == {"Status": "PASSED"}
        doc = next(a for a in r.json()["accounts"] if a["account_id"] == account)
        assert doc["security_hub"]["imported"] == 5


def test_permissions_for_security_hub(cli: Any) -> None:
    import json

    doc = json.loads(
        cli("permissions", "--detect-only", "--security-hub", "--account", ACCOUNT).out
    )
    [statement] = [s for s in doc["Statement"] if "securityhub:BatchImportFindings" in s["Action"]]
    assert statement["Resource"] == (f"arn:aws:securityhub:*:{ACCOUNT}:product/{ACCOUNT}/default")
    anywhere = json.loads(cli("permissions", "--detect-only", "--security-hub").out)
    assert anywhere["Statement"][-1]["Resource"] == "arn:aws:securityhub:*:*:product/*/default"
