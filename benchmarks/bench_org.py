"""Benchmark: the organization sweep's wall time and accounts per second for N accounts.

Runs the built-in sandbox (moto) in this process, creates an organization of N accounts (the
management account and N - 1 members), seeds each account's root row (every third one in use)
and a ready credential report, and times ``sweep()`` only: creating accounts in moto is set-up.
The emulator shares this process and its GIL, so the figures are CPU-bound (``cpu s`` is this
process's CPU time: the sweep and the emulator; wall time above it means a busy machine);
against AWS the sweep waits on the network and gains more from concurrency.

    python benchmarks/bench_org.py                  # N = 1, 10, 100; 1000 if 100 took < 5 s
    python benchmarks/bench_org.py --sizes 1000
    python benchmarks/bench_org.py --cold           # no report ready: each account waits 1 s
    python benchmarks/bench_org.py --latency 50     # each request answered 50 ms later, as
                                                    # over a network: concurrency hides the wait
"""

from __future__ import annotations

import argparse
import os
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from remediate.accounts import MemberAccounts, targets
from remediate.aws.identity import caller_identity
from remediate.aws.session import Aws, AwsOptions
from remediate.sandbox import (
    SANDBOX_CREDENTIALS,
    SANDBOX_REGION,
    RootState,
    Sandbox,
    clear_root_states,
    generate_credential_report,
    set_root_state,
)
from remediate.sweep import SweepResult, sweep

TARGET_SECONDS_FOR_100 = 10.0
TRY_1000_BELOW_SECONDS = 5.0


def reset(endpoint_url: str) -> None:
    req = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        resp.read()
    clear_root_states()


def build_org(base: Aws, n: int, *, report_ready: bool) -> None:
    """An organization of n accounts; a third of them with root used 2 days ago."""
    org = base.client("organizations")
    org.create_organization(FeatureSet="ALL")
    for i in range(1, n):
        org.create_account(AccountName=f"member-{i:04d}", Email=f"member-{i:04d}@example.com")
    pages = org.get_paginator("list_accounts").paginate()
    ids = sorted(a["Id"] for page in pages for a in page["Accounts"])
    now = datetime.now(UTC)
    for i, account_id in enumerate(ids):
        if i % 3 == 0:
            state = RootState(password_last_used=now - timedelta(days=2))
        else:
            state = RootState(password_last_used=now - timedelta(days=90), mfa_active=True)
        set_root_state(account_id, state)
        if report_ready:
            generate_credential_report(account_id)


def add_latency(seconds: float) -> None:
    """Answer every emulator request ``seconds`` late (sleeping, so without holding the GIL)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def late(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        time.sleep(seconds)
        return dispatch(self, environ, start_response)

    setattr(DomainDispatcherApplication, "__call__", late)  # noqa: B010


def timed_sweep(base: Aws, concurrency: int) -> tuple[float, float, SweepResult]:
    """Wall and CPU seconds (this process: the sweep and the emulator) of one sweep."""
    start, cpu = time.perf_counter(), time.process_time()
    opener = MemberAccounts(
        base,
        caller_identity(base),
        role_name="OrganizationAccountAccessRole",
        external_id=None,
        read_only=True,
    )
    result = sweep(opener, targets(base, None), concurrency=concurrency, days=7, report_timeout=60)
    return time.perf_counter() - start, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="N values (default 1 10 100)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no credential report ready: each account answers STARTED first, then waits 1 s",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="MS", help="added to every request"
    )
    args = parser.parse_args()
    sizes: list[int] = args.sizes or [1, 10, 100]
    with Sandbox() as sb:
        # Detection needs no AWS managed policy; loading ~1,300 of them into every new account
        # would only slow the set-up down.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"
        options = AwsOptions(None, SANDBOX_REGION, sb.endpoint_url)
        base = Aws.from_credentials(options, SANDBOX_CREDENTIALS)
        if args.latency:
            add_latency(args.latency / 1000)
            print(f"every request answered {args.latency:g} ms late")
        print(
            f"{'N':>5} {'concurrency':>11} {'wall s':>8} {'cpu s':>7} {'accounts/s':>10}  outcome"
        )
        at_8: dict[int, float] = {}
        for n in sizes:
            for run, concurrency in enumerate([8, 1] if n in (10, 100) else [8]):
                if run == 0 or args.cold:
                    reset(sb.endpoint_url)
                    setup = time.perf_counter()
                    build_org(base, n, report_ready=not args.cold)
                    setup = time.perf_counter() - setup
                wall, cpu, result = timed_sweep(base, concurrency)
                s = result.summary()
                if s["total"] != n or s["undetermined"]:
                    raise SystemExit(f"unexpected sweep outcome for N={n}: {s}")
                print(
                    f"{n:>5} {concurrency:>11} {wall:>8.2f} {cpu:>7.2f} {n / wall:>10.1f}  "
                    f"{s['in_use']} in use, {s['not_in_use']} not (set-up {setup:.1f} s)",
                    flush=True,
                )
                if concurrency == 8:
                    at_8[n] = wall
            if (
                n == 100
                and args.sizes is None
                and at_8[100] < TRY_1000_BELOW_SECONDS
                and 1000 not in sizes
            ):
                sizes.append(1000)
        if 100 in at_8 and not args.cold:  # cold, each account waits for its report
            met = "met" if at_8[100] < TARGET_SECONDS_FOR_100 else "MISSED"
            print(f"target: 100 accounts in < {TARGET_SECONDS_FOR_100:g} s (concurrency 8): {met}")


if __name__ == "__main__":
    main()
