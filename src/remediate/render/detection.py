"""One account's detection as root-use prints it: the verdict and CloudTrail's evidence for
people, or the verdict's JSON document. Shared by detection alone (remediate.commands.detection)
and the outputs that also carry remediations and sweeps (remediate.render.outputs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from remediate.render.cloudtrail import render_root_activity
from remediate.render.verdict import render_verdict

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.detect.judge import Verdict


def render_detection(console: Console, verdict: Verdict, *, next_step: bool = True) -> None:
    """The verdict, then what CloudTrail shows root did (with --cloudtrail)."""
    now = datetime.now(UTC)
    render_verdict(console, verdict, now, next_step=next_step)
    render_root_activity(console, verdict, now)


def verdict_document(verdict: Verdict, *, sandbox: bool) -> dict[str, object]:
    """The verdict as `-o json` prints it, saying whether the account was the sandbox's."""
    return {**verdict.to_json(), "sandbox": sandbox}
