"""The long text of each finding, for ``remediate root-use --explain ID``: what it says, why it
matters and how to fix it, under the stable ids of remediate.findings.checks (the hygiene ids
detection prints, and root-user-in-use, which the findings formats add)."""

from __future__ import annotations

from dataclasses import dataclass

from remediate.core.errors import InputError
from remediate.detect import findings as hygiene
from remediate.findings.checks import CHECKS, ROOT_USER_IN_USE, Check

# What a failed check says, in the words detection prints (remediate.detect.findings' titles).
_WHAT = {
    ROOT_USER_IN_USE: "The root user was used recently: its password, an access key or its "
    "own session signed requests within the days detection looks back over (--days).",
    hygiene.ROOT_ACCESS_KEYS_ACTIVE: "The root user has active access keys.",
    hygiene.ROOT_MFA_NOT_ACTIVE: "The root user has no active MFA device, and has a console "
    "password.",
    hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE: "The root user has active signing certificates.",
}

# Why it matters: how directly the credential hands an attacker the whole account (the
# severities of remediate.detect.findings).
_WHY = {
    ROOT_USER_IN_USE: "The root user can do everything in the account, including what no IAM "
    "policy can restrict (closing the account, changing its contact and payment details), and "
    "what it does is no one person's. Used for everyday work, its credentials are exposed where "
    "that work happens. AWS and the CIS AWS Foundations Benchmark ask that it be used only for "
    "the few tasks that need it.",
    hygiene.ROOT_ACCESS_KEYS_ACTIVE: "A root access key is a bearer secret that works from "
    "anywhere, through the API, with no second factor, and that no IAM policy can restrict; "
    "keys end up in files, scripts and CI logs (CIS AWS Foundations 1.4).",
    hygiene.ROOT_MFA_NOT_ACTIVE: "With no MFA, the console password is the only factor between "
    "whoever learns it and the whole account (CIS AWS Foundations 1.5). A root user without a "
    "password has nothing for MFA to guard: the finding is then not raised.",
    hygiene.ROOT_SIGNING_CERTIFICATES_ACTIVE: "X.509 signing certificates are accepted only by "
    "a few legacy (SOAP-era) APIs, but they are the root user's, and no IAM policy can "
    "restrict them either.",
}


@dataclass(frozen=True)
class Explanation:
    """One finding's long text."""

    id: str
    severity: str
    what: str
    why: str
    fix: str
    reference: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "severity": self.severity,
            "what": self.what,
            "why": self.why,
            "fix": self.fix,
            "reference": self.reference,
        }


def known_ids() -> tuple[str, ...]:
    return tuple(c.id for c in CHECKS)


def _of(check: Check) -> Explanation:
    return Explanation(
        id=check.id,
        severity=check.severity.value,
        what=_WHAT[check.id],
        why=_WHY[check.id],
        fix=check.remediation,
        reference=check.url,
    )


def explain(finding_id: str) -> Explanation:
    """The long text of ``finding_id``; InputError naming the known ids for any other."""
    for check in CHECKS:
        if check.id == finding_id:
            return _of(check)
    raise InputError(
        f"--explain: no finding has the id {finding_id!r}",
        tip=f"the known ids: {', '.join(known_ids())}",
    )
