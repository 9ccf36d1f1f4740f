"""Benchmark: the Security Hub calls `root-use --security-hub` makes, run by run.

Runs the built-in sandbox (moto, with Security Hub's finding lifecycle emulated) in this
process and the CLI in-process against it, through a story: detection twice, a remediation, its
rerun, detection again with the same evidence, then root used again and detection once more.
For each run it prints the GetFindings, BatchImportFindings and BatchUpdateFindings calls sent
(counted where botocore sends them) and the root-use finding's Compliance and Workflow after
it. Each account costs one GetFindings and one BatchImportFindings a run (four findings, well
under the 20 ids a GetFindings filter takes and the 100 findings an import takes); a
BatchUpdateFindings only when a remediation first records itself or new evidence reopens it.

    python benchmarks/bench_securityhub.py

Exits 1 when a run makes more calls than that.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from remediate.sandbox.server import (
    SANDBOX_ACCOUNT_ID,
    SANDBOX_REGION,
    RootState,
    Sandbox,
    generate_credential_report,
    set_root_state,
)
from sandbox_client import SANDBOX_CLIENT

OPERATIONS = ("GetFindings", "BatchImportFindings", "BatchUpdateFindings")
IN_USE = f"remediate/{SANDBOX_ACCOUNT_ID}/root-user-in-use"


def count_requests() -> Counter[str]:
    """Every Security Hub request botocore sends in this process, by operation."""
    from botocore.endpoint import Endpoint

    sent: Counter[str] = Counter()
    make_request = Endpoint.make_request

    def recording(self: Any, operation_model: Any, request_dict: Any) -> Any:
        if operation_model.service_model.endpoint_prefix == "securityhub":
            sent[operation_model.name] += 1
        return make_request(self, operation_model, request_dict)

    setattr(Endpoint, "make_request", recording)  # noqa: B010
    return sent


def stored() -> dict[str, Any]:
    from moto.securityhub.models import securityhub_backends

    findings = securityhub_backends[SANDBOX_ACCOUNT_ID][SANDBOX_REGION].findings
    return next(f.data for f in findings if f.id == IN_USE)


def main() -> None:
    import keyring

    from remediate.cli import run
    from remediate.credentials.backends import memory_keyring

    keyring.set_keyring(memory_keyring())
    os.environ.update(SANDBOX_CLIENT, XDG_STATE_HOME=tempfile.mkdtemp(prefix="bench-securityhub-"))
    sent = count_requests()
    fix = ("--create-admin", "alice", "--mfa-auto", "--yes")
    missed = False
    with Sandbox() as sb:
        base = ("root-use", "--endpoint-url", sb.endpoint_url, "--security-hub")

        def root_used_again() -> None:
            # After the remediation's record (whole seconds in its note and the report).
            time.sleep(1.1)
            set_root_state(SANDBOX_ACCOUNT_ID, RootState(password_last_used=datetime.now(UTC)))
            generate_credential_report(SANDBOX_ACCOUNT_ID)

        story: list[tuple[str, tuple[str, ...], int, Any]] = [
            ("detection, first import", (), 0, None),
            ("detection again", (), 0, None),
            ("--create-admin (first)", fix, 1, None),
            ("--create-admin rerun (no-op)", fix, 0, None),
            ("detection, same evidence", (), 0, None),
            ("detection, root used again", (), 1, root_used_again),
        ]
        print(f"{'run':<30} {'Get':>4} {'Import':>6} {'Update':>6}  root-user-in-use after")
        for name, args, updates, before in story:
            if before is not None:
                before()
            sent.clear()
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                run([*base, *args])
            got = [sent[op] for op in OPERATIONS]
            finding = stored()
            print(
                f"{name:<30} {got[0]:>4} {got[1]:>6} {got[2]:>6}  "
                f"{finding['Compliance']['Status']}, {finding['Workflow']['Status']}"
            )
            missed = missed or got != [1, 1, updates]
    print(
        "every run: 1 GetFindings + 1 BatchImportFindings per account; "
        "BatchUpdateFindings only to record a remediation once or to reopen"
    )
    if missed:
        print("MISSED: a run made more Security Hub calls than that", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
