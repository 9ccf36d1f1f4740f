"""The command line: parse options, build the AWS context, call the core, render, map exit codes."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from remediate import __version__
from remediate.errors import (
    EXIT_AWS,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_ROOT_IN_USE,
    InputError,
    RemediateError,
)

if TYPE_CHECKING:
    from remediate.aws.session import Aws, AwsOptions

log = logging.getLogger("remediate")

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


@dataclass
class _State:
    debug: bool = False


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
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level, format="remediate: %(message)s")
    if not debug:
        logging.getLogger("botocore").setLevel(logging.WARNING)


@contextlib.contextmanager
def aws_context(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    sandbox: bool,
    *,
    read_only: bool = False,
) -> Iterator[Aws]:
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


def _options(profile: str | None, region: str | None, endpoint_url: str | None) -> AwsOptions:
    from remediate.aws.session import AwsOptions

    return AwsOptions(profile, region, endpoint_url)


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
    output: OutputOpt = Output.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Detect use of the root user from the IAM credential report and the caller's identity."""
    from remediate.core import detect, detect_from_file
    from remediate.output import print_json, render_verdict, stdout_console

    now = datetime.now(UTC)
    if credential_report is not None:
        if sandbox or profile or endpoint_url:
            raise InputError("--credential-report reads a file: it takes no AWS option")
        verdict = detect_from_file(credential_report, days=days, now=now)
        document: dict[str, Any] = verdict.to_json()
    else:
        with aws_context(profile, region, endpoint_url, sandbox) as aws:
            verdict = detect(aws, days=days, report_timeout=report_timeout, now=now)
        document = verdict.to_json()
    document["sandbox"] = sandbox
    if output is Output.json:
        print_json(document)
    else:
        render_verdict(stdout_console(), verdict, now)
    if verdict.root_in_use is None:
        raise typer.Exit(EXIT_AWS)
    raise typer.Exit(EXIT_ROOT_IN_USE if verdict.root_in_use else EXIT_OK)


def _report(exc: RemediateError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.tip:
        print(f"Tip: {exc.tip}", file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (never raises for expected failures)."""
    from typer._click.exceptions import ClickException

    _state.debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = app(args=argv, prog_name="remediate", standalone_mode=False)
    except RemediateError as exc:
        if _state.debug:
            log.exception("failed")
        _report(exc)
        return exc.exit_code
    except ClickException as exc:
        # One line, not click's usage block: scripts read the last line of stderr.
        print(f"error: {exc.format_message()}", file=sys.stderr)
        print("Tip: see `remediate --help`", file=sys.stderr)
        return EXIT_INPUT
    except typer.Abort:
        print("error: aborted; nothing more was changed", file=sys.stderr)
        return EXIT_INPUT
    return rv if isinstance(rv, int) else EXIT_OK


def main() -> None:
    sys.exit(run())
