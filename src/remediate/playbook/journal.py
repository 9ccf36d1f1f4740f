"""The audit trail: one JSON line per write call a remediation made (with its outcome), in a 0600
file under XDG_STATE_HOME, and reading it back with filters."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeGuard

from remediate.core.clock import utc
from remediate.core.state import open_state_file, state_dir

if TYPE_CHECKING:
    from remediate.aws.audit import WriteCall
    from remediate.playbook.runner import Planned


JOURNAL = "journal.jsonl"


class JournalEntry(TypedDict, total=False):
    """One line of the journal (every field text, ``details`` a list of text): when, in which
    account, by whom (``acting_as``: the root user of a root task session), in which playbook
    and step, the write action, what it acted on, what it changed, and how it ended."""

    time: str
    account: str
    caller: str
    acting_as: str
    playbook: str
    step: str
    kind: str
    action: str
    resource: str
    change: str
    user: str
    outcome: str
    details: list[str]


_APPEND = os.O_WRONLY | os.O_APPEND

# What a write does to its resource, by the verb its operation starts with.
_DELETES = ("Delete", "Deactivate", "Detach", "Remove", "Untag", "Disable")
_UPDATES = ("Tag", "Update", "Put", "Set", "Change", "Reset", "Resync")


def journal_path() -> Path:
    """``$XDG_STATE_HOME/remediate/journal.jsonl`` (see remediate.core.state)."""
    return state_dir() / JOURNAL


def change_of(action: str) -> str:
    """``create``, ``update`` or ``delete``: what a write action (``iam:TagUser``) does."""
    operation = action.rsplit(":", 1)[-1]
    if operation.startswith(_DELETES):
        return "delete"
    if operation.startswith(_UPDATES):
        return "update"
    return "create"


def resource_of(names: dict[str, str], action: str = "") -> str:
    """What a write acted on, in IAM's words: ``policy ARN on group G``, ``access key K of user
    U``; ``the root user`` for a call that names nothing (a root session acting on itself)."""
    user = names.get("UserName")
    of_user = f" of user {user}" if user else ""
    if "LoginProfile" in action:
        return f"login profile{of_user or ' of the root user'}"
    if "SerialNumber" in names:
        return f"MFA device {names['SerialNumber']}{of_user}"
    if "VirtualMFADeviceName" in names:
        return f"virtual MFA device {names['VirtualMFADeviceName']}"
    if "AccessKeyId" in names:
        return f"access key {names['AccessKeyId']}{of_user}"
    if "CertificateId" in names:
        return f"signing certificate {names['CertificateId']}{of_user}"
    if "PolicyArn" in names:
        target = (
            f"group {names['GroupName']}"
            if "GroupName" in names
            else f"user {user}"
            if user
            else f"role {names.get('RoleName')}"
        )
        return f"policy {names['PolicyArn']} on {target}"
    if user and "GroupName" in names:
        return f"user {user} in group {names['GroupName']}"
    if "TargetId" in names:
        return f"policy {names.get('PolicyId')} on {names['TargetId']}"
    if "RootId" in names:
        return f"policy type {names.get('PolicyType')} in root {names['RootId']}"
    if "Name" in names and "PolicyType" not in names and "Policy" in action:
        return f"policy {names['Name']}"
    for key, label in (
        ("UserName", "user"),
        ("GroupName", "group"),
        ("RoleName", "role"),
        ("ServicePrincipal", "service"),
        ("Rule", "EventBridge rule"),
        ("TopicArn", "SNS topic"),
        ("AlarmName", "CloudWatch alarm"),
        ("filterName", "metric filter"),
    ):
        if key in names:
            return f"{label} {names[key]}"
    if "Name" in names:
        service = {"events": "EventBridge rule", "sns": "SNS topic"}
        return f"{service.get(action.split(':')[0], 'resource')} {names['Name']}"
    return "the root user"


class Journal:
    """Appends an entry for each write call of a run; never holds a secret (only names, ids,
    ARNs, tag keys and values, and how each call ended).

    Made before the first change of a run is applied: the journal file is opened (and created)
    then, so a journal that must be refused (a link, another user's) stops the run before it
    changes anything.
    """

    def __init__(
        self, *, account_id: str, caller_arn: str, playbook: str, acting_as: str | None = None
    ) -> None:
        self.context = {"account": account_id, "caller": caller_arn, "playbook": playbook}
        if acting_as is not None:
            # A root task session: the caller ran remediate, the calls came from this root user.
            self.context["acting_as"] = acting_as
        self.path = journal_path()
        self._step: dict[str, str] = {}
        fd = open_state_file(JOURNAL, flags=_APPEND)
        if fd is not None:
            os.close(fd)

    def step(self, planned: Planned) -> None:
        """The step whose writes follow (the runner says so before applying it)."""
        self._step = {"step": planned.step.id, "kind": planned.step.kind}

    def write(self, call: WriteCall) -> None:
        """Record a write call as it ended: applied, failed, or of unknown outcome."""
        names = dict(call.names)
        entry: dict[str, str | list[str]] = {
            **self._step,
            "action": call.action,
            "resource": resource_of(names, call.action),
            "change": change_of(call.action),
            "outcome": call.outcome,
        }
        if "UserName" in names:
            entry["user"] = names["UserName"]
        if call.details:
            entry["details"] = list(call.details)
        self.record(**entry)

    def record(self, **fields: str | list[str]) -> None:
        entry = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **self.context, **fields}
        fd = open_state_file(JOURNAL, flags=_APPEND)
        assert fd is not None  # created when missing
        try:
            # One write per line: concurrent runs append whole lines, never interleaved halves.
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        finally:
            os.close(fd)


@dataclass(frozen=True)
class JournalFilter:
    """Which entries to show: of one account, about one user, from a time on (all when None)."""

    account: str | None = None
    user: str | None = None
    since: datetime | None = None

    def matches(self, entry: JournalEntry) -> bool:
        if self.account is not None and str(entry.get("account")) != self.account:
            return False
        if self.user is not None and not _about_user(entry, self.user):
            return False
        if self.since is not None:
            when = _time_of(entry)
            if when is None or when < self.since:
                return False
        return True


def _about_user(entry: JournalEntry, user: str) -> bool:
    # IAM user names compare without regard to case.
    if "user" in entry:
        return str(entry["user"]).casefold() == user.casefold()
    # Entries written before the user was recorded on its own name it in the resource.
    words = re.split(r"[\s/]+", str(entry.get("resource", "")))
    return user.casefold() in (w.casefold() for w in words)


def _time_of(entry: JournalEntry) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(entry.get("time")))
    except ValueError:
        return None
    return utc(when)


@dataclass
class JournalReading:
    """The entries read, oldest first, and the lines that could not be read (by number)."""

    entries: list[JournalEntry] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)


def read_journal(where: JournalFilter | None = None) -> JournalReading:
    """The journal's entries that ``where`` matches, oldest first. A damaged line (not JSON, not
    an entry: a crash mid-write, an edit) is skipped and counted, never the end of reading."""
    reading = JournalReading()
    for n, entry in _lines():
        if entry is None:
            reading.unreadable.append(n)
        elif where is None or where.matches(entry):
            reading.entries.append(entry)
    return reading


def _lines() -> Iterator[tuple[int, JournalEntry | None]]:
    fd = open_state_file(JOURNAL, flags=os.O_RDONLY, create=False)
    if fd is None:
        return
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                # ValueError: JSONDecodeError, and a number too long to convert; RecursionError:
                # nesting deeper than the parser goes. An edited line can hold any of them.
                yield n, None
                continue
            yield n, entry if _is_entry(entry) else None


# Fields an entry may hold, each text when there (Journal.write and Journal.record write no
# other shape); ``details`` is a list of text.
_TEXT_FIELDS = (
    "caller",
    "acting_as",
    "playbook",
    "step",
    "kind",
    "action",
    "resource",
    "change",
    "user",
    "outcome",
)


# What every entry has held since the journal began (the earliest had no action or outcome):
# a line without them is not one (an edit, another tool's JSON), and showing it would make up
# an entry of blanks. A field of another shape is an edit too: it is not shown as if written.
def _is_entry(value: object) -> TypeGuard[JournalEntry]:
    if not isinstance(value, dict):
        return False
    if not all(isinstance(value.get(key), str) for key in ("time", "account")):
        return False
    if not isinstance(value.get("resource", value.get("action")), str):
        return False
    if any(key in value and not isinstance(value[key], str) for key in _TEXT_FIELDS):
        return False
    details = value.get("details", [])
    return isinstance(details, list) and all(isinstance(d, str) for d in details)
