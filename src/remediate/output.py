"""Renderers: the human view (rich) and the JSON document (stdout holds nothing else)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.detect.judge import Verdict
    from remediate.playbook.runner import RunReport
    from remediate.steps.base import Secret

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


def render_plan(console: Console, report: RunReport, account_id: str) -> None:
    """One line per step (``+`` create, ``~`` update, ``=`` no change), then its details."""
    title = f"Plan for playbook {report.playbook} in account {account_id}"
    if report.dry_run:
        title += " (dry run: nothing will be changed)"
    console.print(f"[bold]{title}[/]:")
    marks = {"create": "[green]+ create[/]", "update": "[yellow]~ update[/]", "none": "= none  "}
    for p in report.steps:
        console.print(
            f"  {marks[p.change.change]}  {p.step.id} ({p.step.kind}): {p.change.resource}"
        )
        for detail in p.change.details:
            console.print(f"              {detail}")
    if not report.pending:
        console.print("Nothing needs changing: everything is already in place.")
    else:
        n = len(report.pending)
        console.print(f"{n} change{'s' * (n != 1)} to apply.")


def render_outcome(
    console: Console,
    report: RunReport,
    secrets: list[Secret],
    results: dict[str, Any],
    *,
    show_secrets: bool,
    sandbox: bool = False,
) -> None:
    """What was applied, where each secret went, and how the new user signs in."""
    if report.dry_run or not report.pending:
        return
    console.print(f"Applied {report.changed} of {len(report.pending)} change(s).")
    for s in secrets:
        where = f"stored in {s.stored_in} as {s.kind}" if s.stored_in else "not stored"
        console.print(f"  {s.user}'s {s.kind}: {where}")
        if show_secrets:
            console.print(f"    {s.kind}: {s.value}")
    if secrets and not show_secrets:
        if sandbox:
            console.print(
                "  The sandbox's keyring ends with this command: --show-secrets shows them."
            )
        else:
            console.print(
                "  Hand them over with: remediate secrets show USER --what "
                "password|access-key|mfa-qr"
            )
    mfa = results.get("mfa")
    if mfa:
        state = "enabled" if mfa.get("enabled") else "pending (rerun to finish enrolling)"
        console.print(f"  MFA device {mfa['serial_number']}: {state}")
    if "console_sign_in_url" in results:
        console.print(f"  Console sign-in: {results['console_sign_in_url']}")


def secrets_json(secrets: list[Secret], *, show_secrets: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in secrets:
        item: dict[str, Any] = {"user": s.user, "kind": s.kind, "stored_in": s.stored_in}
        if show_secrets:
            item["value"] = s.value
        out.append(item)
    return out
