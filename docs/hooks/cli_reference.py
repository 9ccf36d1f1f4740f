"""MkDocs hook: the command-line reference, generated from the typer app when the site builds.

typer renders the Markdown itself (typer.cli.get_docs_for_click, what `typer ... utils docs`
prints) from the click command typer builds for the app. mkdocs-click would do the same, but it
checks the command with isinstance against the click package, and typer 0.26 and later build
their commands from the click they vendor: every option would be left out.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    import typer
    from typer.cli import get_docs_for_click

    from remediate.cli.app import app

    command = typer.main.get_command(app)
    with command.make_context("remediate", [], resilient_parsing=True) as ctx:
        reference = get_docs_for_click(obj=command, ctx=ctx, name="remediate")
    # typer titles the reference "# `remediate`": the page has its own title.
    return markdown.replace(MARKER, reference.replace("\n# ", "\n## ", 1).lstrip("# "))
