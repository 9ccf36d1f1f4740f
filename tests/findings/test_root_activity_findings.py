"""Root activity's findings judged from what was read (issue 23, point 2): monitoring counts only
when an enabled rule or alarm reaches a topic with a subscription; API calls count only with a
trail; a pending subscription is its own finding; SCPs are judged by their document."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from remediate.detect.monitoring import Monitoring, Topic, Trail, Watcher, denies_root
from remediate.detect.root_watch import api_call_pattern, forward_pattern, matches_root
from remediate.findings.checks import ROOT_ACTIVITY_CHECKS
from remediate.findings.formats import build
from remediate.findings.root_activity import root_activity_results

ACCOUNT = "111122223333"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:t"
TRAIL = Trail("t", "arn:t", multi_region=True, logging=True, management_events=True)


def _judged(*watchers: Watcher, trails: tuple[Trail, ...] = (TRAIL,)) -> dict[str, str]:
    m = Monitoring(ACCOUNT, "us-east-1", trails, watchers, (), None, "not in an organization")
    return {r.check.id: r.status for r in root_activity_results(m)}


def _rule(*, enabled: bool = True, topic: Topic | None = None, api: bool = True) -> Watcher:
    topics = (topic,) if topic is not None else ()
    return Watcher("rule", "r", enabled, True, api, topics)


CONFIRMED = Topic(TOPIC, True, confirmed=("a@example.com",))
PENDING = Topic(TOPIC, True, pending=("a@example.com",))


@pytest.mark.parametrize(
    ("watcher", "monitored"),
    [
        (_rule(topic=CONFIRMED), "PASSED"),
        (_rule(topic=PENDING), "PASSED"),
        (_rule(enabled=False, topic=CONFIRMED), "FAILED"),
        (_rule(topic=None), "FAILED"),
        (_rule(topic=Topic(TOPIC, True)), "FAILED"),  # a topic nobody subscribes to
        (_rule(topic=Topic(TOPIC, False, confirmed=("a@example.com",))), "FAILED"),
    ],
)
def test_monitoring_counts_only_what_reaches_someone(watcher: Watcher, monitored: str) -> None:
    assert _judged(watcher)["root-activity-not-monitored"] == monitored


def test_pending_subscriptions_are_their_own_finding() -> None:
    assert _judged(_rule(topic=PENDING))["root-activity-subscription-pending"] == "FAILED"
    assert _judged(_rule(topic=CONFIRMED))["root-activity-subscription-pending"] == "PASSED"


def test_without_a_trail_api_calls_are_not_claimed() -> None:
    m = Monitoring(ACCOUNT, "us-east-1", (), (_rule(topic=CONFIRMED),), (), None, "x")
    [monitored, trail, _, _] = root_activity_results(m)
    assert trail.status == "FAILED"
    assert "API calls are not covered" in monitored.description
    assert "console sign-ins" in monitored.description


def test_every_check_has_a_result_and_exports() -> None:
    m = Monitoring(ACCOUNT, "us-east-1", (TRAIL,), (), (), None, "no organization")
    results = root_activity_results(m)
    assert [r.check.id for r in results] == [c.id for c in ROOT_ACTIVITY_CHECKS]
    [asff] = build("asff", results[:1], region="us-east-1", now=datetime.now(UTC))
    assert asff["Id"] == f"remediate/{ACCOUNT}/root-activity-not-monitored"
    assert asff["Compliance"]["Status"] == "FAILED"
    assert build("ocsf", results, region="us-east-1", now=datetime.now(UTC))


@pytest.mark.parametrize(
    ("document", "denies"),
    [
        (
            {
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {"ArnLike": {"aws:PrincipalArn": ["arn:*:iam::*:root"]}},
                    }
                ]
            },
            True,
        ),
        (
            {
                "Statement": {
                    "Effect": "Deny",
                    "Action": ["*"],
                    "Resource": "*",
                    "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
                }
            },
            True,
        ),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, False),
        (
            {
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:*:iam::*:root"}},
                    }
                ]
            },
            False,
        ),
        ({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}, False),
    ],
)
def test_an_scp_denies_root_by_its_document(document: dict[str, object], denies: bool) -> None:
    assert denies_root(json.dumps(document)) is denies


def test_patterns_select_root() -> None:
    assert matches_root(json.dumps(api_call_pattern())) == (False, True)
    assert matches_root(json.dumps(forward_pattern())) == (True, True)
    assert matches_root(json.dumps({"detail": {"userIdentity": {"type": ["Root"]}}})) == (
        True,
        True,
    )
    assert matches_root(json.dumps({"detail-type": ["AWS API Call via CloudTrail"]})) == (
        False,
        False,
    )
    assert matches_root("not json") == (False, False)
