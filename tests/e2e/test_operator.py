"""The operator's experience (issue 13): every failure a person can cause named, with its exit
code; Ctrl-C anywhere; the password asked once the plan is confirmed; waiting that says why.
The interactive cases run the real command on an 80x24 pseudo-terminal."""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from support.faultproxy import FaultProxy, Faults
from support.prompters import Scripted
from support.terminal import Terminal

ACCOUNT = "123456789012"
ADMIN = ("root-use", "--create-admin", "alice")
GOOD_PASSWORD = "Correct-Horse-Battery-9"

needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def users(moto: Any) -> list[str]:
    return [u["UserName"] for u in moto.client("iam").list_users()["Users"]]


def one_error(err: str) -> str:
    """The one error line, after checking there is exactly one and no traceback."""
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    assert "internal error" not in err
    return errors[0]


# --- every failure classified ---------------------------------------------------------------


class _NotAws(BaseHTTPRequestHandler):
    """A web server that is not AWS: an HTML page for every request."""

    def do_POST(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><p>Hi</p></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_aws() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_endpoint_that_does_not_speak_aws(cli: Any, not_aws: str) -> None:
    r = cli("root-use", "--endpoint-url", not_aws)
    assert r.code == 3, r.err
    assert one_error(r.err) == (
        "error: the endpoint's answer to sts:GetCallerIdentity is not an AWS API response"
    )
    assert "Tip: check --endpoint-url" in r.err


def test_an_unreachable_host(cli: Any) -> None:
    port = closed_port()
    r = cli("root-use", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert r.code == 3, r.err
    assert re.fullmatch(
        rf"error: cannot reach the AWS endpoint http://127\.0\.0\.1:{port}/ for "
        r"sts:GetCallerIdentity \(\[Errno \d+\] Connection refused\)",
        one_error(r.err),
    )


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, ("--endpoint-url", "notaurl"), "invalid --endpoint-url 'notaurl'"),
        (
            {"AWS_ENDPOINT_URL": "notaurl"},
            (),
            "the sts endpoint from AWS_ENDPOINT_URL or the AWS config is not a URL",
        ),
        ({}, ("--region", "us east 1"), "invalid --region 'us east 1'"),
        ({"AWS_DEFAULT_REGION": "us east 1"}, (), "invalid AWS region 'us east 1' (from AWS_"),
        ({}, ("--profile", "nosuch"), "AWS profile 'nosuch' not found (named by --profile)"),
        ({"AWS_PROFILE": "nosuch"}, (), "AWS profile 'nosuch' not found (named by AWS_PROFILE)"),
        (
            {"AWS_PROFILE": "chained"},
            (),
            'the AWS config cannot be used: The source_profile "ghost" referenced in the '
            'profile "chained" does not exist',
        ),
    ],
    ids=[
        "malformed-url",
        "malformed-url-env",
        "bad-region",
        "bad-region-env",
        "profile-option",
        "profile-env",
        "source-profile",
    ],
)
def test_input_the_person_gave_is_named_with_exit_2(
    cli: Any,
    moto: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    args: tuple[str, ...],
    expected: str,
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = ghost\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if env.get("AWS_PROFILE") == "chained":
        # Keys in the environment come before any profile in boto3's chain.
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    if "--endpoint-url" not in args and "AWS_ENDPOINT_URL" not in env:
        args = (*args, "--endpoint-url", moto.endpoint_url)
    r = cli(*ADMIN, "--no-mfa", "--yes", *args)
    monkeypatch.undo()  # the checks below use the test's own AWS settings
    assert r.code == 2, r.err
    assert expected in one_error(r.err)
    assert users(moto) == []


def test_a_profile_of_the_persons_does_not_stop_the_sandbox(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    r = cli("root-use", "--sandbox", "--output", "json")
    assert r.code == 1, r.err
    assert r.json()["root_in_use"] is True


@pytest.mark.parametrize("where", ["file", "home"])
def test_an_unusable_state_directory_is_named_before_any_change(
    cli: Any, moto: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    if where == "file":
        taken = tmp_path / "a-file"
        taken.write_text("")
        monkeypatch.setenv("XDG_STATE_HOME", str(taken))
        expected = f"cannot create the state directory {taken}/remediate: Not a directory"
    else:
        monkeypatch.delenv("XDG_STATE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "nonexistent"))
        expected = (
            f"cannot use the state directory {tmp_path}/nonexistent/.local/state/remediate: "
            f"the home directory {tmp_path}/nonexistent does not exist"
        )
    r = cli(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--yes")
    assert r.code == 2, r.err
    assert one_error(r.err) == f"error: {expected}"
    assert users(moto) == []
    assert not (tmp_path / "nonexistent").exists(), "a home directory was created"


def test_a_real_bug_is_still_an_internal_error(
    cli: Any, moto: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import remediate.detect.judge

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(remediate.detect.judge, "judge_root_use", broken)
    monkeypatch.setattr(remediate.detect.service, "judge_root_use", broken)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.code == 3
    assert r.err.splitlines()[0] == "error: internal error: ZeroDivisionError"


# --- --password-prompt: after the plan, asked again on a policy failure ---------------------


def test_password_is_asked_after_the_confirmation_and_again_when_refused(
    cli: Any, moto: Any
) -> None:
    person = Scripted(["y"], passwords=["short", GOOD_PASSWORD])
    r = cli(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--password-prompt",
            prompter=person)  # fmt: skip
    assert r.code == 0, r.err
    assert person.asked == [
        f"Apply 5 changes to account {ACCOUNT}?",
        "Console password for alice",
        "Console password for alice",
    ]
    assert "a password you type after confirming" in r.out
    assert "Try again (2 more tries)." in r.err
    assert GOOD_PASSWORD not in r.out + r.err
    profile = moto.client("iam").get_login_profile(UserName="alice")["LoginProfile"]
    assert profile["UserName"] == "alice"


def test_three_refused_passwords_change_nothing(cli: Any, moto: Any) -> None:
    person = Scripted(["y"], passwords=["short"] * 3)
    r = cli(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--password-prompt",
            prompter=person)  # fmt: skip
    assert r.code == 2, r.err
    assert "; nothing was changed" in one_error(r.err)
    assert users(moto) == []


def test_a_dry_run_asks_for_no_password(cli: Any, moto: Any) -> None:
    person = Scripted([])
    r = cli(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--password-prompt",
            "--dry-run", prompter=person)  # fmt: skip
    assert r.code == 0, r.err
    assert person.asked == []


@needs_pty
def test_password_prompt_on_a_terminal(moto: Any) -> None:
    term = Terminal(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--password-prompt")
    try:
        term.expect("? [y/N]: ")
        assert "Console password" not in term.screen()  # not before the plan
        assert "5 changes to apply." in term.screen()
        term.type("y\n")
        term.expect("Console password for alice: ")
        term.type("short\n")
        term.expect("Console password for alice (again): ")
        term.type("short\n")
        term.expect("Try again (2 more tries).")
        term.expect("Console password for alice: ", count=2)
        term.type(GOOD_PASSWORD + "\n")
        term.expect("Console password for alice (again): ", count=2)
        term.type(GOOD_PASSWORD + "\n")
        assert term.wait() == 0, term.screen()
        assert GOOD_PASSWORD not in term.screen()
        assert "short" not in term.screen().replace("Try again", "")
    finally:
        term.close()
    assert moto.client("iam").get_login_profile(UserName="alice")["LoginProfile"]


# --- Ctrl-C: a newline, one line, exit 130 ------------------------------------------------


@needs_pty
def test_ctrl_c_at_the_confirmation_changes_nothing(moto: Any) -> None:
    term = Terminal(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa")
    try:
        term.expect("? [y/N]: ")
        term.type("\x03")
        assert term.wait() == 130, term.screen()
        assert term.screen().endswith("[y/N]: ^C\ninterrupted: nothing was changed\n")
    finally:
        term.close()
    assert users(moto) == []


@needs_pty
def test_ctrl_c_at_the_password_prompt_changes_nothing(moto: Any) -> None:
    term = Terminal(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--yes",
                    "--password-prompt")  # fmt: skip
    try:
        term.expect("Console password for alice: ")
        term.type("\x03")
        assert term.wait() == 130, term.screen()
        lines = term.screen().rstrip("\n").split("\n")
        assert lines[-1] == "interrupted: nothing was changed"
        assert lines[-2].startswith("Console password for alice: ")
    finally:
        term.close()
    assert users(moto) == []


# --- waiting for another run's lock -----------------------------------------------------------


@needs_pty
def test_waiting_for_the_lock_says_who_holds_it_and_ctrl_c_stops(moto: Any) -> None:
    from remediate.playbook.lock import account_lock

    with account_lock(ACCOUNT):
        term = Terminal(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--yes")
        try:
            term.expect(
                f"waiting for another remediate run on account {ACCOUNT} (pid {os.getpid()} since "
            )
            term.expect("giving up after 120 s (--lock-timeout)")
            # The spinner says the same while it waits.
            term.expect(f"Waiting for the lock on account {ACCOUNT}: ")
            term.type("\x03")
            assert term.wait() == 130, term.screen()
            shown = [row.rstrip() for row in term.visible() if row.strip()]
            assert shown[-1] == "interrupted: nothing was changed"
            assert not any("Waiting for the lock" in row for row in shown)  # the spinner is gone
        finally:
            term.close()
    assert users(moto) == []


def test_lock_timeout_names_the_holder(cli: Any, moto: Any) -> None:
    from remediate.playbook.lock import account_lock

    with account_lock(ACCOUNT):
        r = cli(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--yes",
                "--lock-timeout", "0.5")  # fmt: skip
    assert r.code == 3, r.err
    assert re.search(
        rf"error: another remediate run is changing account {ACCOUNT} on this machine "
        rf"\(pid {os.getpid()} since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\)\); "
        r"waited 0\.5 s",
        one_error(r.err),
    )
    assert "--lock-timeout SECONDS" in r.err
    assert users(moto) == []
    # Released, the lock lets the run through at once.
    again = cli(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--yes",
                "--lock-timeout", "0")  # fmt: skip
    assert again.code == 0, again.err


# --- -v: detection's phases and botocore's retries --------------------------------------------


def test_verbose_follows_detection_and_retries(
    cli: Any, moto: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest's log handlers make the CLI's logging.basicConfig a no-op: caplog sees what -v shows.
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "8")
    with FaultProxy(moto.endpoint_url, Faults(fault_rate=0.4, seed=7)) as proxy:
        r = cli("-v", "root-use", "--endpoint-url", proxy.endpoint_url)
        injected = proxy.faults.injected
    assert r.code == 1, r.err
    text = caplog.text
    assert "asking IAM to generate the credential report" in text
    assert "reading the credential report" in text
    assert injected > 0
    assert re.search(
        r"(Throttling|ConnectionClosedError|\w+Error) \(attempt \d of 8\); botocore tries again",
        text,
    )


# --- text that fits and says what it means -----------------------------------------------------

COMMANDS = [
    (),
    ("root-use",),
    ("permissions",),
    ("journal",),
    ("playbook",),
    ("playbook", "list"),
    ("playbook", "show"),
    ("playbook", "run"),
    ("secrets",),
    ("secrets", "list"),
    ("secrets", "show"),
    ("secrets", "forget"),
    ("root-credentials",),
    ("root-credentials", "audit"),
    ("root-credentials", "centralize"),
    ("root-credentials", "delete"),
    ("sandbox",),
    ("sandbox", "serve"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "top" for c in COMMANDS])
def test_help_fits_80_columns_with_whole_summaries(
    cli: Any, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = cli(*command, "--help")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert all(len(line) <= 80 for line in lines), [ln for ln in lines if len(ln) > 80]
    if "Commands:" in lines:
        listed = lines[lines.index("Commands:") + 1 :]
        listed = listed[: listed.index("")] if "" in listed else listed  # the epilog follows
        summaries = [ln for ln in listed if ln.startswith("  ") and not ln.startswith("   ")]
        assert summaries
        for line in summaries:
            assert not line.endswith("..."), line  # cut mid-sentence
            assert line.endswith("."), line
            assert len(line) <= 80
    if command and command[0] not in ("playbook", "secrets", "root-credentials", "sandbox"):
        assert "Exit codes:" in r.out
    if len(command) == 2:
        assert "Exit codes:" in r.out


def test_each_command_lists_only_its_own_exit_codes(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line of exit codes each

    def codes(*command: str) -> str:
        out = cli(*command, "--help").out
        # The exit codes' paragraph: the examples follow it.
        return " ".join(out[out.index("Exit codes:") : out.index("Examples:")].split())

    assert "1 root in use" in codes("root-use")
    assert "130 interrupted" in codes("root-use")
    run = codes("playbook", "run")
    assert "root in use" not in run
    assert "1 " not in run.split(";")[1]
    assert "130 interrupted" in run
    assert "1 some root user holds credentials" in codes("root-credentials", "audit")
    assert "credentials" not in codes("root-credentials", "delete").split(";")[1]
    assert codes("permissions") == (
        "Exit codes: 0 printed; 2 invalid input (a playbook that does not load)."
    )
    assert "0 stopped with Ctrl-C" in codes("sandbox", "serve")


def test_days_help_says_the_window_is_counted_to_the_second(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = " ".join(cli("root-use", "--help").out.split())
    assert "counted to the second back from now, not in calendar days" in out


def test_the_verdict_says_where_the_window_starts(cli: Any, moto: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from remediate.sandbox.server import RootState

    # Used exactly two days (and a few seconds) ago: outside a two-day window, and said so.
    moto.set_root(RootState(password_last_used=datetime.now(UTC) - timedelta(days=2)))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--days", "2")
    assert r.code == 0, r.err
    assert re.search(
        r"OK: the root user of 123456789012 was not used in the last 2 days \(since "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\.",
        r.out,
    )
    assert "Next step" not in r.out
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--days", "3")
    assert r.code == 1
    assert "Next step: remediate root-use --create-admin NAME" in r.out


def test_a_pending_device_in_the_sandbox_is_not_said_to_resume() -> None:
    import io

    from rich.console import Console

    from remediate.playbook.runner import Planned, RunReport
    from remediate.render.outcome import render_outcome
    from remediate.steps.base import Change, MfaDevice, RunOutcome
    from remediate.steps.virtual_mfa import VirtualMfaArgs, VirtualMfaStep

    report = RunReport("root-use", dry_run=False)
    step = VirtualMfaStep("mfa", VirtualMfaArgs("alice"))
    report.steps.append(Planned(step, Change("x", "create")))
    outcome = RunOutcome(mfa=MfaDevice("arn:aws:iam::123456789012:mfa/alice", enabled=False))
    for sandbox, expected in (
        (True, "pending (a --sandbox rerun starts afresh: `remediate sandbox serve`"),
        # Outside the sandbox the hand-over names the exact command that finishes it.
        (False, "alice: pending\n"),
    ):
        out = io.StringIO()
        render_outcome(Console(file=out, width=200), report, outcome, show_secrets=False,
                       sandbox=sandbox)  # fmt: skip
        assert expected in out.getvalue()
        assert ("sandbox" in out.getvalue()) is sandbox


@needs_pty
def test_on_an_80_column_terminal_words_are_never_split(moto: Any) -> None:
    term = Terminal(*ADMIN, "--endpoint-url", moto.endpoint_url, "--no-mfa", "--yes",
                    size=(80, 200))  # fmt: skip
    try:
        assert term.wait() == 0, term.screen()
    finally:
        term.close()
    rows = [row.rstrip() for row in term.visible()]
    text = "\n".join(rows)
    # The policy ARN moves to a line of its own instead of "Adminis|tratorAccess".
    assert "arn:aws:iam::aws:policy/AdministratorAccess" in text
    assert "Adminis\n" not in text
    # A plan detail wraps under itself, not at the left edge.
    detail = next(n for n, row in enumerate(rows) if "console access for alice with" in row)
    assert rows[detail].startswith(" " * 14 + "console access")
    assert rows[detail + 1].startswith(" " * 14)
    assert rows[detail + 1].strip()
    for row in rows:
        assert len(row) <= 80


@needs_pty
def test_the_sweep_table_fits_80_columns(moto: Any) -> None:
    term = Terminal("root-use", "--sandbox", "--all-accounts", size=(80, 60))
    try:
        assert term.wait() == 1, term.screen()
    finally:
        term.close()
    rows = [row.rstrip() for row in term.visible() if row.strip()]
    # Every line as written fits: none is cut by Rich or wrapped by the terminal.
    assert all(len(line) <= 80 for line in term.screen().splitlines()), term.screen()
    rule = next(n for n, row in enumerate(rows) if row.startswith("━"))
    top = next(n for n in range(rule, -1, -1) if "┃" not in rows[n - 1])
    # Every header whole, on one line or two at its space: none cut ("Evidenc|e", "Ro|ke").
    cells = [[cell.strip() for cell in row.split("┃")] for row in rows[top:rule]]
    headers = [" ".join(filter(None, column)) for column in zip(*cells, strict=True)]
    assert headers == [
        "Account",
        "Name",
        "Verdict",
        "Last root use",
        "Evidence",
        "Root MFA",
        "Root keys",
    ], rows[top:rule]
    table = "\n".join(rows[rule : rule + 12])
    for word in ("password", "access_key_1", "IN USE", "master", "never"):
        assert word in table, table
    # The time of the last use beside its date: the common case takes one line an account.
    summary = rows.index("4 accounts: 2 in use, 2 not in use, 0 undetermined")
    assert summary == rule + 5, rows[rule:summary]
    assert sum(bool(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)) for row in rows[rule:]) == 3
    assert "4 accounts: 2 in use, 2 not in use, 0 undetermined" in rows
    assert all("SANDBOX" not in row or row.startswith("SANDBOX") for row in rows)


@needs_pty
def test_a_long_wait_shows_a_spinner_on_a_terminal_only(moto: Any, cli: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from remediate.sandbox.server import RootState

    # No report yet: GenerateCredentialReport answers STARTED, and the report is waited for.
    moto.reset(report_ready=False)
    moto.set_root(RootState(password_last_used=datetime.now(UTC) - timedelta(days=2)))
    term = Terminal("root-use", "--endpoint-url", moto.endpoint_url)
    try:
        term.expect("Waiting for IAM to generate the credential report")
        assert term.wait() == 1, term.screen()
        rows = [row.rstrip() for row in term.visible() if row.strip()]
        assert not any("Waiting for IAM" in row for row in rows)  # cleared once done
    finally:
        term.close()

    moto.reset(report_ready=False)
    moto.set_root(RootState(password_last_used=datetime.now(UTC) - timedelta(days=2)))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.code == 1, r.err
    assert "Waiting" not in r.err  # standard error is no terminal here
