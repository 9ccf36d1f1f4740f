"""Benchmark: AWS API calls (reads and writes, per operation) and wall time of a remediation.

Runs the built-in sandbox (moto) in this process and drives the core API as the CLI does
(``caller_identity``, ``detect``, then the engine with the shipped root-use playbook for
``--access both``), without MFA and with ``--mfa-auto``. For each it measures a dry run on the
empty account, the first run, a rerun, and a dry run after. Targets: the rerun and the dry runs
make zero writes; the first run makes at most the detection's reads plus one read per resource
(each step's reads_per_plan), and at most the writes its changes declare (writes_per_change: one
each, but two for a login profile, whose user is given IAMUserChangePassword before it is created,
and two for a virtual MFA device, created, then enabled).

    python benchmarks/bench_remediate.py
    python benchmarks/bench_remediate.py --repeat 5     # best wall time of 5 rounds

The emulator shares this process and its GIL: wall times are CPU-bound, not network-bound.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from remediate.aws.audit import is_write
from remediate.aws.identity import caller_identity
from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.credentials.backends import memory_keyring
from remediate.credentials.store import SecretStore
from remediate.detect.service import detect
from remediate.org.accounts import OwnAccount, Target
from remediate.playbook import engine
from remediate.playbook.binding import bind, instantiate
from remediate.playbook.engine import AccountRun, Remediation, Services
from remediate.playbook.loading import load_playbook
from remediate.sandbox.server import (
    SANDBOX_ACCOUNT_ID,
    SANDBOX_CREDENTIALS,
    SANDBOX_REGION,
    Sandbox,
    clear_root_states,
    generate_credential_report,
    set_root_state,
)
from remediate.steps.base import MfaOptions, RunOptions


@dataclass
class Measure:
    """One run: its calls (detection and playbook apart), the report and the best wall time."""

    name: str
    detection: Counter[str] = field(default_factory=Counter)
    playbook: Counter[str] = field(default_factory=Counter)
    steps: int = 0
    # One read per resource the steps read (their reads_per_plan).
    resources: int = 0
    changes: int = 0
    declared_writes: int = 0
    seconds: float = 0.0

    def count(self, calls: Counter[str], *, writes: bool) -> int:
        return sum(n for op, n in calls.items() if is_write(op.split(":")[1]) == writes)

    @property
    def reads(self) -> int:
        return self.count(self.detection, writes=False) + self.count(self.playbook, writes=False)

    @property
    def writes(self) -> int:
        return self.count(self.detection, writes=True) + self.count(self.playbook, writes=True)

    @property
    def read_bound(self) -> int:
        """Detection's reads + one read per resource the steps read."""
        return self.count(self.detection, writes=False) + self.resources

    @property
    def write_bound(self) -> int:
        """The writes the pending changes declare they need."""
        return self.declared_writes


def reset(sb: Sandbox) -> None:
    """An empty account again, with the sandbox's root row and a ready credential report."""
    req = urllib.request.Request(f"{sb.endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        resp.read()
    clear_root_states()
    set_root_state(SANDBOX_ACCOUNT_ID, sb.root_state)
    generate_credential_report(SANDBOX_ACCOUNT_ID)


def one_run(sb: Sandbox, name: str, variables: dict[str, Any], *, dry_run: bool) -> Measure:
    """Detection and the root-use playbook, in a fresh session, as `root-use --create-admin`."""
    options = AwsOptions(None, SANDBOX_REGION, sb.endpoint_url)
    aws = Aws.from_credentials(options, SANDBOX_CREDENTIALS, read_only=dry_run)
    aws.iam, aws.sts  # noqa: B018 (clients built before the clock starts, as the CLI's start-up)
    book = load_playbook("root-use")
    steps = instantiate(book, bind(book, variables))
    started = time.perf_counter()
    identity = caller_identity(aws)
    detect(aws, identity, days=7, report_timeout=60)
    detection = Counter(aws.stats.operations)
    remediation = Remediation(
        book.name,
        tuple(steps),
        RunOptions(mfa=MfaOptions(mode="auto")),
        dry_run=dry_run,
        yes=True,
    )
    services = Services(
        open_account=OwnAccount(aws, identity),
        secrets=SecretStore(memory_keyring()),
        prompter=Unattended(),
        view=Unattended(),
        ui=Console(file=io.StringIO()),
        journal=lambda session, playbook: None,
        lock=lambda account_id: contextlib.nullcontext(),
    )
    [run] = engine.run(remediation, [Target(identity.account_id)], services)
    seconds = time.perf_counter() - started
    if run.failure is not None or run.report is None:
        raise SystemExit(f"{name}: {run.failure}")
    pending = run.report.pending
    return Measure(
        name,
        detection,
        Counter(aws.stats.operations) - detection,
        len(run.report.steps),
        sum(p.step.reads_per_plan for p in run.report.steps),
        len(pending),
        sum(p.step.writes_per_change for p in pending),
        seconds,
    )


class Unattended:
    """Nobody at a terminal (every run here is --yes --mfa-auto), and nothing shown."""

    interactive = False

    def confirm(self, question: str) -> bool:
        return False

    def line(self, prompt: str) -> str | None:
        return None

    def password(self, prompt: str) -> str:
        raise AssertionError("no password is asked for")

    def stdin_line(self) -> str | None:
        return None

    def planned(self, run: AccountRun) -> None:
        pass

    def applied(self, run: AccountRun) -> None:
        pass


def scenario(sb: Sandbox, variables: dict[str, Any], repeat: int) -> list[Measure]:
    """The four runs from an empty account; each round starts over, the best time is kept."""
    best: dict[str, Measure] = {}
    for _ in range(repeat):
        reset(sb)
        for name, dry_run in (
            ("dry run (empty account)", True),
            ("first run", False),
            ("rerun", False),
            ("dry run (after)", True),
        ):
            m = one_run(sb, name, variables, dry_run=dry_run)
            if name not in best or m.seconds < best[name].seconds:
                best[name] = m
    return list(best.values())


def print_table(title: str, measures: list[Measure]) -> list[str]:
    """Print one scenario; return the targets it missed."""
    print(f"\n== {title}")
    print(
        f"{'run':<25}{'reads':>6}{'bound':>6}{'writes':>7}{'bound':>6}{'steps':>6}{'changes':>8}"
        f"{'ms':>8}"
    )
    missed: list[str] = []
    for m in measures:
        print(
            f"{m.name:<25}{m.reads:>6}{m.read_bound:>6}{m.writes:>7}{m.write_bound:>6}"
            f"{m.steps:>6}{m.changes:>8}{m.seconds * 1000:>8.1f}"
        )
        if m.name != "first run" and m.writes:
            missed.append(f"{title}: {m.name} made {m.writes} write(s), target 0")
        if m.reads > m.read_bound:
            missed.append(f"{title}: {m.name} made {m.reads} reads, target <= {m.read_bound}")
        if m.writes > m.write_bound:
            missed.append(f"{title}: {m.name} made {m.writes} writes, target <= {m.write_bound}")
    for m in measures:
        print(f"  {m.name}:")
        print("    detection: " + ", ".join(f"{op} {n}" for op, n in sorted(m.detection.items())))
        for kind, writes in (("reads", False), ("writes", True)):
            ops = {op: n for op, n in m.playbook.items() if is_write(op.split(":")[1]) == writes}
            listed = ", ".join(f"{op} {n}" for op, n in sorted(ops.items())) or "none"
            print(f"    playbook {kind}: {listed}")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best time is kept")
    args = parser.parse_args(argv)

    scenarios = {
        "--access both --no-mfa": {"user": "alice", "access": "both", "mfa": False},
        "--access both --mfa-auto": {"user": "alice", "access": "both", "mfa": True},
    }
    missed: list[str] = []
    with Sandbox() as sb:
        print(f"remediate root-use --create-admin alice, against the sandbox at {sb.endpoint_url}")
        print(
            "read bound = detection's reads + one read per resource read; write bound = the "
            "writes the pending changes declare (1 each; 2 for a login profile: attach "
            "IAMUserChangePassword, create; 2 for a virtual MFA device: create, enable); "
            f"ms = best of {args.repeat} round(s)"
        )
        reset(sb)
        one_run(sb, "warm-up", scenarios["--access both --no-mfa"], dry_run=True)
        for title, variables in scenarios.items():
            missed += print_table(title, scenario(sb, variables, args.repeat))
    print()
    if missed:
        for line in missed:
            print(f"MISSED: {line}")
        return 1
    print("Targets met: rerun and dry runs 0 writes; reads and writes within their bounds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
