"""Running one job per item in worker threads, a bounded number at a time, for the features that
fan out over accounts or regions (the sweep, the root credentials audit, CloudTrail's regions,
Security Hub's accounts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
