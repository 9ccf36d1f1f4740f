"""MkDocs hook: the command-line reference, generated from the CLI when the site builds.

remediate.cli.reference reads every command from the click command typer builds for the app,
with the option panels and examples `--help` shows (the man page is written from it too). typer's
own Markdown (typer.cli.get_docs_for_click) lists the options flat and prints the examples'
no-rewrap marker; mkdocs-click checks the command with isinstance against the click package,
and typer 0.26 and later build their commands from the click they vendor: every option would be
left out.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference_markdown())


def reference_markdown() -> str:
    from remediate.cli.reference import entries

    parts: list[str] = []
    for entry in entries():
        parts.append(f"{'#' * (2 + max(entry.depth - 1, 0))} `{entry.path}`")
        parts.append(entry.help)
        parts.append(f"```console\n$ {entry.usage}\n```")
        if entry.commands:
            listed = "\n".join(f"* `{name}`: {summary}" for name, summary in entry.commands)
            parts.append(f"**Commands**:\n\n{listed}")
        for title, rows in entry.panels:
            listed = "\n".join(f"* `{term}`: {text}" for term, text in rows)
            parts.append(f"**{title}**:\n\n{listed}")
        if entry.epilog:
            parts.append(entry.epilog)
        if entry.examples:
            lines = "\n".join(f"# {what}\n{command}" for what, command in entry.examples)
            parts.append(f"**Examples**:\n\n```shell\n{lines}\n```")
    return "\n\n".join(part for part in parts if part) + "\n"
