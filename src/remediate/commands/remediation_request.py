"""A remediation as asked for: the flags `root-use --create-admin` and `playbook run` share,
checked against each other into one frozen request, and the rules that depend on what the
playbook's steps do. Typer-free and AWS-free: each rule is unit-tested on its own, and every
violation is an InputError (exit 2) before anything is changed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from remediate.commands.request import (
    TEXT,
    AwsChoice,
    OutputFormat,
    RemediationFlags,
    check_output,
    check_range,
    playbook_variables,
)
from remediate.core import limits, validate
from remediate.core.errors import InputError
from remediate.credentials.totp import CODE_FORMAT_HELP, code_is_well_formed
from remediate.steps.base import QR_FILE_ACCOUNT, MfaOptions

if TYPE_CHECKING:
    from remediate.steps.base import MfaMode
    from remediate.steps.kind import AnyStep


class PasswordSource(Enum):
    """Where the console password comes from."""

    GENERATED = "generated"
    PROMPT = "--password-prompt"
    STDIN = "--password-stdin"


@dataclass(frozen=True)
class RemediationRequest:
    """A playbook to run with these variables, and how. ``mfa`` is what the virtual-mfa step
    takes as it is (remediate.steps.base)."""

    playbook: str
    variables: Mapping[str, Any]
    dry_run: bool = False
    yes: bool = False
    show_secrets: bool = False
    password_source: PasswordSource = PasswordSource.GENERATED
    mfa: MfaOptions = field(default_factory=MfaOptions)
    allow_plaintext_keyring: bool = False
    adopt_existing_user: bool = False
    reset_password: bool = False
    # How long to wait for another run's lock on an account.
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT


@dataclass(frozen=True)
class PlaybookRunRequest:
    """``remediate playbook run`` (and ``root-credentials centralize``): one playbook in the
    caller's account."""

    remediation: RemediationRequest
    aws: AwsChoice = field(default_factory=AwsChoice)
    output: OutputFormat = TEXT


def _check_flags(flags: RemediationFlags) -> None:
    """The flags that exclude or need one another."""
    if flags.password_prompt and flags.password_stdin:
        raise InputError("give only one of --password-prompt and --password-stdin")
    if flags.mfa_auto and flags.mfa_codes:
        raise InputError("give only one of --mfa-auto and --mfa-codes")
    if flags.mfa_handoff:
        if flags.mfa_auto or flags.mfa_codes:
            raise InputError(
                "--mfa-handoff leaves the codes to the device's owner: it takes no --mfa-auto "
                "or --mfa-codes",
                tip="hand off first; --mfa-codes CODE1 CODE2 then finishes with their codes",
            )
        if flags.qr_file is None:
            raise InputError(
                "--mfa-handoff needs --qr-file PATH: the QR code to send to the device's owner",
                tip=f"across accounts, put {QR_FILE_ACCOUNT} in the path (one file per account): "
                f"--qr-file 'qr/{QR_FILE_ACCOUNT}-alice.png'",
            )
    if flags.reset_password and (flags.password_prompt or flags.password_stdin):
        raise InputError(
            "--reset-password sets a new generated password: it takes no --password-prompt or "
            "--password-stdin"
        )
    if flags.mfa_codes:
        for n, code in enumerate(flags.mfa_codes, 1):
            if re.fullmatch(r"--?[A-Za-z][\w-]*", code.strip()):
                # `--mfa-codes 123456 --yes`: click took the next option for the second code.
                raise InputError(
                    f"--mfa-codes takes two codes, and code {n} is {code.strip()[:40]!r}, an "
                    "option",
                    tip="give both codes right after it: --mfa-codes CODE1 CODE2",
                )
            if not code_is_well_formed(code):
                raise InputError(f"invalid --mfa-codes: code {n} {CODE_FORMAT_HELP}")
    if flags.lock_timeout is not None:
        check_range("--lock-timeout", flags.lock_timeout, 0, limits.MAX_LOCK_TIMEOUT)


def remediation_request(
    playbook: str, variables: Mapping[str, Any], flags: RemediationFlags
) -> RemediationRequest:
    """The flags checked against each other."""
    _check_flags(flags)
    mode: MfaMode = (
        "auto"
        if flags.mfa_auto
        else "codes"
        if flags.mfa_codes
        else "handoff"
        if flags.mfa_handoff
        else "interactive"
    )
    source = (
        PasswordSource.PROMPT
        if flags.password_prompt
        else PasswordSource.STDIN
        if flags.password_stdin
        else PasswordSource.GENERATED
    )
    return RemediationRequest(
        playbook=playbook,
        variables=dict(variables),
        dry_run=flags.dry_run,
        yes=flags.yes,
        show_secrets=flags.show_secrets,
        password_source=source,
        mfa=MfaOptions(
            mode=mode,
            codes=flags.mfa_codes,
            qr_file=str(flags.qr_file) if flags.qr_file else None,
            show_secret=flags.show_mfa_secret,
        ),
        allow_plaintext_keyring=flags.allow_plaintext_keyring,
        adopt_existing_user=flags.adopt_existing_user,
        reset_password=flags.reset_password,
        lock_timeout=(
            flags.lock_timeout if flags.lock_timeout is not None else limits.DEFAULT_LOCK_TIMEOUT
        ),
    )


def playbook_run_request(
    playbook: str,
    *,
    aws: AwsChoice,
    variables: Sequence[str] = (),
    tags: Sequence[str] = (),
    flags: RemediationFlags | None = None,
    output: OutputFormat = TEXT,
) -> PlaybookRunRequest:
    """``playbook run``'s options: ``--var KEY=VALUE`` once per key, tags one way only."""
    given: dict[str, object] = dict(playbook_variables(variables))
    if tags:
        if "tags" in given:
            raise InputError("give tags with --tag or --var tags=..., not both")
        given["tags"] = validate.tag_options(tags)
    remediation = remediation_request(playbook, given, flags or RemediationFlags())
    return PlaybookRunRequest(remediation=remediation, aws=aws, output=check_output(output))


# --- the rules that depend on the playbook's steps ----------------------------------------------


def kept_seed(user: str) -> str:
    """Why root's keys are not deleted on a device whose seed the keyring keeps."""
    return (
        "--delete-root-keys needs a second factor the keyring does not hold, and --mfa-auto "
        f"keeps {user}'s MFA seed in it, beside the password: whoever reads the keyring could "
        f"sign in as {user} with MFA"
    )


def kept_seed_tip(user: str, delete_root_keys: str) -> str:
    return (
        f"enroll {user}'s device in person (leave out --mfa-auto), or hand it off (--mfa-handoff "
        f"--qr-file PATH, then --mfa-codes CODE1 CODE2 {delete_root_keys}); or delete root's "
        f"keys later, once {user} has scanned the seed and `remediate secrets forget {user}` "
        "has removed it"
    )


def check_steps(
    request: RemediationRequest,
    playbook: str,
    steps: Sequence[AnyStep],
    *,
    across_accounts: bool = False,
) -> None:
    """The rules that depend on what the playbook's steps can do, once it is loaded and its
    steps built (playbook run's ``--var`` values are bound only then)."""
    if request.password_source is not PasswordSource.GENERATED and not any(
        s.takes_password for s in steps
    ):
        raise InputError("a password option needs console access (--access console or both)")
    if request.reset_password and not any(s.resets_password for s in steps):
        raise InputError("--reset-password needs console access (--access console or both)")
    if request.adopt_existing_user and not any(s.adopts_users for s in steps):
        raise InputError(f"--adopt-existing-user: playbook {playbook} has no IAM user step")
    _second_factor_steps(request, steps)
    if request.mfa.mode == "handoff" and not any(s.asks_for_codes for s in steps):
        raise InputError(
            f"--mfa-handoff: this run of playbook {playbook} enrolls no virtual MFA device",
            tip="drop --no-mfa (root-use), or pass --var mfa=true (onboard-user)",
        )
    if across_accounts:
        if request.password_source is PasswordSource.STDIN:
            raise InputError(
                "--password-stdin would set one password in every account",
                tip="let each account's password be generated",
            )
        # A dry run prompts nothing: it plans the enrollment, as it would for one account.
        interactive = request.mfa.mode == "interactive" and not request.dry_run
        if interactive and any(s.asks_for_codes for s in steps):
            raise InputError(
                "across accounts, MFA enrollment cannot prompt in each account",
                tip="pass --mfa-handoff with --qr-file 'qr/{account}.png' (each owner enrolls "
                "their own), --mfa-self-service (each user assigns their own device at first "
                "sign-in), --mfa-auto (the seeds stay in the keyring), or --no-mfa",
            )


def _second_factor_steps(request: RemediationRequest, steps: Sequence[AnyStep]) -> None:
    """root-use's second-factor rules (remediate.commands.root_use_request) for any playbook
    run, by what its steps do."""
    keyed = {str(s.user).casefold() for s in steps if s.gives_access_key}
    enrolled = {str(s.user).casefold() for s in steps if s.asks_for_codes}
    for step in steps:
        user = str(step.user)
        if step.self_service_mfa and user.casefold() in enrolled:
            raise InputError(
                f"self-service MFA lets {user} enroll their own device, and this run enrolls one "
                f"for {user} too: choose one",
                tip="--var mfa=false with --var mfa_self_service=true, or leave "
                "mfa_self_service out",
            )
        if step.self_service_mfa and user.casefold() in keyed:
            raise InputError(
                f"self-service MFA with an access key for {user} is no second factor: whoever "
                "holds the key could enroll an MFA device of their own and make MFA sessions "
                "with it",
                tip=f"enroll {user}'s device now instead (--var mfa=true: in person, --mfa-auto, "
                "or --mfa-handoff --qr-file PATH), or keep --var mfa_self_service=true with "
                "--var access=console",
            )
    if request.mfa.mode != "auto":
        return
    for step in steps:
        admin = step.user if step.needs_unheld_mfa else None
        if admin:
            raise InputError(
                kept_seed(str(admin)),
                tip=kept_seed_tip(str(admin), "--var delete_root_keys=true"),
            )
