"""Input rules for IAM names, tags and variables, checked before any AWS call."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from remediate.core.errors import InputError

if TYPE_CHECKING:
    from ipaddress import IPv4Address, IPv6Address

_NAME_CHARS = re.compile(r"[\w+=,.@-]+", re.ASCII)
_ACCOUNT_ID = re.compile(r"[0-9]{12}")  # [0-9], not \d or str.isdigit: those take any script
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
# IAM's policy ARN: an optional path of printable ASCII between slashes, then a policy name.
_POLICY_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/([!-~]*/)?[\w+=,.@-]{1,128}", re.ASCII
)
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
        if not _POLICY_ARN.fullmatch(value):
            raise InputError(f"invalid managed policy ARN {value[:120]!r}")
        return value
    return _name("managed policy name", value, 128)


def customer_policy_name(value: str) -> str:
    """A customer-managed policy name: 1-128 of letters, digits and ``+=,.@_-``."""
    return _name("IAM policy name", value, 128)


def tag(key: str, value: str) -> tuple[str, str]:
    """One IAM tag: AWS's lengths and characters; the ``aws:`` prefix is reserved."""
    if not 1 <= len(key) <= MAX_TAG_KEY or not _tag_chars_ok(key):
        raise InputError(
            f"invalid tag key {key[:80]!r}: 1-{MAX_TAG_KEY} letters, digits, spaces and _.:/=+-@"
        )
    if key.lower().startswith("aws:"):
        raise InputError(f"invalid tag key {key[:80]!r}: the aws: prefix is reserved for AWS")
    if len(value) > MAX_TAG_VALUE:
        raise InputError(
            f"invalid value for tag {key!r}: {len(value)} characters, at most {MAX_TAG_VALUE}"
        )
    if not _tag_chars_ok(value):
        raise InputError(
            f"invalid value for tag {key!r}: use only letters, digits, spaces and _.:/=+-@"
        )
    return key, value


def tags(pairs: Mapping[str, str]) -> dict[str, str]:
    """A set of IAM tags: each valid, at most 50, no key twice (IAM compares keys without
    regard to case: ``Team`` and ``team`` are one tag)."""
    if len(pairs) > MAX_TAGS:
        raise InputError(f"too many tags: {len(pairs)} (IAM allows at most {MAX_TAGS})")
    seen: dict[str, str] = {}
    for key in pairs:
        if key.casefold() in seen:
            raise InputError(
                f"tag keys {seen[key.casefold()]!r} and {key!r} differ only in case: IAM takes "
                "them as one tag"
            )
        seen[key.casefold()] = key
    return dict(tag(k, v) for k, v in pairs.items())


def key_value(text: str, option: str) -> tuple[str, str]:
    """``KEY=VALUE`` from a command-line option such as ``--tag`` or ``--var``."""
    key, sep, value = text.partition("=")
    if not sep:
        raise InputError(f"invalid {option} {text[:80]!r}: expected KEY=VALUE")
    if not key:
        raise InputError(f"invalid {option} {text[:80]!r}: the key before '=' is empty")
    return key, value


def tag_options(texts: Iterable[str]) -> dict[str, str]:
    """Repeated ``--tag KEY=VALUE`` options as a validated tag set (a later key wins)."""
    pairs: dict[str, str] = {}
    for text in texts:
        key, value = key_value(text, "--tag")
        pairs[key] = value
    return tags(pairs)


def is_account_id(value: str) -> bool:
    """Whether ``value`` is an AWS account id: exactly twelve ASCII digits."""
    return _ACCOUNT_ID.fullmatch(value) is not None


def account_id(value: str, option: str) -> str:
    """An AWS account id given with ``option``."""
    if not is_account_id(value):
        raise InputError(f"invalid {option} {value[:40]!r}: expected a 12-digit account id")
    return value


def account_ids(text: str) -> tuple[str, ...]:
    """``--accounts ID,ID,...``: 12-digit account ids, at least one, none twice, in given order."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise InputError("--accounts: no account id given", tip="e.g. --accounts 111122223333")
    seen: set[str] = set()
    for item in items:
        if not item:
            raise InputError(f"--accounts {text[:80]!r}: an empty account id (a stray comma?)")
        if not is_account_id(item):
            raise InputError(f"--accounts: {item[:40]!r} is not an AWS account id (12 digits)")
        if item in seen:
            raise InputError(f"--accounts: account {item} given twice")
        seen.add(item)
    return tuple(items)


# botocore's own check of a region name (botocore.utils.validate_region_name).
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", re.ASCII)


def region(value: str) -> str:
    """``--region``: a region name as botocore accepts one (``us-east-1``)."""
    if not _REGION.fullmatch(value):
        raise InputError(
            f"invalid --region {value[:80]!r}: expected a region name such as us-east-1"
        )
    return value


def endpoint_url(value: str) -> str:
    """``--endpoint-url``: ``http://`` or ``https://``, a host, and a valid port if any."""
    from urllib.parse import urlsplit

    problem = None
    try:
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in ("http", "https"):
            problem = "expected a URL starting with https:// (or http://)"
        elif not parts.hostname:
            problem = "the URL has no host"
        else:
            parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        problem = "the URL's port or host cannot be read"
    if problem is not None:
        raise InputError(
            f"invalid --endpoint-url {value[:120]!r}: {problem}",
            tip="e.g. --endpoint-url https://iam.amazonaws.com, or http://127.0.0.1:PORT for a "
            "local emulator",
        )
    return value


# The hint of every plain-http refusal: what is accepted without the flag.
PLAIN_HTTP_TIP = (
    "use https://, or http://127.0.0.1:PORT (or localhost) for an emulator on this machine, or "
    "pass --allow-insecure-endpoint if that network is trusted"
)


def plain_text_remote(url: str) -> str | None:
    """What ``url`` is plain http to when that is not shown to be this machine (``"another
    machine (192.0.2.1)"``): every request to it, passwords and secret keys included, would
    cross the network in clear text. ``None`` for https, for a loopback address (127.0.0.0/8,
    ::1), and for ``localhost`` and ``*.localhost`` names that resolve here to loopback only.

    botocore resolves a name again when it connects, so what any other name resolves to now
    proves nothing (DNS rebinding, an edited hosts file): such names are refused unlooked-up.
    RFC 6761 reserves ``localhost`` names for loopback; not every resolver keeps to it, hence
    the look-up for them.
    """
    from ipaddress import ip_address
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return None
    host = (parts.hostname or "").rstrip(".")
    try:
        addresses = {ip_address(host)}
    except ValueError:
        name = host.lower()
        if name != "localhost" and not name.endswith(".localhost"):
            return f"{host}, a name other than localhost (it may not stay on this machine)"
        addresses = _resolve(host)
        if not addresses:
            return f"{host}, a name that does not resolve here (so not shown to be this machine)"
    remote = sorted(str(a) for a in addresses if not a.is_loopback)
    return f"another machine ({', '.join(remote[:3])})" if remote else None


def _resolve(host: str) -> set[IPv4Address | IPv6Address]:
    """Every address ``host`` resolves to here (none when it does not resolve)."""
    import socket
    from ipaddress import ip_address

    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        return set()
    # An IPv6 address may carry its zone (fe80::1%eth0).
    return {ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}


def role_name(value: str) -> str:
    """The IAM role to assume in member accounts: 1-64 letters, digits and ``+=,.@_-``."""
    if not _ROLE_NAME.fullmatch(value):
        raise InputError(
            f"invalid --role-name {value[:80]!r}: use 1-64 letters, digits and +=,.@_- "
            "(a role name, not an ARN or a path)"
        )
    return value


def external_id(value: str) -> str:
    """An ``sts:AssumeRole`` external id: 2-1224 letters, digits and ``+=,.@:/-``."""
    if not _EXTERNAL_ID.fullmatch(value):
        raise InputError("invalid --external-id: use 2-1224 letters, digits and +=,.@:/_-")
    return value


# An AWS region name: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-7...
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}", re.ASCII)


def cloudtrail_regions(text: str) -> tuple[str, ...] | None:
    """``--cloudtrail-regions``: ``all`` (None: every enabled region), or region names separated
    by commas, at least one, none twice, in the given order."""
    if text.strip() == "all":
        return None
    items = [item.strip() for item in text.split(",")]
    seen: list[str] = []
    for item in items:
        if not item:
            raise InputError(
                f"--cloudtrail-regions {text[:80]!r}: an empty region (a stray comma?)",
                tip="e.g. --cloudtrail-regions us-east-1,eu-west-1, or all",
            )
        if not _REGION.fullmatch(item):
            raise InputError(
                f"--cloudtrail-regions: {item[:40]!r} is not an AWS region name",
                tip="e.g. --cloudtrail-regions us-east-1,eu-west-1, or all",
            )
        if item in seen:
            raise InputError(f"--cloudtrail-regions: region {item} given twice")
        seen.append(item)
    return tuple(seen)


# AWS Organizations' TargetId: a root, an organizational unit, or an account (botocore's model).
_ORGANIZATION_TARGET = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12}")


def organization_target(value: str, option: str = "--target") -> str:
    """A policy target in AWS Organizations: a root (``r-...``), an OU (``ou-...``) or an account
    id (12 digits)."""
    if not _ORGANIZATION_TARGET.fullmatch(value):
        raise InputError(
            f"invalid {option} {value[:80]!r}: expected a root (r-...), an organizational unit "
            "(ou-...-...) or a 12-digit account id",
            tip="list them with `aws organizations list-roots`, `list-organizational-units-for-"
            "parent` and `list-accounts`",
        )
    return value


def organization_targets(value: str) -> str:
    """Policy targets separated by commas (each :func:`organization_target`, none twice); empty:
    the organization's root."""
    items = [item.strip() for item in value.split(",")] if value else []
    for item in items:
        organization_target(item)
    if len(set(items)) != len(items):
        raise InputError(f"invalid targets {value[:120]!r}: a target is given twice")
    return value


def organizations_policy_name(value: str) -> str:
    """An AWS Organizations policy name: 1-128 characters (remediate's own: letters, digits and
    ``+=,.@_-``)."""
    return _name("AWS Organizations policy name", value, 128)


FORMATS = {
    "iam-user-name": user_name,
    "iam-group-name": group_name,
    "managed-policy": policy_name,
    "iam-policy-name": customer_policy_name,
    "organization-targets": organization_targets,
    "organizations-policy-name": organizations_policy_name,
}
