"""``remediate journal``: the audit trail of every write call remediate made (never a secret),
filtered and limited as asked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remediate.commands.request import TEXT, OutputFormat, check_output, check_range
from remediate.core import limits, validate
from remediate.core.clock import utc
from remediate.core.errors import EXIT_OK, InputError
from remediate.playbook.journal import JournalFilter, journal_path, read_journal
from remediate.render.listings import show_journal


@dataclass(frozen=True)
class JournalRequest:
    """``remediate journal``: the newest ``limit`` entries of those that match."""

    limit: int = limits.DEFAULT_JOURNAL_LIMIT
    account: str | None = None
    user: str | None = None
    since: datetime | None = None
    output: OutputFormat = TEXT


_AGO = re.compile(r"([0-9]{1,6})([mhdw])")
_AGO_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime) -> datetime:
    """``--since``: a time of day in ISO 8601 (``2026-11-29T08:00:00Z``; UTC when it has no
    offset), a date (``2026-11-29``, from its start in UTC), or a span back from ``now``
    (``30m``, ``12h``, ``7d``, ``2w``)."""
    value = text.strip()
    ago = _AGO.fullmatch(value)
    if ago:
        return now - timedelta(**{_AGO_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"invalid --since {text[:40]!r}: expected a date (2026-11-29), a time "
            "(2026-11-29T08:00:00Z) or a span back from now (30m, 12h, 7d, 2w)"
        ) from None
    return utc(when)


def journal_request(
    *,
    limit: int = limits.DEFAULT_JOURNAL_LIMIT,
    account: str | None = None,
    user: str | None = None,
    since: str | None = None,
    output: OutputFormat = TEXT,
    now: datetime | None = None,
) -> JournalRequest:
    """``journal``'s options: a positive --limit, a 12-digit --account, an IAM user name."""
    check_range("--limit", limit, 1)
    return JournalRequest(
        limit=limit,
        account=validate.account_id(account, "--account") if account is not None else None,
        user=validate.user_name(user) if user is not None else None,
        since=parse_since(since, now=now or datetime.now(UTC)) if since is not None else None,
        output=check_output(output),
    )


def journal(request: JournalRequest) -> int:
    """Show the audit trail: one entry per write call remediate made (never a secret), those
    that match the request's filters, newest ``limit`` of them. Unreadable lines are skipped and
    counted."""
    reading = read_journal(JournalFilter(request.account, request.user, request.since))
    show_journal(
        journal_path(),
        reading.entries[-request.limit :],
        reading.unreadable,
        request.output,
        filtered=bool(request.account or request.user or request.since),
    )
    return EXIT_OK
