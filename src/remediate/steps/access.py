"""What a step kind may do in IAM, declared once: a table of actions on the resources they touch,
from which both its ``permissions`` and the grants of `remediate permissions` come."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# The Resource of an action IAM cannot scope to a resource (the credential report, the account's
# password policy, listing virtual MFA devices): the only value IAM accepts for it.
ANY_RESOURCE = "*"

# A policy condition: operator -> condition key -> value ({"ArnEquals": {"iam:PolicyARN": ARN}}).
Condition = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Arns:
    """The ARNs of one account's IAM resources, as a policy names them. ``account`` is ``*``
    when the policy is for any account; a name may be ``*`` too (a playbook variable not given),
    so a wildcard only ever stands inside its resource type (``user/*``, never ``*``)."""

    partition: str
    account: str = "*"

    def _arn(self, resource_type: str, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{resource_type}/{name}"

    def user(self, name: str) -> str:
        return self._arn("user", name)

    def group(self, name: str) -> str:
        return self._arn("group", name)

    def mfa(self, name: str) -> str:
        """A virtual MFA device by its name (the serial number of a virtual device is its ARN)."""
        return self._arn("mfa", name)


@dataclass(frozen=True)
class Grant:
    """IAM actions a step needs, on the resources they touch (``(ANY_RESOURCE,)`` for actions
    IAM does not scope), under an optional policy condition."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Condition | None = None


# Each is given a step's parameters (its frozen ``with:`` dataclass) and the account's ARNs.
Resource = Callable[[Any, Arns], str]
ConditionOf = Callable[[Any, Arns], Condition]


def _always(args: Any) -> bool:
    return True


@dataclass(frozen=True)
class Access:
    """IAM actions a step kind needs on the resource ``on`` names for a step's parameters, under
    the condition ``condition`` gives (if any), when ``needed`` says the step's parameters call
    for them (a group that must exist already is never created)."""

    actions: tuple[str, ...]
    on: Resource
    condition: ConditionOf | None = None
    needed: Callable[[Any], bool] = _always

    def grant(self, args: Any, arns: Arns) -> Grant:
        condition = self.condition(args, arns) if self.condition is not None else None
        return Grant(self.actions, (self.on(args, arns),), condition)


class NamesUser(Protocol):
    @property
    def user(self) -> str: ...


class NamesGroup(Protocol):
    @property
    def group(self) -> str: ...


def anywhere(args: object, arns: Arns) -> str:
    """For actions IAM (or Organizations) scopes to no resource."""
    return ANY_RESOURCE


def the_user(args: NamesUser, arns: Arns) -> str:
    """The IAM user the step's ``user`` names."""
    return arns.user(args.user)


def the_group(args: NamesGroup, arns: Arns) -> str:
    """The IAM group the step's ``group`` names."""
    return arns.group(args.group)


def the_users_device(args: NamesUser, arns: Arns) -> str:
    """The virtual MFA device named after the step's ``user`` (its only name: see virtual_mfa)."""
    return arns.mfa(args.user)


def only_policy(policy_arn: Callable[[Any, Arns], str]) -> ConditionOf:
    """The condition that keeps an attach or detach action, which IAM scopes to the principal
    only, to the one policy ``policy_arn`` names (not IAMFullAccess, not a policy of one's own)."""

    def condition(args: Any, arns: Arns) -> Condition:
        arn = policy_arn(args, arns)
        operator = "ArnLike" if "*" in arn else "ArnEquals"
        return {operator: {"iam:PolicyARN": arn}}

    return condition
