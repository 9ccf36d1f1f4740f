"""Findings into AWS Security Hub (moto's, made to keep AWS's documented lifecycle by
remediate.sandbox.securityhub): imported once, updated on a rerun with what detection measured,
a completed remediation recorded in the workflow once, reopened by newer evidence; batches of
at most 100; every refusal reported with its finding."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.detect.judge import judge_root_use
from remediate.findings.asff import asff_findings
from remediate.findings.checks import check_results
from remediate.findings.securityhub import MAX_BATCH, import_findings
from remediate.sandbox import securityhub as sandbox_securityhub
from remediate.sandbox.server import RootState
from support.orgs import Org

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
        "reopened": 0,
        "failed": [],
        "resolve_failed": [],
        "read_failed": None,
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
    # Detection's four findings, once; the one the run closed marked resolved.
    assert r.json()["security_hub"]["imported"] == 4
    assert r.json()["security_hub"]["resolved"] == 1
    found = stored()
    assert set(found) == IDS
    resolved = found[f"remediate/{ACCOUNT}/root-user-in-use"]
    # Compliance and severity are what detection measured (root was used two days ago) ...
    assert resolved["Compliance"] == {"Status": "FAILED"}
    assert resolved["Severity"]["Label"] == "HIGH"
    assert resolved["FindingProviderFields"]["Severity"]["Label"] == "HIGH"
    assert resolved["Description"].startswith(f"The root user of {ACCOUNT} was used")
    # ... and the run, as the customer, records what it did in the workflow with
    # BatchUpdateFindings.
    assert resolved["Workflow"] == {"Status": "RESOLVED"}
    assert resolved["Note"]["Text"].startswith("Remediated by remediate at ")
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
    assert len(imported) == 4
    # Security Hub's, or the customer's.
    assert all("Workflow" not in f and "Note" not in f for f in imported)


def test_a_handoff_leaves_the_finding_open_until_the_codes_finish_it(
    hub: Any, cli: Any, test_keyring: Any, tmp_path: Any
) -> None:
    import pyotp

    from remediate.credentials import totp as mfa
    from remediate.credentials.store import SecretStore

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
    assert stored()[in_use]["Compliance"] == {"Status": "FAILED"}  # root was used: measured
    assert stored()[in_use]["Workflow"] == {"Status": "RESOLVED"}


def test_every_security_hub_write_is_journaled(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from remediate.playbook.journal import journal_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # this test's own journal
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes")
    assert r.code == 0, r.err
    entries = [json.loads(line) for line in journal_path().read_text().splitlines()]
    hub_entries = [e for e in entries if e["action"].startswith("securityhub:")]
    # GetFindings is a read: not journaled.
    assert [e["action"] for e in hub_entries] == [
        "securityhub:BatchImportFindings",  # detection's four findings
        "securityhub:BatchUpdateFindings",  # root use RESOLVED, with the run's note
    ]
    assert all(e["outcome"] == "applied" and e["account"] == ACCOUNT for e in hub_entries)
    assert (
        hub_entries[-1]["resource"] == f"Security Hub findings remediate/{ACCOUNT}/root-user-in-use"
    )
    # The playbook's own writes are there too, in between.
    assert entries.index(hub_entries[0]) < entries.index(hub_entries[1]) - 1


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
    an emulator made stricter): the remediation and the import happened, so the run exits as
    the remediation does, and says on stderr which finding kept its workflow."""
    in_use = f"remediate/{ACCOUNT}/root-user-in-use"
    monkeypatch.setattr(sandbox_securityhub, "MAX_NOTE", 5)
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()["security_hub"]
    assert (doc["imported"], doc["resolved"], doc["failed"]) == (4, 0, [])
    [unresolved] = doc["resolve_failed"]
    assert (unresolved["id"], unresolved["code"], unresolved["action"]) == (
        in_use,
        "InvalidInput",
        "resolve",
    )
    assert "Warning:" in r.err
    assert "securityhub:BatchUpdateFindings" in r.err
    assert f"{in_use} (InvalidInput)" in r.err
    assert "imported 4 findings, 1 not marked resolved, ok." in r.err
    assert stored()[in_use]["Compliance"] == {"Status": "FAILED"}
    assert stored()[in_use]["Workflow"] == {"Status": "NEW"}


def test_a_refused_import_in_a_fixing_run_exits_3_and_marks_nothing(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remediation completed, but Security Hub did not take the root-use finding: the
    import asked for did not happen (exit 3), and nothing is marked on a finding it does not
    hold."""
    refusal = sandbox_securityhub._refusal

    def refuse_root_use(finding: Any, account_id: str) -> Any:
        if str(finding.get("Id", "")).endswith("root-user-in-use"):
            return "InvalidInput", "emulated refusal"
        return refusal(finding, account_id)

    monkeypatch.setattr(sandbox_securityhub, "_refusal", refuse_root_use)
    r = root_use(cli, hub, "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
    assert r.code == 3, r.err
    assert r.json()["remediation"]["changed"] > 0
    doc = r.json()["security_hub"]
    assert (doc["imported"], doc["resolved"], doc["resolve_failed"]) == (3, 0, [])
    assert [(f["id"], f["action"]) for f in doc["failed"]] == [
        (f"remediate/{ACCOUNT}/root-user-in-use", "import")
    ]
    assert "incomplete" in r.err
    assert f"remediate/{ACCOUNT}/root-user-in-use" not in stored()


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
    assert stored()[f"remediate/{ACCOUNT}/root-user-in-use"]["Workflow"] == {"Status": "NEW"}


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
        assert found["Compliance"] == {"Status": "FAILED"}  # as detection measured it
        assert found["Workflow"] == {"Status": "RESOLVED"}
        assert found["Note"]["Text"].startswith("Remediated by remediate at ")
        doc = next(a for a in r.json()["accounts"] if a["account_id"] == account)
        assert doc["security_hub"]["imported"] == 4
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
        assert (doc["security_hub"]["imported"], doc["security_hub"]["failed"]) == (4, [])
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


# --- findings that tell the truth: evidence in Compliance, effort in Workflow and Note -----------

IN_USE = f"remediate/{ACCOUNT}/root-user-in-use"
FIX = ("--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
NOTE_TIME = re.compile(r"^(Remediated|Reopened) by remediate at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")


def note_time(text: str) -> datetime:
    """The time a note of remediate's starts with (ISO 8601, UTC)."""
    found = NOTE_TIME.match(text)
    assert found is not None, text
    return datetime.strptime(found.group(2), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_past(moment: datetime) -> None:
    """Until the clock is a whole second past ``moment``: the credential report and the notes
    show whole seconds, so a use in the same second would not be after it."""
    while datetime.now(UTC) < moment + timedelta(seconds=1):
        time.sleep(0.05)


def hub_calls(sent: list[str]) -> list[str]:
    return [s for s in sent if s.startswith("securityhub:")]


def test_a_remediation_records_itself_beside_what_detection_measured(hub: Any, cli: Any) -> None:
    """Repro: a completed --create-admin --security-hub run imported root-user-in-use as
    PASSED/INFORMATIONAL while root's password had been used two days before."""
    before = datetime.now(UTC).replace(microsecond=0)
    r = root_use(cli, hub, *FIX)
    after = datetime.now(UTC)
    assert r.code == 0, r.err
    doc = r.json()["security_hub"]
    assert (doc["imported"], doc["resolved"], doc["reopened"]) == (4, 1, 0)
    found = stored()[IN_USE]
    # What detection measured: root's password was used within --days.
    assert found["Compliance"] == {"Status": "FAILED"}
    assert found["Severity"]["Label"] == "HIGH"
    assert found["Description"].startswith(f"The root user of {ACCOUNT} was used within")
    # What the run did, beside it: RESOLVED, and a note saying what and when.
    assert found["Workflow"] == {"Status": "RESOLVED"}
    text = found["Note"]["Text"]
    assert text.startswith("Remediated by remediate at ")
    assert "playbook root-use: applied admin-group" in text
    assert before <= note_time(text) <= after
    assert found["Note"]["UpdatedBy"].startswith("arn:aws:")


def test_a_rerun_that_changes_nothing_changes_nothing_in_security_hub(
    hub: Any, cli: Any, sent: list[str]
) -> None:
    """Repro: a no-op rerun imported PASSED and marked RESOLVED again, with a new note."""
    assert root_use(cli, hub, *FIX).code == 0
    recorded = stored()[IN_USE]
    sent.clear()
    again = root_use(cli, hub, *FIX)
    assert again.code == 0, again.err
    assert again.json()["remediation"]["changed"] == 0
    # The findings read, then the current evidence imported: no update.
    assert hub_calls(sent) == ["securityhub:GetFindings", "securityhub:BatchImportFindings"]
    assert again.json()["security_hub"]["resolved"] == 0
    now = stored()[IN_USE]
    assert (now["Workflow"], now["Note"]) == (recorded["Workflow"], recorded["Note"])


def test_a_later_detection_with_the_same_evidence_does_not_reopen(
    hub: Any, cli: Any, sent: list[str]
) -> None:
    """Repro: the next detection imported FAILED over the PASSED finding, Security Hub set it
    back to NEW, and the finding flapped. Root's last use (two days ago) is older than the
    record; a detection the next day sees the same evidence, so this one stands for it."""
    assert root_use(cli, hub, *FIX).code == 0
    recorded = stored()[IN_USE]
    sent.clear()
    r = root_use(cli, hub, "-o", "json")
    assert r.code == 1, r.err  # root was used within --days: detection says so
    assert r.json()["security_hub"]["reopened"] == 0
    now = stored()[IN_USE]
    assert now["Compliance"] == {"Status": "FAILED"}
    assert now["Workflow"] == {"Status": "RESOLVED"}
    assert now["Note"] == recorded["Note"]
    assert "securityhub:BatchUpdateFindings" not in sent


def test_root_use_after_the_remediation_reopens_it_with_the_new_evidence(
    hub: Any, cli: Any, sent: list[str]
) -> None:
    assert root_use(cli, hub, *FIX).code == 0
    recorded = note_time(stored()[IN_USE]["Note"]["Text"])
    wait_past(recorded)
    used = datetime.now(UTC)
    hub.set_root(RootState(password_last_used=used))  # root signs in after the record

    r = root_use(cli, hub, "-o", "json")

    assert r.code == 1, r.err
    assert r.json()["security_hub"]["reopened"] == 1
    found = stored()[IN_USE]
    assert found["Workflow"] == {"Status": "NEW"}
    text = found["Note"]["Text"]
    assert text.startswith("Reopened by remediate at ")
    assert f"the root user was used (password) at {stamp(used)}" in text
    assert f"after the remediation recorded at {stamp(recorded)}" in text
    assert found["Description"].startswith(f"The root user of {ACCOUNT} was used within")
    # Open, and said why once: the same evidence again writes nothing more.
    sent.clear()
    assert root_use(cli, hub).code == 1
    assert "securityhub:BatchUpdateFindings" not in sent
    assert stored()[IN_USE]["Note"]["Text"] == text


def test_a_reopened_finding_stays_open_through_a_rerun_that_changes_nothing(
    hub: Any, cli: Any
) -> None:
    """Root was used after the remediation: a rerun that finds every step in place has done
    nothing new, so the finding stays open with its evidence; a run that changes something
    records itself again."""
    assert root_use(cli, hub, *FIX).code == 0
    wait_past(note_time(stored()[IN_USE]["Note"]["Text"]))
    hub.set_root(RootState(password_last_used=datetime.now(UTC)))
    assert root_use(cli, hub).code == 1
    reopened = stored()[IN_USE]
    assert reopened["Workflow"] == {"Status": "NEW"}

    rerun = root_use(cli, hub, *FIX)
    assert rerun.code == 0, rerun.err
    assert rerun.json()["remediation"]["changed"] == 0
    assert (stored()[IN_USE]["Workflow"], stored()[IN_USE]["Note"]) == (
        reopened["Workflow"],
        reopened["Note"],
    )

    iam = hub.client("iam")
    iam.remove_user_from_group(GroupName="Administrators", UserName="alice")
    fixed = root_use(cli, hub, *FIX)
    assert fixed.code == 0, fixed.err
    assert fixed.json()["remediation"]["changed"] == 1
    assert stored()[IN_USE]["Workflow"] == {"Status": "RESOLVED"}
    assert stored()[IN_USE]["Note"]["Text"].startswith("Remediated by remediate at ")


def test_created_at_and_first_observed_at_stay_as_first_imported(hub: Any, cli: Any) -> None:
    """Repro: CreatedAt was reset to the time of every import (SLAs count from it)."""
    assert root_use(cli, hub).code == 1
    first = stored()
    in_use = first[IN_USE]
    # Root's use was first seen at its last use (two days ago, the evidence), the others now.
    assert parse_time(in_use["FirstObservedAt"]) == parse_time(in_use["LastObservedAt"])
    assert parse_time(in_use["CreatedAt"]) > parse_time(in_use["FirstObservedAt"])
    wait_past(parse_time(in_use["UpdatedAt"]))

    assert root_use(cli, hub, *FIX).code == 0
    assert root_use(cli, hub).code == 1

    after = stored()
    for finding_id in IDS:
        assert after[finding_id]["CreatedAt"] == first[finding_id]["CreatedAt"]
        assert after[finding_id]["FirstObservedAt"] == first[finding_id]["FirstObservedAt"]
        assert parse_time(after[finding_id]["UpdatedAt"]) > parse_time(
            first[finding_id]["UpdatedAt"]
        )


def test_what_security_hub_costs_a_run(hub: Any, cli: Any, sent: list[str]) -> None:
    """One read and one import per account and run (four findings each); one update when a
    remediation first records itself, none after."""
    assert root_use(cli, hub).code == 1
    assert hub_calls(sent) == ["securityhub:GetFindings", "securityhub:BatchImportFindings"]
    sent.clear()
    assert root_use(cli, hub, *FIX).code == 0
    assert hub_calls(sent) == [
        "securityhub:GetFindings",
        "securityhub:BatchImportFindings",
        "securityhub:BatchUpdateFindings",
    ]


def test_findings_that_cannot_be_read_are_imported_with_a_warning(
    hub: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role from an older printed policy, without securityhub:GetFindings: the import goes on
    (exit as detection's), and the run says what it could not keep."""
    from moto.securityhub.exceptions import SecurityHubClientError
    from moto.securityhub.responses import SecurityHubResponse

    def denied(self: Any) -> Any:
        raise SecurityHubClientError(
            "AccessDeniedException", "not authorized to perform: securityhub:GetFindings"
        )

    monkeypatch.setattr(SecurityHubResponse, "get_findings", denied)
    r = root_use(cli, hub, "-o", "json")
    assert r.code == 1, r.err
    doc = r.json()["security_hub"]
    assert doc["imported"] == 4
    assert doc["read_failed"]["code"] == "AccessDeniedException"
    err = " ".join(r.err.split())
    assert "Warning: securityhub:GetFindings failed in account 123456789012" in err
    assert "CreatedAt" in err
    assert "Tip: grant securityhub:GetFindings" in err


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the emulator keeps Security Hub's documented lifecycle ---------------------------------------


def _client(hub: Any) -> Any:
    return hub.client("securityhub")


def _finding(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    verdict = judge_root_use(None, now=now, days=7, account_id=ACCOUNT)
    [template, *_] = asff_findings(check_results(verdict), region=REGION, now=now)
    return {**template, **changes}


def test_an_import_keeps_the_customers_workflow_and_note(hub: Any) -> None:
    """BatchImportFindings cannot change Note, UserDefinedFields, VerificationState or Workflow
    of a finding that exists (user guide: "finding-update-batchimportfindings")."""
    client = _client(hub)
    first = _finding(Compliance={"Status": "FAILED"})
    client.batch_import_findings(Findings=[first])
    ident = {"Id": first["Id"], "ProductArn": first["ProductArn"]}
    client.batch_update_findings(
        FindingIdentifiers=[ident],
        Workflow={"Status": "NOTIFIED"},
        Note={"Text": "told the owner", "UpdatedBy": "analyst"},
        VerificationState="TRUE_POSITIVE",
        UserDefinedFields={"ticket": "SEC-1"},
    )
    later = datetime.now(UTC) + timedelta(seconds=1)
    client.batch_import_findings(
        Findings=[
            _finding(
                Compliance={"Status": "FAILED"},
                UpdatedAt=later.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                Description="updated by the provider",
                Workflow={"Status": "SUPPRESSED"},
                Note={"Text": "provider's", "UpdatedBy": "provider", "UpdatedAt": stamp(later)},
                VerificationState="FALSE_POSITIVE",
            )
        ]
    )
    found = stored()[first["Id"]]
    assert found["Description"] == "updated by the provider"
    assert found["Workflow"] == {"Status": "NOTIFIED"}
    assert (found["Note"]["Text"], found["Note"]["UpdatedBy"]) == ("told the owner", "analyst")
    assert found["VerificationState"] == "TRUE_POSITIVE"
    assert found["UserDefinedFields"] == {"ticket": "SEC-1"}


def test_a_customers_severity_outlives_the_providers_imports(hub: Any) -> None:
    """Severity, Types, Confidence, Criticality and RelatedFindings: the provider's import sets
    them only while no BatchUpdateFindings has."""
    client = _client(hub)
    first = _finding(Compliance={"Status": "FAILED"})
    client.batch_import_findings(Findings=[first])
    client.batch_update_findings(
        FindingIdentifiers=[{"Id": first["Id"], "ProductArn": first["ProductArn"]}],
        Severity={"Label": "LOW"},
    )
    later = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    client.batch_import_findings(
        Findings=[_finding(UpdatedAt=later, Severity={"Label": "CRITICAL", "Original": "9"})]
    )
    assert stored()[first["Id"]]["Severity"]["Label"] == "LOW"


def test_an_import_older_than_the_stored_finding_is_ignored(hub: Any) -> None:
    client = _client(hub)
    now = datetime.now(UTC)
    first = _finding(Description="newer", UpdatedAt=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    client.batch_import_findings(Findings=[first])
    older = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    answer = client.batch_import_findings(Findings=[_finding(Description="old", UpdatedAt=older)])
    assert answer["FailedCount"] == 0
    assert stored()[first["Id"]]["Description"] == "newer"


@pytest.mark.parametrize(
    ("was", "then", "workflow"),
    [
        ({"Compliance": {"Status": "PASSED"}}, {"Compliance": {"Status": "FAILED"}}, "NEW"),
        ({"Compliance": {"Status": "PASSED"}}, {"Compliance": {"Status": "WARNING"}}, "NEW"),
        ({"Compliance": {"Status": "FAILED"}}, {"Compliance": {"Status": "FAILED"}}, "RESOLVED"),
        ({"Compliance": {"Status": "FAILED"}}, {"Compliance": {"Status": "PASSED"}}, "RESOLVED"),
        ({"RecordState": "ARCHIVED"}, {"RecordState": "ACTIVE"}, "NEW"),
    ],
    ids=["passed-failed", "passed-warning", "failed-failed", "failed-passed", "archived-active"],
)
def test_the_workflow_returns_to_new_only_as_documented(
    hub: Any, was: dict[str, Any], then: dict[str, Any], workflow: str
) -> None:
    """User guide, "Setting the workflow status of findings": RESOLVED (or NOTIFIED) goes back
    to NEW when RecordState turns ARCHIVED to ACTIVE or Compliance.Status leaves PASSED."""
    client = _client(hub)
    first = _finding(**was)
    client.batch_import_findings(Findings=[first])
    client.batch_update_findings(
        FindingIdentifiers=[{"Id": first["Id"], "ProductArn": first["ProductArn"]}],
        Workflow={"Status": "RESOLVED"},
    )
    later = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    client.batch_import_findings(Findings=[_finding(UpdatedAt=later, **then)])
    assert stored()[first["Id"]]["Workflow"] == {"Status": workflow}


def test_get_findings_filters_as_documented(hub: Any, cli: Any) -> None:
    assert root_use(cli, hub).code == 1
    client = _client(hub)
    product = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    wanted = [f"remediate/{ACCOUNT}/root-user-in-use", f"remediate/{ACCOUNT}/root-mfa-not-active"]
    answer = client.get_findings(
        Filters={
            "ProductArn": [{"Value": product, "Comparison": "EQUALS"}],
            "Id": [{"Value": i, "Comparison": "EQUALS"} for i in wanted],
        },
        MaxResults=100,
    )
    assert sorted(f["Id"] for f in answer["Findings"]) == sorted(wanted)
    prefixed = client.get_findings(
        Filters={"Id": [{"Value": f"remediate/{ACCOUNT}/root-", "Comparison": "PREFIX"}]}
    )
    assert len(prefixed["Findings"]) == 4
    other = client.get_findings(
        Filters={
            "ProductArn": [
                {"Value": product.replace(ACCOUNT, "999999999999"), "Comparison": "EQUALS"}
            ]
        }
    )
    assert other["Findings"] == []
    # "For each attribute, you can provide up to 20 filter values" (AwsSecurityFindingFilters).
    with pytest.raises(ClientError) as caught:
        client.get_findings(
            Filters={"Id": [{"Value": str(i), "Comparison": "EQUALS"} for i in range(21)]}
        )
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"


def test_get_findings_needs_security_hub_enabled(moto: Any) -> None:
    with pytest.raises(ClientError) as caught:
        moto.client("securityhub").get_findings()
    assert caught.value.response["Error"]["Code"] == "InvalidAccessException"
