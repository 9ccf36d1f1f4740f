"""How a detection's or a remediation's results leave the command, chosen once from --output:
text views on stdout, one JSON document, or the findings as a JSON list (ASFF, OCSF, any
registered format). With JSON on stdout, plans, outcomes and verdicts for the person go to
stderr."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from remediate.core.terminal import (
    print_documents,
    print_json,
    safe,
    stderr_console,
    stdout_console,
)
from remediate.findings.export import documents
from remediate.render.cloudtrail import render_cloudtrail_failures, render_root_activity
from remediate.render.detection import render_detection, verdict_document
from remediate.render.documents import (
    one_account_document,
    sweep_document,
    sweep_remediation_document,
)
from remediate.render.securityhub import render_security_hub
from remediate.render.tables import render_sweep

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.detect.judge import Verdict
    from remediate.findings.securityhub import ImportResult
    from remediate.org.sweep import SweepResult
    from remediate.playbook.engine import AccountRun


def render_sweep_detection(console: Console, result: SweepResult) -> None:
    """The sweep's table, then what CloudTrail shows root did, account by account (accounts
    looked up with --cloudtrail that have root events, or regions not read)."""
    render_sweep(console, result)
    now = datetime.now(UTC)
    for a in result.accounts:
        v = a.verdict
        if v is None or v.cloudtrail is None or (v.cloudtrail.complete and not v.cloudtrail.events):
            continue
        name = f" ({safe(a.account_name)})" if a.account_name else ""
        console.print(f"[bold]Account {safe(a.account_id)}{name}[/]:")
        render_root_activity(console, v, now)


class Output:
    """Text for people (the base): the verdicts and the sweep's table on stdout; a remediation's
    plans and outcomes were shown as the engine went (remediate.render.outcome.TextView)."""

    def __init__(self, *, sandbox: bool = False, security_hub: bool = False) -> None:
        self.sandbox = sandbox
        # (account id, user) -> the kinds of the user's secrets the keyring holds that nobody
        # was shown: a resumed run's document hands them over as its text does.
        self.held: Callable[[str, str], Sequence[str]] | None = None
        # --security-hub: each account's document says what its import did (null: nothing).
        self.security_hub = security_hub

    @property
    def console(self) -> Console:
        """Where plans, outcomes and verdicts for the person go."""
        return stdout_console()

    def show_secrets(self, asked: bool) -> bool:
        """Whether the text views print secrets: with JSON, the document carries them (each is
        printed once, not on stderr too)."""
        return asked

    def trail_failures(self, verdicts: Iterable[Verdict | None]) -> None:
        """Each account's regions whose CloudTrail event history was not read, on stderr."""
        looked_up = [v for v in verdicts if v is not None and v.cloudtrail is not None]
        render_cloudtrail_failures(looked_up)

    def imports(self, imports: Iterable[ImportResult | None]) -> None:
        """Each account's Security Hub import (--security-hub), where plans go."""
        done = sorted((i for i in imports if i is not None), key=lambda i: i.account_id)
        if self.security_hub and done:
            render_security_hub(self.console, done)

    def detected(self, verdict: Verdict, *, region: str, hub: ImportResult | None) -> None:
        """One account judged, nothing remediated."""
        render_detection(self.console, verdict)

    def swept(self, result: SweepResult, *, region: str, hubs: Mapping[str, ImportResult]) -> None:
        """Many accounts judged, nothing remediated."""
        render_sweep_detection(self.console, result)

    def remediated(
        self,
        base: Mapping[str, Any],
        run: AccountRun,
        *,
        verdict: Verdict | None,
        resolved: Collection[str],
        hub: ImportResult | None,
        region: str,
        show_secrets: bool,
        finish: str | None,
    ) -> None:
        """One account remediated: ``base`` is its document so far (the verdict's, or the
        account's), ``resolved`` the checks the run closed."""

    def swept_remediated(
        self,
        result: SweepResult,
        runs: Sequence[AccountRun],
        *,
        resolved: Mapping[str, frozenset[str]],
        hubs: Mapping[str, ImportResult],
        region: str,
        show_secrets: bool,
        finish: Callable[[str], str] | None,
    ) -> None:
        """Many accounts judged, and remediated where the run chose to."""


class JsonOutput(Output):
    """One JSON document on stdout."""

    @property
    def console(self) -> Console:
        return stderr_console()

    def show_secrets(self, asked: bool) -> bool:
        return False

    def detected(self, verdict: Verdict, *, region: str, hub: ImportResult | None) -> None:
        document = verdict_document(verdict, sandbox=self.sandbox)
        if self.security_hub:
            document["security_hub"] = hub.to_json() if hub is not None else None
        print_json(document)

    def swept(self, result: SweepResult, *, region: str, hubs: Mapping[str, ImportResult]) -> None:
        print_json(
            sweep_document(
                result, sandbox=self.sandbox, security_hub=hubs if self.security_hub else None
            )
        )

    def remediated(
        self,
        base: Mapping[str, Any],
        run: AccountRun,
        *,
        verdict: Verdict | None,
        resolved: Collection[str],
        hub: ImportResult | None,
        region: str,
        show_secrets: bool,
        finish: str | None,
    ) -> None:
        print_json(
            one_account_document(
                base,
                run,
                show_secrets=show_secrets,
                finish=finish,
                sandbox=self.sandbox,
                hub=hub,
                held=self.held,
            )
        )

    def swept_remediated(
        self,
        result: SweepResult,
        runs: Sequence[AccountRun],
        *,
        resolved: Mapping[str, frozenset[str]],
        hubs: Mapping[str, ImportResult],
        region: str,
        show_secrets: bool,
        finish: Callable[[str], str] | None,
    ) -> None:
        print_json(
            sweep_remediation_document(
                result,
                runs,
                show_secrets=show_secrets,
                sandbox=self.sandbox,
                finish=finish,
                security_hub=hubs if self.security_hub else None,
                held=self.held,
            )
        )


class FindingsOutput(JsonOutput):
    """Every judged account's findings as one JSON list, in a registered format
    (remediate.findings.formats); a run's resolved checks are findings closed."""

    def __init__(self, fmt: str, *, sandbox: bool = False, security_hub: bool = False) -> None:
        super().__init__(sandbox=sandbox, security_hub=security_hub)
        self.format = fmt

    def detected(self, verdict: Verdict, *, region: str, hub: ImportResult | None) -> None:
        print_documents(documents(self.format, [(verdict, ())], region=region))

    def swept(self, result: SweepResult, *, region: str, hubs: Mapping[str, ImportResult]) -> None:
        self._sweep_findings(result, region, {})

    def remediated(
        self,
        base: Mapping[str, Any],
        run: AccountRun,
        *,
        verdict: Verdict | None,
        resolved: Collection[str],
        hub: ImportResult | None,
        region: str,
        show_secrets: bool,
        finish: str | None,
    ) -> None:
        if verdict is not None:
            print_documents(documents(self.format, [(verdict, resolved)], region=region))

    def swept_remediated(
        self,
        result: SweepResult,
        runs: Sequence[AccountRun],
        *,
        resolved: Mapping[str, frozenset[str]],
        hubs: Mapping[str, ImportResult],
        region: str,
        show_secrets: bool,
        finish: Callable[[str], str] | None,
    ) -> None:
        self._sweep_findings(result, region, resolved)

    def _sweep_findings(
        self, result: SweepResult, region: str, resolved: Mapping[str, frozenset[str]]
    ) -> None:
        """An account that could not be judged has no findings."""
        verdicts = [
            (a.verdict, resolved.get(a.account_id, frozenset()))
            for a in result.accounts
            if a.verdict is not None
        ]
        print_documents(documents(self.format, verdicts, region=region))


def output_for(fmt: str, *, sandbox: bool = False, security_hub: bool = False) -> Output:
    """The output ``--output fmt`` asks for: text, json, or a findings format's name."""
    if fmt == "text":
        return Output(sandbox=sandbox, security_hub=security_hub)
    if fmt == "json":
        return JsonOutput(sandbox=sandbox, security_hub=security_hub)
    return FindingsOutput(fmt, sandbox=sandbox, security_hub=security_hub)
