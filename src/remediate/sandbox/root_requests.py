"""Requests signed as a root user, in the sandbox's moto server: in front of every call.

A deleted or inactive root access key is refused (``InvalidClientTokenId``), an expired task
session too (``ExpiredToken``). A root user may not call AssumeRoot; a task session may call only
what its AWS task policy allows, and only on root (a call naming an IAM user is denied); root's
own keys may not call the operations botocore's model reserves to an AssumeRoot session. What
passes is IAM's root credential operation (:mod:`remediate.sandbox.root_iam`) when ``UserName``
is omitted, else moto's own answer, given as that account's root (STS's GetCallerIdentity says
so).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from remediate.sandbox.root import (
    TASK_POLICIES,
    RootPrincipal,
    auth_error,
    iam_error,
    refused_key,
    root_principal,
)
from remediate.sandbox.root_iam import (
    ROOT_CREDENTIAL_OPERATIONS,
    account_summary,
    root_credential_operation,
)

# botocore's IAM model, on each: "When you make this request with root user credentials, you
# must use an AssumeRoot session to omit the user name." Root's own keys are refused them.
ROOT_SESSION_OPERATIONS = frozenset(
    {"GetLoginProfile", "DeleteLoginProfile", "DeactivateMFADevice"}
)

_install_lock = threading.Lock()
_installed = False


def _respond(response: Any, result: Any) -> Any:
    """Serialize ``result`` (an answer, or an exception) the way moto's call_action does."""
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from werkzeug.exceptions import HTTPException

    if isinstance(result, HTTPException):
        error_headers: dict[str, object] = dict(result.get_headers() or [])
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
    return auth_error(
        "AccessDenied",
        f"User: {principal.arn} is not authorized to perform: {action} on resource: "
        f"{principal.arn} {why}",
        403,
        json_protocol=json_protocol,
    )


def _refusal(response: Any, principal: RootPrincipal, service: str, operation: str) -> Any:
    """Why a root user's request is refused before it runs (an error to answer), or ``None``."""
    action = f"{service}:{operation}"
    json_protocol = service not in ("iam", "sts")
    session = principal.session
    if session is not None and datetime.now(UTC) >= session.expiration:
        return auth_error(
            "ExpiredToken",
            "The security token included in the request is expired",
            403,
            json_protocol=json_protocol,
        )
    if action == "sts:GetCallerIdentity":
        return None  # needs no permission; the STS backend answers as root
    if action == "sts:AssumeRoot":
        return _denied(
            principal,
            action,
            "because root user credentials cannot call AssumeRoot",
            json_protocol=json_protocol,
        )
    names_a_user = service == "iam" and bool(response._get_param("UserName"))
    if session is not None:
        allowed = TASK_POLICIES[session.task_policy][0]
        if action not in allowed or names_a_user:
            return _denied(
                principal,
                action,
                f"with an explicit deny in a session policy ({session.task_policy})",
                json_protocol=json_protocol,
            )
    elif service == "iam" and operation in ROOT_SESSION_OPERATIONS and not names_a_user:
        return iam_error(
            "ValidationError",
            f"{operation} without UserName needs an AssumeRoot session when called with "
            "root user credentials.",
        )
    return None


def _call_action(response: Any, original: Any) -> Any:
    """moto's call_action, with root users in front: root's keys act as root; a task session
    may do only what its task policy allows; IAM answers for root when UserName is omitted."""
    key = response.get_access_key()
    service = str(response.service_name)
    if refused_key(key):
        return _respond(
            response,
            auth_error(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
                403,
                json_protocol=service not in ("iam", "sts"),
            ),
        )
    principal = root_principal(key)
    if principal is None:
        return original(response)
    operation = str(response._get_action())
    refusal = _refusal(response, principal, service, operation)
    if refusal is not None:
        return _respond(response, refusal)
    if (
        service == "iam"
        and operation in ROOT_CREDENTIAL_OPERATIONS
        and not response._get_param("UserName")
    ):
        try:
            answer = root_credential_operation(response, principal.account_id, operation)
        except Exception as exc:
            from moto.core.exceptions import ServiceException

            if not isinstance(exc, ServiceException):
                raise
            answer = exc
        return _respond(response, answer)
    return original(response)


def install() -> None:
    """Put root users in front of moto's requests (in this process); idempotent. After the
    sandbox's own access-key lookup: a root key is looked up first."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import moto.iam.models as iam_models
        from moto.core.responses import BaseResponse
        from moto.iam.responses import IamResponse
        from moto.sts.models import STSBackend

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
            return account_summary(self, original_summary)

        def get_caller_identity(self: Any, access_key_id: str, region: str) -> Any:
            principal = root_principal(access_key_id)
            if principal is None:
                return original_identity(self, access_key_id, region)
            return principal.account_id, principal.arn, principal.account_id

        patches: list[tuple[object, str, object]] = [
            (BaseResponse, "call_action", call_action),
            (iam_models, "get_account_id_from", get_account_id_from),
            (STSBackend, "get_caller_identity", get_caller_identity),
            (IamResponse, "get_account_summary", get_account_summary),
        ]
        for owner, name, value in patches:
            setattr(owner, name, value)
        _installed = True
