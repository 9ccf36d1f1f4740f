"""A remediation for people (rich): each account's plan, what was applied, where each secret
went, and the hand-over; :class:`TextView` shows them as the engine goes. External strings go
through :func:`remediate.core.terminal.safe`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from remediate.core.terminal import print_hanging, print_secret, safe
from remediate.credentials.store import parse_access_key
from remediate.render.handover import handover, secrets_command

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.playbook.engine import AccountRun
    from remediate.playbook.runner import RunReport
    from remediate.steps.base import RunOutcome


# A dry run's last line: what it did (nothing), and how to do it.
DRY_RUN_END = "Dry run: nothing was changed. To apply: the same command without --dry-run."


def render_plan(
    console: Console, report: RunReport, account_id: str, *, many: bool = False
) -> None:
    """One line per step (``+`` create, ``~`` update, ``=`` no change), then its details; a dry
    run in one account ends saying nothing was changed and how to apply (across ``many``
    accounts, the command says it once, after every plan: :data:`DRY_RUN_END`)."""
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
        changes = f"{n} change{'s' * (n != 1)}"
        if not report.dry_run:
            console.print(f"{changes} to apply.")
        else:
            console.print(f"{changes} planned.")
            if not many:
                console.print(DRY_RUN_END)


def credentials_profile(user: str, value: str) -> list[str]:
    """An access key as kept (``{"AccessKeyId", "SecretAccessKey"}``), as the lines of a
    ``~/.aws/credentials`` profile named after its user: the one text format of an access key."""
    key = parse_access_key(value)
    return [
        f"[{user}]",
        f"aws_access_key_id = {key['AccessKeyId']}",
        f"aws_secret_access_key = {key['SecretAccessKey']}",
    ]


def _secret_line(kind: str, user: str, value: str) -> str:
    """``alice's password``; an access key also by its id, which is no secret."""
    if kind == "access-key":
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
    held: Callable[[str], Sequence[str]] | None = None,
) -> None:
    """What was applied, where each secret went, how the new user signs in, any warning, and the
    hand-over: the exact commands that hand each secret to its owner, finish a run that ended
    early (``finish``: the command that reruns it), and forget the secrets afterwards; with
    ``held`` (a user's secrets in the keyring never shown), an earlier run's too: a resumed run
    hands over what the run it finishes kept."""
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
    _render_handover(console, outcome, account_id, finish, held)


def _command(console: Console, command: str) -> None:
    """A command (or a path) to copy, on a line of its own and never wrapped by rich: at 80
    columns a wrapped command breaks where a copy would take it apart."""
    console.print(f"    {safe(command)}", soft_wrap=True)


def _render_handover(
    console: Console,
    outcome: RunOutcome,
    account_id: str,
    finish: str | None,
    held: Callable[[str], Sequence[str]] | None = None,
) -> None:
    h = handover(outcome, account_id, finish=finish, held=held)
    if h is None:
        return
    user = safe(h.user)
    if h.show or h.qr_file:
        console.print(f"Hand over to {user} only, in person or over a channel you trust:")
        for what, command in h.show:
            console.print(f"  {what}:")
            _command(console, command)
        if h.qr_file:
            console.print(
                f"  MFA device: send {user} the QR code in this file (mode 0600) to scan:"
            )
            _command(console, h.qr_file)
            console.print("  and to write it again:")
            _command(console, _qr_again(h.user, account_id))
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
        _command(console, h.finish_mfa)
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
        _command(console, h.finish_mfa)
    if h.kept_seed:
        # Its command is the forget line's, below: said once, where it can be copied whole.
        warning = h.kept_seed
        if h.forget and warning.endswith(f": {h.forget}"):
            warning = warning[: -len(h.forget) - 2] + ", forget it (below)"
        console.print(f"[bold yellow]Warning:[/] {safe(warning)}")
    if h.finish_mfa and not self_service:
        # Forgetting now would lose the seed the finishing run needs: that run says when.
        console.print(
            f"After the finishing run, forget {user}'s secrets (its summary gives the command; "
            f"the keyring is no place for them)."
        )
    elif h.forget:
        console.print(
            f"Once {user} holds them, forget them (the keyring is no place for {user}'s secrets):"
        )
        _command(console, h.forget)


def _qr_again(user: str, account_id: str) -> str:
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
        # (account id, user) -> the kinds of the user's secrets the keyring holds that nobody
        # was shown: an earlier run's are handed over too (set by the command, which has the
        # keyring).
        self.held: Callable[[str, str], Sequence[str]] | None = None

    def planned(self, run: AccountRun) -> None:
        if run.report is None:
            if self.many and run.failure is not None:
                self.console.print(
                    f"[red]Account {safe(run.account_id)}: cannot plan: "
                    f"{safe(run.failure.message)}[/]"
                )
            return
        render_plan(self.console, run.report, run.account_id, many=self.many)

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
            held=self._held(run.account_id),
        )

    def _held(self, account_id: str) -> Callable[[str], Sequence[str]] | None:
        held = self.held
        if held is None:
            return None
        return lambda user: held(account_id, user)
