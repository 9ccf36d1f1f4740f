"""Terminal-safe text: every external string reaches the terminal through :func:`safe`, so it can
neither drive the terminal (escape sequences) nor rich (markup); secrets through
:func:`print_secret`, exactly; error lines, notes and JSON documents on their own streams."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console


# Characters a terminal may act on instead of showing: C0 controls (ESC, BEL, CR, BS, TAB,
# newline), DEL and C1 controls (CSI is 0x9B), format characters (bidirectional overrides that
# reorder what is shown, zero-width characters), line and paragraph separators, lone surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# What the credential report's region and service fields hold when IAM wrote them.
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
SERVICE_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe(value: object, *, markup: bool = True) -> str:
    """``value`` as text that shows as itself on a terminal: every character a terminal could act
    on (escape sequences, cursor movement, bidirectional overrides) is replaced by its visible
    escape (``\\x1b``), and, unless ``markup`` is false (for a plain write instead of rich),
    rich markup is escaped so ``[bold]`` or ``[link=...]`` shows as typed."""
    text = str(value)
    # isprintable() is false for every unsafe character (and for a few harmless spaces): the
    # common case, plain text, costs one scan.
    if not text.isprintable():
        text = "".join(
            _escaped(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text
        )
    if markup:
        from rich.markup import escape

        text = escape(text)
    return text


def safe_field(value: str, pattern: re.Pattern[str]) -> str:
    """A report field shown as is when it looks like what IAM writes there, else quoted and
    escaped, so an odd value stands out instead of passing for a real one."""
    if pattern.fullmatch(value):
        return value
    return safe(repr(value))


def print_secret(console: Console, prefix: str, value: str) -> None:
    """``prefix`` then the secret, exactly: no markup, no highlighting, no emoji codes (a password
    may hold ``[/]``). Control characters, which no secret remediate generates or accepts holds,
    are still escaped: a keyring entry may have been edited."""
    # soft_wrap: never a line break inside a secret, which would break it when copied.
    console.print(
        prefix + safe(value, markup=False),
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=True,
    )


# Whether a prompt on standard error waits for its answer, the cursor after it: a Ctrl-C there
# leaves the terminal's "^C" on that line, and what is written next needs a line of its own.
_prompt_open = False


def prompt_opened(is_open: bool) -> None:
    """The terminal prompter says when it writes a prompt (True) and when its answer came."""
    global _prompt_open
    _prompt_open = is_open


def close_prompt_line(file: TextIO | None = None) -> bool:
    """End the line of a prompt that Ctrl-C interrupted (once); whether there was one."""
    global _prompt_open
    if not _prompt_open:
        return False
    _prompt_open = False
    stream = file or sys.stderr
    stream.write("\n")
    stream.flush()
    return True


def note(text: str) -> None:
    """A line of the program's own on stderr (a SANDBOX notice), wrapped at word boundaries
    on a terminal, after whatever stdout holds so far: it never lands inside another line."""
    sys.stdout.flush()
    stderr_console().print(text, markup=False)


def write_line(text: str, file: TextIO | None = None) -> None:
    """One line of external text, written without rich (scripts read these), made safe."""
    print(safe(text, markup=False), file=file or sys.stdout)


def write_message(text: str, file: TextIO) -> None:
    """An ``error:``, ``Tip:`` or interruption line, made safe: on a terminal wrapped at word
    boundaries to its width (the terminal itself would cut words), elsewhere one line for the
    scripts that read it."""
    import os
    import textwrap

    line = safe(text, markup=False)
    try:
        columns = os.get_terminal_size(file.fileno()).columns if file.isatty() else 0
    except (AttributeError, ValueError, OSError):
        columns = 0
    if columns > 1 and len(line) > columns:
        # Long words (an ARN, a path) stay whole, and so does an option such as --no-mfa.
        line = "\n".join(
            textwrap.wrap(line, columns, break_long_words=False, break_on_hyphens=False)
        )
    print(line, file=file)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def stdout_console() -> Console:
    from rich.console import Console

    # emoji=False: ":smile:" in a tag value or a name is text, not a code to replace.
    # On a terminal, lines wrap at word boundaries to its width; elsewhere (a pipe, a file) each
    # line stays whole, for grep and for scripts.
    return Console(
        file=sys.stdout, highlight=False, soft_wrap=not _is_terminal(sys.stdout), emoji=False
    )


def stderr_console() -> Console:
    from rich.console import Console

    return Console(
        file=sys.stderr, highlight=False, soft_wrap=not _is_terminal(sys.stderr), emoji=False
    )


def print_hanging(console: Console, prefix: str, body: str) -> None:
    """``prefix`` then ``body`` (both rich markup, made safe by the caller); on a terminal, the
    lines ``body`` wraps onto start under its first character, not at the left edge."""
    from rich.cells import cell_len
    from rich.markup import render
    from rich.table import Table

    if console.soft_wrap:
        console.print(prefix + body)
        return
    grid = Table.grid()
    grid.add_column(no_wrap=True, width=cell_len(render(prefix).plain))
    grid.add_column(overflow="fold")  # a word longer than the line is folded, never cut
    grid.add_row(prefix, body)
    console.print(grid)


def print_json(document: Mapping[str, object]) -> None:
    """One JSON object on stdout, alone (-o json): a command's document."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def print_documents(documents: Sequence[Any]) -> None:
    """A JSON list on stdout, alone (--output asff, --output ocsf)."""
    sys.stdout.write(json.dumps(list(documents), indent=2, default=str) + "\n")
    sys.stdout.flush()
