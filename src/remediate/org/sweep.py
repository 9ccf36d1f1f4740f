"""The organization sweep: root-use detection in many accounts at once.

Each account is judged in a worker thread with a session opened there and dropped after; the
result carries facts (verdict or error), never a live session.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from queue import Queue
from typing import TYPE_CHECKING, TypedDict

from remediate.core.errors import EXIT_AWS, EXIT_OK, EXIT_ROOT_IN_USE, RemediateError
from remediate.detect.fetch import FetchedReport, ReportFetch
from remediate.detect.judge import Verdict
from remediate.detect.service import judge_fetched

if TYPE_CHECKING:
    from remediate.org.accounts import AccountSession, Target

log = logging.getLogger(__name__)

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

    def to_json(self) -> dict[str, object]:
        """The single-account document (nulls where a failed account has no verdict), plus
        ``account_name`` and ``error``."""
        document: dict[str, object]
        if self.verdict is not None:
            document = dict(self.verdict.to_json())
        else:
            # Verdict.to_json's keys are its field names: the same shape, nothing known.
            document = {f.name: None for f in fields(Verdict)}
            document.update(account_id=self.account_id, evidence=[], notes=[], findings=[])
        document["account_name"] = self.account_name
        document["error"] = self.error
        return document


class SweepSummary(TypedDict):
    """A sweep's counts by verdict (a failed account counts as undetermined)."""

    total: int
    in_use: int
    not_in_use: int
    undetermined: int


class SweepJson(TypedDict):
    """``root-use --accounts/--all-accounts -o json``: each account's document
    (:meth:`AccountResult.to_json`, to which the command adds) and the counts."""

    accounts: list[dict[str, object]]
    summary: SweepSummary


@dataclass(frozen=True)
class SweepResult:
    """Every swept account, in use first, then undetermined or failed, then not in use."""

    accounts: tuple[AccountResult, ...]

    def summary(self) -> SweepSummary:
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

    def to_json(self) -> SweepJson:
        """``root-use --accounts/--all-accounts -o json``: a document the command adds to (each
        account's ``sandbox``, ``security_hub``) before printing it."""
        return {"accounts": [a.to_json() for a in self.accounts], "summary": self.summary()}


def sort_results(results: Iterable[AccountResult]) -> tuple[AccountResult, ...]:
    """In use first, then undetermined or failed, then not in use; ties by account id."""
    return tuple(sorted(results, key=lambda a: (_RANK[a.root_in_use], a.account_id)))


# Accounts one worker keeps at once while IAM generates their credential reports: a report takes
# seconds, and a worker that slept through each one would need that many more threads.
WAITING_PER_WORKER = 8


@dataclass
class _Judging:
    """One account being judged: its session (opened in the worker's thread) and the fetch of
    its credential report, advanced one step at a time."""

    target: Target
    session: AccountSession
    fetch: ReportFetch


def _failed(target: Target, exc: RemediateError) -> AccountResult:
    log.info("account %s: %s", target.account_id, exc.message)
    return AccountResult(target.account_id, target.account_name, None, one_line(exc.message))


def _start(
    open_account: Callable[[str], AccountSession], target: Target, report_timeout: float
) -> _Judging | AccountResult:
    try:
        session = open_account(target.account_id)
    except RemediateError as exc:
        return _failed(target, exc)
    fetch = ReportFetch(session.aws.iam, timeout=report_timeout, account_id=target.account_id)
    return _Judging(target, session, fetch)


def _advance(job: _Judging, days: int, enrich: Enrich | None) -> AccountResult | float:
    """The job's next step: its result, or seconds until its next step."""
    try:
        step = job.fetch.advance()
        if not isinstance(step, FetchedReport):
            return step
        verdict = judge_fetched(step, job.session.identity, days=days, iam=job.session.aws.iam)
        if enrich is not None:
            verdict = enrich(job.session, verdict)
    except RemediateError as exc:
        return _failed(job.target, exc)
    return AccountResult(job.target.account_id, job.target.account_name, verdict, None)


class _Crashed:
    """A worker's unexpected exception, handed to the calling thread to raise."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def sweep(
    open_account: Callable[[str], AccountSession],
    targets: Sequence[Target],
    *,
    concurrency: int,
    days: int,
    report_timeout: float,
    progress: Callable[[AccountResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    enrich: Enrich | None = None,
) -> SweepResult:
    """Judge root use in every target account with ``concurrency`` worker threads, each keeping
    up to WAITING_PER_WORKER accounts at once while their credential reports are generated.

    Each account's session is opened, used and dropped in one worker's thread. A failure in one
    account becomes that account's ``error`` and the sweep goes on. ``progress`` is called in the
    calling thread as each account finishes; ``enrich`` runs in the account's worker thread,
    with its session, after detection (CloudTrail's evidence). Ctrl-C stops the workers.
    """
    queue: collections.deque[Target] = collections.deque(targets)
    queue_lock = threading.Lock()
    done: Queue[AccountResult | _Crashed] = Queue()
    stop = threading.Event()

    def next_target() -> Target | None:
        with queue_lock:
            return queue.popleft() if queue else None

    def work() -> None:
        waiting: list[tuple[float, int, _Judging]] = []
        order = itertools.count()
        while not stop.is_set():
            while len(waiting) < WAITING_PER_WORKER:
                target = next_target()
                if target is None:
                    break
                started = _start(open_account, target, report_timeout)
                if isinstance(started, AccountResult):
                    done.put(started)
                else:
                    heapq.heappush(waiting, (clock(), next(order), started))
            if not waiting:
                return
            due, _, job = heapq.heappop(waiting)
            pause = due - clock()
            if pause > 0 and stop.wait(pause):
                return
            step = _advance(job, days, enrich)
            if isinstance(step, AccountResult):
                done.put(step)
            else:
                heapq.heappush(waiting, (clock() + step, next(order), job))

    def worker() -> None:
        try:
            work()
        except BaseException as exc:  # a bug: the calling thread raises it
            done.put(_Crashed(exc))

    workers = [
        threading.Thread(target=worker, name=f"remediate-sweep-{n}", daemon=True)
        for n in range(min(concurrency, max(len(targets), 1)))
    ]
    for thread in workers:
        thread.start()
    results: list[AccountResult] = []
    try:
        while len(results) < len(targets):
            item = done.get()
            if isinstance(item, _Crashed):
                raise item.exc
            results.append(item)
            if progress is not None:
                progress(item)
    except BaseException:
        stop.set()
        raise
    for thread in workers:
        thread.join()
    return SweepResult(sort_results(results))
