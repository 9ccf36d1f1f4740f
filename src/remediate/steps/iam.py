"""What the IAM step kinds share: creating an entity once, managed policy ARNs, tags compared as
IAM compares them, remediate's own tag on what it creates, login profiles and sign-in URLs.

Written for real IAM, which answers late and loses answers: a create that finds its entity
already there goes on as if it had made it; "no such entity" about something this run just
created or saw is waited out; creates that must happen once (a login profile, an access key) are
never resent blindly, and after a lost answer the step looks before it tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call_or_none
from remediate.aws.errors import ALREADY_EXISTS
from remediate.core.errors import AwsError

if TYPE_CHECKING:
    from remediate.steps.base import EntityKind, StepContext

# Creates are retried this many times after an answer was lost (each try looks first).
MAX_CREATE_TRIES = 3

# Every user (and virtual MFA device) remediate creates carries this tag besides its own: a user
# without it is someone else's, and remediate changes it only when told to
# (--adopt-existing-user).
MANAGED_BY_KEY = "remediate:managed-by"
MANAGED_BY_VALUE = "remediate"

_SIGN_IN_DOMAINS = {
    "aws": "signin.aws.amazon.com",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
    "aws-cn": "signin.amazonaws.cn",
}


def managed_policy_arn(policy: str, partition: str) -> str:
    """``AdministratorAccess`` -> ``arn:<partition>:iam::aws:policy/AdministratorAccess``."""
    return policy if policy.startswith("arn:") else f"arn:{partition}:iam::aws:policy/{policy}"


def tag_changes(current: dict[str, str], desired: dict[str, str]) -> dict[str, str]:
    """Tags to add or update so ``current`` holds ``desired``; tags are never removed. Keys
    compare without regard to case, as IAM compares them."""
    by_key = {k.casefold(): v for k, v in current.items()}
    return {k: v for k, v in desired.items() if by_key.get(k.casefold()) != v}


def is_managed(tags: dict[str, str]) -> bool:
    """Whether a user's tags say remediate created (or adopted) it."""
    return any(
        k.casefold() == MANAGED_BY_KEY.casefold() and v == MANAGED_BY_VALUE for k, v in tags.items()
    )


def create_entity(
    ctx: StepContext, kind: EntityKind, name: str, operation: str, **params: Any
) -> None:
    """Create an entity; one that exists already (a concurrent run, a resent request, or a stale
    read in the plan) is the same end state, and later steps learn it was there."""
    try:
        ctx.call(operation, **params)
    except AwsError as exc:
        if exc.code != ALREADY_EXISTS:
            raise
        ctx.found_existing(kind, name)


def console_sign_in_url(account_id: str, partition: str) -> str | None:
    """The account's IAM user sign-in page, where the partition's is documented."""
    domain = _SIGN_IN_DOMAINS.get(partition)
    return f"https://{account_id}.{domain}/console" if domain else None


@dataclass(frozen=True)
class LoginProfile:
    """A user's login profile (console password), as IAM's GetLoginProfile answers: when it was
    created, and whether its password must be reset at the next sign-in."""

    created: datetime | None
    reset_required: bool


def login_profile(ctx: StepContext, user: str) -> LoginProfile | None:
    """The user's login profile, or ``None`` when the user has none."""
    found = call_or_none(ctx.iam, "GetLoginProfile", UserName=user)
    profile = found["LoginProfile"] if found else None
    if not profile:
        return None
    created = profile.get("CreateDate")
    return LoginProfile(
        created if isinstance(created, datetime) else None,
        reset_required=bool(profile.get("PasswordResetRequired")),
    )
