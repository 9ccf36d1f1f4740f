"""CloudTrail's event history, emulated in moto's server (in-process): ``cloudtrail:LookupEvents``.

moto has no LookupEvents. This module answers it from events seeded per account and region,
each a CloudTrail record shaped as the CloudTrail user guide documents it (``userIdentity`` of
type ``Root``, ``IAMUser`` or ``AssumedRole``; a console sign-in's ``additionalEventData.MFAUsed``;
``readOnly``, ``eventType``...). The answer is serialized by moto from botocore's model of
CloudTrail, as AWS's would be parsed. What it keeps of the real service:

- the lookup attributes (at most one; ``Username`` is ``root`` for the root user, the user name
  of an IAM user, the session name of an assumed role), the time range, newest first, pages of
  at most ``MaxResults`` (1-50, default 50) and a ``NextToken`` valid only with the same
  parameters;
- the documented limit of two requests per second per account and region, as a token bucket
  (two tokens, two a second): beyond it, ``ThrottlingException``;
- ``ec2:DescribeRegions`` lists the 17 regions enabled by default in a new account (moto lists
  every partition's regions, opt-in ones included).

It does not emulate data events, Insights events, ``EventCategory`` or resources (no event here
names one, so ``ResourceName`` and ``ResourceType`` match nothing).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from remediate.core.clock import utc

# Regions enabled by default in an account (those launched before March 2019); the others are
# opt-in and, in a new account, not enabled.
DEFAULT_ENABLED_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)
LIMIT_PER_SECOND = 2.0
BURST = 2.0
HISTORY = timedelta(days=90)
LOOKUP_KEYS = frozenset(
    {
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    }
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
AWS_CLI = (
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9"
)
CONSOLE = "AWS Internal"


@dataclass
class _Bucket:
    tokens: float
    last: float


_lock = threading.Lock()
_events: dict[tuple[str, str], list[dict[str, Any]]] = {}
_buckets: dict[tuple[str, str], _Bucket] = {}
_stats: dict[str, int] = {"requests": 0, "throttled": 0}
_installed = False


# --- documented event shapes -----------------------------------------------------------------


def root_identity(
    account_id: str, *, access_key_id: str = "", partition: str = "aws"
) -> dict[str, Any]:
    """``userIdentity`` of a request made with the root user's credentials."""
    return {
        "type": "Root",
        "principalId": account_id,
        "arn": f"arn:{partition}:iam::{account_id}:root",
        "accountId": account_id,
        "accessKeyId": access_key_id,
    }


def iam_user_identity(account_id: str, name: str, *, partition: str = "aws") -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + hashlib.sha256(name.encode()).hexdigest()[:17].upper(),
        "arn": f"arn:{partition}:iam::{account_id}:user/{name}",
        "accountId": account_id,
        "accessKeyId": "AKIA" + hashlib.sha256(name.encode()).hexdigest()[:16].upper(),
        "userName": name,
    }


def assumed_role_identity(
    account_id: str, role: str, session: str, *, partition: str = "aws"
) -> dict[str, Any]:
    role_id = "AROA" + hashlib.sha256(role.encode()).hexdigest()[:17].upper()
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:{partition}:sts::{account_id}:assumed-role/{role}/{session}",
        "accountId": account_id,
        "accessKeyId": "ASIA" + hashlib.sha256(session.encode()).hexdigest()[:16].upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:{partition}:iam::{account_id}:role/{role}",
                "accountId": account_id,
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false", "creationDate": "2019-05-14T08:30:00Z"},
        },
    }


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_id(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))


def console_sign_in(
    account_id: str,
    when: datetime,
    *,
    source_ip: str,
    user_agent: str = FIREFOX,
    mfa_used: bool,
    success: bool = True,
    identity: dict[str, Any] | None = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """A ``ConsoleLogin`` record (event type AwsConsoleSignIn), by root unless ``identity``."""
    identity = identity or root_identity(account_id)
    extra: dict[str, Any] = {
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAUsed": "Yes" if mfa_used else "No",
    }
    if mfa_used:
        extra["MFAIdentifier"] = f"arn:aws:iam::{account_id}:mfa/root-account-mfa-device"
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": _stamp(when),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": extra,
        "eventID": _event_id(account_id, "ConsoleLogin", _stamp(when), source_ip),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if not success:
        record["errorMessage"] = "Failed authentication"
    return record


def api_call(
    account_id: str,
    when: datetime,
    *,
    region: str,
    source: str,
    name: str,
    read_only: bool,
    source_ip: str,
    user_agent: str = AWS_CLI,
    identity: dict[str, Any] | None = None,
    error_code: str | None = None,
    n: int = 0,
) -> dict[str, Any]:
    """An ``AwsApiCall`` record, by root unless ``identity``. ``n`` tells apart calls that are
    otherwise the same."""
    identity = identity or root_identity(account_id)
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": _stamp(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": None,
        "responseElements": None,
        "requestID": _event_id("request", account_id, name, _stamp(when), n),
        "eventID": _event_id(account_id, source, name, region, _stamp(when), n),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if error_code is not None:
        record["errorCode"] = error_code
        record["errorMessage"] = f"{error_code} (emulated)"
    return record


def sandbox_activity(account_id: str, now: datetime) -> list[dict[str, Any]]:
    """What the sandbox account's root did this week, and around it what must be ignored.

    Root signed in to the console with MFA six days ago and deactivated its MFA device; two days
    ago it signed in again from another address, without MFA, and from CloudShell described EC2
    instances in eu-west-1 (more events than fit one page), opened a security group to the world
    and launched an instance. An IAM user named ``root`` (found by the ``Username`` lookup, but
    not the root user) and other identities were busy too; a sign-in 40 days ago is outside a
    7-day window.
    """
    day = timedelta(days=1)
    away = "198.51.100.7"
    here = "203.0.113.10"
    events = [
        console_sign_in(
            account_id, now - 6 * day, source_ip=away, user_agent=CHROME, mfa_used=True
        ),
        api_call(
            account_id,
            now - 6 * day + timedelta(minutes=4),
            region="us-east-1",
            source="iam.amazonaws.com",
            name="DeactivateMFADevice",
            read_only=False,
            source_ip=away,
            user_agent=CONSOLE,
        ),
        console_sign_in(account_id, now - 2 * day, source_ip=here, mfa_used=False),
        console_sign_in(
            account_id,
            now - 2 * day - timedelta(minutes=3),
            source_ip=here,
            mfa_used=False,
            success=False,
        ),
        api_call(
            account_id,
            now - 2 * day + timedelta(minutes=30),
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="AuthorizeSecurityGroupIngress",
            read_only=False,
            source_ip=here,
        ),
        api_call(
            account_id,
            now - 2 * day + timedelta(minutes=31),
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="RunInstances",
            read_only=False,
            source_ip=here,
        ),
        console_sign_in(
            account_id, now - 40 * day, source_ip=away, user_agent=CHROME, mfa_used=True
        ),
    ]
    events += [
        api_call(
            account_id,
            now - 2 * day + timedelta(minutes=5, seconds=20 * i),
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="DescribeInstances",
            read_only=True,
            source_ip=here,
            n=i,
        )
        for i in range(52)
    ]
    alice = iam_user_identity(account_id, "alice")
    impostor = iam_user_identity(account_id, "root")
    role = assumed_role_identity(account_id, "OrganizationAccountAccessRole", "remediate-alice")
    events += [
        console_sign_in(
            account_id, now - day, source_ip="192.0.2.20", mfa_used=True, identity=alice
        ),
        api_call(
            account_id,
            now - day,
            region="us-east-1",
            source="s3.amazonaws.com",
            name="ListBuckets",
            read_only=True,
            source_ip="192.0.2.66",
            identity=impostor,
        ),
        api_call(
            account_id,
            now - 3 * day,
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="TerminateInstances",
            read_only=False,
            source_ip="192.0.2.21",
            identity=role,
        ),
    ]
    return events


def member_activity(account_id: str, name: str, now: datetime) -> list[dict[str, Any]]:
    """The sandbox organization's member accounts: ``dev``'s root access key used yesterday from
    a script; ``prod``'s root signed in with MFA 40 days ago; ``audit``'s root did nothing."""
    day = timedelta(days=1)
    if name == "dev":
        key = f"AKIA{account_id}ROT1"
        identity = root_identity(account_id, access_key_id=key)
        calls = [
            ("sts.amazonaws.com", "GetCallerIdentity", True),
            ("s3.amazonaws.com", "ListBuckets", True),
            ("s3.amazonaws.com", "PutBucketPolicy", False),
        ]
        return [
            api_call(
                account_id,
                now - day + timedelta(minutes=i),
                region="us-east-1",
                source=source,
                name=op,
                read_only=read_only,
                source_ip="192.0.2.44",
                identity=identity,
            )
            for i, (source, op, read_only) in enumerate(calls)
        ]
    if name == "prod":
        return [
            console_sign_in(account_id, now - 40 * day, source_ip="198.51.100.9", mfa_used=True)
        ]
    return []


# --- state -----------------------------------------------------------------------------------


def add_events(account_id: str, records: Iterable[dict[str, Any]]) -> None:
    """Record events in the account's event history, each in its record's ``awsRegion``."""
    with _lock:
        for record in records:
            _events.setdefault((account_id, str(record["awsRegion"])), []).append(record)


def clear() -> None:
    """Forget every event, every rate-limit bucket and the counters."""
    with _lock:
        _events.clear()
        _buckets.clear()
        _stats.update(requests=0, throttled=0)


def stats() -> dict[str, int]:
    """LookupEvents requests answered and refused for exceeding the limit, since :func:`clear`."""
    with _lock:
        return dict(_stats)


# --- LookupEvents ----------------------------------------------------------------------------


def _error(code: str, message: str) -> Any:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def _take_token(account_id: str, region: str) -> bool:
    """The account and region's limit: a token bucket of two, refilled two a second."""
    with _lock:
        _stats["requests"] += 1
        now = time.monotonic()
        bucket = _buckets.setdefault((account_id, region), _Bucket(BURST, now))
        bucket.tokens = min(BURST, bucket.tokens + (now - bucket.last) * LIMIT_PER_SECOND)
        bucket.last = now
        if bucket.tokens < 1:
            _stats["throttled"] += 1
            return False
        bucket.tokens -= 1
        return True


def _time(value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return utc(parsed)


def username(record: Mapping[str, Any]) -> str:
    """The ``Username`` event history shows (and looks up) for a record."""
    identity = record.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1]
    return str(identity.get("userName") or identity.get("principalId") or "")


def _attribute(record: Mapping[str, Any], key: str) -> str | None:
    identity = record.get("userIdentity") or {}
    values = {
        "EventId": record.get("eventID"),
        "EventName": record.get("eventName"),
        "ReadOnly": str(record.get("readOnly")).lower(),
        "Username": username(record),
        "EventSource": record.get("eventSource"),
        "AccessKeyId": identity.get("accessKeyId") or None,
    }
    value = values.get(key)
    return None if value is None else str(value)


def _token(params: Mapping[str, Any], offset: int) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return base64.urlsafe_b64encode(f"{offset}:{digest[:16]}".encode()).decode()


def _offset(token: str, params: Mapping[str, Any]) -> int | None:
    try:
        offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")[0]
        if _token(params, int(offset)) != token:
            return None
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        return None


def _lookup_events(self: Any) -> Any:
    from moto.core.responses import ActionResult

    account_id = str(self.current_account)
    region = str(self.region)
    if not _take_token(account_id, region):
        raise _error("ThrottlingException", "Rate exceeded")
    attributes = self._get_param("LookupAttributes") or []
    if len(attributes) > 1:
        raise _error(
            "InvalidLookupAttributesException",
            "You can specify only one lookup attribute.",
        )
    now = datetime.now(UTC)
    end = _time(self._get_param("EndTime"), now)
    start = _time(self._get_param("StartTime"), now - HISTORY)
    if start > end:
        raise _error("InvalidTimeRangeException", "Start time must be before end time.")
    max_results = self._get_param("MaxResults")
    size = 50 if max_results is None else int(max_results)
    if not 1 <= size <= 50:
        raise _error("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    key = value = None
    if attributes:
        key = str(attributes[0].get("AttributeKey"))
        value = str(attributes[0].get("AttributeValue"))
        if key not in LOOKUP_KEYS:
            raise _error("InvalidLookupAttributesException", f"Invalid AttributeKey: {key}")
    # What the caller gave (not the defaults, which move with the clock): a token is valid
    # only with the same.
    params = {
        "attributes": attributes,
        "start": self._get_param("StartTime"),
        "end": self._get_param("EndTime"),
        "size": max_results,
    }
    offset = 0
    token = self._get_param("NextToken")
    if token:
        found = _offset(str(token), params)
        if found is None:
            raise _error(
                "InvalidNextTokenException",
                "A token is valid only with the parameters it was returned for.",
            )
        offset = found
    with _lock:
        records = list(_events.get((account_id, region), []))

    def when(record: Mapping[str, Any]) -> datetime:
        return _time(record["eventTime"], now)

    matching = [
        r
        for r in records
        if start <= when(r) <= end and (key is None or _attribute(r, key) == value)
    ]
    matching.sort(key=when, reverse=True)
    page = matching[offset : offset + size]
    answer: dict[str, Any] = {
        "Events": [
            {
                "EventId": r["eventID"],
                "EventName": r["eventName"],
                "ReadOnly": str(r.get("readOnly")).lower(),
                **(
                    {"AccessKeyId": r["userIdentity"]["accessKeyId"]}
                    if r["userIdentity"].get("accessKeyId")
                    else {}
                ),
                "EventTime": when(r),
                "EventSource": r["eventSource"],
                "Username": username(r),
                "Resources": [],
                "CloudTrailEvent": json.dumps(r),
            }
            for r in page
        ]
    }
    if offset + size < len(matching):
        answer["NextToken"] = _token(params, offset + size)
    return ActionResult(answer)


def _describe_regions(self: Any) -> Any:
    """Only the regions enabled by default, as DescribeRegions answers in a new account."""
    from moto.core.responses import ActionResult
    from moto.ec2.models.availability_zones_and_regions import Region

    names = self._get_param("RegionNames", []) or list(DEFAULT_ENABLED_REGIONS)
    regions = [
        Region(name, f"ec2.{name}.amazonaws.com", "opt-in-not-required")
        for name in names
        if name in DEFAULT_ENABLED_REGIONS
    ]
    return ActionResult({"Regions": regions})


def install() -> None:
    """Teach moto (in this process) LookupEvents and the default-enabled regions; idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.cloudtrail.responses import CloudTrailResponse
        from moto.ec2.responses.availability_zones_and_regions import (
            AvailabilityZonesAndRegions,
        )

        setattr(CloudTrailResponse, "lookup_events", _lookup_events)  # noqa: B010
        setattr(AvailabilityZonesAndRegions, "describe_regions", _describe_regions)  # noqa: B010
        _installed = True
