"""The command line as a reference: every command and subcommand with its usage, help, option
panels and examples, read from the click command typer builds for the app, the same source
`--help` prints from. The man page (remediate.cli.manpage) and the docs site's command-line
reference (docs/hooks/cli_reference.py) are written from it, so neither can drift from --help.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from remediate.cli import helptext


@dataclass(frozen=True)
class Entry:
    """One command as --help shows it."""

    path: str  # "remediate root-use"
    depth: int  # 0 for the program, 1 for its commands, 2 for a group's commands
    usage: str  # "remediate root-use [OPTIONS]"
    help: str  # the description, paragraphs separated by blank lines
    short_help: str
    panels: list[tuple[str, helptext.Rows]]
    epilog: str  # what the epilog says besides the examples: the exit codes
    examples: list[tuple[str, str]]  # (what it does, the command)
    commands: list[tuple[str, str]]  # a group's commands: (name, summary)


def entries() -> list[Entry]:
    """The program, then each command (and each group's commands) in the order --help lists
    them."""
    import typer

    from remediate.cli.app import app

    root = typer.main.get_command(app)
    with root.make_context("remediate", [], resilient_parsing=True) as ctx:
        return list(_walk(root, ctx, 0))


def _walk(command: Any, ctx: Any, depth: int) -> Iterator[Entry]:
    prose, examples = helptext.split_epilog(command.epilog)
    names = command.list_commands(ctx) if hasattr(command, "list_commands") else []
    subcommands = [(name, command.get_command(ctx, name)) for name in names]
    subcommands = [(name, sub) for name, sub in subcommands if sub is not None and not sub.hidden]
    yield Entry(
        path=ctx.command_path,
        depth=depth,
        usage=" ".join([ctx.command_path, *command.collect_usage_pieces(ctx)]),
        help=_text(command.help),
        short_help=command.get_short_help_str(limit=200),
        panels=helptext.panels(command, ctx),
        epilog=_text(prose),
        examples=examples,
        commands=[(name, sub.get_short_help_str(limit=200)) for name, sub in subcommands],
    )
    for name, sub in subcommands:
        with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
            yield from _walk(sub, sub_ctx, depth + 1)


def _text(text: str | None) -> str:
    """Help text as paragraphs: each one line, separated by a blank line."""
    paragraphs = (text or "").replace("\b", "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
