"""Thin wrappers around AWS API calls that turn botocore failures into remediate errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from remediate.core.errors import AwsError, InputError

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
# HTTP 409: another change to the entity is in progress; botocore does not retry these.
CONFLICT_CODES = frozenset({"ConcurrentModification", "EntityTemporarilyUnmodifiable"})
ALREADY_EXISTS = "EntityAlreadyExists"
# Not an AWS code: the request never left (no connection), so nothing was applied.
UNREACHABLE = "EndpointUnreachable"

log = logging.getLogger(__name__)

T = TypeVar("T")

# IAM documents that a new entity may be invisible for a while; the Terraform AWS provider and
# Ansible wait two minutes for it.
CONSISTENCY_TIMEOUT = 120.0
FIRST_WAIT = 0.25
MAX_WAIT = 8.0
# A one-attempt create that was throttled or refused for a conflict was not applied: try again.
MAX_SAFE_ATTEMPTS = 8

CREDENTIALS_TIP = (
    "configure credentials (`aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/"
    "AWS_SECRET_ACCESS_KEY), or try the built-in sandbox with --sandbox"
)


def action_name(client: Any, operation: str) -> str:
    """The IAM policy action for an operation, e.g. ``iam:CreateUser``."""
    prefix = client.meta.service_model.signing_name or client.meta.service_model.endpoint_prefix
    return f"{prefix}:{operation}"


ENDPOINT_TIP = "check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL)"
NOT_AWS_TIP = (
    "check --endpoint-url (or AWS_ENDPOINT_URL, or the profile's endpoint_url): it must be an "
    "AWS API endpoint or an emulator of one"
)
# Not AWS codes: an answer that is no AWS answer at all (a web page, another service).
NOT_AWS = "NotAnAwsResponse"


def _endpoint_of(exc: Exception) -> str:
    url = getattr(exc, "kwargs", {}).get("endpoint_url")
    return f" {url}" if url else ""


def translate(exc: Exception, action: str) -> AwsError:
    """One line and a tip for a botocore failure of ``action``."""
    import botocore.exceptions
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        # The endpoint answered, but not in AWS's format: an HTML page, another protocol.
        return AwsError(
            f"the endpoint's answer to {action} is not an AWS API response",
            tip=NOT_AWS_TIP,
            code=NOT_AWS,
            action=action,
            ambiguous=True,  # something answered: whether it acted on the request is unknown
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = " ".join(str(err.get("Message", "")).split())
        if code.isdigit() or code == "Unknown":
            # botocore names an error by its HTTP status when the body had no AWS error in it.
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or code
            return AwsError(
                f"the endpoint answered {action} with HTTP {status} and no AWS error: it does "
                "not look like an AWS API endpoint",
                tip=NOT_AWS_TIP,
                code=NOT_AWS,
                action=action,
                ambiguous=int(status) >= 500 if str(status).isdigit() else False,
            )
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
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return AwsError(
            f"{action} failed: {code}: {message}",
            code=code,
            action=action,
            # A server error may come after the change was made.
            ambiguous=status >= 500,
        )
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
        # Sent, answer lost: the request may have been applied. Not sent: it was not.
        sent = isinstance(
            exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectionClosedError
        )
        if sent:
            what = f"the connection to the AWS endpoint{_endpoint_of(exc)} was lost during {action}"
        else:
            what = f"cannot reach the AWS endpoint{_endpoint_of(exc)} for {action}"
        return AwsError(
            f"{what} ({_network_reason(exc)})",
            tip=ENDPOINT_TIP,
            code=None if sent else UNREACHABLE,
            action=action,
            ambiguous=sent,
        )
    if isinstance(exc, botocore.exceptions.SSLError):
        return AwsError(
            f"TLS failed with the AWS endpoint{_endpoint_of(exc)} for {action} ({_reason(exc)})",
            tip="check --endpoint-url and the machine's CA certificates (AWS_CA_BUNDLE)",
            code=UNREACHABLE,
            action=action,
        )
    if isinstance(
        exc,
        botocore.exceptions.CredentialRetrievalError
        | botocore.exceptions.RefreshWithMFAUnsupportedError
        | botocore.exceptions.TokenRetrievalError
        | botocore.exceptions.SSOError,
    ):
        return AwsError(
            f"cannot get AWS credentials: {_reason(exc)}", tip=CREDENTIALS_TIP, action=action
        )
    return AwsError(f"{action} failed: {_reason(exc)}", action=action)


def _network_reason(exc: Exception) -> str:
    """Why a connection failed, in the operating system's words ("[Errno 111] Connection
    refused", "Name or service not known"), without urllib3's object dumps."""
    import re

    error = getattr(exc, "kwargs", {}).get("error")
    text = " ".join(str(error if error is not None else exc).split())
    found = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if found:
        return found.group(0).strip()
    if "timed out" in text.lower():
        return "timed out"
    return _reason(exc)


def _reason(exc: Exception) -> str:
    """botocore's message on one line, cut short: a URL, an errno, a host name."""
    return " ".join(str(exc).split())[:300]


def _failure(exc: Exception, action: str) -> AwsError | InputError:
    """:func:`translate`, except that a profile or config file that cannot be used (met when
    credentials are first needed) is the person's input, not AWS failing."""
    import botocore.exceptions

    if isinstance(
        exc,
        botocore.exceptions.ProfileNotFound
        | botocore.exceptions.InvalidConfigError
        | botocore.exceptions.InvalidRegionError,
    ):
        from remediate.aws.session import AwsOptions, config_error

        return config_error(exc, AwsOptions())
    return translate(exc, action)


def _call_errors() -> tuple[type[Exception], ...]:
    """What a botocore call raises for a failure that is not a bug of ours."""
    import botocore.exceptions
    from botocore.parsers import ResponseParserError

    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ResponseParserError)


def call(client: Any, operation: str, /, **params: Any) -> dict[str, Any]:
    """Call ``operation`` (e.g. ``"CreateUser"``) and translate any failure to an AwsError."""
    from botocore import xform_name

    try:
        result: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    except _call_errors() as exc:
        raise _failure(exc, action_name(client, operation)) from exc
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
    from botocore import xform_name

    items: list[Any] = []
    try:
        for page in client.get_paginator(xform_name(operation)).paginate(**params):
            items.extend(page.get(key, []))
    except _call_errors() as exc:
        raise _failure(exc, action_name(client, operation)) from exc
    return items


def _backoff(delay: float) -> float:
    return min(delay * 2, MAX_WAIT)


Fresh = Callable[[], dict[str, Any]]


def call_once(
    client: Any, operation: str, /, *, fresh: Fresh | None = None, **params: Any
) -> dict[str, Any]:
    """A call through a client that never resends (``Aws.iam_once``), for a create that must
    happen once. A refusal that proves nothing was applied (throttling, a 409 conflict, a
    connection never made) is tried again with backoff; an answer lost after the request was
    sent raises an AwsError with ``ambiguous`` set, for the caller to look before trying again.
    ``fresh()`` gives parameters computed anew for each send (TOTP codes expire).
    """
    delay = FIRST_WAIT
    for attempt in range(1, MAX_SAFE_ATTEMPTS + 1):
        try:
            return call(client, operation, **params, **(fresh() if fresh else {}))
        except AwsError as exc:
            retry = exc.code in THROTTLING_CODES | CONFLICT_CODES | {UNREACHABLE}
            if not retry or attempt == MAX_SAFE_ATTEMPTS:
                raise
            log.info("%s refused (%s), trying again in %.2g s", operation, exc.code, delay)
            time.sleep(delay)
            delay = _backoff(delay)
    raise AssertionError("unreachable")


def consistent(
    what: str,
    attempt: Callable[[], T],
    *,
    names: tuple[str, ...] = (),
    timeout: float = CONSISTENCY_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``attempt()``, tried again while IAM has not caught up: a 409 conflict always, and "no
    such entity" about one of ``names`` (entities just created or just seen). IAM's message names
    the entity it cannot find, so a missing managed policy is not waited for as if it were the
    group just created.

    The first wait is said on stderr (a warning), each one with -v; after ``timeout`` seconds
    the last error stands.
    """
    from remediate.core.spinner import Waiting

    spinner = Waiting()  # shown only once there is something to wait for
    try:
        return _consistent(what, attempt, names, timeout, sleep, clock, spinner)
    finally:
        spinner.clear()


def _consistent(
    what: str,
    attempt: Callable[[], T],
    names: tuple[str, ...],
    timeout: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    spinner: Any,
) -> T:
    deadline = clock() + timeout
    started = clock()
    delay = FIRST_WAIT
    said = False
    while True:
        try:
            return attempt()
        except AwsError as exc:
            message = exc.message.casefold()
            waitable = exc.code in CONFLICT_CODES or (
                exc.code in NOT_FOUND_CODES and any(n.casefold() in message for n in names)
            )
            if not waitable or clock() + delay > deadline:
                raise
            if not said:
                said = True
                log.warning(
                    "waiting for IAM to catch up with %s (%s; IAM is eventually consistent), "
                    "for up to %g s",
                    what,
                    exc.code,
                    timeout,
                )
            else:
                log.info("still waiting for %s (%s), %.2g s", what, exc.code, delay)
            spinner.show(
                f"Waiting for IAM to catch up with {what} (eventually consistent): "
                f"{clock() - started:.0f} s of at most {timeout:g}"
            )
            sleep(delay)
            delay = _backoff(delay)


def eventually(
    what: str,
    check: Callable[[], T | None],
    *,
    timeout: float = CONSISTENCY_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T | None:
    """``check()`` until it answers something (not None), with the backoff of :func:`consistent`;
    None if IAM still has not shown it after ``timeout`` seconds. Waits are said as
    :func:`consistent` says them: the first on stderr, each one with -v."""
    from remediate.core.spinner import Waiting

    spinner = Waiting()
    try:
        return _eventually(what, check, timeout, sleep, clock, spinner)
    finally:
        spinner.clear()


def _eventually(
    what: str,
    check: Callable[[], T | None],
    timeout: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    spinner: Any,
) -> T | None:
    deadline = clock() + timeout
    started = clock()
    delay = FIRST_WAIT
    said = False
    while True:
        found = check()
        if found is not None or clock() + delay > deadline:
            return found
        if not said:
            said = True
            log.warning(
                "waiting for IAM to show %s (IAM is eventually consistent), for up to %g s",
                what,
                timeout,
            )
        else:
            log.info("still waiting for IAM to show %s, %.2g s", what, delay)
        spinner.show(
            f"Waiting for IAM to show {what} (eventually consistent): "
            f"{clock() - started:.0f} s of at most {timeout:g}"
        )
        sleep(delay)
        delay = _backoff(delay)
