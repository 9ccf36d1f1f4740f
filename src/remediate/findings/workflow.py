"""What remediate writes on the workflow of its own Security Hub findings, and reads back.

A finding's ``Compliance`` is what detection measured, always: a remediation does not make root
unused. What a run did is recorded beside it, in the fields Security Hub keeps for the customer
(``Workflow`` and ``Note``, set with BatchUpdateFindings), which no later import changes:

- a completed remediation marks the finding ``RESOLVED`` once, with a note that says what was
  done and when: ``Remediated by remediate at 2026-12-08T10:00:00Z: ...``;
- evidence newer than that record (root used after it; a credential report generated after it
  that still shows the problem) reopens it: ``NEW``, with a note naming the evidence:
  ``Reopened by remediate at ...: <evidence> at 2026-12-09T09:00:00Z, after the remediation
  recorded at 2026-12-08T10:00:00Z.``

The notes are text for people that a later run parses back (ISO 8601 UTC times at fixed places).
Pure: the calls are remediate.findings.securityhub's, the orchestration remediate.findings.export's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediate.core.clock import utc

if TYPE_CHECKING:
    from remediate.findings.checks import CheckResult

NEW = "NEW"
NOTIFIED = "NOTIFIED"
RESOLVED = "RESOLVED"
SUPPRESSED = "SUPPRESSED"
REMEDIATED = "remediated"
REOPENED = "reopened"
# ASFF's limit for Note.Text.
NOTE_LIMIT = 512
# A remediation run signed with root's own keys uses root once more after it records itself
# (the BatchUpdateFindings that writes the record): root's use that soon after a record made by
# root is that run's, not new evidence.
ROOT_RECORD_GRACE = timedelta(minutes=10)

_TIME = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"
_HEAD = re.compile(rf"^(Remediated|Reopened) by remediate at {_TIME}")
_EVIDENCE = re.compile(rf" at {_TIME}, after the remediation recorded at {_TIME}")


def stamp(value: datetime) -> str:
    """A note's time: ISO 8601, UTC, whole seconds (``2026-12-08T10:00:00Z``)."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """remediate's note on a finding: a remediation (``remediated``) or a reopening
    (``reopened``). Evidence up to ``cutoff`` is accounted for by it: for a remediation, its own
    time; for a reopening, the time of the evidence that reopened the finding."""

    kind: str
    at: datetime
    cutoff: datetime
    by: str | None = None  # the note's UpdatedBy: who ran remediate

    @property
    def by_root(self) -> bool:
        return bool(self.by) and str(self.by).endswith(":root")


def parse_note(note: Mapping[str, Any] | None) -> Record | None:
    """remediate's record in a finding's ``Note`` (its ``Text`` and ``UpdatedBy``); None for
    another note (a person's, another tool's) or none."""
    if not isinstance(note, Mapping):
        return None
    text = note.get("Text")
    if not isinstance(text, str):
        return None
    head = _HEAD.match(text)
    if head is None:
        return None
    at = _parse_time(head.group(2))
    by = note.get("UpdatedBy")
    by = str(by) if by else None
    if head.group(1) == "Remediated":
        return Record(REMEDIATED, at, at, by)
    evidence = _EVIDENCE.search(text)
    if evidence is None:
        return None
    return Record(REOPENED, at, _parse_time(evidence.group(1)), by)


def _clip(text: str, keep_end: str = "") -> str:
    """``text`` (then ``keep_end``) within the note's limit: the middle of ``text`` gives way,
    never its head, which a later run parses."""
    room = NOTE_LIMIT - len(keep_end)
    if len(text) > room:
        text = text[: room - 1] + "\u2026"
    return text + keep_end


def remediation_note(at: datetime, *, playbook: str, applied: Sequence[str], version: str) -> str:
    """The note a completed remediation records on the findings it closed."""
    did = f"applied {', '.join(applied)}" if applied else "found every step already in place"
    head = f"Remediated by remediate at {stamp(at)}: playbook {playbook}: {did}"
    tail = (
        f" (remediate {version}). Compliance stays what detection measures; evidence newer "
        "than this reopens the finding."
    )
    return _clip(head, tail)


def reopen_note(at: datetime, result: CheckResult, record: Record) -> str:
    """The note on a finding reopened by ``result``'s evidence, newer than ``record``. The
    evidence's words give way to the limit; both times stay where parse_note finds them."""
    assert result.evidence_at is not None
    head = f"Reopened by remediate at {stamp(at)}: "
    tail = (
        f" at {stamp(result.evidence_at)}, after the remediation recorded at "
        f"{stamp(record.cutoff)}."
    )
    words = result.evidence_text
    room = NOTE_LIMIT - len(head) - len(tail)
    if len(words) > room:
        words = words[: room - 1] + "\u2026"
    return head + words + tail


@dataclass(frozen=True)
class Stored:
    """What a run needs of a finding as Security Hub holds it."""

    id: str
    workflow: str | None = None
    compliance: str | None = None
    record: Record | None = None
    created_at: str | None = None
    first_observed_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_finding(cls, finding: Mapping[str, Any]) -> Stored:
        workflow = finding.get("Workflow")
        compliance = finding.get("Compliance")

        def text(name: str) -> str | None:
            value = finding.get(name)
            return str(value) if value else None

        return cls(
            id=str(finding.get("Id", "")),
            workflow=str(workflow.get("Status")) if isinstance(workflow, Mapping) else None,
            compliance=(str(compliance.get("Status")) if isinstance(compliance, Mapping) else None),
            record=parse_note(finding.get("Note")),
            created_at=text("CreatedAt"),
            first_observed_at=text("FirstObservedAt"),
            updated_at=text("UpdatedAt"),
        )

    def imported(self, compliance: str) -> Stored:
        """This finding after an import with ``compliance``: Security Hub resets a RESOLVED or
        NOTIFIED workflow to NEW when compliance leaves PASSED (its documented rule)."""
        workflow = self.workflow
        if (
            self.compliance == "PASSED"
            and compliance != "PASSED"
            and workflow
            in (
                RESOLVED,
                NOTIFIED,
            )
        ):
            workflow = NEW
        return replace(self, workflow=workflow, compliance=compliance)


def new_finding(finding_id: str, compliance: str) -> Stored:
    """A finding an import has just created: Security Hub starts its workflow NEW."""
    return Stored(finding_id, workflow=NEW, compliance=compliance)


def reopens(result: CheckResult, stored: Stored | None) -> bool:
    """Whether ``result``'s evidence is newer than remediate's record on the finding: root used
    after the remediation, or the problem still shown by a report generated after it. A finding
    already reopened and still NEW is open (its note says why); a SUPPRESSED one is the
    customer's to keep."""
    if stored is None or stored.record is None or result.evidence_at is None:
        return False
    if stored.workflow == SUPPRESSED:
        return False
    if stored.workflow == NEW and stored.record.kind == REOPENED:
        return False
    record = stored.record
    grace = ROOT_RECORD_GRACE if record.kind == REMEDIATED and record.by_root else timedelta(0)
    return utc(result.evidence_at) > record.cutoff + grace


def resolves(stored: Stored | None, *, changed: bool) -> bool:
    """Whether a completed remediation marks this finding RESOLVED: once. Not when it is
    RESOLVED or SUPPRESSED already; when it carries no record of remediate's (the first
    remediation, or an earlier record that could not be written); when it carries one (the
    finding was reopened since, or its workflow set back), only if this run changed something:
    a rerun that found everything in place records nothing new. ``stored`` None: the finding's
    state could not be read, so it is marked."""
    if stored is None:
        return True
    if stored.workflow in (RESOLVED, SUPPRESSED):
        return False
    return stored.record is None or changed
