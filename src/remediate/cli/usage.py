"""A usage error of the command line (click's, as typer vendors it) as one ``error:`` line and a
tip that names the help of the command it is about.

click's own words are the program's: their layout (the newline and tab before each choice of
"Choose from:") becomes spaces, so the error stays one line. What came from outside (the
command line's words) is escaped where it holds a character a terminal would act on, its
newlines and tabs included: it cannot forge a line.
"""

import re
from typing import Any

from remediate.core.terminal import safe

# click lays out a message's list with newlines and tabs.
_LAYOUT = re.compile(r"[ \t]*[\n\t][ \t\n]*")


def usage_lines(exc: Any, argv: list[str], program: Any) -> tuple[str, str]:
    """The ``error:`` line and the ``Tip:`` line for the usage error ``exc`` of a run of
    ``program`` (the click command) with ``argv``. Each is still to be made safe for the
    terminal (write_message does it)."""
    path = command_path(exc, argv, program)
    return f"error: {message(exc, argv)}", f"Tip: see `{path} --help`"


def message(exc: Any, argv: list[str]) -> str:
    """click's message for ``exc`` on one line, with the outside values in it escaped."""
    text = str(exc.format_message())
    for value in sorted(_outside_values(argv), key=len, reverse=True):
        text = text.replace(value, safe(value, markup=False))
    return _LAYOUT.sub(" ", text).strip()


def _outside_values(argv: list[str]) -> set[str]:
    """The command line's words (and each side of an ``--option=value``) that a terminal could
    act on. (click quotes an environment variable's value with repr, escaped already.)"""
    words = {part for word in argv for part in (word, *word.split("=", 1))}
    return {word for word in words if word and not word.isprintable()}


def command_path(exc: Any, argv: list[str], program: Any) -> str:
    """The command the error is about (`remediate root-use`): the one click names, else (an
    option's missing value, an extra argument, which click raises without naming one) the
    deepest command that ``argv``'s leading words name."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        return str(ctx.command_path)
    path, command = ["remediate"], program
    # Options before a command name take no value (--debug, -v): they are skipped.
    for word in (w for w in argv if not w.startswith("-")):
        sub = command.commands.get(word) if hasattr(command, "commands") else None
        if sub is None:
            break
        path, command = [*path, word], sub
    return " ".join(path)
