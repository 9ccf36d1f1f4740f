"""The JSON documents the commands print: one object on stdout, built from typed results."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

from remediate.credentials.store import parse_access_key
from remediate.render.handover import handover

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from remediate.findings.securityhub import ImportResult
    from remediate.org.root_credentials import OrganizationDocument
    from remediate.org.sweep import SweepJson, SweepResult
    from remediate.playbook.engine import AccountRun
    from remediate.playbook.runner import ReportDocument
    from remediate.render.handover import HandoverJson
    from remediate.steps.base import RunOutcome


class SecretJson(TypedDict):
    """One secret a run produced: whose, which kind, where it went; its value with
    --show-secrets (an access key as an object: ``{"AccessKeyId", "SecretAccessKey"}``)."""

    user: str
    kind: str
    stored_in: str | None
    value: NotRequired[str | dict[str, str]]


class MfaJson(TypedDict):
    serial_number: str
    enabled: bool


class RemediationFields(TypedDict):
    """What a remediation adds to an account's document."""

    remediation: ReportDocument | None
    secrets: list[SecretJson]
    mfa: MfaJson | None
    console_sign_in_url: str | None
    handover: HandoverJson | None


class DeletionJson(RemediationFields):
    """One member account in ``root-credentials delete -o json``."""

    account_id: str
    account_name: str | None
    error: str | None


class DeletionSummary(TypedDict):
    total: int
    changed: int
    unchanged: int
    failed: int


class RootCredentialsDeleteJson(TypedDict):
    """``root-credentials delete -o json``."""

    organization: OrganizationDocument
    accounts: list[DeletionJson]
    summary: DeletionSummary


def secrets_json(outcome: RunOutcome, *, show_secrets: bool) -> list[SecretJson]:
    """Which secrets a run produced and where they went; values only with --show-secrets."""
    out: list[SecretJson] = []
    for s in outcome.secrets:
        item = SecretJson(user=s.user, kind=s.kind, stored_in=s.stored_in)
        if show_secrets:
            item["value"] = parse_access_key(s.value) if s.kind == "access-key" else s.value
        out.append(item)
    return out


def remediation_fields(
    run: AccountRun,
    *,
    show_secrets: bool,
    finish: str | None = None,
    sandbox: bool = False,
    held: Callable[[str, str], Sequence[str]] | None = None,
) -> RemediationFields:
    """``remediation``, ``secrets``, ``mfa``, ``console_sign_in_url`` and ``handover`` (the
    commands that hand the secrets over, finish a run that ended early from ``finish``, the
    rerun command, and forget them; none on the sandbox, whose keyring ends with the command)
    of one account."""
    outcome = run.outcome
    mfa = outcome.mfa
    report = run.report
    hand = (
        None
        if sandbox or report is None or report.dry_run
        else handover(
            outcome,
            run.account_id,
            finish=finish,
            held=(lambda user: held(run.account_id, user)) if held else None,
        )
    )
    return {
        "remediation": report.to_json() if report is not None else None,
        "secrets": secrets_json(outcome, show_secrets=show_secrets),
        "mfa": {"serial_number": mfa.serial_number, "enabled": mfa.enabled} if mfa else None,
        "console_sign_in_url": outcome.console_sign_in_url,
        "handover": hand.to_json() if hand is not None else None,
    }


def one_account_document(
    base: Mapping[str, object],
    run: AccountRun,
    *,
    show_secrets: bool,
    finish: str | None,
    sandbox: bool,
    hub: ImportResult | None,
    held: Callable[[str, str], Sequence[str]] | None = None,
) -> dict[str, object]:
    """``root-use --create-admin -o json`` (``base``: the verdict's document) or ``playbook run
    -o json`` (``base``: the account): the remediation's fields added, and the account's
    Security Hub import when there was one."""
    # Open: the keys of ``base`` are the caller's.
    document: dict[str, object] = {
        **base,
        **remediation_fields(
            run, show_secrets=show_secrets, finish=finish, sandbox=sandbox, held=held
        ),
    }
    if hub is not None:
        document["security_hub"] = hub.to_json()
    return document


def sweep_document(
    result: SweepResult, *, sandbox: bool, security_hub: Mapping[str, ImportResult] | None
) -> SweepJson:
    """``root-use --accounts/--all-accounts -o json``: every swept account's verdict, and its
    Security Hub import when the run sent findings (``security_hub`` given; null: none)."""
    document = result.to_json()
    for swept, account in zip(result.accounts, document["accounts"], strict=True):
        account["sandbox"] = sandbox
        if security_hub is not None:
            found = security_hub.get(swept.account_id)
            account["security_hub"] = found.to_json() if found is not None else None
    return document


def sweep_remediation_document(
    result: SweepResult,
    runs: Sequence[AccountRun],
    *,
    show_secrets: bool,
    sandbox: bool,
    finish: Callable[[str], str] | None = None,
    security_hub: Mapping[str, ImportResult] | None = None,
    held: Callable[[str, str], Sequence[str]] | None = None,
) -> SweepJson:
    """``root-use --accounts/--all-accounts --create-admin -o json``: every swept account's
    verdict, with its remediation where one ran (a failed one's ``error`` is the remediation's),
    and its Security Hub import when the run sent findings (``security_hub`` given)."""
    by_account = {r.account_id: r for r in runs}
    documents: list[dict[str, object]] = []
    for a in result.accounts:
        doc: dict[str, object] = {**a.to_json(), "sandbox": sandbox}
        run = by_account.get(a.account_id)
        if run is not None:
            doc.update(
                remediation_fields(
                    run,
                    show_secrets=show_secrets,
                    finish=finish(run.account_id) if finish else None,
                    sandbox=sandbox,
                    held=held,
                )
            )
            if run.failure is not None:
                doc["error"] = run.failure.message
        if security_hub is not None:
            found = security_hub.get(a.account_id)
            doc["security_hub"] = found.to_json() if found is not None else None
        documents.append(doc)
    return {"accounts": documents, "summary": result.summary()}


def root_credentials_delete_document(
    organization: OrganizationDocument, runs: Sequence[AccountRun]
) -> RootCredentialsDeleteJson:
    """``root-credentials delete -o json``: the organization's root access settings, each
    member account's deletion (or why it failed), and counts."""
    documents: list[DeletionJson] = [
        {
            "account_id": r.account_id,
            "account_name": r.target.account_name,
            "error": r.failure.message if r.failure is not None else None,
            **remediation_fields(r, show_secrets=False),
        }
        for r in runs
    ]
    return {
        "organization": organization.copy(),
        "accounts": documents,
        "summary": {
            "total": len(runs),
            "changed": sum(bool(r.report and r.report.changed) for r in runs),
            "unchanged": sum(
                bool(r.report and not r.report.changed) and r.failure is None for r in runs
            ),
            "failed": sum(r.failure is not None for r in runs),
        },
    }
