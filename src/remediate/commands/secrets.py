"""``remediate secrets list``, ``show`` and ``forget``: the secrets remediate keeps in the system
keyring, listed (never their values), handed over to their owner, and forgotten (after a warning
for any that nobody was ever shown)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from remediate.commands.request import OutputFormat
from remediate.commands.wiring import usable_store
from remediate.core import validate
from remediate.core.errors import EXIT_OK, InputError
from remediate.core.prompt import Prompter, TerminalPrompter, confirm_or_refuse
from remediate.core.terminal import write_line
from remediate.credentials.store import HANDOVER, SecretStore
from remediate.credentials.totp import otpauth_uri, seed_is_valid, write_qr_png
from remediate.render.enrollment import SHOW_PROMPT, qr_too_large, shown_qr
from remediate.render.handover import secrets_command
from remediate.render.listings import show_secrets
from remediate.render.outcome import credentials_profile
from remediate.steps.iam import console_sign_in_url


def _account_for(store: SecretStore, user: str, account: str | None) -> str:
    """The account whose secrets for ``user`` are meant: given, or the only one there is."""
    validate.user_name(user)
    if account is not None:
        validate.account_id(account, "--account")
    accounts = sorted({a for a, u, _ in store.entries() if u == user})
    if account is not None:
        if account not in accounts:
            raise InputError(f"the keyring holds no secret of {user} in account {account}")
        return account
    if not accounts:
        raise InputError(
            f"the keyring holds no secret of {user}", tip="see `remediate secrets list`"
        )
    if len(accounts) > 1:
        raise InputError(
            f"{user} has secrets in several accounts ({', '.join(accounts)})",
            tip="choose one with --account ID",
        )
    return accounts[0]


def secrets_list(output: OutputFormat, *, allow_plaintext: bool = False) -> int:
    """Which secrets the keyring holds, by account and user (never the values)."""
    store = usable_store(allow_plaintext=allow_plaintext)
    grouped: dict[tuple[str, str], list[str]] = {}
    for account, user, kind in store.entries():
        if kind != HANDOVER:  # remediate's notes about the secrets, not a secret
            grouped.setdefault((account, user), []).append(kind)
    warnings = {
        (a, u): _kept_seed_warnings(store, a, u, kinds) for (a, u), kinds in grouped.items()
    }
    show_secrets(store.description(), grouped, warnings, output)
    return EXIT_OK


def _kept_seed_warnings(store: SecretStore, account: str, user: str, kinds: list[str]) -> list[str]:
    """A kept MFA seed is the user's second factor in the keyring, beside the password: said
    with how it goes (a pending device's by the run that enables it)."""
    if "mfa-seed" not in kinds:
        return []
    if store.pending_mfa(account, user) is not None:
        how = f"the run that enables {user}'s pending device with --mfa-codes forgets it"
    else:
        how = secrets_command("forget", user, account)
    return [f"the mfa-seed defeats MFA until forgotten: {how}"]


# What each `secrets show --what` hands over, by the kind of secret it reads.
_SHOW_KIND = {
    "password": "password",
    "console": "password",
    "access-key": "access-key",
    "mfa-qr": "mfa-seed",
    "mfa-secret": "mfa-seed",
}


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed, or no stream at all
        return False


def secrets_show(
    user: str,
    what: str,
    account: str | None,
    qr_file: Path | None,
    *,
    allow_plaintext: bool = False,
    prompter: Prompter | None = None,
) -> int:
    """Print (or render) a secret, to hand it to its owner: exactly as kept, never as markup.
    ``console`` is everything a console sign-in takes (URL, user name, password); an access key
    is a ``~/.aws/credentials`` profile. remediate notes that it was shown (handed over)."""
    if what == "mfa-qr" and qr_file is None and not _stdout_is_terminal():
        # Drawn for a terminal, the QR code is no use in a file or a pipe, and a seed any reader
        # of it can scan.
        raise InputError(
            "--what mfa-qr draws the QR code on a terminal, and standard output is not one",
            tip="pass --qr-file PATH for a PNG to scan or send (mode 0600), or --what mfa-secret "
            "for the key to type in",
        )
    store = usable_store(allow_plaintext=allow_plaintext)
    account_id = _account_for(store, user, account)
    kind = _SHOW_KIND[what]
    value = store.get(account_id, user, kind)
    if value is None:
        raise InputError(f"the keyring holds no {kind} for {user} in account {account_id}")
    if what == "password":
        write_line(value)
    elif what == "console":
        url = store.handover(account_id, user).get("sign_in_url")
        if not isinstance(url, str):
            # Noted by runs since the hand-over notes exist; before that, the aws partition's.
            url = console_sign_in_url(account_id, "aws")
        write_line(f"Sign-in URL: {url}")
        write_line(f"User name:   {user}")
        write_line(f"Password:    {value}")
    elif what == "access-key":
        for line in credentials_profile(user, value):
            write_line(line)
    elif what == "mfa-secret":
        write_line(value)
    else:
        if not seed_is_valid(value):
            raise InputError(
                f"the keyring's mfa-seed for {user} in account {account_id} is not a valid seed",
                tip=f"remove it with `remediate secrets forget {user}` and rerun to enroll afresh",
            )
        uri = otpauth_uri(value, user, account_id)
        if qr_file is None:
            _draw_qr(store, account_id, user, uri, prompter or TerminalPrompter())
            return EXIT_OK
        write_qr_png(uri, qr_file)
        write_line(f"QR code written to {qr_file} (mode 0600).", sys.stderr)
    store.mark_shown(account_id, user, kind)
    return EXIT_OK


def _stdout_size() -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # no descriptor, or not a terminal's
        return None
    return size.columns, size.lines


def _draw_qr(store: SecretStore, account_id: str, user: str, uri: str, prompter: Prompter) -> None:
    """The QR code, whole on the terminal (the enrollment's rule: remediate.render.enrollment),
    kept there until Enter is pressed; refused (exit 2, nothing shown) where it cannot fit."""
    size = _stdout_size()
    waits = prompter.interactive
    lines = shown_qr(uri, size, waits=waits)
    if lines is None:
        assert size is not None
        raise InputError(
            qr_too_large(uri, size, waits=waits),
            tip="make the window larger, or pass --qr-file PATH for a PNG to scan (mode 0600), "
            "or use --what mfa-secret for the key to type in",
        )
    if waits and size is not None:
        sys.stdout.write("\n".join(lines))
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    store.mark_shown(account_id, user, "mfa-seed")
    if waits and size is not None:
        prompter.line(SHOW_PROMPT)


def _forget_warnings(store: SecretStore, account_id: str, user: str, kinds: list[str]) -> list[str]:
    """What is lost with secrets remediate never showed to anybody: nobody else has them."""
    shown = store.shown(account_id, user)
    show = secrets_command("show", user, account_id, "--what")
    warnings = []
    if "password" in kinds and "password" not in shown:
        warnings.append(
            f"{user}'s console password was never shown (no --show-secrets, no `secrets show`), "
            "so nobody can have signed in with it: its login profile still requires a reset, "
            f"and once forgotten nobody knows it. Hand it over first ({show} console), or set a "
            f"new one on the next run: remediate root-use --create-admin {user} --reset-password"
        )
    if "access-key" in kinds and "access-key" not in shown:
        warnings.append(
            f"{user}'s secret access key was never shown: once forgotten nobody holds it. Hand "
            f"it over first ({show} access-key), or delete the key afterwards (aws iam "
            "delete-access-key) and rerun to get a new one"
        )
    if "mfa-seed" in kinds and "mfa-seed" not in shown:
        warnings.append(
            f"{user}'s MFA seed was never shown (--mfa-auto): once forgotten, only an app that "
            f"already scanned it can make codes. Hand it over first ({show} mfa-qr)"
        )
    return warnings


def secrets_forget(
    user: str,
    account: str | None,
    *,
    yes: bool,
    prompter: Prompter,
    allow_plaintext: bool = False,
    include_pending_mfa: bool = False,
) -> int:
    """Delete a user's secrets from the keyring (after a confirmation), warning first about any
    that were never handed over. The seed of an MFA device a run left pending is kept unless
    ``include_pending_mfa``: finishing its enrollment (--mfa-codes) needs it."""
    store = usable_store(allow_plaintext=allow_plaintext)
    account_id = _account_for(store, user, account)
    entries = [k for a, u, k in store.entries() if a == account_id and u == user]
    pending = store.pending_mfa(account_id, user) if "mfa-seed" in entries else None
    if pending is not None and not include_pending_mfa:
        # The notes go with the seed: they say the device is pending.
        entries = [k for k in entries if k not in ("mfa-seed", HANDOVER)]
        write_line(
            f"Keeping {user}'s MFA seed: the device {pending} is pending (not enabled), and the "
            f"run that finishes its enrollment (--mfa-codes CODE1 CODE2) needs it. Forget it "
            "after that run, or now with --include-pending-mfa (the device must then be "
            "enrolled afresh).",
            sys.stderr,
        )
    kinds = [k for k in entries if k != HANDOVER]
    if not kinds:
        write_line(f"Nothing else to forget for {user} (account {account_id}).")
        return EXIT_OK
    for warning in _forget_warnings(store, account_id, user, kinds):
        write_line(f"Warning: {warning}", sys.stderr)
    confirm_or_refuse(
        prompter,
        f"Delete {', '.join(kinds)} of {user} (account {account_id}) from the keyring?",
        yes=yes,
        unchanged="nothing was deleted",
    )
    for kind in entries:
        store.delete(account_id, user, kind)
    write_line(f"Deleted {', '.join(kinds)} of {user} (account {account_id}).")
    return EXIT_OK
