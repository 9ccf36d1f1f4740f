"""Decide from a credential report (and the caller's identity) whether the root user is in use,
and (with CloudTrail's evidence) whether root's recorded events show it used since."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from remediate.core.clock import utc
from remediate.detect.findings import Finding, root_hygiene
from remediate.detect.report import CredentialReport, CredentialRow

if TYPE_CHECKING:
    from remediate.detect.activity import CloudTrailEvidence

STALE_AFTER_SECONDS = 3600.0

NO_ROOT_ROW_NOTE = (
    "The credential report has no <root_account> row (GovCloud, or an emulator): "
    "root use cannot be determined."
)

ROOT_CREDENTIALS_REMOVED_NOTE = (
    "Root credentials removed: the root user has no console password, access keys or signing "
    "certificates, so it cannot sign in and needs no MFA device."
)

SUMMARY_DENIED_NOTE = (
    "Root MFA is not active, and whether root can sign in at all is unknown: the caller may not "
    "perform iam:GetAccountSummary (grant it so the root-mfa-not-active finding can be refined)."
)

_ROOT_ARN = re.compile(r"arn:([a-z][a-z0-9-]*):iam::([0-9]{12}):root")
_ANY_ARN = re.compile(r"arn:([a-z][a-z0-9-]*):[^:]*:[^:]*:([0-9]{12}):.*", re.DOTALL)

_LABELS = {
    "password": "password",
    "access_key_1": "access key 1",
    "access_key_2": "access key 2",
    "caller": "caller identity",
}


@dataclass(frozen=True)
class Evidence:
    """One root credential used within the window, and when and where it was last used."""

    credential: str
    last_used: datetime
    region: str | None = None
    service: str | None = None

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready mapping with the timestamp as ISO 8601."""
        return {
            "credential": self.credential,
            "last_used": self.last_used.isoformat(),
            "region": self.region,
            "service": self.service,
        }


@dataclass(frozen=True)
class RootSignIn:
    """What ``iam:GetAccountSummary`` says of the root user, live (the report may be hours old):
    whether it has a console password (``AccountPasswordPresent``) and MFA
    (``AccountMFAEnabled``). ``None`` is a value the answer left out."""

    password_present: bool | None
    mfa_enabled: bool | None
    # AccessDenied on GetAccountSummary (a role from an older `remediate permissions` policy).
    denied: bool = False


@dataclass(frozen=True)
class Verdict:
    """The outcome of detection: whether root is in use, the evidence, and root hygiene (the
    facts, and the findings they call for)."""

    account_id: str | None
    root_arn: str | None
    window_days: int
    root_in_use: bool | None
    last_used: datetime | None
    evidence: tuple[Evidence, ...]
    root_mfa_active: bool | None
    root_password_present: bool | None
    root_access_keys_active: int | None
    root_signing_certificates_active: int | None
    report_generated_at: datetime | None
    report_age_seconds: float | None
    report_stale: bool
    caller_is_root: bool
    notes: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    # --cloudtrail: root's events in the window (apply_cloudtrail).
    cloudtrail: CloudTrailEvidence | None = None

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready mapping with timestamps as ISO 8601 strings."""
        return {
            "account_id": self.account_id,
            "root_arn": self.root_arn,
            "window_days": self.window_days,
            "root_in_use": self.root_in_use,
            "last_used": _iso(self.last_used),
            # The credential report's evidence, then CloudTrail's (entries of kind cloudtrail).
            "evidence": [item.to_json() for item in self.evidence]
            + [event.to_json() for event in (self.cloudtrail.events if self.cloudtrail else ())],
            "root_mfa_active": self.root_mfa_active,
            "root_password_present": self.root_password_present,
            "root_access_keys_active": self.root_access_keys_active,
            "root_signing_certificates_active": self.root_signing_certificates_active,
            "report_generated_at": _iso(self.report_generated_at),
            "report_age_seconds": self.report_age_seconds,
            "report_stale": self.report_stale,
            "caller_is_root": self.caller_is_root,
            "notes": list(self.notes),
            "findings": [f.to_json() for f in self.findings],
            "cloudtrail": self.cloudtrail.to_json() if self.cloudtrail is not None else None,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def is_root_arn(arn: str) -> bool:
    """Tell whether an ARN is an account root user's, `arn:<partition>:iam::<12 digits>:root`."""
    return _ROOT_ARN.fullmatch(arn) is not None


def _arn_parts(arn: str | None) -> tuple[str, str] | None:
    """Return (partition, account id) of an ARN that names an account, else None."""
    if not arn:
        return None
    match = _ANY_ARN.fullmatch(arn)
    return None if match is None else (match.group(1), match.group(2))


def _count_active(flags: tuple[bool | None, ...]) -> int | None:
    if all(flag is None for flag in flags):
        return None
    return sum(flag is True for flag in flags)


def _duration(seconds: float) -> str:
    """An age in the units a person reads it in: minutes, hours (and minutes) up to two days,
    then days, then years."""
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days = hours // 24
    if days >= 730:
        return f"over {days // 365} years"
    if days >= 2:
        return f"{days} days"
    if hours == 0:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    text = f"{hours} hour{'s' if hours != 1 else ''}"
    if minutes:
        text += f" {minutes} minute{'s' if minutes != 1 else ''}"
    return text


def _candidates(row: CredentialRow) -> list[Evidence]:
    """Every root credential the row shows as ever used."""
    found: list[Evidence] = []
    if row.password_last_used is not None:
        found.append(Evidence("password", row.password_last_used))
    for number, key in enumerate(row.access_keys, start=1):
        # A key counts whether or not it is active now: it was used.
        if key.last_used is not None:
            found.append(
                Evidence(
                    f"access_key_{number}",
                    key.last_used,
                    region=key.last_used_region,
                    service=key.last_used_service,
                )
            )
    return found


def judge_root_use(
    report: CredentialReport | None,
    *,
    now: datetime,
    days: int,
    caller_arn: str | None = None,
    account_id: str | None = None,
    sign_in: RootSignIn | None = None,
) -> Verdict:
    """Judge whether any root credential was used within `days` days before `now` (a range the
    command line checked: remediate.commands.requests). ``sign_in`` is GetAccountSummary's
    answer, asked only when the report shows root MFA not active: MFA matters only if root can
    sign in."""
    now = utc(now)
    notes: list[str] = []
    row = report.root() if report is not None else None
    caller_is_root = caller_arn is not None and is_root_arn(caller_arn)
    evidence, last_used = _recent_use(row, caller_is_root, now=now, days=days, notes=notes)
    if row is None:
        if caller_is_root:
            notes.append(
                "The credential report has no <root_account> row (GovCloud, or an emulator): "
                "only the caller identity shows root use."
            )
        else:
            notes.append(NO_ROOT_ROW_NOTE)
        root_in_use: bool | None = True if caller_is_root else None
    else:
        root_in_use = bool(evidence)
    generated_at, age_seconds, stale = _report_age(report, now=now, notes=notes)
    account_id, root_arn = _root_identity(report, row, caller_arn, account_id)

    mfa_active = row.mfa_active if row is not None else None
    keys_active = (
        _count_active(tuple(key.active for key in row.access_keys)) if row is not None else None
    )
    certs_active = _count_active(row.certs_active) if row is not None else None
    password_present = sign_in.password_present if sign_in is not None else None
    if mfa_active is False and sign_in is not None and sign_in.mfa_enabled:
        mfa_active = True  # enabled since the report was generated
    # Unknown key or certificate counts (None) do not show them gone.
    if mfa_active is False and password_present is False and keys_active == 0 == certs_active:
        notes.append(ROOT_CREDENTIALS_REMOVED_NOTE)
    if sign_in is not None and sign_in.denied:
        notes.append(SUMMARY_DENIED_NOTE)
    return Verdict(
        account_id=account_id,
        root_arn=root_arn,
        window_days=days,
        root_in_use=root_in_use,
        last_used=last_used,
        evidence=tuple(evidence),
        root_mfa_active=mfa_active,
        root_password_present=password_present,
        root_access_keys_active=keys_active,
        root_signing_certificates_active=certs_active,
        report_generated_at=generated_at,
        report_age_seconds=age_seconds,
        report_stale=stale,
        caller_is_root=caller_is_root,
        notes=tuple(notes),
        findings=root_hygiene(
            mfa_active=mfa_active,
            password_present=password_present,
            access_keys_active=keys_active,
            signing_certificates_active=certs_active,
        ),
    )


def _recent_use(
    row: CredentialRow | None, caller_is_root: bool, *, now: datetime, days: int, notes: list[str]
) -> tuple[list[Evidence], datetime | None]:
    """Root's credentials used within ``days`` (newest first, a root caller counted as used now),
    and root's most recent use of any; a last-used time in the future is counted as now."""
    # Beyond timedelta's range every datetime difference fits the window anyway.
    window = timedelta(days=min(days, timedelta.max.days))
    evidence: list[Evidence] = []
    last_used: datetime | None = None
    for item in _candidates(row) if row is not None else ():
        age = now - item.last_used
        if last_used is None or item.last_used > last_used:
            last_used = item.last_used
        if age < timedelta(0):
            notes.append(
                f"The root {_LABELS[item.credential]} last-used time "
                f"{item.last_used.isoformat()} is in the future (clock skew): "
                "counted as used now."
            )
            evidence.append(item)
        elif age <= window:
            evidence.append(item)
    if caller_is_root:
        evidence.append(Evidence("caller", now))
        if last_used is None or now > last_used:
            last_used = now
    evidence.sort(key=lambda item: item.last_used, reverse=True)
    return evidence, last_used


def _report_age(
    report: CredentialReport | None, *, now: datetime, notes: list[str]
) -> tuple[datetime | None, float | None, bool]:
    """When the report was generated, its age in seconds, and whether it is stale."""
    if report is None or report.generated_at is None:
        return None, None, False
    generated_at = utc(report.generated_at)
    age_seconds = (now - generated_at).total_seconds()
    if age_seconds < 0:
        notes.append(
            f"The credential report was generated at {generated_at.isoformat()}, "
            "after the current time (clock skew)."
        )
    elif age_seconds > STALE_AFTER_SECONDS:
        notes.append(
            f"The credential report is {_duration(age_seconds)} old (IAM serves reports "
            "up to 4 hours old): root use since it was generated is not shown."
        )
        return generated_at, age_seconds, True
    return generated_at, age_seconds, False


def _root_identity(
    report: CredentialReport | None,
    row: CredentialRow | None,
    caller_arn: str | None,
    account_id: str | None,
) -> tuple[str | None, str | None]:
    """The account judged and its root user's ARN, from what is known: the account given, the
    root row, the caller, or (without a root row) the other rows' ARNs."""
    caller_parts = _arn_parts(caller_arn)
    row_parts = _arn_parts(row.arn) if row is not None else None
    if account_id is None:
        parts = row_parts or caller_parts
        account_id = parts[1] if parts is not None else report.account_id() if report else None
    if row is not None and row.arn:
        return account_id, row.arn
    if account_id is not None:
        partition = caller_parts[0] if caller_parts is not None else "aws"
        return account_id, f"arn:{partition}:iam::{account_id}:root"
    return account_id, None


def apply_cloudtrail(verdict: Verdict, evidence: CloudTrailEvidence) -> Verdict:
    """``verdict`` with CloudTrail's evidence: root counts as in use when CloudTrail shows it
    working inside the window, even if the credential report does not (yet: the report is up to
    4 hours old, its last-used dates recorded every 5-15 minutes). No event proves nothing: a
    verdict that could not be determined stays so."""
    used = evidence.used
    notes = list(verdict.notes) + list(evidence.notes)
    root_in_use = verdict.root_in_use
    last_used = verdict.last_used
    if used:
        newest = used[0].event_time
        if not verdict.root_in_use:
            notes.append(
                f"CloudTrail shows the root user active at {newest.isoformat()} "
                f"({used[0].action}), which the credential report does not show: counted as "
                "in use."
            )
        root_in_use = True
        if last_used is None or newest > last_used:
            last_used = newest
    return replace(
        verdict,
        root_in_use=root_in_use,
        last_used=last_used,
        notes=tuple(notes),
        cloudtrail=evidence,
    )
