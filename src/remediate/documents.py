"""The JSON documents the commands print: one object on stdout, built from typed results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remediate.engine import AccountRun
    from remediate.steps.base import RunOutcome


def secrets_json(outcome: RunOutcome, *, show_secrets: bool) -> list[dict[str, Any]]:
    """Which secrets a run produced and where they went; values only with --show-secrets."""
    out: list[dict[str, Any]] = []
    for s in outcome.secrets:
        item: dict[str, Any] = {"user": s.user, "kind": s.kind, "stored_in": s.stored_in}
        if show_secrets:
            item["value"] = s.value
        out.append(item)
    return out


def remediation_fields(run: AccountRun, *, show_secrets: bool) -> dict[str, Any]:
    """``remediation``, ``secrets``, ``mfa`` and ``console_sign_in_url`` of one account."""
    outcome = run.outcome
    mfa = outcome.mfa
    return {
        "remediation": run.report.to_json() if run.report is not None else None,
        "secrets": secrets_json(outcome, show_secrets=show_secrets),
        "mfa": {"serial_number": mfa.serial_number, "enabled": mfa.enabled} if mfa else None,
        "console_sign_in_url": outcome.console_sign_in_url,
    }
