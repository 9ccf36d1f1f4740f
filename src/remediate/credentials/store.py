"""Secrets in the system keyring, one entry each (ACCOUNT_ID/USER/KIND), with the index that
lets them be listed and remediate's notes on what was handed over."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any, TypedDict

from remediate.core.errors import InputError
from remediate.credentials.backends import (
    ALLOW_PLAINTEXT_ENV,
    ENCRYPTED_BACKENDS,
    ENCRYPTED_CHOICES,
    KeyringUnavailableError,
    SandboxKeyring,
    backend_name,
)

log = logging.getLogger(__name__)

SERVICE = "remediate"
# pending-password: a generated password kept before its login profile was created, promoted to
# password once the login profile is known to be this run's.
# handover: no secret, remediate's notes on the user's secrets (which were ever shown, the
# console sign-in URL), so that `secrets show` and `secrets forget` can say what they know.
HANDOVER = "handover"
KINDS = ("password", "access-key", "mfa-seed", "pending-password", HANDOVER)
# The kinds a person hands over (what `secrets list` shows, what `secrets forget` warns about).
HANDED_OVER_KINDS = ("password", "access-key", "mfa-seed")

_INDEX_USERNAME = "index"  # never collides with a secret name: those always contain "/"


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


class HandoverNotes(TypedDict, total=False):
    """remediate's notes on a user's secrets (the keyring's "handover" entry), as read back."""

    shown: list[str]  # the kinds of secret ever shown to a person
    sign_in_url: str  # where the user signs in to the console
    pending_mfa: str  # the serial number of an MFA device a run left pending


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
        if isinstance(backend, SandboxKeyring):
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
            if isinstance(backend, SandboxKeyring):
                return backend.sandbox_description()
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

    def _notes(self, account_id: str, user: str) -> dict[str, Any]:
        """The notes as kept, unchecked (read through :meth:`handover`): rewritten whole, so a
        key this version does not know survives. An entry edited into something else than a
        JSON object reads as empty, never as an error."""
        raw = self.get(account_id, user, HANDOVER)
        try:
            notes = json.loads(raw) if raw else {}
        except ValueError:
            notes = {}
        return notes if isinstance(notes, dict) else {}

    def handover(self, account_id: str, user: str) -> HandoverNotes:
        """What remediate noted about the user's secrets: ``shown`` (kinds ever printed or written
        for a person: --show-secrets, `secrets show`, a QR code shown or written) and
        ``sign_in_url``, ``pending_mfa``. A note edited by hand into another type is left out,
        never an error."""
        kept = self._notes(account_id, user)
        notes = HandoverNotes()
        shown = kept.get("shown")
        if isinstance(shown, list):
            notes["shown"] = [k for k in shown if isinstance(k, str)]
        url, serial = kept.get("sign_in_url"), kept.get("pending_mfa")
        if isinstance(url, str):
            notes["sign_in_url"] = url
        if isinstance(serial, str):
            notes["pending_mfa"] = serial
        return notes

    def shown(self, account_id: str, user: str) -> set[str]:
        """The kinds of the user's secrets remediate ever showed to a person."""
        return set(self.handover(account_id, user).get("shown", []))

    def _note(self, account_id: str, user: str, **changes: str | list[str]) -> None:
        notes = {**self._notes(account_id, user), **changes}
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
        return self.handover(account_id, user).get("pending_mfa")

    def note_mfa(self, account_id: str, user: str, serial: str, *, enabled: bool) -> None:
        """How a run left the user's MFA device: pending (its seed is still needed) or enabled."""
        if enabled:
            if self.pending_mfa(account_id, user) is not None:
                notes = self._notes(account_id, user)
                notes.pop("pending_mfa", None)
                self.put(account_id, user, HANDOVER, json.dumps(notes, sort_keys=True))
        elif self.pending_mfa(account_id, user) != serial:
            self._note(account_id, user, pending_mfa=serial)

    def note_sign_in_url(self, account_id: str, user: str, url: str) -> None:
        """Where the user signs in to the console (it depends on the account's partition)."""
        if self.handover(account_id, user).get("sign_in_url") != url:
            self._note(account_id, user, sign_in_url=url)
