"""``remediate root-activity watch`` and ``status``: root's activity made to reach people (the
shipped playbook root-activity-watch through the engine, in one account or many), and what
watches it now, as findings with stable ids (text, JSON, ASFF, OCSF, Security Hub)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from remediate.aws.calls import call
from remediate.aws.identity import caller_identity
from remediate.commands.playbook import playbook_run
from remediate.commands.remediation import prepare_remediation
from remediate.commands.remediation_request import PlaybookRunRequest, RemediationRequest
from remediate.commands.request import (
    TEXT,
    AwsChoice,
    OutputFormat,
    check_range,
    member_role,
    named_accounts,
)
from remediate.commands.session import open_aws
from remediate.commands.wiring import services
from remediate.core import limits
from remediate.core.concurrency import each_concurrently
from remediate.core.errors import EXIT_AWS, EXIT_OK, EXIT_ROOT_IN_USE, AwsError, InputError
from remediate.detect.cloudtrail import enabled_regions
from remediate.detect.monitoring import (
    Monitoring,
    alarm_watchers,
    rule_watchers,
    scp_denies_root,
    trails,
    unforwarded_regions,
)
from remediate.findings.asff import asff_findings
from remediate.findings.checks import FAILED, ROOT_ACTIVITY_NOT_MONITORED, CheckResult
from remediate.findings.formats import FINDINGS_FORMATS
from remediate.findings.root_activity import root_activity_results
from remediate.findings.securityhub import import_findings
from remediate.org import accounts
from remediate.org.sweep import one_line
from remediate.playbook import engine
from remediate.render.outcome import TextView
from remediate.render.outputs import output_for
from remediate.render.root_activity import show_status, show_watch_runs

if TYPE_CHECKING:
    from remediate.aws.session import Aws
    from remediate.core.prompt import Prompter
    from remediate.org.accounts import AccountSession, Target

PLAYBOOK = "root-activity-watch"
FailOn = Literal["monitoring", "any"]
_EMAIL = re.compile(r"[^@\s,]{1,64}@[^@\s,]+\.[^@\s,.]+")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class AccountsChoice:
    """Which accounts: the caller's (``account_ids`` None and not ``every``), these, or all."""

    account_ids: tuple[str, ...] | None = None
    every: bool = False
    role_name: str = limits.DEFAULT_ROLE_NAME
    external_id: str | None = None
    concurrency: int = limits.DEFAULT_CONCURRENCY

    @property
    def many(self) -> bool:
        return self.every or self.account_ids is not None


@dataclass(frozen=True)
class WatchRequest:
    """``root-activity watch``: who is told (addresses, or a topic of one's own), whether the
    CIS alarm too, in which accounts, and how."""

    aws: AwsChoice = field(default_factory=AwsChoice)
    emails: tuple[str, ...] = ()
    topic_arn: str | None = None
    cis_alarm: bool = False
    accounts: AccountsChoice = field(default_factory=AccountsChoice)
    dry_run: bool = False
    yes: bool = False
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT
    output: OutputFormat = TEXT

    def variables(self) -> dict[str, object]:
        given: dict[str, object] = {"emails": ",".join(self.emails), "cis_alarm": self.cis_alarm}
        if self.topic_arn:
            given["topic"] = self.topic_arn
        return given


@dataclass(frozen=True)
class StatusRequest:
    """``root-activity status``: which accounts, the output, Security Hub, --fail-on."""

    aws: AwsChoice = field(default_factory=AwsChoice)
    accounts: AccountsChoice = field(default_factory=AccountsChoice)
    output: str = TEXT
    security_hub: bool = False
    fail_on: FailOn | None = None


def accounts_choice(
    *,
    all_accounts: bool,
    accounts: str | None,
    role_name: str | None,
    external_id: str | None,
    concurrency: int | None,
) -> AccountsChoice:
    account_ids = named_accounts(
        all_accounts=all_accounts, accounts=accounts, concurrency=concurrency
    )
    if not (all_accounts or account_ids is not None) and (
        role_name or external_id or concurrency is not None
    ):
        raise InputError(
            "--role-name, --external-id and --concurrency are for --accounts or --all-accounts"
        )
    role, external = member_role(role_name, external_id)
    return AccountsChoice(
        account_ids=account_ids,
        every=all_accounts,
        role_name=role,
        external_id=external,
        concurrency=concurrency or limits.DEFAULT_CONCURRENCY,
    )


def watch_request(
    *,
    aws: AwsChoice,
    notify: tuple[str, ...] = (),
    topic_arn: str | None = None,
    cis_alarm: bool = False,
    choice: AccountsChoice | None = None,
    dry_run: bool = False,
    yes: bool = False,
    lock_timeout: float | None = None,
    output: OutputFormat = TEXT,
) -> WatchRequest:
    """Every rule between the options, before anything is read: addresses that are addresses,
    a topic ARN that is one (and never across accounts: it names one account's topic)."""
    choice = choice or AccountsChoice()
    if not notify and topic_arn is None:
        raise InputError(
            "say who is told: --notify EMAIL (repeatable) or --topic-arn ARN",
            tip="remediate root-activity watch --notify security@example.com",
        )
    emails = tuple(dict.fromkeys(e.strip() for e in notify))
    for e in emails:
        if not _EMAIL.fullmatch(e):
            raise InputError(f"invalid --notify {e[:60]!r}: expected an e-mail address")
    if topic_arn is not None:
        if not _TOPIC_ARN.fullmatch(topic_arn):
            raise InputError(
                f"invalid --topic-arn {topic_arn[:80]!r}: expected arn:aws:sns:REGION:ACCOUNT:NAME"
            )
        if choice.many:
            raise InputError(
                "--topic-arn names one account's topic: across accounts, each gets its own "
                "(give --notify instead)"
            )
    if lock_timeout is not None:
        check_range("--lock-timeout", lock_timeout, 0, limits.MAX_LOCK_TIMEOUT)
    if output not in (TEXT, "json"):
        raise InputError(f"invalid --output {output[:40]!r}: expected text, json")
    return WatchRequest(
        aws=aws,
        emails=emails,
        topic_arn=topic_arn,
        cis_alarm=cis_alarm,
        accounts=choice,
        dry_run=dry_run,
        yes=yes,
        lock_timeout=lock_timeout if lock_timeout is not None else limits.DEFAULT_LOCK_TIMEOUT,
        output=output,
    )


def status_request(
    *,
    aws: AwsChoice,
    choice: AccountsChoice | None = None,
    output: str = TEXT,
    security_hub: bool = False,
    fail_on: str | None = None,
) -> StatusRequest:
    allowed = (TEXT, "json", *FINDINGS_FORMATS)
    if output not in allowed:
        raise InputError(f"invalid --output {output[:40]!r}: expected {', '.join(allowed)}")
    if fail_on not in (None, "monitoring", "any"):
        raise InputError(f"invalid --fail-on {str(fail_on)[:40]!r}: expected monitoring, any")
    return StatusRequest(
        aws=aws,
        accounts=choice or AccountsChoice(),
        output=output,
        security_hub=security_hub,
        fail_on=fail_on,  # type: ignore[arg-type]
    )


# --- watch ------------------------------------------------------------------------------------


def watch(request: WatchRequest, prompter: Prompter) -> int:
    """The playbook root-activity-watch through the engine: plan (every account first), one
    confirmation, apply, journal; a rerun finds nothing to change."""
    remediation_request = RemediationRequest(
        PLAYBOOK,
        request.variables(),
        dry_run=request.dry_run,
        yes=request.yes,
        lock_timeout=request.lock_timeout,
    )
    if not request.accounts.many:
        run = PlaybookRunRequest(remediation_request, aws=request.aws, output=request.output)
        return playbook_run(run, prompter)
    remediation = prepare_remediation(remediation_request, prompter, across_accounts=True)
    output = output_for(request.output, sandbox=request.aws.sandbox)
    with open_aws(request.aws, read_only=request.dry_run, organization=True) as aws:
        opener = _opener(aws, request.accounts, read_only=aws.read_only)
        targets = accounts.targets(aws, request.accounts.account_ids)
        view = TextView(output.console, many=True, show_secrets=False, sandbox=request.aws.sandbox)
        wired = services(
            opener,
            prompter,
            view,
            sandbox=request.aws.sandbox,
            allow_plaintext_keyring=False,  # watching root keeps no secret
            concurrency=request.accounts.concurrency,
            lock_timeout=request.lock_timeout,
        )
        runs = engine.run(remediation, targets, wired) if targets else []
    show_watch_runs(output.console, runs, request.output)
    stopped = engine.interrupted(runs)
    if stopped is not None:
        raise stopped
    return EXIT_AWS if any(r.failure is not None for r in runs) else EXIT_OK


def _opener(aws: Aws, choice: AccountsChoice, *, read_only: bool) -> accounts.MemberAccounts:
    return accounts.MemberAccounts(
        aws,
        caller_identity(aws),
        role_name=choice.role_name,
        external_id=choice.external_id,
        read_only=read_only,
    )


# --- status -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountStatus:
    """One account's root-activity checks, or why it could not be read."""

    account_id: str
    results: tuple[CheckResult, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Organization:
    """The caller's organization as SCPs need it: None when it has none."""

    management_account_id: str | None
    reason: str = ""


def _organization(aws: Aws) -> Organization:
    try:
        found = call(aws.client("organizations"), "DescribeOrganization")["Organization"]
    except AwsError as exc:
        if exc.code == "AWSOrganizationsNotInUseException":
            return Organization(None, "the account is not in an AWS Organization")
        return Organization(None, f"the organization cannot be read: {one_line(exc.message)}")
    return Organization(str(found["MasterAccountId"]))


def monitoring(aws: Aws, account_id: str, org_aws: Aws, org: Organization) -> Monitoring:
    """What watches root in the account (its session ``aws``); SCPs read with ``org_aws``."""
    regions = enabled_regions(aws)
    scp: bool | None = None
    note = org.reason
    if org.management_account_id == account_id:
        note = "service control policies never apply to the management account: watch it instead"
    elif org.management_account_id is not None:
        try:
            scp = scp_denies_root(org_aws, account_id)
        except AwsError as exc:
            note = f"service control policies cannot be read: {one_line(exc.message)}"
    return Monitoring(
        account_id,
        aws.region,
        tuple(trails(aws)),
        tuple(rule_watchers(aws) + alarm_watchers(aws)),
        unforwarded_regions(aws, regions),
        scp,
        note,
    )


def _read(session: AccountSession, org_aws: Aws, org: Organization) -> AccountStatus:
    account = session.identity.account_id
    try:
        found = monitoring(session.aws, account, org_aws, org)
    except AwsError as exc:
        return AccountStatus(account, error=one_line(exc.message))
    return AccountStatus(account, tuple(root_activity_results(found, session.identity.partition)))


def status(request: StatusRequest) -> int:
    """Each account's root-activity findings, shown (or printed as JSON, ASFF, OCSF) and, with
    --security-hub, imported into its own Security Hub."""
    read_only = not request.security_hub
    with open_aws(request.aws, read_only=read_only, organization=request.accounts.many) as aws:
        identity = caller_identity(aws)
        org = _organization(aws)
        if not request.accounts.many:
            found = [_read(accounts.AccountSession(aws, identity), aws, org)]
        else:
            opener = _opener(aws, request.accounts, read_only=True)
            targets = accounts.targets(aws, request.accounts.account_ids)
            found = each_concurrently(
                targets,
                lambda t: _read_target(opener, t, aws, org),
                concurrency=request.accounts.concurrency,
                name="remediate-status",
            )
            order = {t.account_id: n for n, t in enumerate(targets)}
            found.sort(key=lambda s: order.get(s.account_id, 0))
        imports = _import(aws, request, found) if request.security_hub else []
        region = aws.region
    show_status(found, request.output, region=region, now=datetime.now(UTC), imports=imports)
    return _exit(found, request.fail_on, imports)


def _read_target(
    opener: accounts.MemberAccounts, target: Target, org_aws: Aws, org: Organization
) -> AccountStatus:
    try:
        session = opener(target.account_id)
    except (AwsError, InputError) as exc:
        return AccountStatus(target.account_id, error=one_line(exc.message))
    return _read(session, org_aws, org)


def _import(aws: Aws, request: StatusRequest, found: list[AccountStatus]) -> list[str]:
    """Each account's findings into Security Hub in the session's region; what failed, one line
    each. Across accounts each account imports its own (an account imports findings about
    itself only)."""
    failures: list[str] = []
    opener = _opener(aws, request.accounts, read_only=False) if request.accounts.many else None
    for account in found:
        if not account.results:
            continue
        session_aws = aws if opener is None else opener(account.account_id).aws
        documents = asff_findings(account.results, region=session_aws.region, now=datetime.now(UTC))
        result = import_findings(session_aws, account.account_id, documents)
        failures += [f"{account.account_id}: {f.id}: {f.message}" for f in result.refused]
    return failures


def _exit(found: list[AccountStatus], fail_on: FailOn | None, imports: list[str]) -> int:
    if any(a.error for a in found) or imports:
        return EXIT_AWS
    failed = [r for a in found for r in a.results if r.status == FAILED]
    if fail_on == "any" and failed:
        return EXIT_ROOT_IN_USE
    if fail_on == "monitoring" and any(r.check.id == ROOT_ACTIVITY_NOT_MONITORED for r in failed):
        return EXIT_ROOT_IN_USE
    return EXIT_OK
