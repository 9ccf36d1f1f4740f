"""The typer app: the top-level options, each command's typer wrapper registered
(remediate.cli.root_use, .playbook, ...: each declares its options and calls its command in
remediate.commands), and how a run ends: errors as one line and a tip, exit codes, Ctrl-C.

A wrapper imports its command's module when it runs: `remediate --help` imports typer and the
option declarations, not the commands and everything below them (benchmarks/bench_startup.py).
"""

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

import remediate.cli.helptext as helptext
import remediate.cli.journal as journal
import remediate.cli.permissions as permissions
import remediate.cli.playbook as playbook
import remediate.cli.root_activity as root_activity
import remediate.cli.root_credentials as root_credentials
import remediate.cli.root_use as root_use
import remediate.cli.sandbox as sandbox
import remediate.cli.secrets as secrets
from remediate import __version__
from remediate.cli.state import state
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

    from remediate.core.prompt import Prompter

# Each command's --help lists its own exit codes; the common ones are also on the top level.
EXIT_CODES_HELP = (
    "Exit codes: 0 root not in use, or done; 1 root in use (root-credentials audit: root "
    "credentials found); 2 invalid input, nothing was changed; 3 root use could not be "
    "determined, or AWS failed; 130 interrupted (Ctrl-C). Each command's --help lists its own."
)

# What a shell sets when it asks for completions (typer's name for it: `_<PROG>_COMPLETE`).
COMPLETE_VAR = "_REMEDIATE_COMPLETE"

app = typer.Typer(
    name="remediate",
    cls=helptext.PanelGroup,
    help="Find and fix use of the AWS account root user.",
    epilog=helptext.epilog(
        EXIT_CODES_HELP,
        ("Is the root user of your account in use? (exit 1 if it is)", "remediate root-use"),
        ("Plan the fix, with no write call", "remediate root-use --create-admin alice --dry-run"),
        (
            "Try it all on the built-in emulator",
            "remediate root-use --sandbox --create-admin alice",
        ),
        ("A command's options and examples", "remediate root-use -h"),
    ),
    no_args_is_help=True,
    # --install-completion and --show-completion (typer's, for bash, zsh, fish, PowerShell).
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain text: panels are drawn by remediate.cli.helptext, without importing rich.
    rich_markup_mode=None,
    # Inherited by every command's context.
    context_settings={"help_option_names": ["-h", "--help"]},
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
    state.debug = debug
    import logging

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, handlers=[_log_handler()])
    # botocore's and urllib3's debug logs hold request bodies: passwords, secret keys, MFA codes.
    # --debug logs each call by name instead (remediate.aws.session).
    for noisy in ("botocore", "urllib3", "boto3"):
        logging.getLogger(noisy).setLevel(logging.INFO if debug else logging.WARNING)


# In the order `remediate --help` lists them.
for command in (
    root_use,
    playbook,
    secrets,
    permissions,
    root_credentials,
    root_activity,
    journal,
    sandbox,
):
    command.register(app)
helptext.adopt(app)


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
    # A shell asking for completions: the script --install-completion put in its start-up file
    # runs `remediate` with this variable set (what click's main would do).
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:
        from typer.completion import shell_complete

        return shell_complete(command, {}, "remediate", COMPLETE_VAR, instruction)
    try:
        with command.make_context("remediate", args) as ctx:
            return command.invoke(ctx)
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        # --install-completion and --show-completion end this way once they have written.
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except EOFError as exc:
        raise typer.Abort() from exc
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # Standard output closed early (`remediate journal | head`): nothing more to say.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process ends now)
        return 1


def _usage_error(exc: typer.TyperException, argv: list[str]) -> int:
    """A usage error as one line and a tip naming the command's help (remediate.cli.usage), not
    click's usage block: scripts read the last line of stderr."""
    from remediate.cli.usage import usage_lines
    from remediate.core.terminal import write_message

    # `remediate` or `remediate playbook` alone: the help, as click shows it. Told by its class's
    # name, as typer's own error formatting does (typer exports no name for it).
    if type(exc).__name__ == "NoArgsIsHelpError":
        print(exc.format_message(), file=sys.stderr)
        return EXIT_INPUT
    from typer.main import get_command

    for line in usage_lines(exc, argv, get_command(app)):
        write_message(line, sys.stderr)
    return EXIT_INPUT


def run(argv: list[str] | None = None, *, prompter: "Prompter | None" = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (never raises for expected failures).

    ``prompter`` (a remediate.core.prompt.Prompter) replaces the terminal, for tests and embedding.
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    state.debug = "--debug" in args
    state.prompter = prompter
    try:
        rv = _invoke(args)
    except Interrupted as exc:
        _report_interruption(exc.message)
        return exc.exit_code
    except RemediateError as exc:
        if state.debug:
            import logging

            logging.getLogger("remediate").exception("failed")
        _report(exc)
        return exc.exit_code
    except typer.TyperException as exc:
        # Every usage error of the command line (typer's vendored click raises them, and typer
        # exports their base class).
        return _usage_error(exc, args)
    except (typer.Abort, KeyboardInterrupt):
        # Pressed before any change was applied (the engine turns a Ctrl-C during one into
        # Interrupted, which says what was changed).
        _report_interruption("interrupted: nothing was changed")
        return EXIT_INTERRUPTED
    except Exception as exc:
        # A bug, not a user error: still one line, the traceback only with --debug.
        if state.debug:
            raise
        print(f"error: internal error: {type(exc).__name__}", file=sys.stderr)
        print("Tip: rerun with --debug for the traceback, and report it", file=sys.stderr)
        return EXIT_AWS
    return rv if isinstance(rv, int) else EXIT_OK


def main() -> None:
    """The ``remediate`` command (and ``python -m remediate``). Core dumps are turned off first,
    before anything is read or generated: no secret may end up in a core file. (run() leaves
    the process's limits and its garbage collector alone: a program embedding it, or the tests,
    keep their own.)"""
    import gc

    from remediate.core.process import disable_core_dumps

    disable_core_dumps()
    # What is alive now (typer, the command line's modules) lives until the process ends: the
    # cyclic garbage collector need not walk it again at every collection of the command's run.
    gc.freeze()
    code = run()
    if code == EXIT_INTERRUPTED:
        # Worker threads (a sweep's, a plan's) may be waiting on AWS for many seconds, and the
        # interpreter would wait for them at exit: Ctrl-C ends the process now.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)
