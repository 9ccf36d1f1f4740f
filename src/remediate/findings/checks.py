"""Checks and their results per account: the common ground of the ASFF and OCSF documents.

A check is something the root user of every account should satisfy; its result in one account
is FAILED, PASSED or NOT_AVAILABLE (the credential report does not show the fact). Every check
yields a result in every account with a verdict, passing ones included, so that a rerun after a
fix updates the finding it raised before instead of leaving it standing. The hygiene checks are
the root hygiene findings of remediate.detect.findings, under the same stable ids.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from remediate.detect import findings as hygiene
from remediate.detect.activity import coverage, summarize
from remediate.detect.findings import Severity

if TYPE_CHECKING:
    from remediate.detect.activity import RootEvent
    from remediate.detect.judge import Verdict

Status = Literal["FAILED", "PASSED", "NOT_AVAILABLE"]
FAILED: Status = "FAILED"
PASSED: Status = "PASSED"
NOT_AVAILABLE: Status = "NOT_AVAILABLE"

ROOT_USER_IN_USE = "root-user-in-use"
CIS = (
    "Software and Configuration Checks/Industry and Regulatory Standards/"
    "CIS AWS Foundations Benchmark"
)
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide"

ROOT_USE_REMEDIATION = (
    "Create an administrator to use instead of the root user, with MFA: `remediate root-use "
    "--create-admin NAME`; then keep root's credentials away from daily work (or, in an AWS "
    "Organizations member account, delete them: `remediate root-credentials delete`)."
)


@dataclass(frozen=True)
class Check:
    """What should hold for the root user of every account; ``severity`` is the severity of a
    failure."""

    id: str
    title: str
    severity: Severity
    remediation: str
    url: str


CHECKS: tuple[Check, ...] = (
    Check(
        ROOT_USER_IN_USE,
        "The root user should not be used",
        Severity.HIGH,
        ROOT_USE_REMEDIATION,
        f"{IAM_GUIDE}/root-user-best-practices.html",
    ),
    Check(
        hygiene.ROOT_ACCESS_KEYS_ACTIVE,
        "The root user should have no active access keys",
        Severity.CRITICAL,
        hygiene.KEYS_REMEDIATION,
        f"{IAM_GUIDE}/id_root-user_manage_delete-key.html",
    ),
    Check(
        hygiene.ROOT_MFA_NOT_ACTIVE,
        "The root user should have an active MFA device",
        Severity.HIGH,
        hygiene.MFA_REMEDIATION,
        f"{IAM_GUIDE}/enable-mfa-for-root.html",
    ),
    Check(
        hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE,
        "The root user should have no active signing certificates",
        Severity.MEDIUM,
        hygiene.CERTIFICATES_REMEDIATION,
        f"{IAM_GUIDE}/id_root-user.html",
    ),
)
TYPES = (CIS, BEST_PRACTICES)

# Root activity watched (`remediate root-activity status`): the same model, their own ids;
# remediate.findings.root_activity judges them.
ROOT_ACTIVITY_NOT_MONITORED = "root-activity-not-monitored"
NO_MULTI_REGION_MANAGEMENT_TRAIL = "no-multi-region-management-trail"
ROOT_NOT_DENIED_BY_SCP = "root-not-denied-by-scp"
ROOT_ACTIVITY_SUBSCRIPTION_PENDING = "root-activity-subscription-pending"
_HUB_GUIDE = "https://docs.aws.amazon.com/securityhub/latest/userguide"
ROOT_ACTIVITY_CHECKS: tuple[Check, ...] = (
    Check(
        ROOT_ACTIVITY_NOT_MONITORED,
        "Use of the root user should reach people within minutes",
        Severity.HIGH,
        "Notify on every root sign-in and API call: `remediate root-activity watch --notify "
        "EMAIL` (EventBridge rules in every enabled region, an SNS topic; --cis-alarm adds the "
        "CIS metric filter and alarm).",
        f"{_HUB_GUIDE}/cloudwatch-controls.html#cloudwatch-1",
    ),
    Check(
        NO_MULTI_REGION_MANAGEMENT_TRAIL,
        "A multi-region trail should log management events",
        Severity.HIGH,
        "Create a multi-region CloudTrail trail that logs management events (read and write): "
        "without one, root's API calls reach neither EventBridge nor a log group.",
        f"{_HUB_GUIDE}/cloudtrail-controls.html#cloudtrail-1",
    ),
    Check(
        ROOT_NOT_DENIED_BY_SCP,
        "The root user of a member account should be denied by a service control policy",
        Severity.MEDIUM,
        "From the management account: `remediate root-credentials deny-root --yes` (an SCP "
        "denying every action to member accounts' root users, attached to the organization "
        "root). SCPs never apply to the management account: watch it instead.",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html",
    ),
    Check(
        ROOT_ACTIVITY_SUBSCRIPTION_PENDING,
        "Every subscription to root activity notifications should be confirmed",
        Severity.LOW,
        "Each recipient confirms with the link in the e-mail from AWS Notifications; until "
        "then nothing reaches them. To send it again, unsubscribe the address and rerun "
        "`remediate root-activity watch --notify EMAIL`.",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html",
    ),
)


@dataclass(frozen=True)
class CheckResult:
    """One check in one account: the finding a security team sees."""

    check: Check
    account_id: str
    partition: str
    status: Status
    description: str
    observed_at: datetime | None = None  # the root user's most recent use, where it applies
    # Closed by this run's remediation: said beside the result (OCSF's status, Security Hub's
    # workflow), never in place of it.
    resolved: bool = False
    events: tuple[RootEvent, ...] = ()  # CloudTrail's evidence, newest first
    # A failed check's newest evidence, when and in words: root's last use; for a hygiene check,
    # the credential report that shows the problem (remediate.findings.workflow reopens with it).
    evidence_at: datetime | None = None
    evidence_text: str = ""

    @property
    def uid(self) -> str:
        """Deterministic per account and check: a rerun updates the finding, never adds one."""
        return f"remediate/{self.account_id}/{self.check.id}"

    @property
    def severity(self) -> Severity:
        """The check's severity when it failed; informational otherwise (as Security Hub rates
        passed controls)."""
        return self.check.severity if self.status == FAILED else Severity.INFORMATIONAL

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"


def _partition(verdict: Verdict) -> str:
    arn = verdict.root_arn or ""
    return arn.split(":")[1] if arn.startswith("arn:") and arn.count(":") >= 2 else "aws"


def _root_use(verdict: Verdict, check: Check, account: str, resolved: bool) -> CheckResult:
    days = verdict.window_days
    window = f"the last {days} day{'s' * (days != 1)}"
    events = verdict.cloudtrail.events if verdict.cloudtrail is not None else ()
    partition = _partition(verdict)
    if verdict.root_in_use is None:
        why = verdict.notes[0] if verdict.notes else "no credential report row for root."
        return CheckResult(
            check,
            account,
            partition,
            NOT_AVAILABLE,
            f"Root use in {account} cannot be determined: {why}",
            resolved=resolved,
        )
    if not verdict.root_in_use:
        text = f"The root user of {account} was not used within {window}"
        if verdict.cloudtrail is not None:
            text += "; " + _cloudtrail_text(verdict)
        return CheckResult(
            check, account, partition, PASSED, text + ".", verdict.last_used, resolved=resolved
        )
    parts = [f"The root user of {account} was used within {window}"]
    if verdict.last_used is not None:
        parts.append(f"last at {verdict.last_used.isoformat()}")
    if verdict.evidence:
        parts.append("credentials: " + ", ".join(e.credential for e in verdict.evidence))
    if verdict.cloudtrail is not None:
        parts.append(_cloudtrail_text(verdict))
    return CheckResult(
        check,
        account,
        partition,
        FAILED,
        "; ".join(parts) + ".",
        verdict.last_used,
        resolved=resolved,
        events=events,
        evidence_at=verdict.last_used,
        evidence_text=_use_words(verdict),
    )


def _use_words(verdict: Verdict) -> str:
    """How root's newest use shows: the credentials last used then, or CloudTrail's event."""
    newest = verdict.last_used
    how = [e.credential for e in verdict.evidence if newest is not None and e.last_used == newest]
    events = verdict.cloudtrail.used if verdict.cloudtrail is not None else ()
    if events and events[0].event_time == newest:
        e = events[0]
        where = f" from {e.source_ip}" if e.source_ip else ""
        how.append(f"CloudTrail {e.action} in {e.region}{where}")
    return "the root user was used" + (f" ({', '.join(how)})" if how else "")


def _cloudtrail_text(verdict: Verdict) -> str:
    """CloudTrail's evidence in a finding: which regions were read (and which not), then what
    root did there."""
    evidence = verdict.cloudtrail
    assert evidence is not None
    events = evidence.events
    n = len(events)
    text = f"CloudTrail ({coverage(evidence)}): "
    if not events:
        return text + "no root events in the regions read"
    text += f"{n} root event{'s' * (n != 1)}"
    summary = summarize(events)
    writes = len(summary.writes)
    text += f", {writes} write action{'s' * (writes != 1)} in the regions read"
    if summary.last_sign_in is not None:
        sign_in = summary.last_sign_in
        mfa = {True: "with MFA", False: "without MFA", None: "MFA not recorded"}
        text += (
            f", last console sign-in {sign_in.event_time.isoformat()} from "
            f"{sign_in.source_ip or 'an unknown address'} ({mfa[sign_in.mfa_used]})"
        )
    return text


# What each hygiene check's passing state reads as, and the fact it depends on.
_PASSED_TEXT = {
    hygiene.ROOT_ACCESS_KEYS_ACTIVE: "The root user has no active access keys.",
    hygiene.ROOT_MFA_NOT_ACTIVE: "The root user has an active MFA device.",
    hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE: "The root user has no active signing certificates.",
}


def _known(verdict: Verdict, check_id: str) -> bool:
    fact = {
        hygiene.ROOT_ACCESS_KEYS_ACTIVE: verdict.root_access_keys_active,
        hygiene.ROOT_MFA_NOT_ACTIVE: verdict.root_mfa_active,
        hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE: verdict.root_signing_certificates_active,
    }[check_id]
    return fact is not None


def check_results(verdict: Verdict, *, resolved: Collection[str] = ()) -> list[CheckResult]:
    """Every check's result for the verdict's account (none without an account id), as
    detection measured it. ``resolved``: ids of checks this run's remediation closed, marked
    as such beside the result (the result itself is still the measurement)."""
    account = verdict.account_id
    if account is None:
        return []
    partition = _partition(verdict)
    failing = {f.id: f for f in verdict.findings}
    results: list[CheckResult] = []
    for check in CHECKS:
        closed = check.id in resolved
        if check.id == ROOT_USER_IN_USE:
            results.append(_root_use(verdict, check, account, closed))
        elif check.id in failing:
            title = failing[check.id].title
            shown = verdict.report_generated_at
            results.append(
                CheckResult(
                    check,
                    account,
                    partition,
                    FAILED,
                    title + ".",
                    resolved=closed,
                    evidence_at=shown,
                    # Followed by " at <time>" in a reopening note.
                    evidence_text=(
                        f"{title[0].lower()}{title[1:]} in the credential report generated"
                    ),
                )
            )
        elif _known(verdict, check.id):
            text = _PASSED_TEXT[check.id]
            if check.id == hygiene.ROOT_MFA_NOT_ACTIVE and not verdict.root_mfa_active:
                text = "The root user has no console password: there is nothing for MFA to guard."
            results.append(CheckResult(check, account, partition, PASSED, text, resolved=closed))
        else:
            results.append(
                CheckResult(
                    check,
                    account,
                    partition,
                    NOT_AVAILABLE,
                    "The credential report does not show this for the root user.",
                    resolved=closed,
                )
            )
    return results
