"""The root-activity-alarm step kind: the CIS AWS Foundations form of watching root (Security
Hub's CloudWatch.1), a metric filter on the CloudWatch Logs group a multi-region trail delivers
to, counting root's own actions, and an alarm (Sum >= 1 over 5 minutes) that notifies the
topic. Refused before anything is changed when no such trail and log group exist."""

from __future__ import annotations

from dataclasses import dataclass

from remediate.aws.calls import call
from remediate.core.errors import InputError
from remediate.detect.monitoring import cis_trail, trails
from remediate.detect.root_watch import (
    ALARM_NAME,
    ALARM_PERIOD,
    CIS_FILTER_PATTERN,
    METRIC_FILTER,
    METRIC_NAME,
    METRIC_NAMESPACE,
    TOPIC_NAME,
    topic_arn,
)
from remediate.steps.access import Access, Arns, anywhere
from remediate.steps.base import Change, StepContext
from remediate.steps.kind import Step, register
from remediate.steps.params import param


@dataclass(frozen=True)
class AlarmArgs:
    topic: str = param(default=TOPIC_NAME)


def the_log_groups(args: AlarmArgs, arns: Arns) -> str:
    # The trail's log group is found at run time: any of the account's.
    return f"arn:{arns.partition}:logs:*:{arns.account}:log-group:*"


def the_alarm(args: AlarmArgs, arns: Arns) -> str:
    return f"arn:{arns.partition}:cloudwatch:*:{arns.account}:alarm:{ALARM_NAME}"


def the_trails(args: AlarmArgs, arns: Arns) -> str:
    return f"arn:{arns.partition}:cloudtrail:*:{arns.account}:trail/*"


@dataclass(frozen=True)
class AlarmPlan:
    log_group: str
    metric_filter: bool
    alarm: bool


NO_CIS_TRAIL = (
    "--cis-alarm needs a multi-region trail that logs management events to a CloudWatch Logs "
    "group, and this account has none"
)
NO_CIS_TRAIL_TIP = (
    "send a multi-region trail to CloudWatch Logs (CloudTrail console: the trail, CloudWatch "
    "Logs, Edit), or run without --cis-alarm: the EventBridge rules watch root without it"
)


@register
class RootActivityAlarmStep(Step[AlarmPlan]):
    """The CIS metric filter on the multi-region trail's log group, and its alarm on the topic.

    ```yaml
    - id: cis-alarm
      kind: root-activity-alarm
      with: {topic: remediate-root-activity}
    ```
    """

    kind = "root-activity-alarm"
    args: AlarmArgs
    access = (
        Access(("cloudtrail:DescribeTrails",), anywhere),
        Access(("cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"), the_trails),
        Access(("logs:DescribeMetricFilters", "logs:PutMetricFilter"), the_log_groups),
        Access(("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"), the_alarm),
    )
    writes_per_change = 2
    reads_per_plan = 3

    def resource(self, ctx: StepContext) -> str:
        return f"CloudWatch alarm {ALARM_NAME}"

    def plan(self, ctx: StepContext) -> Change[AlarmPlan]:
        trail = cis_trail(trails(ctx.aws))
        if trail is None or trail.log_group is None:
            raise InputError(NO_CIS_TRAIL, tip=NO_CIS_TRAIL_TIP)
        group = trail.log_group
        filters = (
            call(
                ctx.aws.client("logs"),
                "DescribeMetricFilters",
                logGroupName=group,
                filterNamePrefix=METRIC_FILTER,
            ).get("metricFilters")
            or []
        )
        have_filter = any(
            f.get("filterName") == METRIC_FILTER
            and f.get("filterPattern") == CIS_FILTER_PATTERN
            and any(
                t.get("metricName") == METRIC_NAME and t.get("metricNamespace") == METRIC_NAMESPACE
                for t in f.get("metricTransformations") or []
            )
            for f in filters
        )
        alarms = call(ctx.aws.client("cloudwatch"), "DescribeAlarms", AlarmNames=[ALARM_NAME])
        have_alarm = any(self._alarm_ok(ctx, a) for a in alarms.get("MetricAlarms") or [])
        if have_filter and have_alarm:
            return Change(self.resource(ctx), "none")
        details = []
        if not have_filter:
            details.append(
                f"metric filter {METRIC_FILTER} on log group {group} (trail {trail.name})"
            )
        if not have_alarm:
            details.append(
                f"alarm {ALARM_NAME}: {METRIC_NAME} Sum >= 1 over 5 minutes, to the topic"
            )
        return Change(
            self.resource(ctx),
            "create",
            details,
            state=AlarmPlan(group, not have_filter, not have_alarm),
        )

    def _topic(self, ctx: StepContext) -> str:
        return topic_arn(
            self.args.topic, partition=ctx.partition, region=ctx.aws.region, account=ctx.account_id
        )

    def _alarm_ok(self, ctx: StepContext, alarm: dict[str, object]) -> bool:
        return (
            alarm.get("MetricName") == METRIC_NAME
            and alarm.get("Namespace") == METRIC_NAMESPACE
            and bool(alarm.get("ActionsEnabled"))
            and self._topic(ctx) in (alarm.get("AlarmActions") or [])  # type: ignore[operator]
            and alarm.get("Threshold") == 1
            and alarm.get("Period") == ALARM_PERIOD
        )

    def apply(self, ctx: StepContext, change: Change[AlarmPlan]) -> None:
        planned = change.planned
        if planned.metric_filter:
            call(
                ctx.aws.client("logs"),
                "PutMetricFilter",
                logGroupName=planned.log_group,
                filterName=METRIC_FILTER,
                filterPattern=CIS_FILTER_PATTERN,
                metricTransformations=[
                    {
                        "metricName": METRIC_NAME,
                        "metricNamespace": METRIC_NAMESPACE,
                        "metricValue": "1",
                    }
                ],
            )
        if planned.alarm:
            call(
                ctx.aws.client("cloudwatch"),
                "PutMetricAlarm",
                AlarmName=ALARM_NAME,
                AlarmDescription="remediate: the root user was used (CIS AWS Foundations)",
                MetricName=METRIC_NAME,
                Namespace=METRIC_NAMESPACE,
                Statistic="Sum",
                Period=ALARM_PERIOD,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
                ActionsEnabled=True,
                AlarmActions=[self._topic(ctx)],
            )
