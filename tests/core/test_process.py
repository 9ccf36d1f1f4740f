"""The process keeps the secrets in its memory out of core dumps: RLIMIT_CORE is 0 (soft and
hard) from the start of the command line, before any secret can be there."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Starts with core dumps allowed as far as an unprivileged process may (its hard limit), runs
# the command line as the `remediate` script does (main), then says what the limit was before
# and after. The test process itself never calls main(): its limits stay as they were.
SCRIPT = """
import json, resource, sys
_, hard = resource.getrlimit(resource.RLIMIT_CORE)
resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
before = resource.getrlimit(resource.RLIMIT_CORE)
from remediate.cli import main
sys.argv = ["remediate", "permissions", "--detect-only"]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "before": before,
                  "after": resource.getrlimit(resource.RLIMIT_CORE)}), file=sys.stderr)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_CORE is POSIX")
def test_the_command_line_turns_core_dumps_off() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    if seen["before"][1] == 0:
        pytest.skip("this machine's hard limit is 0 already: nothing to show")
    assert seen["before"][0] != 0
    assert seen["code"] == 0
    assert seen["after"] == [0, 0]  # and, hard, for good: a process cannot raise it again


def test_without_resource_limits_it_goes_on_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the platform has no ``resource`` module (Windows), nothing is said or raised."""
    from remediate.core import process

    monkeypatch.setitem(sys.modules, "resource", None)
    assert process.disable_core_dumps() is False
