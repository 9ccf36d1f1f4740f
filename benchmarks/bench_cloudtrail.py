"""Benchmark: `root-use --cloudtrail` over 1 and 17 regions: LookupEvents calls and wall time.

Runs the built-in sandbox (moto, with LookupEvents emulated and its limit of two requests per
second per account and region enforced) in this process, seeds ``--events`` root events in each of
the 17 regions enabled by default, and times the lookup alone (remediate.detect.cloudtrail), with a
fresh rate limiter each time (after a second's pause, so the limit starts afresh): regions at once
(the default: up to 17 at a time) and one after another. The floor is the limit itself: a region of
P pages takes at least (P - 1) / 2 seconds. The emulator shares this process (and its GIL): with
many events, parsing them on both sides makes the figures CPU-bound.

    python benchmarks/bench_cloudtrail.py                 # 120 events a region (3 pages)
    python benchmarks/bench_cloudtrail.py --events 1000   # the bound: 20 pages, 10 s a region
    python benchmarks/bench_cloudtrail.py --latency 80    # each request answered 80 ms late
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.ratelimit import RateLimiter
from remediate.detect.cloudtrail import (
    PAGE_SIZE,
    REGION_CONCURRENCY,
    look_up_root_activity,
    regions_to_look_up,
)
from remediate.sandbox import cloudtrail as sandbox_cloudtrail
from remediate.sandbox import cloudtrail_events
from remediate.sandbox.server import (
    SANDBOX_ACCOUNT_ID,
    SANDBOX_CREDENTIALS,
    SANDBOX_REGION,
    Sandbox,
)


def seed(regions: list[str], per_region: int, now: datetime) -> None:
    sandbox_cloudtrail.clear()
    for region in regions:
        sandbox_cloudtrail.add_events(
            SANDBOX_ACCOUNT_ID,
            [
                cloudtrail_events.api_call(
                    SANDBOX_ACCOUNT_ID,
                    now - timedelta(minutes=i + 1),
                    region=region,
                    source="ec2.amazonaws.com",
                    name="DescribeInstances",
                    read_only=True,
                    source_ip="203.0.113.10",
                    n=i,
                )
                for i in range(per_region)
            ],
        )


def add_latency(seconds: float) -> None:
    """Answer every emulator request ``seconds`` late (sleeping, so without holding the GIL)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def late(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        time.sleep(seconds)
        return dispatch(self, environ, start_response)

    setattr(DomainDispatcherApplication, "__call__", late)  # noqa: B010


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=120, help="root events in each region")
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS")
    args = parser.parse_args()
    with Sandbox() as sb:
        aws = Aws.from_credentials(
            AwsOptions(None, SANDBOX_REGION, sb.endpoint_url), SANDBOX_CREDENTIALS
        )
        every = regions_to_look_up(aws, None)
        now = datetime.now(UTC)
        seed(every, args.events, now)
        if args.latency:
            add_latency(args.latency / 1000)
            print(f"every request answered {args.latency:g} ms late")
        pages = max(1, math.ceil(args.events / PAGE_SIZE))
        print(f"{args.events} root events per region ({pages} pages of {PAGE_SIZE})")
        print(
            f"{'regions':>7} {'at once':>7} {'calls':>6} {'throttled':>9} {'events':>7} "
            f"{'wall s':>7} {'floor s':>7}"
        )
        for regions, concurrency in ((every[:1], 1), (every, REGION_CONCURRENCY), (every, 1)):
            # A fresh limiter stands for a new process: let the emulator's buckets refill first,
            # as a second ago's run would otherwise still count against the limit.
            time.sleep(1.0)
            before = sandbox_cloudtrail.stats()
            start = time.perf_counter()
            found = look_up_root_activity(
                aws,
                SANDBOX_ACCOUNT_ID,
                regions,
                now=now,
                days=7,
                limiter=RateLimiter(),
                concurrency=concurrency,
            )
            wall = time.perf_counter() - start
            after = sandbox_cloudtrail.stats()
            waves = math.ceil(len(regions) / concurrency)
            floor = waves * (pages - 1) / 2
            print(
                f"{len(regions):>7} {concurrency:>7} {found.calls:>6} "
                f"{after['throttled'] - before['throttled']:>9} {len(found.events):>7} "
                f"{wall:>7.2f} {floor:>7.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
