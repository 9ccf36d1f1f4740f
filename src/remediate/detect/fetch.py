"""Fetch the IAM credential report: generate, then poll with bounded backoff until it is ready."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remediate.aws.calls import THROTTLING_CODES, call
from remediate.clock import utc
from remediate.errors import AwsError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
FIRST_DELAY = 1.0
MAX_DELAY = 8.0

# Codes that mean "not ready yet: wait and ask again"; the rest of AWS's answers are final.
_WAIT_CODES = frozenset({"ReportInProgress", "LimitExceeded", *THROTTLING_CODES})
_REGENERATE_CODES = frozenset({"ReportNotPresent", "ReportExpired"})


@dataclass(frozen=True)
class FetchedReport:
    """The report's CSV bytes and when AWS generated it."""

    content: bytes
    generated_at: datetime | None


def _generated_at(value: Any) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


def fetch_credential_report(
    iam: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FetchedReport:
    """GenerateCredentialReport, then GetCredentialReport until ready or ``timeout`` seconds pass.

    With a ready report this makes exactly two calls.
    """
    from remediate.output import Waiting

    started = clock()
    deadline = started + timeout
    delay = FIRST_DELAY
    need_generate = True
    spinner = Waiting()
    try:
        while True:
            # Right after a STARTED answer the report cannot be ready yet: wait before asking.
            wait_first = False
            if need_generate:
                log.info("asking IAM to generate the credential report")
                try:
                    state = call(iam, "GenerateCredentialReport").get("State")
                    need_generate, wait_first = False, state != "COMPLETE"
                    log.info("credential report generation: %s", state)
                except AwsError as exc:
                    if exc.code not in _WAIT_CODES:
                        raise
                    log.info("credential report generation deferred (%s)", exc.code)
            if not (need_generate or wait_first):
                log.info("reading the credential report")
                try:
                    answer = call(iam, "GetCredentialReport")
                    return FetchedReport(
                        content=answer["Content"],
                        generated_at=_generated_at(answer.get("GeneratedTime")),
                    )
                except AwsError as exc:
                    if exc.code in _REGENERATE_CODES:
                        need_generate = True
                    elif exc.code not in _WAIT_CODES:
                        raise
                    log.info("credential report not ready (%s)", exc.code)
            # The last wait is cut to the time left, so the final poll happens at the deadline
            # instead of giving up up to MAX_DELAY seconds early.
            remaining = deadline - clock()
            if remaining <= 0:
                raise AwsError(
                    f"the credential report was not ready within {timeout:g} s",
                    tip="rerun in a minute, or raise --report-timeout",
                    code="Timeout",
                    action="iam:GetCredentialReport",
                )
            pause = min(delay, remaining)
            log.info("asking again for the credential report in %.2g s", pause)
            spinner.show(
                f"Waiting for IAM to generate the credential report: {clock() - started:.0f} s "
                f"of at most {timeout:g}"
            )
            sleep(pause)
            delay = min(delay * 2, MAX_DELAY)
    finally:
        spinner.clear()
