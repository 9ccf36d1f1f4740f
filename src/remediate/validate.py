"""Input rules for IAM names, tags and variables, checked before any AWS call."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from remediate.errors import InputError

_NAME_CHARS = re.compile(r"[\w+=,.@-]+", re.ASCII)
_TAG_SYMBOLS = frozenset("_.:/=+-@")
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def _tag_chars_ok(text: str) -> bool:
    """AWS's tag pattern ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*``: letters, numbers and separators in any
    script, and ``_.:/=+-@``. Not ``\\s``: tabs, newlines and other control characters are
    whitespace to Python but rejected by IAM (after earlier steps were applied)."""
    return all(unicodedata.category(ch)[0] in "LNZ" or ch in _TAG_SYMBOLS for ch in text)


def _name(kind: str, value: str, limit: int) -> str:
    if not 1 <= len(value) <= limit or not _NAME_CHARS.fullmatch(value):
        raise InputError(
            f"invalid {kind} {value[:80]!r}: use 1-{limit} letters, digits and +=,.@_-",
        )
    return value


def user_name(value: str) -> str:
    """An IAM user name: 1-64 of letters, digits and ``+=,.@_-``."""
    return _name("IAM user name", value, 64)


def group_name(value: str) -> str:
    """An IAM group name: 1-128 of letters, digits and ``+=,.@_-``."""
    return _name("IAM group name", value, 128)


def policy_name(value: str) -> str:
    """An AWS managed policy name (``AdministratorAccess``) or a managed policy ARN."""
    if value.startswith("arn:"):
        if not re.fullmatch(r"arn:aws[\w-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]{1,128}", value):
            raise InputError(f"invalid managed policy ARN {value[:120]!r}")
        return value
    return _name("managed policy name", value, 128)


def tag(key: str, value: str) -> tuple[str, str]:
    """One IAM tag: AWS's lengths and characters; the ``aws:`` prefix is reserved."""
    if not 1 <= len(key) <= MAX_TAG_KEY or not _tag_chars_ok(key):
        raise InputError(
            f"invalid tag key {key[:80]!r}: 1-{MAX_TAG_KEY} letters, digits, spaces and _.:/=+-@"
        )
    if key.lower().startswith("aws:"):
        raise InputError(f"invalid tag key {key[:80]!r}: the aws: prefix is reserved for AWS")
    if len(value) > MAX_TAG_VALUE or not _tag_chars_ok(value):
        raise InputError(
            f"invalid value for tag {key!r}: at most {MAX_TAG_VALUE} letters, digits, spaces "
            "and _.:/=+-@"
        )
    return key, value


def tags(pairs: Mapping[str, str]) -> dict[str, str]:
    """A set of IAM tags: each valid, at most 50."""
    if len(pairs) > MAX_TAGS:
        raise InputError(f"too many tags: {len(pairs)} (IAM allows at most {MAX_TAGS})")
    return dict(tag(k, v) for k, v in pairs.items())


def key_value(text: str, option: str) -> tuple[str, str]:
    """``KEY=VALUE`` from a command-line option such as ``--tag`` or ``--var``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InputError(f"invalid {option} {text[:80]!r}: expected KEY=VALUE")
    return key, value


def tag_options(texts: Iterable[str]) -> dict[str, str]:
    """Repeated ``--tag KEY=VALUE`` options as a validated tag set (a later key wins)."""
    pairs: dict[str, str] = {}
    for text in texts:
        key, value = key_value(text, "--tag")
        pairs[key] = value
    return tags(pairs)


FORMATS = {
    "iam-user-name": user_name,
    "iam-group-name": group_name,
    "managed-policy": policy_name,
}
