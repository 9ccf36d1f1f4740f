"""What `root-activity status` and `watch` across accounts show: each account's root-activity
findings (text, JSON, or a findings format), and each account's watch run in a line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from remediate.core.terminal import print_documents, print_json, safe, stdout_console
from remediate.findings.checks import FAILED, PASSED, CheckResult
from remediate.findings.formats import FINDINGS_FORMATS, build

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.playbook.engine import AccountRun


class AccountFindings(Protocol):
    @property
    def account_id(self) -> str: ...

    @property
    def results(self) -> tuple[CheckResult, ...]: ...

    @property
    def error(self) -> str | None: ...


_MARK = {FAILED: "[red]FAILED[/]", PASSED: "[green]PASSED[/]"}


def show_status(
    found: Sequence[AccountFindings],
    output: str,
    *,
    region: str,
    now: datetime,
    imports: Sequence[str] = (),
) -> None:
    """Text for people, JSON for programs, or the findings in a registered format."""
    results = [r for a in found for r in a.results]
    if output in FINDINGS_FORMATS:
        print_documents(build(output, results, region=region, now=now))
        return
    if output == "json":
        print_json(
            {
                "region": region,
                "accounts": [
                    {
                        "account_id": a.account_id,
                        "error": a.error,
                        "findings": [
                            {
                                "id": r.check.id,
                                "status": r.status,
                                "severity": r.severity.value,
                                "title": r.check.title,
                                "description": r.description,
                                "remediation": r.check.remediation,
                            }
                            for r in a.results
                        ],
                    }
                    for a in found
                ],
                "security_hub_failures": list(imports),
            }
        )
        return
    console = stdout_console()
    for a in found:
        console.print(f"[bold]Account {safe(a.account_id)}[/] (home region {safe(region)})")
        if a.error:
            console.print(f"  [red]not read: {safe(a.error)}[/]")
            continue
        for r in a.results:
            mark = _MARK.get(r.status, "[yellow]N/A[/]   ")
            console.print(f"  {mark:<6} {r.check.id} ({r.severity.value}): {safe(r.description)}")
            if r.status == FAILED:
                console.print(f"         Fix: {safe(r.check.remediation)}")
    for line in imports:
        console.print(f"[red]Security Hub did not import {safe(line)}[/]")


def show_watch_runs(console: Console, runs: Sequence[AccountRun], output: str) -> None:
    """Each account's watch run: changed, nothing to change, or why it failed."""
    rows = []
    for r in runs:
        if r.failure is not None:
            state = f"failed: {r.failure.message}"
        elif r.report is None:
            state = "not planned"
        elif r.report.dry_run:
            state = f"{len(r.report.pending)} changes planned (dry run)"
        elif r.report.changed:
            state = "set up"
        else:
            state = "nothing to change"
        rows.append((r.account_id, state))
    if output == "json":
        print_json({"accounts": [{"account_id": a, "result": s} for a, s in rows]})
        return
    if not rows:
        console.print("No account to watch.")
    for account, state in rows:
        console.print(f"Account {safe(account)}: {safe(state)}")
