"""The smaller promises of the first ten minutes: each error or next step names a way on that
works where it is said (the secrets commands, a stopped sandbox, a --sandbox run, a dry run
across accounts, a missing report file, a refused loopback port), and the sandbox's caller is
the sandbox's own identity, not the emulator's."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from remediate.sandbox.server import SANDBOX_ACCOUNT_ID, SANDBOX_CALLER_ARN, SANDBOX_CREDENTIALS


def tip(err: str) -> str:
    [line] = [ln for ln in err.splitlines() if ln.startswith("Tip: ")]
    return line


# --- secrets: a tip for the secrets commands ----------------------------------------------------


@pytest.mark.parametrize("args", [("list",), ("show", "alice", "--what", "password")])
def test_secrets_without_a_keyring_tip_no_option_it_lacks(cli: Any, args: tuple[str, ...]) -> None:
    keyring.set_keyring(fail.Keyring())
    r = cli("secrets", *args)
    assert r.code == 2, r.err
    # `secrets list` and `show` have no --show-secrets: that is root-use's.
    assert "--show-secrets" not in r.err
    assert tip(r.err).startswith("Tip: Install or unlock an encrypted keyring backend")


def test_secrets_with_a_plaintext_keyring_tip_the_opt_in(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(ring)
    monkeypatch.delenv("REMEDIATE_ALLOW_PLAINTEXT_KEYRING", raising=False)
    r = cli("secrets", "list")
    assert r.code == 2, r.err
    assert "--show-secrets" not in r.err
    assert "--allow-plaintext-keyring" in tip(r.err)


# --- a stopped `sandbox serve` ------------------------------------------------------------------


def test_a_stopped_sandbox_says_so_and_how_to_go_on(
    cli: Any, moto: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `sandbox serve` leaves once stopped: its keyring beside no endpoint file.
    monkeypatch.setenv("REMEDIATE_SANDBOX_KEYRING", str(tmp_path / "sandbox-keyring.json"))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.code == 2, r.err
    assert "not that sandbox (not serving)" not in r.err
    assert "the sandbox stopped; a restart picks a new port: paste its lines again" in r.err


# --- a refused connection to a loopback port ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_a_refused_loopback_port_asks_whether_the_sandbox_serves(cli: Any, host: str) -> None:
    r = cli("root-use", "--endpoint-url", f"http://{host}:{free_port()}")
    assert r.code == 3, r.err
    assert "cannot reach the AWS endpoint" in r.err
    assert "is `remediate sandbox serve` running?" in tip(r.err)


def test_a_refused_remote_endpoint_does_not_mention_the_sandbox() -> None:
    import botocore.exceptions

    from remediate.aws.errors import translate

    exc = botocore.exceptions.EndpointConnectionError(endpoint_url="https://iam.example.com/")
    assert "sandbox" not in (translate(exc, "iam:GetUser").tip or "")


# --- a missing --credential-report file ---------------------------------------------------------


def test_a_missing_credential_report_file_has_a_tip(cli: Any, tmp_path: Path) -> None:
    missing = tmp_path / "report.csv"
    r = cli("root-use", "--credential-report", str(missing))
    assert r.code == 2, r.err
    assert str(missing) in r.err.splitlines()[0]
    assert "aws iam get-credential-report" in tip(r.err)


# --- a dry run across accounts prompts nothing --------------------------------------------------


def test_a_dry_run_across_accounts_is_not_refused_for_mfa_prompts(
    cli: Any, moto: Any, admin_org: Any
) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--all-accounts")
    r = cli(*args, "--create-admin", "alice", "--dry-run")
    assert "cannot prompt" not in r.err
    # Planned where root is in use (the seeded "locked" account cannot be opened: exit 3).
    assert r.code == 3, r.err
    assert r.out.count("Plan for playbook root-use in account") == 3
    # The run itself is refused, and its tip names every way that works across accounts.
    r = cli(*args, "--create-admin", "alice", "--yes")
    assert r.code == 2, r.err
    assert "MFA enrollment cannot prompt in each account" in r.err
    for option in ("--mfa-handoff", "--mfa-auto", "--mfa-self-service", "--no-mfa"):
        assert option in tip(r.err)


# --- root-credentials audit --sandbox: a next step that works there -----------------------------


def test_the_sandbox_audit_next_step_works_on_the_next_sandbox(
    cli: Any, moto: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    r = cli("root-credentials", "audit", "--sandbox")
    assert r.code == 1, r.err
    [step] = [ln for ln in r.out.splitlines() if ln.startswith("Next step: ")]
    # The member accounts' ids are new in every --sandbox run: the command names none.
    assert not re.search(r"\d{12}", step), step
    assert "remediate root-credentials delete --sandbox --all-accounts" in step


# --- the sandbox's caller -----------------------------------------------------------------------


def test_the_sandbox_keys_call_as_the_sandbox_operator(moto: Any) -> None:
    import boto3

    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=SANDBOX_CREDENTIALS["AccessKeyId"],
        aws_secret_access_key=SANDBOX_CREDENTIALS["SecretAccessKey"],
    )
    me = sts.get_caller_identity()
    assert me["Arn"] == SANDBOX_CALLER_ARN
    assert me["Account"] == SANDBOX_ACCOUNT_ID
    assert "moto" not in me["Arn"]


def test_a_journal_of_a_run_on_the_sandbox_names_the_sandbox_caller(
    cli: Any, moto: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after pasting `sandbox serve`'s lines: its keys, its endpoint, its state directory.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SANDBOX_CREDENTIALS["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SANDBOX_CREDENTIALS["SecretAccessKey"])
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", "alice")
    r = cli(*args, "--no-mfa", "--yes")
    assert r.code == 0, r.err
    journal = tmp_path / "state" / "remediate" / "journal.jsonl"
    callers = {json.loads(line)["caller"] for line in journal.read_text().splitlines()}
    assert callers == {SANDBOX_CALLER_ARN}
