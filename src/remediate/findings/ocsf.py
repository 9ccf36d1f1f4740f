"""Check results as OCSF Detection Findings (class 2004), the class Prowler writes, so a lake that
reads Prowler's OCSF output reads these too.

Built with py-ocsf-models, the OCSF model library Prowler maintains: its pydantic models check
every field's type, required attribute and enumeration as the document is built, and follow the
schema version it targets, which hand-written dictionaries would not. It pulls in pydantic (half
a second to import), so it is imported only here, and this module only when OCSF is asked for.

Mapping: ``status_code`` is PASS, FAIL or MANUAL (Prowler's words; MANUAL where the credential
report does not show the fact), ``status_id`` New; a finding this run's remediation closed is
activity Close, status Resolved. Times are OCSF timestamps (milliseconds since the epoch) with
their ``_dt`` twins. CloudTrail's root events are the finding's evidences (the newest
:data:`MAX_EVIDENCES`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from remediate import __version__
from remediate.findings.checks import FAILED, NOT_AVAILABLE, TYPES, CheckResult

MAX_EVIDENCES = 20
_STATUS_CODE = {FAILED: "FAIL", NOT_AVAILABLE: "MANUAL"}


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _evidences(result: CheckResult) -> list[Any] | None:
    from py_ocsf_models.objects.api import API
    from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
    from py_ocsf_models.objects.group import Group

    if not result.events:
        return None
    return [
        EvidenceArtifacts(
            name=e.action,
            api=API(operation=e.event_name, group=Group(name=e.event_source)),
            data={
                "source": "cloudtrail",
                "event_id": e.event_id,
                "event_time": e.event_time.isoformat(),
                "region": e.region,
                "source_ip": e.source_ip,
                "user_agent": e.user_agent,
                "mfa_used": e.mfa_used,
                "read_only": e.read_only,
                "error_code": e.error_code,
            },
        )
        for e in result.events[:MAX_EVIDENCES]
    ]


def ocsf_finding(result: CheckResult, *, region: str, now: datetime) -> Any:
    """One check result as a py-ocsf-models DetectionFinding (validated as it is built)."""
    from py_ocsf_models.events.findings.activity_id import ActivityID
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding
    from py_ocsf_models.events.findings.detection_finding_type_id import DetectionFindingTypeID
    from py_ocsf_models.events.findings.severity_id import SeverityID
    from py_ocsf_models.events.findings.status_id import StatusID
    from py_ocsf_models.objects.account import Account, TypeID
    from py_ocsf_models.objects.cloud import Cloud
    from py_ocsf_models.objects.finding_info import FindingInformation
    from py_ocsf_models.objects.group import Group
    from py_ocsf_models.objects.metadata import Metadata
    from py_ocsf_models.objects.product import Product
    from py_ocsf_models.objects.remediation import Remediation
    from py_ocsf_models.objects.resource_details import ResourceDetails

    check = result.check
    activity = ActivityID.Close if result.resolved else ActivityID.Create
    kind = DetectionFindingTypeID.Close if result.resolved else DetectionFindingTypeID.Create
    status = StatusID.Resolved if result.resolved else StatusID.New
    severity = SeverityID[result.severity.value.capitalize()]
    seen = result.observed_at
    return DetectionFinding(
        activity_id=activity,
        activity_name=activity.name,
        type_uid=kind,
        type_name=f"Detection Finding: {kind.name}",
        time=_ms(now),
        time_dt=now,
        severity_id=severity,
        severity=severity.name,
        status_id=status,
        status=status.name,
        status_code=_STATUS_CODE.get(result.status, "PASS"),
        status_detail=result.description,
        message=result.description,
        finding_info=FindingInformation(
            uid=result.uid,
            title=check.title,
            desc=result.description,
            types=list(TYPES),
            created_time=_ms(now),
            created_time_dt=now,
            last_seen_time=_ms(seen) if seen is not None else None,
            last_seen_time_dt=seen,
        ),
        metadata=Metadata(
            event_code=check.id,
            product=Product(
                name="remediate", uid="remediate", vendor_name="remediate", version=__version__
            ),
            profiles=["cloud", "datetime"],
        ),
        cloud=Cloud(
            provider="aws",
            region=region,
            account=Account(
                name=result.account_id,
                uid=result.account_id,
                type_id=TypeID.AWS_Account,
                type="AWS Account",
            ),
        ),
        resources=[
            ResourceDetails(
                uid=result.root_arn,
                name="root",
                type="AwsAccount",
                group=Group(name="iam"),
                cloud_partition=result.partition,
                region=region,
            )
        ],
        remediation=Remediation(desc=check.remediation, references=[check.url]),
        evidences=_evidences(result),
        unmapped={"compliance_status": result.status, "check_id": check.id},
    )


def ocsf_findings(
    results: Iterable[CheckResult], *, region: str, now: datetime
) -> list[dict[str, Any]]:  # JSON out, as py-ocsf-models' model_dump gives it
    """The findings as JSON-ready OCSF documents (None fields left out, as Prowler writes)."""
    return [
        ocsf_finding(result, region=region, now=now).model_dump(mode="json", exclude_none=True)
        for result in results
    ]
