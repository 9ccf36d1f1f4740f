"""Fetch the IAM credential report: generate, then poll with bounded backoff until it is ready."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remediate.aws.calls import call
from remediate.aws.errors import THROTTLING_CODES
from remediate.core.clock import utc
from remediate.core.errors import AwsError
from remediate.core.spinner import Waiting

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


class ReportFetch:
    """GenerateCredentialReport, then GetCredentialReport until ready, one step at a time:
    each :meth:`advance` makes the step's calls and answers the report, or how many seconds to
    wait before the next step. A sweep interleaves many accounts' fetches in one thread this way
    instead of sleeping through each report's generation."""

    def __init__(
        self,
        iam: Any,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        account_id: str | None = None,
    ) -> None:
        self.iam = iam
        # Named in -v's lines when a sweep interleaves many accounts' fetches.
        self.about = f"account {account_id}: " if account_id else ""
        self.timeout = timeout
        self.clock = clock
        self.started = clock()
        self.deadline = self.started + timeout
        self.delay = FIRST_DELAY
        self.need_generate = True

    def advance(self) -> FetchedReport | float:
        # Right after a STARTED answer the report cannot be ready yet: wait before asking.
        wait_first = False
        if self.need_generate:
            log.info("%sasking IAM to generate the credential report", self.about)
            try:
                state = call(self.iam, "GenerateCredentialReport").get("State")
                self.need_generate, wait_first = False, state != "COMPLETE"
                log.info("%scredential report generation: %s", self.about, state)
            except AwsError as exc:
                if exc.code not in _WAIT_CODES:
                    raise
                log.info("%scredential report generation deferred (%s)", self.about, exc.code)
        if not (self.need_generate or wait_first):
            log.info("%sreading the credential report", self.about)
            try:
                answer = call(self.iam, "GetCredentialReport")
                return FetchedReport(
                    content=answer["Content"],
                    generated_at=_generated_at(answer.get("GeneratedTime")),
                )
            except AwsError as exc:
                if exc.code in _REGENERATE_CODES:
                    self.need_generate = True
                elif exc.code not in _WAIT_CODES:
                    raise
                log.info("%scredential report not ready (%s)", self.about, exc.code)
        # The last wait is cut to the time left, so the final poll happens at the deadline
        # instead of giving up up to MAX_DELAY seconds early.
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise AwsError(
                f"the credential report was not ready within {self.timeout:g} s",
                tip="rerun in a minute, or raise --report-timeout",
                code="Timeout",
                action="iam:GetCredentialReport",
            )
        wait = min(self.delay, remaining)
        self.delay = min(self.delay * 2, MAX_DELAY)
        log.info("%sasking again for the credential report in %.2g s", self.about, wait)
        return wait


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
    fetch = ReportFetch(iam, timeout=timeout, clock=clock)
    spinner = Waiting()
    try:
        while True:
            step = fetch.advance()
            if isinstance(step, FetchedReport):
                return step
            spinner.show(
                f"Waiting for IAM to generate the credential report: "
                f"{clock() - fetch.started:.0f} s of at most {timeout:g}"
            )
            sleep(step)
    finally:
        spinner.clear()
