"""Tests for remediate.core.ratelimit's non-blocking take: the sandbox's CloudTrail throttling."""

from __future__ import annotations

from remediate.core.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_take_refuses_without_waiting_once_the_burst_is_spent() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, capacity=2.0, clock=clock, sleep=lambda s: None)
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 0.5  # one token back at two a second
    assert [bucket.take() for _ in range(2)] == [True, False]


def test_a_refused_take_spends_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, capacity=1.0, clock=clock, sleep=lambda s: None)
    assert bucket.take()
    for _ in range(5):
        assert not bucket.take()
    clock.now += 0.5
    assert bucket.take()


def test_take_after_acquire_waits_for_the_reserved_token() -> None:
    clock = FakeClock()
    slept: list[float] = []
    bucket = TokenBucket(2.0, capacity=1.0, clock=clock, sleep=slept.append)
    bucket.acquire()
    bucket.acquire()  # reserves the next token: the count goes below zero
    assert slept == [0.5]
    clock.now += 0.5
    assert not bucket.take()  # that token was the waiting caller's
    clock.now += 0.5
    assert bucket.take()
