"""Benchmark: the organization sweep at N accounts and several concurrencies, against a slow AWS.

Each timed sweep gets a fresh emulator (``emulator_process.py``: moto's server in its own process,
seeded with an organization of N accounts, every third root user in use, where every request
answers ``--latency`` ms late and each account's credential report takes ``--report-seconds`` to
generate) and runs in a fresh worker process of its own, so that neither the emulator's CPU and
memory nor an earlier run's peak is counted against the sweep: ``ru_maxrss`` only ever grows.
Creating the organization is set-up; only ``sweep()`` is timed.

    python benchmarks/bench_org.py                        # N = 100, 1000; concurrency 8 16 32 64
    python benchmarks/bench_org.py --sizes 100 --concurrency 8 64
    python benchmarks/bench_org.py --latency 0 --report-seconds 0      # no added latency
    python benchmarks/bench_org.py --sizes 1000 --concurrency 64 --profile wall   # or cpu

Columns: ``wall s`` the sweep's wall time; ``calls`` the requests the emulator served (every
HTTP attempt, retries included); ``sweep cpu`` the worker's CPU seconds during the sweep (it
cannot exceed ~1 core: one GIL); ``emu cpu`` the emulator's CPU seconds; ``peak MiB`` the sweep
process's peak RSS; ``held MiB`` what it still holds after the sweep while the result is alive,
above what it held before; ``sessions`` results that keep a live boto3 session; ``emu MiB`` the
emulator's peak RSS (moto's per-account backends, not the product's memory).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_ACCOUNTS = 1000
TARGET_SECONDS = 60.0
EMULATOR = Path(__file__).with_name("emulator_process.py")


def rss_kib() -> int:
    """This process's current resident set (Linux ``/proc``), in KiB; 0 where unavailable."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kib() -> int:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def profile_threads(timer: Callable[[], float] | None) -> Callable[[], Any]:
    """Profile every thread started from now on (the sweep's pool) and this one; returns a
    function that stops and returns the merged ``pstats.Stats``. cProfile alone sees only the
    thread that enables it."""
    import cProfile
    import pstats
    import threading

    profiles: list[cProfile.Profile] = []

    def new(**kwargs: Any) -> cProfile.Profile:
        profile = cProfile.Profile(timer, **kwargs) if timer else cProfile.Profile(**kwargs)
        profiles.append(profile)
        profile.enable()
        return profile

    def start_in_thread(frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        new()

    main = new()
    threading.setprofile(start_in_thread)

    def stop() -> pstats.Stats:
        threading.setprofile(None)  # type: ignore[arg-type]
        main.disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        return stats

    return stop


def worker(args: argparse.Namespace) -> None:
    """One timed sweep against ``--endpoint``; prints one JSON line of figures."""
    from remediate.aws.identity import caller_identity
    from remediate.aws.options import AwsOptions
    from remediate.aws.session import Aws
    from remediate.core.limits import DEFAULT_ROLE_NAME
    from remediate.org.accounts import MemberAccounts, targets
    from remediate.org.sweep import sweep
    from remediate.sandbox.server import SANDBOX_CREDENTIALS, SANDBOX_REGION

    base = Aws.from_credentials(
        AwsOptions(None, SANDBOX_REGION, args.endpoint), SANDBOX_CREDENTIALS
    )
    base.client("sts")  # build the first client, and load its models, before the clock starts
    gc.collect()
    before = rss_kib()
    stop = None
    if args.profile:
        stop = profile_threads(time.thread_time if args.profile == "cpu" else None)
    start, cpu = time.perf_counter(), time.process_time()
    opener = MemberAccounts(
        base, caller_identity(base), role_name=DEFAULT_ROLE_NAME, external_id=None, read_only=True
    )
    result = sweep(
        opener, targets(base, None), concurrency=args.concurrency, days=7, report_timeout=60
    )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if stop is not None:
        stats = stop()
        stats.stream = sys.stderr  # type: ignore[attr-defined]
        print(f"--- profile ({args.profile}), by cumulative time ---", file=sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        print(f"--- profile ({args.profile}), by own time ---", file=sys.stderr)
        stats.sort_stats("tottime").print_stats(20)
    held = rss_kib()
    sessions = sum(getattr(a, "aws", None) is not None for a in result.accounts)
    summary = result.summary()
    del result
    gc.collect()
    import botocore.session

    # What is left once the result is gone: the base session, or leaked ones?
    alive = sum(isinstance(o, botocore.session.Session) for o in gc.get_objects())
    figures = {
        "wall": wall,
        "cpu": cpu,
        "summary": summary,
        "before_kib": before,
        "peak_kib": peak_rss_kib(),
        "held_kib": held - before,
        "after_drop_kib": rss_kib() - before,
        "sessions": sessions,
        "alive_after_drop": alive,
    }
    print(json.dumps(figures), flush=True)


@dataclass
class Run:
    n: int
    concurrency: int
    wall: float
    cpu: float
    emulator_cpu: float
    calls: int
    requests: dict[str, int]
    summary: dict[str, int]
    peak_kib: int
    held_kib: int
    after_drop_kib: int
    sessions: int
    alive_after_drop: int
    emulator_peak_kib: int
    seed_seconds: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux ``/proc``), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def timed_run(n: int, concurrency: int, args: argparse.Namespace) -> Run:
    """A fresh emulator with n accounts, a fresh worker that sweeps it once."""
    emulator = subprocess.Popen(
        [
            sys.executable,
            str(EMULATOR),
            f"--accounts={n}",
            f"--latency={args.latency}",
            f"--report-seconds={args.report_seconds}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert emulator.stdin is not None
    assert emulator.stdout is not None
    try:
        ready = json.loads(emulator.stdout.readline())
        emulator_cpu = cpu_seconds(emulator.pid)
        command = [
            sys.executable,
            __file__,
            "--worker",
            f"--endpoint={ready['endpoint']}",
            f"--concurrency={concurrency}",
        ]
        if args.profile:
            command.append(f"--profile={args.profile}")
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        emulator_cpu = cpu_seconds(emulator.pid) - emulator_cpu
        emulator.stdin.close()
        final = json.loads(emulator.stdout.readline())
    finally:
        if emulator.poll() is None:
            emulator.terminate()
        emulator.wait(timeout=30)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    requests: dict[str, int] = final["requests"]
    return Run(
        n=n,
        concurrency=concurrency,
        wall=figures["wall"],
        cpu=figures["cpu"],
        emulator_cpu=emulator_cpu,
        calls=sum(requests.values()),
        requests=requests,
        summary=figures["summary"],
        peak_kib=figures["peak_kib"],
        held_kib=figures["held_kib"],
        after_drop_kib=figures["after_drop_kib"],
        sessions=figures["sessions"],
        alive_after_drop=figures["alive_after_drop"],
        emulator_peak_kib=final["peak_rss_kib"],
        seed_seconds=ready["seed_seconds"],
    )


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def report_memory(runs: list[Run]) -> None:
    """Peak and held RSS of the smallest against the largest N, at each concurrency."""
    sizes = sorted({r.n for r in runs})
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    print(f"\nmemory of the sweep process, N = {small} -> {large}:")
    for concurrency in sorted({r.concurrency for r in runs}):
        by_n = {r.n: r for r in runs if r.concurrency == concurrency}
        if small not in by_n or large not in by_n:
            continue
        a, b = by_n[small], by_n[large]
        per_account = (b.peak_kib - a.peak_kib) / (large - small)
        held = (b.held_kib - a.held_kib) / (large - small)
        print(
            f"  concurrency {concurrency:>2}: peak {mib(a.peak_kib)} -> {mib(b.peak_kib)} MiB "
            f"({per_account:+.0f} KiB per account); held after the sweep {mib(a.held_kib)} -> "
            f"{mib(b.held_kib)} MiB ({held:+.0f} KiB per account), "
            f"{b.sessions} of {large} results holding a live session; "
            f"{mib(b.after_drop_kib)} MiB still resident once it is dropped, with "
            f"{b.alive_after_drop} botocore session(s) alive"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], metavar="N")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16, 32, 64], metavar="C")
    parser.add_argument(
        "--latency", type=float, default=50.0, metavar="MS", help="added to every request"
    )
    parser.add_argument(
        "--report-seconds",
        type=float,
        default=2.0,
        metavar="S",
        help="how long each account's credential report takes to generate",
    )
    parser.add_argument(
        "--profile",
        choices=["wall", "cpu"],
        help="cProfile every sweep thread, to stderr: by the wall clock or by thread CPU time",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.concurrency = args.concurrency[0]
        worker(args)
        return

    print(
        f"emulator in its own process: {args.latency:g} ms per request, credential report "
        f"ready {args.report_seconds:g} s after generation starts; {os.cpu_count()} CPUs; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"{'N':>5} {'conc':>4} {'wall s':>7} {'acct/s':>7} {'calls':>6} {'sweep cpu':>9} "
        f"{'emu cpu':>7} {'peak MiB':>8} {'held MiB':>8} {'sessions':>8} {'emu MiB':>7}  outcome"
    )
    runs: list[Run] = []
    for n in sorted(args.sizes):
        for concurrency in sorted(args.concurrency):
            r = timed_run(n, concurrency, args)
            runs.append(r)
            s = r.summary
            outcome = f"{s['in_use']} in use, {s['not_in_use']} not"
            if s["total"] != n or s["undetermined"]:
                outcome = f"UNEXPECTED {s}"
            print(
                f"{n:>5} {concurrency:>4} {r.wall:>7.1f} {n / r.wall:>7.1f} {r.calls:>6} "
                f"{r.cpu:>9.1f} {r.emulator_cpu:>7.1f} {mib(r.peak_kib):>8} "
                f"{mib(r.held_kib):>8} {r.sessions:>8} {mib(r.emulator_peak_kib):>7}  {outcome}",
                flush=True,
            )
    by_operation: dict[str, int] = {}
    for op, count in runs[-1].requests.items():
        by_operation[op] = by_operation.get(op, 0) + count
    print(
        f"\ncalls at N = {runs[-1].n}, by operation: "
        + ", ".join(f"{op} {count}" for op, count in sorted(by_operation.items()))
    )
    report_memory(runs)
    at_target = [r for r in runs if r.n == TARGET_ACCOUNTS]
    if at_target:
        met = [r for r in at_target if r.wall < TARGET_SECONDS]
        if met:
            best = min(met, key=lambda r: r.concurrency)
            print(
                f"\ntarget {TARGET_ACCOUNTS} accounts in < {TARGET_SECONDS:g} s: met from "
                f"concurrency {best.concurrency} ({best.wall:.1f} s)"
            )
        else:
            fastest = min(at_target, key=lambda r: r.wall)
            print(
                f"\ntarget {TARGET_ACCOUNTS} accounts in < {TARGET_SECONDS:g} s: MISSED at "
                f"every concurrency (best {fastest.wall:.1f} s at {fastest.concurrency})"
            )


if __name__ == "__main__":
    main()
