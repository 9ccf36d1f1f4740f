"""remediate's record on its own Security Hub findings: the notes it writes and reads back, and
when a run resolves or reopens a finding (pure: remediate.findings.workflow)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from remediate.findings.checks import CHECKS, FAILED, PASSED, CheckResult
from remediate.findings.workflow import (
    NEW,
    NOTE_LIMIT,
    REMEDIATED,
    REOPENED,
    RESOLVED,
    ROOT_RECORD_GRACE,
    SUPPRESSED,
    Record,
    Stored,
    parse_note,
    remediation_note,
    reopen_note,
    reopens,
    resolves,
)

NOW = datetime.now(UTC).replace(microsecond=0)
ADMIN = "arn:aws:iam::123456789012:user/ops"
ROOT = "arn:aws:iam::123456789012:root"
[ROOT_USE, *_] = CHECKS


def used(at: datetime | None, status: str = FAILED) -> CheckResult:
    return CheckResult(
        ROOT_USE,
        "123456789012",
        "aws",
        status,  # type: ignore[arg-type]
        "...",
        at,
        evidence_at=at if status == FAILED else None,
        evidence_text="the root user was used (password)",
    )


def remediated(at: datetime, by: str = ADMIN, workflow: str = RESOLVED) -> Stored:
    return Stored("id", workflow=workflow, record=Record(REMEDIATED, at, at, by))


def test_a_remediation_note_reads_back_with_its_time_and_author() -> None:
    text = remediation_note(
        NOW, playbook="root-use", applied=["admin-group", "admin-user"], version="1.2.3"
    )
    assert text.startswith(f"Remediated by remediate at {NOW:%Y-%m-%dT%H:%M:%SZ}: ")
    assert "playbook root-use: applied admin-group, admin-user" in text
    assert parse_note({"Text": text, "UpdatedBy": ADMIN}) == Record(REMEDIATED, NOW, NOW, ADMIN)


def test_a_long_note_keeps_its_head_and_fits() -> None:
    text = remediation_note(NOW, playbook="p", applied=["step"] * 200, version="1")
    assert len(text) == NOTE_LIMIT
    assert parse_note({"Text": text}) == Record(REMEDIATED, NOW, NOW)


def test_a_reopen_note_names_the_evidence_and_reads_back() -> None:
    evidence = NOW + timedelta(hours=3)
    record = Record(REMEDIATED, NOW, NOW, ADMIN)
    text = reopen_note(NOW + timedelta(hours=4), used(evidence), record)
    assert text == (
        f"Reopened by remediate at {NOW + timedelta(hours=4):%Y-%m-%dT%H:%M:%SZ}: the root user "
        f"was used (password) at {evidence:%Y-%m-%dT%H:%M:%SZ}, after the remediation recorded "
        f"at {NOW:%Y-%m-%dT%H:%M:%SZ}."
    )
    back = parse_note({"Text": text, "UpdatedBy": ADMIN})
    assert back == Record(REOPENED, NOW + timedelta(hours=4), evidence, ADMIN)
    long = dataclasses.replace(used(evidence), evidence_text="x" * 2000)
    clipped = reopen_note(NOW, long, record)
    assert len(clipped) == NOTE_LIMIT
    assert parse_note({"Text": clipped}) == Record(REOPENED, NOW, evidence)


@pytest.mark.parametrize(
    "note",
    [None, {}, {"Text": "told the owner", "UpdatedBy": "analyst"}, {"Text": 5}, "text"],
)
def test_other_notes_are_no_record(note: object) -> None:
    assert parse_note(note) is None  # type: ignore[arg-type]


def test_evidence_newer_than_the_record_reopens() -> None:
    assert reopens(used(NOW + timedelta(seconds=1)), remediated(NOW))
    assert not reopens(used(NOW), remediated(NOW))  # the same second: not after it
    assert not reopens(used(NOW - timedelta(days=2)), remediated(NOW))
    assert not reopens(used(None, PASSED), remediated(NOW))  # nothing failed, nothing to show
    assert not reopens(used(NOW + timedelta(days=1)), Stored("id", workflow=RESOLVED))
    assert not reopens(used(NOW + timedelta(days=1)), None)


def test_what_the_customer_set_is_kept() -> None:
    later = used(NOW + timedelta(days=1))
    assert not reopens(later, remediated(NOW, workflow=SUPPRESSED))
    # Set back to NEW (by Security Hub, or a person) with remediate's record on it: said why.
    assert reopens(later, remediated(NOW, workflow=NEW))
    # Reopened already and still NEW: open, with its reason.
    reopened = Stored("id", workflow=NEW, record=Record(REOPENED, NOW, NOW, ADMIN))
    assert not reopens(later, reopened)
    # Reopened, then marked RESOLVED again by a person: root used since reopens it again.
    assert reopens(later, Stored("id", workflow=RESOLVED, record=Record(REOPENED, NOW, NOW)))


def test_a_record_made_with_roots_own_keys_is_not_reopened_by_that_run() -> None:
    """The run that signs with root's keys uses root once more as it writes its record."""
    within = used(NOW + ROOT_RECORD_GRACE - timedelta(seconds=1))
    beyond = used(NOW + ROOT_RECORD_GRACE + timedelta(seconds=1))
    assert not reopens(within, remediated(NOW, by=ROOT))
    assert reopens(beyond, remediated(NOW, by=ROOT))
    assert reopens(within, remediated(NOW, by=ADMIN))


def test_a_remediation_resolves_once() -> None:
    assert resolves(Stored("id", workflow=NEW), changed=False)  # the first record
    assert resolves(None, changed=False)  # state unknown: marked
    assert not resolves(remediated(NOW), changed=True)  # RESOLVED already
    assert not resolves(remediated(NOW, workflow=SUPPRESSED), changed=True)
    assert not resolves(Stored("id", workflow=RESOLVED), changed=True)  # a person's decision
    reopened = Stored("id", workflow=NEW, record=Record(REOPENED, NOW, NOW))
    assert not resolves(reopened, changed=False)  # a rerun that did nothing new
    assert resolves(reopened, changed=True)


def test_security_hubs_own_reset_is_foreseen() -> None:
    passed = Stored("id", workflow=RESOLVED, compliance="PASSED")
    assert passed.imported("FAILED").workflow == NEW
    assert passed.imported("PASSED").workflow == RESOLVED
    failed = Stored("id", workflow=RESOLVED, compliance="FAILED")
    assert failed.imported("FAILED").workflow == RESOLVED
