"""What the sandbox adds to moto's SNS and EventBridge so root-activity watching can be tried
and tested end to end: e-mail subscriptions pending until confirmed, and rules that deliver to
SNS topics.

- SNS keeps an e-mail subscription pending until its recipient confirms (Subscribe answers
  ``pending confirmation``, ListSubscriptionsByTopic lists ``PendingConfirmation`` for its ARN,
  SNS developer guide); moto confirms it at once. :func:`confirm_email` stands for the recipient
  following the link.
- EventBridge delivers to an SNS target (the target's input, transformed, is the message); moto
  5.2 delivers to SQS, CloudWatch Logs, archives and event buses but raises for SNS. The sandbox
  publishes to the topic, and moto's SNS carries it on to SQS subscriptions. Not emulated: the
  topic policy's check that EventBridge may publish (moto enforces no resource policy).
"""

from __future__ import annotations

import json
import threading
from typing import Any

EMAIL_PROTOCOLS = frozenset({"email", "email-json"})
PENDING = "PendingConfirmation"
_PENDING_FLAG = "remediate_sandbox_pending"
_lock = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _pending_email_subscriptions()
        _deliver_to_sns_targets()
        _installed = True


def _pending_email_subscriptions() -> None:
    from moto.core.responses import ActionResult
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse

    original_subscribe: Any = SNSBackend.subscribe

    def subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = original_subscribe(self, topic_arn, endpoint, protocol)
        if existing is None and protocol in EMAIL_PROTOCOLS:
            setattr(subscription, _PENDING_FLAG, True)
            subscription.attributes["PendingConfirmation"] = "true"
        return subscription

    original_response: Any = SNSResponse.subscribe

    def subscribe_response(self: Any) -> Any:
        result: Any = original_response(self)
        arn = result.result["SubscriptionArn"]
        found = self.backend.subscriptions.get(arn)
        returned = str(self._get_param("ReturnSubscriptionArn", "false")).lower() == "true"
        if found is not None and getattr(found, _PENDING_FLAG, False) and not returned:
            result.result["SubscriptionArn"] = "pending confirmation"
        return result

    def listed(subscriptions: Any) -> list[dict[str, str]]:
        return [
            {
                "SubscriptionArn": PENDING if getattr(s, _PENDING_FLAG, False) else s.arn,
                "Owner": s.owner,
                "Protocol": s.protocol,
                "Endpoint": s.endpoint,
                "TopicArn": s.topic.arn,
            }
            for s in subscriptions
        ]

    def list_subscriptions_by_topic(self: Any) -> Any:
        subscriptions, token = self.backend.list_subscriptions_by_topic(
            self._get_param("TopicArn"), next_token=self._get_param("NextToken")
        )
        return ActionResult({"Subscriptions": listed(subscriptions), "NextToken": token})

    def list_subscriptions(self: Any) -> Any:
        subscriptions, token = self.backend.list_subscriptions(
            next_token=self._get_param("NextToken")
        )
        return ActionResult({"Subscriptions": listed(subscriptions), "NextToken": token})

    setattr(SNSBackend, "subscribe", subscribe)  # noqa: B010
    setattr(SNSResponse, "subscribe", subscribe_response)  # noqa: B010
    setattr(SNSResponse, "list_subscriptions_by_topic", list_subscriptions_by_topic)  # noqa: B010
    setattr(SNSResponse, "list_subscriptions", list_subscriptions)  # noqa: B010


def confirm_email(account_id: str, region: str, endpoint: str) -> int:
    """The recipient confirms: every pending e-mail subscription of ``endpoint`` is confirmed.
    Returns how many were."""
    from moto.sns.models import sns_backends

    confirmed = 0
    for s in sns_backends[account_id][region].subscriptions.values():
        if s.endpoint == endpoint and getattr(s, _PENDING_FLAG, False):
            setattr(s, _PENDING_FLAG, False)
            s.attributes["PendingConfirmation"] = "false"
            confirmed += 1
    return confirmed


def _deliver_to_sns_targets() -> None:
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser
    from moto.sns.models import sns_backends
    from moto.utilities.arns import parse_arn

    original: Any = Rule.send_to_targets
    swap = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        sns = [t for t in self.targets if parse_arn(t["Arn"]).service == "sns"]
        for target in sns:
            transformer = target.get("InputTransformer", {})
            event = EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=original_event,
            )
            message = event if isinstance(event, str) else json.dumps(event)
            arn = parse_arn(target["Arn"])
            sns_backends[arn.account][arn.region].publish(message, arn=target["Arn"])
        if len(sns) == len(self.targets):
            return
        with swap:
            every = self.targets
            self.targets = [t for t in every if t not in sns]
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = every

    setattr(Rule, "send_to_targets", send_to_targets)  # noqa: B010
