"""`remediate permissions --watch` (issue 23, point 4): the operator's policy names the rules,
topic and role a run uses, holds no service wildcard, passes the forwarding role to EventBridge
only and never writes it; the role's writes are the administrator's, printed alone."""

from __future__ import annotations

import json
from typing import Any

from support.iampolicy import Request, allows, statements_of

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/RemediateRootActivityForwarding"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:remediate-root-activity"
RULE = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/remediate-root-activity-forward"
ROLE_WRITES = ("iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:TagRole")
# What the administrator's part writes: the role as created, never its trust changed after.
ADMIN_WRITES = ("iam:CreateRole", "iam:PutRolePolicy", "iam:TagRole")


def _policy(cli: Any, *args: str) -> dict[str, Any]:
    r = cli("permissions", "--watch", *args, "--account", ACCOUNT)
    assert r.code == 0, r.err
    return dict(json.loads(r.out))


def test_no_service_wildcards(cli: Any) -> None:
    document = _policy(cli, "--cis-alarm")
    actions = [a for s in statements_of(document) for a in s["Action"]]
    for wildcard in ("events:*", "sns:*", "logs:*", "cloudwatch:*", "iam:*"):
        assert wildcard not in actions
    assert not any("*" in a for a in actions)


def test_the_operator_passes_the_role_to_eventbridge_only_and_never_writes_it(cli: Any) -> None:
    document = _policy(cli)
    to = {"iam:PassedToService": "events.amazonaws.com"}
    assert allows(document, Request("iam:PassRole", ROLE, to))
    for service in ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"):
        assert not allows(document, Request("iam:PassRole", ROLE, {"iam:PassedToService": service}))
    other = f"arn:aws:iam::{ACCOUNT}:role/Admin"
    assert not allows(document, Request("iam:PassRole", other, to))
    for action in ROLE_WRITES:
        assert not allows(document, Request(action, ROLE)), action


def test_the_operator_acts_on_the_named_topic_and_rules_only(cli: Any) -> None:
    document = _policy(cli)
    assert allows(document, Request("events:PutTargets", RULE))
    assert allows(document, Request("sns:SetTopicAttributes", TOPIC))
    other_rule = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/someone-elses"
    other_topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    assert not allows(document, Request("events:PutTargets", other_rule))
    assert not allows(document, Request("events:PutRule", other_rule))
    assert not allows(document, Request("sns:SetTopicAttributes", other_topic))
    assert not allows(document, Request("sns:Subscribe", TOPIC, {"sns:Protocol": "https"}))
    assert allows(document, Request("sns:Subscribe", TOPIC, {"sns:Protocol": "email"}))
    # Without --cis-alarm: no alarm, no metric filter.
    assert not allows(
        document, Request("logs:PutMetricFilter", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:x")
    )


def test_the_cis_alarm_adds_its_filter_and_alarm(cli: Any) -> None:
    document = _policy(cli, "--cis-alarm")
    alarm = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:remediate-root-activity"
    assert allows(document, Request("cloudwatch:PutMetricAlarm", alarm))
    assert not allows(
        document,
        Request("cloudwatch:PutMetricAlarm", alarm.replace("remediate-root-activity", "x")),
    )
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:org-trail"
    assert allows(document, Request("logs:PutMetricFilter", group))


def test_the_forwarding_role_is_the_administrators_alone(cli: Any) -> None:
    document = _policy(cli, "--administrative")
    assert not allows(document, Request("iam:UpdateAssumeRolePolicy", ROLE))
    for action in ADMIN_WRITES:
        assert allows(document, Request(action, ROLE)), action
        other = f"arn:aws:iam::{ACCOUNT}:role/Admin"
        assert not allows(document, Request(action, other)), action
    # Never also the operator's PassRole: the two together would let one principal make a role
    # for any service and hand it over.
    assert not allows(
        document, Request("iam:PassRole", ROLE, {"iam:PassedToService": "events.amazonaws.com"})
    )
    assert [
        a for s in statements_of(document) for a in s["Action"] if not a.startswith("iam:")
    ] == []


def test_watch_takes_no_playbook_and_cis_alarm_needs_watch(cli: Any) -> None:
    r = cli("permissions", "--cis-alarm")
    assert r.code == 2
    assert "--cis-alarm adds to --watch's policy" in r.err
    r = cli("permissions", "onboard-user", "--watch")
    assert r.code == 2
    assert "--watch prints what" in r.err
