"""Centralized root access, in the sandbox's moto server: IAM's organization features
(``ListOrganizationsFeatures``, ``EnableOrganizationsRootCredentialsManagement``,
``EnableOrganizationsRootSessions``), ``sts:AssumeRoot``, and Organizations' reads a delegated
administrator for IAM is answered as the management account.

Only the organization's management account enables a feature; it or its delegated administrator
for IAM lists them and assumes root, never on the management account itself and only on an
ACTIVE member, once trusted access for IAM and the feature the task policy needs are on
(:data:`remediate.sandbox.root.TASK_POLICIES`).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from remediate.sandbox import root as sandbox_root
from remediate.sandbox.root import (
    IAM_SERVICE_PRINCIPAL,
    MAX_TASK_SECONDS,
    ROOT_CREDENTIALS_MANAGEMENT,
    ROOT_SESSIONS,
    TASK_POLICIES,
    auth_error,
    iam_error,
)

_install_lock = threading.Lock()
_installed = False


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
        raise iam_error(
            "OrganizationNotFoundException",
            "The request was rejected because no organization is associated with your account.",
        )
    if not is_management and (enable is not None or not _delegated_for_iam(backend, caller)):
        if enable is not None:
            raise iam_error(
                "CallerIsNotManagementAccountException",
                "The request was rejected because the account making the request is not the "
                "management account for the organization.",
            )
        raise iam_error(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account making the request is not the "
            "management account or delegated administrator account for centralized root access.",
        )
    if org.feature_set != "ALL":
        raise iam_error(
            "OrganizationNotInAllFeaturesModeException",
            "The request was rejected because your organization does not have All features "
            "enabled.",
        )
    if not _trusted(backend):
        raise iam_error(
            "ServiceAccessNotEnabledException",
            "The request was rejected because trusted access for IAM is not enabled for the "
            "organization.",
        )
    if enable is not None:
        sandbox_root.enable_feature(org.id, enable)
    enabled = sorted(sandbox_root.enabled_features(org.id))
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
        return auth_error(
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
    if not _trusted(backend) or needed not in sandbox_root.enabled_features(org.id):
        raise denied(f"(centralized root access: {needed} is not enabled for the organization)")

    credentials = sandbox_root.open_task_session(target_id, partition, task, duration)
    return ActionResult({"Credentials": credentials})


def install() -> None:
    """Teach moto (in this process) centralized root access; idempotent."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from moto.iam.responses import IamResponse
        from moto.organizations.models import OrganizationsBackend
        from moto.sts.responses import TokenResponse

        sandbox_root.trust_iam()
        patches: list[tuple[object, str, object]] = [
            (TokenResponse, "assume_root", _assume_root),
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
