"""Centralized root access for an AWS Organization: its state, the root user's credentials as IAM
shows them to a root session, and the audit of every member account.

AWS's model (IAM user guide, "Centralize root access for member accounts"): the management
account enables trusted access for IAM in Organizations, then *root credentials management* and
*root sessions*; it then audits or deletes a member account's root credentials through a short
task session, ``sts:AssumeRoot`` scoped by an AWS task policy, in which IAM's credential calls
act on the member's root when ``UserName`` is omitted. ``AssumeRoot`` cannot target the
management account itself: its root is secured by signing in as root (or ``root-use``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from remediate.aws.calls import call, call_or_none, paginate
from remediate.aws.errors import ACCESS_DENIED_CODES
from remediate.core.concurrency import each_concurrently
from remediate.core.errors import (
    EXIT_AWS,
    EXIT_OK,
    EXIT_ROOT_IN_USE,
    AwsError,
    InputError,
    RemediateError,
)
from remediate.org.accounts import AccountSession, Target, targets
from remediate.org.sweep import one_line

if TYPE_CHECKING:
    from remediate.aws.session import Aws

log = logging.getLogger(__name__)

IAM_SERVICE_PRINCIPAL = "iam.amazonaws.com"
ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
AUDIT_TASK = "IAMAuditRootUserCredentials"
DELETE_TASK = "IAMDeleteRootUserCredentials"
CENTRALIZE_COMMAND = "remediate root-credentials centralize"
# botocore's IAM model names the error ServiceAccessNotEnabledException; the IAM API reference
# lists it as ServiceAccessNotEnabled. Either means the same: Organizations does not trust IAM.
SERVICE_ACCESS_NOT_ENABLED = frozenset(
    {"ServiceAccessNotEnabledException", "ServiceAccessNotEnabled"}
)
MANAGEMENT_ACCOUNT_NOTE = (
    "sts:AssumeRoot cannot target the organization's management account: secure its root user "
    "by signing in as root (MFA in the console; `remediate root-use --create-admin NAME "
    "--delete-root-keys` with root's keys deletes them)"
)


# --- the organization ------------------------------------------------------------------------


class OrganizationDocument(TypedDict):
    id: str
    management_account_id: str
    feature_set: str
    trusted_access: bool
    root_credentials_management: bool
    root_sessions: bool


@dataclass(frozen=True)
class OrganizationRootAccess:
    """The organization, and which parts of centralized root access are on."""

    organization_id: str
    management_account_id: str
    feature_set: str
    trusted_access: bool
    root_credentials_management: bool
    root_sessions: bool

    def to_json(self) -> OrganizationDocument:
        return {
            "id": self.organization_id,
            "management_account_id": self.management_account_id,
            "feature_set": self.feature_set,
            "trusted_access": self.trusted_access,
            "root_credentials_management": self.root_credentials_management,
            "root_sessions": self.root_sessions,
        }


class Organization(TypedDict, total=False):
    """``organizations:DescribeOrganization``'s ``Organization``: the members remediate reads."""

    Id: str
    Arn: str
    FeatureSet: str  # ALL, or CONSOLIDATED_BILLING
    MasterAccountId: str
    MasterAccountArn: str


def describe_organization(aws: Aws) -> Organization:
    """``organizations:DescribeOrganization``, with a tip when there is no organization."""
    try:
        organization: Organization = call(aws.client("organizations"), "DescribeOrganization")[
            "Organization"
        ]
    except AwsError as exc:
        raise AwsError(
            exc.message,
            tip="run from an AWS Organizations management account",
            code=exc.code,
            action=exc.action,
        ) from exc
    return organization


def trusted_access_enabled(aws: Aws, service_principal: str = IAM_SERVICE_PRINCIPAL) -> bool:
    """Whether Organizations trusts ``service_principal`` (only the management account or a
    delegated administrator for Organizations may ask)."""
    enabled = paginate(
        aws.client("organizations"),
        "ListAWSServiceAccessForOrganization",
        "EnabledServicePrincipals",
    )
    return any(s.get("ServicePrincipal") == service_principal for s in enabled)


def enabled_features(aws: Aws) -> set[str] | None:
    """``iam:ListOrganizationsFeatures``; ``None`` when trusted access for IAM is off (IAM
    then refuses to answer at all)."""
    try:
        answer = call(aws.iam, "ListOrganizationsFeatures")
    except AwsError as exc:
        if exc.code in SERVICE_ACCESS_NOT_ENABLED:
            return None
        raise
    return {str(f) for f in answer.get("EnabledFeatures", [])}


def organization_root_access(aws: Aws, caller_account_id: str) -> OrganizationRootAccess:
    """The organization's centralized root access, read from the management account or the
    delegated administrator for IAM (the accounts sts:AssumeRoot accepts): an input error from
    anywhere else."""
    organization = describe_organization(aws)
    management = str(organization["MasterAccountId"])
    if caller_account_id != management:
        # Checked first: a member's later reads fail, or mislead (no active account, or
        # centralized root access "off").
        delegated, denied = _delegated_administrator_for_iam(aws, caller_account_id)
        if not delegated:
            raise InputError(
                f"account {caller_account_id} is neither the management account of organization "
                f"{organization['Id']} ({management}) nor its delegated administrator for IAM"
                + (
                    " (or the caller may not perform organizations:ListDelegatedAdministrators)"
                    if denied
                    else ""
                )
                + ": root credentials are audited and deleted from one of those",
                tip=f"run this from the management account, {management}, or register this "
                f"account there as delegated administrator for {IAM_SERVICE_PRINCIPAL} "
                "(`aws organizations register-delegated-administrator`)",
            )
    trusted = trusted_access_enabled(aws)
    features = enabled_features(aws) if trusted else None
    return OrganizationRootAccess(
        organization_id=str(organization["Id"]),
        management_account_id=str(organization["MasterAccountId"]),
        feature_set=str(organization.get("FeatureSet", "")),
        trusted_access=trusted,
        root_credentials_management=ROOT_CREDENTIALS_MANAGEMENT in (features or ()),
        root_sessions=ROOT_SESSIONS in (features or ()),
    )


def _delegated_administrator_for_iam(aws: Aws, account_id: str) -> tuple[bool, bool]:
    """(whether ``account_id`` is the delegated administrator for IAM, whether asking was
    refused). ListDelegatedAdministrators filtered to IAM asks exactly that, and a delegated
    administrator may call it (ListDelegatedServicesForAccount would list every service)."""
    try:
        admins = paginate(
            aws.client("organizations"),
            "ListDelegatedAdministrators",
            "DelegatedAdministrators",
            ServicePrincipal=IAM_SERVICE_PRINCIPAL,
        )
    except AwsError as exc:
        # A member that is no delegated administrator is refused too.
        if exc.code not in ACCESS_DENIED_CODES:
            raise
        return False, True
    return any(str(a.get("Id")) == account_id for a in admins), False


def require_root_credentials_management(state: OrganizationRootAccess) -> None:
    """Audit and delete need root credentials management: an input error otherwise (exit 2),
    with the command that enables it."""
    if not (state.trusted_access and state.root_credentials_management):
        missing = (
            "trusted access for IAM and root credentials management are"
            if not state.trusted_access
            else "root credentials management is"
        )
        raise InputError(
            f"centralized root access is not enabled in organization {state.organization_id}: "
            f"{missing} off, so sts:AssumeRoot cannot enter member accounts",
            tip=f"enable it from the management account: `{CENTRALIZE_COMMAND}`",
        )


def member_targets(
    aws: Aws, account_ids: tuple[str, ...] | None, management_account_id: str
) -> tuple[list[Target], bool]:
    """The member accounts to work on, and whether the management account was left out of
    ``--all-accounts``. Naming the management account is an input error: AssumeRoot cannot
    target it."""
    if account_ids is not None and management_account_id in account_ids:
        raise InputError(
            f"account {management_account_id} is the organization's management account: "
            "sts:AssumeRoot cannot target it",
            tip=MANAGEMENT_ACCOUNT_NOTE,
        )
    chosen = targets(aws, account_ids)
    members = [t for t in chosen if t.account_id != management_account_id]
    return members, len(members) != len(chosen)


# --- root's credentials ----------------------------------------------------------------------


class AccessKeyDocument(TypedDict):
    access_key_id: str
    status: str
    create_date: str | None


class SigningCertificateDocument(TypedDict):
    certificate_id: str
    status: str
    upload_date: str | None


class MfaDeviceDocument(TypedDict):
    serial_number: str
    enable_date: str | None


@dataclass(frozen=True)
class RootAccessKey:
    access_key_id: str
    status: str
    create_date: datetime | None

    def to_json(self) -> AccessKeyDocument:
        return {
            "access_key_id": self.access_key_id,
            "status": self.status,
            "create_date": _iso(self.create_date),
        }


@dataclass(frozen=True)
class RootSigningCertificate:
    certificate_id: str
    status: str
    upload_date: datetime | None

    def to_json(self) -> SigningCertificateDocument:
        return {
            "certificate_id": self.certificate_id,
            "status": self.status,
            "upload_date": _iso(self.upload_date),
        }


@dataclass(frozen=True)
class RootMfaDevice:
    serial_number: str
    enable_date: datetime | None

    def to_json(self) -> MfaDeviceDocument:
        return {"serial_number": self.serial_number, "enable_date": _iso(self.enable_date)}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# Each call omits UserName: with root's own keys or in a root task session, IAM then acts on
# the root user. With an IAM user's keys it would act on that user: callers make sure it is root.


def login_profile(iam: Any) -> datetime | None:
    """When root's console password was set, or ``None`` when root has none."""
    found = call_or_none(iam, "GetLoginProfile")
    if found is None:
        return None
    created = found["LoginProfile"].get("CreateDate")
    return created if isinstance(created, datetime) else None


def access_keys(iam: Any) -> list[RootAccessKey]:
    return [
        RootAccessKey(str(k["AccessKeyId"]), str(k.get("Status", "")), k.get("CreateDate"))
        for k in paginate(iam, "ListAccessKeys", "AccessKeyMetadata")
    ]


def signing_certificates(iam: Any) -> list[RootSigningCertificate]:
    return [
        RootSigningCertificate(
            str(c["CertificateId"]), str(c.get("Status", "")), c.get("UploadDate")
        )
        for c in paginate(iam, "ListSigningCertificates", "Certificates")
    ]


def mfa_devices(iam: Any) -> list[RootMfaDevice]:
    return [
        RootMfaDevice(str(d["SerialNumber"]), d.get("EnableDate"))
        for d in paginate(iam, "ListMFADevices", "MFADevices")
    ]


# --- the audit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootCredentials:
    """What one member account's root user holds."""

    login_profile: bool
    access_keys: tuple[RootAccessKey, ...]
    signing_certificates: tuple[RootSigningCertificate, ...]
    mfa_devices: tuple[RootMfaDevice, ...]

    @property
    def any(self) -> bool:
        return bool(
            self.login_profile or self.access_keys or self.signing_certificates or self.mfa_devices
        )


def read_root_credentials(iam: Any) -> RootCredentials:
    """Root's password, access keys, signing certificates and MFA devices, all four."""
    return RootCredentials(
        login_profile=login_profile(iam) is not None,
        access_keys=tuple(access_keys(iam)),
        signing_certificates=tuple(signing_certificates(iam)),
        mfa_devices=tuple(mfa_devices(iam)),
    )


class AccountAuditDocument(TypedDict):
    """One member account in ``root-credentials audit -o json`` (``None`` where not audited)."""

    account_id: str
    account_name: str | None
    login_profile: bool | None
    access_keys: list[AccessKeyDocument] | None
    signing_certificates: list[SigningCertificateDocument] | None
    mfa_devices: list[MfaDeviceDocument] | None
    error: str | None


@dataclass(frozen=True)
class AccountAudit:
    """One member account: its root credentials, or why they could not be read."""

    account_id: str
    account_name: str | None
    credentials: RootCredentials | None
    error: str | None

    @property
    def holds_root_credentials(self) -> bool | None:
        return None if self.credentials is None else self.credentials.any

    def to_json(self) -> AccountAuditDocument:
        c = self.credentials
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "login_profile": None if c is None else c.login_profile,
            "access_keys": None if c is None else [k.to_json() for k in c.access_keys],
            "signing_certificates": (
                None if c is None else [s.to_json() for s in c.signing_certificates]
            ),
            "mfa_devices": None if c is None else [d.to_json() for d in c.mfa_devices],
            "error": self.error,
        }


_RANK = {True: 0, None: 1, False: 2}


@dataclass(frozen=True)
class AuditResult:
    """The organization's state and every audited member account (holding root credentials
    first, then those that could not be audited, then clean ones)."""

    organization: OrganizationRootAccess
    accounts: tuple[AccountAudit, ...]
    management_left_out: bool = False

    def summary(self) -> dict[str, int]:
        states = [a.holds_root_credentials for a in self.accounts]
        return {
            "total": len(states),
            "with_root_credentials": states.count(True),
            "without_root_credentials": states.count(False),
            "undetermined": sum(s is None for s in states),
        }

    def exit_code(self) -> int:
        """1 when any account holds root credentials, else 3 when any could not be audited,
        else 0."""
        counts = self.summary()
        if counts["with_root_credentials"]:
            return EXIT_ROOT_IN_USE
        return EXIT_AWS if counts["undetermined"] else EXIT_OK

    def to_json(self) -> dict[str, object]:
        """``root-credentials audit -o json``."""
        return {
            "organization": self.organization.to_json(),
            "accounts": [a.to_json() for a in self.accounts],
            "summary": self.summary(),
        }


def audit_account(open_account: Callable[[str], AccountSession], target: Target) -> AccountAudit:
    """Open a root audit session in the account and read root's credentials; a failure is the
    account's."""
    try:
        session = open_account(target.account_id)
        credentials = read_root_credentials(session.aws.iam)
    except RemediateError as exc:
        log.info("account %s: %s", target.account_id, exc.message)
        return AccountAudit(target.account_id, target.account_name, None, one_line(exc.message))
    return AccountAudit(target.account_id, target.account_name, credentials, None)


def audit(
    organization: OrganizationRootAccess,
    open_account: Callable[[str], AccountSession],
    targets: Sequence[Target],
    *,
    concurrency: int,
    progress: Callable[[AccountAudit], None] | None = None,
    management_left_out: bool = False,
) -> AuditResult:
    """Audit every target's root credentials, ``concurrency`` at a time (as the sweep does)."""
    found = each_concurrently(
        targets,
        lambda t: audit_account(open_account, t),
        concurrency=concurrency,
        progress=progress,
        name="remediate-audit",
    )
    ordered = sorted(found, key=lambda a: (_RANK[a.holds_root_credentials], a.account_id))
    return AuditResult(organization, tuple(ordered), management_left_out)
