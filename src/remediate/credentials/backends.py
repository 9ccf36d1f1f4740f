"""Keyring backends: which keep secrets encrypted, how one is named, an in-memory one for the
sandbox and tests, and the error when none is usable."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from remediate.core.errors import InputError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    # At runtime this name is served lazily by the module __getattr__ below (importing keyring
    # costs ~0.1 s, which `remediate --help` should not pay).
    MemoryKeyring: type[KeyringBackend]

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


@runtime_checkable
class SandboxKeyring(Protocol):
    """A backend that holds only the sandbox's (or a test's) secrets and says what it is: the
    in-memory keyring, the file of `remediate sandbox serve` (remediate.sandbox.keyring_file).
    Nothing real is at risk in it, whether or not it encrypts."""

    def sandbox_description(self) -> str: ...


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

        def sandbox_description(self) -> str:
            return "the sandbox's in-memory keyring"

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


if not TYPE_CHECKING:
    # Hidden from type checkers so a typo in another module's import is still an error.
    def __getattr__(name: str) -> object:
        if name == "MemoryKeyring":
            return _memory_keyring_class()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
