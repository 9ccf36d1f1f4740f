"""CloudTrail's event history, emulated in moto's server (in-process): ``cloudtrail:LookupEvents``.

moto has no LookupEvents. This module answers it from events seeded per account and region,
each a CloudTrail record shaped as the CloudTrail user guide documents it
(:mod:`remediate.sandbox.cloudtrail_events`). The answer is serialized by moto from botocore's
model of CloudTrail, as AWS's would be parsed. What it keeps of the real service:

- the lookup attributes (at most one; ``Username`` is ``root`` for the root user, the user name
  of an IAM user, the session name of an assumed role), the time range, newest first, pages of
  at most ``MaxResults`` (1-50, default 50) and a ``NextToken`` valid only with the same
  parameters;
- the documented limit of two requests per second per account and region, as a token bucket
  (two tokens, two a second; the product's own :class:`remediate.core.ratelimit.TokenBucket`,
  which refuses here where the client waits): beyond it, ``ThrottlingException``;
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
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, TypedDict

from remediate.core.clock import utc
from remediate.core.ratelimit import RateLimiter
from remediate.sandbox.cloudtrail_events import CloudTrailRecord

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
# The limit as the emulator reads CloudTrail's documentation, written apart from the client's
# (remediate.core.ratelimit.LOOKUP_RATE) so that the test of the client has an independent oracle.
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


class LookupEvent(TypedDict):
    """One of LookupEvents' ``Events``, as botocore's model of CloudTrail names its members."""

    EventId: str
    EventName: str
    ReadOnly: str
    AccessKeyId: NotRequired[str]
    EventTime: datetime
    EventSource: str
    Username: str
    Resources: list[object]
    CloudTrailEvent: str


class LookupAnswer(TypedDict):
    Events: list[LookupEvent]
    NextToken: NotRequired[str]


def _limiter() -> RateLimiter:
    return RateLimiter(LIMIT_PER_SECOND, BURST)


_lock = threading.Lock()
_events: dict[tuple[str, str], list[CloudTrailRecord]] = {}
_buckets = _limiter()
_stats: dict[str, int] = {"requests": 0, "throttled": 0}
_installed = False


# --- state -----------------------------------------------------------------------------------


def add_events(account_id: str, records: Iterable[CloudTrailRecord]) -> None:
    """Record events in the account's event history, each in its record's ``awsRegion``."""
    with _lock:
        for record in records:
            _events.setdefault((account_id, str(record["awsRegion"])), []).append(record)


def clear() -> None:
    """Forget every event, every rate-limit bucket and the counters."""
    global _buckets
    with _lock:
        _events.clear()
        _buckets = _limiter()
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
        if not _buckets.bucket(account_id, region).take():
            _stats["throttled"] += 1
            return False
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


def username(record: CloudTrailRecord) -> str:
    """The ``Username`` event history shows (and looks up) for a record."""
    identity = record.get("userIdentity")
    if not identity:
        return ""
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1]
    return str(identity.get("userName") or identity.get("principalId") or "")


def _attribute(record: CloudTrailRecord, key: str) -> str | None:
    identity = record.get("userIdentity")
    values = {
        "EventId": record.get("eventID"),
        "EventName": record.get("eventName"),
        "ReadOnly": str(record.get("readOnly")).lower(),
        "Username": username(record),
        "EventSource": record.get("eventSource"),
        "AccessKeyId": (identity.get("accessKeyId") if identity else None) or None,
    }
    value = values.get(key)
    return None if value is None else str(value)


def _token(params: Mapping[str, object], offset: int) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return base64.urlsafe_b64encode(f"{offset}:{digest[:16]}".encode()).decode()


def _offset(token: str, params: Mapping[str, object]) -> int | None:
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

    def when(record: CloudTrailRecord) -> datetime:
        return _time(record["eventTime"], now)

    matching = [
        r
        for r in records
        if start <= when(r) <= end and (key is None or _attribute(r, key) == value)
    ]
    matching.sort(key=when, reverse=True)
    page = matching[offset : offset + size]
    answer: LookupAnswer = {"Events": [_event(r, when(r)) for r in page]}
    if offset + size < len(matching):
        answer["NextToken"] = _token(params, offset + size)
    return ActionResult(answer)


def _event(record: CloudTrailRecord, when: datetime) -> LookupEvent:
    """A record as LookupEvents lists it (moto serializes the members in the model's order)."""
    event: LookupEvent = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record.get("readOnly")).lower(),
        "EventTime": when,
        "EventSource": record["eventSource"],
        "Username": username(record),
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }
    access_key = record["userIdentity"].get("accessKeyId")
    if access_key:
        event["AccessKeyId"] = access_key
    return event


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
