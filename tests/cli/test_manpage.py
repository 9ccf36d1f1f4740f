"""The man page: written from the command tree --help prints from, a section per command and
subcommand with every one of its options, valid troff."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from remediate.cli.manpage import manpage, roff
from remediate.cli.reference import entries


def _sections(page: str) -> dict[str, str]:
    """The page's subsections by title (troff's escapes undone)."""
    parts = re.split(r'^\.SS "?(.*?)"?$', page, flags=re.M)
    return {
        title.replace("\\-", "-"): body
        for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def test_a_section_per_command_with_its_options() -> None:
    sections = _sections(manpage())
    commands = [entry for entry in entries()][1:]
    assert len(commands) >= 15
    for entry in commands:
        body = sections[entry.path]
        for _, rows in entry.panels:
            for term, _ in rows:
                # The options as --help shows them ("-o, --output <text|json|...>").
                assert f"\\fB{roff(term)}\\fR" in body, (entry.path, term)
    root_use = sections["remediate root-use"]
    for option in ("--create-admin", "--mfa-handoff", "--all-accounts", "--sandbox", "-h"):
        assert roff(option) in root_use
    for panel in ("What to detect", "The fix", "MFA", "Hand-over", "AWS connection"):
        assert f"\\fI{roff(panel)}:\\fR" in root_use
    assert "remediate root\\-use \\-\\-create\\-admin alice \\-\\-dry\\-run" in root_use
    assert "Exit codes: 0 root not in use" in root_use


def test_the_page_has_a_name_a_synopsis_and_the_exit_status() -> None:
    page = manpage()
    assert page.startswith(".TH REMEDIATE 1 ")
    for section in (".SH NAME", ".SH SYNOPSIS", ".SH COMMANDS", '.SH "EXIT STATUS"'):
        assert section in page
    # No line of the text is taken for a troff request.
    requests = {line.split()[0] for line in page.splitlines() if line.startswith((".", "'"))}
    assert requests <= {
        ".TH",
        ".SH",
        ".SS",
        ".PP",
        ".TP",
        ".B",
        ".RS",
        ".RE",
        ".nf",
        ".fi",
        ".ad",
        ".nh",
    }


def test_roff_escapes_what_troff_would_act_on() -> None:
    assert roff("--dry-run") == "\\-\\-dry\\-run"
    assert roff("a\\b") == "a\\eb"
    assert roff(".not a request\n'nor this") == "\\&.not a request\n\\&'nor this"


def test_python_m_writes_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "remediate.cli.manpage"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == manpage()


@pytest.mark.skipif(shutil.which("groff") is None, reason="needs groff")
def test_groff_renders_it_without_a_warning() -> None:
    page = manpage()
    check = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z"],
        input=page,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0
    assert check.stderr == ""
    shown = subprocess.run(
        ["groff", "-man", "-Tutf8", "-P-cbou"],
        input=page,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    # Examples are shown whole, with plain hyphens: copied from the page, they run.
    lines = [line.strip() for line in shown.splitlines()]
    assert "remediate root-use --create-admin alice --dry-run" in lines
    assert "remediate secrets show alice --what mfa-qr --qr-file alice-mfa.png" in lines
