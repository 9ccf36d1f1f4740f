"""CloudTrail evidence: what root did, from where, with or without MFA.

Pure parts (reading a record, the token bucket, judging, grouping) are tested on records shaped
as the CloudTrail user guide documents them, written out here; the lookup runs against the
emulated LookupEvents (remediate.sandbox.cloudtrail) on the test server, which enforces the
documented two requests per second per account and region.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.ratelimit import RateLimiter, TokenBucket
from remediate.detect.activity import (
    MAX_EVENTS_PER_REGION,
    CloudTrailEvidence,
    RootEvent,
    parse_event,
    summarize,
)
from remediate.detect.cloudtrail import (
    look_up_root_activity,
    regions_to_look_up,
    window,
)
from remediate.detect.judge import apply_cloudtrail, judge_root_use
from remediate.detect.report import parse_credential_report
from remediate.sandbox import cloudtrail as emulator
from remediate.sandbox import cloudtrail_events
from remediate.sandbox.server import RootState, root_row_csv
from support.reportformat import DOCUMENTED_HEADER

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HEADER = DOCUMENTED_HEADER + "\n"

# The CloudTrail user guide's example of a root console sign-in (AwsConsoleSignIn), with MFA.
ROOT_SIGN_IN = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "accountId": ACCOUNT,
        "accessKeyId": "",
    },
    "eventTime": "2026-11-27T09:30:00Z",
    "eventSource": "signin.amazonaws.com",
    "eventName": "ConsoleLogin",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "192.0.2.10",
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "requestParameters": None,
    "responseElements": {"ConsoleLogin": "Success"},
    "additionalEventData": {
        "LoginTo": "https://console.aws.amazon.com/console/home",
        "MobileVersion": "No",
        "MFAIdentifier": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device",
        "MFAUsed": "Yes",
    },
    "eventID": "deadbeef-0000-4000-8000-000000000001",
    "readOnly": False,
    "eventType": "AwsConsoleSignIn",
    "managementEvent": True,
    "recipientAccountId": ACCOUNT,
    "eventCategory": "Management",
}
# An IAM user that happens to be named "root": LookupEvents' Username matches it too.
IAM_USER_NAMED_ROOT = {
    **ROOT_SIGN_IN,
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEROOTUSER01",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/root",
        "accountId": ACCOUNT,
        "accessKeyId": "",
        "userName": "root",
    },
    "eventID": "deadbeef-0000-4000-8000-000000000002",
}


def lookup_entry(record: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A LookupEvents ``Events`` entry around a record, as boto3 returns it."""
    entry = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record.get("readOnly")).lower(),
        "EventTime": datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")),
        "EventSource": record["eventSource"],
        "Username": "root",
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }
    entry.update(overrides)
    return entry


def event(**given: Any) -> RootEvent:
    fields: dict[str, Any] = {
        "event_time": NOW - timedelta(hours=1),
        "event_name": "ListBuckets",
        "event_source": "s3.amazonaws.com",
        "region": "us-east-1",
        "source_ip": "192.0.2.1",
        "user_agent": "aws-cli/2",
        "mfa_used": None,
        "event_id": "e",
        "read_only": True,
    }
    fields.update(given)
    return RootEvent(**fields)


# --- reading a record ----------------------------------------------------------------------------


def test_a_root_console_sign_in_with_mfa() -> None:
    found = parse_event(lookup_entry(ROOT_SIGN_IN), "us-east-1")
    assert found == RootEvent(
        event_time=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        event_name="ConsoleLogin",
        event_source="signin.amazonaws.com",
        region="us-east-1",
        source_ip="192.0.2.10",
        user_agent=ROOT_SIGN_IN["userAgent"],
        mfa_used=True,
        event_id="deadbeef-0000-4000-8000-000000000001",
        read_only=False,
        error_code=None,
    )
    assert found.is_sign_in
    assert found.counts_as_use
    assert not found.is_write


def test_a_sign_in_without_mfa_and_a_failed_one() -> None:
    no_mfa = {**ROOT_SIGN_IN, "additionalEventData": {"MFAUsed": "No"}}
    found = parse_event(lookup_entry(no_mfa), "us-east-1")
    assert found is not None
    assert found.mfa_used is False
    failed = {
        **no_mfa,
        "responseElements": {"ConsoleLogin": "Failure"},
        "errorMessage": "Failed authentication",
    }
    found = parse_event(lookup_entry(failed), "us-east-1")
    assert found is not None
    assert found.error_code == "Failure"
    assert not found.counts_as_use  # a wrong password is an attempt, not a use


def test_an_api_call_has_no_mfa_field_and_keeps_its_error_code() -> None:
    call = {
        **ROOT_SIGN_IN,
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "eventType": "AwsApiCall",
        "additionalEventData": None,
        "errorCode": "AccessDenied",
    }
    found = parse_event(lookup_entry(call), "us-east-1")
    assert found is not None
    assert (found.mfa_used, found.error_code, found.action) == (
        None,
        "AccessDenied",
        "iam:CreateAccessKey",
    )
    assert found.is_write
    assert found.counts_as_use


@pytest.mark.parametrize(
    "entry",
    [
        lookup_entry(IAM_USER_NAMED_ROOT),
        lookup_entry({**ROOT_SIGN_IN, "userIdentity": {"type": "AssumedRole"}}),
        lookup_entry(ROOT_SIGN_IN, CloudTrailEvent="{not json"),
        lookup_entry(ROOT_SIGN_IN, CloudTrailEvent=None),
        lookup_entry({**ROOT_SIGN_IN, "userIdentity": "Root"}),
    ],
    ids=["iam-user-named-root", "assumed-role", "bad-json", "no-record", "odd-identity"],
)
def test_what_is_not_the_root_user_is_dropped(entry: dict[str, Any]) -> None:
    assert parse_event(entry, "us-east-1") is None


def test_read_only_falls_back_to_the_lookup_entry() -> None:
    record = {k: v for k, v in ROOT_SIGN_IN.items() if k != "readOnly"}
    found = parse_event(lookup_entry(record, ReadOnly="true"), "us-east-1")
    assert found is not None
    assert found.read_only is True


# --- the token bucket ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_are_spaced_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.acquire()
    assert clock.slept == [0.5, 0.5, 0.5, 0.5]  # the first goes at once, then one every 0.5 s
    assert clock.now == pytest.approx(102.0)


def test_an_idle_bucket_saves_up_no_more_than_its_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, capacity=1.0, clock=clock, sleep=clock.sleep)
    clock.now += 60  # idle for a minute
    bucket.acquire()
    bucket.acquire()
    assert clock.slept == [0.5]


def test_threads_sharing_a_bucket_never_exceed_its_rate() -> None:
    bucket = TokenBucket(20.0)  # 20/s keeps the test short; spacing 50 ms
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 20
    # 20 tokens at 20/s: the last at least 19 intervals after the first (a little slack for
    # the scheduler between taking a token and noting the time).
    assert stamps[-1] - stamps[0] >= 19 / 20 - 0.02
    # In any one second, at most rate + capacity requests.
    for i, start in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s - start < 1.0) <= 21


def test_one_bucket_per_account_and_region() -> None:
    limiter = RateLimiter()
    assert limiter.bucket("1", "us-east-1") is limiter.bucket("1", "us-east-1")
    assert limiter.bucket("1", "us-east-1") is not limiter.bucket("1", "eu-west-1")
    assert limiter.bucket("1", "us-east-1") is not limiter.bucket("2", "us-east-1")


# --- judging and grouping ------------------------------------------------------------------------


def _verdict(state: RootState, *, days: int = 7) -> Any:
    report = parse_credential_report((HEADER + root_row_csv(ACCOUNT, state)).encode(), NOW)
    return judge_root_use(report, now=NOW, days=days, account_id=ACCOUNT)


def _evidence(*events: RootEvent) -> CloudTrailEvidence:
    ordered = tuple(sorted(events, key=lambda e: e.event_time, reverse=True))
    return CloudTrailEvidence(NOW - timedelta(days=7), NOW, ("us-east-1",), ordered, calls=1)


def test_cloudtrail_shows_root_use_the_credential_report_does_not() -> None:
    verdict = _verdict(RootState(password_last_used=NOW - timedelta(days=40)))
    assert verdict.root_in_use is False
    seen = NOW - timedelta(minutes=20)
    judged = apply_cloudtrail(verdict, _evidence(event(event_time=seen)))
    assert judged.root_in_use is True
    assert judged.last_used == seen
    assert any("CloudTrail shows the root user active" in n for n in judged.notes)
    assert judged.evidence == verdict.evidence  # the report's evidence is kept as it was


def test_a_failed_sign_in_alone_is_not_use() -> None:
    verdict = _verdict(RootState(password_last_used=NOW - timedelta(days=40)))
    failed = event(
        event_name="ConsoleLogin",
        event_source="signin.amazonaws.com",
        error_code="Failure",
        mfa_used=False,
    )
    judged = apply_cloudtrail(verdict, _evidence(failed))
    assert judged.root_in_use is False
    assert judged.cloudtrail is not None
    assert judged.cloudtrail.events == (failed,)


def test_no_event_changes_nothing_and_undetermined_stays_undetermined() -> None:
    in_use = _verdict(RootState(password_last_used=NOW - timedelta(days=1)))
    assert apply_cloudtrail(in_use, _evidence()).root_in_use is True
    no_row = judge_root_use(None, now=NOW, days=7, account_id=ACCOUNT)
    assert apply_cloudtrail(no_row, _evidence()).root_in_use is None
    # ...but root seen working settles it.
    assert apply_cloudtrail(no_row, _evidence(event())).root_in_use is True


def test_an_older_report_date_does_not_hide_a_newer_event() -> None:
    verdict = _verdict(RootState(password_last_used=NOW - timedelta(days=3)))
    newest = NOW - timedelta(hours=2)
    assert apply_cloudtrail(verdict, _evidence(event(event_time=newest))).last_used == newest


def test_the_window_is_at_most_the_90_days_of_event_history() -> None:
    start, end, notes = window(NOW, 7)
    assert (end - start, notes) == (timedelta(days=7), ())
    start, end, notes = window(NOW, 365)
    assert end - start == timedelta(days=90)
    assert "keeps 90 days" in notes[0]


def test_summary_groups_sign_ins_addresses_clients_and_writes_first() -> None:
    t = NOW - timedelta(days=1)
    events = [
        event(
            event_time=t,
            event_name="ConsoleLogin",
            event_source="signin.amazonaws.com",
            source_ip="198.51.100.1",
            user_agent="Firefox",
            mfa_used=False,
            read_only=False,
        ),
        event(
            event_time=t - timedelta(days=2),
            event_name="ConsoleLogin",
            event_source="signin.amazonaws.com",
            source_ip="198.51.100.2",
            user_agent="Chrome",
            mfa_used=True,
            read_only=False,
        ),
        event(event_time=t + timedelta(minutes=1), event_name="RunInstances", read_only=False),
        event(event_time=t + timedelta(minutes=2), event_name="DescribeInstances"),
        event(event_time=t + timedelta(minutes=3), event_name="DescribeInstances"),
        event(event_time=t + timedelta(minutes=4), event_name="Mystery", read_only=None),
    ]
    s = summarize(events)
    assert s.last_sign_in is events[0]
    assert (s.sign_ins, s.sign_ins_without_mfa, s.failed_sign_ins) == (2, 1, 0)
    assert s.source_ips[0] == ("192.0.2.1", 4)
    assert set(dict(s.source_ips)) == {"192.0.2.1", "198.51.100.1", "198.51.100.2"}
    assert dict(s.clients) == {"aws-cli/2": 4, "Firefox": 1, "Chrome": 1}
    # Writes, newest first; an event that does not say whether it read only counts as a write.
    assert [e.event_name for e in s.writes] == ["Mystery", "RunInstances"]
    assert s.reads == (("s3:DescribeInstances", 2),)


# --- against the emulated event history ----------------------------------------------------------


@pytest.fixture
def aws(moto: Any) -> Aws:
    return Aws(AwsOptions(region="us-east-1", endpoint_url=moto.endpoint_url))


def _seed(records: list[dict[str, Any]], account: str = ACCOUNT) -> None:
    emulator.add_events(account, records)


def _seed_root_reads(now: datetime, count: int) -> None:
    """``count`` read-only calls by root in us-east-1, a minute apart back from ``now``."""
    _seed(
        [
            cloudtrail_events.api_call(
                ACCOUNT,
                now - timedelta(minutes=i),
                region="us-east-1",
                source="s3.amazonaws.com",
                name="ListBuckets",
                read_only=True,
                source_ip="192.0.2.1",
                n=i,
            )
            for i in range(count)
        ]
    )


def test_root_activity_in_two_regions_and_nothing_of_anybody_else(aws: Aws) -> None:
    now = datetime.now(UTC)
    _seed(cloudtrail_events.sandbox_activity(ACCOUNT, now))
    regions = regions_to_look_up(aws, ["eu-west-1"])
    assert regions == ["us-east-1", "eu-west-1"]
    found = look_up_root_activity(aws, ACCOUNT, regions, now=now, days=7)
    by_region: dict[str, list[RootEvent]] = {}
    for e in found.events:
        by_region.setdefault(e.region, []).append(e)
    # us-east-1: two sign-ins, a failed one and DeactivateMFADevice (the 40-day-old sign-in is
    # outside the window); eu-west-1: two writes and 52 reads, over two pages.
    assert {r: len(v) for r, v in by_region.items()} == {"us-east-1": 4, "eu-west-1": 54}
    # The IAM user named root, alice and the assumed role are not root.
    assert all(e.source_ip not in ("192.0.2.66", "192.0.2.20", "192.0.2.21") for e in found.events)
    assert [e.event_time for e in found.events] == sorted(
        (e.event_time for e in found.events), reverse=True
    )
    assert found.calls == 3
    assert found.truncated_regions == ()
    mfa = {e.mfa_used for e in found.events if e.is_sign_in and e.error_code is None}
    assert mfa == {True, False}


def test_the_client_keeps_the_limit_and_the_emulator_enforces_it(aws: Aws) -> None:
    now = datetime.now(UTC)
    _seed_root_reads(now, 160)
    start = time.monotonic()
    found = look_up_root_activity(aws, ACCOUNT, ["us-east-1"], now=now, days=1)
    elapsed = time.monotonic() - start
    assert (len(found.events), found.calls) == (160, 4)
    # Four pages at two a second: at least 1.5 s, and not one request refused.
    assert elapsed >= 1.5
    assert emulator.stats() == {"requests": 4, "throttled": 0}


def test_without_the_limiter_the_emulator_throttles(moto: Any) -> None:
    client = boto3.client(
        "cloudtrail",
        region_name="eu-west-1",
        endpoint_url=moto.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    codes = []
    for _ in range(10):  # as fast as they go: far more than two a second
        try:
            client.lookup_events()
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes
    assert set(codes) == {"ThrottlingException"}
    assert emulator.stats()["throttled"] == len(codes)
    # Another region is another limit.
    other = boto3.client("cloudtrail", region_name="us-west-2", endpoint_url=moto.endpoint_url)
    other.lookup_events()


def test_a_region_stops_at_the_bound_and_says_so(aws: Aws) -> None:
    now = datetime.now(UTC)
    _seed_root_reads(now, 120)
    found = look_up_root_activity(aws, ACCOUNT, ["us-east-1"], now=now, days=1, max_events=100)
    assert found.calls == 2
    assert len(found.events) == 100
    assert found.truncated_regions == ("us-east-1",)
    assert any("more than 100 events in us-east-1" in n for n in found.notes)
    # The newest were read (LookupEvents answers newest first).
    assert min(e.event_time for e in found.events) > now - timedelta(minutes=101)
    assert MAX_EVENTS_PER_REGION == 1000


def test_all_means_every_enabled_region(aws: Aws) -> None:
    regions = regions_to_look_up(aws, None)
    assert regions[0] == "us-east-1"
    assert len(regions) == 17
    assert len(set(regions)) == 17
    assert "af-south-1" not in regions  # opt-in, not enabled in a new account


def test_the_emulated_next_token_needs_the_same_parameters(moto: Any) -> None:
    now = datetime.now(UTC)
    _seed_root_reads(now, 3)
    client = moto.client("cloudtrail")
    first = client.lookup_events(MaxResults=2)
    assert len(first["Events"]) == 2
    assert "NextToken" in first
    time.sleep(1)  # keep within the emulator's limit
    with pytest.raises(ClientError) as caught:
        client.lookup_events(MaxResults=1, NextToken=first["NextToken"])
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"
    time.sleep(0.5)
    rest = client.lookup_events(MaxResults=2, NextToken=first["NextToken"])
    assert len(rest["Events"]) == 1
    assert "NextToken" not in rest


@pytest.mark.parametrize(("concurrency", "together"), [(None, 4), (2, 2)])
def test_regions_are_looked_up_together_within_the_limit(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, concurrency: int | None, together: int
) -> None:
    """No LookupEvents is answered until ``together`` regions' are in flight (a barrier in the
    emulator, not a stopwatch): one region after another never gets there and fails."""
    from moto.cloudtrail.responses import CloudTrailResponse

    regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-south-1"]
    barrier = threading.Barrier(together, timeout=10)
    flying: set[str] = set()
    most: list[int] = [0]
    guard = threading.Lock()
    answer = emulator._lookup_events

    def held(self: Any) -> Any:
        with guard:
            flying.add(str(self.region))
            most[0] = max(most[0], len(flying))
        try:
            barrier.wait()
            return answer(self)
        finally:
            with guard:
                flying.discard(str(self.region))

    monkeypatch.setattr(CloudTrailResponse, "lookup_events", held)
    limit = {} if concurrency is None else {"concurrency": concurrency}
    now = datetime.now(UTC)

    found = look_up_root_activity(aws, ACCOUNT, regions, now=now, days=1, **limit)

    assert found.calls == len(regions)
    assert most[0] == together


def test_a_region_that_fails_is_kept_with_its_reason_and_the_others_are_read(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.core.exceptions import JsonRESTError

    from remediate.detect.activity import coverage

    lookup = emulator._lookup_events

    def denied_in_eu(self: Any) -> Any:
        if self.region == "eu-west-1":
            raise JsonRESTError("AccessDeniedException", "not authorized")
        return lookup(self)

    monkeypatch.setattr(CloudTrailResponse, "lookup_events", denied_in_eu)
    now = datetime.now(UTC)
    _seed(cloudtrail_events.sandbox_activity(ACCOUNT, now))
    regions = ["us-east-1", "eu-west-1"]
    found = look_up_root_activity(aws, ACCOUNT, regions, now=now, days=7, every_enabled=True)
    assert {e.region for e in found.events} == {"us-east-1"}
    assert [(f.region, f.code) for f in found.failures] == [("eu-west-1", "AccessDeniedException")]
    assert "cloudtrail:LookupEvents" in found.failures[0].message
    assert (found.regions_read, found.complete) == (("us-east-1",), False)
    assert coverage(found) == (
        "1 of the 2 enabled regions: us-east-1; not read: eu-west-1 (AccessDeniedException)"
    )
