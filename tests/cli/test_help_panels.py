"""`--help` groups and shows: root-use's and playbook run's options in panels, every command's
help ending with examples that can be copied whole, `-h` everywhere, at 80 columns."""

from __future__ import annotations

import contextlib
import re
import shlex
from typing import Any

import pytest
import typer

from remediate.cli.app import app
from remediate.cli.reference import entries
from support.screen import visible
from support.terminal import Terminal

PANELS = (
    "What to detect",
    "The fix",
    "MFA",
    "Hand-over",
    "Organization",
    "Output",
    "AWS connection",
)
MFA_OPTIONS = {
    "--no-mfa",
    "--mfa-auto",
    "--mfa-codes",
    "--qr-file",
    "--show-mfa-secret",
    "--mfa-handoff",
    "--mfa-self-service",
}
COMMANDS = [entry.path.split()[1:] for entry in entries()]
LEAVES = [entry.path.split()[1:] for entry in entries() if not entry.commands]


def _sections(out: str) -> dict[str, list[str]]:
    """The help's sections (a line ending in ':' at the margin) and the options each lists."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if re.fullmatch(r"[A-Z][\w -]*:", line):
            current = line[:-1]
            sections[current] = []
        elif current and line.startswith("  -"):
            sections[current] += re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", line.split("  ")[1])
        elif not line.strip():
            continue
        elif not line.startswith("   "):
            current = None
    return sections


def test_the_command_tree_is_walked() -> None:
    assert ["root-use"] in LEAVES
    assert ["playbook", "run"] in LEAVES
    assert ["secrets", "show"] in LEAVES
    assert ["playbook"] in COMMANDS
    assert ["playbook"] not in LEAVES


def test_root_use_help_shows_its_options_in_panels(cli: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("root-use", "--help")
    assert r.code == 0, r.err
    sections = _sections(r.out)
    assert [s for s in sections if s in PANELS] == list(PANELS)
    assert sections["Options"] == ["-h", "--help"]
    assert set(sections["MFA"]) == MFA_OPTIONS
    assert {"--days", "--credential-report", "--fail-on", "--cloudtrail"} <= set(
        sections["What to detect"]
    )
    assert {"--all-accounts", "--accounts", "--role-name", "--concurrency", "--all"} <= set(
        sections["Organization"]
    )
    assert {"--profile", "--region", "--endpoint-url", "--sandbox"} <= set(
        sections["AWS connection"]
    )
    assert {"--show-secrets", "--password-stdin"} <= set(sections["Hand-over"])
    assert {"--output", "--security-hub"} <= set(sections["Output"])
    fix = sections["The fix"]
    # The options that say whose user it is and what to do to it, together.
    assert fix[:3] == ["--create-admin", "--adopt-existing-user", "--reset-password"]
    # Every option is in exactly one panel.
    listed = [option for options in sections.values() for option in options]
    assert len(listed) == len(set(listed))


def test_playbook_run_help_shows_its_options_in_panels(cli: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    sections = _sections(cli("playbook", "run", "--help").out)
    assert "Arguments" in sections
    assert [s for s in sections if s in PANELS] == [
        "The fix",
        "MFA",
        "Hand-over",
        "Output",
        "AWS connection",
    ]
    assert sections["The fix"][:4] == [
        "--var",
        "--tag",
        "--adopt-existing-user",
        "--reset-password",
    ]
    assert set(sections["MFA"]) == MFA_OPTIONS - {"--no-mfa", "--mfa-self-service"}


@pytest.mark.parametrize("command", LEAVES, ids=[" ".join(c) for c in LEAVES])
def test_each_command_ends_with_examples_copied_whole(
    command: list[str], cli: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = cli(*command, "--help").out
    assert "  Examples:\n" in out
    block = out[out.index("  Examples:\n") :].splitlines()[1:]
    comments, commands = block[0::2], block[1::2]
    assert 2 <= len(commands) <= 4, block
    assert all(line.startswith("    # ") for line in comments), block
    for line in commands:
        # The help's last lines: each example whole on its line, under 80 columns.
        assert line.startswith(f"    remediate {' '.join(command)}"), line
        assert len(line) <= 80, line


def test_the_program_help_ends_with_examples(cli: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("--help").out
    block = out[out.index("  Examples:\n") :].splitlines()[1:]
    assert 2 <= len(block[1::2]) <= 4
    assert "    remediate root-use -h" in block


def _parse(words: list[str]) -> None:
    """Parse an example as the CLI would, down to its command, without running it."""
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("remediate", [], resilient_parsing=True)
    name, *rest = words
    assert name == "remediate"
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, words
        ctx = sub.make_context(rest[0], [], parent=ctx, resilient_parsing=True)
        command, rest = sub, rest[1:]
    with contextlib.suppress(typer.Exit):  # -h: the help, as asked
        command.make_context(ctx.info_name, rest, parent=ctx.parent)


def test_every_example_is_a_valid_command_line() -> None:
    examples = [command for entry in entries() for _, command in entry.examples]
    assert len(examples) >= 2 * len(LEAVES)
    for example in examples:
        _parse(shlex.split(example))


def test_a_misspelt_example_would_be_caught() -> None:
    with pytest.raises(typer.TyperException, match="--create-admn"):
        _parse(["remediate", "root-use", "--create-admn", "alice"])


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "top" for c in COMMANDS])
def test_h_is_help_everywhere(command: list[str], cli: Any) -> None:
    short, long = cli(*command, "-h"), cli(*command, "--help")
    assert short.code == long.code == 0, short.err
    assert short.out == long.out
    assert short.out.startswith(f"Usage: remediate {' '.join(command)}".rstrip())


def test_root_use_help_on_an_80x24_terminal() -> None:
    term = Terminal("root-use", "-h")
    try:
        assert term.wait() == 0
        # Every row as the terminal laid it out: nothing wider than the screen, so nothing
        # wrapped by the terminal.
        rows = [row.rstrip() for row in visible(term.text, 80, 1000) if row.strip()]
        for panel in PANELS:
            assert f"{panel}:" in rows
        assert "  --adopt-existing-user" in "\n".join(rows)
        # The screen left at the end: the last panel, the exit codes and the examples, whole.
        screen = [row.rstrip() for row in term.visible()]
        assert "  Examples:" in screen
        assert "    remediate root-use --create-admin alice --dry-run" in screen
        assert "    remediate root-use --sandbox --create-admin alice --mfa-auto --yes" in screen
    finally:
        term.close()
