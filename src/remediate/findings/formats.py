"""The registry of findings formats: each ``root-use --output`` name that prints the findings as
a JSON list, and the module that builds its documents.

Adding a format is one module with a function ``(results, *, region, now)`` that returns a
JSON list of documents, one per check result, plus one line in :data:`FORMATS`; the command line's
allowed values and help come from here. A format's module is imported only when that format is
asked for (OCSF brings pydantic), so this registry stays as light as the command line needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, cast

if TYPE_CHECKING:
    from datetime import datetime

    from remediate.findings.checks import CheckResult


class BuildsFindings(Protocol):
    """What a format's module provides: the check results as that format's documents."""

    def __call__(
        self, results: Iterable[CheckResult], *, region: str, now: datetime
    ) -> Sequence[Mapping[str, object]]: ...


class FindingsFormat(NamedTuple):
    """An ``--output`` name, what it is (for the help), and the function that builds it: a
    module and a name in it, imported when the format is asked for. (A named tuple: the command
    line reads this registry for --help, which must not pay for importing dataclasses.)"""

    name: str
    title: str
    module: str
    function: str

    def builder(self) -> BuildsFindings:
        return cast("BuildsFindings", getattr(importlib.import_module(self.module), self.function))


FORMATS: dict[str, FindingsFormat] = {
    f.name: f
    for f in (
        FindingsFormat(
            "asff", "AWS Security Finding Format", "remediate.findings.asff", "asff_findings"
        ),
        FindingsFormat(
            "ocsf", "OCSF Detection Findings", "remediate.findings.ocsf", "ocsf_findings"
        ),
    )
}
# The --output names that print findings (root-use only).
FINDINGS_FORMATS = tuple(FORMATS)


def build(
    name: str, results: Iterable[CheckResult], *, region: str, now: datetime
) -> Sequence[Mapping[str, object]]:
    """The results as the documents of the format registered as ``name``."""
    return FORMATS[name].builder()(results, region=region, now=now)
