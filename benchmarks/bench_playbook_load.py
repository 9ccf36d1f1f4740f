"""Benchmark: CPU time to load (and refuse) big playbooks just under the 256 KiB size cap.

Each shape cost PyYAML's pure-Python loader 3 to 9 s; the target is under 1 s each, with libyaml
and without it (``--pure``). The same shapes are in tests/test_playbook_model.py, which asserts
what each is refused for and no time.

    python benchmarks/bench_playbook_load.py [--pure] [--runs 5]

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import yaml

from remediate.core.errors import PlaybookError
from remediate.playbook.loading import MAX_PLAYBOOK_BYTES, MAX_VALUES, load_text

TARGET_SECONDS = 1.0
SHAPES = {
    "unclosed list of 80,000 items": "name: x\nbad: [" + " 1," * 80_000 + "\n",
    "40,000 unknown keys under vars": "name: x\nvars: {"
    + ",".join(f"{i:x}" for i in range(40_000))
    + "}\nsteps: [{id: a, kind: iam-group, with: {group: g}}]\n",
    "5,000 steps whose when is a string": "name: x\nsteps:\n"
    + "".join(f"- {{id: s{i:x}, kind: iam-user, when: x}}\n" for i in range(5_000)),
    "alias bomb (9**9 expanded)": "name: bomb\n"
    + "\n".join(
        ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    )
    + "\ndescription: *a8\nsteps:\n  - {id: g, kind: iam-group, with: {group: g}}\n",
    "nested 20,000 deep ([)": "name: deep\nsteps: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "nested 20,000 deep ({a: )": "name: deep\nsteps: " + "{a: " * 20_000 + "}" * 20_000 + "\n",
    f"valid, {MAX_VALUES} values (the limit)": "name: x\nsteps:\n"
    + "".join(
        f"- {{id: s{i}, kind: iam-group, with: {{group: g{i}}}}}\n"
        for i in range((MAX_VALUES - 5) // 9)
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pure", action="store_true", help="without libyaml")
    parser.add_argument("--runs", type=int, default=5, help="best of N (default 5)")
    args = parser.parse_args()
    if args.pure:
        del yaml.CSafeLoader
    missed = False
    print(f"{'playbook':<40} {'bytes':>8} {'CPU s':>7}  outcome")
    for name, text in SHAPES.items():
        assert len(text.encode()) <= MAX_PLAYBOOK_BYTES, name
        best, outcome = float("inf"), ""
        for _ in range(args.runs):
            started = time.process_time()
            try:
                load_text(text, "big.yaml")
                outcome = "loaded"
            except PlaybookError as exc:
                outcome = exc.message.split(": ", 1)[1][:60]
            best = min(best, time.process_time() - started)
        missed |= best >= TARGET_SECONDS
        print(f"{name:<40} {len(text):>8} {best:>7.3f}  {outcome}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
