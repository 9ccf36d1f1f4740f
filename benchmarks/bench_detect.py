"""Benchmark: detection's wall time and AWS calls per run, against the built-in sandbox (moto).

Starts the sandbox in this process, then runs ``remediate.detect.service.detect`` ``--runs``
times, each with a fresh session as a CLI run has, and prints the median wall time and the calls
per run by operation (reads and writes apart). The first run is reported apart: it includes moto
building its IAM backend. Then times whole CLI runs (``remediate root-use --endpoint-url``) in
subprocesses against the same server.

    python benchmarks/bench_detect.py [--runs 20] [--cli-runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from remediate.aws.identity import caller_identity
from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.detect.service import detect
from remediate.sandbox.server import SANDBOX_CREDENTIALS, SANDBOX_REGION, Sandbox
from sandbox_client import sandbox_client_environment

# GetCallerIdentity, GenerateCredentialReport, GetCredentialReport; and GetAccountSummary, asked
# because the sandbox's root has a password and no MFA (an account with root MFA pays 3).
TARGET_CALLS = 4
TARGET_SECONDS = 1.0


def one_detection(endpoint_url: str) -> tuple[float, Counter[str], int, int]:
    start = time.perf_counter()
    aws = Aws.from_credentials(
        AwsOptions(None, SANDBOX_REGION, endpoint_url), SANDBOX_CREDENTIALS, read_only=True
    )
    verdict = detect(aws, caller_identity(aws), days=7, report_timeout=60)
    elapsed = time.perf_counter() - start
    assert verdict.root_in_use is True, verdict
    return elapsed, Counter(aws.stats.operations), aws.stats.reads, aws.stats.writes


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("remediate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "remediate"]


def cli_run(endpoint_url: str) -> float:
    env = sandbox_client_environment(os.environ)
    command = [*cli_command(), "root-use", "--endpoint-url", endpoint_url, "--output", "json"]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 1:  # the sandbox's root user is in use
        raise SystemExit(f"CLI run failed ({result.returncode}): {result.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()

    with Sandbox() as sandbox:
        first, _, _, _ = one_detection(sandbox.endpoint_url)
        times: list[float] = []
        calls: list[Counter[str]] = []
        reads: list[int] = []
        writes: list[int] = []
        for _ in range(args.runs):
            elapsed, operations, n_reads, n_writes = one_detection(sandbox.endpoint_url)
            times.append(elapsed)
            calls.append(operations)
            reads.append(n_reads)
            writes.append(n_writes)
        cli_times = [cli_run(sandbox.endpoint_url) for _ in range(args.cli_runs)]

    per_run = calls[-1]
    assert all(c == per_run for c in calls), "calls differ between runs"
    total = sum(per_run.values())
    print(f"detection against the sandbox, {args.runs} runs after a first one")
    print(f"{'figure':<44} {'value':>9}  target")
    print(f"{'first run (moto builds its backends), s':<44} {first:>9.3f}")
    median = statistics.median(times)
    verdict = "ok" if median < TARGET_SECONDS else "over target"
    print(f"{'median wall time per run, s':<44} {median:>9.3f}  < {TARGET_SECONDS:g} s: {verdict}")
    print(f"{'slowest run, s':<44} {max(times):>9.3f}")
    verdict = "ok" if total <= TARGET_CALLS else "over target"
    print(f"{'AWS calls per run':<44} {total:>9}  <= {TARGET_CALLS}: {verdict}")
    print(f"{'  reads':<44} {statistics.median(reads):>9g}")
    print(f"{'  writes':<44} {statistics.median(writes):>9g}")
    for operation, count in sorted(per_run.items()):
        print(f"{'  ' + operation:<44} {count:>9}")
    cli_median = statistics.median(cli_times)
    verdict = "ok" if cli_median < TARGET_SECONDS else "over target"
    label = f"CLI run in a subprocess (median of {args.cli_runs}), s"
    print(f"{label:<44} {cli_median:>9.3f}  < {TARGET_SECONDS:g} s: {verdict}")


if __name__ == "__main__":
    main()
