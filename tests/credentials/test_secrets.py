"""Tests for remediate.credentials: password policy, generation and checks (passwords), keyring
backends (backends) and the keyring store (store)."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyrings.alt.file import PlaintextKeyring

from remediate.core.errors import EXIT_INPUT, InputError
from remediate.credentials.backends import (
    ENCRYPTED_BACKENDS,
    KeyringUnavailableError,
    MemoryKeyring,
    backend_name,
    memory_keyring,
)
from remediate.credentials.passwords import (
    AWS_DEFAULT_POLICY,
    IAM_SYMBOLS,
    PasswordPolicy,
    check_password,
    generate_password,
)
from remediate.credentials.store import KINDS, SERVICE, SecretStore, secret_name

ACCOUNT = "123456789012"
IAM_CHARS = set(string.ascii_letters + string.digits + IAM_SYMBOLS)
STRICT = PasswordPolicy(
    minimum_length=64,
    require_symbols=True,
    require_numbers=True,
    require_uppercase=True,
    require_lowercase=True,
    min_character_types=4,
    source="strict test policy",
)


# --- policy ---------------------------------------------------------------------------------


def test_from_aws_none_is_aws_default() -> None:
    policy = PasswordPolicy.from_aws(None)
    assert policy == AWS_DEFAULT_POLICY
    assert policy.minimum_length == 8
    assert policy.min_character_types == 3
    assert policy.source == "AWS default password policy"


def test_from_aws_full_policy() -> None:
    policy = PasswordPolicy.from_aws(
        {
            "MinimumPasswordLength": 14,
            "RequireSymbols": True,
            "RequireNumbers": True,
            "RequireUppercaseCharacters": False,
            "RequireLowercaseCharacters": True,
            "AllowUsersToChangePassword": True,
            "ExpirePasswords": False,
        }
    )
    assert policy == PasswordPolicy(
        minimum_length=14,
        require_symbols=True,
        require_numbers=True,
        require_uppercase=False,
        require_lowercase=True,
        min_character_types=0,
        source="account password policy",
    )


# --- generation -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [AWS_DEFAULT_POLICY, STRICT], ids=["default", "strict"])
def test_generate_password_satisfies_policy(policy: PasswordPolicy) -> None:
    samples = [generate_password(policy) for _ in range(200)]
    assert len(set(samples)) == len(samples)
    for password in samples:
        assert set(password) <= IAM_CHARS
        assert len(password) == max(24, policy.minimum_length)
        check_password(password, policy)


def test_generate_password_length_bounds() -> None:
    assert len(generate_password(AWS_DEFAULT_POLICY, length=1000)) == 128
    assert len(generate_password(PasswordPolicy(minimum_length=200))) == 128
    # Short requests still fit one character of each type.
    password = generate_password(PasswordPolicy(minimum_length=1, min_character_types=4), 2)
    assert len(password) == 4
    check_password(password, PasswordPolicy(minimum_length=4, min_character_types=4))


# --- checks ---------------------------------------------------------------------------------


def _rejected(password: str, policy: PasswordPolicy = AWS_DEFAULT_POLICY) -> str:
    with pytest.raises(InputError) as info:
        check_password(password, policy)
    message = info.value.message
    assert password not in message
    assert "\n" not in message
    assert info.value.exit_code == EXIT_INPUT
    return message


def test_check_password_accepts_good() -> None:
    check_password("Correct-Horse-9", AWS_DEFAULT_POLICY)
    check_password("abcdefgh1A", AWS_DEFAULT_POLICY)  # 3 of 4 types is enough by default
    check_password("Aa1!" * 16, STRICT)


def test_check_password_rejects_short() -> None:
    message = _rejected("Ab1!x")
    assert "at least 8 characters (has 5)" in message
    assert "AWS default password policy" in message


def test_check_password_rejects_missing_types() -> None:
    message = _rejected("onlylowercaseletters")
    assert "at least 3 of the 4 character types (has 1)" in message

    message = _rejected("a" * 64, STRICT)
    for rule in ("an uppercase letter", "a number", "a symbol"):
        assert rule in message
    assert "a lowercase letter" not in message
    assert "strict test policy" in message


def test_check_password_account_policy_drops_type_count() -> None:
    account = PasswordPolicy.from_aws({"MinimumPasswordLength": 10})
    check_password("onlylowercase", account)
    assert "account password policy" in _rejected("short", account)


@pytest.mark.parametrize(
    "password", ["Pässwörd-1234", "Pass word-1234", "Pass\tword-1234", "Password-1234\x00"]
)
def test_check_password_rejects_non_printable_ascii(password: str) -> None:
    message = _rejected(password)
    assert "printable ASCII" in message
    assert "IAM's limits" in message


def test_check_password_rejects_too_long() -> None:
    password = "Aa1!" * 33
    message = _rejected(password)
    assert "at most 128 characters (has 132)" in message
    check_password(password[:128], AWS_DEFAULT_POLICY)


# --- store ----------------------------------------------------------------------------------


@pytest.fixture
def store() -> SecretStore:
    return SecretStore(memory_keyring())


def test_secret_name() -> None:
    assert secret_name(ACCOUNT, "admin", "password") == f"{ACCOUNT}/admin/password"


def test_memory_keyring_semantics() -> None:
    from keyring.errors import PasswordDeleteError

    ring = MemoryKeyring()
    assert ring.get_password("svc", "u") is None
    ring.set_password("svc", "u", "v")
    assert ring.get_password("svc", "u") == "v"
    ring.delete_password("svc", "u")
    with pytest.raises(PasswordDeleteError):
        ring.delete_password("svc", "u")
    # Never picked by keyring's auto-detection, where it would silently lose secrets.
    assert not MemoryKeyring.viable


def test_put_get_delete_entries(store: SecretStore) -> None:
    assert store.entries() == []
    store.put(ACCOUNT, "admin", "password", "s3cret")
    store.put("210987654321", "admin", "mfa-seed", "SEED")
    store.put(ACCOUNT, "admin", "password", "s3cret-2")  # overwrite keeps one index entry
    assert store.get(ACCOUNT, "admin", "password") == "s3cret-2"
    assert store.get(ACCOUNT, "other", "password") is None
    assert store.entries() == [
        (ACCOUNT, "admin", "password"),
        ("210987654321", "admin", "mfa-seed"),
    ]

    index = store.backend.get_password(SERVICE, "index")
    assert json.loads(index) == ["123456789012/admin/password", "210987654321/admin/mfa-seed"]
    assert "s3cret" not in index
    assert "SEED" not in index

    assert store.delete(ACCOUNT, "admin", "password") is True
    assert store.delete(ACCOUNT, "admin", "password") is False
    assert store.get(ACCOUNT, "admin", "password") is None
    assert store.entries() == [("210987654321", "admin", "mfa-seed")]


def test_put_access_key(store: SecretStore) -> None:
    value = {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"}
    store.put(ACCOUNT, "admin", "access-key", json.dumps(value))
    raw = store.get(ACCOUNT, "admin", "access-key")
    assert raw is not None
    assert json.loads(raw) == {
        "AccessKeyId": "AKIAEXAMPLE",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG",
    }
    assert store.entries() == [(ACCOUNT, "admin", "access-key")]


def test_corrupt_index_is_tolerated(store: SecretStore) -> None:
    store.backend.set_password(SERVICE, "index", "{not json")
    assert store.entries() == []
    store.put(ACCOUNT, "admin", "password", "x")
    assert store.entries() == [(ACCOUNT, "admin", "password")]


@pytest.mark.parametrize(
    ("account", "user", "kind"),
    [
        (ACCOUNT, "admin", "token"),
        ("12/34", "admin", "password"),
        (ACCOUNT, "ad/min", "password"),
        (ACCOUNT, "", "password"),
    ],
)
def test_invalid_names_rejected(store: SecretStore, account: str, user: str, kind: str) -> None:
    with pytest.raises(ValueError, match=r"must|kind"):
        store.put(account, user, kind, "x")
    with pytest.raises(ValueError, match=r"must|kind"):
        store.get(account, user, kind)


def test_kinds() -> None:
    # pending-password: a generated password before its login profile is known to be in effect.
    # handover: remediate's notes on the user's secrets (never a secret itself).
    assert KINDS == ("password", "access-key", "mfa-seed", "pending-password", "handover")


def test_usable_and_description(store: SecretStore) -> None:
    assert store.usable()
    store.require_usable()
    assert "in-memory" in store.description()

    for backend in (fail.Keyring(), null.Keyring()):
        unusable = SecretStore(backend)
        assert not unusable.usable()
        assert "no usable keyring" in unusable.description()


def test_require_usable_raises_input_error() -> None:
    unusable = SecretStore(fail.Keyring())
    with pytest.raises(KeyringUnavailableError) as info:
        unusable.require_usable()
    assert isinstance(info.value, InputError)
    assert info.value.exit_code == EXIT_INPUT == 2
    assert info.value.tip is not None
    assert "--show-secrets" in info.value.tip
    # put refuses before touching the backend.
    with pytest.raises(KeyringUnavailableError):
        unusable.put(ACCOUNT, "admin", "password", "x")


def test_keyring_errors_become_keyring_unavailable() -> None:
    # fail.Keyring raises NoKeyringError on every call.
    with pytest.raises(KeyringUnavailableError) as info:
        SecretStore(fail.Keyring()).get(ACCOUNT, "admin", "password")
    assert info.value.exit_code == EXIT_INPUT


def test_null_backend_put_refused() -> None:
    with pytest.raises(KeyringUnavailableError):
        SecretStore(null.Keyring()).put(ACCOUNT, "admin", "password", "x")


def test_empty_chainer_is_not_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert not SecretStore(chainer.ChainerBackend()).usable()


def test_plaintext_file_keyring_round_trip(tmp_path: Path) -> None:
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")
    store = SecretStore(ring, allow_plaintext=True)
    assert store.usable()
    assert str(tmp_path) in store.description()

    store.put(ACCOUNT, "admin", "password", "Pa55-word!")
    store.put(ACCOUNT, "admin", "access-key", '{"AccessKeyId": "AKIAEXAMPLE"}')
    assert (tmp_path / "keyring_pass.cfg").exists()

    # A fresh store on the same file sees everything: the index and values persisted.
    again_ring = PlaintextKeyring()
    again_ring.file_path = ring.file_path
    again = SecretStore(again_ring, allow_plaintext=True)
    assert again.get(ACCOUNT, "admin", "password") == "Pa55-word!"
    assert again.entries() == [(ACCOUNT, "admin", "access-key"), (ACCOUNT, "admin", "password")]
    assert again.delete(ACCOUNT, "admin", "password") is True
    assert again.entries() == [(ACCOUNT, "admin", "access-key")]


def test_import_does_not_import_keyring() -> None:
    code = "import sys, remediate.credentials.store; print('keyring' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- which backends may hold secrets ------------------------------------------------------------


class MemoryBackendBase(KeyringBackend):
    """A working backend in a dict, never chosen by keyring's own detection (not viable)."""

    viable = False
    priority = 5

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self._items[(service, username)]


def test_a_plaintext_backend_is_refused_without_the_opt_in(tmp_path: Path) -> None:
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")
    store = SecretStore(ring)
    assert store.plaintext_risk() == "keyrings.alt.file.PlaintextKeyring"
    assert not store.usable()
    with pytest.raises(KeyringUnavailableError) as info:
        store.require_usable()
    assert info.value.exit_code == EXIT_INPUT
    assert "keyrings.alt.file.PlaintextKeyring" in info.value.message
    assert "--allow-plaintext-keyring" in (info.value.tip or "")
    with pytest.raises(KeyringUnavailableError):
        store.put(ACCOUNT, "admin", "password", "x")
    assert not (tmp_path / "keyring_pass.cfg").exists()


def test_an_allowed_plaintext_backend_is_named_in_a_warning_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")
    store = SecretStore(ring, allow_plaintext=True)
    store.require_usable()
    store.put(ACCOUNT, "admin", "password", "x")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "keyrings.alt.file.PlaintextKeyring may keep secrets unencrypted" in warnings[0]


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("keyring.backends.SecretService", "Keyring"),
        ("keyring.backends.libsecret", "Keyring"),
        ("keyring.backends.macOS", "Keyring"),
        ("keyring.backends.Windows", "WinVaultKeyring"),
        ("keyring.backends.kwallet", "DBusKeyring"),
        ("keyrings.alt.file", "EncryptedKeyring"),
    ],
)
def test_known_encrypted_backends_need_no_opt_in(module: str, name: str) -> None:
    # A stand-in with the backend's module and class name (the real ones need D-Bus, a Mac,
    # Windows or a keyring password): the name is what is judged.
    backend = type(name, (MemoryBackendBase,), {"__module__": module, "priority": 5})()
    store = SecretStore(backend)
    assert store.plaintext_risk() is None
    assert store.usable()
    store.require_usable()


@pytest.mark.parametrize("name", sorted(ENCRYPTED_BACKENDS))
def test_every_known_encrypted_backend_is_a_real_class(name: str) -> None:
    # A typo in the list would refuse that backend, or take another for it.
    import importlib

    module, _, cls = name.rpartition(".")
    backend = getattr(importlib.import_module(module), cls)
    assert f"{backend.__module__}.{backend.__qualname__}" == name
    assert issubclass(backend, KeyringBackend)


def test_a_chainer_is_judged_by_the_backend_it_writes_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "keyring_pass.cfg")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain])
    assert SecretStore(chainer.ChainerBackend()).plaintext_risk() == backend_name(plain)
    assert not SecretStore(chainer.ChainerBackend()).usable()


def test_the_in_memory_keyring_needs_no_opt_in(store: SecretStore) -> None:
    assert store.plaintext_risk() is None
    assert store.usable()


def test_no_tip_recommends_a_plaintext_backend() -> None:
    tips = [KeyringUnavailableError.DEFAULT_TIP]
    with pytest.raises(KeyringUnavailableError) as info:
        SecretStore(PlaintextKeyring()).require_usable()
    tips.append(info.value.tip or "")
    for tip in tips:
        assert "pip install keyrings.alt" not in tip
        assert "Plaintext" not in tip
        assert "for a file" not in tip
