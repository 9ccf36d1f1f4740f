"""Findings into AWS Security Hub (moto's, made to refuse what AWS refuses by
remediate.sandbox_securityhub): imported once, updated on a rerun, resolved after a remediation;
batches of at most 100; every refusal reported with its finding."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from orgs import Org
from remediate import sandbox_securityhub
from remediate.asff import asff_findings
from remediate.aws.session import Aws, AwsOptions
from remediate.checks import check_results
from remediate.detect.judge import judge_root_use
from remediate.sandbox import RootState
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


@pytest.fixture
def sent_bodies(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The body of every BatchImportFindings botocore sends during the test."""
    from botocore.endpoint import Endpoint

    bodies: list[Any] = []
    make_request = Endpoint.make_request

    def recording(self: Any, operation_model: Any, request_dict: Any) -> Any:
        if operation_model.name == "BatchImportFindings":
            body = request_dict["body"]
            bodies.append(json.loads(body.decode() if isinstance(body, bytes) else body))
        return make_request(self, operation_model, request_dict)

    monkeypatch.setattr(Endpoint, "make_request", recording)
    return bodies


def root_use(cli: Any, moto: Any, *args: str) -> Any:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--security-hub", *args)
    assert "Traceback" not in r.err
    return r


def test_imported_once_then_updated_never_duplicated(hub: Any, cli: Any) -> None:
    first = root_use(cli, hub, "-o", "json")
    assert first.code == 1, first.err  # root in use: detection's exit code
    assert first.json()["security_hub"] == {
        "region": REGION,
        "imported": 4,
        "resolved": 0,
        "failed": [],
        "resolve_failed": [],
    }
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
    # Detection's four findings, then the resolved one again, and marked resolved.
    assert r.json()["security_hub"]["imported"] == 5
    assert r.json()["security_hub"]["resolved"] == 1
    found = stored()
    assert set(found) == IDS
    resolved = found[f"remediate/{ACCOUNT}/root-user-in-use"]
    assert resolved["Compliance"] == {"Status": "PASSED"}
    assert resolved["Severity"]["Label"] == "INFORMATIONAL"
    assert resolved["FindingProviderFields"]["Severity"]["Label"] == "INFORMATIONAL"
    assert resolved["Description"].startswith("Remediated:")
    # PASSED alone leaves a default-product finding NEW: the run, as the customer, resolves it
    # with BatchUpdateFindings, and says what it did.
    assert resolved["Workflow"] == {"Status": "RESOLVED"}
    assert resolved["Note"]["Text"].startswith("remediate ")
    assert "playbook root-use: applied admin-group" in resolved["Note"]["Text"]
    assert resolved["Note"]["UpdatedBy"].startswith("arn:aws:")
    listed = {f["Id"]: f for f in hub.client("securityhub").get_findings()["Findings"]}
    assert listed[f"remediate/{ACCOUNT}/root-user-in-use"]["Workflow"] == {"Status": "RESOLVED"}
    # What the run did not fix stays as it was.
    not_fixed = found[f"remediate/{ACCOUNT}/root-mfa-not-active"]
    assert not_fixed["Compliance"]["Status"] == "FAILED"
    assert not_fixed["Workflow"] == {"Status": "NEW"}


def test_the_provider_never_sends_a_workflow(hub: Any, cli: Any, sent_bodies: list[Any]) -> None:
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes")
    assert r.code == 0, r.err
    imported = [f for body in sent_bodies for f in body.get("Findings", [])]
    assert len(imported) == 5
    assert all("Workflow" not in f for f in imported)  # Security Hub's, or the customer's


def test_a_handoff_leaves_the_finding_open_until_the_codes_finish_it(
    hub: Any, cli: Any, test_keyring: Any, tmp_path: Any
) -> None:
    import pyotp

    from remediate import mfa
    from remediate.secrets import SecretStore

    in_use = f"remediate/{ACCOUNT}/root-user-in-use"
    args = ("--create-admin", "alice", "--yes", "-o", "json")
    png = str(tmp_path / "alice.png")
    handed = root_use(cli, hub, *args, "--mfa-handoff", "--qr-file", png)
    assert handed.code == 0, handed.err
    # alice's device waits for her codes and she is not an administrator yet: root is still
    # the way in.
    assert handed.json()["security_hub"]["resolved"] == 0
    assert stored()[in_use]["Compliance"] == {"Status": "FAILED"}
    assert stored()[in_use]["Workflow"] == {"Status": "NEW"}

    seed = SecretStore(test_keyring).get(ACCOUNT, "alice", "mfa-seed")
    assert seed is not None
    step = mfa.totp_step(time.time())
    codes = [pyotp.TOTP(seed).at((step + i) * 30) for i in (0, 1)]
    done = root_use(cli, hub, *args, "--mfa-codes", *codes)
    assert done.code == 0, done.err
    assert done.json()["security_hub"]["resolved"] == 1
    assert stored()[in_use]["Compliance"] == {"Status": "PASSED"}
    assert stored()[in_use]["Workflow"] == {"Status": "RESOLVED"}


def test_every_security_hub_write_is_journaled(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from remediate.journal import journal_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # this test's own journal
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes")
    assert r.code == 0, r.err
    entries = [json.loads(line) for line in journal_path().read_text().splitlines()]
    hub_entries = [e for e in entries if e["action"].startswith("securityhub:")]
    assert [e["action"] for e in hub_entries] == [
        "securityhub:BatchImportFindings",  # detection's four findings
        "securityhub:BatchImportFindings",  # root use, PASSED
        "securityhub:BatchUpdateFindings",  # and RESOLVED
    ]
    assert all(e["outcome"] == "applied" and e["account"] == ACCOUNT for e in hub_entries)
    assert (
        hub_entries[-1]["resource"] == f"Security Hub findings remediate/{ACCOUNT}/root-user-in-use"
    )
    # The playbook's own writes are there too, in between.
    assert entries.index(hub_entries[0]) < entries.index(hub_entries[1]) - 1


def test_a_reimport_that_fails_again_reopens_a_resolved_finding(hub: Any, cli: Any) -> None:
    """Security Hub sets RESOLVED back to NEW when Compliance.Status leaves PASSED."""
    assert root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes").code == 0
    in_use = f"remediate/{ACCOUNT}/root-user-in-use"
    assert stored()[in_use]["Workflow"] == {"Status": "RESOLVED"}
    hub.set_root(RootState(password_last_used=datetime.now(UTC)))
    assert root_use(cli, hub).code == 1
    assert stored()[in_use]["Compliance"] == {"Status": "FAILED"}
    assert stored()[in_use]["Workflow"] == {"Status": "NEW"}


def test_batch_update_findings_answers_per_finding(hub: Any, cli: Any) -> None:
    assert root_use(cli, hub).code == 1
    client = hub.client("securityhub")
    product = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    known = {"Id": f"remediate/{ACCOUNT}/root-mfa-not-active", "ProductArn": product}
    unknown = {"Id": f"remediate/{ACCOUNT}/nothing", "ProductArn": product}
    answer = client.batch_update_findings(
        FindingIdentifiers=[known, unknown, known],
        Workflow={"Status": "NOTIFIED"},
        Note={"Text": "told the owner", "UpdatedBy": "tester"},
    )
    assert answer["ProcessedFindings"] == [known]
    assert [(u["FindingIdentifier"], u["ErrorCode"]) for u in answer["UnprocessedFindings"]] == [
        (unknown, "FindingNotFound"),
        (known, "DuplicatedFindingIdentifier"),
    ]
    found = stored()[known["Id"]]
    assert found["Workflow"] == {"Status": "NOTIFIED"}
    assert (found["Note"]["Text"], found["Note"]["UpdatedBy"]) == ("told the owner", "tester")


def test_a_finding_not_marked_resolved_is_a_warning_not_a_failure(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BatchUpdateFindings answers UnprocessedFindings (here InvalidInput, the note too long for
    an emulator made stricter): the remediation and the PASSED import happened, so the run exits
    as the remediation does, and says on stderr which finding kept its workflow."""
    in_use = f"remediate/{ACCOUNT}/root-user-in-use"
    monkeypatch.setattr(sandbox_securityhub, "MAX_NOTE", 5)
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()["security_hub"]
    assert (doc["imported"], doc["resolved"], doc["failed"]) == (5, 0, [])
    [unresolved] = doc["resolve_failed"]
    assert (unresolved["id"], unresolved["code"], unresolved["action"]) == (
        in_use,
        "InvalidInput",
        "resolve",
    )
    assert "Warning:" in r.err
    assert "securityhub:BatchUpdateFindings" in r.err
    assert f"{in_use} (InvalidInput)" in r.err
    assert "imported 5 findings, 1 not marked resolved, ok." in r.err
    assert stored()[in_use]["Compliance"] == {"Status": "PASSED"}
    assert stored()[in_use]["Workflow"] == {"Status": "NEW"}


def test_a_refused_passed_import_after_a_fix_still_exits_3(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remediation completed, but Security Hub did not take the PASSED finding: the import
    asked for did not happen (exit 3), and nothing is marked resolved."""
    refusal = sandbox_securityhub._refusal

    def refuse_passed(finding: Any, account_id: str) -> Any:
        passed = finding.get("Compliance", {}).get("Status") == "PASSED"
        if passed and str(finding.get("Id", "")).endswith("root-user-in-use"):
            return "InvalidInput", "emulated refusal"
        return refusal(finding, account_id)

    monkeypatch.setattr(sandbox_securityhub, "_refusal", refuse_passed)
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
    assert r.code == 3, r.err
    assert r.json()["remediation"]["changed"] > 0
    doc = r.json()["security_hub"]
    assert (doc["imported"], doc["resolved"], doc["resolve_failed"]) == (4, 0, [])
    assert [(f["id"], f["action"]) for f in doc["failed"]] == [
        (f"remediate/{ACCOUNT}/root-user-in-use", "import")
    ]
    assert "incomplete" in r.err
    assert stored()[f"remediate/{ACCOUNT}/root-user-in-use"]["Compliance"]["Status"] == "FAILED"


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
        assert found["Workflow"] == {"Status": "RESOLVED"}
        doc = next(a for a in r.json()["accounts"] if a["account_id"] == account)
        assert doc["security_hub"]["imported"] == 5
        assert doc["security_hub"]["resolved"] == 1


def test_across_accounts_a_finding_not_marked_resolved_is_a_warning(
    moto: Any, admin_org: Org, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [ACCOUNT, admin_org.id("key")]
    for account in accounts:
        sandbox_securityhub.enable(account, REGION)
    monkeypatch.setattr(sandbox_securityhub, "MAX_NOTE", 5)  # every note refused, per finding
    fix = ("--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
    r = root_use(cli, moto, "--accounts", ",".join(accounts), *fix)
    assert r.code == 0, r.err
    for account in accounts:
        doc = next(a for a in r.json()["accounts"] if a["account_id"] == account)
        assert (doc["security_hub"]["imported"], doc["security_hub"]["failed"]) == (5, [])
        [unresolved] = doc["security_hub"]["resolve_failed"]
        assert unresolved["id"] == f"remediate/{account}/root-user-in-use"
        assert f"RESOLVED in account {account} (us-east-1)" in " ".join(r.err.split())
    assert r.err.count("Warning: securityhub:BatchUpdateFindings did not mark") == 2


def test_permissions_for_security_hub(cli: Any) -> None:
    doc = json.loads(
        cli("permissions", "--detect-only", "--security-hub", "--account", ACCOUNT).out
    )
    [statement] = [s for s in doc["Statement"] if "securityhub:BatchImportFindings" in s["Action"]]
    assert statement["Resource"] == (f"arn:aws:securityhub:*:{ACCOUNT}:product/{ACCOUNT}/default")
    # Detection marks nothing RESOLVED: it may only reopen (NEW), a remediation resolve.
    status = "securityhub:ASFFSyntaxPath/Workflow.Status"
    [reopen] = [s for s in doc["Statement"] if "securityhub:BatchUpdateFindings" in s["Action"]]
    assert reopen["Condition"]["StringEquals"] == {status: ["NEW"]}
    fixing = json.loads(
        cli("permissions", "--var", "user=alice", "--security-hub", "--account", ACCOUNT).out
    )
    [resolve] = [s for s in fixing["Statement"] if "securityhub:BatchUpdateFindings" in s["Action"]]
    assert resolve["Resource"] == f"arn:aws:securityhub:*:{ACCOUNT}:hub/default"
    assert resolve["Condition"]["StringEquals"] == {status: ["NEW", "RESOLVED"]}
    anywhere = json.loads(cli("permissions", "--var", "user=alice", "--security-hub").out)
    assert [s["Resource"] for s in anywhere["Statement"][-3:]] == [
        "arn:aws:securityhub:*:*:product/*/default",
        "arn:aws:securityhub:*:*:hub/default",
        "arn:aws:securityhub:*:*:hub/default",
    ]
