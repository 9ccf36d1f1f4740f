"""Thin wrappers around AWS API calls that turn botocore failures into remediate errors, and the
waits IAM's eventual consistency calls for."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from remediate.aws.errors import (
    CONFLICT_CODES,
    NOT_FOUND_CODES,
    THROTTLING_CODES,
    UNREACHABLE,
    translate,
)
from remediate.aws.options import AwsOptions, config_error
from remediate.core.errors import AwsError, InputError
from remediate.core.spinner import Waiting

# botocore is imported inside the functions: step kinds import this module, and commands that
# only read playbooks (`permissions`, `playbook list`, input checks) must not pay for botocore.

log = logging.getLogger(__name__)

T = TypeVar("T")

# IAM documents that a new entity may be invisible for a while; the Terraform AWS provider and
# Ansible wait two minutes for it.
CONSISTENCY_TIMEOUT = 120.0
FIRST_WAIT = 0.25
MAX_WAIT = 8.0
# A one-attempt create that was throttled or refused for a conflict was not applied: try again.
MAX_SAFE_ATTEMPTS = 8


def action_name(client: Any, operation: str) -> str:
    """The IAM policy action for an operation, e.g. ``iam:CreateUser``."""
    prefix = client.meta.service_model.signing_name or client.meta.service_model.endpoint_prefix
    return f"{prefix}:{operation}"


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
        return config_error(exc, AwsOptions())
    return translate(exc, action)


def _call_errors() -> tuple[type[Exception], ...]:
    """What a botocore call raises for a failure that is not a bug of ours."""
    import botocore.exceptions
    from botocore.parsers import ResponseParserError

    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ResponseParserError)


# The answer as botocore parses it: AWS's shapes, not modelled again here.
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


# Request parameters computed anew for each send (TOTP codes expire): names to values.
Fresh = Callable[[], dict[str, str]]


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
    spinner: Waiting,
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
    spinner: Waiting,
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
