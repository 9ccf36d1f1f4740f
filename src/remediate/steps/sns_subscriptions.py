"""The sns-email-subscriptions step kind: each address is subscribed to the topic by e-mail.
SNS keeps a new e-mail subscription pending until its recipient follows the link in the
confirmation message: until then nothing reaches them, and the plan and `root-activity status`
say so."""

from __future__ import annotations

from dataclasses import dataclass

from remediate.aws.calls import call, paginate
from remediate.core.errors import AwsError
from remediate.detect.monitoring import PENDING
from remediate.detect.root_watch import TOPIC_NAME, topic_arn
from remediate.steps.access import Access, Arns, Condition
from remediate.steps.base import Change, StepContext
from remediate.steps.kind import Step, register
from remediate.steps.params import param
from remediate.steps.sns_topic import the_topic

_GONE = frozenset({"NotFound", "NotFoundException"})


@dataclass(frozen=True)
class SubscriptionArgs:
    topic: str = param(default=TOPIC_NAME)
    emails: str = param(default="")  # comma-separated


def addresses(text: str) -> list[str]:
    return list(dict.fromkeys(a.strip() for a in text.split(",") if a.strip()))


def _email_only(args: SubscriptionArgs, arns: Arns) -> Condition:
    return {"StringEquals": {"sns:Protocol": "email"}}


@register
class EmailSubscriptionsStep(Step[tuple[str, ...]]):
    """Each address receives the topic's messages by e-mail, once its owner confirms.

    ```yaml
    - id: subscriptions
      kind: sns-email-subscriptions
      with: {topic: remediate-root-activity, emails: "sec@example.com,ops@example.com"}
    ```
    """

    kind = "sns-email-subscriptions"
    args: SubscriptionArgs
    access = (
        Access(("sns:ListSubscriptionsByTopic",), the_topic),
        Access(("sns:Subscribe",), the_topic, _email_only),
    )

    def resource(self, ctx: StepContext) -> str:
        return f"e-mail subscriptions to {self.args.topic}"

    def _arn(self, ctx: StepContext) -> str:
        return topic_arn(
            self.args.topic, partition=ctx.partition, region=ctx.aws.region, account=ctx.account_id
        )

    def plan(self, ctx: StepContext) -> Change[tuple[str, ...]]:
        wanted = addresses(self.args.emails)
        if not wanted:
            return Change(self.resource(ctx), "none")
        arn = self._arn(ctx)
        try:
            subs = paginate(
                ctx.aws.client("sns"), "ListSubscriptionsByTopic", "Subscriptions", TopicArn=arn
            )
        except AwsError as exc:
            if exc.code not in _GONE:
                raise
            subs = []  # the topic is created by this run
        have = {
            str(s.get("Endpoint", "")).casefold(): s for s in subs if s.get("Protocol") == "email"
        }
        missing = tuple(a for a in wanted if a.casefold() not in have)
        pending = [
            a for a in wanted if have.get(a.casefold(), {}).get("SubscriptionArn") == PENDING
        ]
        if not missing:
            details = [f"{a}: subscribed, pending its confirmation" for a in pending]
            return Change(self.resource(ctx), "none", details)
        return Change(
            self.resource(ctx),
            "create",
            [f"subscribe {a} by e-mail" for a in missing],
            state=missing,
            warnings=[
                f"{a} will get a confirmation e-mail from AWS Notifications: nothing reaches it "
                "until it is confirmed (`remediate root-activity status` shows it pending)"
                for a in missing
            ],
        )

    def apply(self, ctx: StepContext, change: Change[tuple[str, ...]]) -> None:
        client = ctx.aws.client("sns")
        for address in change.planned:
            # SNS answers the same subscription for the same endpoint: safe to resend.
            call(client, "Subscribe", TopicArn=self._arn(ctx), Protocol="email", Endpoint=address)
