"""`remediate secrets list|show|forget`: what the keyring holds, handing it over, deleting it."""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail, null

from remediate.credentials import totp as mfa
from remediate.credentials.store import SecretStore
from support.qrdecode import png_to_matrix, terminal_to_matrix

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
USER = "alice"


@pytest.fixture
def fixed(moto: Any, cli: Any, test_keyring: Any) -> dict[str, str]:
    """After `root-use --create-admin alice --access both --mfa-auto`: the secrets it kept."""
    r = cli(
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-admin",
        USER,
        "--access",
        "both",
        "--mfa-auto",
        "--yes",
    )
    assert r.code == 0, r.err
    store = SecretStore(test_keyring)
    secrets = {
        kind: store.get(ACCOUNT, USER, kind) for kind in ("password", "access-key", "mfa-seed")
    }
    assert all(secrets.values()), "the run did not keep every secret"
    return {k: v for k, v in secrets.items() if v}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@contextlib.contextmanager
def terminal_stdout() -> Iterator[Terminal]:
    """Standard output as a terminal: what `secrets show --what mfa-qr` draws lands here. (Set
    in the test's body: capsys sets sys.stdout again when the test starts.)"""
    with pytest.MonkeyPatch.context() as patch:
        screen = Terminal()
        patch.setattr(sys, "stdout", screen)
        yield screen


@pytest.fixture
def store(test_keyring: Any) -> SecretStore:
    return SecretStore(test_keyring)


def values(secrets: dict[str, str]) -> list[str]:
    """Every secret value, the parts of the access key included."""
    key = json.loads(secrets["access-key"])
    return [secrets["password"], secrets["mfa-seed"], key["SecretAccessKey"], secrets["access-key"]]


# --- list ---------------------------------------------------------------------------------------


def test_list_names_the_secrets_never_the_values(cli: Any, fixed: dict[str, str]):
    r = cli("secrets", "list")
    assert r.code == 0, r.err
    # A kept MFA seed is a second factor in the keyring: marked as such, with how to forget it.
    defeats = (
        f"the mfa-seed defeats MFA until forgotten: remediate secrets forget {USER} --account "
        f"{ACCOUNT}"
    )
    assert r.out == f"{ACCOUNT}  {USER}  access-key, mfa-seed, password  ({defeats})\n"

    j = cli("secrets", "list", "--output", "json")
    assert j.code == 0, j.err
    doc = j.json()
    assert doc["secrets"] == [
        {
            "account_id": ACCOUNT,
            "user": USER,
            "kinds": ["access-key", "mfa-seed", "password"],
            "warnings": [defeats],
        }
    ]
    assert "in-memory" in doc["keyring"]
    for value in values(fixed):
        assert value not in r.out + r.err + j.out + j.err


def test_list_an_empty_keyring(cli: Any):
    r = cli("secrets", "list")
    assert r.code == 0, r.err
    assert r.out.startswith("No secrets in ")
    assert cli("secrets", "list", "--output", "json").json()["secrets"] == []


def test_list_groups_by_account_and_user(cli: Any, store: SecretStore):
    store.put(OTHER_ACCOUNT, "bob", "password", "pw-bob")
    store.put(ACCOUNT, USER, "mfa-seed", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    store.put(ACCOUNT, USER, "password", "pw-alice")
    r = cli("secrets", "list")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        f"{ACCOUNT}  {USER}  mfa-seed, password  (the mfa-seed defeats MFA until forgotten: "
        f"remediate secrets forget {USER} --account {ACCOUNT})",
        f"{OTHER_ACCOUNT}  bob  password",
    ]


# --- show ---------------------------------------------------------------------------------------


def test_show_hands_over_each_secret(moto: Any, cli: Any, fixed: dict[str, str], tmp_path: Path):
    r = cli("secrets", "show", USER, "--what", "password")
    assert (r.code, r.out) == (0, fixed["password"] + "\n"), r.err

    key = json.loads(fixed["access-key"])
    r = cli("secrets", "show", USER, "--what", "access-key")
    assert r.code == 0, r.err
    # A ~/.aws/credentials profile named after the user, as botocore reads one.
    assert r.out == (
        f"[{USER}]\n"
        f"aws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    profile = configparser.ConfigParser()
    profile.read_string(r.out)
    assert dict(profile[USER]) == {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    aws_keys = moto.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in aws_keys] == [key["AccessKeyId"]]

    seed = fixed["mfa-seed"]
    r = cli("secrets", "show", USER, "--what", "mfa-secret")
    assert (r.code, r.out) == (0, seed + "\n"), r.err

    uri = mfa.otpauth_uri(seed, USER, ACCOUNT)
    with terminal_stdout() as screen:
        r = cli("secrets", "show", USER, "--what", "mfa-qr")
    assert r.code == 0, r.err
    assert terminal_to_matrix(screen.getvalue()) == mfa.qr_matrix(uri)
    assert seed not in screen.getvalue() + r.err

    png = tmp_path / "alice.png"
    r = cli("secrets", "show", USER, "--what", "mfa-qr", "--qr-file", str(png))
    assert r.code == 0, r.err
    assert r.out == ""
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    assert png_to_matrix(png) == mfa.qr_matrix(uri)

    # Never overwritten silently.
    r = cli("secrets", "show", USER, "--what", "mfa-qr", "--qr-file", str(png))
    assert r.code == 2, r.err
    assert "already exists" in r.err


def test_show_a_kind_the_keyring_does_not_hold(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-alice")
    for what, kind in (("access-key", "access-key"), ("mfa-qr", "mfa-seed")):
        with terminal_stdout() as screen:
            r = cli("secrets", "show", USER, "--what", what)
        assert r.code == 2, r.err
        assert f"the keyring holds no {kind} for {USER} in account {ACCOUNT}" in r.err
        assert screen.getvalue() == ""


def test_show_mfa_qr_of_an_invalid_seed_is_an_input_error(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "mfa-seed", "not a base32 seed")
    with terminal_stdout() as screen:
        r = cli("secrets", "show", USER, "--what", "mfa-qr")
    assert r.code == 2, r.err
    assert "is not a valid seed" in r.err
    assert "not a base32 seed" not in screen.getvalue() + r.err


def test_show_mfa_qr_is_refused_when_stdout_is_not_a_terminal(
    cli: Any, store: SecretStore, tmp_path: Path
):
    seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    store.put(ACCOUNT, USER, "mfa-seed", seed)
    r = cli("secrets", "show", USER, "--what", "mfa-qr")
    assert r.code == 2, r.err
    assert r.out == ""
    assert (
        "error: --what mfa-qr draws the QR code on a terminal, and standard output is not one"
        in r.err
    )
    assert "--qr-file PATH" in r.err
    # Nothing was handed over, so nothing is noted as shown.
    assert "mfa-seed" not in store.shown(ACCOUNT, USER)
    # Asked for explicitly, the key itself and the PNG still go where they are sent.
    r = cli("secrets", "show", USER, "--what", "mfa-secret")
    assert (r.code, r.out) == (0, seed + "\n"), r.err
    r = cli("secrets", "show", USER, "--what", "mfa-qr", "--qr-file", str(tmp_path / "a.png"))
    assert (r.code, r.out) == (0, ""), r.err
    assert png_to_matrix(tmp_path / "a.png") == mfa.qr_matrix(mfa.otpauth_uri(seed, USER, ACCOUNT))


def test_show_unknown_kind_is_refused(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-alice")
    r = cli("secrets", "show", USER, "--what", "everything")
    assert r.code == 2, r.err
    assert "'everything' is not one of" in r.err


# --- --account ----------------------------------------------------------------------------------


def test_user_in_two_accounts_needs_account(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-in-first")
    store.put(OTHER_ACCOUNT, USER, "password", "pw-in-other")

    r = cli("secrets", "show", USER, "--what", "password")
    assert r.code == 2, r.err
    assert f"several accounts ({ACCOUNT}, {OTHER_ACCOUNT})" in r.err
    assert "Tip: choose one with --account ID" in r.err
    assert "pw-in" not in r.out + r.err

    r = cli("secrets", "show", USER, "--what", "password", "--account", OTHER_ACCOUNT)
    assert (r.code, r.out) == (0, "pw-in-other\n"), r.err
    r = cli("secrets", "show", USER, "--what", "password", "--account", ACCOUNT)
    assert (r.code, r.out) == (0, "pw-in-first\n"), r.err


def test_unknown_account_and_user(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-alice")
    r = cli("secrets", "show", USER, "--what", "password", "--account", "999999999999")
    assert r.code == 2, r.err
    assert f"holds no secret of {USER} in account 999999999999" in r.err

    r = cli("secrets", "show", "bob", "--what", "password")
    assert r.code == 2, r.err
    assert "holds no secret of bob" in r.err
    assert "secrets list" in r.err
    assert "pw-alice" not in r.out + r.err


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl", "1234567890123", "12345678901 "])
def test_bad_account_id(cli: Any, store: SecretStore, account: str):
    store.put(ACCOUNT, USER, "password", "pw-alice")
    for args in (("show", USER, "--what", "password"), ("forget", USER, "--yes")):
        r = cli("secrets", *args, "--account", account)
        assert r.code == 2, r.err
        assert "invalid --account" in r.err
        assert "12-digit" in r.err
    assert store.get(ACCOUNT, USER, "password") == "pw-alice"


def test_bad_user_name(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-alice")
    r = cli("secrets", "show", f"{ACCOUNT}/{USER}", "--what", "password")
    assert r.code == 2, r.err
    assert "pw-alice" not in r.out + r.err


# --- forget -------------------------------------------------------------------------------------


def test_forget_with_yes_deletes_the_users_secrets(
    cli: Any, fixed: dict[str, str], store: SecretStore
):
    store.put(OTHER_ACCOUNT, "bob", "password", "pw-bob")
    r = cli("secrets", "forget", USER, "--yes")
    assert r.code == 0, r.err
    assert f"Deleted access-key, mfa-seed, password of {USER} (account {ACCOUNT})" in r.out
    for value in values(fixed):
        assert value not in r.out + r.err
    for kind in ("password", "access-key", "mfa-seed"):
        assert store.get(ACCOUNT, USER, kind) is None
    assert store.entries() == [(OTHER_ACCOUNT, "bob", "password")]
    assert store.get(OTHER_ACCOUNT, "bob", "password") == "pw-bob"
    assert cli("secrets", "list").out == f"{OTHER_ACCOUNT}  bob  password\n"

    r = cli("secrets", "forget", USER, "--yes")
    assert r.code == 2, r.err
    assert f"holds no secret of {USER}" in r.err


def test_forget_without_yes_and_no_terminal_deletes_nothing(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-alice")
    store.put(ACCOUNT, USER, "mfa-seed", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    r = cli("secrets", "forget", USER)
    assert r.code == 2, r.err
    assert "no terminal to confirm on" in r.err
    assert store.get(ACCOUNT, USER, "password") == "pw-alice"
    assert store.get(ACCOUNT, USER, "mfa-seed") is not None
    assert len(store.entries()) == 2


def test_forget_in_one_of_two_accounts(cli: Any, store: SecretStore):
    store.put(ACCOUNT, USER, "password", "pw-in-first")
    store.put(OTHER_ACCOUNT, USER, "password", "pw-in-other")
    r = cli("secrets", "forget", USER, "--yes")
    assert r.code == 2, r.err
    assert "several accounts" in r.err
    assert len(store.entries()) == 2

    r = cli("secrets", "forget", USER, "--yes", "--account", OTHER_ACCOUNT)
    assert r.code == 0, r.err
    assert store.entries() == [(ACCOUNT, USER, "password")]


# --- no keyring ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring], ids=["fail", "null"])
@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("list", "--output", "json"),
        ("show", USER, "--what", "password"),
        ("forget", USER, "--yes"),
    ],
    ids=["list", "list-json", "show", "forget"],
)
def test_no_usable_keyring_exits_2_with_a_tip(cli: Any, backend: Any, args: tuple[str, ...]):
    keyring.set_keyring(backend())
    r = cli("secrets", *args)
    assert r.code == 2, r.err
    assert r.out == ""
    assert "error: Cannot store secrets: no usable keyring" in r.err
    assert "Tip: Install or unlock an encrypted keyring backend" in r.err
    assert "Traceback" not in r.err


# --- backends not known to encrypt --------------------------------------------------------------


@pytest.fixture
def plaintext_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """keyrings.alt's PlaintextKeyring (base64 in a file) as the system keyring, with no opt-in
    in the environment."""
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(ring)
    monkeypatch.delenv("REMEDIATE_ALLOW_PLAINTEXT_KEYRING", raising=False)
    return ring


def test_plaintext_keyring_is_refused_before_anything_changes(
    moto: Any, cli: Any, plaintext_keyring: Any
) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER)
    r = cli(*args, "--access", "both", "--mfa-auto", "--yes")
    assert r.code == 2, r.err
    error = next(line for line in r.err.splitlines() if line.startswith("error: "))
    assert "keyrings.alt.file.PlaintextKeyring" in error
    assert "--allow-plaintext-keyring" in r.err
    assert moto.client("iam").list_users()["Users"] == []
    assert not Path(plaintext_keyring.file_path).exists()
    # Nor are the keyring's contents handed over.
    listed = cli("secrets", "list")
    assert listed.code == 2
    assert listed.err.startswith("error: Refusing to keep secrets in the keyring file ")
    assert "keyrings.alt.file.PlaintextKeyring" in listed.err.splitlines()[0]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_plaintext_keyring_with_the_opt_in_is_used_with_a_warning(
    moto: Any,
    cli: Any,
    plaintext_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    extra = ["--allow-plaintext-keyring"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv("REMEDIATE_ALLOW_PLAINTEXT_KEYRING", "1")
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER)
    r = cli(*args, "--no-mfa", "--yes", *extra)
    assert r.code == 0, r.err
    warnings = [rec.getMessage() for rec in caplog.records if rec.levelname == "WARNING"]
    assert any("keyrings.alt.file.PlaintextKeyring may keep" in w for w in warnings), warnings
    assert SecretStore(plaintext_keyring, allow_plaintext=True).get(ACCOUNT, USER, "password")
    listed = cli("secrets", "list", *extra)
    assert listed.code == 0, listed.err
    assert USER in listed.out


def test_show_secrets_without_a_keyring_it_may_use_stores_nothing(
    moto: Any, cli: Any, plaintext_keyring: Any
) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER)
    r = cli(*args, "--no-mfa", "--yes", "--show-secrets")
    assert r.code == 0, r.err
    assert "password: not stored" in r.out
    assert not Path(plaintext_keyring.file_path).exists()
