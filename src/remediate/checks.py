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
from remediate.detect.findings import Severity

if TYPE_CHECKING:
    from remediate.cloudtrail import RootEvent
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


@dataclass(frozen=True)
class CheckResult:
    """One check in one account: the finding a security team sees."""

    check: Check
    account_id: str
    partition: str
    status: Status
    description: str
    observed_at: datetime | None = None  # the root user's most recent use, where it applies
    resolved: bool = False  # closed by this run's remediation
    events: tuple[RootEvent, ...] = ()  # CloudTrail's evidence, newest first

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
    if resolved:
        return CheckResult(
            check,
            account,
            partition,
            PASSED,
            f"Remediated: an administrator to use instead of the root user of {account} was "
            "created (remediate root-use --create-admin)"
            + (
                f"; root was last used {verdict.last_used.isoformat()}."
                if verdict.last_used
                else "."
            ),
            verdict.last_used,
            resolved=True,
            events=events,
        )
    if verdict.root_in_use is None:
        why = verdict.notes[0] if verdict.notes else "no credential report row for root."
        return CheckResult(
            check,
            account,
            partition,
            NOT_AVAILABLE,
            f"Root use in {account} cannot be determined: {why}",
        )
    if not verdict.root_in_use:
        return CheckResult(
            check,
            account,
            partition,
            PASSED,
            f"The root user of {account} was not used within {window}.",
            verdict.last_used,
        )
    parts = [f"The root user of {account} was used within {window}"]
    if verdict.last_used is not None:
        parts.append(f"last at {verdict.last_used.isoformat()}")
    if verdict.evidence:
        parts.append("credentials: " + ", ".join(e.credential for e in verdict.evidence))
    if verdict.cloudtrail is not None and events:
        from remediate.cloudtrail import summarize

        summary = summarize(events)
        text = f"CloudTrail: {len(events)} root events in {', '.join(verdict.cloudtrail.regions)}"
        if summary.writes:
            n = len(summary.writes)
            text += f", {n} write action{'s' * (n != 1)}"
        if summary.last_sign_in is not None:
            sign_in = summary.last_sign_in
            mfa = {True: "with MFA", False: "without MFA", None: "MFA not recorded"}
            text += (
                f", last console sign-in {sign_in.event_time.isoformat()} from "
                f"{sign_in.source_ip or 'an unknown address'} ({mfa[sign_in.mfa_used]})"
            )
        parts.append(text)
    return CheckResult(
        check,
        account,
        partition,
        FAILED,
        "; ".join(parts) + ".",
        verdict.last_used,
        events=events,
    )


# What each hygiene check's passing state reads as, and the fact it depends on.
_PASSED_TEXT = {
    hygiene.ROOT_ACCESS_KEYS_ACTIVE: "The root user has no active access keys.",
    hygiene.ROOT_MFA_NOT_ACTIVE: "The root user has an active MFA device.",
    hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE: "The root user has no active signing certificates.",
}
_RESOLVED_TEXT = {
    hygiene.ROOT_ACCESS_KEYS_ACTIVE: "Remediated: the root user's access keys were deleted "
    "(remediate root-use --delete-root-keys).",
}


def _known(verdict: Verdict, check_id: str) -> bool:
    fact = {
        hygiene.ROOT_ACCESS_KEYS_ACTIVE: verdict.root_access_keys_active,
        hygiene.ROOT_MFA_NOT_ACTIVE: verdict.root_mfa_active,
        hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE: verdict.root_signing_certificates_active,
    }[check_id]
    return fact is not None


def check_results(verdict: Verdict, *, resolved: Collection[str] = ()) -> list[CheckResult]:
    """Every check's result for the verdict's account (none without an account id).
    ``resolved``: ids of checks this run's remediation closed (PASSED, marked resolved)."""
    account = verdict.account_id
    if account is None:
        return []
    partition = _partition(verdict)
    failing = {f.id: f for f in verdict.findings}
    results: list[CheckResult] = []
    for check in CHECKS:
        if check.id == ROOT_USER_IN_USE:
            results.append(_root_use(verdict, check, account, check.id in resolved))
        elif check.id in resolved and check.id in _RESOLVED_TEXT:
            results.append(
                CheckResult(
                    check, account, partition, PASSED, _RESOLVED_TEXT[check.id], resolved=True
                )
            )
        elif check.id in failing:
            results.append(
                CheckResult(check, account, partition, FAILED, failing[check.id].title + ".")
            )
        elif _known(verdict, check.id):
            text = _PASSED_TEXT[check.id]
            if check.id == hygiene.ROOT_MFA_NOT_ACTIVE and not verdict.root_mfa_active:
                text = "The root user has no console password: there is nothing for MFA to guard."
            results.append(CheckResult(check, account, partition, PASSED, text))
        else:
            results.append(
                CheckResult(
                    check,
                    account,
                    partition,
                    NOT_AVAILABLE,
                    "The credential report does not show this for the root user.",
                )
            )
    return results
