"""Benchmark: start-up time of `remediate --help` and of importing the CLI, what --help imports,
and the CPU a detection costs against boto3's own floor.

Each figure is the median of ``--runs`` fresh processes (the first run is a warm-up and is not
counted). The detection ratio pairs, run by run, ``remediate root-use`` against a local emulator
(the sandbox, started here) with ``python -c "import boto3; boto3.client('iam')"``, the least a
boto3 program that calls IAM pays, and divides the median CPU time (user + system) of each.
Every process may write and read bytecode caches, as an installed package has them (without,
each run would compile remediate's modules again, and boto3's are compiled at install). Run from
the repository root with the project's virtualenv:

    python benchmarks/bench_startup.py [--runs 15] [--detection-runs 15] [--no-detection]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.15
# Detection's CPU at most this many times the floor's.
TARGET_RATIO = 1.15
FLOOR = "import boto3; boto3.client('iam')"
HEAVY_MODULES = (
    "boto3",
    "botocore",
    "moto",
    "rich",
    "yaml",
    "qrcode",
    "keyring",
    "pydantic",  # py-ocsf-models' (--output ocsf only)
    "py_ocsf_models",
)


def console_script() -> list[str]:
    """The installed `remediate` next to this interpreter (as a user runs it), else -m."""
    script = Path(sys.executable).with_name("remediate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "remediate"]


def bytecode_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment, with bytecode caches allowed (see the module's docstring)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra or {})
    return env


def median_seconds(command: list[str], runs: int) -> float:
    env = bytecode_environment()
    subprocess.run(command, capture_output=True, check=True, env=env)  # warm the caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_seconds(command: list[str], env: dict[str, str], expect: int = 0) -> float:
    """User + system CPU time of one fresh process (its children included, if any)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != expect:
        raise SystemExit(f"{command[:3]} exited {process.returncode}: {errors.decode()[-500:]}")
    return usage.ru_utime + usage.ru_stime


def detection_ratio(runs: int) -> tuple[float, float, float]:
    """(floor, detection, ratio of the medians): median CPU seconds of ``runs`` paired runs,
    each pair in alternating order, against the sandbox served from this process."""
    from remediate.sandbox.server import Sandbox
    from sandbox_client import sandbox_client_environment

    env = sandbox_client_environment(bytecode_environment())
    floor = [sys.executable, "-c", FLOOR]
    floors: list[float] = []
    detections: list[float] = []
    with Sandbox() as sandbox:
        # The sandbox's root user is in use: exit 1.
        detection = [*console_script(), "root-use", "--endpoint-url", sandbox.endpoint_url]
        detection += ["--output", "json"]
        cpu_seconds(floor, env)  # warm-ups: bytecode written, files cached
        cpu_seconds(detection, env, expect=1)
        for n in range(runs):
            pair = [(floor, 0, floors), (detection, 1, detections)]
            for command, expect, times in pair if n % 2 == 0 else reversed(pair):
                times.append(cpu_seconds(command, env, expect))
    floor_median, detection_median = statistics.median(floors), statistics.median(detections)
    return floor_median, detection_median, detection_median / floor_median


def imported_by_help() -> set[str]:
    """Top-level modules that `remediate --help` imports (from ``python -X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "remediate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            modules.add(name.split(".")[0])
    return modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--detection-runs", type=int, default=15)
    parser.add_argument("--no-detection", action="store_true", help="only the --help figures")
    args = parser.parse_args()

    rows = [
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
        ("python -c 'import remediate.cli'", [sys.executable, "-c", "import remediate.cli"]),
        ("remediate --help", [*console_script(), "--help"]),
        ("remediate root-use --help", [*console_script(), "root-use", "--help"]),
    ]
    print(f"start-up, median of {args.runs} runs (target for --help: < {TARGET_SECONDS} s)")
    print(f"{'command':<40} {'median s':>9}  verdict")
    for label, command in rows:
        seconds = median_seconds(command, args.runs)
        verdict = ""
        if label.startswith("remediate"):
            verdict = "ok" if seconds < TARGET_SECONDS else "over target"
        print(f"{label:<40} {seconds:>9.3f}  {verdict}")

    modules = imported_by_help()
    print()
    print(f"{'module imported by `remediate --help`':<40} {'imported':>9}")
    for name in HEAVY_MODULES:
        print(f"{name:<40} {'yes' if name in modules else 'no':>9}")

    if args.no_detection:
        return
    floor, detection, ratio = detection_ratio(args.detection_runs)
    print()
    print(
        f"detection against the sandbox, CPU s, median of {args.detection_runs} paired runs "
        f"(target: ratio <= {TARGET_RATIO})"
    )
    print(f"{'python -c ' + repr(FLOOR) + ' (floor)':<56} {floor:>7.3f}")
    print(f"{'remediate root-use --endpoint-url URL -o json':<56} {detection:>7.3f}")
    verdict = "ok" if ratio <= TARGET_RATIO else "over target"
    print(f"{'ratio':<56} {ratio:>7.2f}  {verdict}")


if __name__ == "__main__":
    main()
