"""Handing the new user over: the exact commands that hand each secret a run kept to its owner,
what the owner must do at first sign-in, how a pending MFA enrollment is finished, and the
command that forgets the secrets afterwards. Built from a run's outcome alone (no AWS, no
keyring), for the text summary and the JSON document alike."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from remediate.steps.base import RunOutcome

# What `remediate secrets show --what ...` hands over for each kind the keyring holds.
SHOW_WHAT = {"password": "console", "access-key": "access-key", "mfa-seed": "mfa-qr"}
SHOWN_AS = {"password": "console sign-in", "access-key": "access key", "mfa-seed": "MFA device"}


@dataclass(frozen=True)
class Handover:
    """One user's hand-over, in one account."""

    user: str
    account_id: str
    # (what, the command that shows it to hand it over), for each secret the keyring holds.
    show: tuple[tuple[str, str], ...] = ()
    # --mfa-handoff: the QR code file written for the owner to scan.
    qr_file: str | None = None
    # The command that enables a pending MFA device with its owner's two codes.
    finish_mfa: str | None = None
    # --mfa-self-service: what the owner must do at first sign-in.
    first_sign_in: tuple[str, ...] = ()
    # The command that deletes the user's secrets from the keyring, once handed over (none
    # while an MFA device waits for its owner's codes: the finishing run gives it).
    forget: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "account_id": self.account_id,
            "show": [{"what": what, "command": command} for what, command in self.show],
            "qr_file": self.qr_file,
            "finish_mfa": self.finish_mfa,
            "first_sign_in": list(self.first_sign_in),
            "forget": self.forget,
        }


def secrets_command(verb: str, user: str, account_id: str, *extra: str) -> str:
    """``remediate secrets VERB USER --account ID ...``, quoted for a POSIX shell."""
    args = ["remediate", "secrets", verb, user, "--account", account_id, *extra]
    return " ".join(shlex.quote(a) for a in args)


def handover(outcome: RunOutcome, account_id: str, *, finish: str | None) -> Handover | None:
    """What the operator hands over after a run, or ``None`` when there is nothing to.

    ``finish`` is the command that reruns the remediation with ``--mfa-codes CODE1 CODE2``.
    """
    mfa = outcome.mfa
    kept = [s for s in outcome.secrets if s.stored_in is not None]
    user = outcome.user or (kept[0].user if kept else None) or (mfa.user if mfa else None)
    if user is None:
        return None
    # A seed whose QR code the owner scanned here, or that a hand-off's file carries, needs no
    # command to show it.
    seed_handed = mfa is not None and (mfa.handoff or mfa.scanned_here)
    show = tuple(
        (SHOWN_AS[s.kind], secrets_command("show", s.user, account_id, "--what", SHOW_WHAT[s.kind]))
        for s in kept
        if s.kind in SHOW_WHAT and not (s.kind == "mfa-seed" and seed_handed)
    )
    pending = mfa is not None and not mfa.enabled and mfa.seed_kept
    first_sign_in: tuple[str, ...] = ()
    if outcome.self_service_policy is not None:
        where = f" at {outcome.console_sign_in_url}" if outcome.console_sign_in_url else ""
        first_sign_in = (
            f"sign in{where} as {user} with the password handed over, and set a new one",
            "open Security credentials and assign an MFA device (an authenticator app), named "
            f"as they like but unique in the account, e.g. {user}-phone",
            "sign out, and sign in again with the MFA code: until then every other action is "
            "denied (with access keys too: only an MFA session, aws sts get-session-token, works)",
        )
    holds = bool(kept) or (mfa is not None and mfa.seed_kept)
    result = Handover(
        user=user,
        account_id=account_id,
        show=show,
        qr_file=mfa.qr_file if mfa is not None and mfa.handoff else None,
        finish_mfa=finish if pending else None,
        first_sign_in=first_sign_in,
        # Forgetting while the device is pending would lose the seed the finishing run needs.
        forget=secrets_command("forget", user, account_id) if holds and not pending else None,
    )
    if not (show or result.qr_file or result.finish_mfa or first_sign_in or result.forget):
        return None
    return result
