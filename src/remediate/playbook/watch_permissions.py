"""The least-privilege policy for `root-activity watch` and `status` (`remediate permissions
--watch`): the playbook root-activity-watch's grants, scoped to the rules, topic and role a run
names, and status's reads; the forwarding role's writes are an administrator's, printed alone."""

from __future__ import annotations

from collections.abc import Mapping

from remediate.playbook.permissions import (
    PolicyDocument,
    Statement,
    organization_statements,
    playbook_grants,
    security_hub_statements,
    statements,
)
from remediate.steps.access import ANY_RESOURCE, Arns

WATCH_PLAYBOOK = "root-activity-watch"


def status_statements(account: str | None, partition: str = "aws") -> list[Statement]:
    """What `root-activity status` reads: every rule and alarm that may watch root (not only
    remediate's), the topics they notify, the trails, and the service control policies above a
    member account (from the management account). Each on the resource type the Service
    Authorization Reference gives it; ``*`` only where it gives none."""
    who = account or "*"
    org = f"arn:{partition}:organizations::"
    return [
        {
            "Sid": "ListRootActivityWatchers",
            "Effect": "Allow",
            "Action": [
                "cloudtrail:DescribeTrails",
                "ec2:DescribeRegions",
                "events:ListRules",
                "organizations:DescribeOrganization",
                "organizations:ListParents",
            ],
            "Resource": ANY_RESOURCE,
        },
        {
            "Sid": "ReadRootActivityWatchers",
            "Effect": "Allow",
            "Action": [
                "cloudtrail:GetEventSelectors",
                "cloudtrail:GetTrailStatus",
                "cloudwatch:DescribeAlarms",
                "events:DescribeRule",
                "events:ListTargetsByRule",
                "logs:DescribeMetricFilters",
                "sns:ListSubscriptionsByTopic",
            ],
            "Resource": [
                f"arn:{partition}:cloudtrail:*:{who}:trail/*",
                f"arn:{partition}:cloudwatch:*:{who}:alarm:*",
                f"arn:{partition}:events:*:{who}:rule/*",
                f"arn:{partition}:logs:*:{who}:log-group:*",
                f"arn:{partition}:sns:*:{who}:*",
            ],
        },
        {
            "Sid": "ReadServiceControlPolicies",
            "Effect": "Allow",
            "Action": ["organizations:DescribePolicy", "organizations:ListPoliciesForTarget"],
            "Resource": [
                f"{org}*:account/o-*/*",
                f"{org}*:ou/o-*/ou-*",
                f"{org}*:root/o-*/r-*",
                f"{org}*:policy/o-*/service_control_policy/p-*",
                f"{org}aws:policy/service_control_policy/p-*",
            ],
        },
    ]


def watch_policy(
    *,
    cis_alarm: bool = False,
    variables: Mapping[str, str] | None = None,
    account: str | None = None,
    partition: str = "aws",
    security_hub: bool = False,
    organization_role: str | None = None,
    administrative: bool = False,
) -> PolicyDocument:
    """`remediate permissions --watch`: what `root-activity watch` needs (the playbook
    root-activity-watch's steps, scoped to the rules, topic and role a run names) and what
    `root-activity status` reads (and, with ``security_hub``, imports); with
    ``administrative``, the forwarding role's writes alone (an administrator's)."""
    given = dict(variables or {})
    if cis_alarm:
        given["cis_alarm"] = "true"
    arns = Arns(partition, account or "*")
    if administrative:
        _, grants = playbook_grants(WATCH_PLAYBOOK, given, arns, administrative=True)
        return {"Version": "2012-10-17", "Statement": statements(grants, "AdministrativeWatch")}
    _, grants = playbook_grants(WATCH_PLAYBOOK, given, arns)
    document = [*status_statements(account, partition), *statements(grants, "WatchRootActivity")]
    if security_hub:
        # status imports its findings; it never changes a finding's workflow.
        document.extend(security_hub_statements(account, partition, resolve=False)[:1])
    if organization_role is not None:
        document.extend(organization_statements(organization_role, partition))
    return {"Version": "2012-10-17", "Statement": document}
