"""Root activity's watch as check results, in the model of the root hygiene findings
(remediate.findings.checks): not monitored, no multi-region management trail, root not denied
by an SCP (member accounts only), subscriptions pending. Pure: judged from what
remediate.detect.monitoring read."""

from __future__ import annotations

from remediate.detect.monitoring import Monitoring, Watcher
from remediate.findings.checks import (
    FAILED,
    NO_MULTI_REGION_MANAGEMENT_TRAIL,
    NOT_AVAILABLE,
    PASSED,
    ROOT_ACTIVITY_CHECKS,
    ROOT_ACTIVITY_NOT_MONITORED,
    ROOT_ACTIVITY_SUBSCRIPTION_PENDING,
    ROOT_NOT_DENIED_BY_SCP,
    CheckResult,
    Status,
)

_CHECKS = {c.id: c for c in ROOT_ACTIVITY_CHECKS}


def _result(m: Monitoring, partition: str, check_id: str, status: Status, text: str) -> CheckResult:
    return CheckResult(_CHECKS[check_id], m.account_id, partition, status, text)


def _monitored(m: Monitoring, partition: str) -> CheckResult:
    reaching = [w for w in m.watchers if w.reaches]
    trail = any(t.usable for t in m.trails)
    if not reaching:
        found = list(m.watchers)
        why = (
            "no EventBridge rule or CloudWatch alarm selects root's activity"
            if not found
            else "the rules and alarms that select root's activity reach nobody: "
            + "; ".join(_why_not(w) for w in found)
        )
        return _result(m, partition, ROOT_ACTIVITY_NOT_MONITORED, FAILED, f"In {m.region}: {why}.")
    sign_in = any(w.sign_in for w in reaching)
    api = any(w.api_calls for w in reaching) and trail
    covered = [x for x, on in (("console sign-ins", sign_in), ("API calls", api)) if on]
    names = ", ".join(f"{w.kind} {w.name}" for w in reaching)
    text = f"Root's {' and '.join(covered) or 'activity'} reach a subscribed topic ({names})"
    if not api:
        text += "; API calls are not covered (no trail logs management events)"
    if m.unforwarded:
        text += f"; not forwarded from {', '.join(m.unforwarded)}"
    status = PASSED if sign_in else FAILED
    return _result(m, partition, ROOT_ACTIVITY_NOT_MONITORED, status, text + ".")


def _why_not(w: Watcher) -> str:
    if not w.enabled:
        return f"{w.kind} {w.name} is disabled"
    if not w.topics:
        return f"{w.kind} {w.name} notifies no SNS topic"
    return f"{w.kind} {w.name}'s topic has no subscription"


def _trail(m: Monitoring, partition: str) -> CheckResult:
    good = [t for t in m.trails if t.usable and t.multi_region]
    if good:
        return _result(
            m,
            partition,
            NO_MULTI_REGION_MANAGEMENT_TRAIL,
            PASSED,
            f"Trail {good[0].name} logs management events in every region.",
        )
    return _result(
        m,
        partition,
        NO_MULTI_REGION_MANAGEMENT_TRAIL,
        FAILED,
        "No multi-region trail is logging management events: root's API calls are not "
        "recorded for EventBridge or a log group.",
    )


def _scp(m: Monitoring, partition: str) -> CheckResult:
    if m.scp is None:
        return _result(m, partition, ROOT_NOT_DENIED_BY_SCP, NOT_AVAILABLE, m.scp_note + ".")
    if m.scp:
        text = "A service control policy denies every action to the account's root user."
        return _result(m, partition, ROOT_NOT_DENIED_BY_SCP, PASSED, text)
    text = "No service control policy above the account denies its root user."
    return _result(m, partition, ROOT_NOT_DENIED_BY_SCP, FAILED, text)


def _pending(m: Monitoring, partition: str) -> CheckResult:
    pending = sorted({p for w in m.watchers for t in w.topics for p in t.pending})
    if pending:
        text = f"Waiting for confirmation: {', '.join(pending)} (nothing reaches them until then)."
        return _result(m, partition, ROOT_ACTIVITY_SUBSCRIPTION_PENDING, FAILED, text)
    text = "No subscription to root activity notifications is pending."
    return _result(m, partition, ROOT_ACTIVITY_SUBSCRIPTION_PENDING, PASSED, text)


def root_activity_results(m: Monitoring, partition: str = "aws") -> list[CheckResult]:
    """Every root-activity check's result for the account, in ROOT_ACTIVITY_CHECKS' order."""
    return [
        _monitored(m, partition),
        _trail(m, partition),
        _scp(m, partition),
        _pending(m, partition),
    ]
