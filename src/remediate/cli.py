"""The command line: parse options, build the AWS context, call the core, render, map exit codes.

No ``from __future__ import annotations`` here: typer would evaluate every annotation string
when it builds the commands, which `remediate --help` would pay for.
"""

import contextlib
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

import typer

from remediate import __version__
from remediate.errors import (
    EXIT_AWS,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_ROOT_IN_USE,
    InputError,
    RemediateError,
    StepFailedError,
)

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.session import Aws
    from remediate.journal import Journal
    from remediate.org import AccountResult, SweepResult
    from remediate.playbook.runner import RunReport
    from remediate.secrets import SecretStore
    from remediate.steps.base import RunOptions, Step, StepContext


EXIT_CODES_HELP = (
    "Exit codes: 0 root not in use, or a remediation completed; 1 root in use (detection only); "
    "2 invalid input, nothing was changed; 3 root use could not be determined, or AWS failed."
)

app = typer.Typer(
    name="remediate",
    help="Find and fix use of the AWS account root user.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Output(StrEnum):
    text = "text"
    json = "json"


class _State:
    # Plain class, not a dataclass: `remediate --help` must not pay for importing dataclasses.
    debug = False


_state = _State()

AWS_PANEL = "AWS access"
OUTPUT_PANEL = "Output"

ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="AWS profile (default: boto3's chain, AWS_PROFILE).",
        rich_help_panel=AWS_PANEL,
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="AWS region; picks the partition (aws, aws-us-gov, aws-cn).",
        rich_help_panel=AWS_PANEL,
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Send every AWS call here (also AWS_ENDPOINT_URL).",
        rich_help_panel=AWS_PANEL,
    ),
]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Run against the built-in local AWS emulator (no account).",
        rich_help_panel=AWS_PANEL,
    ),
]
OutputOpt = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        help="text for people, json for programs (stdout only).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"remediate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Log AWS calls; tracebacks on error.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Find and fix use of the AWS account root user."""
    _state.debug = debug
    import logging

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level, format="remediate: %(message)s")
    # botocore's and urllib3's debug logs hold request bodies: passwords, secret keys, MFA codes.
    # --debug logs each call by name instead (remediate.aws.session).
    for noisy in ("botocore", "urllib3", "boto3"):
        logging.getLogger(noisy).setLevel(logging.INFO if debug else logging.WARNING)


@contextlib.contextmanager
def aws_context(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    sandbox: bool,
    *,
    read_only: bool = False,
) -> "Iterator[Aws]":
    """The AWS session for a command; with ``sandbox``, one pointed at a fresh local emulator."""
    from remediate.aws.session import Aws, AwsOptions

    if not sandbox:
        yield Aws(AwsOptions(profile, region, endpoint_url), read_only=read_only)
        return
    if profile or endpoint_url:
        raise InputError("--sandbox cannot be combined with --profile or --endpoint-url")
    from remediate.sandbox import SANDBOX_CREDENTIALS, SANDBOX_REGION, Sandbox

    with Sandbox() as sb:
        print(
            f"SANDBOX: a local AWS emulator at {sb.endpoint_url}, seeded with an account whose "
            "root password was used 2 days ago. Nothing here touches a real AWS account.",
            file=sys.stderr,
        )
        options = AwsOptions(None, region or SANDBOX_REGION, sb.endpoint_url)
        yield Aws.from_credentials(options, SANDBOX_CREDENTIALS, read_only=read_only)


REMEDIATION_PANEL = "Remediation"
ORG_PANEL = "Across accounts"
MFA_PANEL = "MFA enrollment"


class Access(StrEnum):
    console = "console"
    programmatic = "programmatic"
    both = "both"


DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the plan; make no write call at all.",
        rich_help_panel=REMEDIATION_PANEL,
    ),
]
YesOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Apply without asking.", rich_help_panel=REMEDIATION_PANEL),
]
ShowSecretsOpt = Annotated[
    bool,
    typer.Option(
        "--show-secrets",
        help="Print generated passwords, secret keys and MFA seeds once.",
        rich_help_panel=REMEDIATION_PANEL,
    ),
]
PasswordPromptOpt = Annotated[
    bool,
    typer.Option(
        "--password-prompt",
        help="Type the console password (twice).",
        rich_help_panel=REMEDIATION_PANEL,
    ),
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the console password from standard input.",
        rich_help_panel=REMEDIATION_PANEL,
    ),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="KEY=VALUE",
        help="Tag for the user (repeatable).",
        rich_help_panel=REMEDIATION_PANEL,
    ),
]
MfaAutoOpt = Annotated[
    bool,
    typer.Option(
        "--mfa-auto",
        help="Compute the two MFA codes from the seed (unattended).",
        rich_help_panel=MFA_PANEL,
    ),
]
MfaCodesOpt = Annotated[
    tuple[str, str] | None,
    typer.Option(
        "--mfa-codes",
        metavar="CODE1 CODE2",
        help="Two consecutive codes for a device pending from an earlier run.",
        rich_help_panel=MFA_PANEL,
    ),
]
QrFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--qr-file",
        metavar="PATH",
        help="Also write the QR code as a PNG (mode 0600).",
        rich_help_panel=MFA_PANEL,
    ),
]
ShowMfaSecretOpt = Annotated[
    bool,
    typer.Option(
        "--show-mfa-secret",
        help="Also print the MFA secret key for manual entry.",
        rich_help_panel=MFA_PANEL,
    ),
]


class RemediationArgs(NamedTuple):
    """The command-line choices of a remediation run (root-use --create-admin, playbook run)."""

    dry_run: bool = False
    yes: bool = False
    show_secrets: bool = False
    password_prompt: bool = False
    password_stdin: bool = False
    mfa_auto: bool = False
    mfa_codes: tuple[str, str] | None = None
    qr_file: Path | None = None
    show_mfa_secret: bool = False


def _interactive() -> bool:
    return sys.stdin.isatty()


def _run_options(args: RemediationArgs, *, uses_password: bool) -> "RunOptions":
    """Check the remediation options against each other and read a given password."""
    from remediate.steps.base import MfaOptions, RunOptions

    if args.password_prompt and args.password_stdin:
        raise InputError("give only one of --password-prompt and --password-stdin")
    if (args.password_prompt or args.password_stdin) and not uses_password:
        raise InputError("a password option needs console access (--access console or both)")
    if args.mfa_auto and args.mfa_codes:
        raise InputError("give only one of --mfa-auto and --mfa-codes")
    if args.mfa_codes:
        from remediate.mfa import CODE_FORMAT_HELP, code_is_well_formed

        for n, code in enumerate(args.mfa_codes, 1):
            if not code_is_well_formed(code):
                raise InputError(f"invalid --mfa-codes: code {n} {CODE_FORMAT_HELP}")
    mode: Literal["interactive", "codes", "auto"] = (
        "auto" if args.mfa_auto else "codes" if args.mfa_codes else "interactive"
    )
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin: standard input held no password")
    elif args.password_prompt:
        if not _interactive():
            raise InputError("--password-prompt needs a terminal", tip="use --password-stdin")
        password = typer.prompt(
            "Console password", hide_input=True, confirmation_prompt=True, err=True
        )
    return RunOptions(
        password=password,
        show_secrets=args.show_secrets,
        mfa=MfaOptions(
            mode=mode,
            codes=args.mfa_codes,
            qr_file=str(args.qr_file) if args.qr_file else None,
            show_secret=args.show_mfa_secret,
        ),
        interactive=_interactive(),
    )


def _confirm(question: str, *, yes: bool) -> bool:
    """True with --yes; otherwise the answer of the person at the terminal (none: exit 2)."""
    if yes:
        return True
    if not _interactive():
        raise InputError(
            "no terminal to confirm on, and --yes was not given: nothing was changed",
            tip="review the plan with --dry-run, then rerun with --yes",
        )
    return typer.confirm(question, default=False, err=True)


def _confirmer(args: RemediationArgs, account_id: str) -> "Callable[[RunReport], bool]":
    def confirm(report: "RunReport") -> bool:
        n = len(report.pending)
        question = f"Apply {n} change{'s' * (n != 1)} to account {account_id}?"
        return _confirm(question, yes=args.yes)

    return confirm


class Prepared(NamedTuple):
    """A playbook ready to run: loaded, variables bound, steps built, options read."""

    name: str
    steps: "list[Step]"
    options: "RunOptions"


def _prepare(playbook_ref: str, variables: dict[str, Any], args: RemediationArgs) -> Prepared:
    """Everything that can be checked without AWS, so bad input exits 2 before any AWS call."""
    from remediate.playbook.model import bind, instantiate, load_playbook

    playbook = load_playbook(playbook_ref)
    steps = instantiate(playbook, bind(playbook, variables))
    options = _run_options(args, uses_password=any(s.kind == "login-profile" for s in steps))
    return Prepared(playbook.name, steps, options)


def _secret_store(sandbox: bool) -> "SecretStore":
    from remediate.secrets import SecretStore, memory_keyring

    if sandbox:
        print(
            "SANDBOX: secrets go to an in-memory keyring that is gone when this command ends.",
            file=sys.stderr,
        )
    return SecretStore(memory_keyring() if sandbox else None)


def _account_context(
    aws: "Aws",
    account_id: str,
    caller_arn: str | None,
    prepared: Prepared,
    store: "SecretStore",
    *,
    sandbox: bool,
) -> "tuple[StepContext, Journal | None]":
    """The steps' context in one account, and its journal (none for the sandbox, which changes
    an emulator, not an account)."""
    from remediate.journal import Journal
    from remediate.output import stderr_console
    from remediate.steps.base import StepContext

    ctx = StepContext(
        aws=aws,
        account_id=account_id,
        partition=aws.partition,
        secrets=store,
        options=prepared.options,
        ui=stderr_console(),
    )
    journal = None
    if not sandbox:
        journal = Journal(
            account_id=account_id, caller_arn=caller_arn or "unknown", playbook=prepared.name
        )
    return ctx, journal


def _remediation_json(
    document: dict[str, Any], report: "RunReport", ctx: "StepContext", *, show_secrets: bool
) -> None:
    from remediate.output import secrets_json

    document["remediation"] = report.to_json()
    document["secrets"] = secrets_json(ctx.produced, show_secrets=show_secrets)
    document["mfa"] = ctx.results.get("mfa")
    document["console_sign_in_url"] = ctx.results.get("console_sign_in_url")


def _remediate(
    aws: "Aws",
    prepared: Prepared,
    args: RemediationArgs,
    output: Output,
    document: dict[str, Any],
    identity: dict[str, str],
    *,
    sandbox: bool,
) -> int:
    """Run a prepared playbook in one account and add ``remediation`` to ``document``."""
    from remediate.core import run_playbook
    from remediate.lock import account_lock
    from remediate.output import print_json, render_outcome, render_plan

    out = _plan_console(output)
    ctx, journal = _account_context(
        aws, identity["Account"], identity["Arn"], prepared, _secret_store(sandbox), sandbox=sandbox
    )
    failure: StepFailedError | None = None
    lock = contextlib.nullcontext() if args.dry_run else account_lock(ctx.account_id)
    try:
        with lock:
            report = run_playbook(
                prepared.steps,
                ctx,
                prepared.name,
                dry_run=args.dry_run,
                confirm=_confirmer(args, ctx.account_id),
                show_plan=lambda r: render_plan(out, r, ctx.account_id),
                on_applied=journal.applied if journal else None,
            )
    except StepFailedError as exc:
        if exc.report is None:
            raise
        report, failure = exc.report, exc
    # With JSON, the document carries the secrets: print each one once, not on stderr too.
    shown_on_out = args.show_secrets and output is Output.text
    render_outcome(
        out, report, ctx.produced, ctx.results, show_secrets=shown_on_out, sandbox=sandbox
    )
    if output is Output.json:
        _remediation_json(document, report, ctx, show_secrets=args.show_secrets)
        print_json(document)
    if failure is not None:
        raise failure
    return EXIT_OK


def _plan_console(output: Output) -> "Console":
    """Where plans and outcomes go: stdout for people, stderr when stdout holds JSON."""
    from remediate.output import stderr_console, stdout_console

    return stderr_console() if output is Output.json else stdout_console()


class _AccountRun(NamedTuple):
    account: "AccountResult"
    ctx: "StepContext"
    journal: "Journal | None"
    report: "RunReport"


def _remediate_accounts(
    sweep: "SweepResult",
    prepared: Prepared,
    args: RemediationArgs,
    output: Output,
    *,
    every_account: bool,
    sandbox: bool,
) -> int:
    """Plan the playbook in every account that needs it, confirm once, apply account by account.

    A failure stays with its account (its document says why) and the others go on.
    """
    from remediate.lock import account_lock
    from remediate.org import AccountResult
    from remediate.output import print_json, render_outcome, render_plan
    from remediate.playbook import runner

    out = _plan_console(output)
    store = _secret_store(sandbox)
    documents = {a.account_id: {**a.to_json(), "sandbox": sandbox} for a in sweep.accounts}
    targets: list[AccountResult] = []
    failed = False
    for a in sweep.accounts:
        if a.aws is None or a.verdict is None:
            # Root may be in use there: the run cannot say it completed.
            out.print(f"[red]Account {a.account_id}: not remediated: {a.error}[/]")
            failed = True
        elif every_account or a.root_in_use:
            targets.append(a)
        elif a.root_in_use is None:
            out.print(
                f"[yellow]Account {a.account_id}: root use undetermined, not remediated "
                "(--all remediates every account)[/]"
            )
            failed = True
    if not targets:
        out.print("No account needs the playbook (pass --all to run it in every account).")
    runs: list[_AccountRun] = []
    for account in targets:
        assert account.aws is not None
        ctx, journal = _account_context(
            account.aws, account.account_id, account.caller_arn, prepared, store, sandbox=sandbox
        )
        try:
            report = runner.plan(prepared.steps, ctx, prepared.name, dry_run=args.dry_run)
        except RemediateError as exc:
            if isinstance(exc, InputError):
                raise
            documents[account.account_id]["error"] = exc.message
            out.print(f"[red]Account {account.account_id}: cannot plan: {exc.message}[/]")
            failed = True
            continue
        render_plan(out, report, account.account_id)
        runs.append(_AccountRun(account, ctx, journal, report))
    pending = [r for r in runs if r.report.pending]
    if pending and not args.dry_run:
        for r in pending:
            runner.preflight(r.report, r.ctx)
        changes = sum(len(r.report.pending) for r in pending)
        ids = ", ".join(r.account.account_id for r in pending)
        question = (
            f"Apply {changes} change{'s' * (changes != 1)} in {len(pending)} "
            f"account{'s' * (len(pending) != 1)} ({ids})?"
        )
        if not _confirm(question, yes=args.yes):
            raise InputError("not confirmed: nothing was changed")
        for r in pending:
            try:
                with account_lock(r.account.account_id):
                    runner.apply(
                        r.report, r.ctx, on_applied=r.journal.applied if r.journal else None
                    )
            except StepFailedError as exc:
                documents[r.account.account_id]["error"] = exc.message
                out.print(f"[red]Account {r.account.account_id}: {exc.message}[/]")
                failed = True
            out.print(f"[bold]Account {r.account.account_id}[/]:")
            render_outcome(
                out,
                r.report,
                r.ctx.produced,
                r.ctx.results,
                show_secrets=args.show_secrets and output is Output.text,
                sandbox=sandbox,
            )
    elif runs and not pending:
        out.print("Nothing needs changing in any account.")
    for r in runs:
        _remediation_json(
            documents[r.account.account_id], r.report, r.ctx, show_secrets=args.show_secrets
        )
    if output is Output.json:
        print_json(
            {
                "accounts": [documents[a.account_id] for a in sweep.accounts],
                "summary": sweep.summary(),
            }
        )
    return EXIT_AWS if failed else EXIT_OK


@app.command("root-use", epilog=EXIT_CODES_HELP)
def root_use(
    days: Annotated[
        int,
        typer.Option(
            "--days",
            min=1,
            max=3650,
            help="Window: root used within this many days counts as in use.",
        ),
    ] = 7,
    report_timeout: Annotated[
        float,
        typer.Option(
            "--report-timeout", min=1, max=3600, help="Seconds to wait for the credential report."
        ),
    ] = 60.0,
    credential_report: Annotated[
        Path | None,
        typer.Option(
            "--credential-report",
            metavar="FILE",
            help="Judge a credential report CSV from the console; no AWS call.",
        ),
    ] = None,
    create_admin: Annotated[
        str | None,
        typer.Option(
            "--create-admin",
            metavar="NAME",
            help="Remediate: run the root-use playbook for this IAM user.",
            rich_help_panel=REMEDIATION_PANEL,
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            help="The administrators group [default: Administrators].",
            rich_help_panel=REMEDIATION_PANEL,
        ),
    ] = None,
    access: Annotated[
        Access | None,
        typer.Option(
            "--access",
            help="Console (login profile), programmatic (access key), both [default: console].",
            rich_help_panel=REMEDIATION_PANEL,
        ),
    ] = None,
    tag: TagOpt = None,
    no_mfa: Annotated[
        bool,
        typer.Option(
            "--no-mfa", help="Skip enrolling a virtual MFA device.", rich_help_panel=MFA_PANEL
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    show_secrets: ShowSecretsOpt = False,
    password_prompt: PasswordPromptOpt = False,
    password_stdin: PasswordStdinOpt = False,
    mfa_auto: MfaAutoOpt = False,
    mfa_codes: MfaCodesOpt = None,
    qr_file: QrFileOpt = None,
    show_mfa_secret: ShowMfaSecretOpt = False,
    output: OutputOpt = Output.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
    all_accounts: Annotated[
        bool,
        typer.Option(
            "--all-accounts",
            help="Every active account of the AWS Organization.",
            rich_help_panel=ORG_PANEL,
        ),
    ] = False,
    accounts: Annotated[
        str | None,
        typer.Option(
            "--accounts",
            metavar="ID,ID,...",
            help="Only these accounts (with or without Organizations).",
            rich_help_panel=ORG_PANEL,
        ),
    ] = None,
    role_name: Annotated[
        str | None,
        typer.Option(
            "--role-name",
            help="Role to assume in member accounts [default: OrganizationAccountAccessRole].",
            rich_help_panel=ORG_PANEL,
        ),
    ] = None,
    external_id: Annotated[
        str | None,
        typer.Option(
            "--external-id", help="External id for AssumeRole.", rich_help_panel=ORG_PANEL
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=64,
            help="Accounts judged at once [default: 8].",
            rich_help_panel=ORG_PANEL,
        ),
    ] = None,
    every_account: Annotated[
        bool,
        typer.Option(
            "--all",
            help="With --create-admin across accounts: remediate every account, not only those "
            "where root is in use.",
            rich_help_panel=ORG_PANEL,
        ),
    ] = False,
) -> None:
    """Detect use of the root user; with --create-admin NAME, also fix it: an administrators
    group with AdministratorAccess, and an IAM user in it with console and/or programmatic
    access and a virtual MFA device."""
    from datetime import UTC, datetime

    from remediate import validate
    from remediate.core import caller_identity, detect, detect_from_file
    from remediate.output import print_json, render_verdict, stderr_console, stdout_console

    now = datetime.now(UTC)
    remediation = RemediationArgs(
        dry_run,
        yes,
        show_secrets,
        password_prompt,
        password_stdin,
        mfa_auto,
        mfa_codes,
        qr_file,
        show_mfa_secret,
    )
    prepared = None
    if no_mfa and (mfa_auto or mfa_codes or qr_file or show_mfa_secret):
        raise InputError("--no-mfa skips MFA enrollment: it takes no other MFA option")
    if create_admin is not None:
        variables = {
            "user": validate.user_name(create_admin),
            "group": validate.group_name(group or "Administrators"),
            "access": (access or Access.console).value,
            "tags": validate.tag_options(tag or []),
            "mfa": not no_mfa,
        }
        prepared = _prepare("root-use", variables, remediation)
    elif any(remediation) or tag or no_mfa or group is not None or access is not None:
        raise InputError("remediation options need --create-admin NAME")
    if all_accounts or accounts is not None:
        raise typer.Exit(
            _sweep_command(
                days=days,
                report_timeout=report_timeout,
                credential_report=credential_report,
                all_accounts=all_accounts,
                accounts=accounts,
                role_name=role_name or DEFAULT_ROLE_NAME,
                external_id=external_id,
                concurrency=concurrency or DEFAULT_CONCURRENCY,
                every_account=every_account,
                prepared=prepared,
                remediation=remediation,
                output=output,
                aws_options=(profile, region, endpoint_url, sandbox),
            )
        )
    if every_account or external_id is not None or concurrency is not None or role_name is not None:
        raise InputError(
            "--all, --role-name, --external-id and --concurrency need --all-accounts or --accounts"
        )
    if credential_report is not None:
        if sandbox or profile or endpoint_url or create_admin:
            raise InputError("--credential-report reads a file: it takes no AWS option")
        verdict = detect_from_file(credential_report, days=days, now=now)
        document: dict[str, Any] = verdict.to_json()
        document["sandbox"] = False
    else:
        with aws_context(profile, region, endpoint_url, sandbox, read_only=dry_run) as aws:
            identity = caller_identity(aws)
            verdict = detect(aws, days=days, report_timeout=report_timeout, identity=identity)
            now = datetime.now(UTC)
            document = verdict.to_json()
            document["sandbox"] = sandbox
            if create_admin is not None:
                if output is Output.text:
                    render_verdict(stdout_console(), verdict, now)
                else:
                    render_verdict(stderr_console(), verdict, now)
                assert prepared is not None
                raise typer.Exit(
                    _remediate(
                        aws,
                        prepared,
                        remediation,
                        output,
                        document,
                        identity,
                        sandbox=sandbox,
                    )
                )
    if output is Output.json:
        print_json(document)
    else:
        render_verdict(stdout_console(), verdict, now)
    if verdict.root_in_use is None:
        raise typer.Exit(EXIT_AWS)
    raise typer.Exit(EXIT_ROOT_IN_USE if verdict.root_in_use else EXIT_OK)


DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_CONCURRENCY = 8


def _sweep_command(
    *,
    days: int,
    report_timeout: float,
    credential_report: Path | None,
    all_accounts: bool,
    accounts: str | None,
    role_name: str,
    external_id: str | None,
    concurrency: int,
    every_account: bool,
    prepared: Prepared | None,
    remediation: RemediationArgs,
    output: Output,
    aws_options: tuple[str | None, str | None, str | None, bool],
) -> int:
    """``root-use --all-accounts`` / ``--accounts``: judge many accounts, maybe remediate them."""
    from remediate import org
    from remediate.output import print_json, stdout_console

    if all_accounts and accounts is not None:
        raise InputError("give --all-accounts or --accounts, not both")
    if credential_report is not None:
        raise InputError("--credential-report judges one file: it takes no account option")
    account_ids = org.parse_account_ids(accounts) if accounts is not None else None
    org.role_name(role_name)
    if external_id is not None:
        org.external_id(external_id)
    if every_account and prepared is None:
        raise InputError("--all needs --create-admin NAME")
    if prepared is not None:
        if remediation.mfa_codes or remediation.qr_file or remediation.password_prompt:
            raise InputError(
                "--mfa-codes, --qr-file and --password-prompt are for one account at a time"
            )
        if any(s.kind == "virtual-mfa" for s in prepared.steps) and not remediation.mfa_auto:
            raise InputError(
                "across accounts, MFA enrollment cannot prompt in each account",
                tip="pass --mfa-auto (the seeds stay in the keyring) or --no-mfa",
            )
    profile, region, endpoint_url, sandbox = aws_options
    with aws_context(profile, region, endpoint_url, sandbox, read_only=remediation.dry_run) as aws:
        if sandbox:
            from remediate.sandbox import seed_organization

            seed_organization(aws.client("organizations"))
        with _progress_bar() as progress:
            result = org.sweep(
                aws,
                account_ids=account_ids,
                role_name=role_name,
                external_id=external_id,
                concurrency=concurrency,
                days=days,
                report_timeout=report_timeout,
                read_only=remediation.dry_run,
                progress=progress,
            )
        if prepared is None:
            if output is Output.json:
                document = result.to_json()
                for account in document["accounts"]:
                    account["sandbox"] = sandbox
                print_json(document)
            else:
                org.render_sweep(stdout_console(), result)
            return result.exit_code()
        org.render_sweep(_plan_console(output), result)
        return _remediate_accounts(
            result, prepared, remediation, output, every_account=every_account, sandbox=sandbox
        )


@contextlib.contextmanager
def _progress_bar() -> "Iterator[Callable[[AccountResult], None] | None]":
    """A progress bar on stderr when it is a terminal; the callback advances it."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    from remediate.output import stderr_console

    with Progress(console=stderr_console(), transient=True) as bar:
        task = bar.add_task("Judging accounts", total=None)
        yield lambda _result: bar.advance(task)


playbook_app = typer.Typer(
    help="List, show and run playbooks.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(playbook_app, name="playbook")


@playbook_app.command("list")
def playbook_list(output: OutputOpt = Output.text) -> None:
    """List the shipped playbooks."""
    from remediate.output import print_json
    from remediate.playbook.model import load_playbook, shipped_names

    books = [load_playbook(name) for name in shipped_names()]
    if output is Output.json:
        print_json({"playbooks": [{"name": b.name, "description": b.description} for b in books]})
        return
    for b in books:
        print(f"{b.name}: {' '.join(b.description.split())}")


@playbook_app.command("show")
def playbook_show(
    name: Annotated[str, typer.Argument(metavar="NAME|PATH", help="A shipped name or a file.")],
) -> None:
    """Print a playbook (after validating it)."""
    from remediate.playbook.model import load_playbook

    sys.stdout.write(load_playbook(name).text)


@playbook_app.command("run", epilog=EXIT_CODES_HELP)
def playbook_run(
    name: Annotated[str, typer.Argument(metavar="NAME|PATH", help="A shipped name or a file.")],
    var: Annotated[
        list[str] | None,
        typer.Option("--var", metavar="KEY=VALUE", help="A playbook variable (repeatable)."),
    ] = None,
    tag: TagOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    show_secrets: ShowSecretsOpt = False,
    password_prompt: PasswordPromptOpt = False,
    password_stdin: PasswordStdinOpt = False,
    mfa_auto: MfaAutoOpt = False,
    mfa_codes: MfaCodesOpt = None,
    qr_file: QrFileOpt = None,
    show_mfa_secret: ShowMfaSecretOpt = False,
    output: OutputOpt = Output.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Run a playbook: plan, confirm, apply. Rerunning changes nothing."""
    from remediate import validate
    from remediate.core import caller_identity

    variables: dict[str, Any] = {}
    for text in var or []:
        key, value = validate.key_value(text, "--var")
        if key in variables:
            raise InputError(f"--var {key} given twice")
        variables[key] = value
    if tag:
        if "tags" in variables:
            raise InputError("give tags with --tag or --var tags=..., not both")
        variables["tags"] = validate.tag_options(tag)
    remediation = RemediationArgs(
        dry_run,
        yes,
        show_secrets,
        password_prompt,
        password_stdin,
        mfa_auto,
        mfa_codes,
        qr_file,
        show_mfa_secret,
    )
    prepared = _prepare(name, variables, remediation)  # every input error before any AWS call
    with aws_context(profile, region, endpoint_url, sandbox, read_only=dry_run) as aws:
        identity = caller_identity(aws)
        document: dict[str, Any] = {"account_id": identity["Account"], "sandbox": sandbox}
        raise typer.Exit(
            _remediate(aws, prepared, remediation, output, document, identity, sandbox=sandbox)
        )


secrets_app = typer.Typer(
    help="Secrets remediate keeps in the system keyring (passwords, access keys, MFA seeds).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(secrets_app, name="secrets")


class What(StrEnum):
    password = "password"  # noqa: S105 (a name, not a secret)
    access_key = "access-key"
    mfa_qr = "mfa-qr"
    mfa_secret = "mfa-secret"  # noqa: S105


AccountOpt = Annotated[
    str | None,
    typer.Option("--account", metavar="ID", help="The account id (needed if USER is in several)."),
]


def _account_for(store: "SecretStore", user: str, account: str | None) -> str:
    """The account whose secrets for ``user`` are meant: given, or the only one there is."""
    from remediate import validate

    validate.user_name(user)
    if account is not None and not (len(account) == 12 and account.isdigit()):
        raise InputError(f"invalid --account {account[:40]!r}: expected a 12-digit account id")
    accounts = sorted({a for a, u, _ in store.entries() if u == user})
    if account is not None:
        if account not in accounts:
            raise InputError(f"the keyring holds no secret of {user} in account {account}")
        return account
    if not accounts:
        raise InputError(
            f"the keyring holds no secret of {user}", tip="see `remediate secrets list`"
        )
    if len(accounts) > 1:
        raise InputError(
            f"{user} has secrets in several accounts ({', '.join(accounts)})",
            tip="choose one with --account ID",
        )
    return accounts[0]


def _store() -> "SecretStore":
    from remediate.secrets import SecretStore

    store = SecretStore()
    store.require_usable()
    return store


@secrets_app.command("list")
def secrets_list(output: OutputOpt = Output.text) -> None:
    """Which secrets the keyring holds, by account and user (never the values)."""
    from remediate.output import print_json

    store = _store()
    grouped: dict[tuple[str, str], list[str]] = {}
    for account, user, kind in store.entries():
        grouped.setdefault((account, user), []).append(kind)
    if output is Output.json:
        print_json(
            {
                "keyring": store.description(),
                "secrets": [
                    {"account_id": a, "user": u, "kinds": kinds}
                    for (a, u), kinds in sorted(grouped.items())
                ],
            }
        )
        return
    if not grouped:
        print(f"No secrets in {store.description()}.")
    for (account, user), kinds in sorted(grouped.items()):
        print(f"{account}  {user}  {', '.join(kinds)}")


@secrets_app.command("show")
def secrets_show(
    user: Annotated[str, typer.Argument(help="The IAM user.")],
    what: Annotated[What, typer.Option("--what", help="Which secret to hand over.")],
    account: AccountOpt = None,
    qr_file: QrFileOpt = None,
) -> None:
    """Print (or render) a secret, to hand it to its owner."""
    import json

    store = _store()
    account_id = _account_for(store, user, account)
    kind = {"password": "password", "access-key": "access-key"}.get(what.value, "mfa-seed")
    value = store.get(account_id, user, kind)
    if value is None:
        raise InputError(f"the keyring holds no {kind} for {user} in account {account_id}")
    if what is What.password:
        print(value)
    elif what is What.access_key:
        key = json.loads(value)
        print(f"AccessKeyId={key['AccessKeyId']}")
        print(f"SecretAccessKey={key['SecretAccessKey']}")
    elif what is What.mfa_secret:
        print(value)
    else:
        from remediate.mfa import otpauth_uri, render_qr_terminal, seed_is_valid, write_qr_png

        if not seed_is_valid(value):
            raise InputError(
                f"the keyring's mfa-seed for {user} in account {account_id} is not a valid seed",
                tip=f"remove it with `remediate secrets forget {user}` and rerun to enroll afresh",
            )
        uri = otpauth_uri(value, user, account_id)
        if qr_file is not None:
            write_qr_png(uri, qr_file)
            print(f"QR code written to {qr_file} (mode 0600).", file=sys.stderr)
        else:
            sys.stdout.write(render_qr_terminal(uri))


@secrets_app.command("forget")
def secrets_forget(
    user: Annotated[str, typer.Argument(help="The IAM user.")],
    account: AccountOpt = None,
    yes: YesOpt = False,
) -> None:
    """Delete a user's secrets from the keyring (after a confirmation)."""
    store = _store()
    account_id = _account_for(store, user, account)
    kinds = [k for a, u, k in store.entries() if a == account_id and u == user]
    if not yes:
        if not _interactive():
            raise InputError("no terminal to confirm on, and --yes was not given")
        if not typer.confirm(
            f"Delete {', '.join(kinds)} of {user} (account {account_id}) from the keyring?",
            default=False,
            err=True,
        ):
            raise InputError("not confirmed: nothing was deleted")
    for kind in kinds:
        store.delete(account_id, user, kind)
    print(f"Deleted {', '.join(kinds)} of {user} (account {account_id}).")


@app.command("permissions")
def permissions(
    playbook: Annotated[
        str, typer.Argument(metavar="[PLAYBOOK]", help="A shipped playbook name or a file.")
    ] = "root-use",
    detect_only: Annotated[
        bool, typer.Option("--detect-only", help="Only what detection needs.")
    ] = False,
    organization: Annotated[
        bool,
        typer.Option(
            "--organization",
            help="Add what --all-accounts needs where it runs: list accounts, assume the role.",
        ),
    ] = False,
    role_name: Annotated[
        str, typer.Option("--role-name", help="The role assumed in member accounts.")
    ] = DEFAULT_ROLE_NAME,
) -> None:
    """Print the least-privilege IAM policy (JSON) for detection and a playbook's steps."""
    from remediate.org import role_name as check_role_name
    from remediate.output import print_json
    from remediate.permissions import policy

    role = check_role_name(role_name) if organization else None
    print_json(policy(playbook, detect_only=detect_only, organization_role=role))


@app.command("journal")
def journal_show(
    output: OutputOpt = Output.text,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show only the newest N entries.")
    ] = 1000,
) -> None:
    """Show the audit trail: one entry per change remediate applied (never a secret)."""
    from remediate.journal import journal_path, read_journal
    from remediate.output import print_json

    entries = list(read_journal())[-limit:]
    if output is Output.json:
        print_json({"journal": str(journal_path()), "entries": entries})
        return
    if not entries:
        print(f"No changes recorded in {journal_path()}.")
    for e in entries:
        print(
            f"{e.get('time')}  {e.get('account')}  {e.get('playbook')}/{e.get('step')}  "
            f"{e.get('change')} {e.get('resource')}  by {e.get('caller')}"
        )


def _report(exc: RemediateError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.tip:
        print(f"Tip: {exc.tip}", file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (never raises for expected failures)."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    _state.debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = app(args=argv, prog_name="remediate", standalone_mode=False)
    except RemediateError as exc:
        if _state.debug:
            import logging

            logging.getLogger("remediate").exception("failed")
        _report(exc)
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        # `remediate` or `remediate playbook` alone: the help, as click shows it.
        print(exc.format_message(), file=sys.stderr)
        return EXIT_INPUT
    except ClickException as exc:
        # One line, not click's usage block: scripts read the last line of stderr.
        print(f"error: {exc.format_message()}", file=sys.stderr)
        print("Tip: see `remediate --help`", file=sys.stderr)
        return EXIT_INPUT
    except typer.Abort:
        print("error: aborted; nothing more was changed", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:
        # A bug, not a user error: still one line, the traceback only with --debug.
        if _state.debug:
            raise
        print(f"error: internal error: {type(exc).__name__}", file=sys.stderr)
        print("Tip: rerun with --debug for the traceback, and report it", file=sys.stderr)
        return EXIT_AWS
    return rv if isinstance(rv, int) else EXIT_OK


def main() -> None:
    sys.exit(run())
