"""The sandbox's own keyring: a JSON file (0600) of its fake secrets, for the runs that go to a
`remediate sandbox serve`, so that they can resume, hand secrets over and forget them.

The environment lines `remediate sandbox serve` prints name the file (:data:`SANDBOX_KEYRING_ENV`);
the commands choose this backend when that line is set. It is never picked by keyring's
auto-detection, and it holds nothing but the sandbox's secrets: the commands refuse to talk to
any other endpoint while it is set.
"""

from __future__ import annotations

import functools
import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

# Set by the environment lines `remediate sandbox serve` prints: the sandbox's own keyring file.
SANDBOX_KEYRING_ENV = "REMEDIATE_SANDBOX_KEYRING"


@functools.cache
def _sandbox_keyring_class() -> type[KeyringBackend]:
    # Built on first use so that importing this module does not import keyring (~0.1 s).
    from keyring.backend import KeyringBackend
    from keyring.errors import KeyringError, PasswordDeleteError

    class SandboxFileKeyring(KeyringBackend):
        """The sandbox's keyring: a JSON file (0600) in the sandbox's own directory, holding only
        the sandbox's fake secrets. Never picked by keyring's auto-detection."""

        priority = 1
        viable = False

        def __init__(self, path: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]  # keyring's is untyped
            self.file_path = path

        def sandbox_description(self) -> str:
            return f"the sandbox-only keyring file {self.file_path} (not encrypted)"

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

    SandboxFileKeyring.__qualname__ = "SandboxFileKeyring"
    return SandboxFileKeyring


def sandbox_keyring(path: str) -> KeyringBackend:
    """The keyring file of a `remediate sandbox serve`."""
    return _sandbox_keyring_class()(path)  # type: ignore[call-arg]


def sandbox_keyring_from_environment() -> KeyringBackend | None:
    """The keyring of `remediate sandbox serve` when its line is in the environment, else
    ``None`` (the system keyring, detected when first used)."""
    path = os.environ.get(SANDBOX_KEYRING_ENV)
    return sandbox_keyring(path) if path else None
