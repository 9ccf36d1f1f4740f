"""The verdict for people (rich): root in use or not, its evidence, root's hygiene, the findings
and the next step. External strings go through :func:`remediate.core.terminal.safe`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from remediate.core.terminal import REGION_PATTERN, SERVICE_PATTERN, print_hanging, safe, safe_field

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.detect.findings import Finding
    from remediate.detect.judge import Verdict

NEXT_STEP = "remediate root-use --create-admin NAME"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def ago(seconds: float) -> str:
    if seconds < 0:
        return "in the future"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def render_verdict(
    console: Console, verdict: Verdict, now: datetime, *, next_step: bool = True
) -> None:
    """A verdict line, the evidence, the hygiene findings and (``next_step``: when the command
    is not already taking it) the next step."""
    account = safe(verdict.account_id or "unknown account")
    days = verdict.window_days
    if verdict.root_in_use is None:
        console.print(f"[bold yellow]UNDETERMINED[/]: root use in {account} cannot be determined.")
    else:
        # The window is counted to the second, not in calendar days: say where it starts.
        since = when(now - timedelta(days=min(days, 3650)))
        window = f"in the last {days} day{'s' * (days != 1)} (since {since})"
        if verdict.root_in_use:
            console.print(
                f"[bold red]ROOT IN USE[/]: the root user of {account} was used {window}."
            )
        else:
            console.print(f"[bold green]OK[/]: the root user of {account} was not used {window}.")
    for item in verdict.evidence:
        where = ", ".join(
            safe_field(value, pattern)
            for value, pattern in ((item.service, SERVICE_PATTERN), (item.region, REGION_PATTERN))
            if value
        )
        print_hanging(
            console,
            "  - ",
            f"{item.credential}: last used {when(item.last_used)} "
            f"({ago((now - item.last_used).total_seconds())})" + (f" via {where}" if where else ""),
        )
    if verdict.last_used and not verdict.evidence:
        console.print(f"  Most recent root use: {when(verdict.last_used)}.")
    findings: list[str] = []
    if verdict.root_mfa_active is False and verdict.root_password_present is False:
        findings.append("no root password, so no root MFA needed")
    elif verdict.root_mfa_active is False:
        findings.append("[red]root MFA is not active[/]")
    elif verdict.root_mfa_active:
        findings.append("root MFA is active")
    if verdict.root_access_keys_active:
        keys = verdict.root_access_keys_active
        findings.append(f"[red]{keys} active root access key{'s' * (keys != 1)}[/]")
    elif verdict.root_access_keys_active == 0:
        findings.append("no active root access keys")
    if verdict.root_signing_certificates_active:
        certificates = verdict.root_signing_certificates_active
        findings.append(
            f"[red]{certificates} active root signing certificate{'s' * (certificates != 1)}[/]"
        )
    if findings:
        console.print("Root hygiene: " + "; ".join(findings) + ".")
    render_findings(console, verdict.findings)
    if verdict.report_generated_at is not None and verdict.report_age_seconds is not None:
        console.print(
            f"Credential report generated {when(verdict.report_generated_at)} "
            f"({ago(verdict.report_age_seconds)})."
        )
    for note in verdict.notes:
        print_hanging(console, "[yellow]Note:[/] ", safe(note))
    if verdict.root_in_use and next_step:
        console.print(
            f"Next step: [bold]{NEXT_STEP}[/] creates an administrator so the root user "
            "can be put away."
        )


_SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow"}


EXPLAIN = "remediate root-use --explain"


def render_findings(console: Console, findings: Sequence[Finding]) -> None:
    """Each finding on a line of its own (severity, id, title), then the command that says why
    it matters and how to fix it: the long text would push the verdict off a 24-line screen."""
    if not findings:
        return
    console.print(f"Findings ({len(findings)}):")
    for f in findings:
        style = _SEVERITY_STYLE.get(f.severity.value, "default")
        print_hanging(console, f"  [{style}]{f.severity.value:<8}[/] ", f"{f.id}: {f.title}.")
    which = findings[0].id if len(findings) == 1 else "ID"
    console.print(f"Why and how to fix: {EXPLAIN} {which}", soft_wrap=True)
