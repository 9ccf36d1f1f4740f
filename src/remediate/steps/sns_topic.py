"""The sns-topic step kind: the SNS topic root's activity is sent to, created (tagged
remediate:managed-by) or adopted (a topic given by ARN), whose policy lets EventBridge publish
for remediate's rules only, and CloudWatch for its CIS alarm only (aws:SourceArn)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from remediate.aws.calls import call
from remediate.core.errors import AwsError, InputError
from remediate.detect.root_watch import (
    API_CALL_RULE,
    SIGN_IN_RULE,
    TOPIC_NAME,
    alarm_arn,
    policy_document,
    publish_statements,
    rule_arn,
    topic_arn,
)
from remediate.steps.access import Access, Arns
from remediate.steps.base import Change, StepContext
from remediate.steps.iam import MANAGED_BY_KEY, MANAGED_BY_VALUE, is_managed
from remediate.steps.kind import Step, register
from remediate.steps.params import param

_GONE = frozenset({"NotFound", "NotFoundException", "ResourceNotFoundException"})


@dataclass(frozen=True)
class TopicArgs:
    topic: str = param(default=TOPIC_NAME)  # a name (created), or an ARN (adopted)
    cis_alarm: bool = param(default=False)


def the_topic(args: TopicArgs, arns: Arns) -> str:
    """The topic's ARN, in any region of the account when it is named."""
    if args.topic.startswith("arn:"):
        return args.topic
    return f"arn:{arns.partition}:sns:*:{arns.account}:{args.topic}"


@dataclass(frozen=True)
class TopicPlan:
    arn: str
    create: bool
    statements: tuple[dict[str, object], ...]


def desired_statements(ctx: StepContext, arn: str, cis_alarm: bool) -> list[dict[str, object]]:
    where = {"partition": ctx.partition, "region": ctx.aws.region, "account": ctx.account_id}
    rules = [rule_arn(r, **where) for r in (SIGN_IN_RULE, API_CALL_RULE)]
    alarm = alarm_arn(**where) if cis_alarm else None
    return publish_statements(arn, rules, alarm, ctx.partition)


def _statements(policy: Mapping[str, object]) -> list[object]:
    """A policy's statements, as given: a list, or one statement on its own."""
    found = policy.get("Statement")
    if isinstance(found, list):
        return list(found)
    return [] if found is None else [found]


def merged_policy(
    current: Mapping[str, object], ours: list[dict[str, object]]
) -> dict[str, object]:
    """The topic's policy with remediate's statements in place, everybody else's kept (and the
    CIS alarm's, from an earlier run with --cis-alarm: its alarm still publishes)."""
    replaced = {s["Sid"] for s in ours}
    kept = [
        s for s in _statements(current) if not (isinstance(s, dict) and s.get("Sid") in replaced)
    ]
    return {
        "Version": current.get("Version", "2012-10-17"),
        "Id": current.get("Id", "remediate-root-activity"),
        "Statement": [*kept, *ours],
    }


def _ours_in_place(current: Mapping[str, object], ours: list[dict[str, object]]) -> bool:
    present = {s.get("Sid"): s for s in _statements(current) if isinstance(s, dict)}
    return all(_same(present.get(s["Sid"]), s) for s in ours)


def _same(found: object, wanted: dict[str, object]) -> bool:
    if not isinstance(found, dict):
        return False

    def norm(statement: dict[str, object]) -> str:
        condition = json.loads(json.dumps(statement.get("Condition") or {}))
        for values in condition.values():
            for key, value in values.items():
                values[key] = sorted(value) if isinstance(value, list) else [value]
        return json.dumps(
            {
                "Effect": statement.get("Effect"),
                "Principal": statement.get("Principal"),
                "Action": statement.get("Action"),
                "Resource": statement.get("Resource"),
                "Condition": condition,
            },
            sort_keys=True,
        )

    return norm(found) == norm(wanted)


@register
class SnsTopicStep(Step[TopicPlan]):
    """The SNS topic root's activity goes to: created and tagged, or adopted when given by ARN
    (in the run's region and account); its policy lets only remediate's rules (and CIS alarm)
    publish.

    ```yaml
    - id: topic
      kind: sns-topic
      with: {topic: remediate-root-activity}
    ```
    """

    kind = "sns-topic"
    args: TopicArgs
    access = (
        Access(
            (
                "sns:GetTopicAttributes",
                "sns:ListTagsForResource",
                "sns:SetTopicAttributes",
            ),
            the_topic,
        ),
        Access(
            ("sns:CreateTopic", "sns:TagResource"),
            the_topic,
            needed=lambda args: not args.topic.startswith("arn:"),
        ),
    )
    writes_per_change = 2
    reads_per_plan = 2

    def resource(self, ctx: StepContext) -> str:
        return f"SNS topic {self.args.topic}"

    def _arn(self, ctx: StepContext) -> str:
        return topic_arn(
            self.args.topic, partition=ctx.partition, region=ctx.aws.region, account=ctx.account_id
        )

    def plan(self, ctx: StepContext) -> Change[TopicPlan]:
        arn = self._arn(ctx)
        adopted = self.args.topic.startswith("arn:")
        parts = arn.split(":")
        if adopted and (len(parts) != 6 or parts[2] != "sns"):
            raise InputError(f"--topic-arn {arn[:120]}: not an SNS topic ARN")
        if adopted and (parts[3] != ctx.aws.region or parts[4] != ctx.account_id):
            raise InputError(
                f"--topic-arn {arn}: the topic must be in this account ({ctx.account_id}) and "
                f"region ({ctx.aws.region}): EventBridge rules notify a topic of their own region",
                tip=f"run with --region {parts[3]}, or leave --topic-arn out to create one",
            )
        client = ctx.aws.client("sns")
        ours = desired_statements(ctx, arn, self.args.cis_alarm)
        try:
            attributes = call(client, "GetTopicAttributes", TopicArn=arn)["Attributes"]
        except AwsError as exc:
            if exc.code not in _GONE:
                raise
            if adopted:
                raise InputError(
                    f"--topic-arn {arn}: no such topic",
                    tip="create it first, or leave --topic-arn out",
                ) from None
            return Change(
                self.resource(ctx),
                "create",
                [
                    f"create SNS topic {arn}, tagged {MANAGED_BY_KEY}={MANAGED_BY_VALUE}",
                    "topic policy: EventBridge may publish for remediate's rules only"
                    + (", CloudWatch for its CIS alarm only" if self.args.cis_alarm else ""),
                ],
                state=TopicPlan(arn, True, tuple(ours)),
            )
        if not adopted:
            tags = call(client, "ListTagsForResource", ResourceArn=arn).get("Tags") or []
            if not is_managed({str(t["Key"]): str(t["Value"]) for t in tags}):
                raise InputError(
                    f"SNS topic {arn} exists and remediate did not create it "
                    f"(no tag {MANAGED_BY_KEY}={MANAGED_BY_VALUE})",
                    tip=f"to use it, pass --topic-arn {arn}",
                )
        current = policy_document(attributes.get("Policy"))
        if _ours_in_place(current, ours):
            return Change(self.resource(ctx), "none")
        return Change(
            self.resource(ctx),
            "update",
            [f"topic policy of {arn}: EventBridge may publish for remediate's rules only"],
            state=TopicPlan(arn, False, tuple(ours)),
        )

    def apply(self, ctx: StepContext, change: Change[TopicPlan]) -> None:
        planned = change.planned
        client = ctx.aws.client("sns")
        if planned.create:
            name = planned.arn.rsplit(":", 1)[1]
            # CreateTopic is idempotent for one name and set of tags: a resent request (a lost
            # answer) returns the same topic.
            call(
                client,
                "CreateTopic",
                Name=name,
                Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE}],
            )
        attributes = call(client, "GetTopicAttributes", TopicArn=planned.arn)["Attributes"]
        document = merged_policy(
            policy_document(attributes.get("Policy")), list(planned.statements)
        )
        call(
            client,
            "SetTopicAttributes",
            TopicArn=planned.arn,
            AttributeName="Policy",
            AttributeValue=json.dumps(document),
        )
