"""The exit codes of detection and its evidence: root in use, undetermined, an import Security
Hub refused, CloudTrail's event history not read everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from remediate.core.errors import EXIT_AWS, EXIT_OK, EXIT_ROOT_IN_USE

if TYPE_CHECKING:
    from remediate.detect.judge import Verdict
    from remediate.findings.securityhub import ImportResult


def verdict_exit(verdict: Verdict, *, fail_on_hygiene: bool = False) -> int:
    """1 when root is in use (or, with --fail-on hygiene, has a finding), else 3 when root use
    cannot be determined, else 0."""
    if verdict.root_in_use or (fail_on_hygiene and verdict.findings):
        return EXIT_ROOT_IN_USE
    return EXIT_AWS if verdict.root_in_use is None else EXIT_OK


def hub_exit(code: int, imports: Iterable[ImportResult | None]) -> int:
    """A finding Security Hub did not import makes the run exit 3 (AWS failed), whatever the
    verdict: the import asked for did not complete. One it did not mark RESOLVED after a
    remediation leaves ``code`` as it is: a warning (remediate.findings.securityhub)."""
    return EXIT_AWS if any(i is not None and not i.ok for i in imports) else code


def trail_exit(code: int, verdicts: Iterable[Verdict | None]) -> int:
    """CloudTrail's event history asked for and not read everywhere (a region that failed,
    enabled regions that could not be listed) makes the run exit 3 whatever the verdict, as a
    refused import does: the evidence is incomplete. A region cut at the bound is not a failure:
    it is said, and the exit code is the verdict's."""
    failed = any(
        v is not None and v.cloudtrail is not None and v.cloudtrail.failures for v in verdicts
    )
    return EXIT_AWS if failed else code
