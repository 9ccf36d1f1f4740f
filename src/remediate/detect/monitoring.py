"""What watches root's activity in one account, read from AWS: the trails that log management
events, the EventBridge rules that select root's events and what they reach (an SNS topic and
its subscriptions), CloudWatch alarms on a root-activity metric filter, and whether a service
control policy denies the root user. Reads only; `root-activity status` judges it
(remediate.findings.root_activity) and `root-activity watch` plans with the trail it finds.

A rule or alarm counts only when it reaches somebody: the rule ENABLED (the alarm's actions
enabled), its target an SNS topic that exists, with at least one subscription (pending ones
included: they are reported as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call, paginate
from remediate.core.errors import AwsError
from remediate.detect.root_watch import FORWARD_RULE, matches_root, policy_document

if TYPE_CHECKING:
    from remediate.aws.session import Aws

PENDING = "PendingConfirmation"
_GONE = frozenset({"ResourceNotFoundException", "NotFound", "NotFoundException"})


@dataclass(frozen=True)
class Trail:
    """A trail as the home region sees it: whether it logs management events now, in every
    region, and the CloudWatch Logs group it delivers to (if any)."""

    name: str
    arn: str
    multi_region: bool
    logging: bool
    management_events: bool
    log_group_arn: str | None = None

    @property
    def log_group(self) -> str | None:
        """The log group's name (its ARN is ``...:log-group:NAME:*``)."""
        if not self.log_group_arn:
            return None
        return self.log_group_arn.split(":log-group:", 1)[-1].removesuffix(":*")

    @property
    def usable(self) -> bool:
        return self.logging and self.management_events


def _logs_management(selectors: Any) -> bool:
    """GetEventSelectors' answer: basic selectors including management events, or advanced
    selectors selecting the Management category."""
    for s in selectors.get("EventSelectors") or []:
        if s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") != "ReadOnly":
            return True
    for s in selectors.get("AdvancedEventSelectors") or []:
        for f in s.get("FieldSelectors") or []:
            if f.get("Field") == "eventCategory" and "Management" in (f.get("Equals") or []):
                return True
    return False


def trails(aws: Aws) -> list[Trail]:
    """Every trail the home region knows (its own and other regions' multi-region trails), with
    whether each is logging management events now."""
    client = aws.client("cloudtrail")
    found = []
    listed = call(client, "DescribeTrails", includeShadowTrails=True).get("trailList") or []
    for t in listed:
        arn = str(t.get("TrailARN") or t.get("Name"))
        status = call(client, "GetTrailStatus", Name=arn)
        selectors = call(client, "GetEventSelectors", TrailName=arn)
        found.append(
            Trail(
                name=str(t.get("Name")),
                arn=arn,
                multi_region=bool(t.get("IsMultiRegionTrail")),
                logging=bool(status.get("IsLogging")),
                management_events=_logs_management(selectors),
                log_group_arn=t.get("CloudWatchLogsLogGroupArn") or None,
            )
        )
    return found


def management_trail(found: Sequence[Trail]) -> Trail | None:
    """The best trail for root's API calls: logging management events, multi-region first."""
    usable = [t for t in found if t.usable]
    usable.sort(key=lambda t: (not t.multi_region, t.log_group_arn is None, t.name))
    return usable[0] if usable else None


def cis_trail(found: Sequence[Trail]) -> Trail | None:
    """The multi-region trail logging management events to a CloudWatch Logs group (the CIS
    metric filter's input), if any."""
    for t in found:
        if t.usable and t.multi_region and t.log_group_arn:
            return t
    return None


@dataclass(frozen=True)
class Topic:
    """An SNS topic a rule or alarm notifies, and its subscriptions."""

    arn: str
    exists: bool
    confirmed: tuple[str, ...] = ()  # endpoints
    pending: tuple[str, ...] = ()

    @property
    def reaches_someone(self) -> bool:
        return self.exists and bool(self.confirmed or self.pending)


@dataclass(frozen=True)
class Watcher:
    """A rule or alarm that selects root's activity, whether it is enabled, and the topics it
    notifies."""

    kind: str  # "rule" or "alarm"
    name: str
    enabled: bool
    sign_in: bool
    api_calls: bool
    topics: tuple[Topic, ...] = ()

    @property
    def reaches(self) -> bool:
        return self.enabled and any(t.reaches_someone for t in self.topics)


@dataclass(frozen=True)
class Monitoring:
    """What watches root's activity in one account's home region."""

    account_id: str
    region: str
    trails: tuple[Trail, ...]
    watchers: tuple[Watcher, ...]
    # Enabled regions without remediate's forwarding rule (None: not read).
    unforwarded: tuple[str, ...] | None = None
    # Whether an SCP denies the root user; None when it cannot be said (no organization, the
    # management account, not readable from here).
    scp: bool | None = None
    scp_note: str = ""
    notes: tuple[str, ...] = field(default=())


def topic(aws: Aws, arn: str) -> Topic:
    """A topic by ARN and its subscriptions (a pending one is listed as PendingConfirmation)."""
    region = arn.split(":")[3] if arn.count(":") >= 5 else None
    client = aws.client("sns", region=region)
    try:
        subs = paginate(client, "ListSubscriptionsByTopic", "Subscriptions", TopicArn=arn)
    except AwsError as exc:
        if exc.code in _GONE:
            return Topic(arn, exists=False)
        raise
    confirmed = tuple(str(s.get("Endpoint")) for s in subs if s.get("SubscriptionArn") != PENDING)
    pending = tuple(str(s.get("Endpoint")) for s in subs if s.get("SubscriptionArn") == PENDING)
    return Topic(arn, True, confirmed, pending)


def _sns_targets(arns: Sequence[str]) -> list[str]:
    return [a for a in arns if a.startswith("arn:") and a.split(":")[2] == "sns"]


def rule_watchers(aws: Aws) -> list[Watcher]:
    """The home region's rules on the default bus that select root's events."""
    client = aws.client("events")
    found = []
    for rule in paginate(client, "ListRules", "Rules"):
        sign_in, api_calls = matches_root(rule.get("EventPattern"))
        if not (sign_in or api_calls):
            continue
        name = str(rule["Name"])
        listed = paginate(client, "ListTargetsByRule", "Targets", Rule=name)
        arns = _sns_targets([str(t.get("Arn")) for t in listed])
        found.append(
            Watcher(
                "rule",
                name,
                rule.get("State") == "ENABLED",
                sign_in,
                api_calls,
                tuple(topic(aws, a) for a in arns),
            )
        )
    return found


def alarm_watchers(aws: Aws) -> list[Watcher]:
    """The home region's alarms on a metric that a root-activity metric filter counts."""
    cloudwatch = aws.client("cloudwatch")
    logs = aws.client("logs")
    found = []
    for alarm in paginate(cloudwatch, "DescribeAlarms", "MetricAlarms"):
        name, namespace = alarm.get("MetricName"), alarm.get("Namespace")
        if not name or not namespace:
            continue
        filters = paginate(
            logs,
            "DescribeMetricFilters",
            "metricFilters",
            metricName=name,
            metricNamespace=namespace,
        )
        if not any('userIdentity.type = "Root"' in str(f.get("filterPattern")) for f in filters):
            continue
        arns = _sns_targets([str(a) for a in alarm.get("AlarmActions") or []])
        found.append(
            Watcher(
                "alarm",
                str(alarm["AlarmName"]),
                bool(alarm.get("ActionsEnabled")),
                True,
                True,
                tuple(topic(aws, a) for a in arns),
            )
        )
    return found


def unforwarded_regions(aws: Aws, regions: Sequence[str]) -> tuple[str, ...]:
    """The regions (besides the home region) whose remediate forwarding rule is missing or
    disabled."""
    missing = []
    for region in regions:
        if region == aws.region:
            continue
        client = aws.client("events", region=region)
        try:
            rule = call(client, "DescribeRule", Name=FORWARD_RULE)
        except AwsError as exc:
            if exc.code not in _GONE:
                raise
            missing.append(region)
            continue
        if rule.get("State") != "ENABLED":
            missing.append(region)
    return tuple(missing)


# --- service control policies -------------------------------------------------------------------

ROOT_PRINCIPAL_PATTERNS = frozenset({"arn:*:iam::*:root", "arn:aws:iam::*:root"})


def denies_root(document: Any) -> bool:
    """Whether a policy document denies every action to the root user: a Deny of ``*`` on
    ``*`` under ArnLike/StringLike aws:PrincipalArn ``arn:*:iam::*:root``."""
    statements = policy_document(document).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for s in statements:
        if not isinstance(s, dict) or s.get("Effect") != "Deny":
            continue
        actions = s.get("Action")
        if actions not in ("*", ["*"]) or s.get("Resource", "*") not in ("*", ["*"]):
            continue
        for operator in ("ArnLike", "StringLike"):
            values = (s.get("Condition") or {}).get(operator, {}).get("aws:PrincipalArn")
            values = [values] if isinstance(values, str) else values or []
            if any(v in ROOT_PRINCIPAL_PATTERNS for v in values):
                return True
    return False


def scp_denies_root(org: Aws, account_id: str) -> bool:
    """Whether a service control policy attached to the account, or to an OU or root above it,
    denies the root user (read from the management account or a delegated administrator)."""
    client = org.client("organizations")
    targets = [account_id]
    child = account_id
    while True:
        parents = paginate(client, "ListParents", "Parents", ChildId=child)
        if not parents:
            break
        child = str(parents[0]["Id"])
        targets.append(child)
        if parents[0].get("Type") == "ROOT":
            break
    for target in targets:
        policies = paginate(
            client,
            "ListPoliciesForTarget",
            "Policies",
            TargetId=target,
            Filter="SERVICE_CONTROL_POLICY",
        )
        for p in policies:
            described = call(client, "DescribePolicy", PolicyId=p["Id"])
            if denies_root(described.get("Policy", {}).get("Content")):
                return True
    return False
