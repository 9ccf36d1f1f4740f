"""Handing the new user over: the exact commands that hand each secret a run kept to its owner,
what the owner must do at first sign-in (and, with self-service MFA, may do until the run is
finished), how a pending MFA enrollment is finished, which kept seed defeats MFA, and the
command that forgets the secrets afterwards. Built from a run's outcome alone (no AWS, no
keyring), for the text summary and the JSON document alike."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from remediate.steps.base import RunOutcome

# What `remediate secrets show --what ...` hands over for each kind the keyring holds.
SHOW_WHAT = {"password": "console", "access-key": "access-key", "mfa-seed": "mfa-qr"}
SHOWN_AS = {"password": "console sign-in", "access-key": "access key", "mfa-seed": "MFA device"}
# What finishes a pending enrollment with the codes its owner's app shows, after the command
# that reruns the remediation.
MFA_CODES = ("--mfa-codes", "CODE1", "CODE2")


def with_codes(rerun: str) -> str:
    """The command that enables a pending MFA device: the remediation's rerun with its owner's
    two codes."""
    return " ".join([rerun, *MFA_CODES])


class HandoverJson(TypedDict):
    """A hand-over in a JSON document: :class:`Handover`'s fields, each command as text."""

    user: str
    account_id: str
    show: list[dict[str, str]]
    qr_file: str | None
    finish_mfa: str | None
    first_sign_in: list[str]
    self_service: list[str]
    kept_seed: str | None
    forget: str | None


@dataclass(frozen=True)
class Handover:
    """One user's hand-over, in one account."""

    user: str
    account_id: str
    # (what, the command that shows it to hand it over), for each secret the keyring holds.
    show: tuple[tuple[str, str], ...] = ()
    # --mfa-handoff: the QR code file written for the owner to scan.
    qr_file: str | None = None
    # The command that finishes the MFA enrollment: with the owner's two codes for a pending
    # device; the plain rerun for self-service, once the owner has enabled a device.
    finish_mfa: str | None = None
    # --mfa-self-service: what the owner must do at first sign-in.
    first_sign_in: tuple[str, ...] = ()
    # --mfa-self-service: what the owner can do before and after enrolling, and what finishing
    # does; or, in the run that finished, what holds now.
    self_service: tuple[str, ...] = ()
    # The keyring keeps an MFA seed of the user's: a second factor beside the password.
    kept_seed: str | None = None
    # The command that deletes the user's secrets from the keyring, once handed over (none
    # while an MFA device waits for its owner's codes: the finishing run gives it).
    forget: str | None = None

    def to_json(self) -> HandoverJson:
        return {
            "user": self.user,
            "account_id": self.account_id,
            "show": [{"what": what, "command": command} for what, command in self.show],
            "qr_file": self.qr_file,
            "finish_mfa": self.finish_mfa,
            "first_sign_in": list(self.first_sign_in),
            "self_service": list(self.self_service),
            "kept_seed": self.kept_seed,
            "forget": self.forget,
        }


def secrets_command(verb: str, user: str, account_id: str, *extra: str) -> str:
    """``remediate secrets VERB USER --account ID ...``, quoted for a POSIX shell."""
    args = ["remediate", "secrets", verb, user, "--account", account_id, *extra]
    return " ".join(shlex.quote(a) for a in args)


def handover(
    outcome: RunOutcome,
    account_id: str,
    *,
    finish: str | None,
    held: Callable[[str], Sequence[str]] | None = None,
) -> Handover | None:
    """What the operator hands over after a run, or ``None`` when there is nothing to.

    ``finish`` is the command that reruns the remediation
    (remediate.commands.root_use_request.rerun_command); ``held`` says which kinds of a user's
    secrets the keyring holds that nobody was ever shown: an earlier run's (the one a resumed
    enrollment finishes), to hand over as a fresh run's are.
    """
    mfa = outcome.mfa
    kept = [s for s in outcome.secrets if s.stored_in is not None]
    user = outcome.user or (kept[0].user if kept else None) or (mfa.user if mfa else None)
    if user is None:
        return None
    # A seed whose QR code the owner scanned here, or that a hand-off's file carries, needs no
    # command to show it.
    seed_handed = mfa is not None and (mfa.handoff or mfa.scanned_here)
    kinds = [(s.user, s.kind) for s in kept]
    earlier = [(user, k) for k in (held(user) if held else ()) if (user, k) not in kinds]
    show = tuple(
        (SHOWN_AS[kind], secrets_command("show", owner, account_id, "--what", SHOW_WHAT[kind]))
        for owner, kind in (*kinds, *earlier)
        if kind in SHOW_WHAT and not (kind == "mfa-seed" and seed_handed)
    )
    pending = mfa is not None and not mfa.enabled and mfa.seed_kept
    holds = bool(kept or earlier or outcome.kept_before) or (mfa is not None and mfa.seed_kept)
    forget = secrets_command("forget", user, account_id) if holds and not pending else None
    waiting = outcome.self_service_policy is not None and outcome.self_service_device is None
    finish_mfa = None
    if finish is not None and pending:
        finish_mfa = with_codes(finish)
    elif finish is not None and waiting:
        finish_mfa = finish
    result = Handover(
        user=user,
        account_id=account_id,
        show=show,
        qr_file=mfa.qr_file if mfa is not None and mfa.handoff else None,
        finish_mfa=finish_mfa,
        first_sign_in=_first_sign_in(outcome, user) if waiting else (),
        self_service=_self_service(outcome, user, waiting=waiting),
        kept_seed=_kept_seed(user, forget, pending=pending) if mfa and mfa.seed_kept else None,
        # Forgetting while the device is pending would lose the seed the finishing run needs.
        forget=forget,
    )
    if not (
        show
        or result.qr_file
        or result.finish_mfa
        or result.first_sign_in
        or result.self_service
        or result.forget
    ):
        return None
    return result


def _first_sign_in(outcome: RunOutcome, user: str) -> tuple[str, ...]:
    """What the owner does first, with self-service MFA: no group yet, only their own device."""
    where = f" at {outcome.console_sign_in_url}" if outcome.console_sign_in_url else ""
    return (
        f"sign in{where} as {user} with the password handed over, and set a new one",
        "open Security credentials and assign an MFA device (an authenticator app), named as "
        f"they like but unique in the account, e.g. {user}-phone",
        "say when it is done: the run is finished then, not before",
    )


def _policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _self_service(outcome: RunOutcome, user: str, *, waiting: bool) -> tuple[str, ...]:
    """With self-service MFA: what the owner can do until the run is finished and what finishing
    does (``waiting``); or, once this run has found their device, what holds now."""
    if outcome.self_service_policy is None:
        return ()
    policy = _policy_name(outcome.self_service_policy)
    group = outcome.group
    if waiting:
        finishing = f"finishing detaches {policy}, so that no further MFA device can be created "
        finishing += "or enabled without an MFA session"
        if group:
            finishing += f", and then adds {user} to {group}: {user} has what {group} grants"
        return (
            f"before enrolling, {user} can sign in, change the temporary password, and create "
            f"and enable their own virtual MFA device (reading their own user and devices to do "
            f"so): nothing else ({policy} denies every other action)",
            f"after enrolling, nothing more until you finish: {user} is in no group",
            f"before you finish, check with {user} that the MFA device the plan names is "
            "theirs: a device enabled by whoever first used the password would pass too",
            finishing,
        )
    done = [
        f"{user} enrolled MFA device {outcome.self_service_device}, and {policy} is detached: "
        "no further MFA device without an MFA session",
    ]
    if group:
        done.append(f"{user} is in {group} and has what it grants")
    return tuple(done)


def _kept_seed(user: str, forget: str | None, *, pending: bool) -> str:
    """Why a seed the keyring keeps matters: whoever reads the keyring has the second factor."""
    if pending:
        return (
            f"the keyring keeps the seed of {user}'s pending MFA device: it defeats MFA until "
            f"forgotten; the run that enables the device with {user}'s codes forgets it"
        )
    return (
        f"the keyring keeps the seed of {user}'s MFA device: it defeats MFA until forgotten "
        f"(whoever reads the keyring can make {user}'s codes); once {user} has scanned it: "
        f"{forget}"
    )
