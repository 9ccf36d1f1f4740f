"""``remediate root-use --explain ID``: a finding's long text (what, why it matters, how to fix
it, AWS's page), for people or as one JSON document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from remediate.core.terminal import print_hanging, print_json, stdout_console

if TYPE_CHECKING:
    from remediate.findings.explain import Explanation


def show_explanation(explanation: Explanation, output: str) -> None:
    """The long text on stdout: text, or ``output`` json."""
    if output == "json":
        print_json(explanation.to_json())
        return
    from rich.markup import escape

    console = stdout_console()
    console.print(f"[bold]{explanation.id}[/] ({explanation.severity})")
    print_hanging(console, "What: ", escape(explanation.what))
    print_hanging(console, "Why:  ", escape(explanation.why))
    print_hanging(console, "Fix:  ", escape(explanation.fix))
    console.print(f"See:  {escape(explanation.reference)}", soft_wrap=True)
