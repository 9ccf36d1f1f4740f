"""Screens that fit: detection on one 24-line screen with the verdict on it, each hygiene finding
on one line and its long text behind `root-use --explain ID`, and a dry run that ends saying
nothing was changed and how to apply."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from remediate.findings.checks import CHECKS
from remediate.sandbox.server import RootState
from support.terminal import Terminal

needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

DRY_RUN_END = "Dry run: nothing was changed. To apply: the same command without --dry-run."
HYGIENE = ("root-access-keys-active", "root-mfa-not-active", "root-signing-certificates-active")


def every_finding(moto: Any) -> None:
    """Root used (its password, yesterday) with every hygiene finding: keys, no MFA, a cert."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    moto.set_root(
        RootState(
            password_last_used=now - timedelta(days=1),
            key_1_active=True,
            key_1_last_used=now - timedelta(days=60),
            cert_1_active=True,
        )
    )


# --- findings: one line each, the long text behind --explain ---------------------------------


def test_each_finding_is_one_line_and_the_explain_command_follows(moto: Any, cli: Any) -> None:
    every_finding(moto)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.code == 1, r.err
    lines = r.out.splitlines()
    start = lines.index("Findings (3):")
    assert [line.split()[:2] for line in lines[start + 1 : start + 4]] == [
        ["CRITICAL", "root-access-keys-active:"],
        ["HIGH", "root-mfa-not-active:"],
        ["MEDIUM", "root-signing-certificates-active:"],
    ]
    assert lines[start + 4] == "Why and how to fix: remediate root-use --explain ID"
    assert "Fix:" not in r.out
    assert "console" not in r.out


def test_one_finding_names_its_own_explain_command(moto: Any, cli: Any) -> None:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert "Why and how to fix: remediate root-use --explain root-mfa-not-active" in r.out


@pytest.mark.parametrize("finding", [c.id for c in CHECKS])
def test_explain_prints_what_why_and_how_to_fix(cli: Any, finding: str) -> None:
    r = cli("root-use", "--explain", finding)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].startswith(f"{finding} (")
    for heading in ("What: ", "Why:  ", "Fix:  ", "See:  https://docs.aws.amazon.com/"):
        assert heading in r.out
    document = json.loads(cli("root-use", "--explain", finding, "-o", "json").out)
    assert set(document) == {"id", "severity", "what", "why", "fix", "reference"}
    assert document["id"] == finding
    assert all(document.values())


def test_explain_of_the_mfa_finding_gives_the_console_steps(cli: Any) -> None:
    r = cli("root-use", "--explain", "root-mfa-not-active")
    assert "Assign MFA device" in r.out
    assert "(HIGH)" in r.out


def test_explain_of_an_unknown_id_exits_2_with_the_known_ids(cli: Any) -> None:
    r = cli("root-use", "--explain", "root-mfa")
    assert r.code == 2
    assert r.out == ""
    assert r.err.startswith("error: --explain: no finding has the id 'root-mfa'")
    tip = next(line for line in r.err.splitlines() if line.startswith("Tip: "))
    for finding in (*HYGIENE, "root-user-in-use"):
        assert finding in tip


@pytest.mark.parametrize(
    "extra",
    [("--sandbox",), ("--create-admin", "alice"), ("--all-accounts",), ("-o", "asff")],
    ids=["sandbox", "create-admin", "all-accounts", "asff"],
)
def test_explain_with_other_options_is_refused(cli: Any, extra: tuple[str, ...]) -> None:
    r = cli("root-use", "--explain", "root-mfa-not-active", *extra)
    assert r.code == 2, r.err
    assert r.out == ""
    assert "--explain" in r.err.splitlines()[0]


@needs_pty
def test_plain_detection_fits_a_24_line_screen_with_the_verdict_on_it(moto: Any) -> None:
    every_finding(moto)
    term = Terminal("root-use", "--endpoint-url", moto.endpoint_url)
    try:
        assert term.wait() == 1, term.screen()
        shown = term.screen().rstrip("\n").split("\n")
        rows = term.visible()
    finally:
        term.close()
    # Everything it printed (its lines as wrapped at 80 columns) is still on the screen, with a
    # row left for the shell's prompt.
    assert sum(max(1, -(-len(line) // 80)) for line in shown) <= 23, "\n".join(rows)
    assert any(row.startswith("ROOT IN USE: ") for row in rows), "\n".join(rows)
    assert any(row.startswith("Next step: ") for row in rows)


@needs_pty
def test_the_sandbox_detection_fits_a_24_line_screen(moto: Any) -> None:
    term = Terminal("root-use", "--sandbox")
    try:
        assert term.wait() == 1, term.screen()
        rows = term.visible()
    finally:
        term.close()
    assert rows[0].startswith("SANDBOX: "), "\n".join(rows)
    assert any(row.startswith("ROOT IN USE: ") for row in rows)


# --- a dry run's last line ------------------------------------------------------------------


def test_a_dry_run_ends_saying_nothing_was_changed_and_how_to_apply(moto: Any, cli: Any) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", "alice")
    r = cli(*args, "--mfa-auto", "--dry-run")
    assert r.code == 0, r.err
    lines = r.out.rstrip("\n").split("\n")
    assert lines[-1] == DRY_RUN_END
    assert lines[-2] == "6 changes planned."
    assert "to apply." not in r.out
    # Applied, the plan's line says what is about to be applied, as before.
    r = cli(*args, "--mfa-auto", "--yes")
    assert r.code == 0, r.err
    assert "6 changes to apply." in r.out
    assert DRY_RUN_END not in r.out
    # Nothing left: a dry run says so instead.
    r = cli(*args, "--mfa-auto", "--dry-run")
    assert r.out.rstrip("\n").split("\n")[-1] == (
        "Nothing needs changing: everything is already in place."
    )


def test_a_dry_run_across_accounts_says_it_once_at_the_end(
    moto: Any, cli: Any, admin_org: Any
) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--all-accounts")
    r = cli(*args, "--create-admin", "alice", "--mfa-auto", "--dry-run")
    assert r.out.count("Plan for playbook root-use") > 1
    assert r.out.count(DRY_RUN_END) == 1
    assert r.out.rstrip("\n").split("\n")[-1] == DRY_RUN_END


def test_a_playbook_dry_run_ends_the_same_way(moto: Any, cli: Any) -> None:
    moto.client("iam").create_group(GroupName="Developers")
    r = cli(
        "playbook", "run", "onboard-user", "--var", "user=bob", "--var", "group=Developers",
        "--endpoint-url", moto.endpoint_url, "--dry-run",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.out.rstrip("\n").split("\n")[-1] == DRY_RUN_END


# --- `secrets show --what mfa-qr`: the whole code on the screen, or refused --------------------


ALICE = "alice"
ACCOUNT = "123456789012"
QR_GLYPHS = set("▄▀█")


@pytest.fixture
def kept_seed() -> str:
    """alice's MFA seed in the keyring file a child process uses (as a --mfa-auto run leaves
    it), returned as the otpauth URI its QR code must carry."""
    import pyotp
    from keyrings.alt.file import PlaintextKeyring

    from remediate.credentials.store import SecretStore
    from remediate.credentials.totp import otpauth_uri

    seed = pyotp.random_base32(64)  # as long as the seeds AWS gives
    SecretStore(PlaintextKeyring(), allow_plaintext=True).put(ACCOUNT, ALICE, "mfa-seed", seed)
    return otpauth_uri(seed, ALICE, ACCOUNT)


def show_qr(*extra: str, size: tuple[int, int] = (80, 24)) -> Terminal:
    return Terminal("secrets", "show", ALICE, "--what", "mfa-qr", *extra, size=size)


@needs_pty
@pytest.mark.parametrize("size", [(80, 24), (100, 40), (60, 30)], ids=["80x24", "100x40", "60x30"])
def test_secrets_show_draws_the_whole_code_on_the_screen(
    kept_seed: str, size: tuple[int, int]
) -> None:
    from support.screen import decode

    term = show_qr(size=size)
    try:
        term.expect("Press Enter: ")
        term.settle()
        rows = term.visible()
        # All of it on the screen while the prompt waits, and a camera reads it.
        assert decode(rows) == [kept_seed], "\n".join(rows)
        assert any("Press Enter: " in row for row in rows)
        term.type("\n")
        assert term.wait() == 0, term.screen()
    finally:
        term.close()


@needs_pty
def test_secrets_show_on_a_terminal_too_small_is_refused_with_the_file_alternative(
    kept_seed: str,
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    from remediate.credentials.store import SecretStore

    term = show_qr(size=(80, 20))
    try:
        assert term.wait() == 2, term.screen()
        screen = term.screen()
    finally:
        term.close()
    assert "error: the QR code does not fit this terminal (80x20)" in screen
    assert "--qr-file PATH" in " ".join(screen.split())
    assert "--what mfa-secret" in " ".join(screen.split())
    assert not QR_GLYPHS & set(screen)
    # Nothing was handed over.
    assert "mfa-seed" not in SecretStore(PlaintextKeyring(), allow_plaintext=True).shown(
        ACCOUNT, ALICE
    )
