"""The audit trail: one JSON line per applied change, in a 0600 file under XDG_STATE_HOME."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remediate.errors import InputError

if TYPE_CHECKING:
    from remediate.playbook.runner import Planned


def journal_path() -> Path:
    """``$XDG_STATE_HOME/remediate/journal.jsonl`` (``~/.local/state`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "remediate" / "journal.jsonl"


class Journal:
    """Appends entries; never holds a secret (only ids, names, ARNs and what changed)."""

    def __init__(
        self, *, account_id: str, caller_arn: str, playbook: str, acting_as: str | None = None
    ) -> None:
        self.context = {"account": account_id, "caller": caller_arn, "playbook": playbook}
        if acting_as is not None:
            # A root task session: the caller ran remediate, the calls came from this root user.
            self.context["acting_as"] = acting_as
        self.path = journal_path()

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
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
            # One write per line: concurrent runs append whole lines, never interleaved halves.
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        finally:
            os.close(fd)


def read_journal(path: Path | None = None) -> Iterator[dict[str, Any]]:
    """The journal's entries, oldest first; a damaged line is an input error naming it."""
    path = path or journal_path()
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {n} is not JSON") from exc
