"""``remediate root-use`` as detection alone: the caller's own account judged from its
credential report, the verdict as text or JSON, and detection's exit code.

The command line calls this rather than remediate.commands.root_use when no option but
detection's is given (remediate.cli.root_use): detection then loads what it uses, none of the
engine, the playbooks, the sweep or Security Hub (start-up: benchmarks/bench_startup.py). Its
rules are root-use's own: remediate.commands.root_use_request checks the same options here."""

from __future__ import annotations

from dataclasses import dataclass, field

from remediate.aws.identity import caller_identity
from remediate.commands.exits import verdict_exit
from remediate.commands.request import JSON, TEXT, AwsChoice, check_output, check_range
from remediate.commands.session import open_aws
from remediate.core import limits
from remediate.core.errors import InputError
from remediate.core.terminal import print_json, stdout_console
from remediate.detect.service import detect
from remediate.render.detection import render_detection, verdict_document

FAIL_ON = ("hygiene",)


@dataclass(frozen=True)
class DetectionRequest:
    """Detection in the caller's account, and nothing else."""

    aws: AwsChoice = field(default_factory=AwsChoice)
    days: int = limits.DEFAULT_DAYS
    report_timeout: float = limits.DEFAULT_REPORT_TIMEOUT
    output: str = TEXT
    # --fail-on hygiene: a root hygiene finding also makes detection exit 1.
    fail_on_hygiene: bool = False


def check_detection_options(
    *, days: int, report_timeout: float | None, fail_on: str | None
) -> None:
    """Detection's window, the credential report's timeout, and --fail-on's value."""
    check_range("--days", days, 1, limits.MAX_DAYS)
    if report_timeout is not None:
        check_range("--report-timeout", report_timeout, 1, limits.MAX_REPORT_TIMEOUT)
    if fail_on is not None and fail_on not in FAIL_ON:
        raise InputError(f"invalid --fail-on {fail_on[:40]!r}: expected {', '.join(FAIL_ON)}")


def detection_request(
    *,
    aws: AwsChoice,
    days: int = limits.DEFAULT_DAYS,
    report_timeout: float | None = None,
    output: str = TEXT,
    fail_on: str | None = None,
) -> DetectionRequest:
    """Detection's options checked (``output``: text or json; a findings format is
    remediate.commands.root_use's)."""
    check_detection_options(days=days, report_timeout=report_timeout, fail_on=fail_on)
    return DetectionRequest(
        aws=aws,
        days=days,
        report_timeout=report_timeout or limits.DEFAULT_REPORT_TIMEOUT,
        output=check_output(output),
        fail_on_hygiene=fail_on == "hygiene",
    )


def detect_root_use(request: DetectionRequest) -> int:
    """Judge root use in the caller's account, print the verdict, and return its exit code."""
    with open_aws(request.aws, read_only=False) as aws:
        identity = caller_identity(aws)
        verdict = detect(aws, identity, days=request.days, report_timeout=request.report_timeout)
        if request.output == JSON:
            print_json(verdict_document(verdict, sandbox=request.aws.sandbox))
        else:
            render_detection(stdout_console(), verdict)
    return verdict_exit(verdict, fail_on_hygiene=request.fail_on_hygiene)
