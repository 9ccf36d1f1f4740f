"""The organization benchmark's emulator: moto's server in its own process, slowed down like AWS.

``bench_org.py`` runs this script by path, one process per timed sweep, so the emulator's CPU and
memory are not the benchmark's. It seeds an organization of ``--accounts`` accounts (the
management account and N - 1 members, every third root user in use) straight into moto's
backends, which is set-up and costs no request, then serves on a free loopback port with:

- ``--latency MS`` added to every request, as a sleep in the WSGI dispatch: a sleeping request
  thread holds no GIL, so requests overlap as they do over a network;
- a credential report that takes ``--report-seconds`` to generate, per account, as in IAM:
  GenerateCredentialReport answers STARTED, then INPROGRESS, then COMPLETE once the time has
  passed; GetCredentialReport answers ``ReportInProgress`` (HTTP 404, botocore's
  ``CredentialReportNotReadyException``) until then, and ``ReportNotPresent`` before any
  generation. No report exists when the sweep starts.

Protocol with the parent: one JSON line on stdout when serving (``endpoint``, ``pid``,
``seed_seconds``); the process serves until its stdin closes, then prints one JSON line of
figures (requests by ``service:Action``, its peak RSS) and exits. The patches live in this
process only: nothing in ``src/`` changes for the benchmark.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

# Set before moto is imported: loading ~1,300 AWS managed policies into each of 1,000 accounts
# would only slow the set-up down and fill memory; detection needs none of them.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"

from remediate.sandbox.server import (
    SANDBOX_ACCOUNT_ID,
    RootState,
    install_root_rows,
    set_root_state,
)

PARTITION = "aws"
REGION = "us-east-1"


class Requests:
    """Requests served, by ``service:Action`` (query protocol) or ``X-Amz-Target`` (JSON)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, environ: dict[str, Any]) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            # e.g. AWSOrganizationsV20161128.ListAccounts
            name = "organizations:" + target.rpartition(".")[2]
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            # The app reads the body again: hand it a fresh stream.
            environ["wsgi.input"] = io.BytesIO(body)
            form = parse_qs(body.decode("utf-8", "replace"))
            action = form.get("Action", ["?"])[0]
            service = "sts" if action in {"AssumeRole", "GetCallerIdentity"} else "iam"
            name = f"{service}:{action}"
        with self._lock:
            self.counts[name] += 1


def add_latency(seconds: float, requests: Requests) -> None:
    """Answer every request ``seconds`` late, and count it; ``/moto-api/`` calls are not slowed."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def late(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        if not str(environ.get("PATH_INFO", "")).startswith("/moto-api/"):
            requests.record(environ)
            if seconds > 0:
                time.sleep(seconds)
        return dispatch(self, environ, start_response)

    setattr(DomainDispatcherApplication, "__call__", late)  # noqa: B010


def slow_credential_reports(seconds: float) -> None:
    """Make each account's credential report take ``seconds`` to generate, as in IAM."""
    from moto.core.responses import ActionResult
    from moto.iam.exceptions import IAMException
    from moto.iam.models import IAMBackend
    from moto.iam.responses import IamResponse

    class ReportInProgress(IAMException):
        # The code botocore's model maps to CredentialReportNotReadyException (HTTP 404).
        code = "ReportInProgress"

    started: dict[str, float] = {}  # account id -> time.monotonic() of the generation
    started_at: dict[str, datetime] = {}
    lock = threading.Lock()
    report = IAMBackend.get_credential_report  # already given its root row by the sandbox
    report_response = IamResponse.get_credential_report

    def generate_credential_report(self: Any) -> Any:
        account = self.backend.account_id
        now = time.monotonic()
        with lock:
            if account not in started:
                started[account] = now
                started_at[account] = datetime.now(UTC)
                state = "STARTED"
            elif now < started[account] + seconds:
                state = "INPROGRESS"
            else:
                state = "COMPLETE"
        self.backend.generate_report()
        result = {"State": state}
        if state == "STARTED":
            result["Description"] = "No report exists. Starting a new report generation task"
        return ActionResult(result)

    def get_credential_report(self: Any) -> str:
        with lock:
            begun = started.get(self.account_id)
        if begun is not None and time.monotonic() < begun + seconds:
            raise ReportInProgress("Report generation is in progress")
        content: str = report(self)
        return content

    def get_credential_report_response(self: Any) -> Any:
        result: Any = report_response(self)
        with lock:
            begun = started_at.get(self.backend.account_id)
        if begun is not None:
            generated = begun + timedelta(seconds=seconds)
            result.result["GeneratedTime"] = generated.strftime("%Y-%m-%dT%H:%M:%SZ")
        return result

    setattr(IamResponse, "generate_credential_report", generate_credential_report)  # noqa: B010
    setattr(IAMBackend, "get_credential_report", get_credential_report)  # noqa: B010
    setattr(IamResponse, "get_credential_report", get_credential_report_response)  # noqa: B010


def seed_organization(accounts: int, in_use_every: int) -> list[str]:
    """The sandbox account as management account of ``accounts`` accounts, seeded in moto's
    backends (no request); every ``in_use_every``-th root user used 2 days ago."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends

    org = organizations_backends[SANDBOX_ACCOUNT_ID][PARTITION]
    org.create_organization(region=REGION, FeatureSet="ALL")
    for i in range(1, accounts):
        # Creates the member's IAM backend and its OrganizationAccountAccessRole.
        org.create_account(AccountName=f"member-{i:04d}", Email=f"member-{i:04d}@example.com")
    ids = sorted(str(a.id) for a in org.accounts)
    now = datetime.now(UTC)
    for i, account_id in enumerate(ids):
        if i % in_use_every == 0:
            state = RootState(password_last_used=now - timedelta(days=2))
        else:
            state = RootState(password_last_used=now - timedelta(days=90), mfa_active=True)
        set_root_state(account_id, state)
        # Built now rather than on the sweep's first request into the account.
        iam_backends[account_id][PARTITION]
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True, help="organization size N")
    parser.add_argument("--latency", type=float, default=50.0, metavar="MS")
    parser.add_argument("--report-seconds", type=float, default=2.0, metavar="S")
    parser.add_argument("--in-use-every", type=int, default=3, metavar="K")
    args = parser.parse_args()

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    install_root_rows()
    slow_credential_reports(args.report_seconds)
    requests = Requests()
    add_latency(args.latency / 1000, requests)
    start = time.perf_counter()
    ids = seed_organization(args.accounts, args.in_use_every)
    seed_seconds = time.perf_counter() - start

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    ready = {
        "endpoint": f"http://{host}:{port}",
        "pid": os.getpid(),
        "accounts": len(ids),
        "seed_seconds": round(seed_seconds, 2),
    }
    print(json.dumps(ready), flush=True)
    sys.stdin.read()  # the parent closes our stdin when it is done
    server.stop()
    # ru_maxrss is in KiB on Linux.
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"requests": dict(requests.counts), "peak_rss_kib": peak_kib}), flush=True)


if __name__ == "__main__":
    main()
