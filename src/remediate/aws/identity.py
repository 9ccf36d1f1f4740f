"""Who the caller is: ``sts:GetCallerIdentity``'s account and ARN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from remediate.aws.calls import call

if TYPE_CHECKING:
    from remediate.aws.session import Aws


@dataclass(frozen=True)
class Identity:
    """An account and the ARN of the caller in it (a user, an assumed role, or root)."""

    account_id: str
    arn: str

    @property
    def partition(self) -> str:
        """The partition the caller lives in (``aws``, ``aws-cn``, ``aws-eusc``...), from its ARN:
        what AWS says, not a guess from the region."""
        return self.arn.split(":", 2)[1]


def caller_identity(aws: Aws) -> Identity:
    """``sts:GetCallerIdentity`` (needs no permission)."""
    answer = call(aws.sts, "GetCallerIdentity")
    return Identity(str(answer["Account"]), str(answer["Arn"]))
