"""A usage error of the command line (click's, as typer vendors it) as one ``error:`` line and a
tip that names the help of the command it is about.

click's own words are the program's: their layout (the newline and tab before each choice of
"Choose from:") becomes spaces, so the error stays one line. What came from outside (the
command line's words, an option's environment variable) is escaped where it holds a character
a terminal would act on, its newlines and tabs included: it cannot forge a line.
"""

import os
import re
from collections.abc import Iterable
from typing import Any

from remediate.core.terminal import safe

# click lays out a message's list with newlines and tabs.
_LAYOUT = re.compile(r"[ \t]*[\n\t][ \t\n]*")


def usage_lines(exc: Any, argv: Iterable[str]) -> tuple[str, str]:
    """The ``error:`` line and the ``Tip:`` line for the usage error ``exc`` of a run with
    ``argv``. Each is still to be made safe for the terminal (write_message does it)."""
    return f"error: {message(exc, argv)}", f"Tip: see `{_command_path(exc)} --help`"


def message(exc: Any, argv: Iterable[str]) -> str:
    """click's message for ``exc`` on one line, with the outside values in it escaped."""
    text = str(exc.format_message())
    for value in sorted(_outside_values(exc, argv), key=len, reverse=True):
        text = text.replace(value, safe(value, markup=False))
    return _LAYOUT.sub(" ", text).strip()


def _outside_values(exc: Any, argv: Iterable[str]) -> set[str]:
    """The values from outside that a terminal could act on: the command line's words (and
    each side of an ``--option=value``), and the environment variable of the option at fault."""
    words = set()
    for word in argv:
        words.add(word)
        words.update(word.split("=", 1))
    envvar = getattr(getattr(exc, "param", None), "envvar", None)
    names = [envvar] if isinstance(envvar, str) else list(envvar or ())
    words.update(os.environ.get(name, "") for name in names)
    return {word for word in words if word and not word.isprintable()}


def _command_path(exc: Any) -> str:
    """The command the error is about (`remediate root-use`), else the program."""
    ctx = getattr(exc, "ctx", None)
    return str(ctx.command_path) if ctx is not None else "remediate"
