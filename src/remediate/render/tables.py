"""The tables for people (rich): the sweep's, one row per account judged, and the root
credentials audit's, one row per member account. External strings go through
:func:`remediate.core.terminal.safe` (or rich's escape)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from remediate.core.terminal import safe
from remediate.org.root_credentials import CENTRALIZE_COMMAND, MANAGEMENT_ACCOUNT_NOTE

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.org.root_credentials import AuditResult as RootAuditResult
    from remediate.org.sweep import AccountResult, SweepResult


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


def render_root_audit(console: Console, result: RootAuditResult, *, sandbox: bool = False) -> None:
    """The organization's centralized root access, one row per member account (holding root
    credentials first), a summary line, and what to do next (on the ``sandbox``, a command that
    works on the next --sandbox run, whose member accounts have new ids)."""
    from rich.markup import escape
    from rich.table import Table

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
    elif s["with_root_credentials"] and sandbox:
        console.print(
            "Next step: [bold]remediate root-credentials delete --sandbox --all-accounts[/] "
            "deletes them in a new sandbox (its member accounts get new ids in every --sandbox "
            "run; `remediate sandbox serve` keeps one)."
        )
    elif s["with_root_credentials"]:
        holders = ",".join(a.account_id for a in result.accounts if a.holds_root_credentials)
        console.print(
            f"Next step: [bold]remediate root-credentials delete --accounts {holders}[/] "
            "deletes them."
        )
