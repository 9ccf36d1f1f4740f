"""Renderers: the human view (rich) and the JSON document (stdout holds nothing else)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.detect.judge import Verdict

NEXT_STEP = "remediate root-use --create-admin NAME"


def stdout_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def _ago(seconds: float) -> str:
    if seconds < 0:
        return "in the future"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def render_verdict(console: Console, verdict: Verdict, now: datetime) -> None:
    """A verdict line, the evidence, the hygiene findings and the next step."""
    account = verdict.account_id or "unknown account"
    days = verdict.window_days
    if verdict.root_in_use is None:
        console.print(f"[bold yellow]UNDETERMINED[/]: root use in {account} cannot be determined.")
    elif verdict.root_in_use:
        console.print(
            f"[bold red]ROOT IN USE[/]: the root user of {account} was used "
            f"in the last {days} day{'s' * (days != 1)}."
        )
    else:
        console.print(
            f"[bold green]OK[/]: the root user of {account} was not used "
            f"in the last {days} day{'s' * (days != 1)}."
        )
    for item in verdict.evidence:
        where = ", ".join(x for x in (item.service, item.region) if x)
        console.print(
            f"  - {item.credential}: last used {when(item.last_used)} "
            f"({_ago((now - item.last_used).total_seconds())})" + (f" via {where}" if where else "")
        )
    if verdict.last_used and not verdict.evidence:
        console.print(f"  Most recent root use: {when(verdict.last_used)}.")
    findings: list[str] = []
    if verdict.root_mfa_active is False:
        findings.append("[red]root MFA is not active[/]")
    elif verdict.root_mfa_active:
        findings.append("root MFA is active")
    if verdict.root_access_keys_active:
        findings.append(f"[red]{verdict.root_access_keys_active} active root access key(s)[/]")
    elif verdict.root_access_keys_active == 0:
        findings.append("no active root access keys")
    if verdict.root_signing_certificates_active:
        findings.append(
            f"[red]{verdict.root_signing_certificates_active} active root signing certificate(s)[/]"
        )
    if findings:
        console.print("Root hygiene: " + "; ".join(findings) + ".")
    if verdict.report_generated_at is not None and verdict.report_age_seconds is not None:
        console.print(
            f"Credential report generated {when(verdict.report_generated_at)} "
            f"({_ago(verdict.report_age_seconds)})."
        )
    for note in verdict.notes:
        console.print(f"[yellow]Note:[/] {note}")
    if verdict.root_in_use:
        console.print(
            f"Next step: [bold]{NEXT_STEP}[/] creates an administrator so the root user "
            "can be put away."
        )
