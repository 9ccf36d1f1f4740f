"""Root hygiene findings: what the credential report's ``<root_account>`` row says is left to fix.

Each finding is self-contained (a stable id, a severity, a title and how to fix it), computed
purely from the root row's facts, so other formats (ASFF, OCSF) can be built from it alone.

Severities rank how directly the credential hands an attacker the whole account:

- ``CRITICAL`` active root access keys: a bearer secret that works from anywhere, through the API,
  with no second factor, and that no IAM policy can restrict; keys end up in files, scripts and
  CI logs (CIS AWS Foundations 1.4).
- ``HIGH`` root MFA not active, while root has a console password: the password is the only
  factor left; using it still takes an interactive console sign-in (CIS 1.5). Without a password
  (after ``root-credentials delete``) there is nothing for MFA to guard.
- ``MEDIUM`` active root signing certificates: X.509 certificates are accepted only by a few
  legacy (SOAP-era) APIs, but they are root's and cannot be restricted either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """The labels ASFF and OCSF both understand, most severe first."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFORMATIONAL = "INFORMATIONAL"


@dataclass(frozen=True)
class Finding:
    """One thing about the root user's credentials that should not be so.

    ``id`` is stable across runs and versions (exports key on it); ``title`` and ``remediation``
    are text for people.
    """

    id: str
    severity: Severity
    title: str
    remediation: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "remediation": self.remediation,
        }


ROOT_MFA_NOT_ACTIVE = "root-mfa-not-active"
ROOT_ACCESS_KEYS_ACTIVE = "root-access-keys-active"
ROOT_SIGNING_CERTIFICATES_ACTIVE = "root-signing-certificates-active"

_CENTRAL = (
    "In an AWS Organizations member account, the management account can delete root's "
    "credentials instead: `remediate root-credentials delete --accounts ACCOUNT_ID`."
)

MFA_REMEDIATION = (
    "The API cannot enable MFA for the root user: only the root user can, in the console. Sign "
    "in to the AWS Management Console as the root user (the account's email address and "
    "password), open the account menu (top right) and choose Security credentials; under "
    "Multi-factor authentication (MFA) choose Assign MFA device, name it, pick a passkey or "
    "security key, an authenticator app or a hardware TOTP token, and follow the steps. Keep "
    "the device (or a second one) where the people allowed to use root can reach it. " + _CENTRAL
)

KEYS_REMEDIATION = (
    "Delete the root user's access keys (first create an administrator to use instead: "
    "`remediate root-use --create-admin NAME`). Signed in with root's own keys, "
    "`remediate root-use --create-admin NAME --delete-root-keys` deletes them as its last step; "
    "or, as root in the console, open Security credentials and delete each key under Access "
    "keys. " + _CENTRAL
)

CERTIFICATES_REMEDIATION = (
    "Delete the root user's signing certificates: as root in the console, open Security "
    "credentials and delete each one under X.509 certificate; or, signed in with root's own "
    "keys, `aws iam delete-signing-certificate --certificate-id ID` (no --user-name). " + _CENTRAL
)


def root_hygiene(
    *,
    mfa_active: bool | None,
    access_keys_active: int | None,
    signing_certificates_active: int | None,
    password_present: bool | None = None,
) -> tuple[Finding, ...]:
    """The findings the root row's facts call for, most severe first. ``None`` (a fact the
    report does not show) is never a finding: nothing is claimed that is not known. Root MFA
    is asked for unless root is known to have no password (``None``: it may have one)."""
    found: list[Finding] = []
    if access_keys_active:
        found.append(
            Finding(
                ROOT_ACCESS_KEYS_ACTIVE,
                Severity.CRITICAL,
                "The root user has active access keys",
                KEYS_REMEDIATION,
            )
        )
    if mfa_active is False and password_present is not False:
        found.append(
            Finding(
                ROOT_MFA_NOT_ACTIVE,
                Severity.HIGH,
                "The root user has no active MFA device",
                MFA_REMEDIATION,
            )
        )
    if signing_certificates_active:
        found.append(
            Finding(
                ROOT_SIGNING_CERTIFICATES_ACTIVE,
                Severity.MEDIUM,
                "The root user has active signing certificates",
                CERTIFICATES_REMEDIATION,
            )
        )
    return tuple(found)
