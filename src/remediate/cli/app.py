"""The typer app: each command parses its options, builds a request
(remediate.commands.requests) and hands it to remediate.commands.run. Nothing else happens
here."""

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from remediate import __version__
from remediate.cli import options as o
from remediate.core import limits
from remediate.core.errors import (
    EXIT_AWS,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Interrupted,
    RemediateError,
)

if TYPE_CHECKING:
    import logging

    from remediate.commands.requests import AwsChoice
    from remediate.core.prompt import Prompter

# Each command's --help lists its own exit codes; the common ones are also on the top level.
EXIT_CODES_HELP = (
    "Exit codes: 0 root not in use, or done; 1 root in use (root-credentials audit: root "
    "credentials found); 2 invalid input, nothing was changed; 3 root use could not be "
    "determined, or AWS failed; 130 interrupted (Ctrl-C). Each command's --help lists its own."
)
ROOT_USE_EXIT_CODES = (
    "Exit codes: 0 root not in use, or a remediation completed; 1 root in use (detection "
    "only), or with --fail-on hygiene a hygiene finding; 2 invalid input, nothing was changed; "
    "3 root use could not be determined, AWS failed, or a step failed (a rerun continues); 130 "
    "interrupted (Ctrl-C; the last line says what was changed)."
)
PLAYBOOK_RUN_EXIT_CODES = (
    "Exit codes: 0 the playbook completed, or had nothing to change; 2 invalid input, nothing "
    "was changed; 3 AWS failed, or a step failed (a rerun continues); 130 interrupted (Ctrl-C; "
    "the last line says what was changed)."
)
READ_EXIT_CODES = "Exit codes: 0 printed; 2 invalid input (a playbook that does not load)."
SECRETS_EXIT_CODES = (
    "Exit codes: 0 done; 2 invalid input, no such secret, or no usable keyring; 130 "
    "interrupted (Ctrl-C)."
)
JOURNAL_EXIT_CODES = (
    "Exit codes: 0 shown (unreadable lines are skipped and counted); 2 invalid input, or a "
    "state directory that cannot be used."
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


class _State:
    # Plain class, not a dataclass: `remediate --help` must not pay for importing dataclasses.
    debug = False
    prompter: "Prompter | None" = None


_state = _State()


def _prompter() -> "Prompter":
    from remediate.core.prompt import TerminalPrompter

    return _state.prompter or TerminalPrompter()


def _aws(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    sandbox: bool,
    allow_insecure_endpoint: bool,
) -> "AwsChoice":
    from remediate.commands.requests import AwsChoice

    return AwsChoice(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        sandbox=sandbox,
        allow_insecure_endpoint=allow_insecure_endpoint,
    )


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
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Log progress to stderr: detection's phases, retries, waits.",
        ),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Find and fix use of the AWS account root user."""
    _state.debug = debug
    import logging

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, handlers=[_log_handler()])
    # botocore's and urllib3's debug logs hold request bodies: passwords, secret keys, MFA codes.
    # --debug logs each call by name instead (remediate.aws.session).
    for noisy in ("botocore", "urllib3", "boto3"):
        logging.getLogger(noisy).setLevel(logging.INFO if debug else logging.WARNING)


@app.command(
    "root-use",
    epilog=ROOT_USE_EXIT_CODES,
    short_help="Detect root use; with --create-admin, fix it.",
)
def root_use(
    days: o.Days = limits.DEFAULT_DAYS,
    report_timeout: o.ReportTimeout = None,
    credential_report: o.CredentialReport = None,
    fail_on: o.FailOnOption = None,
    create_admin: o.CreateAdmin = None,
    group: o.Group = None,
    access: o.AccessKind = None,
    tag: o.Tags = None,
    no_mfa: o.NoMfa = False,
    delete_root_keys: o.DeleteRootKeys = False,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    show_secrets: o.ShowSecrets = False,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
    password_prompt: o.PasswordPrompt = False,
    password_stdin: o.PasswordStdin = False,
    mfa_auto: o.MfaAuto = False,
    mfa_codes: o.MfaCodes = None,
    qr_file: o.QrFile = None,
    show_mfa_secret: o.ShowMfaSecret = False,
    output: o.RootUseOutputFormat = o.RootUseOutput.text,
    profile: o.Profile = None,
    region: o.Region = None,
    endpoint_url: o.EndpointUrl = None,
    allow_insecure_endpoint: o.AllowInsecureEndpoint = False,
    sandbox: o.SandboxFlag = False,
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    role_name: o.RoleName = None,
    external_id: o.ExternalId = None,
    concurrency: o.Concurrency = None,
    every_account: o.EveryAccount = False,
    cloudtrail: o.CloudTrail = False,
    cloudtrail_regions: o.CloudTrailRegions = None,
    security_hub: o.SecurityHub = False,
    mfa_handoff: o.MfaHandoff = False,
    mfa_self_service: o.MfaSelfService = False,
    adopt_existing_user: o.AdoptExistingUser = False,
    reset_password: o.ResetPassword = False,
) -> None:
    """Detect use of the root user; with --create-admin NAME, also fix it: an administrators
    group with AdministratorAccess, and an IAM user in it with console and/or programmatic
    access and a virtual MFA device."""
    from remediate.commands import run as commands
    from remediate.commands.requests import RemediationFlags, root_use_request

    request = root_use_request(
        aws=_aws(profile, region, endpoint_url, sandbox, allow_insecure_endpoint),
        days=days,
        report_timeout=report_timeout,
        credential_report=credential_report,
        output=output.value,
        create_admin=create_admin,
        group=group,
        access=access.value if access is not None else None,
        tags=tag or (),
        no_mfa=no_mfa,
        flags=RemediationFlags(
            dry_run=dry_run,
            yes=yes,
            show_secrets=show_secrets,
            password_prompt=password_prompt,
            password_stdin=password_stdin,
            mfa_auto=mfa_auto,
            mfa_codes=mfa_codes,
            qr_file=qr_file,
            show_mfa_secret=show_mfa_secret,
            allow_plaintext_keyring=allow_plaintext_keyring,
            mfa_handoff=mfa_handoff,
            adopt_existing_user=adopt_existing_user,
            reset_password=reset_password,
            lock_timeout=lock_timeout,
        ),
        all_accounts=all_accounts,
        accounts=accounts,
        role_name=role_name,
        external_id=external_id,
        concurrency=concurrency,
        every_account=every_account,
        fail_on=fail_on.value if fail_on is not None else None,
        delete_root_keys=delete_root_keys,
        cloudtrail=cloudtrail,
        cloudtrail_regions=cloudtrail_regions,
        security_hub=security_hub,
        mfa_self_service=mfa_self_service,
    )
    raise typer.Exit(commands.root_use(request, _prompter()))


playbook_app = typer.Typer(
    help="List, show and run playbooks.",
    short_help="List, show and run playbooks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(playbook_app, name="playbook")


@playbook_app.command("list", epilog=READ_EXIT_CODES)
def playbook_list(output: o.OutputFormat = o.Output.text) -> None:
    """List the shipped playbooks."""
    from remediate.core.terminal import print_json
    from remediate.playbook.loading import load_playbook, shipped_names

    books = [load_playbook(name) for name in shipped_names()]
    if output is o.Output.json:
        print_json({"playbooks": [{"name": b.name, "description": b.description} for b in books]})
        return
    for b in books:
        print(f"{b.name}: {' '.join(b.description.split())}")


@playbook_app.command("show", epilog=READ_EXIT_CODES)
def playbook_show(
    name: Annotated[str, typer.Argument(metavar="NAME|PATH", help="A shipped name or a file.")],
) -> None:
    """Print a playbook (after validating it)."""
    from remediate.core.terminal import safe
    from remediate.playbook.loading import load_playbook

    text = load_playbook(name).text
    # Line by line, as YAML reads it: a bidirectional override or a stray carriage return must
    # not make the text shown differ from the text that runs.
    shown = "\n".join(safe(line, markup=False) for line in text.splitlines())
    sys.stdout.write(shown + ("\n" if text.endswith(("\n", "\r")) else ""))


@playbook_app.command("run", epilog=PLAYBOOK_RUN_EXIT_CODES)
def playbook_run(
    name: Annotated[str, typer.Argument(metavar="NAME|PATH", help="A shipped name or a file.")],
    var: o.Variables = None,
    tag: o.Tags = None,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    show_secrets: o.ShowSecrets = False,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
    password_prompt: o.PasswordPrompt = False,
    password_stdin: o.PasswordStdin = False,
    mfa_auto: o.MfaAuto = False,
    mfa_codes: o.MfaCodes = None,
    qr_file: o.QrFile = None,
    show_mfa_secret: o.ShowMfaSecret = False,
    output: o.OutputFormat = o.Output.text,
    profile: o.Profile = None,
    region: o.Region = None,
    endpoint_url: o.EndpointUrl = None,
    allow_insecure_endpoint: o.AllowInsecureEndpoint = False,
    sandbox: o.SandboxFlag = False,
    mfa_handoff: o.MfaHandoff = False,
    adopt_existing_user: o.AdoptExistingUser = False,
    reset_password: o.ResetPassword = False,
) -> None:
    """Run a playbook: plan, confirm, apply. Rerunning changes nothing."""
    from remediate.commands import run as commands
    from remediate.commands.requests import RemediationFlags, playbook_run_request

    request = playbook_run_request(
        name,
        aws=_aws(profile, region, endpoint_url, sandbox, allow_insecure_endpoint),
        variables=var or (),
        tags=tag or (),
        flags=RemediationFlags(
            dry_run=dry_run,
            yes=yes,
            show_secrets=show_secrets,
            password_prompt=password_prompt,
            password_stdin=password_stdin,
            mfa_auto=mfa_auto,
            mfa_codes=mfa_codes,
            qr_file=qr_file,
            show_mfa_secret=show_mfa_secret,
            allow_plaintext_keyring=allow_plaintext_keyring,
            mfa_handoff=mfa_handoff,
            adopt_existing_user=adopt_existing_user,
            reset_password=reset_password,
            lock_timeout=lock_timeout,
        ),
        output=output.value,
    )
    raise typer.Exit(commands.playbook_run(request, _prompter()))


secrets_app = typer.Typer(
    help="Secrets remediate keeps in the system keyring (passwords, access keys, MFA seeds).",
    short_help="List, hand over and forget the secrets it keeps.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(secrets_app, name="secrets")


@secrets_app.command(
    "list",
    epilog=SECRETS_EXIT_CODES,
    short_help="List the secrets the keyring holds, never their values.",
)
def secrets_list(
    output: o.OutputFormat = o.Output.text,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
) -> None:
    """Which secrets the keyring holds, by account and user (never the values)."""
    from remediate.commands import run as commands

    raise typer.Exit(commands.secrets_list(output.value, allow_plaintext=allow_plaintext_keyring))


@secrets_app.command("show", epilog=SECRETS_EXIT_CODES)
def secrets_show(
    user: Annotated[str, typer.Argument(help="The IAM user.")],
    what: Annotated[o.What, typer.Option("--what", help="Which secret to hand over.")],
    account: o.Account = None,
    qr_file: o.QrFile = None,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
) -> None:
    """Print (or render) a secret, to hand it to its owner."""
    from remediate.commands import run as commands

    raise typer.Exit(
        commands.secrets_show(
            user, what.value, account, qr_file, allow_plaintext=allow_plaintext_keyring
        )
    )


@secrets_app.command("forget", epilog=SECRETS_EXIT_CODES)
def secrets_forget(
    user: Annotated[str, typer.Argument(help="The IAM user.")],
    account: o.Account = None,
    yes: o.Yes = False,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
    include_pending_mfa: Annotated[
        bool,
        typer.Option(
            "--include-pending-mfa",
            help="Also forget the seed of an MFA device still pending (not enabled): its "
            "enrollment can then no longer be finished with --mfa-codes.",
        ),
    ] = False,
) -> None:
    """Delete a user's secrets from the keyring (after a confirmation). The seed of an MFA device
    still waiting for its owner's codes is kept unless --include-pending-mfa."""
    from remediate.commands import run as commands

    raise typer.Exit(
        commands.secrets_forget(
            user,
            account,
            yes=yes,
            prompter=_prompter(),
            allow_plaintext=allow_plaintext_keyring,
            include_pending_mfa=include_pending_mfa,
        )
    )


@app.command(
    "permissions",
    epilog=READ_EXIT_CODES,
    short_help="Print the least-privilege IAM policy for a run.",
)
def permissions(
    playbook: Annotated[
        str, typer.Argument(metavar="[PLAYBOOK]", help="A shipped playbook name or a file.")
    ] = "root-use",
    var: o.Variables = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account", metavar="ID", help="Scope to this account [default: any account]."
        ),
    ] = None,
    region: o.Region = None,
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
    role_name: o.RoleName = None,
    root_credentials: Annotated[
        bool,
        typer.Option(
            "--root-credentials",
            help="Instead: what the management account needs for `remediate root-credentials` "
            "(Organizations, IAM's organization features, sts:AssumeRoot with the task policies).",
        ),
    ] = False,
    cloudtrail: Annotated[
        bool,
        typer.Option(
            "--cloudtrail",
            help="Add what root-use --cloudtrail needs: cloudtrail:LookupEvents, and "
            "ec2:DescribeRegions to list the enabled regions it reads by default.",
        ),
    ] = False,
    security_hub: Annotated[
        bool,
        typer.Option(
            "--security-hub",
            help="Add what root-use --security-hub needs: securityhub:BatchImportFindings as the "
            "account's default product, securityhub:GetFindings, and "
            "securityhub:BatchUpdateFindings of the workflow status (NEW, or RESOLVED after a "
            "remediation) and note only.",
        ),
    ] = False,
    administrative: Annotated[
        bool,
        typer.Option(
            "--administrative",
            help="Instead: what the playbook's administrative steps need (writing the "
            "self-service MFA policy), which the operator's policy never holds.",
        ),
    ] = False,
) -> None:
    """Print the least-privilege IAM policy (JSON) for detection and a playbook's steps, scoped
    to the users, groups and MFA devices a run with these --var values touches: a required
    variable must be given (--var user='*' asks for any user, with a warning), and a step counts
    only when its `when` holds for the given values and the playbook's defaults."""
    from remediate.commands import run as commands
    from remediate.commands.requests import permissions_request

    request = permissions_request(
        playbook,
        variables=var or (),
        account=account,
        region=region,
        detect_only=detect_only,
        organization=organization,
        role_name=role_name,
        root_credentials=root_credentials,
        cloudtrail=cloudtrail,
        security_hub=security_hub,
        administrative=administrative,
    )
    raise typer.Exit(commands.permissions(request))


root_credentials_app = typer.Typer(
    help="Put root away across an AWS Organization: centralize root access, audit and delete "
    "member accounts' root credentials (from the management account).",
    short_help="Put root away across an AWS Organization.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(root_credentials_app, name="root-credentials")

AUDIT_EXIT_CODES = (
    "Exit codes: 0 no member account's root user holds credentials; 1 some root user holds "
    "credentials; 2 invalid input; 3 AWS failed, or an account could not be audited; 130 "
    "interrupted (Ctrl-C)."
)
CENTRALIZE_EXIT_CODES = (
    "Exit codes: 0 centralized root access is on (or nothing needed changing); 2 invalid input "
    "or not the management account, nothing was changed; 3 AWS failed (a rerun continues); 130 "
    "interrupted (Ctrl-C; the last line says what was changed)."
)
DELETE_EXIT_CODES = (
    "Exit codes: 0 done in every account (or nothing to delete); 2 invalid input, nothing was "
    "changed; 3 AWS failed in an account (a rerun continues); 130 interrupted (Ctrl-C; the last "
    "line says what was changed)."
)


@root_credentials_app.command(
    "audit",
    epilog=AUDIT_EXIT_CODES,
    short_help="Show which member accounts' root users hold credentials.",
)
def root_credentials_audit(
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    concurrency: o.Concurrency = None,
    output: o.OutputFormat = o.Output.text,
    profile: o.Profile = None,
    region: o.Region = None,
    endpoint_url: o.EndpointUrl = None,
    sandbox: o.SandboxFlag = False,
    allow_insecure_endpoint: o.AllowInsecureEndpoint = False,
) -> None:
    """Which member accounts' root users hold a password, access keys, signing certificates or
    MFA devices (through sts:AssumeRoot with IAMAuditRootUserCredentials); every member account
    unless --accounts names some. Changes nothing."""
    from remediate.commands import run as commands
    from remediate.commands.requests import root_credentials_request

    request = root_credentials_request(
        "audit",
        aws=_aws(profile, region, endpoint_url, sandbox, allow_insecure_endpoint),
        all_accounts=all_accounts,
        accounts=accounts,
        concurrency=concurrency,
        output=output.value,
    )
    raise typer.Exit(commands.root_credentials_audit(request))


@root_credentials_app.command(
    "centralize",
    epilog=CENTRALIZE_EXIT_CODES,
    short_help="Enable centralized root access for the organization.",
)
def root_credentials_centralize(
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    output: o.OutputFormat = o.Output.text,
    profile: o.Profile = None,
    region: o.Region = None,
    endpoint_url: o.EndpointUrl = None,
    sandbox: o.SandboxFlag = False,
    allow_insecure_endpoint: o.AllowInsecureEndpoint = False,
) -> None:
    """Enable centralized root access, from the management account: trusted access for IAM in
    Organizations, root credentials management, root sessions; each only if it is off."""
    from remediate.commands import run as commands
    from remediate.commands.requests import RemediationFlags, playbook_run_request

    request = playbook_run_request(
        "root-credentials-centralize",
        aws=_aws(profile, region, endpoint_url, sandbox, allow_insecure_endpoint),
        flags=RemediationFlags(dry_run=dry_run, yes=yes, lock_timeout=lock_timeout),
        output=output.value,
    )
    raise typer.Exit(commands.root_credentials_centralize(request, _prompter()))


@root_credentials_app.command(
    "delete",
    epilog=DELETE_EXIT_CODES,
    short_help="Delete member accounts' root credentials.",
)
def root_credentials_delete(
    all_accounts: o.AllAccounts = False,
    accounts: o.Accounts = None,
    concurrency: o.Concurrency = None,
    dry_run: o.DryRun = False,
    yes: o.Yes = False,
    lock_timeout: o.LockTimeout = None,
    output: o.OutputFormat = o.Output.text,
    profile: o.Profile = None,
    region: o.Region = None,
    endpoint_url: o.EndpointUrl = None,
    sandbox: o.SandboxFlag = False,
    allow_insecure_endpoint: o.AllowInsecureEndpoint = False,
) -> None:
    """Delete member accounts' root credentials: signing certificates, access keys, the console
    password, then deactivate MFA devices (through sts:AssumeRoot with
    IAMDeleteRootUserCredentials). Plans every account, asks once. Never the management account:
    AssumeRoot cannot target it."""
    from remediate.commands import run as commands
    from remediate.commands.requests import root_credentials_request

    request = root_credentials_request(
        "delete",
        aws=_aws(profile, region, endpoint_url, sandbox, allow_insecure_endpoint),
        all_accounts=all_accounts,
        accounts=accounts,
        concurrency=concurrency,
        output=output.value,
        dry_run=dry_run,
        yes=yes,
        lock_timeout=lock_timeout,
    )
    raise typer.Exit(commands.root_credentials_delete(request, _prompter()))


@app.command(
    "journal",
    epilog=JOURNAL_EXIT_CODES,
    short_help="Show every write remediate made, with its outcome.",
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
    from remediate.commands import run as commands
    from remediate.commands.requests import journal_request

    request = journal_request(
        limit=limit, account=account, user=user, since=since, output=output.value
    )
    raise typer.Exit(commands.journal(request))


sandbox_app = typer.Typer(
    help="The built-in sandbox: a local AWS emulator (no account needed).",
    short_help="Run the built-in AWS emulator for other commands.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(sandbox_app, name="sandbox")

SANDBOX_EXIT_CODES = (
    "Exit codes: 0 stopped with Ctrl-C; 2 invalid input (a port in use, a --dir that is not "
    "empty, the sandbox extra not installed)."
)


@sandbox_app.command(
    "serve",
    epilog=SANDBOX_EXIT_CODES,
    short_help="Run the sandbox until Ctrl-C, for other commands.",
)
def sandbox_serve(
    port: Annotated[
        int | None,
        typer.Option("--port", help="Listen on this loopback port [default: a free one]."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="PATH",
            help="The sandbox's own directory, new or empty: its keyring file and journal "
            "[default: a new temporary one].",
        ),
    ] = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C, and print the lines that point other
    commands at it: its accounts and organization stay between commands, so resuming, reruns,
    secrets and the journal can be tried without an AWS account."""
    from remediate.commands import run as commands
    from remediate.commands.requests import sandbox_serve_request

    raise typer.Exit(commands.sandbox_serve(sandbox_serve_request(port=port, directory=directory)))


def _log_handler() -> "logging.Handler":
    """stderr, one line per record. Log lines carry AWS messages and names: each message is made
    safe for the terminal (a traceback, added after it with --debug, is the program's own text)."""
    import logging

    class SafeFormatter(logging.Formatter):
        def formatMessage(self, record: logging.LogRecord) -> str:
            # Imported here, not when the handler is set up: `root-use --help` sets it up too,
            # and must stay quick.
            from remediate.core.terminal import safe

            return safe(super().formatMessage(record), markup=False)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("remediate: %(message)s"))
    return handler


def _report(exc: RemediateError) -> None:
    from remediate.core.terminal import write_message

    # Messages quote AWS's own error text, file names and values given on the command line.
    write_message(f"error: {exc.message}", sys.stderr)
    if exc.tip:
        write_message(f"Tip: {exc.tip}", sys.stderr)


def _report_interruption(message: str) -> None:
    """A newline first on a terminal (the cursor may sit after a prompt and the ^C the terminal
    echoed), then one message (wrapped at words on a terminal)."""
    from remediate.core.terminal import close_prompt_line, write_message

    if not close_prompt_line(sys.stderr):
        try:
            terminal = sys.stderr.isatty()
        except (AttributeError, ValueError):
            terminal = False
        if terminal:
            sys.stderr.write("\n")  # after the ^C the terminal echoed where the cursor was
    write_message(message, sys.stderr)


def _invoke(args: list[str]) -> object:
    """Parse ``args`` and run the command, as click's main would, except that Ctrl-C reaches
    :func:`run` as KeyboardInterrupt (typer's main would turn it into a silent exit 130)."""
    import errno

    from typer.main import get_command

    command = get_command(app)
    try:
        with command.make_context("remediate", args) as ctx:
            return command.invoke(ctx)
    except typer.Exit as exc:
        return exc.exit_code
    except EOFError as exc:
        raise typer.Abort() from exc
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # Standard output closed early (`remediate journal | head`): nothing more to say.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process ends now)
        return 1


def run(argv: list[str] | None = None, *, prompter: "Prompter | None" = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (never raises for expected failures).

    ``prompter`` (a remediate.core.prompt.Prompter) replaces the terminal, for tests and embedding.
    """
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    _state.debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    _state.prompter = prompter
    try:
        rv = _invoke(list(argv) if argv is not None else sys.argv[1:])
    except Interrupted as exc:
        _report_interruption(exc.message)
        return exc.exit_code
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
        from remediate.core.terminal import write_message

        # One line, not click's usage block: scripts read the last line of stderr. The message
        # quotes the bad value as given.
        write_message(f"error: {exc.format_message()}", sys.stderr)
        print("Tip: see `remediate --help`", file=sys.stderr)
        return EXIT_INPUT
    except (typer.Abort, KeyboardInterrupt):
        # Pressed before any change was applied (the engine turns a Ctrl-C during one into
        # Interrupted, which says what was changed).
        _report_interruption("interrupted: nothing was changed")
        return EXIT_INTERRUPTED
    except Exception as exc:
        # A bug, not a user error: still one line, the traceback only with --debug.
        if _state.debug:
            raise
        print(f"error: internal error: {type(exc).__name__}", file=sys.stderr)
        print("Tip: rerun with --debug for the traceback, and report it", file=sys.stderr)
        return EXIT_AWS
    return rv if isinstance(rv, int) else EXIT_OK


def main() -> None:
    """The ``remediate`` command (and ``python -m remediate``). Core dumps are turned off first,
    before anything is read or generated: no secret may end up in a core file. (run() leaves
    the process's limits alone: a program embedding it, or the tests, keep their own.)"""
    from remediate.core.process import disable_core_dumps

    disable_core_dumps()
    code = run()
    if code == EXIT_INTERRUPTED:
        # Worker threads (a sweep's, a plan's) may be waiting on AWS for many seconds, and the
        # interpreter would wait for them at exit: Ctrl-C ends the process now.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)
