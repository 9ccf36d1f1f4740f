"""``remediate journal``: its options, and the call to remediate.commands.journal."""

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.core import limits

EXIT_CODES = (
    "Exit codes: 0 shown (unreadable lines are skipped and counted); 2 invalid input, or a "
    "state directory that cannot be used."
)


def journal_show(
    output: o.OutputFormat = o.Output.text,
    limit: o.JournalLimit = limits.DEFAULT_JOURNAL_LIMIT,
    account: o.JournalAccount = None,
    user: o.JournalUser = None,
    since: o.JournalSince = None,
) -> None:
    """Show the audit trail: every write call remediate made, with its outcome (never a
    secret); unreadable lines are skipped and counted."""
    from remediate.commands.journal import journal, journal_request

    request = journal_request(
        limit=limit, account=account, user=user, since=since, output=output.value
    )
    raise typer.Exit(journal(request))


def register(app: typer.Typer) -> None:
    app.command(
        "journal",
        epilog=helptext.epilog(
            EXIT_CODES,
            ("The newest changes remediate made", "remediate journal"),
            ("What it did to alice in the last week", "remediate journal --user alice --since 7d"),
            (
                "One account's changes, for a program",
                "remediate journal --account 111122223333 --output json",
            ),
        ),
        short_help="Show every write remediate made, with its outcome.",
    )(journal_show)
