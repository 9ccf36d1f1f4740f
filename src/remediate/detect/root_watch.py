"""What watching root's activity is made of, by name and shape: the EventBridge rules' names,
event patterns and input transformers, the SNS topic's name and policy statement, the forwarding
role and the CIS metric filter and alarm. Pure: the steps that create them and `root-activity
status`, which judges what it finds, both read them from here.

Where events arrive. CloudTrail sends management events to the default event bus of the region
they are recorded in: an API call in the region it was made in (global services such as IAM in
us-east-1), a console sign-in in the region of the sign-in endpoint that took it (the CloudTrail
user guide, "AWS Management Console sign-in events": not only us-east-1). So a rule in one region
sees only part of root's activity. remediate puts a forwarding rule in every enabled region
(ec2:DescribeRegions) whose target is the home region's default event bus (a cross-region bus
target, sent with a role EventBridge assumes with events:PutEvents on that bus alone), and in
the home region (the session's) two rules, one for sign-ins and one for API calls, that notify
the topic with a message in words.

EventBridge's documentation names the sign-in detail type two ways ("AWS Console Sign In via
CloudTrail" in its CloudTrail page's examples, "AWS Console Signin via CloudTrail" in its list of
CloudTrail event types): the patterns match both. API-call events reach EventBridge only while a
trail logs management events (EventBridge user guide: "a trail with logging enabled is
required"); without one, the API-call rule waits and says so.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict
from urllib.parse import unquote

TOPIC_NAME = "remediate-root-activity"
SIGN_IN_RULE = "remediate-root-sign-in"
API_CALL_RULE = "remediate-root-api-call"
FORWARD_RULE = "remediate-root-activity-forward"
FORWARDING_ROLE = "RemediateRootActivityForwarding"
FORWARDING_POLICY = "ForwardRootActivityToHomeRegion"
METRIC_FILTER = "remediate-root-activity"
METRIC_NAME = "RootActivity"
METRIC_NAMESPACE = "Remediate/CISBenchmark"
ALARM_NAME = "remediate-root-activity"
TOPIC_POLICY_SID = "RemediateRootActivityPublish"
ALARM_POLICY_SID = "RemediateRootActivityAlarm"
TARGET_ID = "remediate-root-activity"

SIGN_IN_TYPES = ("AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail")
API_CALL_TYPE = "AWS API Call via CloudTrail"
ROOT = {"userIdentity": {"type": ["Root"]}}

# The CIS AWS Foundations Benchmark's filter (CloudWatch.1): root's own actions, not those an
# AWS service takes on root's behalf.
CIS_FILTER_PATTERN = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }'
)
ALARM_PERIOD = 300  # Sum >= 1 over 5 minutes


def sign_in_pattern() -> dict[str, object]:
    return {"detail-type": list(SIGN_IN_TYPES), "detail": ROOT}


def api_call_pattern() -> dict[str, object]:
    return {"detail-type": [API_CALL_TYPE], "detail": ROOT}


def forward_pattern() -> dict[str, object]:
    return {"detail-type": [*SIGN_IN_TYPES, API_CALL_TYPE], "detail": ROOT}


def pattern_text(pattern: dict[str, object]) -> str:
    return json.dumps(pattern, sort_keys=True)


def same_pattern(text: str | None, pattern: dict[str, object]) -> bool:
    """Whether an EventPattern as EventBridge answers it is ``pattern`` (key order aside)."""
    if not text:
        return False
    try:
        return bool(json.loads(text) == pattern)
    except ValueError:
        return False


def matches_root(text: str | None) -> tuple[bool, bool]:
    """Whether a rule's EventPattern selects root's console sign-ins, and root's API calls: the
    root identity type is asked for, and the detail type (or none, which is every type)."""
    try:
        pattern = json.loads(text or "")
    except ValueError:
        return False, False
    if not isinstance(pattern, dict):
        return False, False
    detail = pattern.get("detail")
    identity = detail.get("userIdentity") if isinstance(detail, dict) else None
    kinds = identity.get("type") if isinstance(identity, dict) else None
    if not isinstance(kinds, list) or "Root" not in kinds:
        return False, False
    types = pattern.get("detail-type")
    if types is None:
        return True, True
    if not isinstance(types, list):
        return False, False
    return any(t in types for t in SIGN_IN_TYPES), API_CALL_TYPE in types


# The message in words: who (root), what, in which account and region, from where, with or
# without MFA. EventBridge substitutes the <names> from the paths; a string template is sent as
# the message text (EventBridge user guide, "Transforming target input").
class InputTransformer(TypedDict):
    """An EventBridge target's input transformer: paths read from the event, and the text."""

    InputPathsMap: dict[str, str]
    InputTemplate: str


class RuleTarget(TypedDict, total=False):
    """A rule's one target as PutTargets takes it: the topic (with the message in words), or the
    home region's bus (with the role EventBridge assumes to put events there)."""

    Id: str
    Arn: str
    InputTransformer: InputTransformer
    RoleArn: str


SIGN_IN_TRANSFORMER: InputTransformer = {
    "InputPathsMap": {
        "account": "$.account",
        "region": "$.region",
        "time": "$.time",
        "ip": "$.detail.sourceIPAddress",
        "mfa": "$.detail.additionalEventData.MFAUsed",
        "result": "$.detail.responseElements.ConsoleLogin",
        "agent": "$.detail.userAgent",
    },
    "InputTemplate": '"Root user console sign-in (<result>) to AWS account <account> at <time> '
    "from <ip> (MFA used: <mfa>), recorded in <region>; user agent <agent>. If this was not "
    'expected, treat the account as compromised."',
}
API_CALL_TRANSFORMER: InputTransformer = {
    "InputPathsMap": {
        "account": "$.account",
        "region": "$.region",
        "time": "$.time",
        "action": "$.detail.eventName",
        "service": "$.detail.eventSource",
        "ip": "$.detail.sourceIPAddress",
        "mfa": "$.detail.userIdentity.sessionContext.attributes.mfaAuthenticated",
        "agent": "$.detail.userAgent",
    },
    "InputTemplate": '"Root user called <action> (<service>) in AWS account <account>, region '
    "<region>, at <time> from <ip> (MFA authenticated: <mfa>); user agent <agent>. If this "
    'was not expected, treat the account as compromised."',
}


def topic_arn(topic: str, *, partition: str, region: str, account: str) -> str:
    """The topic ``topic`` names: an ARN as given, a name in the account and region."""
    if topic.startswith("arn:"):
        return topic
    return f"arn:{partition}:sns:{region}:{account}:{topic}"


def rule_arn(name: str, *, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:rule/{name}"


def bus_arn(*, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/default"


def alarm_arn(*, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{ALARM_NAME}"


def publish_statements(
    topic: str, rules: list[str], alarm: str | None, partition: str
) -> list[dict[str, object]]:
    """The topic policy's statements remediate owns: EventBridge may publish for these rules
    only, and (with the CIS alarm) CloudWatch for that alarm only (aws:SourceArn)."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    found: list[dict[str, object]] = [
        {
            "Sid": TOPIC_POLICY_SID,
            "Effect": "Allow",
            "Principal": {"Service": f"events.{suffix}"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rules)}},
        }
    ]
    if alarm is not None:
        found.append(
            {
                "Sid": ALARM_POLICY_SID,
                "Effect": "Allow",
                "Principal": {"Service": f"cloudwatch.{suffix}"},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"ArnEquals": {"aws:SourceArn": alarm}},
            }
        )
    return found


def trust_policy(partition: str) -> dict[str, object]:
    """Only EventBridge may assume the forwarding role."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": f"events.{suffix}"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def forwarding_policy(home_bus: str) -> dict[str, object]:
    """The forwarding role may put events on the home region's default bus, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": home_bus}],
    }


def policy_document(text: Any) -> dict[str, Any]:
    """A policy document as AWS answers it (JSON text, URL-encoded by IAM), or empty."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text:
        return {}
    for candidate in (text, unquote(text)):
        try:
            loaded = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(loaded, dict):
            return loaded
    return {}
