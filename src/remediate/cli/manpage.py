"""The man page, remediate(1), written in troff from the command line itself
(remediate.cli.reference): a section per command and subcommand, with its usage, description,
options by panel, exit codes and examples.

    python -m remediate.cli.manpage > remediate.1
"""

from __future__ import annotations

import re
import sys

from remediate import __version__
from remediate.cli.reference import Entry, entries

_TITLE = '.TH REMEDIATE 1 "" "remediate {version}" "User Commands"'
_SEE_ALSO = (
    "aws(1). The same reference, with the guides, is in the docs/ folder of the source "
    "(an MkDocs site): docs/cli.md."
)


def roff(text: str) -> str:
    """``text`` as troff shows it: a backslash as itself, every hyphen a minus sign (so an
    option copied from the page works), no line taken for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def manpage() -> str:
    """remediate(1), whole."""
    program, *commands = entries()
    lines = [
        _TITLE.format(version=__version__),
        # Left-aligned, no hyphenation: an option or an ARN broken at a hyphen could not be copied.
        ".ad l",
        ".nh",
        ".SH NAME",
        f"remediate \\- {roff(program.help.partition(chr(10))[0].rstrip('.'))}",
        ".SH SYNOPSIS",
        f".B remediate\n{roff(program.usage.removeprefix('remediate '))}",
        ".SH DESCRIPTION",
        *_paragraphs(program.help),
        ".PP",
        "Each command has options of its own: "
        + roff("`remediate COMMAND --help` (or -h) shows them, as this page does below."),
        *_panels(program, ".SS"),
        ".SH COMMANDS",
    ]
    for entry in commands:
        lines += _command(entry)
    lines += ['.SH "EXIT STATUS"', *_paragraphs(program.epilog)]
    lines += [".SH EXAMPLES", *_examples(program)]
    lines += ['.SH "SEE ALSO"', roff(_SEE_ALSO)]
    return "\n".join(lines) + "\n"


def _command(entry: Entry) -> list[str]:
    """One command's section: a subsection titled with the command as typed."""
    lines = [f'.SS "{roff(entry.path)}"', f".B {roff(entry.usage)}", *_paragraphs(entry.help)]
    if entry.commands:
        lines += [".PP", "Commands:"]
        for name, summary in entry.commands:
            lines += [".TP", f"\\fB{roff(name)}\\fR", roff(summary)]
    lines += _panels(entry, ".PP")
    lines += _paragraphs(entry.epilog)
    if entry.examples:
        lines += [".PP", "Examples:", *_examples(entry)]
    return lines


def _panels(entry: Entry, heading: str) -> list[str]:
    lines = []
    for title, rows in entry.panels:
        lines += [heading, title if heading == ".SS" else f"\\fI{roff(title)}:\\fR"]
        for term, text in rows:
            lines += [".TP", f"\\fB{roff(term)}\\fR", roff(text)]
    return lines


def _paragraphs(text: str) -> list[str]:
    lines = []
    for paragraph in text.split("\n\n"):
        if paragraph:
            lines += [".PP", roff(paragraph)]
    return lines


def _examples(entry: Entry) -> list[str]:
    """Each example as a comment and a command, not filled: copied as shown."""
    lines = [".PP", ".RS 4", ".nf"]
    for what, command in entry.examples:
        lines += [roff(f"# {what}"), f"\\fB{roff(command)}\\fR"]
    return [*lines, ".fi", ".RE"]


def main() -> None:
    sys.stdout.write(manpage())


if __name__ == "__main__":
    main()
