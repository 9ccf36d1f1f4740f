"""The sandbox's SNS and EventBridge additions (remediate.sandbox.notifications), parsed by
boto3 as AWS answers them: an e-mail subscription pending until its recipient confirms, an SQS
one confirmed at once, and a rule's SNS target receiving the rule's transformed input."""

from __future__ import annotations

import json
from typing import Any

from remediate.sandbox.notifications import PENDING, confirm_email

ACCOUNT = "123456789012"


def test_an_email_subscription_is_pending_until_confirmed(moto: Any) -> None:
    sns = moto.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com")
    assert answer["SubscriptionArn"] == "pending confirmation"
    again = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com")
    assert again["SubscriptionArn"] == "pending confirmation"
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == PENDING
    assert listed["Endpoint"] == "sec@example.com"
    assert confirm_email(ACCOUNT, "us-east-1", "sec@example.com") == 1
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"].startswith(topic + ":")


def test_a_rule_publishes_its_transformed_input_to_a_topic(moto: Any) -> None:
    sns, sqs, events = moto.client("sns"), moto.client("sqs"), moto.client("events")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["test"]}))
    events.put_targets(
        Rule="r",
        Targets=[
            {
                "Id": "t",
                "Arn": topic,
                "InputTransformer": {
                    "InputPathsMap": {"who": "$.detail.who"},
                    "InputTemplate": '"<who> did it"',
                },
            }
        ],
    )
    events.put_events(Entries=[{"Source": "test", "DetailType": "x", "Detail": '{"who": "root"}'}])
    events.put_events(Entries=[{"Source": "other", "DetailType": "x", "Detail": '{"who": "no"}'}])
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    # Without raw delivery, SNS wraps the message in its JSON envelope.
    assert json.loads(message["Body"])["Message"] == "root did it"
