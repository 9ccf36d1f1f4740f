"""The emulated root users, kept in process for moto's server: each account's root credentials,
the task sessions sts:AssumeRoot handed out, and the organizations' centralized root access.

moto has no root credentials, root caller or centralized root access. The sandbox adds them in
three modules over this one: :mod:`remediate.sandbox.root_requests` puts root users in front of
every request (root's keys act as root; a task session may do only what its task policy allows),
:mod:`remediate.sandbox.root_iam` answers IAM's root credential operations from the state kept
here, and :mod:`remediate.sandbox.root_access` adds IAM's organization features and
``sts:AssumeRoot``. Answers are shaped as botocore's service models describe them (moto
serializes every answer with those models), so the product's calls are the same as against AWS.

What the emulation assumes (the README lists it too):

- Every account has a root user whose credentials are kept here: a login profile (its password),
  access keys (usable as credentials: requests signed with one act as that account's root),
  signing certificates and MFA devices. The sandbox seeds them from its
  :class:`remediate.sandbox.server.RootState` and draws the credential report's root row from
  them.
- ``AssumeRoot`` works from the organization's management account or its delegated
  administrator for IAM, never with root's own credentials, never on the management account
  itself, and only on an ACTIVE member. The delegated administrator may also read
  ``ListOrganizationsFeatures`` (not enable them) and, as AWS lets it, Organizations'
  ``ListAccounts``, ``ListAWSServiceAccessForOrganization`` and ``ListDelegatedAdministrators``
  (moto answers a member from its own, empty backend). The IAM credential tasks (audit,
  delete) need root credentials management enabled; the other task policies need root
  sessions. A refusal is ``AccessDenied``.
- A task session may call only what its task policy allows, and only on the root user: its
  policy is AWS's managed policy, reproduced below from the IAM user guide (a call naming an IAM
  user is outside ``arn:aws:iam::*:root`` and denied). It expires after ``DurationSeconds``.
- With root's own keys (no task session), ``GetLoginProfile``, ``DeleteLoginProfile`` and
  ``DeactivateMFADevice`` without ``UserName`` are refused with ``ValidationError`` (botocore's
  model says they need an AssumeRoot session; the error code is our assumption).
- Enabling a feature that is already enabled succeeds and changes nothing.

This model is the service's side of root's credentials (secret keys, certificate bodies, the
credential report's slots, changed as calls delete them): not the product's
:mod:`remediate.org.root_credentials`, which holds what IAM's answers show a caller.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

IAM_SERVICE_PRINCIPAL = "iam.amazonaws.com"
ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
MAX_TASK_SECONDS = 900
_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# AWS's root-task policies (IAM user guide, "AWS managed policies for AWS Identity and Access
# Management"): the actions each allows, and (our assumption) the feature it needs.
TASK_POLICIES: dict[str, tuple[frozenset[str], str]] = {
    "IAMAuditRootUserCredentials": (
        frozenset(
            {
                "iam:ListAccessKeys",
                "iam:ListSigningCertificates",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
                "iam:GetAccountSummary",
                "iam:GetUser",
                "iam:GetAccessKeyLastUsed",
            }
        ),
        ROOT_CREDENTIALS_MANAGEMENT,
    ),
    "IAMDeleteRootUserCredentials": (
        frozenset(
            {
                "iam:DeleteAccessKey",
                "iam:DeleteSigningCertificate",
                "iam:DeleteLoginProfile",
                "iam:DeactivateMFADevice",
                "iam:ListAccessKeys",
                "iam:ListSigningCertificates",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
                "iam:GetUser",
                "iam:GetAccessKeyLastUsed",
            }
        ),
        ROOT_CREDENTIALS_MANAGEMENT,
    ),
    "IAMCreateRootUserPassword": (
        frozenset({"iam:CreateLoginProfile", "iam:GetLoginProfile"}),
        ROOT_SESSIONS,
    ),
    # Listed for AssumeRoot to accept; moto answers S3 outside call_action, so S3 calls in such a
    # session are not checked here (remediate makes none).
    "S3UnlockBucketPolicy": (
        frozenset(
            {
                "s3:DeleteBucketPolicy",
                "s3:PutBucketPolicy",
                "s3:GetBucketPolicy",
                "s3:ListAllMyBuckets",
            }
        ),
        ROOT_SESSIONS,
    ),
    # Its actions are not listed in the user guide: accepted, but every call is denied here.
    "SQSUnlockQueuePolicy": (frozenset(), ROOT_SESSIONS),
}


@dataclass
class RootAccessKey:
    """One of root's access keys, in slot 1 or 2 of the credential report."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    slot: int
    status: str  # Active | Inactive
    created: datetime


@dataclass
class RootSigningCertificate:
    certificate_id: str
    body: str = field(repr=False)
    slot: int
    status: str
    uploaded: datetime


@dataclass
class RootMfaDevice:
    serial_number: str
    enabled: datetime


@dataclass
class RootCredentials:
    """What the root user of one account holds."""

    login_profile: datetime | None = None  # when root's password was set
    access_keys: list[RootAccessKey] = field(default_factory=list)
    signing_certificates: list[RootSigningCertificate] = field(default_factory=list)
    mfa_devices: list[RootMfaDevice] = field(default_factory=list)


@dataclass(frozen=True)
class RootSession:
    """Credentials AssumeRoot handed out: the target account's root, scoped by a task policy."""

    account_id: str
    partition: str
    task_policy: str  # the policy's name, e.g. IAMDeleteRootUserCredentials
    expiration: datetime


@dataclass(frozen=True)
class RootPrincipal:
    """Who a request's access key is, when it is a root user: with root's own key (``session``
    None, unrestricted) or through a task session."""

    account_id: str
    partition: str
    session: RootSession | None

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"


_lock = threading.RLock()
_credentials: dict[str, RootCredentials] = {}
_sessions: dict[str, RootSession] = {}
_revoked: set[str] = set()  # root access keys deleted: requests signed with them are refused
_features: dict[str, set[str]] = {}  # organization id -> enabled features


# --- state -----------------------------------------------------------------------------------


def seed_root_credentials(account_id: str, credentials: RootCredentials) -> None:
    """Give the account's root user these credentials (replacing any)."""
    with _lock:
        _credentials[account_id] = credentials
        _revoked.difference_update(k.access_key_id for k in credentials.access_keys)


def forget_root_credentials(account_id: str) -> None:
    with _lock:
        _credentials.pop(account_id, None)


@contextlib.contextmanager
def changing(account_id: str) -> Iterator[RootCredentials]:
    """The account's root credentials (none yet: empty ones), for a read or a change made while
    no other request sees them."""
    with _lock:
        yield _credentials.setdefault(account_id, RootCredentials())


def revoke(access_key_id: str) -> None:
    """A deleted root access key: requests signed with it are refused from now on."""
    with _lock:
        _revoked.add(access_key_id)


def root_credentials(account_id: str) -> RootCredentials | None:
    """The account's root credentials as they stand (a live object: read, do not keep)."""
    with _lock:
        return _credentials.get(account_id)


def enabled_features(organization_id: str) -> set[str]:
    with _lock:
        return set(_features.get(organization_id, set()))


def enable_feature(organization_id: str, feature: str) -> None:
    with _lock:
        _features.setdefault(organization_id, set()).add(feature)


def enable_central_root_access(
    management_account_id: str,
    features: tuple[str, ...] = (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS),
    partition: str = "aws",
) -> None:
    """Set-up, in process: trusted access for IAM and the given features, as after
    ``remediate root-credentials centralize`` (or only part of it)."""
    from moto.organizations.models import organizations_backends

    trust_iam()
    backend = organizations_backends[management_account_id][partition]
    assert backend.org is not None, "no organization to enable central root access in"
    backend.enable_aws_service_access(ServicePrincipal=IAM_SERVICE_PRINCIPAL)
    with _lock:
        _features.setdefault(backend.org.id, set()).update(features)


def clear() -> None:
    """Forget every emulated root credential, task session and organization feature."""
    with _lock:
        _credentials.clear()
        _sessions.clear()
        _revoked.clear()
        _features.clear()


def root_principal(access_key: str) -> RootPrincipal | None:
    """The root user a request's access key belongs to, if it is one."""
    with _lock:
        session = _sessions.get(access_key)
        if session is not None:
            return RootPrincipal(session.account_id, session.partition, session)
        for account_id, creds in _credentials.items():
            if any(k.access_key_id == access_key for k in creds.access_keys):
                return RootPrincipal(account_id, "aws", None)
    return None


def refused_key(access_key: str) -> bool:
    """A deleted or inactive root access key: AWS refuses requests signed with it."""
    with _lock:
        if access_key in _revoked:
            return True
        return any(
            k.access_key_id == access_key and k.status != "Active"
            for creds in _credentials.values()
            for k in creds.access_keys
        )


def trust_iam() -> None:
    """IAM as an AWS Organizations trusted service and delegated administrator service, as AWS
    has it; moto's lists lack it."""
    from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess

    with _lock:
        if IAM_SERVICE_PRINCIPAL not in FakeServiceAccess.TRUSTED_SERVICES:
            FakeServiceAccess.TRUSTED_SERVICES.append(IAM_SERVICE_PRINCIPAL)
        if IAM_SERVICE_PRINCIPAL not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(IAM_SERVICE_PRINCIPAL)


class SessionCredentials(TypedDict):
    """AssumeRoot's ``Credentials``, as botocore's model of STS names them."""

    AccessKeyId: str
    SecretAccessKey: str
    SessionToken: str
    Expiration: datetime


def open_task_session(
    account_id: str, partition: str, task: str, seconds: int
) -> SessionCredentials:
    """A new task session as the account's root user, scoped by the task policy ``task``, for
    ``seconds``."""
    access_key = "ASIA" + "".join(secrets.choice(_KEY_CHARS) for _ in range(16))
    expiration = datetime.now(UTC) + timedelta(seconds=seconds)
    with _lock:
        _sessions[access_key] = RootSession(account_id, partition, task, expiration)
    return {
        "AccessKeyId": access_key,
        "SecretAccessKey": secrets.token_urlsafe(30),
        "SessionToken": secrets.token_urlsafe(96),
        "Expiration": expiration,
    }


# --- errors ----------------------------------------------------------------------------------


def auth_error(code: str, message: str, status: int, *, json_protocol: bool) -> Any:
    """An error moto answers before the operation runs (as for its own AccessDenied)."""
    # moto's own authentication errors (AccessDeniedError, ...) are built on _RESTError.
    from moto.core.exceptions import JsonRESTError, _RESTError

    cls = JsonRESTError if json_protocol else _RESTError
    error = cls(code, message)
    error.code = status
    return error


def iam_error(code: str, message: str) -> Exception:
    """An IAM error that botocore's IAM model knows (moto serializes it from the model)."""
    from moto.iam.exceptions import IAMException

    return IAMException(code, message)
