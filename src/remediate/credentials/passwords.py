"""Passwords for a new IAM user: the password policy they must meet (AWS's default or the
account's own), a generated one that meets any, and the check of one a person chose."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediate.core.errors import InputError

IAM_SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
MAX_PASSWORD_LENGTH = 128  # IAM's hard limit, whatever the account policy says

_TYPE_NAMES = ("uppercase", "lowercase", "numbers", f"symbols {IAM_SYMBOLS}")
_TYPE_ALPHABETS = (string.ascii_uppercase, string.ascii_lowercase, string.digits, IAM_SYMBOLS)


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules a new IAM user password must meet (AWS default or the account's own policy)."""

    minimum_length: int = 8
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    # AWS's default policy (no account policy set): length >= 8 and 3 of the 4 character types.
    min_character_types: int = 3
    source: str = "AWS default password policy"

    @classmethod
    def from_aws(cls, policy: Mapping[str, Any] | None) -> PasswordPolicy:
        """Build from iam:GetAccountPasswordPolicy's "PasswordPolicy" dict; None -> AWS default."""
        if policy is None:
            return cls()
        return cls(
            # 6 is what IAM applies when an account policy leaves the length unset.
            minimum_length=int(policy.get("MinimumPasswordLength", 6)),
            require_symbols=bool(policy.get("RequireSymbols", False)),
            require_numbers=bool(policy.get("RequireNumbers", False)),
            require_uppercase=bool(policy.get("RequireUppercaseCharacters", False)),
            require_lowercase=bool(policy.get("RequireLowercaseCharacters", False)),
            # An account policy replaces the default one, "3 of 4 types" rule included.
            min_character_types=0,
            source="account password policy",
        )


AWS_DEFAULT_POLICY = PasswordPolicy()


def generate_password(policy: PasswordPolicy, length: int = 24) -> str:
    """A random password with every character type, so it satisfies any IAM password policy."""
    # At least 4 so one character of each type fits; at most IAM's limit.
    size = min(max(length, policy.minimum_length, len(_TYPE_ALPHABETS)), MAX_PASSWORD_LENGTH)
    alphabet = "".join(_TYPE_ALPHABETS)
    chars = [secrets.choice(group) for group in _TYPE_ALPHABETS]
    chars += [secrets.choice(alphabet) for _ in range(size - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def check_password(password: str, policy: PasswordPolicy) -> None:
    """Raise InputError naming every unmet rule; the message never contains the password."""
    iam_problems: list[str] = []
    if len(password) > MAX_PASSWORD_LENGTH:
        iam_problems.append(f"at most {MAX_PASSWORD_LENGTH} characters (has {len(password)})")
    bad = next((i for i, ch in enumerate(password) if not "\x21" <= ch <= "\x7e"), None)
    if bad is not None:
        # The position helps find the culprit without echoing any part of the secret.
        iam_problems.append(
            "only printable ASCII without spaces (0x21-0x7E), "
            f"but character {bad + 1} is a space, control or non-ASCII character"
        )

    present = [any(ch in group for ch in password) for group in _TYPE_ALPHABETS]
    upper, lower, number, symbol = present
    policy_problems: list[str] = []
    if len(password) < policy.minimum_length:
        policy_problems.append(f"at least {policy.minimum_length} characters (has {len(password)})")
    for required, ok, name in (
        (policy.require_uppercase, upper, "an uppercase letter"),
        (policy.require_lowercase, lower, "a lowercase letter"),
        (policy.require_numbers, number, "a number"),
        (policy.require_symbols, symbol, f"a symbol ({IAM_SYMBOLS})"),
    ):
        if required and not ok:
            policy_problems.append(f"needs {name}")
    if sum(present) < policy.min_character_types:
        policy_problems.append(
            f"at least {policy.min_character_types} of the 4 character types "
            f"(has {sum(present)}): {', '.join(_TYPE_NAMES)}"
        )

    parts = []
    if iam_problems:
        parts.append("IAM's limits: " + ", ".join(iam_problems))
    if policy_problems:
        parts.append(f"the {policy.source}: " + ", ".join(policy_problems))
    if parts:
        raise InputError(
            "Password rejected by " + "; and by ".join(parts) + ".",
            tip="Choose a password that meets these rules, or omit it to have one generated.",
        )
