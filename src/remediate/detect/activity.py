"""What the root user did, as CloudTrail recorded it: root's events, the evidence a lookup of the
event history gathered (which regions were read, which could not be, where it stopped), and the
summary a responder reads.

The lookup itself (``cloudtrail:LookupEvents`` region by region, within the API's rate limit) is
remediate.detect.cloudtrail; the verdict that counts these events as root's use is
remediate.detect.judge. This module is pure: it parses and summarizes, and calls nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from remediate.core.clock import utc
from remediate.core.errors import AwsError

SIGN_IN_SOURCE = "signin.amazonaws.com"
# Events read per region before stopping: 20 pages, 10 seconds at the limit. Root's own events
# in a week rarely come near; a region that has more is marked truncated (newest events kept).
MAX_EVENTS_PER_REGION = 1000


# --- events --------------------------------------------------------------------------------------


class RootEventJson(TypedDict):
    """A root event in a JSON document: an evidence entry of kind ``cloudtrail``."""

    kind: str
    event_time: str
    event_name: str
    event_source: str
    region: str
    source_ip: str | None
    user_agent: str | None
    mfa_used: bool | None
    event_id: str
    read_only: bool | None
    error_code: str | None


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

    def to_json(self) -> RootEventJson:
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


# --- what a lookup found --------------------------------------------------------------------------


class LookupFailureJson(TypedDict):
    region: str | None
    code: str
    message: str


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

    def to_json(self) -> LookupFailureJson:
        return {"region": self.region, "code": self.code, "message": self.message}


class CloudTrailJson(TypedDict):
    """A verdict's ``cloudtrail`` in a JSON document: how root's events were looked up."""

    start: str
    end: str
    regions: list[str]
    every_enabled_region: bool
    regions_read: list[str]
    complete: bool
    failed: list[LookupFailureJson]
    events: int
    lookup_calls: int
    truncated_regions: list[str]
    max_events_per_region: int
    notes: list[str]


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

    def to_json(self) -> CloudTrailJson:
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


# --- what a responder reads ----------------------------------------------------------------------


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
