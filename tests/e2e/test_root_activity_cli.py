"""`remediate root-activity watch` and `status` end to end against the emulator (issue 23):
status says not monitored; watch sets it up; a rerun writes nothing; a dry run writes nothing on
the wire; status then says monitored with the subscription pending; a root sign-in put on an
enabled region's bus comes out of an SQS subscription as the message in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from remediate.sandbox.notifications import confirm_email
from support.wire import record_requests, writes

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:remediate-root-activity"


def _status(cli: Any, moto: Any) -> dict[str, str]:
    r = cli("root-activity", "status", "-o", "json", "--endpoint-url", moto.endpoint_url)
    assert r.code == 0, r.err
    [account] = json.loads(r.out)["accounts"]
    return {f["id"]: f["status"] for f in account["findings"]}


def _watch(cli: Any, moto: Any, *args: str) -> Any:
    return cli(
        "root-activity",
        "watch",
        "--notify",
        "sec@example.com",
        *args,
        "--endpoint-url",
        moto.endpoint_url,
    )


def test_status_watch_rerun_and_status_again(cli: Any, moto: Any, monkeypatch: Any) -> None:
    before = _status(cli, moto)
    assert before["root-activity-not-monitored"] == "FAILED"
    assert before["no-multi-region-management-trail"] == "FAILED"

    requests = record_requests(monkeypatch)
    dry = _watch(cli, moto, "--dry-run")
    assert dry.code == 0, dry.err
    assert writes(requests) == []
    assert "remediate-root-sign-in" in dry.out + dry.err
    # No trail: the plan says API calls are not covered.
    assert "root's API calls do not reach EventBridge" in dry.out + dry.err

    first = _watch(cli, moto, "--yes")
    assert first.code == 0, first.err
    assert "confirmation e-mail" in first.out + first.err
    assert writes(requests), "the first run changes the account"

    requests.clear()
    again = _watch(cli, moto, "--yes")
    assert again.code == 0, again.err
    assert writes(requests) == []
    assert "Nothing needs changing" in again.out + again.err

    after = _status(cli, moto)
    assert after["root-activity-not-monitored"] == "PASSED"
    assert after["root-activity-subscription-pending"] == "FAILED"
    confirm_email(ACCOUNT, "us-east-1", "sec@example.com")
    assert _status(cli, moto)["root-activity-subscription-pending"] == "PASSED"


def test_what_watch_leaves_in_the_account(cli: Any, moto: Any) -> None:
    assert _watch(cli, moto, "--yes").code == 0
    sns = moto.client("sns")
    tags = sns.list_tags_for_resource(ResourceArn=TOPIC)["Tags"]
    assert {"Key": "remediate:managed-by", "Value": "remediate"} in tags
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])
    [ours] = [s for s in policy["Statement"] if s.get("Sid") == "RemediateRootActivityPublish"]
    assert ours["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(ours["Condition"]["ArnEquals"]["aws:SourceArn"]) == [
        f"arn:aws:events:us-east-1:{ACCOUNT}:rule/remediate-root-api-call",
        f"arn:aws:events:us-east-1:{ACCOUNT}:rule/remediate-root-sign-in",
    ]
    events = moto.client("events")
    rule = events.describe_rule(Name="remediate-root-sign-in")
    assert rule["State"] == "ENABLED"
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail"] == {"userIdentity": {"type": ["Root"]}}
    assert set(pattern["detail-type"]) == {
        "AWS Console Sign In via CloudTrail",
        "AWS Console Signin via CloudTrail",
    }
    import boto3

    west = boto3.client("events", region_name="eu-west-1", endpoint_url=moto.endpoint_url)
    [target] = west.list_targets_by_rule(Rule="remediate-root-activity-forward")["Targets"]
    assert target["Arn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    assert target["RoleArn"].endswith(":role/RemediateRootActivityForwarding")
    iam = moto.client("iam")
    trust = iam.get_role(RoleName="RemediateRootActivityForwarding")["Role"]
    assert trust["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "events.amazonaws.com"
    }


def _sign_in(ip: str) -> dict[str, Any]:
    return {
        "Source": "aws.signin",
        "DetailType": "AWS Console Sign In via CloudTrail",
        "Detail": json.dumps(
            {
                "eventVersion": "1.08",
                "userIdentity": {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"},
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "signin.amazonaws.com",
                "eventName": "ConsoleLogin",
                "sourceIPAddress": ip,
                "userAgent": "Mozilla/5.0",
                "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {"MFAUsed": "No"},
                "eventType": "AwsConsoleSignIn",
            }
        ),
    }


def test_a_root_sign_in_in_another_region_reaches_a_subscriber(cli: Any, moto: Any) -> None:
    import boto3

    assert _watch(cli, moto, "--yes").code == 0
    sqs = moto.client("sqs")
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    moto.client("sns").subscribe(
        TopicArn=TOPIC,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    # Signed in through a regional sign-in endpoint: recorded in eu-west-1, forwarded home.
    west = boto3.client("events", region_name="eu-west-1", endpoint_url=moto.endpoint_url)
    answer = west.put_events(Entries=[_sign_in("203.0.113.7")])
    assert answer["FailedEntryCount"] == 0
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    [message] = [m["Body"] for m in messages]
    assert "Root user console sign-in (Success)" in message
    assert f"AWS account {ACCOUNT}" in message
    assert "from 203.0.113.7" in message
    assert "MFA used: No" in message
    assert "userIdentity" not in message  # words, not the raw event


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "say who is told"),
        (("--notify", "not-an-address"), "invalid --notify"),
        (("--topic-arn", "arn:aws:sqs:us-east-1:123456789012:q"), "invalid --topic-arn"),
        (
            ("--topic-arn", f"{TOPIC}x", "--all-accounts"),
            "--topic-arn names one account's topic",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    cli: Any, moto: Any, monkeypatch: Any, args: tuple[str, ...], message: str
) -> None:
    requests = record_requests(monkeypatch)
    r = cli("root-activity", "watch", *args, "--endpoint-url", moto.endpoint_url)
    assert r.code == 2, r.err
    assert message in r.err
    assert requests == []


def test_cis_alarm_is_refused_without_a_trail_to_cloudwatch_logs(
    cli: Any, moto: Any, monkeypatch: Any
) -> None:
    requests = record_requests(monkeypatch)
    r = _watch(cli, moto, "--cis-alarm", "--yes")
    assert r.code == 2, r.err
    assert "--cis-alarm needs a multi-region trail" in r.err
    assert writes(requests) == []


def test_cis_alarm_on_a_multi_region_trail(cli: Any, moto: Any) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="trail-logs")
    logs = moto.client("logs")
    logs.create_log_group(logGroupName="org-trail")
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:org-trail:*"
    trail = moto.client("cloudtrail")
    trail.create_trail(
        Name="org-trail",
        S3BucketName="trail-logs",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail",
    )
    # A new trail logs management events (CloudTrail's default basic selector); moto answers
    # GetEventSelectors with none, so the fixture sets the default AWS gives.
    trail.put_event_selectors(
        TrailName="org-trail",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    trail.start_logging(Name="org-trail")
    r = _watch(cli, moto, "--cis-alarm", "--yes")
    assert r.code == 0, r.err
    [metric_filter] = logs.describe_metric_filters(logGroupName="org-trail")["metricFilters"]
    assert metric_filter["filterPattern"] == (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
        '$.eventType != "AwsServiceEvent" }'
    )
    [alarm] = moto.client("cloudwatch").describe_alarms(AlarmNames=["remediate-root-activity"])[
        "MetricAlarms"
    ]
    assert alarm["AlarmActions"] == [TOPIC]
    assert (alarm["Threshold"], alarm["Period"], alarm["Statistic"]) == (1.0, 300, "Sum")
    status = _status(cli, moto)
    assert status["no-multi-region-management-trail"] == "PASSED"
    assert _watch(cli, moto, "--cis-alarm", "--yes").code == 0


@pytest.mark.parametrize(
    "command",
    [("root-activity",), ("root-activity", "watch"), ("root-activity", "status")],
)
def test_help_fits_80_columns_with_examples(
    cli: Any, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = cli(*command, "--help")
    assert r.code == 0, r.err
    assert all(len(line) <= 80 for line in r.out.splitlines())
    if len(command) == 2:
        assert "Exit codes:" in r.out
        examples = [ln for ln in r.out.splitlines() if ln.strip().startswith("remediate ")]
        assert 2 <= len(examples) <= 4, examples
    else:
        assert "watch" in r.out
        assert "status" in r.out


def test_status_imports_its_findings_into_security_hub(cli: Any, moto: Any) -> None:
    from remediate.sandbox import securityhub as sandbox_securityhub

    sandbox_securityhub.enable(ACCOUNT, "us-east-1")
    r = cli("root-activity", "status", "--security-hub", "--endpoint-url", moto.endpoint_url)
    assert r.code == 0, r.err
    found = moto.client("securityhub").get_findings()["Findings"]
    by_id = {f["Id"]: f["Compliance"]["Status"] for f in found}
    assert by_id[f"remediate/{ACCOUNT}/root-activity-not-monitored"] == "FAILED"
    assert f"remediate/{ACCOUNT}/root-activity-subscription-pending" in by_id


def test_a_later_run_without_the_cis_alarm_keeps_its_topic_statement() -> None:
    from remediate.steps.sns_topic import merged_policy

    alarm = {"Sid": "RemediateRootActivityAlarm", "Effect": "Allow"}
    other = {"Sid": "TheirOwn", "Effect": "Allow"}
    ours = {"Sid": "RemediateRootActivityPublish", "Effect": "Allow", "Action": "sns:Publish"}
    stale = {"Sid": "RemediateRootActivityPublish", "Effect": "Allow", "Action": "old"}
    merged = merged_policy({"Statement": [other, alarm, stale]}, [ours])
    assert merged["Statement"] == [other, alarm, ours]


def test_the_journal_names_what_each_write_acted_on(cli: Any, moto: Any) -> None:
    assert _watch(cli, moto, "--yes").code == 0
    r = cli("journal")
    assert r.code == 0, r.err
    assert "EventBridge rule remediate-root-sign-in" in r.out
    assert "SNS topic remediate-root-activity" in r.out
    assert f"SNS topic {TOPIC}" in r.out  # its policy, and the subscription
    assert "role RemediateRootActivityForwarding" in r.out
    assert "sec@example.com" not in r.out  # an address is not a name the journal keeps


def test_a_given_topic_is_adopted_and_its_policy_kept(cli: Any, moto: Any) -> None:
    sns = moto.client("sns")
    theirs = sns.create_topic(Name="alerts")["TopicArn"]
    before = json.loads(sns.get_topic_attributes(TopicArn=theirs)["Attributes"]["Policy"])
    r = cli(
        "root-activity",
        "watch",
        "--topic-arn",
        theirs,
        "--yes",
        "--endpoint-url",
        moto.endpoint_url,
    )
    assert r.code == 0, r.err
    after = json.loads(sns.get_topic_attributes(TopicArn=theirs)["Attributes"]["Policy"])
    assert [s for s in after["Statement"] if s["Sid"] != "RemediateRootActivityPublish"] == before[
        "Statement"
    ]
    assert sns.list_tags_for_resource(ResourceArn=theirs)["Tags"] == []  # not ours to tag
    [target] = moto.client("events").list_targets_by_rule(Rule="remediate-root-sign-in")["Targets"]
    assert target["Arn"] == theirs
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert topics == [theirs]  # none created


def test_someone_elses_topic_of_the_same_name_is_refused(
    cli: Any, moto: Any, monkeypatch: Any
) -> None:
    moto.client("sns").create_topic(Name="remediate-root-activity")
    requests = record_requests(monkeypatch)
    r = _watch(cli, moto, "--yes")
    assert r.code == 2, r.err
    assert "remediate did not create it" in r.err
    assert f"--topic-arn {TOPIC}" in r.err
    assert writes(requests) == []


def test_a_topic_in_another_region_is_refused(cli: Any, moto: Any) -> None:
    other = TOPIC.replace("us-east-1", "eu-west-1")
    r = cli(
        "root-activity", "watch", "--topic-arn", other, "--yes", "--endpoint-url", moto.endpoint_url
    )
    assert r.code == 2, r.err
    assert "EventBridge rules notify a topic of their own region" in r.err


def test_lost_answers_to_creates_leave_one_of_each(cli: Any, moto: Any) -> None:
    from support.faultproxy import FaultProxy, Faults, Rule

    # Each create reached AWS, and its answer was lost: botocore sends it again.
    faults = Faults(
        rules=[Rule("CreateRole", "lose"), Rule("CreateTopic", "lose"), Rule("Subscribe", "lose")]
    )
    with FaultProxy(moto.endpoint_url, faults) as proxy:
        r = _watch(cli, _Endpoint(proxy.endpoint_url), "--yes")
    assert r.code == 0, r.err
    assert [rule.hits for rule in faults.rules] == [1, 1, 1]
    assert faults.operations.count("CreateTopic") == 2  # sent again after the lost answer
    sns = moto.client("sns")
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [TOPIC]
    assert len(sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]) == 1
    again = _watch(cli, moto, "--yes")
    assert "Nothing needs changing" in again.out + again.err


class _Endpoint:
    """Stands in for the `moto` fixture, at another endpoint (the fault proxy)."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
