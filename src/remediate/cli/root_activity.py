"""``remediate root-activity watch`` and ``status``: their options, and the calls to
remediate.commands.root_activity."""

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.cli.groups import aws_options
from remediate.cli.state import prompter

if TYPE_CHECKING:
    from remediate.commands.request import AwsChoice

app = typer.Typer(
    help="Keep root put away: make every root sign-in and API call reach people within "
    "minutes (EventBridge, SNS; the CIS alarm), and show what watches root now.",
    short_help="Notify on root's activity, and show what watches it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

WATCH_EXIT_CODES = (
    "Exit codes: 0 root's activity is watched (or nothing needed changing); 2 invalid input, or "
    "--cis-alarm without a multi-region trail to CloudWatch Logs: nothing was changed; 3 AWS "
    "failed (a rerun continues); 130 interrupted (Ctrl-C)."
)
STATUS_EXIT_CODES = (
    "Exit codes: 0 read (whatever was found, unless --fail-on); 1 --fail-on matched a failed "
    "finding; 2 invalid input; 3 AWS failed, or an account could not be read."
)
WATCH_EXAMPLES = helptext.epilog(
    WATCH_EXIT_CODES,
    (
        "What it would set up: no write call is made",
        "remediate root-activity watch --notify sec@example.com --dry-run",
    ),
    (
        "E-mail root's sign-ins and API calls",
        "remediate root-activity watch --notify sec@example.com --yes",
    ),
    (
        "An existing topic, and the CIS alarm too",
        "remediate root-activity watch --topic-arn ARN --cis-alarm --yes",
    ),
    (
        "Every account of the organization, one confirmation",
        "remediate root-activity watch --notify sec@example.com --all-accounts",
    ),
)
STATUS_EXAMPLES = helptext.epilog(
    STATUS_EXIT_CODES,
    ("What watches root in this account", "remediate root-activity status"),
    (
        "Every account, into Security Hub",
        "remediate root-activity status --all-accounts -o asff --security-hub",
    ),
    ("Exit 1 when root is not monitored", "remediate root-activity status --fail-on monitoring"),
)


class StatusOutput(StrEnum):
    text = "text"
    json = "json"
    asff = "asff"
    ocsf = "ocsf"


class StatusFailOn(StrEnum):
    monitoring = "monitoring"
    any = "any"


Notify = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="EMAIL",
        help="Subscribe this address to the topic by e-mail (repeatable); pending until the "
        "recipient confirms.",
    ),
]
TopicArn = Annotated[
    str | None,
    typer.Option(
        "--topic-arn",
        metavar="ARN",
        help="Notify this existing SNS topic (in this account and region) instead of creating "
        "remediate-root-activity.",
    ),
]
CisAlarm = Annotated[
    bool,
    typer.Option(
        "--cis-alarm",
        help="Also the CIS form: a metric filter on the log group of a multi-region trail and "
        "an alarm (Sum >= 1 over 5 minutes) on the same topic.",
    ),
]


@app.command(
    "watch", epilog=WATCH_EXAMPLES, short_help="Notify on every root sign-in and API call."
)
@aws_options
def root_activity_watch(
    *,
    notify: Notify = None,
    topic_arn: TopicArn = None,
    cis_alarm: CisAlarm = False,
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    role_name: o.RoleName = None,
    external_id: o.ExternalId = None,
    concurrency: o.Concurrency = None,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    output: o.OutputFormat = o.Output.text,
    aws: "AwsChoice",
) -> None:
    """Make root's activity reach people: EventBridge rules for root's console sign-ins and API
    calls (forwarded from every enabled region to this one), an SNS topic only they may
    publish to, e-mail subscriptions. Plans, asks once, applies; a rerun changes nothing."""
    from remediate.commands import root_activity as commands

    choice = commands.accounts_choice(
        all_accounts=all_accounts,
        accounts=accounts,
        role_name=role_name,
        external_id=external_id,
        concurrency=concurrency,
    )
    request = commands.watch_request(
        aws=aws,
        notify=tuple(notify or ()),
        topic_arn=topic_arn,
        cis_alarm=cis_alarm,
        choice=choice,
        dry_run=dry_run,
        yes=yes,
        lock_timeout=lock_timeout,
        output=output.value,
    )
    raise typer.Exit(commands.watch(request, prompter()))


@app.command("status", epilog=STATUS_EXAMPLES, short_help="Show what watches root's activity.")
@aws_options
def root_activity_status(
    *,
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    role_name: o.RoleName = None,
    external_id: o.ExternalId = None,
    concurrency: o.Concurrency = None,
    output: Annotated[
        StatusOutput,
        typer.Option(
            "--output",
            "-o",
            help="text for people, json for programs; asff or ocsf: the findings as a JSON list.",
            rich_help_panel=o.OUTPUT_PANEL,
        ),
    ] = StatusOutput.text,
    security_hub: o.SecurityHub = False,
    fail_on: Annotated[
        StatusFailOn | None,
        typer.Option(
            "--fail-on",
            help="monitoring: exit 1 when root's activity is not monitored; any: when any "
            "finding failed.",
        ),
    ] = None,
    aws: "AwsChoice",
) -> None:
    """What watches root's activity, per account, as findings with stable ids:
    root-activity-not-monitored, no-multi-region-management-trail, root-not-denied-by-scp
    (member accounts), root-activity-subscription-pending. Changes nothing (but --security-hub
    imports the findings)."""
    from remediate.commands import root_activity as commands

    choice = commands.accounts_choice(
        all_accounts=all_accounts,
        accounts=accounts,
        role_name=role_name,
        external_id=external_id,
        concurrency=concurrency,
    )
    request = commands.status_request(
        aws=aws,
        choice=choice,
        output=output.value,
        security_hub=security_hub,
        fail_on=fail_on.value if fail_on else None,
    )
    raise typer.Exit(commands.status(request))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="root-activity")
