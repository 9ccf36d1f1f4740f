"""Every completed run that leaves something to hand over ends with the hand-over lines, resumed
or not; and every command meant to be copied (hand-over commands, the sandbox's export lines)
is on a line of its own, never wrapped at 80 columns."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from remediate.credentials import totp as mfa
from remediate.credentials.store import SecretStore
from support.terminal import Terminal

needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ACCOUNT = "123456789012"
USER = "alice"
SHOW_CONSOLE = f"remediate secrets show {USER} --account {ACCOUNT} --what console"
FORGET = f"remediate secrets forget {USER} --account {ACCOUNT}"


def codes_of(seed: str) -> tuple[str, str]:
    """The code of this step and of the next, as the owner's app shows them."""
    step = mfa.totp_step(time.time())
    totp = pyotp.TOTP(seed)
    return totp.at(step * 30), totp.at((step + 1) * 30)


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def handover_tail(text: str) -> list[str]:
    """The lines from "Hand over to" to the end."""
    lines = lines_of(text)
    start = next(n for n, line in enumerate(lines) if line.startswith("Hand over to "))
    return lines[start:]


def fix(cli: Any, moto: Any, *extra: str) -> Any:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER, "--yes")
    return cli(*args, *extra)


# --- 4. a resumed enrollment ends as a fresh run does -----------------------------------------


def test_a_fresh_run_ends_with_the_handover(moto: Any, cli: Any) -> None:
    r = fix(cli, moto, "--mfa-auto")
    assert r.code == 0, r.err
    tail = handover_tail(r.out)
    assert SHOW_CONSOLE in tail
    assert tail[-1] == FORGET


def test_finishing_a_handoff_with_mfa_codes_ends_with_the_handover(
    moto: Any, cli: Any, test_keyring: Any, tmp_path: Path
) -> None:
    r = fix(cli, moto, "--mfa-handoff", "--qr-file", str(tmp_path / "qr.png"))
    assert r.code == 0, r.err
    seed = SecretStore(test_keyring).get(ACCOUNT, USER, "mfa-seed")
    assert seed is not None
    done = fix(cli, moto, "--mfa-codes", *codes_of(seed))
    assert done.code == 0, done.err
    # The password the hand-off run kept was never shown: its command comes again, and the
    # run ends with the command that forgets it.
    tail = handover_tail(done.out)
    assert tail[:3] == [
        f"Hand over to {USER} only, in person or over a channel you trust:",
        "console sign-in:",
        SHOW_CONSOLE,
    ]
    assert tail[-1] == FORGET
    assert "mfa-qr" not in done.out  # alice's app holds the seed: nothing to show of it
    # Once shown, it is no longer named: only the forget command stays.
    shown = cli("secrets", "show", USER, "--what", "console")
    assert shown.code == 0, shown.err
    again = fix(cli, moto, "--mfa-auto")
    assert SHOW_CONSOLE not in again.out


def test_finishing_a_handoff_in_json_hands_over_what_the_earlier_run_kept(
    moto: Any, cli: Any, test_keyring: Any, tmp_path: Path
) -> None:
    """The document says what the text says: the password the hand-off run kept, never shown,
    is handed over by the run that finishes it."""
    r = fix(cli, moto, "--mfa-handoff", "--qr-file", str(tmp_path / "qr.png"))
    assert r.code == 0, r.err
    seed = SecretStore(test_keyring).get(ACCOUNT, USER, "mfa-seed")
    assert seed is not None
    done = fix(cli, moto, "--mfa-codes", *codes_of(seed), "-o", "json")
    assert done.code == 0, done.err
    handover = json.loads(done.out)["handover"]
    assert SHOW_CONSOLE in [entry["command"] for entry in handover["show"]]
    assert handover["forget"] == FORGET


@needs_pty
def test_a_rerun_after_an_interrupted_enrollment_ends_with_the_handover(moto: Any) -> None:
    from keyrings.alt.file import PlaintextKeyring

    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER, "--yes")
    term = Terminal(*args)
    try:
        term.expect("MFA code 1")
        term.type("\x03")
        assert term.wait() == 130, term.screen()
    finally:
        term.close()
    seed = SecretStore(PlaintextKeyring(), allow_plaintext=True).get(ACCOUNT, USER, "mfa-seed")
    assert seed is not None

    # The rerun resumes the pending device: scanned here and enabled with its codes.
    term = Terminal(*args)
    try:
        term.expect("MFA code 1")
        code1, code2 = codes_of(seed)
        term.type(code1 + "\n")
        term.expect("MFA code 2")
        term.type(code2 + "\n")
        assert term.wait() == 0, term.screen()
        screen = term.screen()
    finally:
        term.close()
    assert "resume enrolling pending device" in " ".join(screen.split())
    tail = handover_tail(screen)
    assert SHOW_CONSOLE in tail
    assert tail[-1] == FORGET


# --- 5. commands on lines of their own, unwrapped at 80 columns -------------------------------


@needs_pty
def test_handover_commands_are_whole_lines_at_80_columns(moto: Any, tmp_path: Path) -> None:
    # A hand-off: the show commands, the QR file's command and the finishing command (over 80
    # columns with the endpoint in it).
    qr = tmp_path / "qr-for-alice-to-scan-with-her-phone.png"
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER, "--yes")
    term = Terminal(*args, "--access", "both", "--mfa-handoff", "--qr-file", str(qr))
    try:
        assert term.wait() == 0, term.screen()
        written = lines_of(term.screen())
    finally:
        term.close()
    finish = (
        f"remediate root-use --create-admin {USER} --access both --endpoint-url "
        f"{moto.endpoint_url} --mfa-codes CODE1 CODE2"
    )
    assert len(finish) > 80
    for command in (
        str(qr),
        SHOW_CONSOLE,
        f"remediate secrets show {USER} --account {ACCOUNT} --what access-key",
        f"remediate secrets show {USER} --account {ACCOUNT} --what mfa-qr --qr-file PATH",
        finish,
    ):
        # Each is one line as written: rich put no line break into it.
        assert command in written, "\n".join(written)


@needs_pty
def test_the_sandbox_export_lines_are_whole_at_80_columns(tmp_path: Path) -> None:
    # A directory whose keyring path makes its export line longer than the terminal is wide.
    directory = tmp_path / ("a-sandbox-directory-with-a-long-name-" + "x" * 20)
    term = Terminal("sandbox", "serve", "--dir", str(directory))
    try:
        term.expect("Serving until Ctrl-C", timeout=60)
        written = term.screen().split("\n")
    finally:
        term.close()
    keyring_line = f"export REMEDIATE_SANDBOX_KEYRING={directory / 'sandbox-keyring.json'}"
    assert len(keyring_line) > 80
    assert keyring_line in written
    assert f"export XDG_STATE_HOME={directory / 'state'}" in written
