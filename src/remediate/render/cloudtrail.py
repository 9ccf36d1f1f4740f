"""CloudTrail's evidence for people (rich): what root did, from where, with or without MFA, in
the regions read, and on stderr the regions whose event history could not be read. Every value
is CloudTrail's text and shown made safe."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from remediate.core.terminal import REGION_PATTERN, safe, safe_field, write_message
from remediate.detect.activity import gaps, regions_read_text, summarize
from remediate.render.verdict import ago, when

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from remediate.detect.judge import Verdict

MAX_SHOWN_WRITES = 20
MAX_SHOWN_SIGN_INS = 10
MAX_SHOWN_IPS = 10
MAX_SHOWN_CLIENTS = 5
MAX_CLIENT_WIDTH = 100
_MFA_WORDS = {True: "with MFA", False: "[red]without MFA[/]", None: "MFA not recorded"}


def _counted(items: Sequence[tuple[str, int]], limit: int, width: int = 0) -> str:
    def short(text: str) -> str:
        return text if not width or len(text) <= width else text[: width - 1] + "\u2026"

    shown = ", ".join(f"{safe(short(value))} ({n})" for value, n in items[:limit])
    more = len(items) - limit
    return shown + (f", and {more} more" if more > 0 else "")


def render_root_activity(console: Console, verdict: Verdict, now: datetime) -> None:
    """What CloudTrail shows root did (--cloudtrail): the regions read and those not read, the
    last sign-in, where from and with which clients, write actions first (newest first),
    read-only actions counted. Every value is CloudTrail's text and shown made safe."""
    evidence = verdict.cloudtrail
    if evidence is None:
        return
    regions = safe(regions_read_text(evidence))
    span = f"{when(evidence.start)} to {when(evidence.end)}"
    missing = [f"  [red]{safe(gap[0].upper() + gap[1:])}[/]." for gap in gaps(evidence)]
    if not evidence.events:
        console.print(f"CloudTrail ({regions}): no root events in the regions read from {span}.")
        for line in missing:
            console.print(line)
        return
    n = len(evidence.events)
    console.print(
        f"[bold]CloudTrail[/] ({regions}): {n} root event{'s' * (n != 1)} from {span} "
        f"({evidence.calls} LookupEvents calls)."
    )
    for line in missing:
        console.print(line)
    s = summarize(evidence.events)
    last = s.last_sign_in
    if last is not None:
        console.print(
            f"  Last console sign-in: {when(last.event_time)} "
            f"({ago((now - last.event_time).total_seconds())}) from "
            f"{safe(last.source_ip or 'an unknown address')}, {_MFA_WORDS[last.mfa_used]}."
        )
    if s.sign_in_events:
        text = f"  Console sign-ins: {s.sign_ins}"
        if s.sign_ins_without_mfa:
            text += f" ([red]{s.sign_ins_without_mfa} without MFA[/])"
        if s.failed_sign_ins:
            text += f", {s.failed_sign_ins} failed"
        console.print(text + ":")
        for e in s.sign_in_events[:MAX_SHOWN_SIGN_INS]:
            how = "[red]failed[/]" if e.error_code else _MFA_WORDS[e.mfa_used]
            console.print(
                f"    {when(e.event_time)}  from {safe(e.source_ip or '-')}  {how}  "
                f"{safe_field(e.region, REGION_PATTERN)}"
            )
        if len(s.sign_in_events) > MAX_SHOWN_SIGN_INS:
            more = len(s.sign_in_events) - MAX_SHOWN_SIGN_INS
            console.print(f"    ... and {more} more (all in --output json)")
    if s.source_ips:
        console.print(f"  Source IPs: {_counted(s.source_ips, MAX_SHOWN_IPS)}")
    if s.clients:
        console.print(f"  Clients: {_counted(s.clients, MAX_SHOWN_CLIENTS, MAX_CLIENT_WIDTH)}")
    if s.writes:
        console.print(
            f"  [red]Write actions ({len(s.writes)})[/] in the regions read, newest first:"
        )
        for e in s.writes[:MAX_SHOWN_WRITES]:
            failed = f" (failed: {safe(e.error_code)})" if e.error_code else ""
            console.print(
                f"    {when(e.event_time)}  {safe(e.action)}  "
                f"{safe_field(e.region, REGION_PATTERN)}  from {safe(e.source_ip or '-')}{failed}"
            )
        if len(s.writes) > MAX_SHOWN_WRITES:
            console.print(
                f"    ... and {len(s.writes) - MAX_SHOWN_WRITES} more (all in --output json)"
            )
    else:
        console.print("  Write actions in the regions read: none.")
    if s.reads:
        console.print(f"  Read-only actions: {_counted(s.reads, MAX_SHOWN_WRITES)}")


def render_cloudtrail_failures(verdicts: Sequence[Verdict]) -> None:
    """On stderr, one line and its tip for each distinct reason a region's event history (or
    the list of enabled regions) could not be read, naming the regions (and the account when
    there are several)."""
    many = len(verdicts) > 1
    for verdict in verdicts:
        evidence = verdict.cloudtrail
        if evidence is None:
            continue
        where = f"account {verdict.account_id}: " if many and verdict.account_id else ""
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for f in evidence.failures:
            grouped.setdefault((f.code, f.message, f.tip), []).append(f.region or "")
        for (_code, message, tip), regions in grouped.items():
            named = [r for r in regions if r]
            if named:
                subject = f"CloudTrail event history in {', '.join(named)}"
            else:
                subject = "CloudTrail: the account's enabled regions could not be listed"
            write_message(f"error: {where}{subject}: {message}", sys.stderr)
            if tip:
                write_message(f"Tip: {tip}", sys.stderr)
