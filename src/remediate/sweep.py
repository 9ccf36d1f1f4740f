"""The organization sweep: root-use detection in many accounts at once.

Each account is judged in a worker thread with a session opened there and dropped after; the
result carries facts (verdict or error), never a live session. The pool itself
(:func:`each_concurrently`) also runs the root credentials audit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from remediate.detect.judge import Verdict
from remediate.errors import EXIT_AWS, EXIT_OK, EXIT_ROOT_IN_USE, RemediateError

if TYPE_CHECKING:
    from remediate.accounts import AccountSession, Target

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
# Adds to an account's verdict, in its thread, with its session (e.g. CloudTrail's evidence).
Enrich = Callable[["AccountSession", Verdict], Verdict]

# The row order of a sweep: accounts in use first, then those that could not be judged.
_RANK = {True: 0, None: 1, False: 2}


def one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class AccountResult:
    """One account of a sweep: its verdict, or why it could not be judged."""

    account_id: str
    account_name: str | None
    verdict: Verdict | None  # None when the account failed
    error: str | None  # one line: why the account could not be judged

    @property
    def root_in_use(self) -> bool | None:
        """The verdict's ``root_in_use``; ``None`` (undetermined) for a failed account too."""
        return self.verdict.root_in_use if self.verdict is not None else None

    def to_json(self) -> dict[str, Any]:
        """The single-account document (nulls where a failed account has no verdict), plus
        ``account_name`` and ``error``."""
        if self.verdict is not None:
            document: dict[str, Any] = dict(self.verdict.to_json())
        else:
            # Verdict.to_json's keys are its field names: the same shape, nothing known.
            document = {f.name: None for f in fields(Verdict)}
            document.update(account_id=self.account_id, evidence=[], notes=[], findings=[])
        document["account_name"] = self.account_name
        document["error"] = self.error
        return document


@dataclass(frozen=True)
class SweepResult:
    """Every swept account, in use first, then undetermined or failed, then not in use."""

    accounts: tuple[AccountResult, ...]

    def summary(self) -> dict[str, int]:
        """Counts by verdict; a failed account counts as undetermined."""
        states = [a.root_in_use for a in self.accounts]
        return {
            "total": len(states),
            "in_use": states.count(True),
            "not_in_use": states.count(False),
            "undetermined": sum(s is None for s in states),
        }

    def exit_code(self, *, fail_on_hygiene: bool = False) -> int:
        """1 if root is in use anywhere (or, with ``fail_on_hygiene``, has a hygiene finding
        anywhere), else 3 if any account could not be judged, else 0."""
        counts = self.summary()
        findings = any(a.verdict is not None and a.verdict.findings for a in self.accounts)
        if counts["in_use"] or (fail_on_hygiene and findings):
            return EXIT_ROOT_IN_USE
        return EXIT_AWS if counts["undetermined"] else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {"accounts": [a.to_json() for a in self.accounts], "summary": self.summary()}


def sort_results(results: Iterable[AccountResult]) -> tuple[AccountResult, ...]:
    """In use first, then undetermined or failed, then not in use; ties by account id."""
    return tuple(sorted(results, key=lambda a: (_RANK[a.root_in_use], a.account_id)))


def judge_account(
    open_account: Callable[[str], AccountSession],
    target: Target,
    *,
    days: int,
    report_timeout: float,
    enrich: Enrich | None = None,
) -> AccountResult:
    """Open a session in the account and judge root use there; a failure is the account's.
    ``enrich`` adds to the verdict with the same session (CloudTrail's evidence)."""
    from remediate.detect.service import detect

    try:
        session = open_account(target.account_id)
        verdict = detect(session.aws, session.identity, days=days, report_timeout=report_timeout)
        if enrich is not None:
            verdict = enrich(session, verdict)
    except RemediateError as exc:
        log.info("account %s: %s", target.account_id, exc.message)
        return AccountResult(target.account_id, target.account_name, None, one_line(exc.message))
    return AccountResult(target.account_id, target.account_name, verdict, None)


def each_concurrently(
    items: Sequence[T],
    job: Callable[[T], R],
    *,
    concurrency: int,
    progress: Callable[[R], None] | None = None,
    name: str = "remediate-sweep",
) -> list[R]:
    """``job`` on every item, ``concurrency`` at a time, in worker threads; the results in the
    order they finished. ``job`` keeps its own failures (it returns them as results).

    ``progress`` is called in the calling thread as each item finishes. Ctrl-C (or a bug) stops
    the items still queued.
    """
    results: list[R] = []
    pool = ThreadPoolExecutor(
        max_workers=min(concurrency, max(len(items), 1)), thread_name_prefix=name
    )
    try:
        pending: set[Future[R]] = {pool.submit(job, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results.append(result)
                if progress is not None:
                    progress(result)
    except BaseException:
        # Ctrl-C or a bug: do not start the items still queued.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def sweep(
    open_account: Callable[[str], AccountSession],
    targets: Sequence[Target],
    *,
    concurrency: int,
    days: int,
    report_timeout: float,
    progress: Callable[[AccountResult], None] | None = None,
    enrich: Enrich | None = None,
) -> SweepResult:
    """Judge root use in every target account, ``concurrency`` at a time.

    A failure in one account becomes that account's ``error`` and the sweep goes on.
    ``progress`` is called in the calling thread as each account finishes; ``enrich`` runs in
    each account's thread, with its session, after detection.
    """

    def job(target: Target) -> AccountResult:
        return judge_account(
            open_account, target, days=days, report_timeout=report_timeout, enrich=enrich
        )

    results = each_concurrently(targets, job, concurrency=concurrency, progress=progress)
    return SweepResult(sort_results(results))
