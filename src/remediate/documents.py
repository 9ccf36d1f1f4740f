"""The JSON documents the commands print: one object on stdout, built from typed results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remediate.engine import AccountRun
    from remediate.steps.base import RunOutcome


def secrets_json(outcome: RunOutcome, *, show_secrets: bool) -> list[dict[str, Any]]:
    """Which secrets a run produced and where they went; values only with --show-secrets (an
    access key as an object: ``{"AccessKeyId", "SecretAccessKey"}``)."""
    from remediate.secrets import parse_access_key

    out: list[dict[str, Any]] = []
    for s in outcome.secrets:
        item: dict[str, Any] = {"user": s.user, "kind": s.kind, "stored_in": s.stored_in}
        if show_secrets:
            item["value"] = parse_access_key(s.value) if s.kind == "access-key" else s.value
        out.append(item)
    return out


def remediation_fields(
    run: AccountRun, *, show_secrets: bool, finish: str | None = None, sandbox: bool = False
) -> dict[str, Any]:
    """``remediation``, ``secrets``, ``mfa``, ``console_sign_in_url`` and ``handover`` (the
    commands that hand the secrets over, finish a pending MFA enrollment with ``finish``, and
    forget them; none on the sandbox, whose keyring ends with the command) of one account."""
    from remediate.handover import handover

    outcome = run.outcome
    mfa = outcome.mfa
    report = run.report
    hand = (
        None
        if sandbox or report is None or report.dry_run
        else handover(outcome, run.account_id, finish=finish)
    )
    return {
        "remediation": report.to_json() if report is not None else None,
        "secrets": secrets_json(outcome, show_secrets=show_secrets),
        "mfa": {"serial_number": mfa.serial_number, "enabled": mfa.enabled} if mfa else None,
        "console_sign_in_url": outcome.console_sign_in_url,
        "handover": hand.to_json() if hand is not None else None,
    }
