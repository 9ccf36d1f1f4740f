"""Security Hub's results for people (rich): each account's import, the findings it refused,
and on stderr what could not be read or set. External strings go through
:func:`remediate.core.terminal.safe`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from remediate.core.terminal import print_hanging, safe, stderr_console, write_message

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.findings.securityhub import ImportResult


def render_security_hub(console: Console, results: Sequence[ImportResult]) -> None:
    """Each account's run in Security Hub: how many findings it imported, marked resolved or
    reopened, and every finding it refused, with Security Hub's reason; then, on stderr, a
    warning for what it could not read and for the workflows it could not set."""
    for r in results:
        state = "[green]ok[/]" if r.ok else "[red]incomplete[/]"
        console.print(
            f"Security Hub ({safe(r.region)}, account {safe(r.account_id)}): imported "
            f"{r.imported} finding{'s' * (r.imported != 1)}"
            + (f", marked {r.resolved} resolved" if r.resolved else "")
            + (f", reopened {r.reopened}" if r.reopened else "")
            + (f", {len(r.unresolved)} not marked resolved" if r.unresolved else "")
            + f", {state}."
        )
        for f in r.refused:
            console.print(f"  [red]not imported[/] {safe(f.id)}: {safe(f.code)}: {safe(f.message)}")
    for r in results:
        # A call refused as a whole is an AWS failure like any other: one line and its tip.
        for message, tip in r.call_failures:
            write_message(
                f"error: Security Hub import in account {r.account_id} ({r.region}): {message}",
                sys.stderr,
            )
            if tip:
                write_message(f"Tip: {tip}", sys.stderr)
    for r in results:
        if r.read_failure is not None:
            # The import went on: what was lost is what only the stored findings tell.
            tip = r.read_failure.tip or (
                "grant securityhub:GetFindings to the caller (`remediate permissions "
                "--var user=NAME --security-hub` prints it)"
            )
            print_hanging(
                stderr_console(),
                "[yellow]Warning:[/] ",
                f"securityhub:GetFindings failed in account {safe(r.account_id)} "
                f"({safe(r.region)}): {safe(r.read_failure.message)}. The findings were imported "
                "with CreatedAt and FirstObservedAt of this run, and remediate's record on them "
                f"could not be checked. Tip: {safe(tip)}",
            )
    for r in results:
        for action, verb, status in (
            ("resolve", "mark", "RESOLVED"),
            ("reopen", "set", "back to NEW"),
        ):
            missed = [f for f in r.unresolved if f.action == action]
            if not missed:
                continue
            # The import happened: only the workflow is left as it was.
            found = ", ".join(f"{safe(f.id)} ({safe(f.code)})" for f in missed)
            denied = any(f.code.startswith("AccessDenied") for f in missed)
            tip = (
                "add the action to the caller's policy (`remediate permissions --var user=NAME "
                "--security-hub` prints it), or set the workflow in Security Hub."
                if denied
                else "set the workflow in Security Hub, or rerun."
            )
            print_hanging(
                stderr_console(),
                "[yellow]Warning:[/] ",
                f"securityhub:BatchUpdateFindings did not {verb} {found} {status} in account "
                f"{safe(r.account_id)} ({safe(r.region)}). The findings were imported with what "
                f"detection measured: only the workflow is not set. Tip: {tip}",
            )
