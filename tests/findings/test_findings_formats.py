"""Findings where security teams look: check results, ASFF documents validated against the
format's required fields (written out here from the Security Hub user guide, not taken from the
product), and OCSF documents validated with the model library itself."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from remediate.detect.activity import CloudTrailEvidence, RootEvent
from remediate.detect.findings import root_hygiene
from remediate.detect.judge import apply_cloudtrail, judge_root_use
from remediate.detect.report import parse_credential_report
from remediate.findings.asff import asff_findings
from remediate.findings.checks import CHECKS, check_results
from remediate.sandbox.server import RootState, root_row_csv
from support.reportformat import DOCUMENTED_HEADER

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=UTC)
HEADER = DOCUMENTED_HEADER + "\n"

# "Required top-level ASFF attributes" (AWS Security Hub user guide).
ASFF_REQUIRED = {
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Severity",
    "Title",
    "Types",
    "UpdatedAt",
}
# ASFF's finding type namespaces (namespace/category/classifier).
TYPE_NAMESPACES = {
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
}
SEVERITY_LABELS = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
COMPLIANCE_STATUSES = {"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}
# The API reference's timestamp forms (Z or an offset, up to 9 fraction digits).
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)")
PRODUCT_ARN = re.compile(r"arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12}):product/(\d{12})/default")


def verdict(state: RootState | None, *, days: int = 7) -> Any:
    if state is None:
        return judge_root_use(None, now=NOW, days=days, account_id=ACCOUNT)
    report = parse_credential_report((HEADER + root_row_csv(ACCOUNT, state)).encode(), NOW)
    return judge_root_use(report, now=NOW, days=days, account_id=ACCOUNT)


ALL_BAD = RootState(
    password_last_used=NOW - timedelta(days=1),
    key_1_active=True,
    key_1_last_used=NOW - timedelta(days=2),
    cert_1_active=True,
)
ALL_GOOD = RootState(password_last_used=NOW - timedelta(days=60), mfa_active=True)


def all_bad_now() -> RootState:
    """ALL_BAD dated from the real clock, for the CLI, which judges a report by that clock."""
    now = datetime.now(UTC)
    return dataclasses.replace(
        ALL_BAD, password_last_used=now - timedelta(days=1), key_1_last_used=now - timedelta(days=2)
    )


def assert_valid_asff(finding: dict[str, Any]) -> None:
    """A finding as the ASFF reference describes it."""
    missing = {k for k in ASFF_REQUIRED if finding.get(k) in (None, "", [], {})}
    assert not missing, missing
    assert finding["SchemaVersion"] == "2018-10-08"
    assert re.fullmatch(r"\d{12}", finding["AwsAccountId"])
    arn = PRODUCT_ARN.fullmatch(finding["ProductArn"])
    assert arn is not None, finding["ProductArn"]
    assert arn.group(1) == arn.group(2) == finding["AwsAccountId"]
    for stamp in ("CreatedAt", "UpdatedAt", "LastObservedAt"):
        if stamp in finding:
            assert TIMESTAMP.fullmatch(finding[stamp]), finding[stamp]
    for kind in finding["Types"]:
        parts = kind.split("/")
        assert 1 <= len(parts) <= 3
        assert parts[0] in TYPE_NAMESPACES
    assert finding["Severity"]["Label"] in SEVERITY_LABELS
    assert 1 <= len(finding["Title"]) <= 256
    assert 1 <= len(finding["Description"]) <= 1024
    assert 1 <= len(finding["Id"]) <= 512
    recommendation = finding["Remediation"]["Recommendation"]
    assert 1 <= len(recommendation["Text"]) <= 512
    assert recommendation["Url"].startswith("https://docs.aws.amazon.com/")
    assert finding["Compliance"]["Status"] in COMPLIANCE_STATUSES
    [resource] = finding["Resources"]
    assert resource == {
        "Type": "AwsAccount",
        "Id": f"AWS::::Account:{finding['AwsAccountId']}",
        "Partition": "aws",
        "Region": resource["Region"],
    }
    # A finding provider never sets the workflow: Security Hub does.
    assert "Workflow" not in finding
    assert "WorkflowState" not in finding


def assert_botocore_accepts(findings: list[dict[str, Any]]) -> None:
    """botocore's validation of BatchImportFindings' input, from Security Hub's service model."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": findings}, shape)
    assert not report.has_errors(), report.generate_report()


# --- check results -------------------------------------------------------------------------------


def test_every_check_has_a_result_in_every_state() -> None:
    bad = {r.check.id: r for r in check_results(verdict(ALL_BAD))}
    assert list(bad) == [c.id for c in CHECKS]
    assert {i: r.status for i, r in bad.items()} == {
        "root-user-in-use": "FAILED",
        "root-access-keys-active": "FAILED",
        "root-mfa-not-active": "FAILED",
        "root-signing-certificates-active": "FAILED",
    }
    good = check_results(verdict(ALL_GOOD))
    assert {r.status for r in good} == {"PASSED"}
    assert {r.severity.value for r in good} == {"INFORMATIONAL"}
    unknown = check_results(verdict(None))
    assert {r.status for r in unknown} == {"NOT_AVAILABLE"}


def test_failed_severities_are_the_hygiene_findings_own() -> None:
    findings = root_hygiene(mfa_active=False, access_keys_active=1, signing_certificates_active=1)
    by_id = {c.id: c for c in CHECKS}
    for f in findings:
        assert by_id[f.id].severity == f.severity
    assert by_id["root-user-in-use"].severity.value == "HIGH"


def test_ids_are_deterministic_per_account_and_check() -> None:
    first = [r.uid for r in check_results(verdict(ALL_BAD))]
    again = [r.uid for r in check_results(verdict(ALL_GOOD))]
    assert first == again
    assert first[0] == f"remediate/{ACCOUNT}/root-user-in-use"
    assert len(set(first)) == len(first)


def test_resolved_checks_keep_what_detection_measured() -> None:
    """A remediation is said beside the result, never in place of it (issue 20: a finding
    says what detection measured, not what a run did)."""
    measured = {r.check.id: r for r in check_results(verdict(ALL_BAD))}
    results = {
        r.check.id: r
        for r in check_results(
            verdict(ALL_BAD), resolved={"root-user-in-use", "root-access-keys-active"}
        )
    }
    for check_id in ("root-user-in-use", "root-access-keys-active"):
        assert results[check_id].resolved
        assert results[check_id].status == "FAILED"
        assert results[check_id] == dataclasses.replace(measured[check_id], resolved=True)
    assert not results["root-mfa-not-active"].resolved  # not what the run fixed


def test_no_account_no_findings() -> None:
    anonymous = judge_root_use(None, now=NOW, days=7)
    assert check_results(anonymous) == []


# --- ASFF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [ALL_BAD, ALL_GOOD, None], ids=["bad", "good", "no-root-row"])
def test_asff_documents_validate(state: RootState | None) -> None:
    findings = asff_findings(check_results(verdict(state)), region="eu-west-1", now=NOW)
    assert len(findings) == 4
    for finding in findings:
        assert_valid_asff(finding)
        assert finding["ProductArn"].startswith("arn:aws:securityhub:eu-west-1:")
        assert finding["CreatedAt"] == "2026-11-29T12:00:00.123Z"
    assert_botocore_accepts(findings)


def test_asff_carries_the_verdict() -> None:
    in_use = asff_findings(check_results(verdict(ALL_BAD)), region="us-east-1", now=NOW)[0]
    assert in_use["Compliance"] == {"Status": "FAILED"}
    assert in_use["Severity"] == {"Label": "HIGH", "Original": "HIGH"}
    assert in_use["FindingProviderFields"]["Severity"] == in_use["Severity"]
    assert in_use["LastObservedAt"] == "2026-11-28T12:00:00.000Z"
    assert "credentials: password, access_key_1" in in_use["Description"]
    keys = asff_findings(check_results(verdict(ALL_BAD)), region="us-east-1", now=NOW)[1]
    assert keys["Severity"]["Label"] == "CRITICAL"
    assert keys["Title"] == "The root user should have no active access keys"


def test_asff_keeps_the_times_security_hub_holds() -> None:
    from remediate.findings.asff import Times

    results = check_results(verdict(ALL_BAD))
    fresh = asff_findings(results, region="us-east-1", now=NOW)[0]
    # First seen: root's last use (the evidence), created now.
    assert fresh["FirstObservedAt"] == fresh["LastObservedAt"] == "2026-11-28T12:00:00.000Z"
    assert fresh["CreatedAt"] == "2026-11-29T12:00:00.123Z"
    uid = results[0].uid
    kept = {uid: Times("2026-10-01T00:00:00.000Z", "2026-09-30T00:00:00.000Z", None)}
    again = asff_findings(results, region="us-east-1", now=NOW, kept=kept)[0]
    assert (again["CreatedAt"], again["FirstObservedAt"]) == (
        "2026-10-01T00:00:00.000Z",
        "2026-09-30T00:00:00.000Z",
    )
    assert again["UpdatedAt"] == "2026-11-29T12:00:00.123Z"
    # A stored UpdatedAt ahead of this clock: just after it, or Security Hub ignores the import.
    ahead = {uid: Times(None, None, "2026-11-29T12:05:00.000Z")}
    assert asff_findings(results, region="us-east-1", now=NOW, kept=ahead)[0]["UpdatedAt"] == (
        "2026-11-29T12:05:00.001Z"
    )


def test_long_text_is_clipped_to_the_formats_limits() -> None:
    events = tuple(
        RootEvent(
            NOW - timedelta(minutes=i),
            "ConsoleLogin",
            "signin.amazonaws.com",
            "us-east-1",
            "203.0.113." + "9" * 900,
            "x",
            False,
            str(i),
            read_only=False,
        )
        for i in range(3)
    )
    evidence = CloudTrailEvidence(NOW - timedelta(days=7), NOW, ("us-east-1",), events)
    judged = apply_cloudtrail(verdict(ALL_BAD), evidence)
    [finding, *_] = asff_findings(check_results(judged), region="us-east-1", now=NOW)
    assert len(finding["Description"]) == 1024
    assert finding["Description"].endswith("\u2026")
    assert_valid_asff(finding)


# --- OCSF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [ALL_BAD, ALL_GOOD, None], ids=["bad", "good", "no-root-row"])
def test_ocsf_documents_validate_with_the_model_library(state: RootState | None) -> None:
    from py_ocsf_models import OCSF_VERSION
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    from remediate.findings.ocsf import ocsf_findings

    documents = ocsf_findings(check_results(verdict(state)), region="us-east-1", now=NOW)
    assert len(documents) == 4
    for document in json.loads(json.dumps(documents)):  # as a reader of the JSON gets them
        model = DetectionFinding.model_validate(document)
        assert model.model_dump(mode="json", exclude_none=True) == document
        assert document["class_uid"] == 2004
        assert document["category_uid"] == 2
        assert document["type_uid"] == document["class_uid"] * 100 + document["activity_id"]
        assert document["metadata"]["version"] == OCSF_VERSION == "1.5.0"
        assert document["cloud"]["account"]["uid"] == ACCOUNT
        assert document["time"] == int(NOW.timestamp() * 1000)  # OCSF times are milliseconds


def test_ocsf_statuses_and_severities() -> None:
    from remediate.findings.ocsf import ocsf_findings

    bad = ocsf_findings(check_results(verdict(ALL_BAD)), region="us-east-1", now=NOW)
    assert [d["status_code"] for d in bad] == ["FAIL"] * 4
    assert [d["severity"] for d in bad] == ["High", "Critical", "High", "Medium"]
    assert [d["finding_info"]["uid"] for d in bad] == [
        f"remediate/{ACCOUNT}/{c.id}" for c in CHECKS
    ]
    unknown = ocsf_findings(check_results(verdict(None)), region="us-east-1", now=NOW)
    assert {d["status_code"] for d in unknown} == {"MANUAL"}
    resolved = ocsf_findings(
        check_results(verdict(ALL_BAD), resolved={"root-user-in-use"}),
        region="us-east-1",
        now=NOW,
    )[0]
    # Still failed as measured; the finding closed by the run's remediation.
    assert (resolved["status_code"], resolved["status"], resolved["activity_name"]) == (
        "FAIL",
        "Resolved",
        "Close",
    )
    assert resolved["type_uid"] == 200403


def test_ocsf_evidences_are_root_events() -> None:
    from remediate.findings.ocsf import MAX_EVIDENCES, ocsf_findings

    events = tuple(
        RootEvent(
            NOW - timedelta(minutes=i),
            "DescribeInstances",
            "ec2.amazonaws.com",
            "eu-west-1",
            "203.0.113.10",
            "aws-cli/2",
            None,
            f"id-{i}",
            read_only=True,
        )
        for i in range(MAX_EVIDENCES + 5)
    )
    evidence = CloudTrailEvidence(NOW - timedelta(days=7), NOW, ("eu-west-1",), events)
    judged = apply_cloudtrail(verdict(ALL_GOOD), evidence)
    [in_use, *_] = ocsf_findings(check_results(judged), region="us-east-1", now=NOW)
    assert in_use["status_code"] == "FAIL"
    assert len(in_use["evidences"]) == MAX_EVIDENCES
    first = in_use["evidences"][0]
    assert first["api"]["operation"] == "DescribeInstances"
    assert first["data"]["source_ip"] == "203.0.113.10"
    assert first["data"]["event_id"] == "id-0"


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("fmt", ["asff", "ocsf"])
def test_output_prints_one_json_list_on_stdout(moto: Any, cli: Any, fmt: str) -> None:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--output", fmt)
    assert r.code == 1, r.err  # the exit code is detection's, whatever the format
    documents = json.loads(r.out)
    assert isinstance(documents, list)
    assert len(documents) == 4
    if fmt == "asff":
        for finding in documents:
            assert_valid_asff(finding)
        assert documents[0]["Compliance"]["Status"] == "FAILED"
    else:
        assert documents[0]["status_code"] == "FAIL"


@pytest.mark.e2e
def test_across_accounts_every_judged_account(moto: Any, org: Any, cli: Any) -> None:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--all-accounts", "-o", "asff")
    documents = json.loads(r.out)
    judged = {d["AwsAccountId"] for d in documents}
    assert org.id("locked") not in judged  # could not be judged: no findings
    assert {org.id("quiet"), org.id("key"), ACCOUNT} <= judged
    assert len(documents) == 4 * len(judged)
    for finding in documents:
        assert_valid_asff(finding)


def test_from_a_credential_report_file(tmp_path: Path, cli: Any) -> None:
    report = tmp_path / "report.csv"
    report.write_text(HEADER + root_row_csv(ACCOUNT, all_bad_now()))
    r = cli("root-use", "--credential-report", str(report), "-o", "asff")
    assert r.code == 1, r.err
    documents = json.loads(r.out)
    assert {d["Compliance"]["Status"] for d in documents} == {"FAILED"}
    assert documents[0]["ProductArn"].startswith("arn:aws:securityhub:us-east-1:")


def _imports_after(*args: str) -> bool:
    """Whether pydantic is imported after running the CLI with ``args`` in a fresh process."""
    code = (
        "import sys\nfrom remediate.cli import run\n"
        f"run({list(args)!r})\nprint('pydantic' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    return result.stdout.strip().splitlines()[-1] == "True"


def test_detection_does_not_pay_for_pydantic(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_text(HEADER + root_row_csv(ACCOUNT, all_bad_now()))
    assert not _imports_after("--help")
    assert not _imports_after("root-use", "--help")
    assert not _imports_after("root-use", "--credential-report", str(report), "-o", "json")
    assert not _imports_after("root-use", "--credential-report", str(report), "-o", "asff")
    assert _imports_after("root-use", "--credential-report", str(report), "-o", "ocsf")


# --- the registry of formats ---------------------------------------------------------------------


def test_every_registered_format_builds_one_document_per_check_result() -> None:
    from remediate.findings.export import documents
    from remediate.findings.formats import FORMATS

    v = verdict(ALL_BAD)
    for name in FORMATS:
        built = documents(name, [(v, ())], region="us-east-1", now=NOW)
        assert len(built) == len(CHECKS), name
        json.dumps(built)  # a JSON list, as printed


def test_the_command_line_offers_the_registered_formats() -> None:
    """root-use --output: text, json, and each registered format, by its name and title."""
    from remediate.cli import options
    from remediate.findings.formats import FORMATS

    assert [o.value for o in options.RootUseOutput] == ["text", "json", *FORMATS]
    help_text = options.RootUseOutputFormat.__metadata__[0].help
    for f in FORMATS.values():
        assert f"{f.name} ({f.title})" in help_text
