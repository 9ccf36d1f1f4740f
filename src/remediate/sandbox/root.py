"""Centralized root access and root's own credentials, emulated in moto's server (in-process).

moto has none of it: ``sts:AssumeRoot``, ``iam:ListOrganizationsFeatures``,
``iam:EnableOrganizationsRootCredentialsManagement``, ``iam:EnableOrganizationsRootSessions``,
IAM answering for the root user when ``UserName`` is omitted, and a root caller. This module adds
them to moto's request handlers, shaped as botocore's service models describe them (moto
serializes every answer with those models), so the product's calls are the same as against AWS.

What the emulation assumes (the README lists it too):

- Every account has a root user whose credentials are kept here: a login profile (its password),
  access keys (usable as credentials: requests signed with one act as that account's root),
  signing certificates and MFA devices. They are seeded from a
  :class:`remediate.sandbox.server.RootState` and the credential report's root row is drawn from
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
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remediate.sandbox.server import RootState

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

# The IAM operations that act on the root user when ``UserName`` is omitted, answered here.
ROOT_CREDENTIAL_OPERATIONS = frozenset(
    {
        "GetLoginProfile",
        "DeleteLoginProfile",
        "ListAccessKeys",
        "DeleteAccessKey",
        "ListSigningCertificates",
        "DeleteSigningCertificate",
        "ListMFADevices",
        "DeactivateMFADevice",
    }
)


# botocore's IAM model, on each: "When you make this request with root user credentials, you
# must use an AssumeRoot session to omit the user name." Root's own keys are refused them.
ROOT_SESSION_OPERATIONS = frozenset(
    {"GetLoginProfile", "DeleteLoginProfile", "DeactivateMFADevice"}
)


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
_installed = False


# --- state -----------------------------------------------------------------------------------


def seed_root_credentials(account_id: str, state: RootState, partition: str = "aws") -> None:
    """Give the account's root user the credentials ``state`` describes (replacing any)."""
    created = state.created
    creds = RootCredentials(login_profile=created if state.login_profile else None)
    for slot, active, last_used in (
        (1, state.key_1_active, state.key_1_last_used),
        (2, state.key_2_active, state.key_2_last_used),
    ):
        # A key that was used exists, whether or not it is active now.
        if active or last_used is not None:
            creds.access_keys.append(
                RootAccessKey(
                    access_key_id=f"AKIA{account_id}ROT{slot}",  # 20 characters, as AWS's
                    secret_access_key=f"sandbox-root-secret-{account_id}-{slot}",
                    slot=slot,
                    status="Active" if active else "Inactive",
                    created=created,
                )
            )
    for slot, active in ((1, state.cert_1_active), (2, state.cert_2_active)):
        if active:
            creds.signing_certificates.append(
                RootSigningCertificate(
                    certificate_id=f"{account_id}ROOTCERTIFICATE{slot}",
                    body=_FAKE_CERTIFICATE,
                    slot=slot,
                    status="Active",
                    uploaded=created,
                )
            )
    if state.mfa_active:
        creds.mfa_devices.append(
            RootMfaDevice(f"arn:{partition}:iam::{account_id}:mfa/root-account-mfa-device", created)
        )
    with _lock:
        _credentials[account_id] = creds
        _revoked.difference_update(k.access_key_id for k in creds.access_keys)


def forget_root_credentials(account_id: str) -> None:
    with _lock:
        _credentials.pop(account_id, None)


def root_credentials(account_id: str) -> RootCredentials | None:
    """The account's root credentials as they stand (a live object: read, do not keep)."""
    with _lock:
        return _credentials.get(account_id)


def enabled_features(organization_id: str) -> set[str]:
    with _lock:
        return set(_features.get(organization_id, set()))


def enable_central_root_access(
    management_account_id: str,
    features: tuple[str, ...] = (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS),
    partition: str = "aws",
) -> None:
    """Set-up, in process: trusted access for IAM and the given features, as after
    ``remediate root-credentials centralize`` (or only part of it)."""
    from moto.organizations.models import organizations_backends

    install()
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


def _refused_key(access_key: str) -> bool:
    """A deleted or inactive root access key: AWS refuses requests signed with it."""
    with _lock:
        if access_key in _revoked:
            return True
        return any(
            k.access_key_id == access_key and k.status != "Active"
            for creds in _credentials.values()
            for k in creds.access_keys
        )


# --- errors ----------------------------------------------------------------------------------


def _auth_error(code: str, message: str, status: int, *, json_protocol: bool) -> Any:
    """An error moto answers before the operation runs (as for its own AccessDenied)."""
    # moto's own authentication errors (AccessDeniedError, ...) are built on _RESTError.
    from moto.core.exceptions import JsonRESTError, _RESTError

    cls = JsonRESTError if json_protocol else _RESTError
    error = cls(code, message)
    error.code = status
    return error


def _iam_error(code: str, message: str) -> Exception:
    """An IAM error that botocore's IAM model knows (moto serializes it from the model)."""
    from moto.iam.exceptions import IAMException

    return IAMException(code, message)


# --- request handling ------------------------------------------------------------------------


def _respond(response: Any, result: Any) -> Any:
    """Serialize ``result`` (an answer, or an exception) the way moto's call_action does."""
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from werkzeug.exceptions import HTTPException

    if isinstance(result, HTTPException):
        error_headers: dict[str, Any] = dict(result.get_headers() or [])
        error_headers["status"] = result.code
        status, headers, body = response._transform_response(
            response.response_headers, (result.description, error_headers)
        )
    else:
        if isinstance(result, ServiceException) or not isinstance(result, ActionResult):
            result = ActionResult(result)
        status, headers, body = response.serialized(result)
    headers, body = response._enrich_response(headers, body)
    return status, headers, body


def _denied(principal: RootPrincipal, action: str, why: str, *, json_protocol: bool) -> Any:
    return _auth_error(
        "AccessDenied",
        f"User: {principal.arn} is not authorized to perform: {action} on resource: "
        f"{principal.arn} {why}",
        403,
        json_protocol=json_protocol,
    )


def _call_action(response: Any, original: Any) -> Any:
    """moto's call_action, with root users in front: root's keys act as root; a task session
    may do only what its task policy allows; IAM answers for root when UserName is omitted."""
    key = response.get_access_key()
    service = str(response.service_name)
    json_protocol = service not in ("iam", "sts")
    if _refused_key(key):
        return _respond(
            response,
            _auth_error(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
                403,
                json_protocol=json_protocol,
            ),
        )
    principal = root_principal(key)
    if principal is None:
        return original(response)
    operation = str(response._get_action())
    action = f"{service}:{operation}"
    session = principal.session
    if session is not None and datetime.now(UTC) >= session.expiration:
        return _respond(
            response,
            _auth_error(
                "ExpiredToken",
                "The security token included in the request is expired",
                403,
                json_protocol=json_protocol,
            ),
        )
    if action == "sts:GetCallerIdentity":
        return original(response)  # needs no permission; the STS backend answers as root
    if action == "sts:AssumeRoot":
        return _respond(
            response,
            _denied(
                principal,
                action,
                "because root user credentials cannot call AssumeRoot",
                json_protocol=json_protocol,
            ),
        )
    if session is not None:
        allowed = TASK_POLICIES[session.task_policy][0]
        names_a_user = service == "iam" and bool(response._get_param("UserName"))
        if action not in allowed or names_a_user:
            return _respond(
                response,
                _denied(
                    principal,
                    action,
                    f"with an explicit deny in a session policy ({session.task_policy})",
                    json_protocol=json_protocol,
                ),
            )
    if (
        session is None
        and service == "iam"
        and operation in ROOT_SESSION_OPERATIONS
        and not response._get_param("UserName")
    ):
        return _respond(
            response,
            _iam_error(
                "ValidationError",
                f"{operation} without UserName needs an AssumeRoot session when called with "
                "root user credentials.",
            ),
        )
    if (
        service == "iam"
        and operation in ROOT_CREDENTIAL_OPERATIONS
        and not response._get_param("UserName")
    ):
        try:
            answer = _root_credential_operation(response, principal, operation)
        except Exception as exc:
            from moto.core.exceptions import ServiceException

            if not isinstance(exc, ServiceException):
                raise
            answer = exc
        return _respond(response, answer)
    return original(response)


def _root_credential_operation(response: Any, principal: RootPrincipal, operation: str) -> Any:
    """One of the eight root credential operations, on ``principal``'s root user."""
    from moto.core.responses import EmptyResult

    account_id = principal.account_id
    with _lock:
        creds = _credentials.setdefault(account_id, RootCredentials())
        if operation == "GetLoginProfile":
            if creds.login_profile is None:
                raise _iam_error(
                    "NoSuchEntity", f"Login Profile for User {account_id} cannot be found."
                )
            return {
                "LoginProfile": {
                    "UserName": account_id,
                    "CreateDate": creds.login_profile,
                    "PasswordResetRequired": False,
                }
            }
        if operation == "DeleteLoginProfile":
            if creds.login_profile is None:
                raise _iam_error(
                    "NoSuchEntity", f"Login Profile for User {account_id} cannot be found."
                )
            creds.login_profile = None
            return EmptyResult()
        if operation == "ListAccessKeys":
            return {
                "AccessKeyMetadata": [
                    {"AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": k.created}
                    for k in creds.access_keys
                ],
                "IsTruncated": False,
            }
        if operation == "DeleteAccessKey":
            key_id = str(response._get_param("AccessKeyId"))
            found = [k for k in creds.access_keys if k.access_key_id == key_id]
            if not found:
                raise _iam_error(
                    "NoSuchEntity", f"The Access Key with id {key_id} cannot be found."
                )
            creds.access_keys.remove(found[0])
            _revoked.add(key_id)
            return EmptyResult()
        if operation == "ListSigningCertificates":
            return {
                "Certificates": [
                    {
                        "UserName": account_id,
                        "CertificateId": c.certificate_id,
                        "CertificateBody": c.body,
                        "Status": c.status,
                        "UploadDate": c.uploaded,
                    }
                    for c in creds.signing_certificates
                ],
                "IsTruncated": False,
            }
        if operation == "DeleteSigningCertificate":
            cert_id = str(response._get_param("CertificateId"))
            certs = [c for c in creds.signing_certificates if c.certificate_id == cert_id]
            if not certs:
                raise _iam_error(
                    "NoSuchEntity", f"The Certificate with id {cert_id} cannot be found."
                )
            creds.signing_certificates.remove(certs[0])
            return EmptyResult()
        if operation == "ListMFADevices":
            return {
                "MFADevices": [
                    {
                        "UserName": account_id,
                        "SerialNumber": d.serial_number,
                        "EnableDate": d.enabled,
                    }
                    for d in creds.mfa_devices
                ],
                "IsTruncated": False,
            }
        # DeactivateMFADevice
        serial = str(response._get_param("SerialNumber"))
        devices = [d for d in creds.mfa_devices if d.serial_number == serial]
        if not devices:
            raise _iam_error("NoSuchEntity", f"MFA Device with serial number {serial} not found.")
        creds.mfa_devices.remove(devices[0])
        return EmptyResult()


def _account_summary(self: Any, original: Any) -> Any:
    """GetAccountSummary with the root user's part filled in (moto has no AccountPasswordPresent
    and always answers AccountMFAEnabled 0): 1 or 0, as IAM answers them."""
    result = original(self)
    with _lock:
        creds = _credentials.get(str(self.current_account))
        if creds is None:
            return result
        summary = result.result["SummaryMap"]
        summary["AccountPasswordPresent"] = int(creds.login_profile is not None)
        summary["AccountMFAEnabled"] = int(bool(creds.mfa_devices))
        summary["AccountAccessKeysPresent"] = int(bool(creds.access_keys))
        summary["AccountSigningCertificatesPresent"] = int(bool(creds.signing_certificates))
    return result


# --- Organizations features (IAM) -------------------------------------------------------------


def _organization(account_id: str, partition: str) -> tuple[Any, bool, Any]:
    """(the account's organization or None, whether the account is its management account, the
    management account's Organizations backend)."""
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[account_id][partition]
    if backend.org is not None:
        return backend.org, True, backend
    found = organizations_backends.master_accounts.get(account_id)
    if found is None:
        return None, False, None
    management, management_partition = found
    backend = organizations_backends[management][management_partition]
    return backend.org, False, backend


def _delegated_for_iam(backend: Any, account_id: str) -> bool:
    """Whether ``account_id`` is registered in ``backend`` (a management account's) as
    delegated administrator for IAM."""
    return any(
        a.account.id == account_id and IAM_SERVICE_PRINCIPAL in a.services for a in backend.admins
    )


def delegated_management_backend(backend: Any) -> Any:
    """The management account's Organizations backend when ``backend`` is a member account's
    that is delegated administrator for IAM; else None."""
    from moto.organizations.models import organizations_backends

    if backend.org is not None:
        return None
    found = organizations_backends.master_accounts.get(backend.account_id)
    if found is None:
        return None
    management = organizations_backends[found[0]][found[1]]
    return management if _delegated_for_iam(management, backend.account_id) else None


def _as_management(original: Any) -> Any:
    """An Organizations backend read that a delegated administrator gets answered as the
    management account would."""

    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        return original(delegated_management_backend(self) or self, *args, **kwargs)

    return read


def _trusted(backend: Any) -> bool:
    return any(s["ServicePrincipal"] == IAM_SERVICE_PRINCIPAL for s in backend.services)


def _features_answer(response: Any, enable: str | None) -> Any:
    """ListOrganizationsFeatures, or (``enable``) one of the two Enable operations."""
    from moto.core.responses import ActionResult

    caller = str(response.current_account)
    org, is_management, backend = _organization(caller, response.partition)
    if org is None:
        raise _iam_error(
            "OrganizationNotFoundException",
            "The request was rejected because no organization is associated with your account.",
        )
    if not is_management and (enable is not None or not _delegated_for_iam(backend, caller)):
        if enable is not None:
            raise _iam_error(
                "CallerIsNotManagementAccountException",
                "The request was rejected because the account making the request is not the "
                "management account for the organization.",
            )
        raise _iam_error(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account making the request is not the "
            "management account or delegated administrator account for centralized root access.",
        )
    if org.feature_set != "ALL":
        raise _iam_error(
            "OrganizationNotInAllFeaturesModeException",
            "The request was rejected because your organization does not have All features "
            "enabled.",
        )
    if not _trusted(backend):
        raise _iam_error(
            "ServiceAccessNotEnabledException",
            "The request was rejected because trusted access for IAM is not enabled for the "
            "organization.",
        )
    with _lock:
        features = _features.setdefault(org.id, set())
        if enable is not None:
            features.add(enable)
        enabled = sorted(features)
    return ActionResult({"OrganizationId": org.id, "EnabledFeatures": enabled})


def _list_organizations_features(self: Any) -> Any:
    return _features_answer(self, None)


def _enable_root_credentials_management(self: Any) -> Any:
    return _features_answer(self, ROOT_CREDENTIALS_MANAGEMENT)


def _enable_root_sessions(self: Any) -> Any:
    return _features_answer(self, ROOT_SESSIONS)


# --- sts:AssumeRoot --------------------------------------------------------------------------


def _assume_root(self: Any) -> Any:
    """sts:AssumeRoot: credentials for a member account's root, scoped by a task policy."""
    import re

    from moto.core.responses import ActionResult
    from moto.sts.exceptions import STSValidationError
    from moto.sts.models import sts_backends

    partition = str(self.partition)
    target = str(self._get_param("TargetPrincipal") or "")
    policy = self._get_param("TaskPolicyArn") or {}
    policy_arn = str(policy.get("arn") or "") if isinstance(policy, dict) else ""
    duration = self._get_int_param("DurationSeconds", MAX_TASK_SECONDS)
    if not 0 <= duration <= MAX_TASK_SECONDS:
        raise STSValidationError(
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value less than or equal to {MAX_TASK_SECONDS}"
        )
    match = re.fullmatch(rf"(?:arn:{re.escape(partition)}:iam::)?([0-9]{{12}})(?::root)?", target)
    if match is None:
        raise STSValidationError(f"Invalid TargetPrincipal: {target[:80]}")
    target_id = match.group(1)
    prefix = f"arn:{partition}:iam::aws:policy/root-task/"
    task = policy_arn[len(prefix) :] if policy_arn.startswith(prefix) else ""
    if task not in TASK_POLICIES:
        raise STSValidationError(f"Invalid TaskPolicyArn: {policy_arn[:200]}")

    caller = str(self.current_account)
    caller_arn = sts_backends[caller][partition].get_caller_identity(
        self.get_access_key(), self.region
    )[1]
    resource = f"arn:{partition}:iam::{target_id}:root"

    def denied(why: str) -> Any:
        return _auth_error(
            "AccessDenied",
            f"User: {caller_arn} is not authorized to perform: sts:AssumeRoot on resource: "
            f"{resource} {why}",
            403,
            json_protocol=False,
        )

    org, is_management, backend = _organization(caller, partition)
    if org is None or not (is_management or _delegated_for_iam(backend, caller)):
        raise denied(
            "(only the organization's management account or its delegated administrator for "
            "IAM can assume root)"
        )
    if target_id == org.master_account_id:
        raise denied("(AssumeRoot cannot target the organization's management account)")
    member = next((a for a in backend.accounts if a.id == target_id), None)
    if member is None or member.state != "ACTIVE":
        raise denied("(the target is not an active member account of the organization)")
    needed = TASK_POLICIES[task][1]
    if not _trusted(backend) or needed not in enabled_features(org.id):
        raise denied(f"(centralized root access: {needed} is not enabled for the organization)")

    access_key = "ASIA" + "".join(secrets.choice(_KEY_CHARS) for _ in range(16))
    expiration = datetime.now(UTC) + timedelta(seconds=duration)
    with _lock:
        _sessions[access_key] = RootSession(target_id, partition, task, expiration)
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": access_key,
                "SecretAccessKey": secrets.token_urlsafe(30),
                "SessionToken": secrets.token_urlsafe(96),
                "Expiration": expiration,
            }
        }
    )


# --- installing ------------------------------------------------------------------------------


def install() -> None:
    """Teach moto (in this process) everything above; idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        import moto.iam.models as iam_models
        from moto.core.responses import BaseResponse
        from moto.iam.responses import IamResponse
        from moto.organizations.models import (
            FakeDelegatedAdministrator,
            FakeServiceAccess,
            OrganizationsBackend,
        )
        from moto.sts.models import STSBackend
        from moto.sts.responses import TokenResponse

        # IAM is an AWS Organizations trusted service; moto's list lacks it.
        if IAM_SERVICE_PRINCIPAL not in FakeServiceAccess.TRUSTED_SERVICES:
            FakeServiceAccess.TRUSTED_SERVICES.append(IAM_SERVICE_PRINCIPAL)
        if IAM_SERVICE_PRINCIPAL not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(IAM_SERVICE_PRINCIPAL)

        original_call_action = BaseResponse.call_action

        def call_action(self: Any) -> Any:
            return _call_action(self, original_call_action)

        original_account_of = iam_models.get_account_id_from

        def get_account_id_from(access_key: str) -> str:
            principal = root_principal(access_key)
            return principal.account_id if principal else str(original_account_of(access_key))

        original_identity = STSBackend.get_caller_identity
        original_summary = IamResponse.get_account_summary

        def get_account_summary(self: Any) -> Any:
            return _account_summary(self, original_summary)

        def get_caller_identity(self: Any, access_key_id: str, region: str) -> Any:
            principal = root_principal(access_key_id)
            if principal is None:
                return original_identity(self, access_key_id, region)
            return principal.account_id, principal.arn, principal.account_id

        patches: list[tuple[object, str, object]] = [
            (BaseResponse, "call_action", call_action),
            (iam_models, "get_account_id_from", get_account_id_from),
            (STSBackend, "get_caller_identity", get_caller_identity),
            (TokenResponse, "assume_root", _assume_root),
            (IamResponse, "get_account_summary", get_account_summary),
            (IamResponse, "list_organizations_features", _list_organizations_features),
            (
                IamResponse,
                "enable_organizations_root_credentials_management",
                _enable_root_credentials_management,
            ),
            (IamResponse, "enable_organizations_root_sessions", _enable_root_sessions),
        ]
        for read in (
            "list_accounts",
            "list_aws_service_access_for_organization",
            "list_delegated_administrators",
        ):
            patches.append(
                (OrganizationsBackend, read, _as_management(getattr(OrganizationsBackend, read)))
            )
        for owner, name, value in patches:
            setattr(owner, name, value)
        _installed = True


_FAKE_CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBsandboxROOTsigningCERTIFICATEnotAREALoneXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n"
    "-----END CERTIFICATE-----"
)
