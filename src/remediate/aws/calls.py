"""Thin wrappers around AWS API calls that turn botocore failures into remediate errors."""

from __future__ import annotations

from typing import Any

from remediate.errors import AwsError

# botocore is imported inside the functions: step kinds import this module, and commands that
# only read playbooks (`permissions`, `playbook list`, input checks) must not pay for botocore.

NOT_FOUND_CODES = frozenset({"NoSuchEntity", "NoSuchEntityException", "NotFoundException"})
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
BAD_CREDENTIALS_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
    }
)
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)

CREDENTIALS_TIP = (
    "configure credentials (`aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/"
    "AWS_SECRET_ACCESS_KEY), or try the built-in sandbox with --sandbox"
)


def action_name(client: Any, operation: str) -> str:
    """The IAM policy action for an operation, e.g. ``iam:CreateUser``."""
    prefix = client.meta.service_model.signing_name or client.meta.service_model.endpoint_prefix
    return f"{prefix}:{operation}"


def translate(exc: Exception, action: str) -> AwsError:
    """One line and a tip for a botocore failure of ``action``."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = " ".join(str(err.get("Message", "")).split())
        if code in ACCESS_DENIED_CODES:
            return AwsError(
                f"access denied: the caller may not perform {action} ({message})",
                tip=f"grant {action} to the caller; `remediate permissions` prints the policy",
                code=code,
                action=action,
            )
        if code in BAD_CREDENTIALS_CODES:
            return AwsError(
                f"AWS rejected the credentials ({code}) on {action}",
                tip=CREDENTIALS_TIP,
                code=code,
                action=action,
            )
        if code in THROTTLING_CODES:
            return AwsError(
                f"AWS throttled {action} beyond the retry limit",
                tip="wait a minute and rerun, or raise AWS_MAX_ATTEMPTS",
                code=code,
                action=action,
            )
        return AwsError(f"{action} failed: {code}: {message}", code=code, action=action)
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return AwsError("no AWS credentials found", tip=CREDENTIALS_TIP, action=action)
    if isinstance(exc, botocore.exceptions.PartialCredentialsError):
        return AwsError(f"incomplete AWS credentials: {exc}", tip=CREDENTIALS_TIP, action=action)
    if isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ProxyConnectionError,
    ):
        return AwsError(
            f"cannot reach the AWS endpoint for {action}: {exc}",
            tip="check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL)",
            action=action,
        )
    return AwsError(f"{action} failed: {exc}", action=action)


def call(client: Any, operation: str, /, **params: Any) -> dict[str, Any]:
    """Call ``operation`` (e.g. ``"CreateUser"``) and translate any failure to an AwsError."""
    import botocore.exceptions
    from botocore import xform_name

    try:
        result: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise translate(exc, action_name(client, operation)) from exc
    return result


def call_or_none(client: Any, operation: str, /, **params: Any) -> dict[str, Any] | None:
    """Like :func:`call`, but "no such entity" is ``None`` instead of an error."""
    try:
        return call(client, operation, **params)
    except AwsError as exc:
        if exc.code in NOT_FOUND_CODES:
            return None
        raise


def paginate(client: Any, operation: str, key: str, /, **params: Any) -> list[Any]:
    """All items under ``key`` across the pages of ``operation``."""
    import botocore.exceptions
    from botocore import xform_name

    items: list[Any] = []
    try:
        for page in client.get_paginator(xform_name(operation)).paginate(**params):
            items.extend(page.get(key, []))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise translate(exc, action_name(client, operation)) from exc
    return items
