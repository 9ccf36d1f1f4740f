"""The error tree: every failure the CLI reports maps to one of these and an exit code."""

from __future__ import annotations

from typing import Protocol

EXIT_OK = 0
EXIT_ROOT_IN_USE = 1
EXIT_INPUT = 2
EXIT_AWS = 3
# The shell's code for a process ended by SIGINT (128 + 2): Ctrl-C, wherever it was pressed.
EXIT_INTERRUPTED = 130


class RunRecord(Protocol):
    """What a playbook run planned and applied, as a failure carries it: the runner's
    ``RunReport`` (remediate.playbook.runner), which sits above this layer and so is named here
    only by what an error's reader may ask of it."""

    @property
    def playbook(self) -> str: ...

    @property
    def dry_run(self) -> bool: ...

    @property
    def changed(self) -> int:
        """How many steps were applied before the run stopped."""
        ...


class RemediateError(Exception):
    """Base of every error the CLI turns into one line, a tip and an exit code."""

    exit_code = EXIT_AWS

    def __init__(self, message: str, tip: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tip = tip


class InputError(RemediateError):
    """Invalid input (option, file, variable): detected before anything was changed."""

    exit_code = EXIT_INPUT


class PlaybookError(InputError):
    """A playbook that does not load or validate."""


class ReportFormatError(InputError):
    """A credential report that cannot be parsed."""


class AwsError(RemediateError):
    """An AWS call failed (credentials, access denied, unreachable endpoint, timeout).

    ``ambiguous`` says the request may have been applied although no answer came back (a read
    timeout, a connection closed mid-answer, a 5xx): a create must look before it tries again.
    """

    exit_code = EXIT_AWS

    def __init__(
        self,
        message: str,
        tip: str | None = None,
        *,
        code: str | None = None,
        action: str | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, tip)
        self.code = code
        self.action = action
        self.ambiguous = ambiguous


class WriteRefusedError(AwsError):
    """A write call was attempted through a read-only (dry-run) session."""


class StepFailedError(RemediateError):
    """A playbook step failed after earlier steps were applied; a rerun continues from there."""

    exit_code = EXIT_AWS

    def __init__(self, message: str, tip: str | None = None, *, report: RunRecord) -> None:
        super().__init__(message, tip)
        self.report = report  # what was planned and applied


class Interrupted(RemediateError):
    """Ctrl-C: the run stopped where it was. The message says what was changed and what was not;
    ``report`` is the interrupted account's run, when a playbook was being applied."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, *, report: RunRecord | None = None) -> None:
        super().__init__(message)
        self.report = report
