"""What the root user did, from where, with or without MFA: CloudTrail's event history.

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
evidence says it is incomplete (:attr:`CloudTrailEvidence.complete`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediate.core.clock import utc
from remediate.core.errors import AwsError

if TYPE_CHECKING:
    from remediate.aws.session import Aws
    from remediate.detect.judge import Verdict

# CloudTrail's documented limit for LookupEvents: two requests per second, per account, per region.
LOOKUP_RATE = 2.0
# The most LookupEvents returns per page.
PAGE_SIZE = 50
# Events read per region before stopping: 20 pages, 10 seconds at the limit. Root's own events
# in a week rarely come near; a region that has more is marked truncated (newest events kept).
MAX_EVENTS_PER_REGION = 1000
# Event history keeps 90 days of management events.
HISTORY_DAYS = 90
# Regions of one account looked up at once: each has its own limit, and a thread spends its
# time waiting for its region's answer or token, so the 17 regions enabled by default go at once.
REGION_CONCURRENCY = 17
ROOT_USERNAME = "root"
SIGN_IN_SOURCE = "signin.amazonaws.com"
# Console sign-ins and global services (IAM, STS's global endpoint) are recorded here.
GLOBAL_EVENTS_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}


def global_events_region(partition: str, fallback: str = "us-east-1") -> str:
    """The region whose event history holds console sign-ins and global services' events."""
    return GLOBAL_EVENTS_REGION.get(partition, fallback)


# --- the rate limiter ----------------------------------------------------------------------------


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved up; :meth:`acquire` waits for one.

    Thread-safe: a caller reserves its token under the lock (the count may go below zero: later
    callers queue behind it) and sleeps outside it, so threads sharing a bucket are spaced out
    and none holds the lock while waiting.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, by every caller

    def acquire(self) -> float:
        """Take one token, waiting until it is there; return the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait


class RateLimiter:
    """One :class:`TokenBucket` per account and region, created on first use.

    ``capacity`` 1 spaces requests evenly (one every half second at two a second) instead of
    allowing a burst: a burst of two could reach AWS closer together than it left.
    """

    def __init__(
        self,
        rate: float = LOOKUP_RATE,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, account_id: str, region: str) -> TokenBucket:
        with self._lock:
            key = (account_id, region)
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(
                    self.rate, self.capacity, clock=self._clock, sleep=self._sleep
                )
            return self._buckets[key]


# Shared by every lookup in this process: two commands run in one process (tests, an embedding
# program) must not together exceed the limit either.
DEFAULT_LIMITER = RateLimiter()


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootEvent:
    """One event of the root user, as CloudTrail recorded it (evidence of kind ``cloudtrail``).

    ``mfa_used`` comes from a console sign-in's ``additionalEventData.MFAUsed`` (None where the
    record has none); ``read_only`` from the record (None when it does not say); ``error_code``
    is the record's ``errorCode``, or ``Failure`` for a console sign-in that failed.
    """

    event_time: datetime
    event_name: str
    event_source: str
    region: str
    source_ip: str | None
    user_agent: str | None
    mfa_used: bool | None
    event_id: str
    read_only: bool | None = None
    error_code: str | None = None

    @property
    def action(self) -> str:
        """``iam:DeactivateMFADevice`` for event source ``iam.amazonaws.com``."""
        return f"{self.event_source.split('.', 1)[0]}:{self.event_name}"

    @property
    def is_sign_in(self) -> bool:
        return self.event_source == SIGN_IN_SOURCE and self.event_name == "ConsoleLogin"

    @property
    def is_write(self) -> bool:
        """An action that may have changed something: not read-only (unknown counts as a
        write, to be shown rather than hidden), and not a sign-in."""
        return self.read_only is not True and self.event_source != SIGN_IN_SOURCE

    @property
    def counts_as_use(self) -> bool:
        """Whether the event shows the root user's credentials working: any event but a failed
        console sign-in (a wrong password is an attempt, not a use)."""
        return not (self.is_sign_in and self.error_code is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "cloudtrail",
            "event_time": self.event_time.isoformat(),
            "event_name": self.event_name,
            "event_source": self.event_source,
            "region": self.region,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "mfa_used": self.mfa_used,
            "event_id": self.event_id,
            "read_only": self.read_only,
            "error_code": self.error_code,
        }


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _yes_no(value: object) -> bool | None:
    text = str(value).strip().lower() if value is not None else ""
    return True if text in ("yes", "true") else False if text in ("no", "false") else None


def _when(event: Mapping[str, Any], record: Mapping[str, Any]) -> datetime | None:
    value = event.get("EventTime")
    if isinstance(value, datetime):
        return utc(value)
    text = record.get("eventTime")
    if isinstance(text, str):
        try:
            return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def parse_event(event: Mapping[str, Any], region: str) -> RootEvent | None:
    """One entry of a LookupEvents page as a :class:`RootEvent`, or None when it is not the root
    user's (``userIdentity.type`` is not ``Root``) or cannot be read."""
    raw = event.get("CloudTrailEvent")
    try:
        record = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    identity = record.get("userIdentity")
    if not isinstance(identity, dict) or identity.get("type") != "Root":
        return None
    when = _when(event, record)
    if when is None:
        return None
    extra = record.get("additionalEventData")
    mfa = _yes_no(extra.get("MFAUsed")) if isinstance(extra, dict) else None
    read_only = record.get("readOnly")
    if not isinstance(read_only, bool):
        read_only = _yes_no(event.get("ReadOnly"))
    error = _text(record.get("errorCode"))
    response = record.get("responseElements")
    if error is None and isinstance(response, dict) and response.get("ConsoleLogin") == "Failure":
        error = "Failure"
    return RootEvent(
        event_time=when,
        event_name=str(record.get("eventName") or event.get("EventName") or ""),
        event_source=str(record.get("eventSource") or event.get("EventSource") or ""),
        region=str(record.get("awsRegion") or region),
        source_ip=_text(record.get("sourceIPAddress")),
        user_agent=_text(record.get("userAgent")),
        mfa_used=mfa,
        event_id=str(record.get("eventID") or event.get("EventId") or ""),
        read_only=read_only,
        error_code=error,
    )


# --- looking up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupFailure:
    """A region whose event history could not be read, and why; ``region`` None: the account's
    enabled regions could not be listed (``ec2:DescribeRegions``), so only the partition's
    global-events region and the regions named were read."""

    region: str | None
    code: str
    message: str
    tip: str = ""

    @classmethod
    def of(cls, region: str | None, exc: AwsError) -> LookupFailure:
        return cls(region, exc.code or "Error", exc.message, exc.tip or "")

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "code": self.code, "message": self.message}


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
    from remediate.aws.calls import call

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
    from remediate.aws.calls import call

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


@dataclass(frozen=True)
class CloudTrailEvidence:
    """Root's events in the window, newest first, and how they were looked up: ``regions`` the
    regions looked up (``every_enabled``: every region enabled for the account), ``failures``
    those that could not be read."""

    start: datetime
    end: datetime
    regions: tuple[str, ...]
    events: tuple[RootEvent, ...]
    truncated_regions: tuple[str, ...] = ()
    calls: int = 0
    notes: tuple[str, ...] = ()
    max_events_per_region: int = MAX_EVENTS_PER_REGION
    failures: tuple[LookupFailure, ...] = ()
    every_enabled: bool = False

    @property
    def used(self) -> tuple[RootEvent, ...]:
        """The events that show root's credentials working (not failed sign-ins)."""
        return tuple(e for e in self.events if e.counts_as_use)

    @property
    def failed_regions(self) -> tuple[str, ...]:
        return tuple(f.region for f in self.failures if f.region is not None)

    @property
    def regions_read(self) -> tuple[str, ...]:
        failed = set(self.failed_regions)
        return tuple(r for r in self.regions if r not in failed)

    @property
    def complete(self) -> bool:
        """Every region asked for was read to the end: no failure, nothing truncated."""
        return not self.failures and not self.truncated_regions

    def to_json(self) -> dict[str, Any]:
        """How the events were looked up; the events themselves are evidence entries."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "regions": list(self.regions),
            "every_enabled_region": self.every_enabled,
            "regions_read": list(self.regions_read),
            "complete": self.complete,
            "failed": [f.to_json() for f in self.failures],
            "events": len(self.events),
            "lookup_calls": self.calls,
            "truncated_regions": list(self.truncated_regions),
            "max_events_per_region": self.max_events_per_region,
            "notes": list(self.notes),
        }


def regions_read_text(evidence: CloudTrailEvidence) -> str:
    """The regions read, named: ``us-east-1, eu-west-1``; ``the 17 enabled regions: ...``;
    ``16 of the 17 enabled regions: ...``."""
    read = evidence.regions_read
    listed = ", ".join(read) if read else "none"
    if not evidence.every_enabled:
        return listed
    n = len(evidence.regions)
    if len(read) == n:
        return f"the {n} enabled regions: {listed}"
    return f"{len(read)} of the {n} enabled regions: {listed}"


def gaps(evidence: CloudTrailEvidence) -> list[str]:
    """What was not read, each in a phrase: regions that failed (with AWS's code), the other
    enabled regions when they could not be listed, regions cut at the bound."""
    found: list[str] = []
    failed = [f for f in evidence.failures if f.region is not None]
    if failed:
        found.append("not read: " + ", ".join(f"{f.region} ({f.code})" for f in failed))
    for f in evidence.failures:
        if f.region is None:
            found.append(
                f"not read: the other enabled regions (ec2:DescribeRegions failed: {f.code})"
            )
    if evidence.truncated_regions:
        found.append(
            f"only the newest {evidence.max_events_per_region} events read in "
            + ", ".join(evidence.truncated_regions)
        )
    return found


def coverage(evidence: CloudTrailEvidence) -> str:
    """Which regions were read and what was not, in one phrase, for a finding's text."""
    return "; ".join([regions_read_text(evidence), *gaps(evidence)])


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
    from remediate.core.concurrency import each_concurrently

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


# --- judging and summarizing (pure) --------------------------------------------------------------


def apply_cloudtrail(verdict: Verdict, evidence: CloudTrailEvidence) -> Verdict:
    """``verdict`` with CloudTrail's evidence: root counts as in use when CloudTrail shows it
    working inside the window, even if the credential report does not (yet: the report is up to
    4 hours old, its last-used dates recorded every 5-15 minutes). No event proves nothing: a
    verdict that could not be determined stays so."""
    used = evidence.used
    notes = list(verdict.notes) + list(evidence.notes)
    root_in_use = verdict.root_in_use
    last_used = verdict.last_used
    if used:
        newest = used[0].event_time
        if not verdict.root_in_use:
            notes.append(
                f"CloudTrail shows the root user active at {newest.isoformat()} "
                f"({used[0].action}), which the credential report does not show: counted as "
                "in use."
            )
        root_in_use = True
        if last_used is None or newest > last_used:
            last_used = newest
    return replace(
        verdict,
        root_in_use=root_in_use,
        last_used=last_used,
        notes=tuple(notes),
        cloudtrail=evidence,
    )


@dataclass(frozen=True)
class ActivitySummary:
    """Root's events grouped the way a responder reads them."""

    last_sign_in: RootEvent | None
    sign_ins: int
    sign_ins_without_mfa: int
    failed_sign_ins: int
    source_ips: tuple[tuple[str, int], ...]  # most frequent first
    clients: tuple[tuple[str, int], ...]
    writes: tuple[RootEvent, ...]  # newest first
    reads: tuple[tuple[str, int], ...]  # read-only actions and how often
    sign_in_events: tuple[RootEvent, ...] = ()  # every console sign-in, failed too, newest first


def summarize(events: Sequence[RootEvent]) -> ActivitySummary:
    """Group root's events (newest first): the last successful sign-in, distinct source IPs and
    clients, write actions, and read-only actions counted."""
    sign_ins = [e for e in events if e.is_sign_in]
    succeeded = [e for e in sign_ins if e.error_code is None]
    ips = Counter(e.source_ip for e in events if e.source_ip)
    clients = Counter(e.user_agent for e in events if e.user_agent)
    reads = Counter(e.action for e in events if not e.is_write and not e.is_sign_in)
    return ActivitySummary(
        last_sign_in=max(succeeded, key=lambda e: e.event_time, default=None),
        sign_ins=len(succeeded),
        sign_ins_without_mfa=sum(e.mfa_used is False for e in succeeded),
        failed_sign_ins=len(sign_ins) - len(succeeded),
        source_ips=tuple(sorted(ips.items(), key=lambda kv: (-kv[1], kv[0]))),
        clients=tuple(sorted(clients.items(), key=lambda kv: (-kv[1], kv[0]))),
        writes=tuple(
            sorted((e for e in events if e.is_write), key=lambda e: e.event_time, reverse=True)
        ),
        reads=tuple(sorted(reads.items(), key=lambda kv: (-kv[1], kv[0]))),
        sign_in_events=tuple(sorted(sign_ins, key=lambda e: e.event_time, reverse=True)),
    )
