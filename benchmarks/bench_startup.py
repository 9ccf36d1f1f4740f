"""Benchmark: start-up time of `remediate --help` and of importing the CLI, and what --help imports.

Each figure is the median of ``--runs`` fresh processes (the first run is a warm-up and is not
counted). Run from the repository root with the project's virtualenv:

    python benchmarks/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.15
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


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=True)  # warm the OS file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


if __name__ == "__main__":
    main()
