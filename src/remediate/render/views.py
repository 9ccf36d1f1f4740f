"""The human view (rich): verdicts, plans, outcomes, the sweep table, CloudTrail evidence and
Security Hub results. External strings go through :func:`remediate.core.terminal.safe`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.detect.findings import Finding
    from remediate.detect.judge import Verdict
    from remediate.org.root_credentials import AuditResult as RootAuditResult
    from remediate.org.sweep import AccountResult, SweepResult
    from remediate.playbook.engine import AccountRun
    from remediate.playbook.runner import RunReport
    from remediate.steps.base import RunOutcome
from remediate.core.terminal import (
    REGION_PATTERN,
    SERVICE_PATTERN,
    print_hanging,
    print_secret,
    safe,
    safe_field,
    stderr_console,
    write_message,
)

NEXT_STEP = "remediate root-use --create-admin NAME"


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
            f"({_ago((now - item.last_used).total_seconds())})"
            + (f" via {where}" if where else ""),
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
            f"({_ago(verdict.report_age_seconds)})."
        )
    for note in verdict.notes:
        print_hanging(console, "[yellow]Note:[/] ", safe(note))
    if verdict.root_in_use and next_step:
        console.print(
            f"Next step: [bold]{NEXT_STEP}[/] creates an administrator so the root user "
            "can be put away."
        )


_SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow"}


def render_findings(console: Console, findings: Sequence[Finding]) -> None:
    """Each finding: severity, id and title, then how to fix it."""
    from rich.markup import escape

    if not findings:
        return
    console.print(f"Findings ({len(findings)}):")
    for f in findings:
        style = _SEVERITY_STYLE.get(f.severity.value, "default")
        print_hanging(console, f"  [{style}]{f.severity.value:<8}[/] ", f"{f.id}: {f.title}.")
        print_hanging(console, "           Fix: ", escape(f.remediation))


def render_plan(console: Console, report: RunReport, account_id: str) -> None:
    """One line per step (``+`` create, ``~`` update, ``=`` no change), then its details."""
    title = f"Plan for playbook {safe(report.playbook)} in account {safe(account_id)}"
    if report.dry_run:
        title += " (dry run: nothing will be changed)"
    console.print(f"[bold]{title}[/]:")
    marks = {
        "create": "[green]+ create[/]",
        "update": "[yellow]~ update[/]",
        "delete": "[red]- delete[/]",
        "none": "= none  ",
    }
    for p in report.steps:
        print_hanging(
            console,
            f"  {marks[p.change.change]}  ",
            f"{safe(p.step.id)} ({safe(p.step.kind)}): {safe(p.change.resource)}",
        )
        for detail in p.change.details:
            # Details hold names, tag values and ids read from AWS: text, never markup.
            print_hanging(console, " " * 14, safe(detail))
        for warning in p.change.warnings:
            print_hanging(console, " " * 14, f"[bold yellow]Warning:[/] {safe(warning)}")
    ends = next((p.change.ends_run for p in report.steps if p.change.ends_run), None)
    if not report.pending and ends is not None:
        # Not all in place: the run ends early, and the steps after it wait (the plan says why).
        console.print(f"Nothing needs changing now; {safe(ends)}.")
    elif not report.pending:
        console.print("Nothing needs changing: everything is already in place.")
    else:
        n = len(report.pending)
        console.print(f"{n} change{'s' * (n != 1)} to apply.")


def credentials_profile(user: str, value: str) -> list[str]:
    """An access key as kept (``{"AccessKeyId", "SecretAccessKey"}``), as the lines of a
    ``~/.aws/credentials`` profile named after its user: the one text format of an access key."""
    from remediate.credentials.store import parse_access_key

    key = parse_access_key(value)
    return [
        f"[{user}]",
        f"aws_access_key_id = {key['AccessKeyId']}",
        f"aws_secret_access_key = {key['SecretAccessKey']}",
    ]


def _secret_line(kind: str, user: str, value: str) -> str:
    """``alice's password``; an access key also by its id, which is no secret."""
    if kind == "access-key":
        from remediate.credentials.store import parse_access_key

        return f"{safe(user)}'s access key {safe(parse_access_key(value)['AccessKeyId'])}"
    return f"{safe(user)}'s {kind}"


def render_outcome(
    console: Console,
    report: RunReport,
    outcome: RunOutcome,
    *,
    show_secrets: bool,
    sandbox: bool = False,
    account_id: str | None = None,
    finish: str | None = None,
) -> None:
    """What was applied, where each secret went, how the new user signs in, any warning, and the
    hand-over: the exact commands that hand each secret to its owner, finish a run that ended
    early (``finish``: the command that reruns it), and forget the secrets afterwards."""
    if report.dry_run:
        return
    if report.pending:
        pending = len(report.pending)
        console.print(f"Applied {report.changed} of {pending} change{'s' * (pending != 1)}.")
    secrets = outcome.secrets
    for s in secrets:
        where = f"stored in {safe(s.stored_in)} as {s.kind}" if s.stored_in else "not stored"
        console.print(f"  {_secret_line(s.kind, s.user, s.value)}: {where}")
        if show_secrets:
            if s.kind == "access-key":
                print_secret(console, f"    {s.kind}:", "")
                for line in credentials_profile(s.user, s.value):
                    print_secret(console, "      ", line)
            else:
                print_secret(console, f"    {s.kind}: ", s.value)
    mfa = outcome.mfa
    if mfa is not None and (report.pending or (mfa.handoff and not mfa.enabled)):
        if mfa.enabled and mfa.seed_forgotten:
            state = "enabled; its seed is forgotten (only the app that scanned it holds it)"
        elif mfa.enabled:
            state = "enabled"
        elif mfa.handoff:
            state = f"pending, waiting for {safe(mfa.user)}'s two codes (hand-off)"
        elif sandbox:
            # --sandbox forgets the device with this command: a rerun starts afresh.
            state = (
                "pending (a --sandbox rerun starts afresh: `remediate sandbox serve` keeps one "
                "running to resume in)"
            )
        else:
            state = "pending"
        console.print(f"  MFA device {safe(mfa.serial_number)}: {state}")
    if outcome.console_sign_in_url is not None:
        console.print(f"  Console sign-in: {safe(outcome.console_sign_in_url)}")
    if report.pending:
        # Said in the plan already; said again where the run ends, not to be missed.
        for p in report.steps:
            for warning in p.change.warnings:
                console.print(f"[bold yellow]Warning:[/] {safe(warning)}")
    if secrets and sandbox and not show_secrets:
        console.print("  The sandbox's keyring ends with this command: --show-secrets prints them.")
    if sandbox or account_id is None:
        return
    _render_handover(console, outcome, account_id, finish)


def _render_handover(
    console: Console, outcome: RunOutcome, account_id: str, finish: str | None
) -> None:
    from remediate.render.handover import handover

    h = handover(outcome, account_id, finish=finish)
    if h is None:
        return
    user = safe(h.user)
    if h.show or h.qr_file:
        console.print(f"Hand over to {user} only, in person or over a channel you trust:")
        for what, command in h.show:
            console.print(f"  {what}: {safe(command)}")
        if h.qr_file:
            again = safe(_qr_again(h.user, account_id))
            console.print(
                f"  MFA device: send {user} the QR code in {safe(h.qr_file)} (mode 0600) to scan; "
                f"{again} writes it again"
            )
    if h.first_sign_in:
        console.print(f"At first sign-in, {user} must:")
        for n, step in enumerate(h.first_sign_in, 1):
            console.print(f"  {n}. {safe(step)}")
    self_service = outcome.self_service_policy is not None
    if h.self_service:
        console.print(
            f"What {user} can do until you finish, and what finishing does:"
            if h.finish_mfa
            else f"Self-service MFA for {user} is finished:"
        )
        for line in h.self_service:
            console.print(f"  - {safe(line)}")
    if h.finish_mfa and self_service:
        console.print(
            f"Once {user} has enabled an MFA device, finish (the steps held back run then):"
        )
        console.print(f"  {safe(h.finish_mfa)}")
    elif h.finish_mfa:
        if outcome.mfa is not None and outcome.mfa.handoff:
            console.print(
                f"When {user} sends back two consecutive codes from the app, finish the "
                "enrollment (the steps held back run then):"
            )
        else:
            console.print(
                "Finish the MFA enrollment: rerun to scan and type the codes here, or pass two "
                "consecutive codes from the app that scanned it:"
            )
        console.print(f"  {safe(h.finish_mfa)}")
    if h.kept_seed:
        console.print(f"[bold yellow]Warning:[/] {safe(h.kept_seed)}")
    if h.finish_mfa and not self_service:
        # Forgetting now would lose the seed the finishing run needs: that run says when.
        console.print(
            f"After the finishing run, forget {user}'s secrets (its summary gives the command; "
            f"the keyring is no place for them)."
        )
    elif h.forget:
        console.print(
            f"Once {user} holds them, forget them (the keyring is no place for {user}'s "
            f"secrets): {safe(h.forget)}"
        )


def _qr_again(user: str, account_id: str) -> str:
    from remediate.render.handover import secrets_command

    return secrets_command("show", user, account_id, "--what", "mfa-qr", "--qr-file", "PATH")


class TextView:
    """The engine's view for people: each account's plan, then each outcome."""

    def __init__(
        self,
        console: Console,
        *,
        many: bool,
        show_secrets: bool,
        sandbox: bool,
        finish: Callable[[str], str] | None = None,
    ) -> None:
        self.console = console
        self.many = many
        self.show_secrets = show_secrets
        self.sandbox = sandbox
        # The command that reruns the remediation in an account: it finishes a run that ended
        # early (self-service MFA; with --mfa-codes, a pending enrollment).
        self.finish = finish

    def planned(self, run: AccountRun) -> None:
        if run.report is None:
            if self.many and run.failure is not None:
                self.console.print(
                    f"[red]Account {safe(run.account_id)}: cannot plan: "
                    f"{safe(run.failure.message)}[/]"
                )
            return
        render_plan(self.console, run.report, run.account_id)

    def applied(self, run: AccountRun) -> None:
        if run.report is None:
            return
        if self.many:
            if run.failure is not None:
                self.console.print(
                    f"[red]Account {safe(run.account_id)}: {safe(run.failure.message)}[/]"
                )
            self.console.print(f"[bold]Account {safe(run.account_id)}[/]:")
        render_outcome(
            self.console,
            run.report,
            run.outcome,
            show_secrets=self.show_secrets,
            sandbox=self.sandbox,
            account_id=run.account_id,
            finish=self.finish(run.account_id) if self.finish else None,
        )


def _verdict_label(result: AccountResult) -> str:
    if result.verdict is None:
        return "[bold red]error[/]"
    if result.verdict.root_in_use is None:
        return "[yellow]undetermined[/]"
    return "[bold red]IN USE[/]" if result.verdict.root_in_use else "[green]ok[/]"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "[red]no[/]"


# The sweep table's columns; what each may give up when the terminal is narrow, in that order:
# the two-word headers go on two lines, a name is cut (with an ellipsis), the time of the last
# use goes under its date, the evidence wraps at its commas.
_SWEEP_HEADERS = (
    "Account",
    "Name",
    "Verdict",
    "Last root use",
    "Evidence",
    "Root MFA",
    "Root keys",
)
_SWEEP_SHRINK = ((5, "word"), (6, "word"), (1, 8), (3, "word"), (4, "word"), (1, 4))
# Between two columns: a space, the rule, a space.
_SWEEP_RULE = 3


def _longest_word(cells: Sequence[str]) -> int:
    """What a column needs to wrap ``cells`` at their spaces (markup aside)."""
    from rich.cells import cell_len
    from rich.text import Text

    return max((cell_len(w) for c in cells for w in Text.from_markup(c).plain.split()), default=1)


def sweep_widths(
    rows: Sequence[Sequence[str]], width: int, *, folded: Sequence[int] = ()
) -> list[int]:
    """Column widths for the sweep table in ``width`` terminal columns: each column as wide as
    its widest cell while they fit, then narrowed in the order of _SWEEP_SHRINK, never below its
    longest word (the name alone is cut, down to 4), except in the rows ``folded`` (errors,
    whose long words, ARNs, are folded rather than widen the table)."""
    from rich.text import Text

    columns = [[header, *(row[n] for row in rows)] for n, header in enumerate(_SWEEP_HEADERS)]
    whole = [
        [header, *(row[n] for i, row in enumerate(rows) if i not in folded)]
        for n, header in enumerate(_SWEEP_HEADERS)
    ]
    widths = [max(Text.from_markup(c).cell_len for c in cells) for cells in columns]
    room = width - _SWEEP_RULE * (len(widths) - 1)
    for n, least in _SWEEP_SHRINK:
        excess = sum(widths) - room
        if excess <= 0:
            break
        floor = _longest_word(whole[n]) if least == "word" else int(least)
        widths[n] = max(min(widths[n], widths[n] - excess), floor)
    return widths


def render_sweep(console: Console, result: SweepResult) -> None:
    """One row per account, in the sweep's order, then a summary line."""
    from rich.table import Table

    rows: list[tuple[str, ...]] = []
    folded: list[int] = []
    for a in result.accounts:
        v = a.verdict
        account_id = safe(a.account_id)
        name = safe(a.account_name) if a.account_name else "-"
        if v is None:
            error = safe(a.error or "unknown error")
            folded.append(len(rows))
            rows.append((account_id, name, _verdict_label(a), "-", f"[red]{error}[/]", "-", "-"))
            continue
        # Without a <root_account> row "never" would claim too much.
        last = (
            v.last_used.strftime("%Y-%m-%d %H:%M")
            if v.last_used
            else "never"
            if v.root_in_use is not None
            else "unknown"
        )
        keys = v.root_access_keys_active
        rows.append(
            (
                account_id,
                name,
                _verdict_label(a),
                last,
                ", ".join(e.credential for e in v.evidence) or "-",
                _yes_no(v.root_mfa_active),
                "-" if keys is None else f"[red]{keys}[/]" if keys else "0",
            )
        )
    widths = sweep_widths(rows, console.width, folded=folded)
    table = Table(show_edge=False, pad_edge=False)
    for n, header in enumerate(_SWEEP_HEADERS):
        # Only the name is ever cut (with an ellipsis); every other cell wraps at its spaces.
        table.add_column(
            header,
            width=widths[n],
            no_wrap=n == 1,
            overflow="ellipsis" if n == 1 else "fold",
        )
    for row in rows:
        table.add_row(*row)
    console.print(table)
    s = result.summary()
    console.print(
        f"{s['total']} account{'s' * (s['total'] != 1)}: {s['in_use']} in use, "
        f"{s['not_in_use']} not in use, {s['undetermined']} undetermined"
    )


def _yes_no_plain(value: bool) -> str:
    return "yes" if value else "[red]no[/]"


def render_root_audit(console: Console, result: RootAuditResult) -> None:
    """The organization's centralized root access, one row per member account (holding root
    credentials first), a summary line, and what to do next."""
    from rich.markup import escape
    from rich.table import Table

    from remediate.org.root_credentials import CENTRALIZE_COMMAND, MANAGEMENT_ACCOUNT_NOTE

    org = result.organization
    console.print(
        f"Organization {org.organization_id} (management account "
        f"{org.management_account_id}): trusted access for IAM: "
        f"{_yes_no_plain(org.trusted_access)}; root credentials management: "
        f"{_yes_no_plain(org.root_credentials_management)}; root sessions: "
        f"{_yes_no_plain(org.root_sessions)}."
    )
    table = Table(show_edge=False, pad_edge=False)
    # A count always shows; the ids after it wrap, and only an id longer than its column is cut.
    table.add_column("Account", no_wrap=True, min_width=12)
    table.add_column("Name", no_wrap=True, overflow="ellipsis", min_width=4)
    table.add_column("Password", min_width=4)
    for column in ("Access keys", "Signing certs", "MFA devices"):
        table.add_column(column, overflow="ellipsis", min_width=6)
    table.add_column("Error", min_width=8)
    for a in result.accounts:
        name = escape(a.account_name) if a.account_name else "-"
        c = a.credentials
        if c is None:
            error = escape(a.error or "unknown error")
            table.add_row(a.account_id, name, "-", "-", "-", "-", f"[red]{error}[/]")
            continue

        def many(ids: list[str]) -> str:
            return f"[red]{len(ids)}[/] ({', '.join(ids)})" if ids else "0"

        table.add_row(
            a.account_id,
            name,
            "[red]yes[/]" if c.login_profile else "no",
            many([k.access_key_id for k in c.access_keys]),
            many([x.certificate_id for x in c.signing_certificates]),
            many([d.serial_number for d in c.mfa_devices]),
            "",
        )
    console.print(table)
    s = result.summary()
    console.print(
        f"{s['total']} member account{'s' * (s['total'] != 1)}: "
        f"{s['with_root_credentials']} with root credentials, "
        f"{s['without_root_credentials']} without, {s['undetermined']} undetermined"
    )
    if result.management_left_out:
        console.print(
            f"[yellow]Note:[/] management account {org.management_account_id} not audited: "
            f"{MANAGEMENT_ACCOUNT_NOTE}."
        )
    if not (org.trusted_access and org.root_credentials_management):
        console.print(f"Next step: [bold]{CENTRALIZE_COMMAND}[/] enables centralized root access.")
    elif s["with_root_credentials"]:
        holders = ",".join(a.account_id for a in result.accounts if a.holds_root_credentials)
        console.print(
            f"Next step: [bold]remediate root-credentials delete --accounts {holders}[/] "
            "deletes them."
        )


# --- CloudTrail evidence and exported findings ---------------------------------------------------

MAX_SHOWN_WRITES = 20
MAX_SHOWN_SIGN_INS = 10
MAX_SHOWN_IPS = 10
MAX_SHOWN_CLIENTS = 5
MAX_CLIENT_WIDTH = 100
_MFA_WORDS = {True: "with MFA", False: "[red]without MFA[/]", None: "MFA not recorded"}


def _counted(items: Sequence[tuple[str, int]], limit: int, width: int = 0) -> str:
    def short(text: str) -> str:
        return text if not width or len(text) <= width else text[: width - 1] + "\u2026"

    shown = ", ".join(f"{safe(short(value))} ({n})" for value, n in items[:limit])
    more = len(items) - limit
    return shown + (f", and {more} more" if more > 0 else "")


def render_root_activity(console: Console, verdict: Verdict, now: datetime) -> None:
    """What CloudTrail shows root did (--cloudtrail): the regions read and those not read, the
    last sign-in, where from and with which clients, write actions first (newest first),
    read-only actions counted. Every value is CloudTrail's text and shown made safe."""
    from remediate.detect.activity import gaps, regions_read_text, summarize

    evidence = verdict.cloudtrail
    if evidence is None:
        return
    regions = safe(regions_read_text(evidence))
    span = f"{when(evidence.start)} to {when(evidence.end)}"
    missing = [f"  [red]{safe(gap[0].upper() + gap[1:])}[/]." for gap in gaps(evidence)]
    if not evidence.events:
        console.print(f"CloudTrail ({regions}): no root events in the regions read from {span}.")
        for line in missing:
            console.print(line)
        return
    n = len(evidence.events)
    console.print(
        f"[bold]CloudTrail[/] ({regions}): {n} root event{'s' * (n != 1)} from {span} "
        f"({evidence.calls} LookupEvents calls)."
    )
    for line in missing:
        console.print(line)
    s = summarize(evidence.events)
    last = s.last_sign_in
    if last is not None:
        console.print(
            f"  Last console sign-in: {when(last.event_time)} "
            f"({_ago((now - last.event_time).total_seconds())}) from "
            f"{safe(last.source_ip or 'an unknown address')}, {_MFA_WORDS[last.mfa_used]}."
        )
    if s.sign_in_events:
        text = f"  Console sign-ins: {s.sign_ins}"
        if s.sign_ins_without_mfa:
            text += f" ([red]{s.sign_ins_without_mfa} without MFA[/])"
        if s.failed_sign_ins:
            text += f", {s.failed_sign_ins} failed"
        console.print(text + ":")
        for e in s.sign_in_events[:MAX_SHOWN_SIGN_INS]:
            how = "[red]failed[/]" if e.error_code else _MFA_WORDS[e.mfa_used]
            console.print(
                f"    {when(e.event_time)}  from {safe(e.source_ip or '-')}  {how}  "
                f"{safe_field(e.region, REGION_PATTERN)}"
            )
        if len(s.sign_in_events) > MAX_SHOWN_SIGN_INS:
            more = len(s.sign_in_events) - MAX_SHOWN_SIGN_INS
            console.print(f"    ... and {more} more (all in --output json)")
    if s.source_ips:
        console.print(f"  Source IPs: {_counted(s.source_ips, MAX_SHOWN_IPS)}")
    if s.clients:
        console.print(f"  Clients: {_counted(s.clients, MAX_SHOWN_CLIENTS, MAX_CLIENT_WIDTH)}")
    if s.writes:
        console.print(
            f"  [red]Write actions ({len(s.writes)})[/] in the regions read, newest first:"
        )
        for e in s.writes[:MAX_SHOWN_WRITES]:
            failed = f" (failed: {safe(e.error_code)})" if e.error_code else ""
            console.print(
                f"    {when(e.event_time)}  {safe(e.action)}  "
                f"{safe_field(e.region, REGION_PATTERN)}  from {safe(e.source_ip or '-')}{failed}"
            )
        if len(s.writes) > MAX_SHOWN_WRITES:
            console.print(
                f"    ... and {len(s.writes) - MAX_SHOWN_WRITES} more (all in --output json)"
            )
    else:
        console.print("  Write actions in the regions read: none.")
    if s.reads:
        console.print(f"  Read-only actions: {_counted(s.reads, MAX_SHOWN_WRITES)}")


def render_cloudtrail_failures(verdicts: Sequence[Verdict]) -> None:
    """On stderr, one line and its tip for each distinct reason a region's event history (or
    the list of enabled regions) could not be read, naming the regions (and the account when
    there are several)."""
    many = len(verdicts) > 1
    for verdict in verdicts:
        evidence = verdict.cloudtrail
        if evidence is None:
            continue
        where = f"account {verdict.account_id}: " if many and verdict.account_id else ""
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for f in evidence.failures:
            grouped.setdefault((f.code, f.message, f.tip), []).append(f.region or "")
        for (_code, message, tip), regions in grouped.items():
            named = [r for r in regions if r]
            if named:
                subject = f"CloudTrail event history in {', '.join(named)}"
            else:
                subject = "CloudTrail: the account's enabled regions could not be listed"
            write_message(f"error: {where}{subject}: {message}", sys.stderr)
            if tip:
                write_message(f"Tip: {tip}", sys.stderr)


def render_security_hub(console: Console, results: Sequence[Any]) -> None:
    """Each account's run in Security Hub (remediate.findings.securityhub.ImportResult): how many
    findings it imported, marked resolved or reopened, and every finding it refused, with
    Security Hub's reason; then, on stderr, a warning for what it could not read and for the
    workflows it could not set."""
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
