"""The audit trail: one JSON line per applied change, in a 0600 file under XDG_STATE_HOME."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remediate.errors import InputError
from remediate.state import open_state_file, state_dir

if TYPE_CHECKING:
    from remediate.playbook.runner import Planned


JOURNAL = "journal.jsonl"
_APPEND = os.O_WRONLY | os.O_APPEND


def journal_path() -> Path:
    """``$XDG_STATE_HOME/remediate/journal.jsonl`` (see remediate.state)."""
    return state_dir() / JOURNAL


class Journal:
    """Appends entries; never holds a secret (only ids, names, ARNs and what changed).

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
        fd = open_state_file(JOURNAL, flags=_APPEND)
        if fd is not None:
            os.close(fd)

    def applied(self, planned: Planned) -> None:
        """Record a step the runner just applied."""
        change = planned.change
        self.record(
            step=planned.step.id,
            kind=planned.step.kind,
            resource=change.resource,
            change=change.change,
        )

    def record(self, *, step: str, kind: str, resource: str, change: str) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            **self.context,
            "step": step,
            "kind": kind,
            "resource": resource,
            "change": change,
        }
        fd = open_state_file(JOURNAL, flags=_APPEND)
        assert fd is not None  # created when missing
        try:
            # One write per line: concurrent runs append whole lines, never interleaved halves.
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        finally:
            os.close(fd)


def read_journal() -> Iterator[dict[str, Any]]:
    """The journal's entries, oldest first; a damaged line is an input error naming it."""
    fd = open_state_file(JOURNAL, flags=os.O_RDONLY, create=False)
    if fd is None:
        return
    path = journal_path()
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {n} is not JSON") from exc
            if not isinstance(entry, dict):
                raise InputError(f"{path}: line {n} is not a journal entry (a JSON object)")
            yield entry
