"""Passwords for the new IAM admin user (policy, generation, checks) and keyring storage."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remediate.core.errors import InputError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    # At runtime this name is served lazily by the module __getattr__ below (importing keyring
    # costs ~0.1 s, which `remediate --help` should not pay).
    MemoryKeyring: type[KeyringBackend]

log = logging.getLogger(__name__)

__all__ = [
    "ALLOW_PLAINTEXT_ENV",
    "AWS_DEFAULT_POLICY",
    "ENCRYPTED_BACKENDS",
    "HANDED_OVER_KINDS",
    "HANDOVER",
    "IAM_SYMBOLS",
    "KINDS",
    "MAX_PASSWORD_LENGTH",
    "SERVICE",
    "KeyringUnavailableError",
    "MemoryKeyring",
    "PasswordPolicy",
    "SecretStore",
    "backend_name",
    "check_password",
    "generate_password",
    "memory_keyring",
    "parse_access_key",
    "secret_name",
]

SERVICE = "remediate"
# pending-password: a generated password kept before its login profile was created, promoted to
# password once the login profile is known to be this run's.
# handover: no secret, remediate's notes on the user's secrets (which were ever shown, the
# console sign-in URL), so that `secrets show` and `secrets forget` can say what they know.
HANDOVER = "handover"
KINDS = ("password", "access-key", "mfa-seed", "pending-password", HANDOVER)
# The kinds a person hands over (what `secrets list` shows, what `secrets forget` warns about).
HANDED_OVER_KINDS = ("password", "access-key", "mfa-seed")
IAM_SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
MAX_PASSWORD_LENGTH = 128  # IAM's hard limit, whatever the account policy says

_INDEX_USERNAME = "index"  # never collides with a secret name: those always contain "/"
_TYPE_NAMES = ("uppercase", "lowercase", "numbers", f"symbols {IAM_SYMBOLS}")
_TYPE_ALPHABETS = (string.ascii_uppercase, string.ascii_lowercase, string.digits, IAM_SYMBOLS)


# --- password policy ------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules a new IAM user password must meet (AWS default or the account's own policy)."""

    minimum_length: int = 8
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    # AWS's default policy (no account policy set): length >= 8 and 3 of the 4 character types.
    min_character_types: int = 3
    source: str = "AWS default password policy"

    @classmethod
    def from_aws(cls, policy: Mapping[str, Any] | None) -> PasswordPolicy:
        """Build from iam:GetAccountPasswordPolicy's "PasswordPolicy" dict; None -> AWS default."""
        if policy is None:
            return cls()
        return cls(
            # 6 is what IAM applies when an account policy leaves the length unset.
            minimum_length=int(policy.get("MinimumPasswordLength", 6)),
            require_symbols=bool(policy.get("RequireSymbols", False)),
            require_numbers=bool(policy.get("RequireNumbers", False)),
            require_uppercase=bool(policy.get("RequireUppercaseCharacters", False)),
            require_lowercase=bool(policy.get("RequireLowercaseCharacters", False)),
            # An account policy replaces the default one, "3 of 4 types" rule included.
            min_character_types=0,
            source="account password policy",
        )


AWS_DEFAULT_POLICY = PasswordPolicy()


def generate_password(policy: PasswordPolicy, length: int = 24) -> str:
    """A random password with every character type, so it satisfies any IAM password policy."""
    # At least 4 so one character of each type fits; at most IAM's limit.
    size = min(max(length, policy.minimum_length, len(_TYPE_ALPHABETS)), MAX_PASSWORD_LENGTH)
    alphabet = "".join(_TYPE_ALPHABETS)
    chars = [secrets.choice(group) for group in _TYPE_ALPHABETS]
    chars += [secrets.choice(alphabet) for _ in range(size - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def check_password(password: str, policy: PasswordPolicy) -> None:
    """Raise InputError naming every unmet rule; the message never contains the password."""
    iam_problems: list[str] = []
    if len(password) > MAX_PASSWORD_LENGTH:
        iam_problems.append(f"at most {MAX_PASSWORD_LENGTH} characters (has {len(password)})")
    bad = next((i for i, ch in enumerate(password) if not "\x21" <= ch <= "\x7e"), None)
    if bad is not None:
        # The position helps find the culprit without echoing any part of the secret.
        iam_problems.append(
            "only printable ASCII without spaces (0x21-0x7E), "
            f"but character {bad + 1} is a space, control or non-ASCII character"
        )

    present = [any(ch in group for ch in password) for group in _TYPE_ALPHABETS]
    upper, lower, number, symbol = present
    policy_problems: list[str] = []
    if len(password) < policy.minimum_length:
        policy_problems.append(f"at least {policy.minimum_length} characters (has {len(password)})")
    for required, ok, name in (
        (policy.require_uppercase, upper, "an uppercase letter"),
        (policy.require_lowercase, lower, "a lowercase letter"),
        (policy.require_numbers, number, "a number"),
        (policy.require_symbols, symbol, f"a symbol ({IAM_SYMBOLS})"),
    ):
        if required and not ok:
            policy_problems.append(f"needs {name}")
    if sum(present) < policy.min_character_types:
        policy_problems.append(
            f"at least {policy.min_character_types} of the 4 character types "
            f"(has {sum(present)}): {', '.join(_TYPE_NAMES)}"
        )

    parts = []
    if iam_problems:
        parts.append("IAM's limits: " + ", ".join(iam_problems))
    if policy_problems:
        parts.append(f"the {policy.source}: " + ", ".join(policy_problems))
    if parts:
        raise InputError(
            "Password rejected by " + "; and by ".join(parts) + ".",
            tip="Choose a password that meets these rules, or omit it to have one generated.",
        )


def parse_access_key(value: str) -> dict[str, str]:
    """An access key as the keyring keeps it: ``{"AccessKeyId", "SecretAccessKey"}``. An entry
    edited into anything else is an input error that never quotes it."""
    try:
        key = json.loads(value)
    except ValueError:
        key = None
    if not isinstance(key, dict) or not all(
        isinstance(key.get(k), str) for k in ("AccessKeyId", "SecretAccessKey")
    ):
        raise InputError("the keyring's access-key entry is not an access key (edited by hand?)")
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


# --- keyring storage ------------------------------------------------------------------------


def secret_name(account_id: str, user: str, kind: str) -> str:
    """The keyring username of one secret: ACCOUNT_ID/USER/KIND."""
    return f"{account_id}/{user}/{kind}"


def _validate(account_id: str, user: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown secret kind {kind!r}; expected one of {', '.join(KINDS)}")
    for label, value in (("account id", account_id), ("user name", user)):
        # "/" separates the parts of the name, so it would make names ambiguous.
        if not value or "/" in value:
            raise ValueError(f"{label} {value!r} must be non-empty and must not contain '/'")


# Backends known to keep secrets encrypted, by module and class name (so that checking one
# imports no optional backend): the platform stores, and keyrings.alt's password-encrypted file.
ENCRYPTED_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",  # the Secret Service, through libsecret
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyrings.alt.file.EncryptedKeyring",
    }
)
ALLOW_PLAINTEXT_ENV = "REMEDIATE_ALLOW_PLAINTEXT_KEYRING"
ENCRYPTED_CHOICES = (
    "macOS Keychain, Windows Credential Locker, Secret Service or KWallet on Linux, or "
    "keyrings.alt's EncryptedKeyring"
)


def backend_name(backend: object) -> str:
    """``keyrings.alt.file.PlaintextKeyring``: what the backend is, for checks and messages."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


class KeyringUnavailableError(InputError):
    """No usable keyring backend (missing, locked or failing), so secrets cannot be stored."""

    DEFAULT_TIP = (
        f"Install or unlock an encrypted keyring backend ({ENCRYPTED_CHOICES}), "
        "or pass --show-secrets to print the secrets once instead."
    )

    def __init__(self, message: str, tip: str | None = None) -> None:
        super().__init__(message, tip or self.DEFAULT_TIP)


@functools.cache
def _memory_keyring_class() -> type[KeyringBackend]:
    # Built on first use so that importing this module does not import keyring.
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class MemoryKeyring(KeyringBackend):
        """A keyring in a dict: for the sandbox and tests; everything is lost with the process."""

        # Usable when passed explicitly, but not viable, so keyring's auto-detection and the
        # chainer never pick it and silently lose real secrets.
        priority = 1
        viable = False

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]  # keyring's is untyped
            self._items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if self._items.pop((service, username), None) is None:
                raise PasswordDeleteError("Password not found")

    MemoryKeyring.__qualname__ = "MemoryKeyring"
    return MemoryKeyring


def memory_keyring() -> KeyringBackend:
    """A new, empty in-memory keyring backend."""
    return _memory_keyring_class()()


# Set by the environment lines `remediate sandbox serve` prints: the sandbox's own keyring file.
SANDBOX_KEYRING_ENV = "REMEDIATE_SANDBOX_KEYRING"


@functools.cache
def _sandbox_keyring_class() -> type[KeyringBackend]:
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class SandboxFileKeyring(KeyringBackend):
        """The sandbox's keyring: a JSON file (0600) in the sandbox's own directory, holding only
        the sandbox's fake secrets, so that runs against `remediate sandbox serve` can resume,
        hand secrets over and forget them. Never picked by keyring's auto-detection."""

        priority = 1
        viable = False

        def __init__(self, path: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]  # keyring's is untyped
            self.file_path = path

        def _load(self) -> dict[str, str]:
            try:
                with open(self.file_path, encoding="utf-8") as f:
                    loaded = json.load(f)
            except FileNotFoundError:
                return {}
            except (OSError, ValueError) as exc:
                raise KeyringError(f"cannot read {self.file_path}: {exc}") from exc
            return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

        def _save(self, items: dict[str, str]) -> None:
            import tempfile

            directory = os.path.dirname(self.file_path) or "."
            try:
                fd, tmp = tempfile.mkstemp(dir=directory, prefix=".keyring-", suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(items, f)
                os.replace(tmp, self.file_path)  # mkstemp made it 0600
            except OSError as exc:
                raise KeyringError(f"cannot write {self.file_path}: {exc.strerror}") from exc

        def get_password(self, service: str, username: str) -> str | None:
            return self._load().get(f"{service}\x00{username}")

        def set_password(self, service: str, username: str, password: str) -> None:
            items = self._load()
            items[f"{service}\x00{username}"] = password
            self._save(items)

        def delete_password(self, service: str, username: str) -> None:
            items = self._load()
            if items.pop(f"{service}\x00{username}", None) is None:
                raise PasswordDeleteError("Password not found")
            self._save(items)

    from keyring.errors import KeyringError

    SandboxFileKeyring.__qualname__ = "SandboxFileKeyring"
    return SandboxFileKeyring


def sandbox_keyring(path: str) -> KeyringBackend:
    """The keyring file of a `remediate sandbox serve` (see SANDBOX_KEYRING_ENV)."""
    return _sandbox_keyring_class()(path)  # type: ignore[call-arg]


if not TYPE_CHECKING:
    # Hidden from type checkers so a typo in another module's import is still an error.
    def __getattr__(name: str) -> object:
        if name == "MemoryKeyring":
            return _memory_keyring_class()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SecretStore:
    """Secrets in the system keyring: service "remediate", username ACCOUNT_ID/USER/KIND.

    Keyring backends cannot enumerate entries, so the store keeps an index entry (username "index",
    value a JSON list of "ACCOUNT/USER/KIND" names, never values) to support `secrets list`.
    """

    def __init__(
        self,
        backend: object | None = None,
        *,
        allow_plaintext: bool = False,
        ends_with_the_command: bool = False,
    ) -> None:
        # Resolved on first use: detecting the system backend loads plugins and may talk to D-Bus.
        self._backend: Any = backend
        # --sandbox's keyring: gone, with the emulator, when the command ends (a rerun starts
        # afresh); not so `sandbox serve`'s file, nor a test's in-memory keyring.
        self.ends_with_the_command = ends_with_the_command
        self._load_error: str | None = None
        # Whether a backend not known to encrypt may be used (--allow-plaintext-keyring).
        self.allow_plaintext = allow_plaintext
        self._warned = False

    @property
    def backend(self) -> Any:
        """The keyring backend in use (the detected system one unless one was given)."""
        if self._backend is None:
            import keyring
            from keyring.backends import fail

            sandbox_file = os.environ.get(SANDBOX_KEYRING_ENV)
            if sandbox_file:
                # The environment of `remediate sandbox serve`: its own keyring, nothing else.
                self._backend = sandbox_keyring(sandbox_file)
                return self._backend
            try:
                self._backend = keyring.get_keyring()
            except Exception as exc:  # a broken keyring config must not crash `usable()`
                self._load_error = f"{type(exc).__name__}: {exc}"
                self._backend = fail.Keyring()  # type: ignore[no-untyped-call]
        return self._backend

    def plaintext_risk(self) -> str | None:
        """The backend secrets would be written to, when remediate does not know it to encrypt
        them; ``None`` for a known encrypted backend and for the in-memory keyring (nothing on
        disk). A chainer writes to its first backend, so that one is judged."""
        from keyring.backends import chainer

        backend = self.backend
        if isinstance(backend, _memory_keyring_class() | _sandbox_keyring_class()):
            return None  # the sandbox's fake secrets, kept only for the sandbox
        if isinstance(backend, chainer.ChainerBackend) and backend.backends:
            backend = backend.backends[0]
        name = backend_name(backend)
        return None if name in ENCRYPTED_BACKENDS else name

    def usable(self) -> bool:
        """Whether secrets put here are kept, and may be: a working backend known to encrypt,
        or any working one with ``allow_plaintext`` (said once, as a warning)."""
        if not self._works():
            return False
        risk = self.plaintext_risk()
        if risk is None:
            return True
        if not self.allow_plaintext:
            return False
        if not self._warned:
            self._warned = True
            log.warning(
                "warning: the keyring backend %s may keep secrets unencrypted (allowed by "
                "--allow-plaintext-keyring or %s=1)",
                risk,
                ALLOW_PLAINTEXT_ENV,
            )
        return True

    def _works(self) -> bool:
        """Whether secrets put here are actually kept (not a fail/null/empty backend)."""
        try:
            from keyring.backends import chainer, fail, null

            backend = self.backend
            if isinstance(backend, fail.Keyring | null.Keyring):
                return False
            if isinstance(backend, chainer.ChainerBackend):
                # Its priority is negative with a single backend, yet it works then.
                return len(backend.backends) > 0
            return float(backend.priority) > 0
        except Exception:  # a backend's priority may raise RuntimeError when it is unsuitable
            return False

    def description(self) -> str:
        """A human name of the backend for messages."""
        try:
            backend = self.backend
            if isinstance(backend, _memory_keyring_class()):
                return "the sandbox's in-memory keyring"
            if isinstance(backend, _sandbox_keyring_class()):
                path = getattr(backend, "file_path", "")
                return f"the sandbox-only keyring file {path} (not encrypted)"
            if not self._works():
                return f"no usable keyring ({backend.name})"
            from keyring.backends import chainer

            if isinstance(backend, chainer.ChainerBackend):
                names = ", ".join(str(b.name) for b in backend.backends)
                return f"the system keyring ({names})"
            file_path = getattr(backend, "file_path", None)
            if file_path:
                plain = ", unencrypted" if "Plaintext" in type(backend).__name__ else ""
                return f"the keyring file {file_path} ({backend.name}{plain})"
            return f"the system keyring ({backend.name})"
        except Exception:
            return f"the keyring backend {type(self._backend).__name__}"

    def require_usable(self) -> None:
        """Raise KeyringUnavailableError unless usable()."""
        if not self._works():
            detail = f" ({self._load_error})" if self._load_error else ""
            raise KeyringUnavailableError(f"Cannot store secrets: {self.description()}{detail}.")
        risk = self.plaintext_risk()
        if risk is not None and not self.allow_plaintext:
            raise KeyringUnavailableError(
                f"Refusing to keep secrets in {self.description()}: remediate does not know the "
                f"backend {risk} to encrypt what it stores",
                tip=f"Use an encrypted backend ({ENCRYPTED_CHOICES}), pass --show-secrets to "
                "print the secrets once instead, or accept this backend with "
                f"--allow-plaintext-keyring ({ALLOW_PLAINTEXT_ENV}=1).",
            )
        self.usable()  # says so, once, when a plaintext backend was allowed

    def _call(self, what: str, method: str, *args: str) -> Any:
        # Keyring errors (locked, no backend, D-Bus failure) become one-line input errors;
        # the message names the entry but never a value.
        from keyring.errors import KeyringError

        try:
            return getattr(self.backend, method)(SERVICE, *args)
        except KeyringError as exc:
            raise KeyringUnavailableError(
                f"Keyring {method} failed for {what} in {self.description()}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _read_index(self) -> list[str]:
        raw = self._call("the index", "get_password", _INDEX_USERNAME)
        if not raw:
            return []
        try:
            names = json.loads(raw)
        except ValueError:
            # The index only lists names; rebuilding it from later puts loses no secret.
            return []
        if not isinstance(names, list):
            return []
        return [n for n in names if isinstance(n, str) and n.count("/") == 2]

    def _write_index(self, names: list[str]) -> None:
        self._call("the index", "set_password", _INDEX_USERNAME, json.dumps(sorted(set(names))))

    def put(self, account_id: str, user: str, kind: str, value: str) -> None:
        """Store one secret and list it in the index (verified by reading it back)."""
        _validate(account_id, user, kind)
        self.require_usable()
        name = secret_name(account_id, user, kind)
        # Index first: a listed name without a value is harmless, a value nobody can list leaks.
        index = self._read_index()
        added = name not in index
        if added:
            self._write_index([*index, name])
        try:
            self._call(name, "set_password", name, value)
        except KeyringUnavailableError:
            if added:  # best effort: do not list a secret that was never stored
                with contextlib.suppress(KeyringUnavailableError):
                    self._write_index(index)
            raise
        if self._call(name, "get_password", name) != value:
            raise KeyringUnavailableError(
                f"{self.description()} did not keep the secret {name} (read-back differs)."
            )

    def get(self, account_id: str, user: str, kind: str) -> str | None:
        """The stored secret, or None."""
        _validate(account_id, user, kind)
        name = secret_name(account_id, user, kind)
        value: str | None = self._call(name, "get_password", name)
        return value

    def delete(self, account_id: str, user: str, kind: str) -> bool:
        """Delete one secret; True if something was deleted. Always drops it from the index."""
        _validate(account_id, user, kind)
        name = secret_name(account_id, user, kind)
        try:
            self._call(name, "delete_password", name)
            deleted = True
        except KeyringUnavailableError as exc:
            from keyring.errors import PasswordDeleteError

            # PasswordDeleteError is keyring's way of saying "no such entry".
            if not isinstance(exc.__cause__, PasswordDeleteError):
                raise
            deleted = False
        index = self._read_index()
        if name in index:
            self._write_index([n for n in index if n != name])
        return deleted

    def entries(self) -> list[tuple[str, str, str]]:
        """(account_id, user, kind) of every indexed secret, sorted."""
        result: list[tuple[str, str, str]] = []
        for name in self._read_index():
            account_id, user, kind = name.split("/")
            result.append((account_id, user, kind))
        return sorted(result)

    # --- remediate's notes on a user's secrets (the "handover" entry) ---------------------------

    def handover(self, account_id: str, user: str) -> dict[str, Any]:
        """What remediate noted about the user's secrets: ``shown`` (kinds ever printed or written
        for a person: --show-secrets, `secrets show`, a QR code shown or written) and
        ``sign_in_url``, ``pending_mfa``. An entry edited by hand reads as empty, never as an
        error."""
        raw = self.get(account_id, user, HANDOVER)
        try:
            notes = json.loads(raw) if raw else {}
        except ValueError:
            notes = {}
        return notes if isinstance(notes, dict) else {}

    def shown(self, account_id: str, user: str) -> set[str]:
        """The kinds of the user's secrets remediate ever showed to a person."""
        shown = self.handover(account_id, user).get("shown", [])
        return {k for k in shown if isinstance(k, str)} if isinstance(shown, list) else set()

    def _note(self, account_id: str, user: str, **changes: Any) -> None:
        notes = {**self.handover(account_id, user), **changes}
        self.put(account_id, user, HANDOVER, json.dumps(notes, sort_keys=True))

    def mark_shown(self, account_id: str, user: str, kind: str) -> None:
        """The secret was shown to a person (or written to a file for one)."""
        shown = self.shown(account_id, user)
        if kind not in shown:
            self._note(account_id, user, shown=sorted(shown | {kind}))

    def note_new(self, account_id: str, user: str, kind: str) -> None:
        """A new value of the secret was kept: nobody has seen that one yet."""
        shown = self.shown(account_id, user)
        if kind in shown:
            self._note(account_id, user, shown=sorted(shown - {kind}))

    def pending_mfa(self, account_id: str, user: str) -> str | None:
        """The serial number of the user's MFA device a run left pending (created, not enabled),
        whose enrollment still needs the seed kept here."""
        serial = self.handover(account_id, user).get("pending_mfa")
        return serial if isinstance(serial, str) else None

    def note_mfa(self, account_id: str, user: str, serial: str, *, enabled: bool) -> None:
        """How a run left the user's MFA device: pending (its seed is still needed) or enabled."""
        if enabled:
            if self.pending_mfa(account_id, user) is not None:
                notes = self.handover(account_id, user)
                notes.pop("pending_mfa", None)
                self.put(account_id, user, HANDOVER, json.dumps(notes, sort_keys=True))
        elif self.pending_mfa(account_id, user) != serial:
            self._note(account_id, user, pending_mfa=serial)

    def note_sign_in_url(self, account_id: str, user: str, url: str) -> None:
        """Where the user signs in to the console (it depends on the account's partition)."""
        if self.handover(account_id, user).get("sign_in_url") != url:
            self._note(account_id, user, sign_in_url=url)
