"""``remediate root-use``: judge root's use from a credential report file, in the caller's
account, or (remediate.commands.sweep) across accounts; with --create-admin, remediate through
the engine. CloudTrail's evidence and Security Hub's import are added where asked for."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from remediate.aws.identity import caller_identity
from remediate.commands.exits import hub_exit, trail_exit, verdict_exit
from remediate.commands.remediation import prepare_remediation, remediate_one_account
from remediate.commands.root_use_request import RootUseRequest
from remediate.commands.session import open_aws
from remediate.commands.sweep import root_use_many_accounts
from remediate.commands.wiring import hub_journal
from remediate.core.errors import EXIT_OK, InputError
from remediate.detect.service import detect, detect_from_file
from remediate.findings.explain import explain
from remediate.findings.export import import_verdict, report_region, with_cloudtrail
from remediate.render.detection import render_detection, verdict_document
from remediate.render.explain import show_explanation
from remediate.render.outputs import Output, output_for

if TYPE_CHECKING:
    from pathlib import Path

    from remediate.aws.session import Aws
    from remediate.core.prompt import Prompter
    from remediate.playbook.engine import Remediation


def root_use(request: RootUseRequest, prompter: Prompter) -> int:
    """Detect root use in one account or many; with a remediation, fix it."""
    if request.explain is not None:
        show_explanation(explain(request.explain), request.output)
        return EXIT_OK
    output = output_for(
        request.output, sandbox=request.aws.sandbox, security_hub=request.security_hub
    )
    if request.credential_report is not None:
        _check_report_file(request.credential_report)
        verdict = detect_from_file(request.credential_report, days=request.days)
        output.detected(verdict, region=report_region(verdict), hub=None)
        return verdict_exit(verdict, fail_on_hygiene=request.fail_on_hygiene)
    remediation = None
    if request.remediation is not None:
        remediation = prepare_remediation(
            request.remediation, prompter, across_accounts=request.accounts is not None
        )
    read_only = remediation is not None and remediation.dry_run
    with open_aws(
        request.aws, read_only=read_only, organization=request.accounts is not None
    ) as aws:
        if request.accounts is None:
            return _one_account(request, output, remediation, aws, prompter)
        return root_use_many_accounts(request, output, remediation, aws, prompter)


def _check_report_file(path: Path) -> None:
    """A report file that is not there: said with where one comes from."""
    if str(path) != "-" and not path.exists():
        raise InputError(
            f"cannot read credential report {path}: {os.strerror(errno.ENOENT)}",
            tip="save one with `aws iam generate-credential-report` then `aws iam "
            "get-credential-report > report.json`, or download it from the IAM console "
            "(Credential report); or leave --credential-report out to read the account's",
        )


def _one_account(
    request: RootUseRequest,
    output: Output,
    remediation: Remediation | None,
    aws: Aws,
    prompter: Prompter,
) -> int:
    identity = caller_identity(aws)
    verdict = detect(aws, identity, days=request.days, report_timeout=request.report_timeout)
    if request.cloudtrail is not None:
        verdict = with_cloudtrail(
            aws, identity.account_id, verdict, request.cloudtrail.regions, days=request.days
        )
    hub = None
    if request.security_hub:
        record = hub_journal(request.aws.sandbox, identity.account_id, identity.arn)
        hub = import_verdict(aws, verdict, record=record, updated_by=identity.arn)
    if remediation is None:
        output.detected(verdict, region=aws.region, hub=hub)
        output.trail_failures([verdict])
        output.imports([hub])
        code = verdict_exit(verdict, fail_on_hygiene=request.fail_on_hygiene)
        return trail_exit(hub_exit(code, [hub]), [verdict])
    # --create-admin is the next step: not suggested, taken.
    render_detection(output.console, verdict, next_step=False)
    output.trail_failures([verdict])
    base = verdict_document(verdict, sandbox=request.aws.sandbox)
    return remediate_one_account(
        remediation, aws, identity, prompter, request, output, base, verdict=verdict, hub=hub
    )
