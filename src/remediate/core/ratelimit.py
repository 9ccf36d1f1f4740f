"""Token buckets: a request rate kept per account and region, rather than hit and retried.

The product waits for a token (:meth:`TokenBucket.acquire`) before each CloudTrail LookupEvents
request; the sandbox's emulator refuses a request that finds none (:meth:`TokenBucket.take`), as
the service throttles one. Both are the same bucket, one per account and region
(:class:`RateLimiter`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# CloudTrail's documented limit for LookupEvents: two requests per second, per account, per region.
LOOKUP_RATE = 2.0


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved up; :meth:`acquire` waits for one,
    :meth:`take` takes one only if it is there.

    Thread-safe: a caller reserves its token under the lock (the count may go below zero: later
    callers queue behind it) and sleeps outside it, so threads sharing a bucket are spaced out
    and none holds the lock while waiting.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, by every caller

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> float:
        """Take one token, waiting until it is there; return the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def take(self) -> bool:
        """Take one token if one is there now; ``False`` (nothing taken) when there is none."""
        with self._lock:
            self._refill()
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class RateLimiter:
    """One :class:`TokenBucket` per account and region, created on first use.

    ``capacity`` 1 spaces requests evenly (one every half second at two a second) instead of
    allowing a burst: a burst of two could reach AWS closer together than it left.
    """

    def __init__(
        self,
        rate: float = LOOKUP_RATE,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, account_id: str, region: str) -> TokenBucket:
        with self._lock:
            key = (account_id, region)
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(
                    self.rate, self.capacity, clock=self._clock, sleep=self._sleep
                )
            return self._buckets[key]
