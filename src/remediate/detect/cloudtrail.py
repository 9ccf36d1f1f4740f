"""Root's events looked up in CloudTrail's event history: region by region, page by page, within
the API's rate limit and a bound on the events read (what they show: remediate.detect.activity).

The credential report says *when* a root credential was last used; CloudTrail's event history
(``cloudtrail:LookupEvents``, 90 days, per region) says what was done, from which IP, with which
client. Root's events are looked up with the ``Username`` lookup attribute ``root``, which
CloudTrail's own API reference uses as its example, and each is kept only when its record's
``userIdentity.type`` is ``Root``: an IAM user may be named ``root`` too. The other attributes
select worse: ``EventName`` and ``AccessKeyId`` take one value per lookup (one event name, one
key; a console session signs with temporary keys), ``ReadOnly`` splits every identity's events in
two, and no attribute at all returns every event in the region, root's a needle among them.

LookupEvents is limited to two requests per second per account and region: every request first
takes a token from that account and region's bucket (:class:`RateLimiter`, shared by every thread
of the process), so the limit is kept rather than hit and retried. Pages are read one by one,
newest first, and a region stops after :data:`MAX_EVENTS_PER_REGION` events (then it is marked
truncated). Regions are independent limits, so they are looked up concurrently.

By default every region enabled for the account is read: root's API calls are recorded in the
region they were made in, so one region's history is not root's. A region that cannot be read
(access denied there, unreachable) does not hide the others: it is named, with why, and the
evidence says it is incomplete (``CloudTrailEvidence.complete``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediate.aws.calls import call
from remediate.core.clock import utc
from remediate.core.concurrency import each_concurrently
from remediate.core.errors import AwsError
from remediate.core.ratelimit import RateLimiter, TokenBucket
from remediate.detect.activity import (
    MAX_EVENTS_PER_REGION,
    CloudTrailEvidence,
    LookupFailure,
    RootEvent,
    parse_event,
)

if TYPE_CHECKING:
    from remediate.aws.session import Aws

# The most LookupEvents returns per page.
PAGE_SIZE = 50
# Event history keeps 90 days of management events.
HISTORY_DAYS = 90
# Regions of one account looked up at once: each has its own limit, and a thread spends its
# time waiting for its region's answer or token, so the 17 regions enabled by default go at once.
REGION_CONCURRENCY = 17
ROOT_USERNAME = "root"
# Console sign-ins and global services (IAM, STS's global endpoint) are recorded here.
GLOBAL_EVENTS_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}


def global_events_region(partition: str, fallback: str = "us-east-1") -> str:
    """The region whose event history holds console sign-ins and global services' events."""
    return GLOBAL_EVENTS_REGION.get(partition, fallback)


# Shared by every lookup in this process: two commands run in one process (tests, an embedding
# program) must not together exceed the limit either.
DEFAULT_LIMITER = RateLimiter()


# --- looking up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionLookup:
    """One region's root events (newest first), how many LookupEvents calls it took, whether it
    stopped at the bound with more events left, and (``failure``) why it could not be read."""

    region: str
    events: tuple[RootEvent, ...]
    calls: int
    truncated: bool
    failure: LookupFailure | None = None


def lookup_region(
    client: Any,
    region: str,
    *,
    start: datetime,
    end: datetime,
    bucket: TokenBucket,
    max_events: int = MAX_EVENTS_PER_REGION,
) -> RegionLookup:
    """Root's events in one region between ``start`` and ``end``, page by page (not botocore's
    paginator: every page must wait for its token), at most ``max_events`` read."""
    events: list[RootEvent] = []
    read = calls = 0
    token: str | None = None
    while True:
        params: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": ROOT_USERNAME}],
            "StartTime": start,
            "EndTime": end,
            "MaxResults": PAGE_SIZE,
        }
        if token:
            # CloudTrail wants the same parameters with the token as without.
            params["NextToken"] = token
        bucket.acquire()
        page = call(client, "LookupEvents", **params)
        calls += 1
        for entry in page.get("Events") or []:
            read += 1
            parsed = parse_event(entry, region)
            if parsed is not None:
                events.append(parsed)
        token = page.get("NextToken")
        if not token or read >= max_events:
            events.sort(key=lambda e: e.event_time, reverse=True)
            return RegionLookup(region, tuple(events), calls, truncated=bool(token))


def enabled_regions(aws: Aws) -> list[str]:
    """The regions enabled for the account (``ec2:DescribeRegions`` lists only those unless
    asked for all)."""
    answer = call(aws.client("ec2"), "DescribeRegions")
    return sorted(str(r["RegionName"]) for r in answer.get("Regions") or [])


def regions_to_look_up(aws: Aws, requested: Sequence[str] | None) -> list[str]:
    """The partition's global-events region first (always), then ``requested`` in the given
    order, or (None) every enabled region."""
    first = global_events_region(aws.partition, aws.region)
    listed = enabled_regions(aws) if requested is None else list(requested)
    rest = [r for r in dict.fromkeys(listed) if r != first]
    return [first, *rest]


def plan_regions(
    aws: Aws, requested: Sequence[str] | None
) -> tuple[list[str], LookupFailure | None]:
    """:func:`regions_to_look_up`, and when the enabled regions cannot be listed, the
    global-events region alone with the failure that says the others were not read."""
    try:
        return regions_to_look_up(aws, requested), None
    except AwsError as exc:
        return [global_events_region(aws.partition, aws.region)], LookupFailure.of(None, exc)


def window(now: datetime, days: int) -> tuple[datetime, datetime, tuple[str, ...]]:
    """The lookup window for ``--days``: at most the 90 days event history keeps."""
    notes: tuple[str, ...] = ()
    if days > HISTORY_DAYS:
        notes = (
            f"CloudTrail event history keeps {HISTORY_DAYS} days: root's events were looked up "
            f"for the last {HISTORY_DAYS} days, not {days}.",
        )
    now = utc(now)
    return now - timedelta(days=min(days, HISTORY_DAYS)), now, notes


def look_up_root_activity(
    aws: Aws,
    account_id: str,
    regions: Sequence[str],
    *,
    now: datetime,
    days: int,
    limiter: RateLimiter | None = None,
    max_events: int | None = None,
    concurrency: int = REGION_CONCURRENCY,
    every_enabled: bool = False,
    failures: Sequence[LookupFailure] = (),
) -> CloudTrailEvidence:
    """Root's events in ``regions`` of the account within ``days`` before ``now``; regions
    concurrently, each within its own limit. A region that fails is kept as a failure, named
    with AWS's reason, and the others are read: the evidence says it is incomplete.
    ``failures``: those found before (the enabled regions could not be listed)."""
    limiter = limiter or DEFAULT_LIMITER
    bound = MAX_EVENTS_PER_REGION if max_events is None else max_events
    start, end, notes = window(now, days)

    def one(region: str) -> RegionLookup:
        client = aws.client("cloudtrail", region=region)
        try:
            return lookup_region(
                client,
                region,
                start=start,
                end=end,
                bucket=limiter.bucket(account_id, region),
                max_events=bound,
            )
        except AwsError as exc:
            return RegionLookup(region, (), 0, False, LookupFailure.of(region, exc))

    found = each_concurrently(
        list(regions), one, concurrency=concurrency, name="remediate-cloudtrail"
    )
    order = {region: i for i, region in enumerate(regions)}
    found.sort(key=lambda r: order[r.region])
    events = sorted((e for r in found for e in r.events), key=lambda e: e.event_time, reverse=True)
    truncated = tuple(r.region for r in found if r.truncated)
    if truncated:
        notes += (
            f"CloudTrail: more than {bound} events in {', '.join(truncated)}; "
            "only the newest were read.",
        )
    failed = tuple(failures) + tuple(r.failure for r in found if r.failure is not None)
    return CloudTrailEvidence(
        start=start,
        end=end,
        regions=tuple(regions),
        events=tuple(events),
        truncated_regions=truncated,
        calls=sum(r.calls for r in found),
        notes=notes,
        max_events_per_region=bound,
        failures=failed,
        every_enabled=every_enabled,
    )


def root_activity(
    aws: Aws,
    account_id: str,
    requested: Sequence[str] | None,
    *,
    now: datetime,
    days: int,
    limiter: RateLimiter | None = None,
) -> CloudTrailEvidence:
    """Root's events in the account: in every enabled region (``requested`` None), or in the
    global-events region and those ``requested``. The regions that could not be listed or read
    are named in the evidence, never left out silently."""
    regions, unlisted = plan_regions(aws, requested)
    return look_up_root_activity(
        aws,
        account_id,
        regions,
        now=now,
        days=days,
        limiter=limiter,
        # Without the list, the enabled regions are not known: the others are named as unread.
        every_enabled=requested is None and unlisted is None,
        failures=() if unlisted is None else (unlisted,),
    )
