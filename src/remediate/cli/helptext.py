"""How `--help` is laid out: options in panels, examples printed whole, for every command.

Each option names its panel (``rich_help_panel`` in remediate.cli.options). typer draws panels
only with rich, whose import more than doubles the start-up of `remediate --help` (measured
2026-12-07: 0.31 s of CPU instead of 0.14); these command classes draw them with click's plain
formatter, which --help has loaded already. The man page and the docs site read the same panels
(remediate.cli.reference).
"""

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import DefaultPlaceholder

import remediate.cli.options as o

# Options that name no panel, and the help option itself, come first, under this title.
DEFAULT_PANEL = "Options"
ARGUMENTS = "Arguments"
EXAMPLES = "Examples:"
# click prints a paragraph that starts with this line as written: never rewrapped.
_VERBATIM = "\b"
# click's widest first column (HelpFormatter.write_dl's col_max).
_COL_MAX = 30

Rows = list[tuple[str, str]]


def epilog(exit_codes: str, *examples: tuple[str, str]) -> str:
    """A command's epilog: its exit codes, then its examples, each a ``(what it does, command)``
    pair shown as a shell comment and a command line, never wrapped: each can be copied whole,
    and the block pasted into a shell as it stands."""
    lines = "".join(f"\n  # {what}\n  {command}" for what, command in examples)
    return f"{exit_codes}\n\n{_VERBATIM}\n{EXAMPLES}{lines}"


def split_epilog(text: str | None) -> tuple[str, list[tuple[str, str]]]:
    """An epilog made by :func:`epilog`, as its prose and its ``(what, command)`` examples."""
    prose, marker, block = (text or "").partition(f"\n\n{_VERBATIM}\n{EXAMPLES}\n")
    if not marker:
        return prose, []
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    return prose, [
        (what[2:], command) for what, command in zip(lines[::2], lines[1::2], strict=True)
    ]


def panels(command: Any, ctx: Any) -> list[tuple[str, Rows]]:
    """``command``'s help records by panel: its arguments, the options that name no panel (the
    help option among them), then the panels in the order remediate.cli.options declares them;
    within a panel, in the order the command declares its options."""
    grouped: dict[str, Rows] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            title = ARGUMENTS
        else:
            title = getattr(param, "rich_help_panel", None) or DEFAULT_PANEL
        grouped.setdefault(title, []).append(record)
    order = (ARGUMENTS, DEFAULT_PANEL, *o.PANELS)
    ranked = sorted(grouped, key=lambda t: order.index(t) if t in order else len(order))
    return [(title, grouped[title]) for title in ranked]


def _format_panels(command: Any, ctx: Any, formatter: Any) -> None:
    sections = panels(command, ctx)
    # One column for the descriptions in every panel: terms shorter than the widest (up to
    # click's limit, past which a term has a line of its own) are padded to it.
    width = min(max((len(term) for _, rows in sections for term, _ in rows), default=0), _COL_MAX)
    for title, rows in sections:
        with formatter.section(title):
            formatter.write_dl(
                [(t.ljust(width) if h and len(t) <= width else t, h) for t, h in rows]
            )


class PanelCommand(TyperCommand):
    """A command whose --help shows its options in panels."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_panels(self, ctx, formatter)


class PanelGroup(TyperGroup):
    """A group whose --help shows its options in panels, then its commands."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_panels(self, ctx, formatter)
        self.format_commands(ctx, formatter)


def adopt(app: typer.Typer) -> None:
    """Build every command and group of ``app`` (registered so far, at any depth) with the panel
    classes, unless one names its own class: a new command needs nothing to get them."""
    for command in app.registered_commands:
        # typer records its own class when a command names none.
        if command.cls in (None, TyperCommand):
            command.cls = PanelCommand
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        if isinstance(sub.info.cls, DefaultPlaceholder) or sub.info.cls in (None, TyperGroup):
            sub.info.cls = PanelGroup
        adopt(sub)
