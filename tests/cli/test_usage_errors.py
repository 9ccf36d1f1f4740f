"""Usage errors: one `error:` line in click's own words, a tip naming the help of the command
at fault, and whatever came from outside escaped (never click's own layout)."""

from __future__ import annotations

from typing import Any

import pytest

CASES = [
    # (command line, the command whose help the tip names, a fragment of the message)
    (("bogus",), "remediate", "No such command 'bogus'"),
    (("--bogus",), "remediate", "No such option: --bogus"),
    (("root-use", "--bogus"), "remediate root-use", "No such option: --bogus"),
    (("root-use", "--days", "x"), "remediate root-use", "'x' is not a valid int"),
    (("root-use", "--mfa-codes", "1"), "remediate root-use", "requires 2 arguments"),
    (("root-use", "-o", "xml"), "remediate root-use", "'xml' is not one of"),
    (("playbook", "run"), "remediate playbook run", "Missing argument 'NAME|PATH'"),
    (("playbook", "bogus"), "remediate playbook", "No such command 'bogus'"),
    (("secrets", "show", "alice"), "remediate secrets show", "Missing option '--what'"),
    (("secrets", "show", "alice", "--what", "pin"), "remediate secrets show", "'pin' is not"),
    (("root-credentials", "audit", "x"), "remediate root-credentials audit", "unexpected extra"),
    (("journal", "--limit", "many"), "remediate journal", "'many' is not a valid int"),
    (("sandbox", "serve", "--port"), "remediate sandbox serve", "requires an argument"),
    (("permissions", "a", "b"), "remediate permissions", "unexpected extra argument"),
]


@pytest.mark.parametrize(
    ("args", "command", "fragment"), CASES, ids=[" ".join(c[0]) for c in CASES]
)
def test_a_usage_error_is_one_line_and_a_tip_naming_the_commands_help(
    args: tuple[str, ...], command: str, fragment: str, cli: Any
) -> None:
    r = cli(*args)
    assert r.code == 2
    assert r.out == ""
    error, tip = r.err.splitlines()
    assert error.startswith("error: "), error
    assert fragment in error
    assert tip == f"Tip: see `{command} --help`"


def test_clicks_list_of_choices_reads_as_words(cli: Any) -> None:
    r = cli("secrets", "show", "alice")
    assert r.err.splitlines()[0] == (
        "error: Missing option '--what'. Choose from: password, access-key, mfa-qr, "
        "mfa-secret, console"
    )
    assert "\\x0a" not in r.err
    assert "\\x09" not in r.err


@pytest.mark.parametrize(
    "args",
    [
        ("journal", "a\nTip: run this\x1b[2J"),
        ("root-use", "--bogus\nTip: run this\x1b[2J"),
        ("root-use", "--days=\nTip: run this\x1b[2J"),
        ("playbook", "run", "root-use", "x\tTip: run this\x1b[2J"),
    ],
    ids=["argument", "option", "option=value", "tab"],
)
def test_a_value_from_the_command_line_is_escaped_its_newlines_too(
    args: tuple[str, ...], cli: Any
) -> None:
    r = cli(*args)
    assert r.code == 2
    lines = r.err.splitlines()
    # No forged line, no escape sequence reaching the terminal.
    assert len(lines) == 2, r.err
    assert lines[1].startswith("Tip: see `remediate")
    assert "\x1b" not in r.err
    assert "\\x1b[2J" in lines[0]


def test_a_value_from_an_options_environment_variable_is_quoted_escaped(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMEDIATE_ALLOW_PLAINTEXT_KEYRING", "x\ny\x1b[2J")
    r = cli("secrets", "list")
    assert r.code == 2
    error, tip = r.err.splitlines()
    assert "'x\\ny\\x1b[2J' is not a valid boolean" in error
    assert "\x1b" not in r.err
    assert tip == "Tip: see `remediate secrets list --help`"


ERRORS = [
    ("root-use", "--days", "0"),  # the product's own check
    ("root-use", "--credential-report", "/nonexistent/report.csv"),
    ("journal", "--since", "soon"),
    ("permissions", "--var", "x"),
    ("playbook", "show", "nope"),
    ("root-use", "--bogus"),  # click's
    ("secrets", "show", "alice"),
    ("bogus",),
]


@pytest.mark.parametrize("args", ERRORS, ids=[" ".join(a) for a in ERRORS])
def test_one_spelling_of_error(args: tuple[str, ...], cli: Any) -> None:
    r = cli(*args)
    assert r.code == 2
    first = r.err.splitlines()[0]
    assert first.startswith("error: "), r.err
    assert "Error" not in r.err.replace("error:", ""), r.err
