"""The root-activity-rules step kind: EventBridge rules that carry root's console sign-ins and
API calls to the SNS topic, with the message in words (an input transformer). In the home
region (the session's) one rule for sign-ins and one for API calls notify the topic; in every
other enabled region a forwarding rule sends both to the home region's default event bus with
the forwarding role (remediate.detect.root_watch says why every region).

The plan reads the trails too: root's API calls reach EventBridge only while a trail logs
management events, and without one the plan says that API calls are not covered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediate.aws.calls import call
from remediate.core.errors import AwsError
from remediate.detect.cloudtrail import enabled_regions
from remediate.detect.monitoring import management_trail, trails
from remediate.detect.root_watch import (
    API_CALL_RULE,
    API_CALL_TRANSFORMER,
    FORWARD_RULE,
    FORWARDING_ROLE,
    SIGN_IN_RULE,
    SIGN_IN_TRANSFORMER,
    TARGET_ID,
    TOPIC_NAME,
    RuleTarget,
    api_call_pattern,
    bus_arn,
    forward_pattern,
    pattern_text,
    same_pattern,
    sign_in_pattern,
    topic_arn,
)
from remediate.steps.access import Access, Arns, Condition, anywhere
from remediate.steps.base import Change, StepContext
from remediate.steps.kind import Step, register
from remediate.steps.params import param

_GONE = frozenset({"ResourceNotFoundException"})
NO_TRAIL = (
    "no trail logs management events in this account: root's API calls do not reach "
    "EventBridge, so only console sign-ins are watched until one does (CloudTrail: create a "
    "multi-region trail)"
)


@dataclass(frozen=True)
class RulesArgs:
    topic: str = param(default=TOPIC_NAME)
    role: str = param(default=FORWARDING_ROLE)


def the_rules(args: RulesArgs, arns: Arns) -> str:
    return f"arn:{arns.partition}:events:*:{arns.account}:rule/remediate-root-*"


def the_role(args: RulesArgs, arns: Arns) -> str:
    return f"arn:{arns.partition}:iam::{arns.account}:role/{args.role}"


def the_trails(args: RulesArgs, arns: Arns) -> str:
    return f"arn:{arns.partition}:cloudtrail:*:{arns.account}:trail/*"


def _to_events(args: RulesArgs, arns: Arns) -> Condition:
    return {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}


@dataclass(frozen=True)
class Rule:
    """One rule as it should be: its region, name, pattern and single target."""

    region: str
    name: str
    pattern: dict[str, object]
    target: RuleTarget
    description: str


def desired_rules(ctx: StepContext, args: RulesArgs, regions: list[str]) -> list[Rule]:
    home = ctx.aws.region
    where = {"partition": ctx.partition, "account": ctx.account_id}
    topic = topic_arn(args.topic, region=home, **where)
    rules = [
        Rule(
            home,
            SIGN_IN_RULE,
            sign_in_pattern(),
            {"Id": TARGET_ID, "Arn": topic, "InputTransformer": SIGN_IN_TRANSFORMER},
            "remediate: root console sign-ins to SNS",
        ),
        Rule(
            home,
            API_CALL_RULE,
            api_call_pattern(),
            {"Id": TARGET_ID, "Arn": topic, "InputTransformer": API_CALL_TRANSFORMER},
            "remediate: root API calls to SNS",
        ),
    ]
    role = f"arn:{ctx.partition}:iam::{ctx.account_id}:role/{args.role}"
    for region in regions:
        if region != home:
            rules.append(
                Rule(
                    region,
                    FORWARD_RULE,
                    forward_pattern(),
                    {"Id": TARGET_ID, "Arn": bus_arn(region=home, **where), "RoleArn": role},
                    f"remediate: root activity to the {home} event bus",
                )
            )
    return rules


def _target_matches(found: list[dict[str, Any]], wanted: RuleTarget) -> bool:
    if len(found) != 1:
        return False
    target = found[0]
    transformer = wanted.get("InputTransformer")
    if transformer is not None:
        have = target.get("InputTransformer") or {}
        if have.get("InputTemplate") != transformer["InputTemplate"]:
            return False
        if dict(have.get("InputPathsMap") or {}) != transformer["InputPathsMap"]:
            return False
    return all(target.get(k) == v for k, v in wanted.items() if k != "InputTransformer")


def _in_place(ctx: StepContext, rule: Rule) -> bool:
    client = ctx.aws.client("events", region=rule.region)
    try:
        found = call(client, "DescribeRule", Name=rule.name)
    except AwsError as exc:
        if exc.code in _GONE:
            return False
        raise
    if found.get("State") != "ENABLED" or not same_pattern(found.get("EventPattern"), rule.pattern):
        return False
    targets = call(client, "ListTargetsByRule", Rule=rule.name).get("Targets") or []
    return _target_matches(targets, rule.target)


@register
class RootActivityRulesStep(Step[tuple[Rule, ...]]):
    """EventBridge rules that send root's sign-ins and API calls, from every enabled region, to
    the topic as a message in words.

    ```yaml
    - id: rules
      kind: root-activity-rules
      with: {topic: remediate-root-activity, role: RemediateRootActivityForwarding}
    ```
    """

    kind = "root-activity-rules"
    args: RulesArgs
    access = (
        Access(
            (
                "events:DescribeRule",
                "events:ListTargetsByRule",
                "events:PutRule",
                "events:PutTargets",
            ),
            the_rules,
        ),
        # The forwarding role is an administrator's to write (events-forwarding-role); the
        # operator reads it (its step plans) and passes it to EventBridge only.
        Access(("iam:GetRole", "iam:GetRolePolicy"), the_role),
        Access(("iam:PassRole",), the_role, _to_events),
        Access(("ec2:DescribeRegions", "cloudtrail:DescribeTrails"), anywhere),
        Access(("cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"), the_trails),
    )
    writes_per_change = 2
    reads_per_plan = 2

    def resource(self, ctx: StepContext) -> str:
        return "EventBridge rules for root activity"

    def plan(self, ctx: StepContext) -> Change[tuple[Rule, ...]]:
        regions = enabled_regions(ctx.aws)
        missing = tuple(r for r in desired_rules(ctx, self.args, regions) if not _in_place(ctx, r))
        warnings = [] if management_trail(trails(ctx.aws)) else [NO_TRAIL]
        if not missing:
            return Change(self.resource(ctx), "none", warnings=warnings)
        details = [
            f"{r.region}: rule {r.name} ({r.description.removeprefix('remediate: ')})"
            for r in missing
        ]
        return Change(self.resource(ctx), "create", details, state=missing, warnings=warnings)

    def apply(self, ctx: StepContext, change: Change[tuple[Rule, ...]]) -> None:
        for rule in change.planned:
            client = ctx.aws.client("events", region=rule.region)
            # PutRule and PutTargets replace what is there: safe to resend.
            call(
                client,
                "PutRule",
                Name=rule.name,
                EventPattern=pattern_text(rule.pattern),
                State="ENABLED",
                Description=rule.description,
            )
            call(client, "PutTargets", Rule=rule.name, Targets=[dict(rule.target)])
